//! `set_fields`, the text-editing core of `intsync pull` (design §10): only the replaced
//! values' text changes; comments, key order, quoting and layout of everything else stay
//! byte-identical.

use intsync_manifest::{EditError, FieldEdit, Kind, load_source, set_fields};
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};

fn edit(document: usize, field: &str, value: Json) -> FieldEdit {
    FieldEdit {
        document,
        field: field.to_owned(),
        value,
    }
}

/// The specs `load_source` reads from `text`, asserting it has no errors.
fn specs(text: &str) -> Vec<Map<String, Json>> {
    let loaded = load_source("test.yaml", text);
    assert!(
        !loaded.has_errors(),
        "{text}\n{:?}",
        loaded
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    loaded
        .manifests
        .into_iter()
        .map(|m| m.spec.to_map())
        .collect()
}

/// JSON equality with numbers compared by value.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => x == y,
            _ => match (x.as_u64(), y.as_u64()) {
                (Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            },
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// Applies `edits` and checks that the result loads as the old specs with only the edited
/// fields changed, each to its new value.
fn apply(text: &str, edits: &[FieldEdit]) -> String {
    let before = specs(text);
    let after_text = set_fields(text, edits).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let after = specs(&after_text);
    assert_eq!(before.len(), after.len(), "{after_text}");
    for (index, (old, new)) in before.iter().zip(&after).enumerate() {
        let mut expected = old.clone();
        for e in edits.iter().filter(|e| e.document == index) {
            expected.insert(e.field.clone(), e.value.clone());
        }
        assert!(
            same(&Json::Object(expected.clone()), &Json::Object(new.clone())),
            "document {index}: expected {expected:?}, read {new:?}\n{after_text}"
        );
        // Key order is the old one.
        assert!(
            old.keys().eq(new.keys()),
            "key order changed:\n{after_text}"
        );
    }
    after_text
}

const TRUTO: &str = "\
# A custom CRM.
apiVersion: intsync/v1
kind: TrutoIntegration
metadata:
  id: \"4a4de828\"   # pinned
spec:
  # The name is the identity.
  name: my_custom_crm      # keep this comment
  category: 'crm'   # single-quoted
  is_beta: false
  sharing: \"allow\"
  config:
    label: My CRM   # inside
    # a comment inside config
    base_url: https://api.example.com/v2
  # after config
";

#[test]
fn inline_comment_after_a_replaced_scalar_stays() {
    let out = apply(
        TRUTO,
        &[
            edit(0, "name", json!("renamed_crm")),
            edit(0, "is_beta", json!(true)),
        ],
    );
    assert_eq!(
        out,
        TRUTO
            .replace(
                "name: my_custom_crm      # keep",
                "name: renamed_crm      # keep"
            )
            .replace("is_beta: false", "is_beta: true")
    );
}

#[test]
fn quoting_elsewhere_is_kept_and_new_strings_are_quoted_where_needed() {
    // The old value's quoting does not carry over: the new value is written as it must be.
    let out = apply(TRUTO, &[edit(0, "category", json!("hris"))]);
    assert_eq!(out, TRUTO.replace("'crm'", "hris"));
    for (value, written) in [
        ("yes", "\"yes\""),
        ("null", "\"null\""),
        ("123", "\"123\""),
        ("1.5", "\"1.5\""),
        ("a: b", "\"a: b\""),
        ("#x", "\"#x\""),
        (" lead", "\" lead\""),
        ("trail ", "\"trail \""),
        ("multi\nline\n", "\"multi\\nline\\n\""),
        ("bell\u{7}", "\"bell\\x07\""),
        ("\u{feff}bom", "\"\\uFEFFbom\""),
        ("", "\"\""),
        ("it's \"q\"", "it's \"q\""),
        ("\"q\" it is", "\"\\\"q\\\" it is\""),
        ("a # b", "\"a # b\""),
        ("a#b", "a#b"),
        ("- x", "\"- x\""),
        ("plain words", "plain words"),
    ] {
        let out = apply(TRUTO, &[edit(0, "category", json!(value))]);
        assert_eq!(
            out,
            TRUTO.replace("'crm'", written),
            "{value:?} should be written {written}"
        );
    }
}

#[test]
fn nested_value_is_replaced_as_block_at_its_indentation() {
    let out = apply(
        TRUTO,
        &[edit(
            0,
            "config",
            json!({"label": "New CRM", "headers": {"Accept": "application/json"}, "scopes": ["a", "b"], "resources": [{"path": "/x", "method": "get"}]}),
        )],
    );
    assert_eq!(
        out,
        TRUTO.replace(
            "    label: My CRM   # inside\n    # a comment inside config\n    base_url: https://api.example.com/v2\n",
            "    label: New CRM\n    headers:\n      Accept: application/json\n    scopes:\n      - a\n      - b\n    resources:\n      - path: /x\n        method: get\n"
        )
    );
}

const ADA: &str = "\
apiVersion: intsync/v1
kind: AdaPlatformIntegration
metadata: { id: 5df263b7db5a7e6ea03fae9b }
spec:
  name: Cool Shop   # the name
  description: |  # shown to users
    Sync Cool Shop articles
    # still the description
  tags: [knowledge]  # only one tag exists
  scopes:
  - articles:read
  icon_url: https://example.com/icon.png
  error_codes: null   # none yet
  configuration_fields: {type: object, properties: {a: {type: string}}}  # a small form
  call_to_action:
";

#[test]
fn flow_lists_of_scalars_stay_flow() {
    let out = apply(
        ADA,
        &[
            edit(0, "tags", json!(["knowledge", "knowledge"])),
            edit(
                0,
                "scopes",
                json!(["articles:read", "knowledge_sources:write"]),
            ),
        ],
    );
    assert_eq!(
        out,
        ADA.replace("tags: [knowledge]  #", "tags: [knowledge, knowledge]  #")
            .replace(
                "  scopes:\n  - articles:read\n",
                "  scopes:\n  - articles:read\n  - knowledge_sources:write\n"
            )
    );
    let out = apply(ADA, &[edit(0, "tags", json!([]))]);
    assert_eq!(out, ADA.replace("tags: [knowledge]  #", "tags: []  #"));
}

#[test]
fn null_becomes_a_mapping_and_a_mapping_becomes_null() {
    let out = apply(
        ADA,
        &[edit(
            0,
            "error_codes",
            json!({"error_403": "Unauthorized", "error_404": "Not: Found"}),
        )],
    );
    assert_eq!(
        out,
        ADA.replace(
            "  error_codes: null   # none yet\n",
            "  error_codes:   # none yet\n    error_403: Unauthorized\n    error_404: \"Not: Found\"\n"
        )
    );
    let back = apply(&out, &[edit(0, "error_codes", Json::Null)]);
    assert_eq!(back, ADA);

    let block = "\
apiVersion: intsync/v1
kind: AdaPlatformIntegration
metadata:
  id: x
spec:
  error_codes:  # codes
    # the usual one
    error_403: Unauthorized
    error_404: Not Found   # inside
  # after the codes
  icon_url: https://example.com/icon.png
";
    assert_eq!(
        apply(block, &[edit(0, "error_codes", Json::Null)]),
        block.replace(
            "  error_codes:  # codes\n    # the usual one\n    error_403: Unauthorized\n    error_404: Not Found   # inside\n",
            "  error_codes: null  # codes\n"
        )
    );
}

#[test]
fn flow_and_block_scalar_values_become_blocks_under_the_key() {
    let form = json!({"type": "object", "required": ["account"], "properties": {"account": {"type": "string", "title": "Account: name"}}});
    let out = apply(
        ADA,
        &[
            edit(0, "configuration_fields", form),
            edit(0, "description", json!("One line now")),
            edit(0, "call_to_action", json!("Connect")),
        ],
    );
    assert_eq!(
        out,
        ADA.replace(
            "  configuration_fields: {type: object, properties: {a: {type: string}}}  # a small form\n",
            "  configuration_fields:  # a small form\n    type: object\n    required:\n      - account\n    properties:\n      account:\n        type: string\n        title: \"Account: name\"\n"
        )
        .replace(
            "  description: |  # shown to users\n    Sync Cool Shop articles\n    # still the description\n",
            "  description: One line now  # shown to users\n"
        )
        .replace("  call_to_action:\n", "  call_to_action: Connect\n")
    );
    let out = apply(ADA, &[edit(0, "description", json!("two\nlines"))]);
    assert!(
        out.contains("  description: \"two\\nlines\"  # shown to users\n  tags:"),
        "{out}"
    );
}

/// The nested form under a key at column 3 (`  configuration_fields:`), written in block style
/// with comments inside and around it.
#[test]
fn nested_form_under_an_indented_key() {
    let text = "\
apiVersion: intsync/v1
kind: AdaPlatformIntegration
metadata:
  id: x
spec:
  identifier_field_path: account
  # The installer's form.
  configuration_fields:   # JSON Schema
    type: object
    # required at every level
    required: [account]
    properties:
      account:
        type: string   # the identifier
  # after the form
  name: Cool Shop
";
    let form = json!({"type": "object", "required": ["account", "region"], "properties": {"account": {"type": "string"}, "region": {"type": "string", "enum": ["eu", "us"]}}});
    let out = apply(text, &[edit(0, "configuration_fields", form)]);
    assert_eq!(
        out,
        "\
apiVersion: intsync/v1
kind: AdaPlatformIntegration
metadata:
  id: x
spec:
  identifier_field_path: account
  # The installer's form.
  configuration_fields:   # JSON Schema
    type: object
    required:
      - account
      - region
    properties:
      account:
        type: string
      region:
        type: string
        enum:
          - eu
          - us
  # after the form
  name: Cool Shop
"
    );
}

#[test]
fn multi_document_file_edits_only_the_document_asked() {
    let second = TRUTO
        .replace("4a4de828", "5b5e")
        .replace("my_custom_crm", "other_crm");
    let text = format!("{TRUTO}---\n{second}");
    let out = apply(
        &text,
        &[
            edit(1, "name", json!("third_crm")),
            edit(1, "config", json!({})),
        ],
    );
    let (first, second) = out.split_once("---\n").unwrap();
    assert_eq!(first, text.split_once("---\n").unwrap().0);
    assert!(
        second.contains("  name: third_crm      # keep this comment\n"),
        "{second}"
    );
    assert!(
        second.contains("  config: {}\n  # after config\n"),
        "{second}"
    );
    assert!(!second.contains("label"), "{second}");
}

#[test]
fn empty_documents_do_not_count() {
    let text = format!("---\n# nothing here\n---\n{TRUTO}");
    let out = apply(&text, &[edit(0, "category", json!("hris"))]);
    assert_eq!(out, text.replace("'crm'", "hris"));
}

#[test]
fn crlf_files_keep_crlf_and_a_byte_order_mark_stays() {
    let text = format!("\u{feff}{}", TRUTO.replace('\n', "\r\n"));
    let out = apply(
        &text,
        &[
            edit(0, "name", json!("x")),
            edit(0, "config", json!({"a": {"b": [1, 2.5]}})),
        ],
    );
    assert_eq!(
        out,
        text.replace("name: my_custom_crm ", "name: x ").replace(
            "    label: My CRM   # inside\r\n    # a comment inside config\r\n    base_url: https://api.example.com/v2\r\n",
            "    a:\r\n      b:\r\n        - 1\r\n        - 2.5\r\n"
        )
    );
    assert!(!out.replace("\r\n", "").contains('\n'));
}

#[test]
fn flow_spec_is_edited_in_flow_style() {
    let text = "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata: { id: abc }   # optional\nspec: { name: my_custom_crm, category: crm, is_beta: false, config: { a: 1 } }  # flow\n";
    let out = apply(
        text,
        &[
            edit(0, "name", json!("a, b: [c]")),
            edit(0, "config", json!({"x": [1, {"y": "z"}], "k": "v#w"})),
            edit(0, "is_beta", json!(true)),
        ],
    );
    assert_eq!(
        out,
        "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata: { id: abc }   # optional\nspec: { name: \"a, b: [c]\", category: crm, is_beta: true, config: {x: [1, {\"y\": z}], k: v#w} }  # flow\n"
    );
}

#[test]
fn edits_in_any_order_several_fields_and_documents() {
    let text = format!("{ADA}---\n{TRUTO}");
    let edits = [
        edit(0, "name", json!("A")),
        edit(1, "name", json!("B")),
        edit(0, "icon_url", Json::Null),
        edit(1, "sharing", json!("deny")),
        edit(0, "scopes", json!([])),
    ];
    let forward = apply(&text, &edits);
    let mut reversed = edits.to_vec();
    reversed.reverse();
    assert_eq!(forward, apply(&text, &reversed));
    assert!(
        forward.contains("  scopes: []\n  icon_url: null\n"),
        "{forward}"
    );
}

#[test]
fn refuses_rather_than_guesses() {
    let missing = set_fields(TRUTO, &[edit(0, "description", json!("x"))]).unwrap_err();
    assert!(
        matches!(missing, EditError::FieldMissing { document: 0, ref field } if field == "description"),
        "{missing:?}"
    );
    assert!(matches!(
        set_fields(TRUTO, &[edit(1, "name", json!("x"))]).unwrap_err(),
        EditError::NoSuchDocument {
            document: 1,
            count: 1
        }
    ));
    assert!(matches!(
        set_fields("a: [1, 2\nb: 3\n", &[edit(0, "name", json!("x"))]).unwrap_err(),
        EditError::Parse { .. }
    ));
    assert!(matches!(
        set_fields(
            "kind: TrutoIntegration\nspec: x\n",
            &[edit(0, "name", json!("x"))]
        )
        .unwrap_err(),
        EditError::NoSpec { document: 0 }
    ));
    assert!(matches!(
        set_fields(
            TRUTO,
            &[edit(0, "name", json!("x")), edit(0, "name", json!("y"))]
        )
        .unwrap_err(),
        EditError::DuplicateEdit { .. }
    ));
    assert!(matches!(
        set_fields(
            "spec:\n  name: a\n  name: b\n",
            &[edit(0, "name", json!("x"))]
        )
        .unwrap_err(),
        EditError::DuplicateField { line: 3, .. }
    ));
    for text in [
        // An anchor on the replaced value: an alias elsewhere would change with it.
        "spec:\n  config: &c {a: 1}\n  other: *c\n",
        "spec:\n  config:\n    a: &a 1\n  other: *a\n",
        // An alias as the replaced value, or inside it.
        "base: &b {a: 1}\nspec:\n  config: *b\n",
        "base: &b 1\nspec:\n  config: {a: *b}\n",
        // A merge key in spec: the field may come from elsewhere.
        "base: &b {config: {a: 1}}\nspec:\n  <<: *b\n  config: {a: 2}\n",
        // spec itself is an alias, or anchored.
        "base: &b {config: {a: 1}}\nspec: *b\n",
        "spec: &s\n  config: {a: 1}\nother: *s\n",
    ] {
        let error = set_fields(text, &[edit(0, "config", json!({"a": 3}))]).unwrap_err();
        assert!(
            matches!(error, EditError::AliasOrMerge { .. }),
            "{text}: {error:?}"
        );
        assert!(error.to_string().contains("by hand"), "{error}");
    }
    // An explicit key.
    assert!(matches!(
        set_fields(
            "spec:\n  ? config\n  : {a: 1}\n",
            &[edit(0, "config", json!(1))]
        )
        .unwrap_err(),
        EditError::Unsupported { .. }
    ));
}

#[test]
fn no_edits_change_nothing() {
    assert_eq!(set_fields(ADA, &[]).unwrap(), ADA);
}

#[test]
fn tagged_values_lose_their_tag_with_their_value() {
    let text = "spec:\n  name: !!str 123  # c\n  config: !!map\n    a: 1\n  other: x\n";
    let out = set_fields(
        text,
        &[edit(0, "name", json!(true)), edit(0, "config", json!(null))],
    )
    .unwrap();
    assert_eq!(
        out,
        "spec:\n  name: true  # c\n  config: null\n  other: x\n"
    );
}

// ---------------------------------------------------------------------------------------------
// The property: random manifests, random comments, random new values.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Vendor {
    Ada,
    Truto,
}

impl Vendor {
    fn kind(self) -> Kind {
        match self {
            Vendor::Ada => Kind::AdaPlatformIntegration,
            Vendor::Truto => Kind::TrutoIntegration,
        }
    }

    fn fields(self) -> Vec<&'static str> {
        self.kind().fields().iter().map(|f| f.name).collect()
    }
}

