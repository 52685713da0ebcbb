//! Guard rails on input: the reader and the editor never panic, whatever the text, and hostile
//! YAML is refused with a typed error (`ParseErrorKind::Limit`), not read.

use intsync_yaml::{Edit, ParseErrorKind, parse_documents, set_values};
use proptest::prelude::*;

fn kinds(text: &str) -> Vec<ParseErrorKind> {
    match parse_documents(text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors.iter().map(|e| e.kind).collect(),
    }
}

#[test]
fn billion_laughs_is_refused() {
    let mut yaml = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let p = i - 1;
        yaml.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{p}"); 9].join(", ")
        ));
    }
    assert_eq!(kinds(&yaml), [ParseErrorKind::Limit]);
}

#[test]
fn deep_nesting_is_refused() {
    for yaml in [
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!("{}{}", "{a: ".repeat(10_000), "}".repeat(10_000)),
        (0..500)
            .map(|i| format!("{}- \n", "  ".repeat(i)))
            .collect(),
    ] {
        assert_eq!(kinds(&yaml), [ParseErrorKind::Limit], "{}", &yaml[..40]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Arbitrary text never panics the reader or the editor.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = parse_documents(&text);
        let _ = set_values(&text, &[Edit { document: 0, path: vec!["a".to_owned()], value: 1.into() }]);
    }

    /// YAML-looking text (indentation, indicators, anchors) never panics the reader or the
    /// editor, and every error is placed inside the text.
    #[test]
    fn yaml_like_text_never_panics(lines in prop::collection::vec("[ ]{0,6}[-?:&*!|>'\"%@`#{}\\[\\],a-z0-9 ]{0,30}", 0..30)) {
        let text = lines.join("\n");
        if let Err(errors) = parse_documents(&text) {
            for e in errors {
                let span = e.span.expect("placed");
                prop_assert!(span.offset + span.len <= text.len(), "{:?} outside the text", span);
            }
        }
        let _ = set_values(&text, &[Edit { document: 0, path: vec!["a".to_owned(), "b".to_owned()], value: 1.into() }]);
    }
}
