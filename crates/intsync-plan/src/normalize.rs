//! Normalization: the form in which desired and observed values are compared and hashed
//! (design §7). Two values that normalize equal never make a diff.

use intsync_manifest::Kind;
use serde_json::{Map, Number, Value};

use crate::decimal::Decimal;

/// Fields compared as sets: order and repetition do not matter.
pub fn is_set_field(kind: Kind, field: &str) -> bool {
    kind.profile().is_set_valued(field)
}

/// A number in its canonical spelling ([`Decimal`]'s): one text per value.
fn number(n: &Number) -> Value {
    match Decimal::parse(n.as_str()) {
        // The canonical text is a JSON number, and serde_json keeps it as written.
        Some(exact) => exact
            .to_string()
            .parse()
            .map_or_else(|_| Value::Number(n.clone()), Value::Number),
        None => Value::Number(n.clone()),
    }
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

/// Two numbers by their exact values, never through `f64` (which makes `2^53 + 1` equal `2^53`
/// and cannot hold `1e999999` at all).
fn numbers_equal(a: &Number, b: &Number) -> bool {
    let (a, b) = (a.as_str(), b.as_str());
    a == b
        || match (Decimal::parse(a), Decimal::parse(b)) {
            (Some(x), Some(y)) => x == y,
            // Not a JSON number's text (serde_json never makes one): only equal text is equal.
            _ => false,
        }
}

/// Equality after normalization, without building normalized copies: objects compare as maps
/// (key order ignored), numbers by exact value (`1 == 1.0`).
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
        Value::Number(n) => match Decimal::parse(n.as_str()) {
            Some(exact) => write!(out, "{exact}"),
            None => out.write_all(n.as_str().as_bytes()),
        },
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

/// What [`read_compact_item`] reuses from one item to the next (the items of a page), so that
/// reading them allocates little once warm.
#[derive(Default)]
pub struct ItemScratch {
    canon: crate::compact::Scratch,
    /// The canonical text of the item's fields, in the item's order.
    written: Vec<u8>,
    /// The fields found.
    found: Vec<Found>,
    /// A set-valued field's elements, each in canonical form, and where each was written.
    elements: Vec<u8>,
    ranges: Vec<(usize, usize)>,
}

/// A field [`read_compact_item`] found: which of the kind's fields, the range of its value's
/// text, and the range of its canonical text in [`ItemScratch::written`].
type Found = (usize, (usize, usize), (usize, usize));

/// A live integration read from its text by [`read_compact_item`].
pub struct CompactItem<'t> {
    /// Every key of the item, with the range of its value in the text, in order.
    pub entries: crate::compact::Entries<'t>,
    /// The kind's fields the item has, in the kind's order, as their text.
    pub fields: intsync_manifest::Fields,
    /// The canonical text of those fields: what [`write_fields`] writes for them.
    pub canonical: Vec<u8>,
}