fn awkward_char() -> impl Strategy<Value = char> {
    prop_oneof![
        8 => prop::char::range('a', 'z'),
        2 => Just(' '),
        4 => prop::sample::select(vec![
            ':', '#', '-', '?', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', '\\', '/', '.', '~', '=', '0', '1', '9',
        ]),
        2 => prop::sample::select(vec![
            '\n', '\t', '\r', '\u{0}', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\u{a0}', '\u{feff}',
            '\u{2028}', '\u{fffe}', 'é', '✓', '😀',
        ]),
    ]
}

fn awkward_string() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::collection::vec(awkward_char(), 0..20).prop_map(|v| v.into_iter().collect()),
        1 => prop::sample::select(vec![
            "yes", "No", "null", "~", "true", "123", "-1.5", "0x1F", "1e3", ".inf", "a: b", "#x",
            " lead", "trail ", "- item", "key:", "multi\nline\n", "---", "...", "[a]", "{b}", "",
            "'q'", "\"dq\"", "@at", "`tick", "a # b", "a#b", "| x", "> y", "&a", "*b", "!t",
            "%p", "? q",
        ])
        .prop_map(String::from),
    ]
}

fn nonempty_awkward() -> impl Strategy<Value = String> {
    awkward_string().prop_filter("at least one character", |s| !s.is_empty())
}

