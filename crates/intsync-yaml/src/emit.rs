//! Writing YAML: block-style YAML that a person would write, with strings quoted only where
//! YAML would read them as something else (this crate's reader, or another one: YAML 1.1
//! booleans, numbers of any range, dates). The editor ([`crate::set_values`]) writes its new
//! values with the same functions.
//!
//! Every function here takes JSON (`serde_json::Value`) and writes text that
//! [`crate::parse_documents`] reads back as that JSON.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// Whether `text` can be written as a plain (unquoted) YAML scalar and read back as this string.
fn plain_ok(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if text != text.trim() || text.chars().any(|c| c.is_control() || must_escape(c)) {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if text.contains(": ") || text.contains(" #") || text.ends_with(':') {
        return false;
    }
    // YAML 1.1 words other tools read as booleans stay quoted, for their sake.
    let lower = text.to_ascii_lowercase();
    if matches!(lower.as_str(), "yes" | "no" | "on" | "off" | "y" | "n") {
        return false;
    }
    // Numbers our reader keeps as text (out of range, `.inf`, YAML 1.1 spellings) and dates
    // stay quoted too: other tools read them as numbers or timestamps.
    if other_tools_read_as_non_string(text) {
        return false;
    }
    // Anything the reader would resolve to null, a boolean or a number, or refuse, stays quoted.
    crate::tree::core(text, &crate::Limits::DEFAULT) == crate::tree::Core::Str
}

/// Whether some YAML reader (1.2 core schema at any range, or 1.1: `_` separators, `0b`,
/// sexagesimal, timestamps, `.inf`/`.nan`) would take this plain scalar for a number or a date.
/// A 24-hex-digit id such as `612058e17007245546136923` is a float to every reader but ours.
fn other_tools_read_as_non_string(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let lower = unsigned.to_ascii_lowercase();
    if matches!(lower.as_str(), ".inf" | ".nan") {
        return true;
    }
    let Some(first) = unsigned.bytes().next() else {
        return false;
    };
    if !(first.is_ascii_digit() || first == b'.') {
        return false;
    }
    let digits =
        |s: &str, ok: fn(u8) -> bool| !s.is_empty() && s.bytes().all(|b| ok(b) || b == b'_');
    if let Some(rest) = lower.strip_prefix("0x") {
        return digits(rest, |b| b.is_ascii_hexdigit());
    }
    if let Some(rest) = lower
        .strip_prefix("0o")
        .or_else(|| lower.strip_prefix("0b"))
    {
        return digits(rest, |b| b.is_ascii_digit());
    }
    // Sexagesimal (`1:20`, `190:20:30.15`) and dates (`2026-11-30`, with or without a time).
    if unsigned.contains(':')
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b':' || b == b'.' || b == b'_')
    {
        return true;
    }
    let mut date = unsigned.splitn(3, '-');
    let part = |p: Option<&str>, len: std::ops::RangeInclusive<usize>| {
        p.is_some_and(|p| len.contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if part(date.next(), 4..=4) && part(date.next(), 1..=2) {
        let day: String = date
            .next()
            .unwrap_or("")
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if (1..=2).contains(&day.len()) {
            return true;
        }
    }
    // Decimal integers and floats at any range, with YAML 1.1's `_` separators.
    let digits: String = unsigned.chars().filter(|&c| c != '_').collect();
    crate::tree::is_float(&digits)
}

/// Characters a YAML file may not hold as they are (YAML 1.2 §5.1: outside the printable set —
/// C0 controls, DEL, C1 controls, U+FFFE, U+FFFF — and the byte order mark, allowed only at
/// the start of a stream), and the line separators U+2028/U+2029 that YAML 1.1 tools read as
/// line breaks. Written escaped, in double quotes.
fn must_escape(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{2028}' | '\u{2029}')
}

/// A string as a YAML scalar in block context (a mapping value after `key: `, a sequence item
/// after `- `, or a key): plain when that reads back as the same string, double-quoted with
/// escapes otherwise.
pub fn scalar(text: &str) -> String {
    if plain_ok(text) {
        return text.to_owned();
    }
    double_quoted(text)
}

/// A string as a YAML scalar inside a flow collection (`[a, b]`, `{k: v}`): as [`scalar`], but
/// text holding a flow indicator (`,[]{}`) is quoted too.
pub fn flow_scalar(text: &str) -> String {
    if plain_ok(text) && !text.contains([',', '[', ']', '{', '}']) {
        return text.to_owned();
    }
    double_quoted(text)
}

/// A double-quoted scalar: one line, whatever the text holds.
fn double_quoted(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if must_escape(c) && u32::from(c) <= 0xff => {
                let _ = write!(quoted, "\\x{:02X}", u32::from(c));
            }
            c if must_escape(c) => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A scalar, `[]` or `{}` on one line (block context); `None` for a non-empty collection.
pub fn inline(value: &Value) -> Option<String> {
    Some(match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar(s),
        Value::Array(items) if items.is_empty() => "[]".to_owned(),
        Value::Object(map) if map.is_empty() => "{}".to_owned(),
        _ => return None,
    })
}

/// The pairs of `map` in block style (`key: value`, or `key:` and the value's block lines below
/// it), every line indented by `indent` spaces and ending in `\n`; nothing for an empty map.
pub fn block_mapping(map: &Map<String, Value>, indent: usize, out: &mut String) {
    for (key, value) in map {
        let pad = " ".repeat(indent);
        match inline(value) {
            Some(text) => {
                let _ = writeln!(out, "{pad}{}: {text}", scalar(key));
            }
            None => {
                let _ = writeln!(out, "{pad}{}:", scalar(key));
                block(value, indent + 2, out);
            }
        }
    }
}

fn sequence(items: &[Value], indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            Value::Object(map) if !map.is_empty() => {
                // `- key: value` then the other keys aligned under the first.
                let mut nested = String::new();
                block_mapping(map, indent + 2, &mut nested);
                let _ = write!(out, "{pad}- {}", &nested[indent + 2..]);
            }
            Value::Array(inner) if !inner.is_empty() => {
                let _ = writeln!(out, "{pad}-");
                sequence(inner, indent + 2, out);
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", inline(other).unwrap_or_default());
            }
        }
    }
}

