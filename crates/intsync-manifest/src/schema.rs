//! The JSON Schema of the manifest format, for editors (yaml-language-server) and other tools.
//!
//! These types exist only to describe the format; loading goes through the spanned tree and the
//! rules in `rules/`. The `spec` properties are generated from the vendor tables
//! ([`crate::vendor`]), so the schema and the rules cannot disagree on a field, a limit or a set;
//! `tests/vendor_tables.rs` checks them against the vendors' documents, and another test keeps
//! the committed copy in `schemas/` identical to what `intsync schema` prints.

#![allow(dead_code, clippy::large_enum_variant)] // reason: the types are read by the schemars derive, never built

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

use crate::diagnostic::Severity;
use crate::model::Kind;
use crate::vendor::{FieldType, Format};

/// One intsync manifest: a platform integration kept in git.
#[derive(JsonSchema)]
#[serde(tag = "kind")]
#[schemars(title = "intsync manifest")]
enum ManifestDocument {
    /// An integration on Ada's platform (`/api/v2/platform-integrations`).
    AdaPlatformIntegration(AdaDocument),
    /// An integration on Truto (`/integration`).
    TrutoIntegration(TrutoDocument),
}

#[derive(JsonSchema)]
enum ApiVersion {
    #[serde(rename = "intsync/v1")]
    V1,
}

/// Identity of the live object.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Metadata {
    /// The live object's id. Optional: without it the manifest is matched by `spec.name`.
    /// Needed to rename an integration, and lets a manifest manage only some fields.
    #[serde(default)]
    #[schemars(length(min = 1))]
    id: Option<String>,
    /// Codes of intsync's own rules this manifest may break: each is reported as a warning
    /// instead of an error. `intsync export` writes them for live integrations that already
    /// break such a rule. Only the codes listed here can be allowed.
    #[serde(default)]
    allow: Option<AllowList>,
}

/// The codes `metadata.allow` accepts.
struct AllowList;

impl JsonSchema for AllowList {
    fn schema_name() -> Cow<'static, str> {
        "AllowList".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<&str> = crate::Code::ALL
            .iter()
            .filter(|c| c.allowable())
            .map(|c| c.as_str())
            .collect();
        Schema::try_from(json!({
            "type": "array",
            "items": { "type": "string", "enum": codes },
        }))
        .expect("an object is a schema")
    }
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct AdaDocument {
    #[serde(rename = "apiVersion")]
    api_version: ApiVersion,
    #[serde(default)]
    metadata: Option<Metadata>,
    spec: AdaSpec,
}

/// The `spec` of an `AdaPlatformIntegration`: generated from Ada's table.
struct AdaSpec;

impl JsonSchema for AdaSpec {
    fn schema_name() -> Cow<'static, str> {
        "AdaSpec".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        spec_schema(
            Kind::AdaPlatformIntegration,
            "The fields of an Ada platform integration, named as the API names them. An omitted \
             field is not managed; `null` clears a nullable one.",
        )
    }
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct TrutoDocument {
    #[serde(rename = "apiVersion")]
    api_version: ApiVersion,
    #[serde(default)]
    metadata: Option<Metadata>,
    spec: TrutoSpec,
}

/// The `spec` of a `TrutoIntegration`: generated from Truto's table.
struct TrutoSpec;

impl JsonSchema for TrutoSpec {
    fn schema_name() -> Cow<'static, str> {
        "TrutoSpec".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        spec_schema(
            Kind::TrutoIntegration,
            "The fields of a Truto integration. An omitted field is not managed.",
        )
    }
}

/// The schema of a kind's `spec`, one property per field of its vendor table: the JSON type
/// (with `null` for a nullable field), the length limits, the format, and an `enum` for a set
/// the API enforces (a warning-level set, such as Ada's scopes, is left open).
fn spec_schema(kind: Kind, description: &str) -> Schema {
    let mut properties = Map::new();
    for def in kind.fields() {
        let mut property = Map::new();
        property.insert("description".into(), json!(def.description));
        let ty = match def.ty {
            FieldType::String => "string",
            FieldType::Bool => "boolean",
            FieldType::Object => "object",
            FieldType::StringList => "array",
        };
        property.insert(
            "type".into(),
            if def.nullable {
                json!([ty, "null"])
            } else {
                json!(ty)
            },
        );
        if def.min_chars > 0 {
            property.insert("minLength".into(), json!(def.min_chars));
        }
        if let Some(max) = def.max_chars {
            property.insert("maxLength".into(), json!(max));
        }
        // Each format in the words JSON Schema has for it; where it has none (a JSON Schema, a
        // JMESPath), a `format` of that name, which validators ignore and tools can read.
        match def.format {
            Format::Url => {
                property.insert("format".into(), json!("uri"));
            }
            Format::UrlOrEmail => {
                property.insert(
                    "anyOf".into(),
                    json!([{ "format": "uri" }, { "format": "email" }]),
                );
            }
            Format::JsonSchema => {
                property.insert("format".into(), json!("json-schema"));
            }
            Format::JmesPath => {
                property.insert("format".into(), json!("jmespath"));
            }
            Format::StringValues => {
                property.insert("additionalProperties".into(), json!({ "type": "string" }));
            }
            Format::None => {}
        }
        let closed = def
            .allowed
            .filter(|a| a.severity == Severity::Error)
            .map(|a| a.values);
        match def.ty {
            FieldType::StringList => {
                let mut items = Map::new();
                items.insert("type".into(), json!("string"));
                if let Some(values) = closed {
                    items.insert("enum".into(), json!(values));
                }
                property.insert("items".into(), Value::Object(items));
            }
            _ => {
                if let Some(values) = closed {
                    let mut values = json!(values);
                    if def.nullable
                        && let Value::Array(values) = &mut values
                    {
                        values.push(Value::Null);
                    }
                    property.insert("enum".into(), values);
                }
            }
        }
        properties.insert(def.name.into(), Value::Object(property));
    }
    let mut schema = Map::new();
    schema.insert("description".into(), json!(description));
    schema.insert("type".into(), json!("object"));
    schema.insert("properties".into(), Value::Object(properties));
    schema.insert("additionalProperties".into(), json!(false));
    Schema::from(schema)
}

/// The JSON Schema of a manifest document, as `intsync schema` prints it.
pub fn manifest_schema() -> Value {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<ManifestDocument>();
    let mut value = serde_json::to_value(schema).unwrap_or(Value::Null);
    strip_defaults(&mut value);
    value
}

/// `#[serde(default)]` only marks a field optional here; an omitted field is *unmanaged*, not
/// "empty", so the `default` values schemars derives from it would mislead editors.
fn strip_defaults(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("default");
            map.values_mut().for_each(strip_defaults);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schema's `spec` properties and the rule tables name the same fields.
    #[test]
    fn fields_match_the_rule_tables() {
        let schema = manifest_schema();
        for kind in Kind::ALL {
            let def = match kind {
                Kind::AdaPlatformIntegration => "AdaSpec",
                Kind::TrutoIntegration => "TrutoSpec",
            };
            let props = schema["definitions"][def]["properties"]
                .as_object()
                .expect("spec properties");
            let mut from_schema: Vec<&str> = props.keys().map(String::as_str).collect();
            let mut from_rules: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
            from_schema.sort_unstable();
            from_rules.sort_unstable();
            assert_eq!(from_schema, from_rules, "{kind}");
        }
    }
}
