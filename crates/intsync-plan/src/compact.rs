//! JSON text as serde_json writes it (compact, its own escapes), read without building values
//! (issue #24): where a value ends, an object's keys and the ranges of their values, and the
//! canonical text of a value ([`crate::normalize::write_canonical`]'s, byte for byte) written
//! straight from the text.
//!
//! Everything here declines (`None`) what serde_json would not have written: insignificant
//! whitespace, escapes it would not use (`\/`, `\u00e9`), a key with an escape, a key twice in
//! one object, anything that is not JSON. A caller then reads the text the usual way, by
//! serde_json: declining is always correct, only slower. So text this accepts is text that
//! `serde_json::to_string(&serde_json::from_str::<Value>(text))` gives back unchanged, and its
//! canonical form is the one the value's would be (`tests`: held to both on many values).

use std::io::Write;

use crate::decimal::Decimal;

/// How deep values may nest: serde_json's own limit, so a page this declines is one serde_json
/// refuses too. Deeper text (a hostile server's `[[[[…`) is declined instead of running the
/// scanner, which recurses, out of stack.
const MAX_DEPTH: usize = 128;

/// The end (exclusive) of the JSON value that starts at `at`, if it is written as serde_json
/// writes it (and nests at most [`MAX_DEPTH`] deep).
pub fn value_end(text: &[u8], at: usize) -> Option<usize> {
    value_end_within(text, at, 0)
}