fn url() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            'a', 'b', 'z', '0', '/', '#', ':', '?', '=', '&', '%', '-', '_', '.', '~',
        ]),
        0..16,
    )
    .prop_map(|path| {
        format!(
            "https://example.com/{}",
            path.into_iter().collect::<String>()
        )
    })
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        awkward_string().prop_map(Json::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map(awkward_string(), inner, 0..4)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

/// A JSON Schema form that `identifier_field_path` `credentials.url` and `account` resolve
/// through, with random extra properties.
fn form(extra: &[(String, String)]) -> Json {
    let mut properties = json!({
        "account": {"type": "string"},
        "credentials": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string", "format": "uri"}}},
    });
    for (name, title) in extra {
        properties[name.as_str()] = json!({"type": "string", "title": title});
    }
    json!({"type": "object", "required": ["account", "credentials"], "properties": properties})
}

/// A valid new value for a field.
fn new_value(vendor: Vendor, field: &'static str) -> BoxedStrategy<Json> {
    let text = || nonempty_awkward().prop_map(Json::String);
    let nullable = |s: BoxedStrategy<Json>| prop_oneof![1 => Just(Json::Null), 3 => s].boxed();
    match (vendor, field) {
        (Vendor::Ada, "name" | "author")
        | (Vendor::Ada, "description")
        | (Vendor::Truto, "name") => text().boxed(),
        (Vendor::Ada, "call_to_action") => nullable(text().boxed()),
        (Vendor::Ada, "icon_url") => nullable(url().prop_map(Json::String).boxed()),
        (Vendor::Ada, "uninstallation_url" | "oauth_callback_url") => {
            url().prop_map(Json::String).boxed()
        }
        (Vendor::Ada, "contact") => prop_oneof![
            url().prop_map(Json::String),
            Just(json!("help@example.com")),
            Just(json!("mailto:a.b@example.com")),
        ]
        .boxed(),
        (Vendor::Ada, "identifier_field_path") => {
            prop::sample::select(vec![json!("account"), json!("credentials.url")]).boxed()
        }
        (Vendor::Ada, "tags") => prop::collection::vec(Just(json!("knowledge")), 0..3)
            .prop_map(Json::Array)
            .boxed(),
        (Vendor::Ada, "scopes") => prop::collection::vec(
            prop_oneof![
                prop::sample::select(intsync_manifest::ADA_SCOPES.to_vec()).prop_map(String::from),
                awkward_string(),
            ],
            0..4,
        )
        .prop_map(|v| json!(v))
        .boxed(),
        (Vendor::Ada, "configuration_fields") => prop::collection::vec(
            (
                awkward_string().prop_filter("not a base property", |s| {
                    s != "account" && s != "credentials"
                }),
                awkward_string(),
            ),
            0..3,
        )
        .prop_map(|extra| form(&extra))
        .boxed(),
        (Vendor::Ada, "error_codes") => nullable(
            prop::collection::btree_map(awkward_string(), awkward_string(), 0..4)
                .prop_map(|m| json!(m))
                .boxed(),
        ),
        (Vendor::Truto, "category") => awkward_string().prop_map(Json::String).boxed(),
        (Vendor::Truto, "is_beta") => any::<bool>().prop_map(Json::Bool).boxed(),
        (Vendor::Truto, "sharing") => {
            prop::sample::select(vec![json!("allow"), json!("ask"), json!("deny")]).boxed()
        }
        (Vendor::Truto, "config") => {
            prop::collection::btree_map(awkward_string(), json_value(), 0..4)
                .prop_map(|m| json!(m))
                .boxed()
        }
        _ => unreachable!("no generator for {vendor:?} {field}"),
    }
}

/// An original value for a field (valid, with only printable characters, so that the test can
/// write it in any style).
fn old_value(vendor: Vendor, field: &'static str, pick: u32) -> Json {
    let pick = pick as usize;
    let choose = |options: &[Json]| options[pick % options.len()].clone();
    let texts = [
        json!("Cool Shop"),
        json!("Connect to Cool Shop Knowledge Hub"),
        json!("Sync articles: fast"),
        json!("line one\nline two\n# not a comment"),
        json!("ends in a break\n"),
        json!("it's \"quoted\""),
        json!("é ünïcode ✓"),
        json!("yes"),
        json!("123"),
    ];
    let urls = [
        json!("https://coolshop.example.com/oauth/callback"),
        json!("https://example.com/a#frag"),
        json!("http://localhost:8080/x?y=1&z=2"),
    ];
    match (vendor, field) {
        (_, "name" | "author" | "description") => choose(&texts),
        (_, "category") => choose(&[&texts[..], &[json!("")]].concat()),
        (Vendor::Ada, "call_to_action") => choose(&[&texts[..], &[Json::Null]].concat()),
        (Vendor::Ada, "icon_url") => choose(&[&urls[..], &[Json::Null]].concat()),
        (Vendor::Ada, "uninstallation_url" | "oauth_callback_url") => choose(&urls),
        (Vendor::Ada, "contact") => choose(&[
            json!("help@coolshop.support"),
            json!("mailto:help@example.com"),
            urls[0].clone(),
        ]),
        (Vendor::Ada, "identifier_field_path") => {
            choose(&[json!("credentials.url"), json!("account")])
        }
        (Vendor::Ada, "tags") => choose(&[
            json!([]),
            json!(["knowledge"]),
            json!(["knowledge", "knowledge"]),
        ]),
        (Vendor::Ada, "scopes") => choose(&[
            json!([]),
            json!(["articles:read"]),
            json!(["articles:read", "knowledge_sources:write"]),
        ]),
        (Vendor::Ada, "configuration_fields") => choose(&[
            form(&[]),
            form(&[("region".to_owned(), "Your region".to_owned())]),
        ]),
        (Vendor::Ada, "error_codes") => choose(&[
            json!({"error_403": "Unauthorized"}),
            json!({"error_403": "Unauthorized", "error_404": "Not Found"}),
            json!({}),
            Json::Null,
        ]),
        (Vendor::Truto, "is_beta") => choose(&[json!(true), json!(false)]),
        (Vendor::Truto, "sharing") => choose(&[json!("allow"), json!("ask"), json!("deny")]),
        (Vendor::Truto, "config") => choose(&[
            json!({"label": "My CRM", "base_url": "https://api.example.com", "headers": {"Accept": "application/json"}}),
            json!({"retries": 3, "ratio": 0.5, "enabled": true, "nothing": null, "list": [1, "two", {"three": [3]}], "empty": {}}),
            json!({}),
        ]),
        _ => unreachable!("no original for {vendor:?} {field}"),
    }
}

/// A tiny deterministic generator for layout choices (styles, comments).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.roll(100) < percent
    }
}

