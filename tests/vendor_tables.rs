//! The vendors' fields are known in three places that must agree with the vendors' own documents:
//! the manifest crate's tables (`intsync_manifest::vendor`, which the validation rules read), the
//! editor schema generated from them (`intsync schema`), and the emulator's own copy
//! (`intsync_emulator::vendor`, kept apart on purpose). This test checks all three against Ada's
//! OpenAPI file (plus the length limits of Ada's rendered doc pages, which the file lacks) and
//! against Truto's documented fields (`tests/fixtures/truto-integration-fields.json`), and checks
//! that the two URL checks give the same answer.

use std::collections::BTreeSet;

use intsync_emulator::vendor as emulator;
use intsync_manifest::vendor::{self as manifest, Format};
use intsync_manifest::{FieldDef, FieldType, Kind, Severity};
use proptest::prelude::*;
use serde_json::{Value, json};

const ADA_OPENAPI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/crates/intsync-emulator/tests/fixtures/ada-platform-integrations.openapi.yml"
);
const TRUTO_FIELDS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/truto-integration-fields.json"
);

/// Length limits the OpenAPI file does not carry, from the field tables rendered on Ada's doc
/// pages (create-platform-integration and update-single-platform-integration, on docs.ada.cx and
/// developers.ada.cx; `shared/reference/api-facts.md` A.4): `(field, min, max)` characters.
/// The fields not listed have no documented limit.
const ADA_DOC_LENGTHS: &[(&str, usize, Option<usize>)] = &[
    ("name", 1, Some(160)),
    ("author", 1, Some(160)),
    ("description", 1, None),
    ("contact", 1, None),
    ("call_to_action", 1, None),
    ("oauth_callback_url", 1, None),
    ("uninstallation_url", 1, None),
    ("icon_url", 1, None),
];

/// What every source says about one field, in the same terms.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    /// The JSON type (`array` is a list of strings).
    ty: &'static str,
    nullable: bool,
    required_on_create: bool,
    min_chars: usize,
    max_chars: Option<usize>,
    /// What the value must look like beyond its type ([`format_name`]): `url` (Ada's and the
    /// schema's `format: url`/`uri`), `url-or-email`, `json-schema`, `jmespath`,
    /// `string-values`, or `none`.
    format: &'static str,
    /// The closed set of the value (or of each item of a list); an open, documented-only set
    /// (Ada's scopes) is `None`, as the API accepts any string.
    one_of: Option<Vec<String>>,
}

impl Facts {
    /// What a vendor document can say: the lengths left out where it is silent.
    fn documented(&self) -> Facts {
        Facts {
            min_chars: 0,
            max_chars: None,
            ..self.clone()
        }
    }
}

/// A [`Format`] by the name the facts use (a match, so a new format must be named here).
fn format_name(format: Format) -> &'static str {
    match format {
        Format::None => "none",
        Format::Url => "url",
        Format::UrlOrEmail => "url-or-email",
        Format::JsonSchema => "json-schema",
        Format::JmesPath => "jmespath",
        Format::StringValues => "string-values",
    }
}

fn emulator_format_name(format: emulator::Format) -> &'static str {
    match format {
        emulator::Format::None => "none",
        emulator::Format::Url => "url",
        emulator::Format::UrlOrEmail => "url-or-email",
        emulator::Format::JsonSchema => "json-schema",
        emulator::Format::JmesPath => "jmespath",
        emulator::Format::StringValues => "string-values",
    }
}

/// The format an Ada field's OpenAPI description states in words (the schema has a keyword
/// for URLs only).
fn format_in_prose(description: &str) -> Option<&'static str> {
    [
        ("JMESPath", "jmespath"),
        ("json-schema", "json-schema"),
        ("URL or email address", "url-or-email"),
        (
            "error codes and their corresponding error message",
            "string-values",
        ),
    ]
    .into_iter()
    .find(|(phrase, _)| description.contains(phrase))
    .map(|(_, format)| format)
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