fn value_end_within(text: &[u8], at: usize, depth: usize) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *text.get(at)? {
        b'"' => string_end(text, at),
        b'{' => {
            let mut i = at + 1;
            if text.get(i) == Some(&b'}') {
                return Some(i + 1);
            }
            loop {
                if text.get(i) != Some(&b'"') {
                    return None;
                }
                i = string_end(text, i)?;
                if text.get(i) != Some(&b':') {
                    return None;
                }
                i = value_end_within(text, i + 1, depth + 1)?;
                match text.get(i)? {
                    b',' => i += 1,
                    b'}' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b'[' => {
            let mut i = at + 1;
            if text.get(i) == Some(&b']') {
                return Some(i + 1);
            }
            loop {
                i = value_end_within(text, i, depth + 1)?;
                match text.get(i)? {
                    b',' => i += 1,
                    b']' => return Some(i + 1),
                    _ => return None,
                }
            }
        }
        b't' => literal(text, at, b"true"),
        b'f' => literal(text, at, b"false"),
        b'n' => literal(text, at, b"null"),
        _ => number_end(text, at),
    }
}

fn literal(text: &[u8], at: usize, word: &[u8]) -> Option<usize> {
    text[at..].starts_with(word).then_some(at + word.len())
}

/// A string's end, its escapes the ones serde_json writes: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`,
/// `\t`, and `\u00XX` (lower-case hex) for the other control characters. Its bytes are taken
/// to be UTF-8 (the caller checked the whole text once).
fn string_end(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        i += plain_run(&text[i..]);
        let at_special = text[i..]
            .iter()
            .position(|b| *b == b'"' || *b == b'\\' || *b < 0x20)?;
        i += at_special;
        match text[i] {
            b'"' => return Some(i + 1),
            b'\\' => match *text.get(i + 1)? {
                b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = text.get(i + 2..i + 6)?;
                    let ok = hex[0] == b'0'
                        && hex[1] == b'0'
                        && (hex[2] == b'0' || hex[2] == b'1')
                        && matches!(hex[3], b'0'..=b'9' | b'a'..=b'f');
                    // The ones with a short form are written short.
                    let short = matches!(&hex[2..], b"08" | b"09" | b"0a" | b"0c" | b"0d");
                    if !ok || short {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            _ => return None,
        }
    }
}

/// How many leading bytes of `text`, eight at a time, hold no `"`, no `\` and no control
/// character: the string scan skips them a word at a time (issue #24: the scan was a fifth of
/// a plan's time). The byte scan that follows finds the special byte in the word this stops at.
fn plain_run(text: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // A byte of `v` is below `n` (n <= 128): exact as a yes or no for the whole word.
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGHS != 0;
    let mut run = 0;
    for word in text.chunks_exact(8) {
        let v = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        if below(v ^ (ONES * u64::from(b'"')), 1)
            || below(v ^ (ONES * u64::from(b'\\')), 1)
            || below(v, 0x20)
        {
            break;
        }
        run += 8;
    }
    run
}

/// A JSON number's end as serde_json writes it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?(e[+-][0-9]+)?`.
fn number_end(text: &[u8], at: usize) -> Option<usize> {
    let digits = |i: usize| text[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut i = at;
    if text.get(i) == Some(&b'-') {
        i += 1;
    }
    match text.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => i += digits(i),
        _ => return None,
    }
    if text.get(i) == Some(&b'.') {
        let n = digits(i + 1);
        if n == 0 {
            return None;
        }
        i += 1 + n;
    }
    // serde_json writes an exponent as `e+N` or `e-N`.
    if text.get(i) == Some(&b'e') {
        i += 1;
        if !matches!(text.get(i), Some(b'+' | b'-')) {
            return None;
        }
        i += 1;
        let n = digits(i);
        if n == 0 {
            return None;
        }
        i += n;
    }
    Some(i)
}

/// An object's keys, each with the range of its value.
pub type Entries<'t> = Vec<(&'t str, (usize, usize))>;

/// Walks the object that starts at `at`: `value` is given each key (one without escapes) and
/// where its value starts, and returns where that value ends (having read it however it
/// likes). Returns where the object ends; `None` for anything that is not an object as
/// serde_json writes it, a key with an escape, a key twice, or when `value` says `None`.
pub fn walk_object<'t>(
    text: &'t [u8],
    at: usize,
    mut value: impl FnMut(&'t str, usize) -> Option<usize>,
) -> Option<usize> {
    if text.get(at) != Some(&b'{') {
        return None;
    }
    let mut i = at + 1;
    if text.get(i) == Some(&b'}') {
        return Some(i + 1);
    }
    let mut keys: Vec<&str> = Vec::new();
    loop {
        if text.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(text, i)?;
        let key = std::str::from_utf8(&text[i + 1..key_end - 1]).ok()?;
        if key.contains('\\') || keys.contains(&key) || text.get(key_end) != Some(&b':') {
            return None;
        }
        keys.push(key);
        let end = value(key, key_end + 1)?;
        match text.get(end)? {
            b',' => i = end + 1,
            b'}' => return Some(end + 1),
            _ => return None,
        }
    }
}

/// Writes the canonical JSON of the value `text` (sorted keys, canonical numbers), exactly
/// what [`crate::normalize::write_canonical`] writes for the value it reads as; `None` (with
/// part of it maybe written) when `text` is not as serde_json writes it.
pub fn write_canonical(text: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let end = write_value(text, 0, out, &mut Scratch::default(), 0)?;
    (end == text.len()).then_some(())
}

/// What [`write_canonical_at`] reuses from one value to the next, so that writing the many
/// small objects of a page allocates nothing once warm (issue #24).
#[derive(Default)]
pub struct Scratch {
    /// The entries of the objects being written, innermost last: each key (a range of the
    /// text) and where its entry was written in the output.
    entries: Vec<(usize, usize, usize, usize)>,
    /// An object's entries, copied out to be written back in key order.
    reorder: Vec<u8>,
}

/// [`write_canonical`] of the value that starts at `at` in `text`; returns where it ends.
pub fn write_canonical_at(
    text: &[u8],
    at: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> Option<usize> {
    scratch.entries.clear();
    write_value(text, at, out, scratch, 0)
}

/// Writes the canonical form of the value at `at` and returns where it ends, reading each byte
/// once: an object's entries are written as they come, each key with its value, and moved into
/// key order afterwards if they came in another (a copy per level, not a scan per level).
fn write_value(
    text: &[u8],
    at: usize,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
    depth: usize,
) -> Option<usize> {
    if depth > MAX_DEPTH {
        return None;
    }
    match *text.get(at)? {
        b'{' => {
            out.push(b'{');
            let mut i = at + 1;
            if text.get(i) == Some(&b'}') {
                out.push(b'}');
                return Some(i + 1);
            }
            let first = out.len();
            // This object's entries are `scratch.entries[base..]`: the nested objects written
            // while reading them push theirs above and take them off again.
            let base = scratch.entries.len();
            let mut sorted = true;
            loop {
                if text.get(i) != Some(&b'"') {
                    return None;
                }
                let key_end = string_end(text, i)?;
                let (key_from, key_to) = (i + 1, key_end - 1);
                let key = &text[key_from..key_to];
                if key.contains(&b'\\') || text.get(key_end) != Some(&b':') {
                    return None;
                }
                if scratch.entries.len() > base {
                    let &(from, to, _, _) = scratch.entries.last()?;
                    sorted &= text[from..to] < *key;
                    out.push(b',');
                }
                let start = out.len();
                // A key without escapes is written as it is.
                out.extend_from_slice(&text[i..=key_end]);
                i = write_value(text, key_end + 1, out, scratch, depth + 1)?;
                scratch.entries.push((key_from, key_to, start, out.len()));
                match text.get(i)? {
                    b',' => i += 1,
                    b'}' => break,
                    _ => return None,
                }
            }
            if !sorted {
                let entries = &mut scratch.entries[base..];
                entries.sort_unstable_by(|a, b| text[a.0..a.1].cmp(&text[b.0..b.1]));
                if entries
                    .windows(2)
                    .any(|w| text[w[0].0..w[0].1] == text[w[1].0..w[1].1])
                {
                    return None;
                }
                scratch.reorder.clear();
                scratch.reorder.extend_from_slice(&out[first..]);
                out.truncate(first);
                for (n, &(_, _, start, end)) in entries.iter().enumerate() {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&scratch.reorder[start - first..end - first]);
                }
            }
            scratch.entries.truncate(base);
            out.push(b'}');
            Some(i + 1)
        }
        b'[' => {
            out.push(b'[');
            let mut i = at + 1;
            if text.get(i) == Some(&b']') {
                out.push(b']');
                return Some(i + 1);
            }
            loop {
                i = write_value(text, i, out, scratch, depth + 1)?;
                match text.get(i)? {
                    b',' => {
                        out.push(b',');
                        i += 1;
                    }
                    b']' => {
                        out.push(b']');
                        return Some(i + 1);
                    }
                    _ => return None,
                }
            }
        }
        b'"' | b't' | b'f' | b'n' => {
            let end = value_end(text, at)?;
            out.extend_from_slice(&text[at..end]);
            Some(end)
        }
        _ => {
            let end = number_end(text, at)?;
            let raw = std::str::from_utf8(&text[at..end]).ok()?;
            match Decimal::parse(raw) {
                Some(exact) => write!(out, "{exact}").ok()?,
                None => out.extend_from_slice(raw.as_bytes()),
            }
            Some(end)
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::Value;

    /// Text as serde_json writes it is accepted, gives itself back through serde_json, and its
    /// canonical form is the value's; text serde_json would write otherwise is declined.
    #[test]
    fn text_as_serde_json_writes_it_is_read_as_its_value() {
        let accepted = [
            r#"{"a":1,"b":[true,false,null],"c":{"z":1.50,"y":-0,"x":1e+2,"w":1e+02}}"#,
            r#"{}"#,
            r#"[]"#,
            r#"[[],{},"",0]"#,
            r#""é ☃ \" \\ \n \t \r \b \f \u0001 \u001f /""#,
            r#"{"b":{"d":2,"c":1},"a":[{"y":0.1e-3,"x":12345678901234567890123,"v":-0.0}]}"#,
            r#"{"type":"object","required":["a"],"properties":{"a":{"type":"string","enum":["x","y"],"minLength":32}}}"#,
            r#"-12.5e+7"#,
            // Strings longer than a word, special bytes at every offset in one; keys out of
            // order at every level.
            r#"{"z":{"b":[1,{"d":"a long string that crosses several words \" with \\ escapes \n inside \u0001"}],"a":"0123456789abcdef01234567"},"a":"x\"0123456\"01234567\\"}"#,
            r#"["01234567","0123456\n","012345\"7","0\\234567\t"]"#,
        ];
        for text in accepted {
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                serde_json::to_string(&value).unwrap(),
                text,
                "serde_json writes it so"
            );
            let mut ours = Vec::new();
            write_canonical(text.as_bytes(), &mut ours).unwrap_or_else(|| panic!("{text}"));
            let mut theirs = Vec::new();
            crate::normalize::write_canonical(&value, &mut theirs).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(theirs).unwrap(),
                "{text}"
            );
        }
        let declined = [
            r#"{ "a":1}"#,
            r#"{"a": 1}"#,
            r#"[1, 2]"#,
            r#""\/""#,
            r#""\u00e9""#,
            r#""\u000a""#,
            r#""\u001F""#,
            r#"{"a\"b":1}"#,
            r#"{"a":1,"a":2}"#,
            r#"01"#,
            r#"1E+2"#,
            r#"1e2"#,
            r#"1."#,
            r#".5"#,
            r#"1e"#,
            r#"tru"#,
            r#"{"a":1"#,
            r#"[1,]"#,
            r#"{"a":1}x"#,
            "\"0123456789abcdef\u{1}0123456789\"",
            "\"01234567\n\"",
            r#"{"b":1,"a":2,"b":3}"#,
            r#"{"x":{"b":1,"a":{"c":1,"c":2}}}"#,
            r#"{"b":1,"a":{"b":1,"b":1}}"#,
        ];
        for text in declined {
            assert!(
                write_canonical(text.as_bytes(), &mut Vec::new()).is_none(),
                "{text}"
            );
        }
        let text = br#"{"a":1,"bc":[1,{"d":2}],"e":"x"}"#;
        let mut entries: Entries<'_> = Vec::new();
        let end = walk_object(text, 0, |key, start| {
            let end = value_end(text, start)?;
            entries.push((key, (start, end)));
            Some(end)
        });
        assert_eq!(end, Some(text.len()));
        assert_eq!(
            entries,
            vec![("a", (5, 6)), ("bc", (12, 23)), ("e", (28, 31))]
        );
    }

    /// Nesting past serde_json's limit is declined, however deep, not scanned out of stack.
    #[test]
    fn deep_nesting_is_declined() {
        for open in [b'[', b'{'] {
            let mut text = Vec::new();
            for _ in 0..200_000 {
                text.push(open);
                if open == b'{' {
                    text.extend_from_slice(b"\"a\":");
                }
            }
            assert_eq!(value_end(&text, 0), None);
            assert!(write_canonical(&text, &mut Vec::new()).is_none());
        }
        // At the limit it is read.
        let nested = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(value_end(nested.as_bytes(), 0), Some(nested.len()));
        let deeper = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert_eq!(value_end(deeper.as_bytes(), 0), None);
    }

    /// Any JSON value, strings with every kind of byte, objects with keys in any order.
    pub(crate) fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            // Runs long enough to cross words, with every kind of byte a string can hold.
            "[a-z\"\\\\\n\u{1}\u{1f}é☃ ]{0,40}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                // Keys in the order they are drawn: sorted or not.
                proptest::collection::vec(("[a-e]{1,3}", inner), 0..6)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// The canonical text written from serde_json's text of any value is the value's.
        #[test]
        fn canonical_from_text_is_the_values(value in json_value()) {
            let text = serde_json::to_string(&value).unwrap();
            let mut ours = Vec::new();
            write_canonical(text.as_bytes(), &mut ours).unwrap_or_else(|| panic!("{text}"));
            let mut theirs = Vec::new();
            crate::normalize::write_canonical(&value, &mut theirs).unwrap();
            proptest::prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(theirs).unwrap());
        }
    }
}
