//! The validation rules of design §4, applied to one parsed YAML document at a time.
//!
//! Rules read the spanned [`Node`] tree, so every diagnostic points at the key or value it is
//! about. A document with any error yields no [`Manifest`]; its diagnostics say why.

mod ada;
mod form;
mod format;
mod truto;

use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, SourceFile, did_you_mean};
use crate::model::{API_VERSION, Kind, Manifest, Origin};
use crate::vendor::{FieldDef, FieldType, Format};
use intsync_yaml::{Key, Node, Span, Value};

const DOCUMENT_KEYS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
const METADATA_KEYS: &[&str] = &["id", "allow", "targets"];

/// Collects the diagnostics of one document.
pub(crate) struct Checker<'a> {
    pub file: &'a Arc<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// The installer form as JSON, built once for its JSON Schema checks and reused as the
    /// manifest's value (keyed by the form node's span): converting it twice cost ~6% of a
    /// plan of 10,000 manifests.
    pub form_json: Option<(Span, serde_json::Value)>,
}

impl<'a> Checker<'a> {
    pub fn new(file: &'a Arc<SourceFile>) -> Self {
        Checker {
            file,
            diagnostics: Vec::new(),
            form_json: None,
        }
    }

    pub fn error(&mut self, code: Code, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::error(code, self.file, span, message));
        self.diagnostics.last_mut().expect("just pushed")
    }

    pub fn warning(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diagnostics
            .push(Diagnostic::warning(code, self.file, span, message));
        self.diagnostics.last_mut().expect("just pushed")
    }

    fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// Reports `found` where `expected` was wanted; returns whether the type was right.
    pub fn expect_type(&mut self, node: &Node, ty: FieldType, what: &str) -> bool {
        let ok = match ty {
            FieldType::String => matches!(node.value, Value::String(_)),
            FieldType::Bool => matches!(node.value, Value::Bool(_)),
            FieldType::Object => matches!(node.value, Value::Mapping(_)),
            FieldType::StringList => match &node.value {
                Value::Sequence(items) => {
                    let mut all = true;
                    for item in items {
                        if !matches!(item.value, Value::String(_)) {
                            all = false;
                            self.wrong_type(item, "a string", &format!("each item of `{what}`"));
                        }
                    }
                    return all;
                }
                _ => false,
            },
        };
        if !ok {
            self.wrong_type(node, ty.describe(), &format!("`{what}`"));
        }
        ok
    }

    pub fn wrong_type(&mut self, node: &Node, expected: &str, what: &str) {
        let found = node.value.type_name();
        let help = match (&node.value, expected) {
            (Value::Bool(_) | Value::Number(_), "a string") => {
                Some("quote the value to make it a string".to_owned())
            }
            (Value::String(s), "a boolean")
                if matches!(s.as_str(), "yes" | "no" | "on" | "off") =>
            {
                Some("write `true` or `false`: `yes`/`no`/`on`/`off` are strings here".to_owned())
            }
            _ => None,
        };
        let diagnostic = self
            .error(
                Code::WrongType,
                node.span,
                format!("{what} must be {expected}, found {found}"),
            )
            .label(format!("{found}, expected {expected}"));
        if let Some(help) = help {
            diagnostic.help(help);
        }
    }

    /// Keys not in `allowed` get an `unknown_field` error with a suggestion.
    fn unknown_keys(
        &mut self,
        mapping: &[(Key, Node)],
        allowed: &[&str],
        place: &str,
        help_extra: impl Fn(&str) -> Option<String>,
    ) {
        for (key, _) in mapping {
            if allowed.contains(&key.name.as_str()) {
                continue;
            }
            let help = help_extra(&key.name).unwrap_or_else(|| {
                match did_you_mean(&key.name, allowed.iter().copied()) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!("{place} accepts: {}", allowed.join(", ")),
                }
            });
            self.error(
                Code::UnknownField,
                key.span,
                format!("unknown field `{}` in {place}", key.name),
            )
            .label("unknown field")
            .help(help);
        }
    }
}