fn manifest_facts(def: &FieldDef) -> Facts {
    Facts {
        ty: match def.ty {
            FieldType::String => "string",
            FieldType::Bool => "boolean",
            FieldType::Object => "object",
            FieldType::StringList => "array",
        },
        nullable: def.nullable,
        required_on_create: def.required_on_create,
        min_chars: def.min_chars,
        max_chars: def.max_chars,
        format: format_name(def.format),
        one_of: def
            .allowed
            .filter(|a| a.severity == Severity::Error)
            .map(|a| strings(a.values)),
    }
}

fn emulator_facts(field: &emulator::Field) -> Facts {
    let (ty, min_chars, max_chars, one_of) = match field.ty {
        emulator::Ty::Str { min, max } => ("string", min, max, None),
        emulator::Ty::Bool => ("boolean", 0, None, None),
        emulator::Ty::Object => ("object", 0, None, None),
        emulator::Ty::StrList { allowed } => ("array", 0, None, allowed.map(strings)),
        emulator::Ty::Enum(values) => ("string", 0, None, Some(strings(values))),
    };
    Facts {
        ty,
        nullable: field.nullable,
        required_on_create: field.required_on_create,
        min_chars,
        max_chars,
        format: emulator_format_name(field.format),
        one_of,
    }
}

fn usize_of(value: &Value) -> Option<usize> {
    value.as_u64().and_then(|n| usize::try_from(n).ok())
}

fn type_name(value: &Value) -> &'static str {
    match value.as_str() {
        Some("string") => "string",
        Some("boolean") => "boolean",
        Some("object") => "object",
        Some("array") => "array",
        Some("number") => "number",
        Some("integer") => "integer",
        Some("null") => "null",
        other => panic!("unexpected JSON type {other:?}"),
    }
}

/// The type of a JSON Schema property: `type: t`, `type: [t, null]`, or (OpenAPI)
/// `oneOf: [{...}, {type: null}]` after `$ref`s are resolved.
fn type_and_null(property: &Value, resolve: &dyn Fn(&Value) -> Value) -> (&'static str, bool) {
    let property = resolve(property);
    if let Some(one_of) = property.get("oneOf").and_then(Value::as_array) {
        let mut ty = None;
        let mut nullable = false;
        for option in one_of {
            let (t, n) = type_and_null(option, resolve);
            if t == "null" {
                nullable = true;
            } else {
                assert!(ty.replace(t).is_none(), "two non-null types in {property}");
                nullable |= n;
            }
        }
        return (ty.expect("a non-null type"), nullable);
    }
    match &property["type"] {
        Value::Array(types) => {
            let non_null: Vec<&'static str> = types
                .iter()
                .map(type_name)
                .filter(|t| *t != "null")
                .collect();
            assert_eq!(non_null.len(), 1, "{property}");
            (non_null[0], types.len() > 1)
        }
        ty => (type_name(ty), false),
    }
}

/// The facts a JSON Schema property states (the OpenAPI file's, the fixture's, or the editor
/// schema's). Lengths it does not state are 0 and `None`.
fn schema_facts(property: &Value, required: bool, resolve: &dyn Fn(&Value) -> Value) -> Facts {
    let (ty, nullable) = type_and_null(property, resolve);
    let property = resolve(property);
    // The OpenAPI file puts `format` on the resolved schema; `oneOf` members carry their own.
    let formats_of_any_of: BTreeSet<&str> = property["anyOf"]
        .as_array()
        .map(|options| {
            options
                .iter()
                .filter_map(|o| o["format"].as_str())
                .collect()
        })
        .unwrap_or_default();
    let format = match property["format"].as_str() {
        Some("url" | "uri") => "url",
        Some("json-schema") => "json-schema",
        Some("jmespath") => "jmespath",
        Some(other) => panic!("unexpected format `{other}` in {property}"),
        None if formats_of_any_of == BTreeSet::from(["uri", "email"]) => "url-or-email",
        None if property["additionalProperties"] == json!({"type": "string"}) => "string-values",
        None => "none",
    };
    let enum_of = |schema: &Value| {
        resolve(schema)["enum"].as_array().map(|values| {
            values
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| v.as_str().expect("string enum values").to_owned())
                .collect::<Vec<_>>()
        })
    };
    let one_of = if ty == "array" {
        let items = resolve(&property["items"]);
        assert_eq!(type_name(&items["type"]), "string", "{property}");
        enum_of(&items)
    } else {
        enum_of(&property)
    };
    Facts {
        ty,
        nullable,
        required_on_create: required,
        min_chars: property.get("minLength").and_then(usize_of).unwrap_or(0),
        max_chars: property.get("maxLength").and_then(usize_of),
        format,
        one_of,
    }
}