/// Whether the test may write `s` unquoted.
fn plain_safe(s: &str) -> bool {
    let words = [
        "yes", "no", "on", "off", "y", "n", "true", "false", "null", "~",
    ];
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _./@-".contains(c))
        && !s.ends_with(' ')
        && !words.contains(&s.to_ascii_lowercase().as_str())
}

fn yaml_scalar(value: &Json, dice: &mut Dice) -> String {
    match value {
        Json::String(s) if plain_safe(s) && dice.chance(70) => s.clone(),
        Json::String(s) if !s.contains(['\n', '\'']) && dice.chance(50) => format!("'{s}'"),
        Json::String(s) => serde_json::to_string(s).unwrap(),
        other => other.to_string(),
    }
}

fn yaml_flow(value: &Json, dice: &mut Dice) -> String {
    match value {
        Json::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| yaml_flow(i, dice))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    serde_json::to_string(k).unwrap(),
                    yaml_flow(v, dice)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Json::String(s) if s.contains([':', ',', '[', ']', '{', '}', '#']) => {
            serde_json::to_string(s).unwrap()
        }
        other => yaml_scalar(other, dice),
    }
}

/// One line of a value's text after its key line: the text, and whether a comment may follow it.
type Body = Vec<(String, bool)>;

fn yaml_block(value: &Json, indent: usize, dice: &mut Dice, out: &mut Body) {
    let pad = " ".repeat(indent);
    let nested = |v: &Json| {
        matches!(v, Json::Array(a) if !a.is_empty())
            || matches!(v, Json::Object(o) if !o.is_empty())
    };
    match value {
        Json::Object(map) => {
            for (k, v) in map {
                let key = yaml_scalar(&json!(k), dice);
                if nested(v) {
                    out.push((format!("{pad}{key}:"), true));
                    yaml_block(v, indent + 2, dice, out);
                } else {
                    out.push((format!("{pad}{key}: {}", yaml_flow(v, dice)), true));
                }
            }
        }
        Json::Array(items) => {
            for item in items {
                if nested(item) {
                    out.push((format!("{pad}-"), true));
                    yaml_block(item, indent + 2, dice, out);
                } else {
                    out.push((format!("{pad}- {}", yaml_flow(item, dice)), true));
                }
            }
        }
        other => out.push((format!("{pad}{}", yaml_flow(other, dice)), true)),
    }
}