/// Reads the item (an object as serde_json writes it) that starts at `at` in `text`, each byte
/// once: its entries, its fields' text, and their canonical text, written while the item is
/// walked (issue #24: a page's items were scanned for their entries, then each field again for
/// its canonical form). Returns where the item ends; `None` when it is not as serde_json
/// writes it (the caller then reads it as a value).
pub fn read_compact_item<'t>(
    kind: Kind,
    text: &'t str,
    at: usize,
    scratch: &mut ItemScratch,
) -> Option<(CompactItem<'t>, usize)> {
    use crate::compact;
    let bytes = text.as_bytes();
    let defs = kind.fields();
    scratch.written.clear();
    scratch.found.clear();
    let mut entries = Vec::with_capacity(24);
    let end = compact::walk_object(bytes, at, |key, start| {
        let end = match defs
            .iter()
            .position(|f| f.name.len() == key.len() && f.name == key)
        {
            Some(index) => {
                let from = scratch.written.len();
                let end = if is_set_field(kind, key) {
                    write_set(bytes, start, scratch)?
                } else {
                    compact::write_canonical_at(
                        bytes,
                        start,
                        &mut scratch.written,
                        &mut scratch.canon,
                    )?
                };
                scratch
                    .found
                    .push((index, (start, end), (from, scratch.written.len())));
                end
            }
            None => compact::value_end(bytes, start)?,
        };
        entries.push((key, (start, end)));
        Some(end)
    })?;
    scratch.found.sort_unstable_by_key(|&(index, _, _)| index);
    let pairs: Vec<(&str, &str)> = scratch
        .found
        .iter()
        .map(|&(index, (from, to), _)| (defs[index].name, &text[from..to]))
        .collect();
    let fields = intsync_manifest::Fields::from_compact(&pairs);
    // Written in the order of the fields' names.
    scratch
        .found
        .sort_unstable_by(|a, b| defs[a.0].name.cmp(defs[b.0].name));
    let mut canonical = Vec::with_capacity(scratch.written.len() + 24 * scratch.found.len());
    canonical.push(b'{');
    for (n, &(index, _, (from, to))) in scratch.found.iter().enumerate() {
        if n > 0 {
            canonical.push(b',');
        }
        let name = defs[index].name;
        if name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            // A field name needs no escape: written as it is.
            canonical.push(b'"');
            canonical.extend_from_slice(name.as_bytes());
            canonical.push(b'"');
        } else {
            serde_json::to_writer(&mut canonical, name).ok()?;
        }
        canonical.push(b':');
        canonical.extend_from_slice(&scratch.written[from..to]);
    }
    canonical.push(b'}');
    Some((
        CompactItem {
            entries,
            fields,
            canonical,
        },
        end,
    ))
}