/// Reports every duplicate key in the tree, at the later key, with a label on the first.
fn duplicate_keys(checker: &mut Checker<'_>, node: &Node) {
    match &node.value {
        Value::Mapping(pairs) => {
            for (i, (key, value)) in pairs.iter().enumerate() {
                if let Some((first, _)) = pairs[..i].iter().find(|(k, _)| k.name == key.name) {
                    checker
                        .error(
                            Code::DuplicateKey,
                            key.span,
                            format!("duplicate key `{}`", key.name),
                        )
                        .label("defined again here")
                        .secondary(first.span, "first defined here")
                        .help(
                            "remove one of them: YAML keeps only the last, which hides the first",
                        );
                }
                duplicate_keys(checker, value);
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| duplicate_keys(checker, item)),
        _ => {}
    }
}

/// Identity claims of a document, for the cross-file duplicate check.
#[derive(Debug, Clone)]
pub(crate) struct Claims {
    pub kind: Kind,
    pub id: Option<(String, Span)>,
    pub name: Option<(String, Span)>,
    /// The targets that get it (`None`: every target): two claims conflict only when a
    /// target gets both.
    pub targets: Option<Vec<String>>,
}

/// What one document contributes.
pub(crate) struct Checked {
    pub manifest: Option<Manifest>,
    pub claims: Option<Claims>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Applies every per-document rule.
pub(crate) fn check_document(file: &Arc<SourceFile>, document: usize, root: &Node) -> Checked {
    let mut checker = Checker::new(file);
    duplicate_keys(&mut checker, root);

    let Some(pairs) = root.as_mapping() else {
        checker
            .error(
                Code::NotAMapping,
                root.span,
                format!(
                    "a manifest must be a mapping, found {}",
                    root.value.type_name()
                ),
            )
            .help(
                "start the document with `apiVersion: intsync/v1`, `kind`, `metadata` and `spec`",
            );
        return Checked {
            manifest: None,
            claims: None,
            diagnostics: checker.diagnostics,
        };
    };
    checker.unknown_keys(pairs, DOCUMENT_KEYS, "a manifest", |_| None);

    let missing = |checker: &mut Checker<'_>, key: &str, help: &str| {
        checker
            .error(Code::MissingField, root.span, format!("missing `{key}`"))
            .label(format!("this document has no `{key}`"))
            .help(help.to_owned());
    };

    match root.get("apiVersion") {
        None => missing(&mut checker, "apiVersion", "add `apiVersion: intsync/v1`"),
        Some((_, node)) => match node.as_str() {
            Some(API_VERSION) => {}
            Some(other) => {
                checker
                    .error(
                        Code::UnsupportedApiVersion,
                        node.span,
                        format!("unsupported apiVersion `{other}`"),
                    )
                    .help(format!("this intsync reads `apiVersion: {API_VERSION}`"));
            }
            None => checker.wrong_type(node, "a string", "`apiVersion`"),
        },
    }

    let kind = match root.get("kind") {
        None => {
            missing(
                &mut checker,
                "kind",
                "add `kind: AdaPlatformIntegration` or `kind: TrutoIntegration`",
            );
            None
        }
        Some((_, node)) => match node.as_str() {
            Some(text) => {
                let kind = Kind::parse(text);
                if kind.is_none() {
                    let names = Kind::ALL.map(Kind::as_str);
                    let help = match did_you_mean(text, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("known kinds: {}", names.join(", ")),
                    };
                    checker
                        .error(
                            Code::UnknownKind,
                            node.span,
                            format!("unknown kind `{text}`"),
                        )
                        .help(help);
                }
                kind
            }
            None => {
                checker.wrong_type(node, "a string", "`kind`");
                None
            }
        },
    };

    let (id, allow) = check_metadata(&mut checker, root);

    let spec = match root.get("spec") {
        None => {
            missing(
                &mut checker,
                "spec",
                "add a `spec:` mapping with the integration's fields",
            );
            None
        }
        Some((key, node)) => {
            if checker.expect_type(node, FieldType::Object, "spec") {
                Some((key, node))
            } else {
                None
            }
        }
    };

    let mut claims = None;
    if let (Some(kind), Some((spec_key, spec))) = (kind, spec) {
        check_spec(
            &mut checker,
            kind,
            spec_key,
            spec,
            id.as_ref().map(|(id, _)| id.as_str()),
        );
        let name = spec
            .get("name")
            .and_then(|(_, n)| n.as_str().map(|s| (s.to_owned(), n.span)));
        claims = Some(Claims {
            kind,
            id: id.clone(),
            name,
            targets: None,
        });
    }

    apply_allowances(&mut checker, &allow);

    let manifest = match (kind, spec) {
        (Some(kind), Some((_, spec))) if !checker.has_errors() => {
            let Value::Mapping(pairs) = &spec.value else {
                unreachable!("spec was checked to be a mapping")
            };
            let mut form = checker.form_json.take();
            let values: Vec<(&str, serde_json::Value)> = pairs
                .iter()
                .map(|(key, node)| {
                    let json = match form.take() {
                        Some((span, json)) if span == node.span => json,
                        other => {
                            form = other;
                            node.to_json()
                        }
                    };
                    (key.name.as_str(), json)
                })
                .collect();
            // Kept as compact text: the JSON values are dropped here (issue #16).
            let spec = crate::Fields::from_pairs(values.iter().map(|(k, v)| (*k, v)));
            Some(Manifest {
                kind,
                id: id.map(|(id, _)| id),
                spec,
                origin: Origin {
                    path: file.path.clone(),
                    document,
                    line: root.span.line,
                },
                routing: crate::Routing::default(),
            })
        }
        _ => None,
    };
    Checked {
        manifest,
        claims,
        diagnostics: checker.diagnostics,
    }
}

/// The codes of `metadata.allow`, each where it is written.
type Allowances = Vec<(Code, Span)>;

/// `metadata.id` and `metadata.allow`, each checked.
fn check_metadata(checker: &mut Checker<'_>, root: &Node) -> (Option<(String, Span)>, Allowances) {
    let Some((_, metadata)) = root.get("metadata") else {
        return (None, Vec::new());
    };
    if matches!(metadata.value, Value::Null) {
        return (None, Vec::new());
    }
    if !checker.expect_type(metadata, FieldType::Object, "metadata") {
        return (None, Vec::new());
    }
    let pairs = metadata.as_mapping().unwrap_or_default();
    checker.unknown_keys(pairs, METADATA_KEYS, "`metadata`", |key| {
        (key == "name").then(|| {
            "the name is `spec.name`; `metadata` holds only `id`, `allow` and `targets`".to_owned()
        })
    });
    if let Some((_, targets)) = metadata.get("targets") {
        check_targets(checker, targets);
    }
    let allow = metadata
        .get("allow")
        .map(|(_, node)| check_allow(checker, node))
        .unwrap_or_default();
    let Some((_, id)) = metadata.get("id") else {
        return (None, allow);
    };
    let id = match &id.value {
        Value::String(s) if s.trim().is_empty() => {
            checker
                .error(Code::EmptyString, id.span, "`metadata.id` is empty")
                .help("remove `metadata.id` to match by name, or give the live object's id");
            None
        }
        Value::String(s) => Some((s.clone(), id.span)),
        Value::Null => None,
        _ => {
            checker.wrong_type(id, "a string", "`metadata.id`");
            None
        }
    };
    (id, allow)
}

/// `metadata.targets`: a list of target names (held to the configuration when loading).
fn check_targets(checker: &mut Checker<'_>, node: &Node) {
    let Some(items) = node.as_sequence() else {
        checker.wrong_type(node, "a list of target names", "`metadata.targets`");
        return;
    };
    for item in items {
        match item.as_str() {
            Some(name) if name.trim().is_empty() => {
                checker
                    .error(Code::EmptyString, item.span, "a target name is empty")
                    .help("name a target of intsync.toml, or remove the item");
            }
            Some(_) => {}
            // Refused where the targets are chosen.
            None if matches!(item.value, Value::Var(_)) => {}
            None => checker.wrong_type(item, "a string", "each item of `metadata.targets`"),
        }
    }
}

/// `metadata.allow`: a list of codes of intsync's own rules ([`Code::allowable`]).
fn check_allow(checker: &mut Checker<'_>, node: &Node) -> Allowances {
    let items = match &node.value {
        Value::Null => return Vec::new(),
        Value::Sequence(items) => items,
        _ => {
            checker.wrong_type(node, "a list of codes", "`metadata.allow`");
            return Vec::new();
        }
    };
    let allowable = || {
        Code::ALL
            .iter()
            .filter(|c| c.allowable())
            .map(|c| c.as_str())
    };
    let mut allow = Vec::new();
    for item in items {
        let Some(text) = item.as_str() else {
            checker.wrong_type(item, "a string", "each item of `metadata.allow`");
            continue;
        };
        match Code::parse(text) {
            Some(code) if code.allowable() => allow.push((code, item.span)),
            Some(code) => {
                checker
                    .error(
                        Code::NotAllowable,
                        item.span,
                        format!("`{code}` cannot be allowed: it is not one of intsync's own rules"),
                    )
                    .label("not allowable")
                    .help(format!(
                        "the vendor refuses such a value, or the manifest would not say what it means: fix the problem instead. Allowable: {}",
                        allowable().collect::<Vec<_>>().join(", ")
                    ));
            }
            None => {
                let help = match did_you_mean(text, allowable()) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!(
                        "allowable codes: {}",
                        allowable().collect::<Vec<_>>().join(", ")
                    ),
                };
                checker
                    .error(
                        Code::NotAllowable,
                        item.span,
                        format!(
                            "`metadata.allow` names `{}`, which is no intsync code",
                            intsync_yaml::shown(text)
                        ),
                    )
                    .label("unknown code")
                    .help(help);
            }
        }
    }
    allow
}