/// `value` in block style, every line indented by `indent` spaces and ending in `\n`.
pub fn block(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) => block_mapping(map, indent, out),
        Value::Array(items) => sequence(items, indent, out),
        other => {
            let _ = writeln!(
                out,
                "{}{}",
                " ".repeat(indent),
                inline(other).unwrap_or_default()
            );
        }
    }
}

/// `value` in flow style on one line (`{k: v, list: [a, b]}`), for a place inside a flow
/// collection, or a short list of scalars that was written in flow style.
pub fn flow(value: &Value) -> String {
    match value {
        Value::String(s) => flow_scalar(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let pairs: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", flow_scalar(k), flow(v)))
                .collect();
            format!("{{{}}}", pairs.join(", "))
        }
        other => inline(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `map` written as a block mapping reads back as itself.
    fn round_trip(map: Value) {
        let map = map.as_object().unwrap().clone();
        let mut text = String::new();
        block_mapping(&map, 0, &mut text);
        let documents = crate::parse_documents(&text).unwrap_or_else(|e| panic!("{text}\n{e:?}"));
        assert_eq!(documents.len(), 1, "{text}");
        assert_eq!(documents[0].to_json(), Value::Object(map), "{text}");
    }

    #[test]
    fn tricky_scalars_survive() {
        round_trip(json!({"name": "crm", "config": {
            "a": "yes", "b": "null", "c": "1.0", "d": "0x1F", "e": "- not a list", "f": "key: value", "g": " padded ",
            "h": "multi\nline", "i": "", "j": "# not a comment", "k": "é ünïcode ✓", "l": "{{oauth.token}}", "m": "1e3", "n": "~",
            "o": 1.5, "p": -3, "q": true, "r": null, "s": [], "t": {}, "u": ["x", 1, null, {"v": [1, [2, 3]], "w": {}}],
            "trailing:": "colon", "1": "numeric key", "with space": "ok", ".5": "dot"
        }}));
    }

    /// Every character YAML forbids unescaped, and its neighbours, survive a round trip, quoted
    /// and escaped where they must be.
    #[test]
    fn characters_yaml_forbids_are_escaped() {
        let awkward = [
            '\u{0}',
            '\u{1}',
            '\u{8}',
            '\u{b}',
            '\u{c}',
            '\u{1b}',
            '\u{1f}',
            '\u{7f}',
            '\u{80}',
            '\u{85}',
            '\u{9f}',
            '\u{a0}',
            '\u{2028}',
            '\u{2029}',
            '\u{d7ff}',
            '\u{e000}',
            '\u{feff}',
            '\u{fffd}',
            '\u{fffe}',
            '\u{ffff}',
            '\u{10000}',
            '\u{10ffff}',
            '"',
            '\\',
            '\t',
            '\r',
            '\n',
        ];
        for c in awkward {
            for text in [
                format!("{c}"),
                format!("a{c}b"),
                format!("{c}start"),
                format!("end{c}"),
            ] {
                round_trip(json!({"name": "crm", "config": {"k": text, text.clone(): "as a key"}}));
                let written = scalar(&text);
                assert!(
                    !written.chars().any(must_escape),
                    "{text:?} written as {written:?}"
                );
            }
        }
    }

    /// Text every other YAML reader takes for a number or a date is quoted, even where our own
    /// loader would keep it as text (the CI failure of 2026-11-30: an Ada id `612058e1…` is a
    /// float too large for f64 to serde-saphyr, and export wrote it plain).
    #[test]
    fn number_like_text_is_quoted_for_other_readers() {
        for text in [
            "612058e17007245546136923",
            "1e999",
            "-1E+400",
            "123456789012345678901234567890",
            ".inf",
            "-.Inf",
            ".NaN",
            "1_000",
            "0b1010",
            "0o17",
            "0x_ff",
            "1:20",
            "190:20:30.15",
            "2026-11-30",
            "2026-11-30T20:09:39Z",
            "1.",
            ".5",
        ] {
            assert!(scalar(text).starts_with('"'), "{text} written plain");
            round_trip(json!({"name": "crm", "config": {"k": text, text: "as a key"}}));
            assert_eq!(other_reader(text), json!({"k": text}));
        }
        for text in [
            "612058a17007245546136923",
            "6a1b",
            "1.2.3",
            "e10",
            "v1.0",
            "12ab",
            "1e",
            "2026-nov",
            "abc",
        ] {
            assert_eq!(scalar(text), text, "{text} quoted needlessly");
            assert_eq!(other_reader(text), json!({"k": text}));
        }
    }

    /// `k: <text>` as written, read by another YAML library (serde-saphyr).
    fn other_reader(text: &str) -> Value {
        serde_saphyr::from_str(&format!("k: {}\n", scalar(text)))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn readable_block_style() {
        let value = json!({"name": "crm", "config": {"headers": {"Accept": "application/json"}, "scopes": ["a", "b"], "empty": [], "none": {}},
            "list": [{"a": 1, "b": [true, null]}, [1, [2]], "x"]});
        let mut text = String::new();
        block(&value, 2, &mut text);
        assert_eq!(
            text,
            "  name: crm\n  config:\n    headers:\n      Accept: application/json\n    scopes:\n      - a\n      - b\n    empty: []\n    none: {}\n  list:\n    - a: 1\n      b:\n        - true\n        - null\n    -\n      - 1\n      -\n        - 2\n    - x\n"
        );
        assert_eq!(
            flow(&value),
            "{name: crm, config: {headers: {Accept: application/json}, scopes: [a, b], empty: [], none: {}}, list: [{a: 1, b: [true, null]}, [1, [2]], x]}"
        );
        assert_eq!(flow(&json!(["a,b", "{c}"])), r#"["a,b", "{c}"]"#);
        assert_eq!(inline(&json!({"a": 1})), None);
    }
}
