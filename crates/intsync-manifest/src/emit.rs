//! Writing manifests: the inverse of loading, for `intsync export`. Block-style YAML that a
//! person would write, with strings quoted only where YAML would read them as something else.
//! The same emitters write the values that `intsync pull` puts into existing files
//! ([`crate::edit`]).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::model::{API_VERSION, Kind};

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
    // Anything the loader would resolve to null, a boolean or a number stays quoted.
    matches!(crate::tree::plain_scalar(text), crate::tree::Value::String(s) if s == text)
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
pub(crate) fn scalar(text: &str) -> String {
    if plain_ok(text) {
        return text.to_owned();
    }
    double_quoted(text)
}

/// A string as a YAML scalar inside a flow collection (`[a, b]`, `{k: v}`): as [`scalar`], but
/// text holding a flow indicator (`,[]{}`) is quoted too.
pub(crate) fn flow_scalar(text: &str) -> String {
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
pub(crate) fn inline(value: &Value) -> Option<String> {
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

fn mapping(map: &Map<String, Value>, indent: usize, out: &mut String) {
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
                mapping(map, indent + 2, &mut nested);
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
pub(crate) fn block(value: &Value, indent: usize, out: &mut String) {
    match value {
        Value::Object(map) => mapping(map, indent, out),
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
pub(crate) fn flow(value: &Value) -> String {
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

/// A whole manifest document: header comment lines, `apiVersion`, `kind`, `metadata.id` (when
/// given) and `spec` with its fields in the given order.
pub fn manifest_yaml(
    header: &[String],
    kind: Kind,
    id: Option<&str>,
    spec: &Map<String, Value>,
) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "apiVersion: {API_VERSION}");
    let _ = writeln!(out, "kind: {kind}");
    if let Some(id) = id {
        let _ = writeln!(out, "metadata:\n  id: {}", scalar(id));
    }
    if spec.is_empty() {
        let _ = writeln!(out, "spec: {{}}");
    } else {
        let _ = writeln!(out, "spec:");
        mapping(spec, 2, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(spec: Value) {
        let spec = spec.as_object().unwrap().clone();
        let text = manifest_yaml(&[], Kind::TrutoIntegration, Some("1"), &spec);
        let loaded = crate::load_source("x.yaml", &text);
        let manifest = loaded.manifests.first().unwrap_or_else(|| {
            panic!(
                "{text}\n{:?}",
                loaded
                    .diagnostics
                    .iter()
                    .map(|d| &d.message)
                    .collect::<Vec<_>>()
            )
        });
        assert_eq!(
            Value::Object(manifest.spec.clone()),
            Value::Object(spec),
            "{text}"
        );
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

    #[test]
    fn readable_block_style() {
        let spec = json!({"name": "crm", "config": {"headers": {"Accept": "application/json"}, "scopes": ["a", "b"]}});
        let text = manifest_yaml(
            &["generated".to_owned()],
            Kind::TrutoIntegration,
            Some("abc"),
            spec.as_object().unwrap(),
        );
        assert_eq!(
            text,
            "# generated\napiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  id: abc\nspec:\n  name: crm\n  config:\n    headers:\n      Accept: application/json\n    scopes:\n      - a\n      - b\n"
        );
    }
}