/// Turns the errors of the allowed codes into warnings that say so, and warns of an allowance
/// nothing in the manifest needs.
fn apply_allowances(checker: &mut Checker<'_>, allow: &[(Code, Span)]) {
    if allow.is_empty() {
        return;
    }
    let mut used = Vec::new();
    for diagnostic in &mut checker.diagnostics {
        if !allow.iter().any(|(code, _)| *code == diagnostic.code) {
            continue;
        }
        used.push(diagnostic.code);
        if diagnostic.is_error() {
            diagnostic.severity = crate::Severity::Warning;
            diagnostic
                .message
                .push_str(" (allowed by `metadata.allow`)");
        }
    }
    for (code, span) in allow {
        if !used.contains(code) {
            checker
                .warning(
                    Code::UnusedAllow,
                    *span,
                    format!("`{code}` is allowed, but this manifest does not break that rule"),
                )
                .label("not needed")
                .help(
                    "remove it from `metadata.allow`, so that the rule guards this manifest again",
                );
        }
    }
}

fn check_spec(
    checker: &mut Checker<'_>,
    kind: Kind,
    spec_key: &Key,
    spec: &Node,
    id: Option<&str>,
) {
    let pairs = spec.as_mapping().unwrap_or_default();
    let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
    let place = format!("`spec` of {kind}");
    checker.unknown_keys(pairs, &names, &place, |key| {
        if key == "id" {
            Some("the id goes in `metadata.id`".to_owned())
        } else if kind.server_managed().contains(&key) {
            Some(format!(
                "`{key}` is managed by the server: remove it from the manifest"
            ))
        } else {
            None
        }
    });

    // Types and nulls, for every known field.
    let mut well_typed = Vec::new();
    for (key, node) in pairs {
        let Some(def) = kind.field(&key.name) else {
            continue;
        };
        if matches!(node.value, Value::Null) {
            if !def.nullable {
                let help = if def.required_on_create {
                    format!(
                        "`{}` cannot be cleared; give it a value, or remove the line to leave it unmanaged",
                        def.name
                    )
                } else {
                    format!("remove the line to leave `{}` unmanaged", def.name)
                };
                checker
                    .error(
                        Code::NullNotAllowed,
                        node.span,
                        format!("`{}` cannot be null", def.name),
                    )
                    .label("null")
                    .help(help);
            }
            continue;
        }
        if checker.expect_type(node, def.ty, def.name) {
            well_typed.push((def, node));
        }
    }

    if id.is_none() {
        let missing = kind.missing_for_create(|field| spec.get(field).is_some());
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if missing.contains(&"name") {
                checker
                    .error(Code::MissingCreateField, spec_key.span, format!("{kind} without `metadata.id` must have `name`: it is matched to a live integration by name, or created"))
                    .label("no `name`")
                    .help("add `name`, or set `metadata.id` to manage only the fields given");
            } else {
                // A warning: matched by name, the manifest manages only the fields it names;
                // the plan refuses it only if it would create (design §4).
                checker
                .warning(Code::MissingCreateField, spec_key.span, format!("{kind} without `metadata.id` lacks {list}, needed only if it is created"))
                .label("missing fields")
                .help("if a live integration has this name, the manifest manages just the fields it gives; if none has, `plan` refuses to create it until they are added (or set `metadata.id`)");
            }
        }
    }

    for (def, node) in well_typed {
        check_value(checker, kind, spec, def, node);
    }
}