/// How an original value is written: what follows `key:` on its line, the lines after it, and
/// where comments may go.
struct Rendered {
    head: String,
    body: Body,
    /// A comment may end the key's line.
    head_comment: bool,
    /// A comment line may go before a body line (inside the value).
    comments_inside: bool,
    /// A comment after the last body line is on the value's last line, outside it.
    last_comment_stays: bool,
}

fn render(value: &Json, indent: usize, dice: &mut Dice) -> Rendered {
    let pad = " ".repeat(indent);
    let one_line = |head: String| Rendered {
        head,
        body: Vec::new(),
        head_comment: true,
        comments_inside: false,
        last_comment_stays: false,
    };
    match value {
        Json::Null => one_line([" null", " ~", "", " Null"][dice.roll(4) as usize].to_owned()),
        Json::String(s) if s.contains('\n') && dice.chance(60) => {
            // A literal block scalar, `|-` when the text does not end in a line break.
            Rendered {
                head: if s.ends_with('\n') { " |" } else { " |-" }.to_owned(),
                body: s.lines().map(|l| (format!("{pad}{l}"), false)).collect(),
                head_comment: true,
                comments_inside: false,
                last_comment_stays: false,
            }
        }
        Json::String(s) if s.is_empty() && dice.chance(50) => Rendered {
            // An empty block scalar.
            head: [" |-", " >", " |+"][dice.roll(3) as usize].to_owned(),
            body: Vec::new(),
            head_comment: true,
            comments_inside: false,
            last_comment_stays: false,
        },
        Json::String(s) if plain_safe(s) && !s.contains(' ') && dice.chance(20) => Rendered {
            // A folded block scalar of one line.
            head: " >-".to_owned(),
            body: vec![(format!("{pad}{s}"), false)],
            head_comment: true,
            comments_inside: false,
            last_comment_stays: false,
        },
        Json::String(s) if dice.chance(10) => {
            one_line(format!(" !!str {}", serde_json::to_string(s).unwrap()))
        }
        Json::String(s) if plain_safe(s) && s.contains(' ') && dice.chance(30) => {
            // A plain scalar over two lines.
            let (a, b) = s.split_once(' ').unwrap();
            Rendered {
                head: format!(" {a}"),
                body: vec![(format!("{pad}{b}"), true)],
                head_comment: false,
                comments_inside: false,
                last_comment_stays: true,
            }
        }
        Json::String(_) | Json::Bool(_) | Json::Number(_) => {
            one_line(format!(" {}", yaml_scalar(value, dice)))
        }
        Json::Array(items) if items.is_empty() => one_line(" []".to_owned()),
        Json::Object(map) if map.is_empty() => one_line(" {}".to_owned()),
        _ if dice.chance(30) => one_line(format!(" {}", yaml_flow(value, dice))),
        _ => {
            let mut body = Vec::new();
            // Lists are sometimes indentless (`- a` at the key's column).
            let inner = if value.is_array() && dice.chance(40) {
                indent - 2
            } else {
                indent
            };
            yaml_block(value, inner, dice, &mut body);
            Rendered {
                head: String::new(),
                body,
                head_comment: true,
                comments_inside: true,
                last_comment_stays: false,
            }
        }
    }
}

