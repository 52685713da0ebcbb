//! [`Fields`]: the fields of one integration, held as compact JSON text.
//!
//! A plan of 10,000 integrations holds every desired and every live field at once. As
//! `serde_json` values (an ordered map per object, a string per key, an enum per node) they take
//! about seven times their JSON text; held as the text itself, with the byte range of each
//! top-level value, they take little more than it (issue #16). The planner compares two fields by
//! their text first — equal text is an equal value — and parses a value only where the texts
//! differ, or where a value is needed whole (a PATCH body, the plan's `live` values, a
//! fingerprint).

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

/// The top-level fields of an object, in order, as serde_json's compact JSON text: `{"name":"x",
/// "tags":["a"]}`. Each value can be read on its own ([`Fields::raw`], [`Fields::get`]); the
/// `name` is kept decoded, as identity matching reads it for every integration.
#[derive(Clone)]
pub struct Fields {
    text: Box<str>,
    entries: Box<[Entry]>,
    name: Option<Box<str>>,
}

/// Byte ranges in [`Fields::text`]: the key between its quotes (JSON-escaped), and the value.
#[derive(Clone, Copy)]
struct Entry {
    key: (u32, u32),
    value: (u32, u32),
}

impl Fields {
    /// The fields of `pairs`, in their order. A key given twice keeps its first place and its
    /// last value, as a JSON object (and [`Map`]) does.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a Value)>) -> Fields {
        let mut order: Vec<(&str, &Value)> = Vec::new();
        for (key, value) in pairs {
            match order.iter_mut().find(|(k, _)| *k == key) {
                Some(pair) => pair.1 = value,
                None => order.push((key, value)),
            }
        }
        Fields::from_unique(order.into_iter())
    }

    /// The fields of `map`, in its order.
    pub fn from_map(map: &Map<String, Value>) -> Fields {
        // A map's keys are unique already.
        Fields::from_unique(map.iter().map(|(k, v)| (k.as_str(), v)))
    }

    fn from_unique<'a>(order: impl ExactSizeIterator<Item = (&'a str, &'a Value)>) -> Fields {
        let mut text: Vec<u8> = Vec::with_capacity(256);
        let mut entries = Vec::with_capacity(order.len());
        let mut name = None;
        text.push(b'{');
        for (i, (key, value)) in order.into_iter().enumerate() {
            if i > 0 {
                text.push(b',');
            }
            let key_start = text.len();
            // Writing JSON into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut text, key);
            let key_end = text.len();
            text.push(b':');
            let value_start = text.len();
            let _ = serde_json::to_writer(&mut text, value);
            entries.push(Entry {
                key: (offset(key_start + 1), offset(key_end - 1)),
                value: (offset(value_start), offset(text.len())),
            });
            if key == "name" {
                name = value.as_str().map(Box::from);
            }
        }
        text.push(b'}');
        Fields {
            // serde_json writes UTF-8.
            text: String::from_utf8(text).unwrap_or_default().into_boxed_str(),
            entries: entries.into_boxed_slice(),
            name,
        }
    }

    /// The fields of `pairs` (keys unique, in their order), each value given as the text
    /// serde_json writes for it (the caller checked: `intsync_plan::compact`), so nothing is
    /// parsed or written again: a live integration's fields taken from its page (issue #24).
    pub fn from_compact(pairs: &[(&str, &str)]) -> Fields {
        let mut text = String::with_capacity(
            2 + pairs
                .iter()
                .map(|(k, v)| k.len() + v.len() + 4)
                .sum::<usize>(),
        );
        let mut entries = Vec::with_capacity(pairs.len());
        let mut name = None;
        text.push('{');
        for (i, (key, value)) in pairs.iter().enumerate() {
            if i > 0 {
                text.push(',');
            }
            let key_start = text.len();
            if key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                // A field name needs no escape: written as it is.
                text.push('"');
                text.push_str(key);
                text.push('"');
            } else {
                // Writing JSON into a String cannot fail.
                text.push_str(&serde_json::to_string(key).unwrap_or_default());
            }
            let key_end = text.len();
            text.push(':');
            let value_start = text.len();
            text.push_str(value);
            entries.push(Entry {
                key: (offset(key_start + 1), offset(key_end - 1)),
                value: (offset(value_start), offset(text.len())),
            });
            if *key == "name" {
                name = serde_json::from_str::<String>(value).ok().map(Box::from);
            }
        }
        text.push('}');
        Fields {
            text: text.into_boxed_str(),
            entries: entries.into_boxed_slice(),
            name,
        }
    }

    /// The whole object as JSON text.
    pub fn as_json(&self) -> &str {
        &self.text
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The `name` field, when it is a string.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    fn slice(&self, (start, end): (u32, u32)) -> &str {
        &self.text[start as usize..end as usize]
    }

    fn key_of(&self, entry: &Entry) -> Cow<'_, str> {
        let raw = self.slice(entry.key);
        if raw.contains('\\') {
            let quoted = &self.text[entry.key.0 as usize - 1..entry.key.1 as usize + 1];
            Cow::Owned(serde_json::from_str(quoted).unwrap_or_default())
        } else {
            Cow::Borrowed(raw)
        }
    }

    /// The entry of `key`, found by comparing lengths first: a key's JSON text is as long as
    /// the key when it has no escape and longer when it has one, so only an entry of the same
    /// length can match without unescaping (the planner looks fields up by name for every
    /// integration: issue #24).
    fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| self.is(e, key))
    }

    /// Whether `entry`'s key is `key`.
    fn is(&self, entry: &Entry, key: &str) -> bool {
        let raw = self.slice(entry.key);
        match raw.len().cmp(&key.len()) {
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => raw == key && !raw.contains('\\'),
            std::cmp::Ordering::Greater => raw.contains('\\') && self.key_of(entry) == key,
        }
    }

    /// The JSON text of the value of `key`.
    pub fn raw(&self, key: &str) -> Option<&str> {
        self.entry(key).map(|e| self.slice(e.value))
    }

    /// [`Fields::raw`], looking at entry `near` first and on from there (wrapping around), and
    /// with the entry after the one found as the next place to look: keys asked for in about
    /// the order they are held are found at once (the planner compares every field of 10,000
    /// integrations: issue #24).
    pub fn raw_near(&self, key: &str, near: &mut usize) -> Option<&str> {
        let len = self.entries.len();
        let start = (*near).min(len);
        let found = (start..len)
            .chain(0..start)
            .find(|&i| self.is(&self.entries[i], key))?;
        *near = found + 1;
        Some(self.slice(self.entries[found].value))
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.raw(key).map(Fields::read)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = Cow<'_, str>> {
        self.entries.iter().map(|e| self.key_of(e))
    }

    /// Each key with the JSON text of its value, in order.
    pub fn iter_raw(&self) -> impl Iterator<Item = (Cow<'_, str>, &str)> {
        self.entries
            .iter()
            .map(|e| (self.key_of(e), self.slice(e.value)))
    }

    /// Each key with its value, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Cow<'_, str>, Value)> {
        self.iter_raw().map(|(k, raw)| (k, Fields::read(raw)))
    }

    /// The value of a text [`Fields::raw`] gave. The text was written by serde_json from a
    /// [`Value`]: it reads back as exactly that value.
    pub fn read(raw: &str) -> Value {
        serde_json::from_str(raw).unwrap_or(Value::Null)
    }

    /// The fields as a JSON map, in order.
    pub fn to_map(&self) -> Map<String, Value> {
        match Fields::read(&self.text) {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }
}

