//! The YAML project's own conformance suite (`tests/yaml-test-suite`, its data release, MIT)
//! run over the reader: every invalid case is refused with a located error, every valid case
//! with a JSON rendering reads as that JSON (numbers compared as exact decimal values), and the
//! fast reader declines or agrees with granit-parser on each case. Nothing panics.
//! (intsync-manifest's `tests/yaml_suite.rs` runs its loader over the same cases.)
//!
//! The cases intsync reads otherwise are listed below, each with its reason; a listed case that
//! starts to pass fails the test, so the lists stay short and true.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use super::{Node, fast, parse_documents};
use crate::Limits;

/// Valid YAML with a JSON rendering that intsync refuses, on purpose: each uses a tag outside
/// YAML 1.2's core schema, which intsync does not read (it cannot know what an application
/// tag means, and a value's tag would be lost on its way to JSON). Each must be refused with
/// the "unsupported YAML tag" error, at its place.
const REFUSED: &[(&str, &str)] = &[
    ("2XXW", "`!!set`, a YAML 1.1 type"),
    ("565N", "`!!binary`, a YAML 1.1 type"),
    ("5TYM", "`!m!light`, an application tag through `%TAG`"),
    ("6CK3", "`!local` and `!e!tag%21`, application tags"),
    ("6WLZ", "`!foo`, a local tag"),
    ("7FWL", "`!<!bar>`, a verbatim local tag"),
    ("9WXW", "`!foo`, a local tag"),
    ("C4HZ", "`!shape`, `!circle`, ..., application tags"),
    ("CC74", "`!e!foo`, an application tag through `%TAG`"),
    ("CUP7", "`!local`, a local tag"),
    ("J7PZ", "`!!omap`, a YAML 1.1 type"),
    ("M5C3", "`!foo`, a local tag"),
    (
        "P76L",
        "`!!int` after `%TAG !!` makes it an application tag",
    ),
    (
        "UGM3",
        "`!<tag:clarkevans.com,2002:invoice>`, an application tag",
    ),
    ("Z67P", "`!foo`, a local tag"),
    ("Z9M4", "`!e!foo`, an application tag through `%TAG`"),
];

/// The fast reader reads 54 of the cases (it declines the others, to granit): at least this.
const FAST_READ_AT_LEAST: usize = 50;

struct Case {
    /// `NAME` or `NAME/NN`.
    name: String,
    yaml: String,
    json: Option<String>,
    error: bool,
}

fn cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/yaml-test-suite");
    let mut dirs: Vec<PathBuf> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "in.yaml")
        .map(|e| e.path().parent().unwrap().to_path_buf())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|dir| Case {
            name: dir
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/"),
            yaml: std::fs::read_to_string(dir.join("in.yaml")).unwrap(),
            json: std::fs::read_to_string(dir.join("in.json")).ok(),
            error: dir.join("error").exists(),
        })
        .collect()
}

/// A JSON number's exact value: sign, significant digits (no leading or trailing zeros) and
/// the power of ten of the last one. `1`, `1.0`, `10e-1` and `0.1e1` are one value.
fn decimal(text: &str) -> (bool, String, i64) {
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i64>().unwrap()),
        None => (text, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let mut power = exponent - i64::try_from(frac.len()).unwrap();
    let trimmed = digits.trim_start_matches('0');
    let significant = trimmed.trim_end_matches('0');
    power += i64::try_from(trimmed.len() - significant.len()).unwrap();
    if significant.is_empty() {
        return (false, String::new(), 0);
    }
    (negative, significant.to_owned(), power)
}

/// JSON equality with numbers compared as exact decimal values and object keys in any order.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => decimal(x.as_str()) == decimal(y.as_str()),
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn exact_decimal_values() {
    for (a, b) in [
        ("1", "1.0"),
        ("1", "10e-1"),
        ("1", "0.1e1"),
        ("0", "-0.0"),
        ("1e400", "10e399"),
    ] {
        assert_eq!(decimal(a), decimal(b), "{a} {b}");
    }
    for (a, b) in [
        ("1", "-1"),
        ("1", "1.5"),
        ("9007199254740993", "9007199254740992"),
    ] {
        assert_ne!(decimal(a), decimal(b), "{a} {b}");
    }
}