/// The facts a vendor document states about a property: its schema's, and the format its
/// description names in words where the schema has no keyword for it (the editor schema is
/// read by [`schema_facts`] alone: its keywords must say it all).
fn vendor_facts(property: &Value, required: bool, resolve: &dyn Fn(&Value) -> Value) -> Facts {
    let mut facts = schema_facts(property, required, resolve);
    let described = property["description"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| resolve(property)["description"].as_str().map(str::to_owned))
        .unwrap_or_default();
    if let Some(format) = format_in_prose(&described) {
        assert_eq!(
            facts.format, "none",
            "{property}: a format in words and in the schema"
        );
        facts.format = format;
    }
    facts
}

fn names<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

fn required_list(schema: &Value) -> BTreeSet<String> {
    schema["required"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|n| n.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn ada_openapi() -> Value {
    let text = std::fs::read_to_string(ADA_OPENAPI).expect("the Ada OpenAPI fixture");
    serde_saphyr::from_str(&text).expect("the Ada OpenAPI file parses")
}

/// Resolves `#/components/schemas/...` references (one level at a time, repeatedly).
fn openapi_resolver(spec: &Value) -> impl Fn(&Value) -> Value + '_ {
    move |schema: &Value| {
        let mut schema = schema.clone();
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = reference.strip_prefix('#').expect("a local $ref");
            let target = spec.pointer(pointer).expect("the $ref resolves").clone();
            // Siblings of `$ref` (a description) do not change the facts compared here.
            schema = target;
        }
        schema
    }
}

/// The editor schema's `spec` definition of `kind`.
fn schema_spec(kind: Kind) -> Value {
    let schema = intsync_manifest::manifest_schema();
    let name = match kind {
        Kind::AdaPlatformIntegration => "AdaSpec",
        Kind::TrutoIntegration => "TrutoSpec",
    };
    let spec = schema["definitions"][name].clone();
    assert_eq!(spec["additionalProperties"], json!(false), "{name}");
    spec
}

fn schema_resolver(schema: &Value) -> impl Fn(&Value) -> Value + '_ {
    move |value: &Value| match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => schema
            .pointer(reference.strip_prefix('#').expect("a local $ref"))
            .expect("the $ref resolves")
            .clone(),
        None => value.clone(),
    }
}

/// The manifest table, the emulator's table and the editor schema agree with each other on every
/// field, limits included.
fn check_copies_agree(kind: Kind, emulator_fields: &[emulator::Field], create_only: bool) {
    let schema = intsync_manifest::manifest_schema();
    let resolve = schema_resolver(&schema);
    let spec = schema_spec(kind);
    let properties = spec["properties"].as_object().expect("spec properties");
    let table: Vec<&FieldDef> = kind
        .fields()
        .iter()
        .filter(|f| !create_only || f.in_create_body)
        .collect();
    assert_eq!(
        names(table.iter().map(|f| f.name)),
        names(emulator_fields.iter().map(|f| f.name)),
        "{kind}: the manifest table and the emulator's name different fields"
    );
    if !create_only {
        assert_eq!(
            names(properties.keys().map(String::as_str)),
            names(table.iter().map(|f| f.name)),
            "{kind}: the schema's spec properties and the manifest table name different fields"
        );
    }
    for def in table {
        let ours = manifest_facts(def);
        let theirs = emulator_facts(emulator_fields.iter().find(|f| f.name == def.name).unwrap());
        assert_eq!(
            ours, theirs,
            "{kind} `{}`: the manifest table (left) and the emulator's (right) disagree",
            def.name
        );
        let in_schema = schema_facts(&properties[def.name], def.required_on_create, &resolve);
        assert_eq!(
            ours, in_schema,
            "{kind} `{}`: the manifest table (left) and the editor schema (right) disagree",
            def.name
        );
        assert!(
            properties[def.name]["description"]
                .as_str()
                .is_some_and(|d| d == def.description && !d.is_empty()),
            "{kind} `{}`: the schema's description is the table's",
            def.name
        );
    }
}