#[derive(Debug, Clone)]
struct FieldGen {
    present: bool,
    edit: bool,
    old: u32,
    new: Json,
}

#[derive(Debug, Clone)]
struct DocGen {
    vendor: Vendor,
    fields: Vec<FieldGen>,
    order: Vec<usize>,
    seed: u64,
}

fn doc_gen() -> impl Strategy<Value = DocGen> {
    prop_oneof![Just(Vendor::Ada), Just(Vendor::Truto)].prop_flat_map(|vendor| {
        let names = vendor.fields();
        let fields: Vec<BoxedStrategy<FieldGen>> = names
            .iter()
            .map(|&name| {
                (
                    prop::bool::weighted(0.7),
                    prop::bool::weighted(0.4),
                    any::<u32>(),
                    new_value(vendor, name),
                )
                    .prop_map(|(present, edit, old, new)| FieldGen {
                        present,
                        edit,
                        old,
                        new,
                    })
                    .boxed()
            })
            .collect();
        let order: Vec<usize> = (0..names.len()).collect();
        (
            Just(vendor),
            fields,
            Just(order).prop_shuffle(),
            any::<u64>(),
        )
            .prop_map(|(vendor, fields, order, seed)| DocGen {
                vendor,
                fields,
                order,
                seed: seed | 1,
            })
    })
}