fn offset(n: usize) -> u32 {
    u32::try_from(n).expect("the fields of one integration are far below 4 GiB")
}

/// No fields: `{}`.
impl Default for Fields {
    fn default() -> Fields {
        Fields::from_pairs([])
    }
}

impl From<Map<String, Value>> for Fields {
    fn from(map: Map<String, Value>) -> Fields {
        Fields::from_map(&map)
    }
}

impl From<&Map<String, Value>> for Fields {
    fn from(map: &Map<String, Value>) -> Fields {
        Fields::from_map(map)
    }
}

/// Equal when they hold the same fields with equal values, in any order (as [`Map`]s are).
impl PartialEq for Fields {
    fn eq(&self, other: &Fields) -> bool {
        self.text == other.text || self.to_map() == other.to_map()
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl serde::Serialize for Fields {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_map().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn reads_back_what_it_holds_in_order() {
        let source = map(json!({
            "name": "Cool \"Shop\"",
            "tags": ["b", "a"],
            "form": {"z": 1, "a": [1.5, null, true], "é": "ü\n"},
            "big": 18_446_744_073_709_551_615_u64,
            "neg": -3,
        }));
        let fields = Fields::from_map(&source);
        assert_eq!(fields.to_map(), source);
        assert_eq!(
            serde_json::to_string(&fields.to_map()).unwrap(),
            serde_json::to_string(&source).unwrap(),
            "key order kept"
        );
        assert_eq!(fields.as_json(), serde_json::to_string(&source).unwrap());
        assert_eq!(fields.len(), 5);
        assert_eq!(fields.name(), Some("Cool \"Shop\""));
        assert_eq!(fields.raw("tags"), Some(r#"["b","a"]"#));
        assert_eq!(fields.get("form"), Some(source["form"].clone()));
        assert_eq!(fields.get("missing"), None);
        assert!(fields.contains_key("neg") && !fields.contains_key("ne"));
        let keys: Vec<_> = fields.keys().collect();
        assert_eq!(keys, ["name", "tags", "form", "big", "neg"]);
        let pairs: Map<String, Value> = fields.iter().map(|(k, v)| (k.into_owned(), v)).collect();
        assert_eq!(pairs, source);
    }

    #[test]
    fn escaped_keys_are_found_by_their_text() {
        let source = map(json!({"a\"b": 1, "tab\t": [2], "plain": "x"}));
        let fields = Fields::from_map(&source);
        assert_eq!(fields.get("a\"b"), Some(json!(1)));
        assert_eq!(fields.get("tab\t"), Some(json!([2])));
        assert_eq!(
            fields.keys().collect::<Vec<_>>(),
            ["a\"b", "tab\t", "plain"]
        );
        assert_eq!(fields.to_map(), source);
        // A key whose text has a backslash: `a\\b` is the text of `a\b`, not the key `a\\b`
        // (same length as that text); `a\b` (shorter) is found by unescaping.
        let source = map(json!({"a\\b": 1, "ab": 2}));
        let fields = Fields::from_map(&source);
        assert_eq!(fields.get("a\\b"), Some(json!(1)));
        assert_eq!(fields.get("a\\\\b"), None);
        assert_eq!(fields.get("ab"), Some(json!(2)));
        assert_eq!(fields.get("a"), None);
        // Looked up from any place, in any order.
        for start in 0..4 {
            let mut near = start;
            assert_eq!(fields.raw_near("ab", &mut near), Some("2"));
            assert_eq!(near, 2);
            assert_eq!(fields.raw_near("a\\b", &mut near), Some("1"));
            assert_eq!(near, 1);
            assert_eq!(fields.raw_near("zz", &mut near), None);
            assert_eq!(near, 1);
        }
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        let (one, two, three) = (json!(1), json!(2), json!(3));
        let fields = Fields::from_pairs([("a", &one), ("b", &two), ("a", &three)]);
        assert_eq!(fields.as_json(), r#"{"a":3,"b":2}"#);
        let mut map = Map::new();
        map.insert("a".into(), one);
        map.insert("b".into(), two);
        map.insert("a".into(), three);
        assert_eq!(fields.to_map(), map);
    }

    #[test]
    fn equality_ignores_order_but_not_values() {
        let a = Fields::from_map(&map(json!({"x": 1, "y": [1, 2]})));
        let b = Fields::from_map(&map(json!({"y": [1, 2], "x": 1})));
        let c = Fields::from_map(&map(json!({"x": 1, "y": [2, 1]})));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(Fields::default().to_map(), Map::new());
        assert!(Fields::default().is_empty());
        assert_eq!(Fields::default().as_json(), "{}");
        assert_eq!(Fields::from_map(&Map::new()).as_json(), "{}");
    }

    #[test]
    fn a_name_that_is_not_a_string_is_no_name() {
        assert_eq!(Fields::from_map(&map(json!({"name": 3}))).name(), None);
        assert_eq!(Fields::from_map(&map(json!({"other": "x"}))).name(), None);
    }
}