/// What one case did wrong, if anything.
fn check(case: &Case) -> Result<(), String> {
    let fast = catch_unwind(AssertUnwindSafe(|| {
        fast::parse(&case.yaml, &Limits::DEFAULT)
    }))
    .map_err(|_| "the fast reader panicked".to_owned())?;
    let granit = catch_unwind(AssertUnwindSafe(|| {
        super::parse_documents_granit(&case.yaml, &Limits::DEFAULT)
    }))
    .map_err(|_| "the granit reader panicked".to_owned())?;
    if let Some(fast) = &fast {
        match &granit {
            Ok(granit) if granit == fast => {}
            Ok(granit) => return Err(format!("fast read {fast:?}, granit {granit:?}")),
            Err(e) => return Err(format!("fast read {fast:?}, granit refused it: {e:?}")),
        }
    }
    let read = catch_unwind(AssertUnwindSafe(|| parse_documents(&case.yaml)))
        .map_err(|_| "the reader panicked".to_owned())?;
    if case.error {
        let Err(errors) = read else {
            return Err("invalid YAML, read without an error".to_owned());
        };
        if errors.iter().any(|e| e.span.is_none()) {
            return Err(format!("an error without a place: {errors:?}"));
        }
        return Ok(());
    }
    let Some(json) = &case.json else {
        // Valid YAML that JSON cannot render (non-string keys, ...): read or refused, it must
        // only not panic, and the two readers must agree (checked above).
        return Ok(());
    };
    let documents = read.map_err(|e| format!("valid YAML refused: {e:?}"))?;
    let got: Vec<serde_json::Value> = documents.iter().map(Node::to_json).collect();
    // Empty documents are skipped (docs/validation.md), and so is a document that is null.
    let expected: Vec<serde_json::Value> = serde_json::Deserializer::from_str(json)
        .into_iter()
        .map(Result::unwrap)
        .filter(|v: &serde_json::Value| !v.is_null())
        .collect();
    if got.len() != expected.len() || !got.iter().zip(&expected).all(|(g, e)| same(g, e)) {
        return Err(format!(
            "read {}, expected {}",
            serde_json::to_string(&got).unwrap(),
            serde_json::to_string(&expected).unwrap()
        ));
    }
    Ok(())
}

#[test]
fn yaml_test_suite() {
    let cases = cases();
    assert!(cases.len() > 400, "only {} cases found", cases.len());
    let listed: BTreeMap<&str, &str> = REFUSED.iter().copied().collect();
    let mut failures = Vec::new();
    for case in &cases {
        let result = check(case);
        match (result, listed.get(case.name.as_str())) {
            (Ok(()), None) => {}
            (Err(problem), None) => {
                failures.push(format!("{}: {problem}\n{}", case.name, case.yaml));
            }
            (Ok(()), Some(_)) => failures.push(format!(
                "{}: listed as refused, but reads as its JSON: unlist it",
                case.name
            )),
            (Err(problem), Some(reason)) => {
                // Listed: refused, for an unsupported tag, at its place, and by nothing else.
                let errors = parse_documents(&case.yaml).err().unwrap_or_default();
                let as_listed = !case.error
                    && !errors.is_empty()
                    && errors
                        .iter()
                        .all(|e| e.message.starts_with("unsupported YAML tag") && e.span.is_some());
                if !as_listed {
                    failures.push(format!(
                        "{}: listed for {reason}, but: {problem}",
                        case.name
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    // The fast reader takes part: it reads the suite's plain cases (and agrees, above).
    let fast = cases
        .iter()
        .filter(|c| fast::parse(&c.yaml, &Limits::DEFAULT).is_some())
        .count();
    println!("{} cases, {fast} read by the fast reader", cases.len());
    assert!(
        fast >= FAST_READ_AT_LEAST,
        "only {fast} cases read by the fast reader"
    );
}