/// The checks the vendor's table asks of one well-typed, non-null value: its length, then its
/// format, then its set of allowed values. The words of a set's diagnostics are the vendor's
/// rule module's.
fn check_value(checker: &mut Checker<'_>, kind: Kind, spec: &Node, def: &FieldDef, node: &Node) {
    if !check_length(checker, def, node) {
        return;
    }
    match def.format {
        Format::None => {}
        Format::Url => format::check_url(checker, def.name, node),
        Format::UrlOrEmail => format::check_url_or_email(checker, def.name, node),
        Format::StringValues => format::check_string_values(checker, node),
        Format::JsonSchema => form::check_schema(checker, node),
        Format::JmesPath => {
            let form = kind
                .fields()
                .iter()
                .find(|f| f.format == Format::JsonSchema)
                .and_then(|f| spec.get(f.name))
                .map(|(_, n)| n)
                .filter(|n| matches!(n.value, Value::Mapping(_)));
            form::check_identifier_path(checker, node, form);
        }
    }
    if let Some(allowed) = &def.allowed {
        let items = match &node.value {
            Value::Sequence(items) => items.as_slice(),
            _ => std::slice::from_ref(node),
        };
        for item in items {
            let Some(value) = item.as_str() else { continue };
            if allowed.values.contains(&value) {
                continue;
            }
            match kind {
                Kind::AdaPlatformIntegration => {
                    ada::not_allowed(checker, def, allowed, item, value)
                }
                Kind::TrutoIntegration => truto::not_allowed(checker, def, allowed, item, value),
            }
        }
    }
}