#[test]
fn ada_tables_match_the_openapi_file() {
    let spec = ada_openapi();
    let resolve = openapi_resolver(&spec);
    let create = &spec["components"]["schemas"]["PlatformIntegrationCreateRequest"];
    let create_props = create["properties"].as_object().expect("create properties");
    let create_required = required_list(create);
    let kind = Kind::AdaPlatformIntegration;

    // The 13 writable fields, everywhere.
    let from_openapi = names(create_props.keys().map(String::as_str));
    assert_eq!(from_openapi.len(), 13, "{from_openapi:?}");
    assert_eq!(
        names(kind.fields().iter().map(|f| f.name)),
        from_openapi,
        "the manifest table"
    );
    assert_eq!(
        names(emulator::ADA_FIELDS.iter().map(|f| f.name)),
        from_openapi,
        "the emulator's table"
    );
    assert_eq!(
        kind.fields().iter().map(|f| f.name).collect::<Vec<_>>(),
        emulator::ADA_FIELDS
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>(),
        "both tables are in response order"
    );

    for (name, property) in create_props {
        let def = kind.field(name).unwrap();
        let mut documented = vendor_facts(property, create_required.contains(name), &resolve);
        // The OpenAPI file has no lengths; the rendered doc pages do. Where both state one,
        // they must agree.
        if let Some(&(_, min, max)) = ADA_DOC_LENGTHS.iter().find(|(n, ..)| n == name) {
            if documented.min_chars != 0 {
                assert_eq!(documented.min_chars, min, "`{name}`: OpenAPI vs doc pages");
            }
            if documented.max_chars.is_some() {
                assert_eq!(documented.max_chars, max, "`{name}`: OpenAPI vs doc pages");
            }
            documented.min_chars = min;
            documented.max_chars = max;
            assert_eq!(
                manifest_facts(def),
                documented,
                "Ada `{name}`: the manifest table (left) and Ada's documents (right) disagree"
            );
        } else {
            // No documented limit: the tables may assume one (both the same, checked below).
            assert_eq!(
                manifest_facts(def).documented(),
                documented,
                "Ada `{name}`: the manifest table (left) and Ada's OpenAPI file (right) disagree"
            );
        }
        // The URL fields are the ones the rules check as URLs.
        assert_eq!(
            def.format == Format::Url,
            documented.format == "url",
            "`{name}`"
        );
    }
    assert_eq!(
        manifest_facts(kind.field("tags").unwrap()).one_of,
        Some(strings(intsync_manifest::ADA_TAGS))
    );
    let scopes = kind.field("scopes").unwrap().allowed.unwrap();
    assert_eq!(scopes.severity, Severity::Warning, "any scope is accepted");
    assert_eq!(scopes.values, intsync_manifest::ADA_SCOPES);
    assert_eq!(
        create_props["scopes"]["items"],
        json!({ "type": "string" }),
        "the OpenAPI file leaves scopes open; if it closes them, make the set an error"
    );

    check_copies_agree(kind, emulator::ADA_FIELDS, false);
}

