//! The structural diff of a plan's values, shared by the text and Markdown renderings (design
//! §7, docs/plan.md "Rendering"): one [`Change`] per changed leaf, at its path, in the manifest's
//! key order; and the YAML the renderings print values in.
//!
//! Values print as compact YAML. A value standing alone (after `path:` or `→`, or after `key:`
//! in a create's body) is a scalar in JSON spelling — strings double-quoted — or a collection in
//! flow style (`{type: string, enum: [us, eu]}`). Inside a flow collection, and as a set's
//! member, a string is plain when YAML reads it back as the same string, double-quoted (JSON
//! escapes) otherwise. Keys in a path are bare when they are made of ASCII letters, digits, `_`,
//! `-` and `$`, double-quoted otherwise (`properties."a.b".title`); list items are `[i]`.

use std::fmt::Write as _;

use intsync_manifest::Kind;
use serde_json::{Map, Value};

use crate::normalize;

/// One changed leaf, as one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `path: old → new` (a scalar, a type change, a list whose length changed).
    Changed {
        path: String,
        old: String,
        new: String,
    },
    /// `+ path: value`: a key only the desired value has.
    Added { path: String, value: String },
    /// `- path: value`: a key only the live value has.
    Removed { path: String, value: String },
    /// `path: + member` or `path: - member`: a member a set (`tags`, `scopes`) gains or loses.
    Member {
        path: String,
        added: bool,
        member: String,
    },
}

impl Change {
    /// The line, without colour; `mark` (`[drift] `, or empty) goes before the path.
    pub fn line(&self, mark: &str) -> String {
        match self {
            Change::Changed { path, old, new } => format!("{mark}{path}: {old} → {new}"),
            Change::Added { path, value } => format!("+ {mark}{path}: {value}"),
            Change::Removed { path, value } => format!("- {mark}{path}: {value}"),
            Change::Member {
                path,
                added,
                member,
            } => format!("{mark}{path}: {} {member}", if *added { '+' } else { '-' }),
        }
    }
}

/// The changes of one top-level field of `kind`, from its live value `old` (`null` when absent)
/// to its desired value `new`. Never empty: a field in a patch is sent, so when the walk finds
/// no leaf (values equal after normalization, which only a hand-edited plan holds), the whole
/// field is one change.
pub fn field(kind: Kind, name: &str, old: &Value, new: &Value) -> Vec<Change> {
    let path = key(name);
    let mut changes = Vec::new();
    if normalize::is_set_field(kind, name)
        && let (Value::Array(old), Value::Array(new)) = (old, new)
    {
        members(&path, new, old, true, &mut changes);
        members(&path, old, new, false, &mut changes);
    } else {
        walk(&path, old, new, &mut changes);
    }
    if changes.is_empty() {
        changes.push(Change::Changed {
            path,
            old: leaf(old),
            new: leaf(new),
        });
    }
    changes
}

/// The members of `these` that `those` does not have, once each, in `these`' order.
fn members(path: &str, these: &[Value], those: &[Value], added: bool, out: &mut Vec<Change>) {
    for (i, member) in these.iter().enumerate() {
        let elsewhere = |list: &[Value]| list.iter().any(|m| normalize::equal(m, member));
        if !elsewhere(those) && !elsewhere(&these[..i]) {
            out.push(Change::Member {
                path: path.to_owned(),
                added,
                member: item(member),
            });
        }
    }
}

/// Walks `old` and `new` together: objects key by key (the desired keys in their order, then
/// the live-only ones in theirs), lists of one length index by index; anything else that
/// differs is one change at `path`. Values equal after normalization make no line.
fn walk(path: &str, old: &Value, new: &Value, out: &mut Vec<Change>) {
    if normalize::equal(old, new) {
        return;
    }
    match (old, new) {
        (Value::Object(old), Value::Object(new)) => {
            for (name, value) in new {
                let path = format!("{path}.{}", key(name));
                match old.get(name) {
                    Some(was) => walk(&path, was, value, out),
                    None => out.push(Change::Added {
                        path,
                        value: leaf(value),
                    }),
                }
            }
            for (name, was) in old.iter().filter(|(name, _)| !new.contains_key(*name)) {
                out.push(Change::Removed {
                    path: format!("{path}.{}", key(name)),
                    value: leaf(was),
                });
            }
        }
        (Value::Array(old), Value::Array(new)) if old.len() == new.len() => {
            for (i, (was, value)) in old.iter().zip(new).enumerate() {
                walk(&format!("{path}[{i}]"), was, value, out);
            }
        }
        _ => out.push(Change::Changed {
            path: path.to_owned(),
            old: leaf(old),
            new: leaf(new),
        }),
    }
}

