//! Writing manifests: the inverse of loading, for `intsync export`. Block-style YAML that a
//! person would write, with strings quoted only where YAML would read them as something else.
//! The same emitters write the values that `intsync pull` puts into existing files
//! ([`crate::edit`]).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::diagnostic::Code;
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
    // Numbers our loader keeps as text (out of range, `.inf`, YAML 1.1 spellings) and dates
    // stay quoted too: other tools read them as numbers or timestamps.
    if other_tools_read_as_non_string(text) {
        return false;
    }
    // Anything the loader would resolve to null, a boolean or a number, or refuse, stays quoted.
    crate::tree::core(text) == crate::tree::Core::Str
}

/// Whether some YAML reader (1.2 core schema at any range, or 1.1: `_` separators, `0b`,
/// sexagesimal, timestamps, `.inf`/`.nan`) would take this plain scalar for a number or a date.
/// Ada's ids are 24 hex digits, so `612058e17007245546136923` is a real id, and a float to
/// every reader but ours.
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
    manifest_yaml_allowing(header, kind, id, &[], spec)
}

/// The manifest `intsync export` writes for a live integration: [`manifest_yaml`], plus a
/// `metadata.allow` list naming each of intsync's own rules ([`Code::allowable`]) the live
/// values already break, so that the adopted manifest validates and plans as it is, and the
/// allowance is there for a reviewer to see. A rule the vendor enforces is never allowed: a
/// live value breaking one stays an error. Returns the text and the codes allowed.
pub fn adopted_manifest_yaml(
    header: &[String],
    kind: Kind,
    id: Option<&str>,
    spec: &Map<String, Value>,
) -> (String, Vec<Code>) {
    let plain = manifest_yaml(header, kind, id, spec);
    let loaded = crate::load_source("exported.yaml", &plain);
    let mut allow: Vec<Code> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.code.allowable())
        .map(|d| d.code)
        .collect();
    allow.sort();
    allow.dedup();
    if allow.is_empty() {
        return (plain, allow);
    }
    let text = manifest_yaml_allowing(header, kind, id, &allow, spec);
    (text, allow)
}

/// [`manifest_yaml`] with a `metadata.allow` list (written only when not empty).
fn manifest_yaml_allowing(
    header: &[String],
    kind: Kind,
    id: Option<&str>,
    allow: &[Code],
    spec: &Map<String, Value>,
) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "apiVersion: {API_VERSION}");
    let _ = writeln!(out, "kind: {kind}");
    if id.is_some() || !allow.is_empty() {
        let _ = writeln!(out, "metadata:");
    }
    if let Some(id) = id {
        let _ = writeln!(out, "  id: {}", scalar(id));
    }
    if !allow.is_empty() {
        let codes: Vec<&str> = allow.iter().map(|c| c.as_str()).collect();
        let _ = writeln!(out, "  allow: [{}]", codes.join(", "));
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
            Value::Object(manifest.spec.to_map()),
            Value::Object(spec),
            "{text}"
        );
    }

    /// Ada's getting-started example breaks two of intsync's own rules: the export allows
    /// exactly those, and the manifest then loads with warnings only. A vendor rule is never
    /// allowed.
    #[test]
    fn an_adopted_manifest_allows_only_intsync_rules_it_breaks() {
        let spec = json!({
            "name": "Getting started", "description": "d", "author": "a", "contact": "help@example.com",
            "identifier_field_path": "credentials.knowledgeHubUrl",
            "uninstallation_url": "http://example.com/u", "oauth_callback_url": "http://example.com/",
            "tags": ["knowledge"], "scopes": ["articles:read"],
            "configuration_fields": {"type": "object", "required": ["credentials"], "properties": {
                "credentials": {"type": "object", "required": ["helpCenterUrl", "secretKey"], "properties": {
                    "knowledgeHubUrl": {"type": "string"}, "secretKey": {"type": "string"}}}}}
        });
        let spec = spec.as_object().unwrap();
        let (text, allow) =
            adopted_manifest_yaml(&[], Kind::AdaPlatformIntegration, Some("abc"), spec);
        assert_eq!(
            allow,
            [Code::RequiredNotInProperties, Code::IdentifierNotRequired],
            "{text}"
        );
        assert!(text.contains(
            "metadata:\n  id: abc\n  allow: [intsync::required_not_in_properties, intsync::identifier_not_required]\n"
        ), "{text}");
        let loaded = crate::load_source("x.yaml", &text);
        assert_eq!(loaded.manifests.len(), 1, "{text}");
        let codes: Vec<(Code, crate::Severity)> = loaded
            .diagnostics
            .iter()
            .map(|d| (d.code, d.severity))
            .collect();
        assert_eq!(
            codes,
            [
                (Code::IdentifierNotRequired, crate::Severity::Warning),
                (Code::RequiredNotInProperties, crate::Severity::Warning),
            ]
        );

        // A clean spec gets no allowance; a vendor rule broken stays an error.
        let mut clean = spec.clone();
        clean["identifier_field_path"] = json!("credentials.secretKey");
        clean["configuration_fields"]["properties"]["credentials"]["required"] =
            json!(["secretKey"]);
        let (text, allow) =
            adopted_manifest_yaml(&[], Kind::AdaPlatformIntegration, Some("abc"), &clean);
        assert!(allow.is_empty() && !text.contains("allow"), "{text}");
        clean["name"] = json!("n".repeat(161));
        let (text, allow) =
            adopted_manifest_yaml(&[], Kind::AdaPlatformIntegration, Some("abc"), &clean);
        assert!(allow.is_empty(), "{text}");
        assert!(crate::load_source("x.yaml", &text).has_errors());
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