/// At least `min_chars` and at most `max_chars` characters (Unicode scalar values, not bytes);
/// false when the value is out of bounds (and reported).
fn check_length(checker: &mut Checker<'_>, def: &FieldDef, node: &Node) -> bool {
    let Some(text) = node.as_str() else {
        return true;
    };
    let field = def.name;
    // Minimums are 0 or 1 (a unit test of the tables keeps them so): "not empty".
    if text.is_empty() && def.min_chars > 0 {
        checker
            .error(
                Code::EmptyString,
                node.span,
                format!("`{field}` must not be empty"),
            )
            .label("empty")
            .help(format!(
                "give `{field}` at least one character, or remove the line to leave it unmanaged"
            ));
        return false;
    }
    if let Some(max) = def.max_chars {
        let count = text.chars().count();
        if count > max {
            checker
                .error(
                    too_long_code(field),
                    node.span,
                    format!("`{field}` is {count} characters long; the limit is {max}"),
                )
                .label(format!("{count} characters"))
                .help(format!("shorten `{field}` to at most {max} characters"));
            return false;
        }
    }
    true
}

/// The code for a value longer than its field allows: codes are a contract, named per field.
fn too_long_code(field: &str) -> Code {
    match field {
        "author" => Code::AuthorTooLong,
        _ => Code::NameTooLong,
    }
}