/// A key in a path: bare when made of ASCII letters, digits, `_`, `-` and `$`, else quoted.
pub fn key(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '$'));
    if bare { name.to_owned() } else { quoted(name) }
}

/// `text` double-quoted, with JSON's escapes (which YAML reads too), and every other
/// [hidden](crate::inert::is_hidden) character escaped as well (`"\u202e"`, `"\U000e0041"`):
/// a value never moves, recolours or reorders what a reader sees after it.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if crate::inert::is_hidden(c) => {
                let code = u32::from(c);
                let _ = if code <= 0xffff {
                    write!(out, "\\u{code:04x}")
                } else {
                    write!(out, "\\U{code:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value standing alone: a scalar in JSON spelling (strings double-quoted), a collection as
/// flow YAML.
pub fn leaf(value: &Value) -> String {
    match value {
        Value::String(s) => quoted(s),
        other => item(other),
    }
}

/// A value inside a flow collection (or a set's member): strings plain when safe.
fn item(value: &Value) -> String {
    let mut out = String::new();
    flow(value, &mut out);
    out
}

fn flow(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            out.push('{');
            for (i, (name, value)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&plain_or_quoted(name));
                out.push_str(": ");
                flow(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, value) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(value, out);
            }
            out.push(']');
        }
        Value::String(s) => out.push_str(&plain_or_quoted(s)),
        other => out.push_str(&other.to_string()),
    }
}

fn plain_or_quoted(text: &str) -> String {
    if plain_is_safe(text) {
        text.to_owned()
    } else {
        quoted(text)
    }
}

/// Whether `text`, written plain in a YAML flow collection, reads back as that same string (and
/// keeps a rendered line unambiguous). Conservative: it starts with a letter, `_`, `/` or `$`;
/// it holds no flow indicator, quote at the start, comment, `: `, control character or `→`; it
/// does not end in a space or `:`; and it is no word YAML 1.1 or 1.2 reads as null or a bool.
fn plain_is_safe(text: &str) -> bool {
    let Some(first) = text.chars().next() else {
        return false;
    };
    if !(first.is_alphabetic() || matches!(first, '_' | '/' | '$')) {
        return false;
    }
    if text.ends_with([' ', ':']) || text.contains(": ") || text.contains(" #") {
        return false;
    }
    if text.chars().any(|c| {
        crate::inert::is_hidden(c)
            || matches!(
                c,
                ',' | '[' | ']' | '{' | '}' | '→' | '\u{2028}' | '\u{2029}' | '\u{feff}'
            )
    }) {
        return false;
    }
    let reserved = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"];
    !reserved.iter().any(|word| text.eq_ignore_ascii_case(word))
}

/// A create's body as block YAML in the manifest's order, one line per entry: maps nest as
/// blocks, lists of maps as `- ` items, other lists and empty collections as flow; values as
/// [`leaf`] writes them. Keys are plain when safe, quoted otherwise.
pub fn block(map: &Map<String, Value>) -> Vec<String> {
    let mut lines = Vec::new();
    block_map(map, 0, &mut lines);
    lines
}

fn block_map(map: &Map<String, Value>, indent: usize, lines: &mut Vec<String>) {
    for (name, value) in map {
        let pad = " ".repeat(indent);
        let name = plain_or_quoted(name);
        match value {
            Value::Object(inner) if !inner.is_empty() => {
                lines.push(format!("{pad}{name}:"));
                block_map(inner, indent + 2, lines);
            }
            Value::Array(items) if items.iter().any(is_block_map) => {
                lines.push(format!("{pad}{name}:"));
                for item in items {
                    block_item(item, indent + 2, lines);
                }
            }
            other => lines.push(format!("{pad}{name}: {}", leaf(other))),
        }
    }
}

fn is_block_map(value: &Value) -> bool {
    matches!(value, Value::Object(map) if !map.is_empty())
}

