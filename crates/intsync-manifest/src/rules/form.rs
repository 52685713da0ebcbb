//! Rules for Ada's installer form: `configuration_fields` (a JSON Schema) and
//! `identifier_field_path` (a JMESPath into it).
//!
//! Ada's own getting-started example fails two of these checks (a `required` name that is not a
//! property; an identifier that is not required), so they are errors, not style advice.

use super::Checker;
use crate::diagnostic::Code;
use crate::tree::{Node, Value};

/// Keywords whose value is one subschema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "items",
];
/// Keywords whose value is a list of subschemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value maps names to subschemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
];

#[derive(Debug, Clone, Copy)]
enum Dialect {
    Draft4,
    Draft6,
    Draft7,
    Draft201909,
    Draft202012,
}

fn dialect(uri: &str) -> Option<Dialect> {
    let uri = uri
        .trim_end_matches('#')
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    match uri {
        "json-schema.org/draft-04/schema" => Some(Dialect::Draft4),
        "json-schema.org/draft-06/schema" => Some(Dialect::Draft6),
        "json-schema.org/draft-07/schema" => Some(Dialect::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Dialect::Draft201909),
        "json-schema.org/draft/2020-12/schema" => Some(Dialect::Draft202012),
        _ => None,
    }
}

/// `configuration_fields` must be a valid JSON Schema, and every `required` name must exist in
/// the sibling `properties`.
pub(super) fn check_schema(checker: &mut Checker<'_>, form: &Node) {
    let mut chosen = Dialect::Draft202012;
    if let Some((_, uri)) = form.get("$schema")
        && let Some(text) = uri.as_str()
    {
        match dialect(text) {
            Some(d) => chosen = d,
            None => {
                checker
                    .warning(Code::UnknownSchemaDialect, uri.span, format!("unknown JSON Schema dialect `{text}`; checking as draft 2020-12"))
                    .label("unknown `$schema`")
                    .help("use https://json-schema.org/draft/2020-12/schema (or draft-07), or remove `$schema`");
            }
        }
    }

    let json = form.to_json();
    let meta = match chosen {
        Dialect::Draft4 => jsonschema::draft4::meta::validator(),
        Dialect::Draft6 => jsonschema::draft6::meta::validator(),
        Dialect::Draft7 => jsonschema::draft7::meta::validator(),
        Dialect::Draft201909 => jsonschema::draft201909::meta::validator(),
        Dialect::Draft202012 => jsonschema::draft202012::meta::validator(),
    };
    let mut meta_valid = true;
    for error in meta.iter_errors(&json) {
        meta_valid = false;
        let pointer = error.instance_path().as_str().to_owned();
        let node = form.pointer(&pointer).unwrap_or(form);
        let at = if pointer.is_empty() {
            String::new()
        } else {
            format!(" at `{pointer}`")
        };
        // The meta-schema says "not valid under any of the schemas listed in 'anyOf'" for a
        // misspelt type; name the valid ones instead.
        let reason = if pointer.ends_with("/type")
            && matches!(
                error.kind(),
                jsonschema::error::ValidationErrorKind::AnyOf { .. }
            ) {
            format!(
                "{} is not a JSON Schema type (string, number, integer, boolean, object, array, null)",
                error.instance()
            )
        } else {
            error.to_string()
        };
        checker
            .error(Code::InvalidJsonSchema, node.span, format!("`configuration_fields` is not a valid JSON Schema{at}: {reason}"))
            .label("invalid here")
            .help("`configuration_fields` is the JSON Schema of the installer's form; see https://json-schema.org/understanding-json-schema");
    }
    if meta_valid {
        // Meta-schemas leave some things to the compiler: regular expressions, `$ref` targets.
        let draft = match chosen {
            Dialect::Draft4 => jsonschema::Draft::Draft4,
            Dialect::Draft6 => jsonschema::Draft::Draft6,
            Dialect::Draft7 => jsonschema::Draft::Draft7,
            Dialect::Draft201909 => jsonschema::Draft::Draft201909,
            Dialect::Draft202012 => jsonschema::Draft::Draft202012,
        };
        if let Err(error) = jsonschema::options().with_draft(draft).build(&json) {
            let pointer = error.instance_path().as_str().to_owned();
            let node = form.pointer(&pointer).unwrap_or(form);
            checker
                .error(Code::InvalidJsonSchema, node.span, format!("`configuration_fields` is not a usable JSON Schema: {error}"))
                .label("cannot be compiled")
                .help("fix the keyword's value; remote `$ref`s are not fetched, so keep the form self-contained");
        }
    }

    check_required_lists(checker, form);
}

/// Visits every subschema of `schema`, itself included.
fn for_each_subschema<'n>(schema: &'n Node, visit: &mut dyn FnMut(&'n Node)) {
    if !matches!(schema.value, Value::Mapping(_)) {
        return;
    }
    visit(schema);
    for (key, value) in schema.as_mapping().unwrap_or_default() {
        let k = key.name.as_str();
        if SCHEMA_KEYWORDS.contains(&k) {
            for_each_subschema(value, visit);
        }
        if SCHEMA_LIST_KEYWORDS.contains(&k) {
            for item in value.as_sequence().unwrap_or_default() {
                for_each_subschema(item, visit);
            }
        }
        if SCHEMA_MAP_KEYWORDS.contains(&k) {
            for (_, sub) in value.as_mapping().unwrap_or_default() {
                for_each_subschema(sub, visit);
            }
        }
    }
}

