//! For tests of the planner and of what builds on it: a `spec` a create accepts.

use intsync_manifest::{FieldType, Kind};
use serde_json::{Value, json};

/// `spec` (a JSON object) with a valid value for every other field creating a `kind` needs:
/// the planner refuses a create without them (design §4), so a test about something else
/// that plans a create starts from this.
pub fn creatable(kind: Kind, spec: Value) -> Value {
    let mut spec = spec.as_object().cloned().unwrap_or_default();
    for field in kind.missing_for_create(|field| spec.contains_key(field)) {
        let value = match (field, kind.field(field).map(|f| f.ty)) {
            ("identifier_field_path", _) => json!("account.name"),
            ("contact", _) => json!("help@example.com"),
            ("uninstallation_url" | "oauth_callback_url", _) => json!("https://example.com/x"),
            ("tags", _) => json!(["knowledge"]),
            ("scopes", _) => json!(["articles:read"]),
            ("configuration_fields", _) => json!({
                "type": "object", "required": ["account"], "properties": {"account": {
                    "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}
            }),
            (_, Some(FieldType::StringList)) => json!([]),
            (_, Some(FieldType::Object)) => json!({}),
            (_, Some(FieldType::Bool)) => json!(false),
            _ => json!("x"),
        };
        spec.insert(field.to_owned(), value);
    }
    Value::Object(spec)
}