fn block_item(value: &Value, indent: usize, lines: &mut Vec<String>) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            let first = lines.len();
            block_map(map, indent + 2, lines);
            // The first entry goes on the `- ` line.
            let entry = lines[first].split_off(indent + 2);
            lines[first] = format!("{pad}- {entry}");
        }
        other => lines.push(format!("{pad}- {}", leaf(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lines(kind: Kind, name: &str, old: Value, new: Value) -> Vec<String> {
        field(kind, name, &old, &new)
            .iter()
            .map(|c| c.line(""))
            .collect()
    }

    const ADA: Kind = Kind::AdaPlatformIntegration;

    #[test]
    fn one_line_per_changed_leaf_in_manifest_order() {
        let old = json!({"type": "object", "b": {"x": 1, "gone": [1]}, "a": "same", "c": 1.0});
        let new = json!({"c": 1, "a": "same", "b": {"x": 2, "y": {"t": "s"}}, "type": "object"});
        assert_eq!(
            lines(ADA, "form", old, new),
            [
                "form.b.x: 1 → 2",
                "+ form.b.y: {t: s}",
                "- form.b.gone: [1]",
            ]
        );
    }

    #[test]
    fn lists_by_index_or_whole_and_type_changes() {
        assert_eq!(
            lines(ADA, "l", json!(["a", "b", "c"]), json!(["a", "B", "c"])),
            [r#"l[1]: "b" → "B""#]
        );
        assert_eq!(
            lines(ADA, "l", json!(["a", "b"]), json!(["a", "b", "c"])),
            ["l: [a, b] → [a, b, c]"]
        );
        assert_eq!(
            lines(ADA, "f", json!({"k": "1"}), json!({"k": 1})),
            [r#"f.k: "1" → 1"#]
        );
        assert_eq!(
            lines(ADA, "f", Value::Null, json!({"k": []})),
            ["f: null → {k: []}"]
        );
    }

    #[test]
    fn sets_show_members() {
        assert_eq!(
            lines(
                ADA,
                "scopes",
                json!(["articles:read", "a:write"]),
                json!(["a:write", "article_tags:read", "article_tags:read"])
            ),
            ["scopes: + article_tags:read", "scopes: - articles:read"]
        );
        // Not a set for Truto: compared by index.
        assert_eq!(
            lines(Kind::TrutoIntegration, "scopes", json!(["a"]), json!(["b"])),
            [r#"scopes[0]: "a" → "b""#]
        );
    }

    #[test]
    fn keys_and_strings_are_quoted_when_needed() {
        assert_eq!(
            lines(
                ADA,
                "f",
                json!({"a.b": 1, "": 1}),
                json!({"a.b": 2, "": 2, "x y": "no: yes"})
            ),
            [
                r#"f."a.b": 1 → 2"#,
                r#"f."": 1 → 2"#,
                r#"+ f."x y": "no: yes""#
            ]
        );
        let value = json!({"plain": "Secret key", "url": "https://x/y", "word": "yes",
            "number": "12", "dash": "-x", "comma": "a, b", "empty": "", "colon": "a:",
            "comment": "a #b", "arrow": "a → b", "line": "a\nb", "tag": "!x", "k:": 1});
        assert_eq!(
            leaf(&value),
            r#"{plain: Secret key, url: https://x/y, word: "yes", number: "12", dash: "-x", comma: "a, b", empty: "", colon: "a:", comment: "a #b", arrow: "a → b", line: "a\nb", tag: "!x", "k:": 1}"#
        );
        assert_eq!(leaf(&json!("Secret key")), r#""Secret key""#);
    }

    /// Controls, DEL, C1 and invisible format characters never reach a reader raw, in values,
    /// in plain members, or in keys: JSON's escapes, and `\u`/`\U` for the rest.
    #[test]
    fn hidden_characters_are_escaped_in_values_and_keys() {
        let hostile = "a\u{1b}[2J\u{7f}\u{9b}\u{202e}\u{2066}\u{200b}\u{e0041}\n\"\\";
        let expected = r#""a\u001b[2J\u007f\u009b\u202e\u2066\u200b\U000e0041\n\"\\""#;
        assert_eq!(leaf(&json!(hostile)), expected);
        assert_eq!(item(&json!(hostile)), expected);
        assert_eq!(item(&json!(["ok", "x\u{202e}"])), r#"[ok, "x\u202e"]"#);
        assert_eq!(key(hostile), expected);
        assert_eq!(
            lines(ADA, "f", json!({hostile: 1}), json!({hostile: 2})),
            [format!("f.{expected}: 1 → 2")]
        );
        // JSON's spelling for everything JSON escapes.
        let json_escaped = "\u{0}\u{1f}\u{8}\u{c}\t\r";
        assert_eq!(
            leaf(&json!(json_escaped)),
            serde_json::to_string(json_escaped).unwrap()
        );
    }

    #[test]
    fn create_bodies_are_block_yaml() {
        let body = json!({"name": "N", "scopes": ["a:read"], "form": {"type": "object",
            "properties": {"r": {"enum": ["us", "eu"]}}, "required": []},
            "list": [{"a": 1, "b": {"c": true}}, "s"]});
        assert_eq!(
            block(body.as_object().unwrap()).join("\n"),
            r#"name: "N"
scopes: [a:read]
form:
  type: "object"
  properties:
    r:
      enum: [us, eu]
  required: []
list:
  - a: 1
    b:
      c: true
  - "s""#
        );
    }
}
