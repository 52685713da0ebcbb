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
    let live = live.unwrap_or(&Value::Null);
    if is_set_field(kind, name) {
        return field(kind, name, desired) == field(kind, name, live);
    }
    equal(desired, live)
}

/// [`field_equal`] of values held as JSON text ([`intsync_manifest::Fields`]): equal texts
/// are equal values, so only texts that differ are read.
pub fn raw_field_equal(kind: Kind, name: &str, desired: &str, live: Option<&str>) -> bool {
    if live == Some(desired) {
        return true;
    }
    let read = intsync_manifest::Fields::read;
    field_equal(kind, name, &read(desired), live.map(read).as_ref())
}

fn numbers_equal(a: &Number, b: &Number) -> bool {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => x == y,
        (_, _, Some(x), Some(y)) => x == y,
        _ => a.as_f64().zip(b.as_f64()).is_some_and(|(x, y)| x == y),
    }
}

/// Equality after normalization, without building normalized copies: objects compare as maps
/// (key order ignored), numbers by value (`1 == 1.0`).
pub fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| equal(v, w))
        }
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && objects_equal(x, y),
        _ => a == b,
    }
}

/// Two objects of the same length hold equal values under the same keys. Live answers and
/// manifests usually list keys in the same order: compared pair by pair first, with no hashing;
/// only a key out of place falls back to looking keys up.
fn objects_equal(x: &Map<String, Value>, y: &Map<String, Value>) -> bool {
    for ((k, v), (l, w)) in x.iter().zip(y) {
        if k != l {
            return x.iter().all(|(k, v)| y.get(k).is_some_and(|w| equal(v, w)));
        }
        if !equal(v, w) {
            // Keys are unique: `k`'s value in `y` is `w`.
            return false;
        }
    }
    true
}

/// Writes the canonical JSON of `value` (sorted keys, canonical numbers) without building it.
pub fn write_canonical(value: &Value, out: &mut impl std::io::Write) -> std::io::Result<()> {
    match value {
        Value::Number(n) => write!(out, "{}", number(n)),
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical(item, out)?;
            }
            out.write_all(b"]")
        }
        Value::Object(map) => {
            // Sorted pairs: no hashed lookup per key.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by_key(|(key, _)| *key);
            out.write_all(b"{")?;
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, key)?;
                out.write_all(b":")?;
                write_canonical(value, out)?;
            }
            out.write_all(b"}")
        }
        other => serde_json::to_writer(out, other).map_err(std::io::Error::other),
    }
}

/// Writes the canonical JSON of all observed fields (sets sorted), for fingerprints.
pub fn write_fields(
    kind: Kind,
    fields: &Map<String, Value>,
    out: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut entries: Vec<(&String, &Value)> = fields.iter().collect();
    entries.sort_unstable_by_key(|(name, _)| *name);
    out.write_all(b"{")?;
    for (i, (name, value)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, name)?;
        out.write_all(b":")?;
        if is_set_field(kind, name) {
            write_canonical(&field(kind, name, value), out)?;
        } else {
            write_canonical(value, out)?;
        }
    }
    out.write_all(b"}")
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
    fn equality_without_copies_matches_canonical_forms() {
        let a = json!({"b": [1.0, {"y": 2, "x": "s"}], "a": null});
        let b = json!({"a": null, "b": [1, {"x": "s", "y": 2.0}]});
        assert!(equal(&a, &b));
        assert_eq!(canonical(&a), canonical(&b));
        assert!(!equal(&json!([1, 2]), &json!([2, 1])));
        assert!(!equal(&json!({"a": 1}), &json!({"a": 1, "b": 2})));
        let mut written = Vec::new();
        write_canonical(&a, &mut written).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            canonical(&a).to_string()
        );
    }

    /// The pair-by-pair fast path agrees with the canonical forms whatever the key order.
    #[test]
    fn object_equality_in_and_out_of_key_order() {
        let cases = [
            (json!({"a": 1, "b": 2}), json!({"a": 1, "b": 2}), true),
            (json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3}), false),
            (json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1.0}), true),
            (json!({"a": 1, "b": 2}), json!({"b": 3, "a": 1}), false),
            (
                json!({"a": 1, "b": 2, "c": 3}),
                json!({"a": 1, "c": 3, "b": 2}),
                true,
            ),
            (
                json!({"a": 1, "b": 2, "c": 3}),
                json!({"a": 1, "c": 2, "b": 3}),
                false,
            ),
            (json!({"a": 1, "b": 2}), json!({"a": 1, "x": 2}), false),
            (
                json!({"a": {"p": [1, {"q": 1}]}}),
                json!({"a": {"p": [1, {"q": 1.0}]}}),
                true,
            ),
        ];
        for (a, b, same) in cases {
            assert_eq!(equal(&a, &b), same, "{a} vs {b}");
            assert_eq!(equal(&b, &a), same, "{b} vs {a}");
            assert_eq!(canonical(&a) == canonical(&b), same, "{a} vs {b}");
        }
    }

    /// JSON values with the variety `equal` normalizes: numbers as integers and floats, keys in
    /// any order, set fields.
    fn any_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..4).prop_map(Value::from),
            (0i64..4).prop_map(|n| Value::from(n as f64)),
            Just(json!(0.5)),
            "[ab\"é]{0,2}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[xyz]", inner), 0..4)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Comparing held text (equal text first, values only where it differs) decides as
        /// comparing the values does, for plain and for set fields.
        #[test]
        fn held_text_compares_as_the_values_do(
            a in any_value(),
            b in any_value(),
            same in proptest::bool::ANY,
            field in proptest::sample::select(vec!["description", "scopes", "configuration_fields"]),
        ) {
            let ada = Kind::AdaPlatformIntegration;
            let b = if same { a.clone() } else { b };
            let (ta, tb) = (a.to_string(), b.to_string());
            proptest::prop_assert_eq!(
                raw_field_equal(ada, field, &ta, Some(&tb)),
                field_equal(ada, field, &a, Some(&b))
            );
            proptest::prop_assert_eq!(
                raw_field_equal(ada, field, &ta, None),
                field_equal(ada, field, &a, None)
            );
        }
    }

    #[test]
    fn held_text_that_differs_can_still_be_equal() {
        let ada = Kind::AdaPlatformIntegration;
        assert!(raw_field_equal(
            ada,
            "x",
            r#"{"a":1,"b":2}"#,
            Some(r#"{"b":2.0,"a":1}"#)
        ));
        assert!(raw_field_equal(
            ada,
            "scopes",
            r#"["b","a"]"#,
            Some(r#"["a","b","a"]"#)
        ));
        assert!(!raw_field_equal(
            ada,
            "tags2",
            r#"["b","a"]"#,
            Some(r#"["a","b"]"#)
        ));
        assert!(raw_field_equal(ada, "icon_url", "null", None));
        assert!(!raw_field_equal(ada, "icon_url", r#""x""#, None));
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