/// The update body has the same fields with the same types, none required (the tables serve
/// both requests), and the response always carries the fields required on create (the provider
/// refuses an answer without one).
#[test]
fn ada_update_request_and_response_match_the_same_tables() {
    let spec = ada_openapi();
    let resolve = openapi_resolver(&spec);
    let schemas = &spec["components"]["schemas"];
    let update = &schemas["PlatformIntegrationUpdateRequest"];
    let update_props = update["properties"].as_object().expect("update properties");
    let kind = Kind::AdaPlatformIntegration;
    assert_eq!(
        names(update_props.keys().map(String::as_str)),
        names(kind.fields().iter().map(|f| f.name))
    );
    assert!(
        required_list(update).is_empty(),
        "PATCH: every field is optional"
    );
    for (name, property) in update_props {
        let def = kind.field(name).unwrap();
        let documented = vendor_facts(property, def.required_on_create, &resolve);
        assert_eq!(
            manifest_facts(def).documented(),
            documented,
            "Ada update `{name}`: the manifest table (left) and the OpenAPI file (right)"
        );
    }

    let response = &schemas["PlatformIntegration"];
    let response_required = required_list(response);
    for def in kind.fields() {
        assert!(
            response["properties"].get(def.name).is_some(),
            "`{}` is returned",
            def.name
        );
        assert_eq!(
            response_required.contains(def.name),
            def.required_on_create,
            "`{}`: always returned iff required on create",
            def.name
        );
    }
    let managed: BTreeSet<String> = response["properties"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| kind.field(k).is_none())
        .cloned()
        .collect();
    assert!(
        managed
            .iter()
            .all(|k| kind.server_managed().contains(&k.as_str())),
        "response keys that are not fields are server-managed: {managed:?}"
    );
}

#[test]
fn truto_tables_match_the_documented_fields() {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(TRUTO_FIELDS).expect("the Truto fixture"))
            .expect("the Truto fixture parses");
    assert!(
        fixture["source"]
            .as_str()
            .is_some_and(|s| s.contains("truto.one"))
    );
    let same = |value: &Value| value.clone();
    let create = &fixture["create"];
    let update = &fixture["update"];
    let create_props = create["properties"].as_object().unwrap();
    let update_props = update["properties"].as_object().unwrap();
    let create_required = required_list(create);
    let kind = Kind::TrutoIntegration;

    // `version` is sent back on update for concurrency control; it is no managed field.
    assert!(kind.server_managed().contains(&"version"));
    assert!(kind.field("version").is_none());
    let update_fields: BTreeSet<String> = update_props
        .keys()
        .filter(|k| *k != "version")
        .cloned()
        .collect();

    assert_eq!(
        names(kind.fields().iter().map(|f| f.name)),
        update_fields,
        "the manifest table holds the update body's fields"
    );
    assert_eq!(
        names(
            kind.fields()
                .iter()
                .filter(|f| f.in_create_body)
                .map(|f| f.name)
        ),
        names(create_props.keys().map(String::as_str)),
        "in_create_body is the create body"
    );
    assert_eq!(
        names(emulator::TRUTO_CREATE_FIELDS.iter().map(|f| f.name)),
        names(create_props.keys().map(String::as_str)),
        "the emulator's create fields"
    );
    assert_eq!(
        names(emulator::TRUTO_UPDATE_FIELDS.iter().map(|f| f.name)),
        update_fields,
        "the emulator's update fields (besides `version`)"
    );

    for def in kind.fields() {
        let in_update = vendor_facts(&update_props[def.name], def.required_on_create, &same);
        assert_eq!(
            manifest_facts(def).documented(),
            in_update,
            "Truto `{}`: the manifest table (left) and the documented update body (right)",
            def.name
        );
        if let Some(property) = create_props.get(def.name) {
            let in_create = vendor_facts(property, create_required.contains(def.name), &same);
            assert_eq!(
                manifest_facts(def).documented(),
                in_create,
                "Truto `{}`: the manifest table (left) and the documented create body (right)",
                def.name
            );
        }
    }
    for field in emulator::TRUTO_CREATE_FIELDS {
        let documented = vendor_facts(
            &create_props[field.name],
            create_required.contains(field.name),
            &same,
        );
        assert_eq!(
            emulator_facts(field).documented(),
            documented,
            "Truto create `{}`: the emulator (left) and the documented create body (right)",
            field.name
        );
    }
    assert_eq!(
        manifest_facts(kind.field("sharing").unwrap()).one_of,
        Some(strings(intsync_manifest::TRUTO_SHARING))
    );

    check_copies_agree(kind, emulator::TRUTO_UPDATE_FIELDS, false);
    check_copies_agree(kind, emulator::TRUTO_CREATE_FIELDS, true);
}