/// The canonical text of a set-valued field's value at `at` ([`field`]'s: an array's elements
/// in canonical form, sorted by that text, each once), written to `scratch.written`; returns
/// where the value ends.
fn write_set(text: &[u8], at: usize, scratch: &mut ItemScratch) -> Option<usize> {
    use crate::compact;
    if text.get(at) != Some(&b'[') {
        // Not an array: the value as it is.
        return compact::write_canonical_at(text, at, &mut scratch.written, &mut scratch.canon);
    }
    scratch.elements.clear();
    scratch.ranges.clear();
    let mut i = at + 1;
    let end = if text.get(i) == Some(&b']') {
        i + 1
    } else {
        loop {
            let from = scratch.elements.len();
            i = compact::write_canonical_at(text, i, &mut scratch.elements, &mut scratch.canon)?;
            scratch.ranges.push((from, scratch.elements.len()));
            match text.get(i)? {
                b',' => i += 1,
                b']' => break i + 1,
                _ => return None,
            }
        }
    };
    let elements = &scratch.elements;
    scratch
        .ranges
        .sort_by(|a, b| elements[a.0..a.1].cmp(&elements[b.0..b.1]));
    scratch
        .ranges
        .dedup_by(|a, b| elements[a.0..a.1] == elements[b.0..b.1]);
    scratch.written.push(b'[');
    for (n, &(from, to)) in scratch.ranges.iter().enumerate() {
        if n > 0 {
            scratch.written.push(b',');
        }
        scratch.written.extend_from_slice(&elements[from..to]);
    }
    scratch.written.push(b']');
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::compact::tests::json_value;

    proptest::proptest! {
        /// Issue #24: an item read from its text in one pass has the fields, and the canonical
        /// text, that reading it as a value gives: sets (`tags`, `scopes`: sorted, each once)
        /// and unknown keys included, for either kind.
        #[test]
        fn an_item_read_once_from_its_text_is_the_item_read_as_a_value(
            values in proptest::collection::vec(json_value(), 6),
            truto in proptest::bool::ANY,
        ) {
            let kind = if truto { Kind::TrutoIntegration } else { Kind::AdaPlatformIntegration };
            let names: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
            let set: Vec<&str> = names.iter().copied().filter(|n| is_set_field(kind, n)).collect();
            // Unknown keys, sets, and other fields, in an order that is not the kind's.
            let mut item = Map::new();
            item.insert("zz_unknown".to_owned(), values[0].clone());
            for (n, name) in set.iter().enumerate() {
                item.insert((*name).to_owned(), values[1 + n % 2].clone());
            }
            for (n, name) in names.iter().rev().take(3).enumerate() {
                item.insert((*name).to_owned(), values[3 + n].clone());
            }
            item.insert("id".to_owned(), json!("x"));
            let text = serde_json::to_string(&Value::Object(item.clone())).unwrap();
            let (read, end) =
                read_compact_item(kind, &text, 0, &mut ItemScratch::default()).unwrap();
            proptest::prop_assert_eq!(end, text.len());
            let fields: Map<String, Value> = kind
                .fields()
                .iter()
                .filter_map(|f| item.get(f.name).map(|v| (f.name.to_owned(), v.clone())))
                .collect();
            let as_value = intsync_manifest::Fields::from_map(&fields);
            proptest::prop_assert_eq!(read.fields.as_json(), as_value.as_json());
            let mut theirs = Vec::new();
            write_fields(kind, &fields, &mut theirs).unwrap();
            proptest::prop_assert_eq!(
                String::from_utf8(read.canonical).unwrap(),
                String::from_utf8(theirs).unwrap()
            );
            proptest::prop_assert_eq!(read.entries.len(), item.len());
        }
    }

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

    /// A number made from its parts, so its value is known without reading any text: it is
    /// `±mantissa × 10^exponent`.
    #[derive(Debug, Clone)]
    struct Parts {
        negative: bool,
        mantissa: String,
        exponent: i64,
    }

    /// How a number is written: `zeros` zeros appended to the mantissa, then the point moved
    /// `point` digits to the left (zeros added in front when it runs out), and the exponent
    /// spelled in one of four ways.
    #[derive(Debug, Clone)]
    struct Spelling {
        zeros: usize,
        point: usize,
        exponent_style: u8,
    }

    /// Numbers over the whole range: small and `u64` integers, integers past `u64` and past
    /// f64's 53 bits, exponents up to ±999999 and the f64 edges.
    fn parts() -> impl proptest::strategy::Strategy<Value = Parts> {
        use proptest::prelude::*;
        let mantissa = prop_oneof![
            3 => (0u64..4).prop_map(|n| n.to_string()),
            2 => any::<u64>().prop_map(|n| n.to_string()),
            2 => "[1-9][0-9]{15,40}",
            1 => proptest::sample::select(vec![
                "9007199254740993".to_owned(),
                "9007199254740992".to_owned(),
                "18446744073709551616".to_owned(),
                "10000000000000001".to_owned(),
                "1".to_owned(),
            ]),
        ];
        let exponent = prop_oneof![
            4 => Just(0i64),
            3 => -20i64..20,
            2 => -999_999i64..=999_999,
            1 => proptest::sample::select(vec![-999_999i64, 999_999, 299, 300, 301, -324, -325, 308, 309]),
        ];
        (any::<bool>(), mantissa, exponent).prop_map(|(negative, mantissa, exponent)| Parts {
            negative,
            mantissa,
            exponent,
        })
    }

    fn spelling() -> impl proptest::strategy::Strategy<Value = Spelling> {
        use proptest::prelude::*;
        (0usize..4, 0usize..45, any::<u8>()).prop_map(|(zeros, point, exponent_style)| Spelling {
            zeros,
            point,
            exponent_style,
        })
    }

    /// The JSON text of `parts` written as `spelling` says.
    fn spell(parts: &Parts, spelling: &Spelling) -> String {
        let mut digits = format!("{}{}", parts.mantissa, "0".repeat(spelling.zeros));
        let point = spelling.point;
        if point > digits.len() {
            digits = format!("{}{digits}", "0".repeat(point - digits.len()));
        }
        let exponent = parts.exponent - spelling.zeros as i64 + point as i64;
        let (whole, fraction) = digits.split_at(digits.len() - point);
        let whole = match whole.trim_start_matches('0') {
            "" => "0",
            whole => whole,
        };
        let mut text = String::new();
        if parts.negative {
            text.push('-');
        }
        text.push_str(whole);
        if !fraction.is_empty() {
            text.push('.');
            text.push_str(fraction);
        }
        match (exponent, spelling.exponent_style % 4) {
            (0, 0) => {}
            (e, 0 | 1) => text.push_str(&format!("e{e}")),
            (e, 2) => text.push_str(&format!("E{}{}", if e < 0 { "-" } else { "+" }, e.abs())),
            (e, _) => text.push_str(&format!("e{}{:0>7}", if e < 0 { "-" } else { "" }, e.abs())),
        }
        text
    }

    /// The oracle: the value's normal form worked out on the parts, not on any text. Sign,
    /// digits without leading or trailing zeros, and the power of ten of the *last* digit (the
    /// code under test reads the first one's).
    fn value_of(parts: &Parts) -> (bool, String, i64) {
        let digits = parts.mantissa.trim_start_matches('0');
        let trimmed = digits.trim_end_matches('0');
        if trimmed.is_empty() {
            return (false, String::new(), 0);
        }
        let exponent = parts.exponent + (digits.len() - trimmed.len()) as i64;
        (parts.negative, trimmed.to_owned(), exponent)
    }

    /// The parts a canonical text stands for, read by the plainest means (no shared code).
    fn parts_of(text: &str) -> Parts {
        let (negative, text) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (mantissa, exponent) = match text.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap()),
            None => (text, 0),
        };
        let fraction = mantissa.split_once('.').map_or(0, |(_, f)| f.len());
        Parts {
            negative,
            mantissa: mantissa.replace('.', ""),
            exponent: exponent - fraction as i64,
        }
    }

    /// `parts` with another value: its mantissa's last digit moved by one, or its exponent.
    fn other_value(parts: &Parts, how: u8) -> Parts {
        let mut other = parts.clone();
        if value_of(parts).1.is_empty() {
            other.mantissa = "7".to_owned();
        } else if how.is_multiple_of(2) {
            other.exponent += 1;
        } else {
            let mut digits = other.mantissa.into_bytes();
            let last = digits.len() - 1;
            digits[last] = if digits[last] == b'9' {
                b'8'
            } else {
                digits[last] + 1
            };
            other.mantissa = String::from_utf8(digits).unwrap();
        }
        other
    }

    fn number_value(text: &str) -> Value {
        Value::Number(
            serde_json::from_str::<Number>(text)
                .unwrap_or_else(|e| panic!("{text} is a JSON number: {e}")),
        )
    }

    fn canonical_text(value: &Value) -> String {
        let mut out = Vec::new();
        write_canonical(value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// A JSON document made of known parts, so two of its renderings are known to be equal or
    /// not without comparing them.
    #[derive(Debug, Clone)]
    enum Doc {
        Null,
        Bool(bool),
        Text(String),
        Number(Parts),
        List(Vec<Doc>),
        Object(Vec<(String, Doc)>),
    }

    fn doc() -> impl proptest::strategy::Strategy<Value = Doc> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            1 => Just(Doc::Null),
            1 => any::<bool>().prop_map(Doc::Bool),
            1 => "[ab\"é]{0,2}".prop_map(Doc::Text),
            4 => parts().prop_map(Doc::Number),
        ];
        leaf.prop_recursive(3, 16, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Doc::List),
                proptest::collection::btree_map("[xyz]", inner, 0..4)
                    .prop_map(|pairs| Doc::Object(pairs.into_iter().collect())),
            ]
        })
    }

    /// The JSON text of `doc`: each number spelled by the next of `spellings`, and each
    /// object's keys rotated by `seed`.
    fn render(doc: &Doc, spellings: &[Spelling], next: &mut usize, seed: usize) -> String {
        match doc {
            Doc::Null => "null".to_owned(),
            Doc::Bool(b) => b.to_string(),
            Doc::Text(t) => Value::String(t.clone()).to_string(),
            Doc::Number(parts) => {
                *next += 1;
                spell(parts, &spellings[*next % spellings.len()])
            }
            Doc::List(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(|i| render(i, spellings, next, seed))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Doc::Object(pairs) => {
                let mut rendered: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}:{}",
                            Value::String(k.clone()),
                            render(v, spellings, next, seed)
                        )
                    })
                    .collect();
                if !rendered.is_empty() {
                    let by = seed % rendered.len();
                    rendered.rotate_left(by);
                }
                format!("{{{}}}", rendered.join(","))
            }
        }
    }

    /// `doc` with its first number given another value; `None` when it has no number.
    fn with_other_number(doc: &Doc, how: u8) -> Option<Doc> {
        match doc {
            Doc::Number(parts) => Some(Doc::Number(other_value(parts, how))),
            Doc::List(items) => items.iter().enumerate().find_map(|(i, item)| {
                let changed = with_other_number(item, how)?;
                let mut items = items.clone();
                items[i] = changed;
                Some(Doc::List(items))
            }),
            Doc::Object(pairs) => pairs.iter().enumerate().find_map(|(i, (k, v))| {
                let changed = with_other_number(v, how)?;
                let mut pairs = pairs.clone();
                pairs[i] = (k.clone(), changed);
                Some(Doc::Object(pairs))
            }),
            _ => None,
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Numbers compare, and are written canonically, by their exact values: checked
        /// against values known from the parts the texts were made of. Equal values spelled
        /// differently (`1`, `1.0`, `10e-1`, `0.1e1`), values f64 cannot tell apart
        /// (`2^53 + 1`), and values past f64 (`1e999999`) or i64.
        #[test]
        fn numbers_compare_by_exact_value(
            a in parts(),
            other in parts(),
            choice in 0u8..4,
            sa in spelling(),
            sb in spelling(),
        ) {
            let b = match choice {
                0 | 1 => a.clone(),
                2 => other_value(&a, sb.exponent_style),
                _ => other,
            };
            let (ta, tb) = (spell(&a, &sa), spell(&b, &sb));
            let (va, vb) = (number_value(&ta), number_value(&tb));
            let same = value_of(&a) == value_of(&b);
            proptest::prop_assert_eq!(equal(&va, &vb), same, "{} vs {}", ta, tb);
            proptest::prop_assert_eq!(equal(&vb, &va), same, "{} vs {}", tb, ta);
            let (ca, cb) = (canonical_text(&va), canonical_text(&vb));
            proptest::prop_assert_eq!(ca == cb, same, "{} ({}) vs {} ({})", ta, ca, tb, cb);
            // The canonical text stands for the value itself, and `canonical` agrees with it.
            proptest::prop_assert_eq!(value_of(&parts_of(&ca)), value_of(&a), "{} wrote {}", ta, ca);
            proptest::prop_assert_eq!(canonical(&va).to_string(), ca);
        }

        /// Whole documents: the same values spelled and ordered differently are equal for
        /// `equal`, for both field comparisons (plain and set fields) and for the fingerprint
        /// text; one number changed makes them differ for all of them.
        #[test]
        fn documents_compare_by_their_values(
            base in doc(),
            spellings_a in proptest::collection::vec(spelling(), 1..6),
            spellings_b in proptest::collection::vec(spelling(), 1..6),
            seed in 0usize..7,
            change in proptest::bool::ANY,
            how in 0u8..2,
            field in proptest::sample::select(vec!["description", "scopes", "configuration_fields"]),
        ) {
            let ada = Kind::AdaPlatformIntegration;
            let (other, same) = match with_other_number(&base, how) {
                Some(changed) if change => (changed, false),
                _ => (base.clone(), true),
            };
            let ta = render(&base, &spellings_a, &mut 0, 0);
            let tb = render(&other, &spellings_b, &mut 0, seed);
            let a: Value = serde_json::from_str(&ta).unwrap();
            let b: Value = serde_json::from_str(&tb).unwrap();
            proptest::prop_assert_eq!(equal(&a, &b), same, "{} vs {}", ta, tb);
            proptest::prop_assert_eq!(equal(&b, &a), same, "{} vs {}", tb, ta);
            proptest::prop_assert_eq!(canonical_text(&a) == canonical_text(&b), same, "{} vs {}", ta, tb);
            proptest::prop_assert_eq!(field_equal(ada, field, &a, Some(&b)), same, "{}: {} vs {}", field, ta, tb);
            proptest::prop_assert_eq!(raw_field_equal(ada, field, &a.to_string(), Some(&b.to_string())), same, "{}: {} vs {}", field, ta, tb);
            proptest::prop_assert_eq!(raw_field_equal(ada, field, &ta, None), a.is_null());
        }
    }

    /// The fingerprint text of plain integers and ordinary floats is the one the previous
    /// release wrote (it read numbers as u64, i64 or f64): plans saved by it still apply. The
    /// expected text was written by that release's `write_canonical` (commit b31450b).
    #[test]
    fn ordinary_numbers_keep_the_previous_canonical_text() {
        let live: Value = serde_json::from_str(
            r#"{"b":[1.0,2.5,0.1,-0.0,42,-7,1e2,18446744073709551615,-9223372036854775808,123.456,0.0001,0.00001,0.000001,1.5e-7,1e300,1.5E300,1e20,5e-324,2.50,123456789012345.5,0.000012345,9007199254740993],"a":{"y":3,"x":"s"}}"#,
        )
        .unwrap();
        assert_eq!(
            canonical_text(&live),
            r#"{"a":{"x":"s","y":3},"b":[1,2.5,0.1,0,42,-7,100,18446744073709551615,-9223372036854775808,123.456,0.0001,0.00001,1e-6,1.5e-7,1e+300,1.5e+300,1e+20,5e-324,2.5,123456789012345.5,0.000012345,9007199254740993]}"#
        );
    }

    /// The cases of issue #21, one by one.
    #[test]
    fn numbers_of_issue_21() {
        let n = number_value;
        let ada = Kind::AdaPlatformIntegration;
        for (a, b) in [
            ("1", "1.0"),
            ("1", "1e0"),
            ("1", "10e-1"),
            ("1.00", "1"),
            ("-0", "0"),
            ("1e999999", "10e999998"),
        ] {
            assert!(equal(&n(a), &n(b)), "{a} = {b}");
            assert_eq!(canonical_text(&n(a)), canonical_text(&n(b)), "{a} = {b}");
            assert!(
                raw_field_equal(ada, "configuration_fields", a, Some(b)),
                "{a} = {b}"
            );
        }
        for (a, b) in [
            ("9007199254740993", "9007199254740992"),
            ("9007199254740993", "9007199254740992.0"),
            ("1e300", "1e301"),
            ("0.1", "0.10000000000000001"),
        ] {
            assert!(!equal(&n(a), &n(b)), "{a} != {b}");
            assert_ne!(canonical_text(&n(a)), canonical_text(&n(b)), "{a} != {b}");
            assert!(
                !raw_field_equal(ada, "configuration_fields", a, Some(b)),
                "{a} != {b}"
            );
        }
        let live: Value = serde_json::from_str("[2e0, 10e-1]").unwrap();
        assert!(field_equal(ada, "scopes", &json!([1, 1.0, 2]), Some(&live)));
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