/// A file being written, line by line, with the byte ranges a test needs.
struct File {
    text: String,
    newline: &'static str,
    /// Comment texts, each with the field it is inside of (it may go when that field is edited).
    comments: Vec<(String, Option<(usize, &'static str)>)>,
    /// For each field: from its `:` to the end of its value's last line.
    regions: Vec<((usize, &'static str), std::ops::Range<usize>)>,
    counter: usize,
}

impl File {
    fn line(&mut self, text: &str) {
        self.text.push_str(text);
        self.text.push_str(self.newline);
    }

    fn comment(&mut self, owner: Option<(usize, &'static str)>) -> String {
        self.counter += 1;
        let text = format!("# c{} : note, [x] #{}", self.counter, self.counter);
        self.comments.push((text.clone(), owner));
        text
    }
}

fn write_doc(file: &mut File, index: usize, doc: &DocGen) {
    let mut dice = Dice(doc.seed);
    let names = doc.vendor.fields();
    if dice.chance(30) {
        let c = file.comment(None);
        file.line(&c);
    }
    file.line("apiVersion: intsync/v1");
    file.line(&format!("kind: {}", doc.vendor.kind()));
    file.line("metadata:");
    file.line(&format!("  id: \"id-{index}\""));
    if !doc.order.iter().any(|&i| doc.fields[i].present) {
        file.line("spec: {}");
        return;
    }
    let spec_line = if dice.chance(30) {
        format!("spec:  {}", file.comment(None))
    } else {
        "spec:".to_owned()
    };
    file.line(&spec_line);
    for &i in &doc.order {
        let field = &doc.fields[i];
        if !field.present {
            continue;
        }
        let name = names[i];
        let owner = Some((index, name));
        if dice.chance(15) {
            file.line("");
        }
        if dice.chance(30) {
            let pad = " ".repeat([0, 2][dice.roll(2) as usize]);
            let c = file.comment(None);
            file.line(&format!("{pad}{c}"));
        }
        let value = old_value(doc.vendor, name, field.old);
        let rendered = render(&value, 4, &mut dice);
        let key_start = file.text.len();
        let colon = key_start + format!("  {name}:").len();
        let mut key_line = format!("  {name}:{}", rendered.head);
        let last = rendered.body.len();
        if rendered.head_comment && dice.chance(50) {
            let c = file.comment(None);
            key_line.push_str(&format!("  {c}"));
        }
        let mut end = key_start + key_line.len();
        file.line(&key_line);
        for (n, (line, comment_ok)) in rendered.body.iter().enumerate() {
            if rendered.comments_inside && dice.chance(25) {
                let pad = " ".repeat(dice.roll(6) as usize);
                let c = file.comment(owner);
                file.line(&format!("{pad}{c}"));
            }
            let mut line = line.clone();
            if *comment_ok && dice.chance(25) {
                let stays = n + 1 == last && rendered.last_comment_stays;
                let c = file.comment(if stays { None } else { owner });
                line.push_str(&format!("  {c}"));
            }
            end = file.text.len() + line.len();
            file.line(&line);
        }
        file.regions.push(((index, name), colon..end));
    }
    if dice.chance(30) {
        let c = file.comment(None);
        file.line(&c);
    }
}

/// Whether `out` is `text` with each of `regions` (from a field's `:` to the end of its value's
/// last line, as [`write_doc`] records them) replaced by a new value's text, and nothing else
/// changed: the text before, between and after the regions is byte for byte the same, in the
/// same order, with no line added or lost.
///
/// A new value's text is found in `out` by its shape, not by looking for what follows it: from
/// the `:` to the end of the key's line, then every line up to the last one that belongs to a
/// value under a spec field (indented deeper than the field's key, or a `- ` item at the key's
/// column); comment lines between those lines are the value's. The lines after a field in
/// these files never look like that (a key at the field's column, a comment or blank line
/// before one, `---`, the document's end), so a line of the original added, duplicated or
/// dropped next to a replaced value is caught, not taken for part of it.
fn same_outside(text: &str, regions: &[std::ops::Range<usize>], out: &str) -> Result<(), String> {
    /// A spec field's key is at column 2.
    const KEY_COLUMN: usize = 2;
    let value_line = |line: &str| {
        let line = line.trim_end_matches('\r');
        let indent = line.len() - line.trim_start_matches(' ').len();
        let rest = &line[indent..];
        !rest.is_empty()
            && (indent > KEY_COLUMN
                || (indent == KEY_COLUMN && (rest == "-" || rest.starts_with("- "))))
    };
    let comment_or_blank = |line: &str| {
        let rest = line.trim_start_matches(' ').trim_end_matches('\r');
        rest.is_empty() || rest.starts_with('#')
    };
    let (mut from_text, mut from_out) = (0, 0);
    for region in regions {
        let kept = &text[from_text..region.start];
        if !out[from_out..].starts_with(kept) {
            return Err(format!(
                "the text before byte {} of the input changed",
                region.start
            ));
        }
        // The new value: the rest of the key's line, then its lines (a region ends before its
        // last line's line break, `\r\n` or `\n`).
        let line_end = |from: usize| out[from..].find('\n').map_or(out.len(), |i| from + i);
        let content_end = |end: usize| {
            if out[..end].ends_with('\r') {
                end - 1
            } else {
                end
            }
        };
        let start = from_out + kept.len();
        let mut at = line_end(start);
        let mut end = content_end(at);
        while at < out.len() {
            let next = line_end(at + 1);
            let line = &out[at + 1..next];
            if value_line(line) {
                end = content_end(next);
            } else if !comment_or_blank(line) {
                break;
            }
            at = next;
        }
        from_text = region.end;
        from_out = end;
    }
    if out[from_out..] != text[from_text..] {
        return Err(format!(
            "the text after byte {from_text} of the input changed"
        ));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Random manifests with random comments, random new values for random present fields:
    /// the result loads as the old specs with only those fields changed, every comment outside
    /// a replaced nested value is still there, and the text outside the replaced regions is
    /// byte-identical.
    #[test]
    fn only_the_replaced_values_change(
        docs in prop::collection::vec(doc_gen(), 1..4),
        crlf in prop::bool::weighted(0.25),
        bom in prop::bool::weighted(0.2),
        leading_marker in any::<bool>(),
    ) {
        let mut file = File {
            text: String::new(),
            newline: if crlf { "\r\n" } else { "\n" },
            comments: Vec::new(),
            regions: Vec::new(),
            counter: 0,
        };
        if bom {
            file.text.push('\u{feff}');
        }
        for (index, doc) in docs.iter().enumerate() {
            if index > 0 || leading_marker {
                file.line("---");
            }
            write_doc(&mut file, index, doc);
        }
        let text = file.text.clone();

        let mut edits = Vec::new();
        for (index, doc) in docs.iter().enumerate() {
            let names = doc.vendor.fields();
            for &i in &doc.order {
                let f = &doc.fields[i];
                if f.present && f.edit {
                    edits.push(edit(index, names[i], f.new.clone()));
                }
            }
        }
        // Names are identities: two manifests of a kind may not share one.
        let names_unique = |edits: &[FieldEdit]| {
            let mut seen = Vec::new();
            for (index, doc) in docs.iter().enumerate() {
                let i = doc.vendor.fields().iter().position(|f| *f == "name").unwrap();
                if !doc.fields[i].present {
                    continue;
                }
                let name = edits
                    .iter()
                    .find(|e| e.document == index && e.field == "name")
                    .map_or_else(|| old_value(doc.vendor, "name", doc.fields[i].old), |e| e.value.clone());
                if seen.contains(&(doc.vendor, name.clone())) {
                    return false;
                }
                seen.push((doc.vendor, name));
            }
            true
        };
        prop_assume!(names_unique(&[]) && names_unique(&edits));

        // (1) the edited fields read back as the new values, all else as before.
        let out = apply(&text, &edits);

        // (2) every comment not inside a replaced nested value is still there, once.
        for (comment, owner) in &file.comments {
            let replaced = owner.is_some_and(|(d, f)| edits.iter().any(|e| e.document == d && e.field == f));
            let count = out.matches(comment.as_str()).count();
            prop_assert!(count == 1 || (replaced && count == 0), "{comment} is there {count} times\n{text}\n---- became ----\n{out}");
        }

        // (3) the text outside the replaced regions is byte-identical and in place: the output
        // is the input with each region's text swapped for a new value's, and nothing else.
        let mut regions: Vec<_> = file
            .regions
            .iter()
            .filter(|((d, f), _)| edits.iter().any(|e| e.document == *d && e.field == *f))
            .map(|(_, r)| r.clone())
            .collect();
        regions.sort_by_key(|r| r.start);
        if let Err(problem) = same_outside(&text, &regions, &out) {
            prop_assert!(false, "{problem}\n{text}\n---- became ----\n{out}");
        }
        if edits.is_empty() {
            prop_assert_eq!(&out, &text);
        }
        // Line endings are the file's.
        if crlf {
            prop_assert!(!out.replace("\r\n", "").contains('\n'));
        }
    }
}

/// A keep-chomping block scalar holding only blank lines (found by the property test in CI): its
/// replacement ends with the header's line; the blank line stays and the next key keeps its own.
#[test]
fn a_block_scalar_of_blank_lines_is_replaced_on_its_header_line() {
    let text = "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  id: \"id-0\"\nspec:  # c1\n  sharing: >-\n    allow\n  category: |+\n\n  config:\n# c2\n    label: My CRM\n";
    assert_eq!(
        apply(text, &[edit(0, "category", json!(""))]),
        text.replace("category: |+\n", "category: \"\"\n")
    );
}