fn manifest_accepts(text: &str) -> bool {
    manifest::is_web_url(text)
}

fn emulator_accepts(text: &str) -> bool {
    emulator::is_web_url(text)
}

/// Characters the `url` crate strips or encodes silently, and other invisible ones.
const SNEAKY: &[char] = &[
    ' ', '\t', '\n', '\r', '\u{b}', '\u{c}', '\u{0}', '\u{1}', '\u{1f}', '\u{7f}', '\u{85}',
    '\u{a0}', '\u{1680}', '\u{2000}', '\u{200b}', '\u{2028}', '\u{2029}', '\u{3000}', '\u{feff}',
];

#[test]
fn url_checks_agree_on_tricky_cases() {
    let accepted = [
        "https://example.com",
        "http://localhost:8080/x",
        "https://coolshop.example.com/oauth/callback?x=1#top",
        "HTTPS://EXAMPLE.COM/",
        "https://user:pw@example.com/",
        "https://[::1]/",
        "https://127.0.0.1/",
        "https://xn--bcher-kva.example/",
        "https://bücher.example/",
        "https://example.com/%20",
        // The WHATWG URL parser reads missing or extra slashes of a special scheme as if they
        // were right; both checks follow it.
        "https:example.com",
        "https:/example.com",
        "https:///example.com",
    ];
    let refused = [
        "",
        "https://",
        "http://:80/",
        "ftp://example.com",
        "mailto:help@example.com",
        "example.com/path",
        "/relative",
        "//example.com/x",
        "https://example.com/a b",
        "https://exa mple.com",
        "https://example.com/a\tb",
        "https://exa\tmple.com",
        "https://example.com/\n",
        "https://example.com/a\r\nb",
        " https://example.com",
        "https://example.com ",
        "\thttps://example.com",
        "\u{0}https://example.com",
        "https://example.com\u{1}",
        "https://example.com/\u{7f}",
        "https://example.com/\u{a0}",
        "https://example.com/\u{2028}",
        "https://exa\u{3000}mple.com",
    ];
    for text in accepted {
        assert_eq!(
            (manifest_accepts(text), emulator_accepts(text)),
            (true, true),
            "{text:?}"
        );
    }
    for text in refused {
        assert_eq!(
            (manifest_accepts(text), emulator_accepts(text)),
            (false, false),
            "{text:?}"
        );
    }
}

fn url_shaped() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec![
            "https://", "http://", "HTTP://", "https:", "https:/", "ftp://", "//", "",
        ]),
        "[a-zA-Z0-9.:@\\[\\]-]{0,16}",
        "(/[a-zA-Z0-9%._~!$&'()*+,;=:@-]{0,8}){0,3}",
        "(\\?[a-z0-9=&%]{0,8})?(#[a-z0-9]{0,4})?",
    )
        .prop_map(|(scheme, host, path, tail)| format!("{scheme}{host}{path}{tail}"))
}