fn check_required_lists(checker: &mut Checker<'_>, form: &Node) {
    for_each_subschema(form, &mut |schema| {
        let Some((_, required)) = schema.get("required") else {
            return;
        };
        let Some(names) = required.as_sequence() else {
            return;
        };
        let properties = schema.get("properties");
        for item in names {
            let Some(name) = item.as_str() else { continue };
            let defined = properties.is_some_and(|(_, p)| p.get(name).is_some());
            if defined {
                continue;
            }
            let diagnostic = checker
                .error(
                    Code::RequiredNotInProperties,
                    item.span,
                    format!("`required` names `{name}`, which is not in the sibling `properties`"),
                )
                .label("not a property");
            match properties {
                Some((key, props)) => {
                    let known: Vec<&str> = props
                        .as_mapping()
                        .unwrap_or_default()
                        .iter()
                        .map(|(k, _)| k.name.as_str())
                        .collect();
                    diagnostic.secondary(key.span, "the properties defined here");
                    match crate::diagnostic::did_you_mean(name, known.iter().copied()) {
                        Some(s) => diagnostic.help(format!(
                            "did you mean `{s}`? Otherwise add `{name}` to `properties`"
                        )),
                        None => diagnostic.help(format!(
                            "add `{name}` to `properties`, or remove it from `required`"
                        )),
                    };
                }
                None => {
                    diagnostic.help(format!("add a `properties` mapping that defines `{name}`, or remove it from `required`"));
                }
            }
        }
    });
}

/// The field names of a plain dotted JMESPath (`a.b.c`), or `None` for anything else.
fn field_chain(ast: &jmespath::ast::Ast, out: &mut Vec<String>) -> bool {
    match ast {
        jmespath::ast::Ast::Field { name, .. } => {
            out.push(name.clone());
            true
        }
        jmespath::ast::Ast::Subexpr { lhs, rhs, .. } => {
            field_chain(lhs, out) && field_chain(rhs, out)
        }
        _ => false,
    }
}

/// `identifier_field_path` compiles as JMESPath and, when the same manifest has
/// `configuration_fields`, resolves through `properties` to a `type: string` field that is
/// required at every level on the way.
pub(super) fn check_identifier_path(checker: &mut Checker<'_>, node: &Node, form: Option<&Node>) {
    let Some(path) = node.as_str() else { return };
    let ast = match jmespath::parse(path) {
        Ok(ast) => ast,
        Err(error) => {
            checker
                .error(
                    Code::InvalidJmespath,
                    node.span,
                    format!(
                        "`identifier_field_path` is not valid JMESPath: {}",
                        error.reason
                    ),
                )
                .label("invalid JMESPath")
                .help(
                    "write a dotted path to a field of the form, e.g. `credentials.account_name`",
                );
            return;
        }
    };
    let mut segments = Vec::new();
    if !field_chain(&ast, &mut segments) {
        checker
            .error(
                Code::IdentifierPathNotAField,
                node.span,
                format!("`identifier_field_path` `{path}` is not a plain dotted path to one field"),
            )
            .label("not a field path")
            .help("use field names joined by dots, e.g. `credentials.account_name`");
        return;
    }
    // A manifest pinned by id may manage the path without the form: nothing to resolve against.
    let Some(mut schema) = form else { return };
    let mut walked = Vec::new();
    for segment in &segments {
        let parent = if walked.is_empty() {
            "the form's top level".to_owned()
        } else {
            format!("`{}`", walked.join("."))
        };
        let property = schema.get("properties").and_then(|(_, p)| p.get(segment));
        let Some((_, property)) = property else {
            let diagnostic = checker
                .error(Code::IdentifierPathUnresolved, node.span, format!("`identifier_field_path` `{path}` does not resolve: {parent} has no property `{segment}`"))
                .label("points at nothing");
            if let Some((key, _)) = schema.get("properties") {
                diagnostic.secondary(key.span, format!("properties of {parent}"));
            }
            diagnostic
                .help("point `identifier_field_path` at a field defined in `configuration_fields`");
            return;
        };
        let required = schema
            .get("required")
            .and_then(|(_, r)| r.as_sequence())
            .is_some_and(|names| names.iter().any(|n| n.as_str() == Some(segment.as_str())));
        if !required {
            let diagnostic = checker
                .error(Code::IdentifierNotRequired, node.span, format!("`identifier_field_path` `{path}` goes through `{segment}`, which {parent} does not list in `required`"))
                .label("not required on the way");
            match schema.get("required") {
                Some((key, _)) => {
                    diagnostic.secondary(key.span, format!("add `{segment}` to this list"))
                }
                None => diagnostic.secondary(schema.span, "this schema has no `required` list"),
            };
            diagnostic.help(format!("an installation is identified by this field, so the form must require it: add `{segment}` to `required`"));
        }
        walked.push(segment.as_str());
        schema = property;
    }
    let ty = schema.get("type").map(|(_, t)| t);
    if ty.and_then(Node::as_str) != Some("string") {
        let found = match ty {
            Some(t) => match &t.value {
                Value::String(s) => format!("`type: {s}`"),
                other => format!("`type` {}", other.type_name()),
            },
            None => "no `type`".to_owned(),
        };
        let diagnostic = checker
            .error(Code::IdentifierNotString, node.span, format!("`identifier_field_path` `{path}` points at a field with {found}; it must be `type: string`"))
            .label("not a string field");
        diagnostic.secondary(ty.map_or(schema.span, |t| t.span), "the field's type");
        diagnostic.help("identify installations by a string field, e.g. an account name or URL");
    }
}
