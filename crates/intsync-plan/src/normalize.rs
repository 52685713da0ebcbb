//! Normalization: the form in which desired and observed values are compared and hashed
//! (design §7). Two values that normalize equal never make a diff.

use intsync_manifest::Kind;
use serde_json::{Map, Number, Value};

/// Fields compared as sets: order and repetition do not matter.
pub fn is_set_field(kind: Kind, field: &str) -> bool {
    kind == Kind::AdaPlatformIntegration && matches!(field, "tags" | "scopes")
}

/// `1` and `1.0` are one number; integral floats become integers.
fn number(n: &Number) -> Value {
    if n.is_f64()
        && let Some(f) = n.as_f64()
        && f.fract() == 0.0
        && f.abs() < 9_007_199_254_740_992.0
    {
        #[allow(clippy::cast_possible_truncation)] // reason: integral and within 2^53
        return Value::Number(Number::from(f as i64));
    }
    Value::Number(n.clone())
}

/// Key order sorted, numbers canonical, recursively.
pub fn canonical(value: &Value) -> Value {
    match value {
        Value::Number(n) => number(n),
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// The canonical form of one top-level field's value.
pub fn field(kind: Kind, name: &str, value: &Value) -> Value {
    let value = canonical(value);
    match value {
        Value::Array(mut items) if is_set_field(kind, name) => {
            items.sort_by_key(|v| v.to_string());
            items.dedup();
            Value::Array(items)
        }
        other => other,
    }
}

/// Whether the live value of a field equals the desired one. An absent live field reads as
/// `null` (so `null` in a manifest matches a field the API leaves out).
pub fn field_equal(kind: Kind, name: &str, desired: &Value, live: Option<&Value>) -> bool {
    field(kind, name, desired) == field(kind, name, live.unwrap_or(&Value::Null))
}

/// Canonical JSON of all observed fields, for fingerprints.
pub fn fields(kind: Kind, fields: &Map<String, Value>) -> Value {
    let mut names: Vec<&String> = fields.keys().collect();
    names.sort();
    Value::Object(
        names
            .into_iter()
            .map(|n| (n.clone(), field(kind, n, &fields[n])))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_and_key_order() {
        assert_eq!(
            canonical(&json!({"b": 1.0, "a": [2.0, 2.5]})).to_string(),
            r#"{"a":[2,2.5],"b":1}"#
        );
    }

    #[test]
    fn sets() {
        let ada = Kind::AdaPlatformIntegration;
        assert!(field_equal(
            ada,
            "scopes",
            &json!(["b", "a", "a"]),
            Some(&json!(["a", "b"]))
        ));
        assert!(!field_equal(
            ada,
            "name",
            &json!(["b", "a"]),
            Some(&json!(["a", "b"]))
        ));
        assert!(field_equal(ada, "icon_url", &Value::Null, None));
    }
}