/// `text` with `c` inserted before its `at`-th character (modulo its length).
fn insert(text: &str, at: usize, c: char) -> String {
    let chars: Vec<char> = text.chars().collect();
    let at = at % (chars.len() + 1);
    chars[..at]
        .iter()
        .chain(std::iter::once(&c))
        .chain(&chars[at..])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn url_checks_agree_on_any_string(text in any::<String>()) {
        prop_assert_eq!(manifest_accepts(&text), emulator_accepts(&text), "{:?}", text);
    }

    #[test]
    fn url_checks_agree_on_url_shaped_strings(text in url_shaped()) {
        prop_assert_eq!(manifest_accepts(&text), emulator_accepts(&text), "{:?}", text);
    }

    /// Whitespace or a control character anywhere makes a URL invalid for both.
    #[test]
    fn url_checks_refuse_inserted_whitespace(
        text in url_shaped(),
        at in any::<usize>(),
        c in prop::sample::select(SNEAKY.to_vec()),
    ) {
        let text = insert(&text, at, c);
        let verdicts = (manifest_accepts(&text), emulator_accepts(&text));
        prop_assert_eq!(verdicts.0, verdicts.1, "{:?}", text);
        if c.is_whitespace() || c.is_control() {
            prop_assert_eq!(verdicts, (false, false), "{:?}", text);
        }
    }
}

/// The vendor profiles, read by the planner, the executor, the configuration and the provider,
/// agree with the emulator's own copies (documented rate limits, the status that lets an Ada
/// integration change, who answers a create with a client secret) and with the field tables
/// (a set-valued field is a list of the kind).
#[test]
fn vendor_profiles_match_the_emulator_and_the_field_tables() {
    use intsync_emulator::{Emulator, Request, Store};
    let windows = |documented: &[intsync_emulator::controls::Window]| -> Vec<(u64, u32)> {
        documented
            .iter()
            .map(|w| (w.window_ms / 1000, w.limit))
            .collect()
    };
    assert_eq!(
        manifest::ADA.rate_limits,
        windows(&emulator::ADA_DOCUMENTED)
    );
    assert_eq!(
        manifest::TRUTO.rate_limits,
        windows(&emulator::TRUTO_DOCUMENTED)
    );
    assert_eq!(
        manifest::ADA.editable_status,
        Some(emulator::ADA_EDITABLE_STATUS)
    );
    assert_eq!(manifest::TRUTO.editable_status, None);
    assert!(manifest::ADA.is_frozen(Some("live")) && !manifest::ADA.is_frozen(Some("development")));
    assert!(!manifest::TRUTO.is_frozen(Some("anything")));
    for kind in Kind::ALL {
        let profile = kind.profile();
        for field in profile.set_valued {
            assert_eq!(
                kind.field(field).map(|f| f.ty),
                Some(FieldType::StringList),
                "{kind} {field}"
            );
        }
        assert_eq!(profile.fields.len(), kind.fields().len());
    }
    // Who issues a client secret: the emulator's create answers, as the vendors document.
    let token = "profile-token";
    let emulator = Emulator::new(Store::in_memory(), token);
    let ada = Request::new(http::Method::POST, "/api/v2/platform-integrations/")
        .bearer(token)
        .json(&json!({
            "name": "n", "description": "d", "author": "a", "contact": "c@example.com",
            "identifier_field_path": "a", "uninstallation_url": "https://example.com/u",
            "oauth_callback_url": "https://example.com/c", "tags": [], "scopes": [],
            "configuration_fields": {}
        }));
    let truto = Request::new(http::Method::POST, "/integration")
        .bearer(token)
        .json(&json!({"name": "t"}));
    for (kind, request) in [
        (Kind::AdaPlatformIntegration, ada),
        (Kind::TrutoIntegration, truto),
    ] {
        let answer = emulator.call(request).unwrap().json_body();
        let issued: Vec<&str> = ["client_secret", "secret", "client_secret_value"]
            .into_iter()
            .filter(|key| answer.get(*key).is_some())
            .collect();
        assert_eq!(
            issued,
            kind.profile()
                .secret_on_create
                .into_iter()
                .collect::<Vec<_>>(),
            "{kind}: {answer}"
        );
        assert_eq!(kind.issues_secret(), !issued.is_empty());
    }
}
