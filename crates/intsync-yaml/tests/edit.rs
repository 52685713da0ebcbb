//! `set_values`, the comment-preserving editor, on paths of any length: only the replaced
//! values' text changes, and what cannot be edited safely is refused with a typed error.

use intsync_yaml::{Edit, EditError, parse_documents, set_values};
use serde_json::{Value as Json, json};

fn edit(document: usize, path: &[&str], value: Json) -> Edit {
    Edit {
        document,
        path: path.iter().map(|&k| k.to_owned()).collect(),
        value,
    }
}

const TEXT: &str = "\
# settings
name: app   # the name
server:
  host: example.com  # where
  ports: [80, 443]
  tls:
    # on by default
    enabled: true
    cert: |
      line
list:
  - a
---
other: {x: 1, y: [2]}
";

#[test]
fn values_at_any_depth_are_replaced_and_nothing_else() {
    let out = set_values(
        TEXT,
        &[
            edit(0, &["name"], json!("new name")),
            edit(0, &["server", "ports"], json!([8080])),
            edit(0, &["server", "tls", "enabled"], json!(false)),
            edit(0, &["server", "tls", "cert"], json!({"file": "a.pem"})),
            edit(1, &["other", "y"], json!({"z": null})),
        ],
    )
    .unwrap();
    assert_eq!(
        out,
        "\
# settings
name: new name   # the name
server:
  host: example.com  # where
  ports: [8080]
  tls:
    # on by default
    enabled: false
    cert:
      file: a.pem
list:
  - a
---
other: {x: 1, y: {z: null}}
"
    );
    let documents = parse_documents(&out).unwrap();
    assert_eq!(
        documents[0].to_json()["server"]["tls"]["cert"]["file"],
        "a.pem"
    );
}

#[test]
fn what_cannot_be_edited_is_refused_by_kind() {
    let refused = |text: &str, e: Edit| set_values(text, &[e]).unwrap_err();
    assert_eq!(
        refused(TEXT, edit(0, &["server", "nope"], json!(1))),
        EditError::KeyMissing {
            document: 0,
            path: vec!["server".to_owned(), "nope".to_owned()]
        }
    );
    assert_eq!(
        refused(TEXT, edit(0, &["nope", "x"], json!(1))),
        EditError::KeyMissing {
            document: 0,
            path: vec!["nope".to_owned()]
        }
    );
    assert_eq!(
        refused(TEXT, edit(0, &["name", "x"], json!(1))),
        EditError::NotAMapping {
            document: 0,
            path: vec!["name".to_owned()]
        }
    );
    assert_eq!(
        refused("- a\n", edit(0, &["x"], json!(1))),
        EditError::NotAMapping {
            document: 0,
            path: vec![]
        }
    );
    assert!(matches!(
        refused(TEXT, edit(0, &[], json!(1))),
        EditError::Unsupported { .. }
    ));
    assert!(matches!(
        refused(TEXT, edit(2, &["x"], json!(1))),
        EditError::NoSuchDocument {
            document: 2,
            count: 2
        }
    ));
    assert!(matches!(
        refused("a:\n  b: 1\n  b: 2\n", edit(0, &["a", "b"], json!(1))),
        EditError::DuplicateKey { line: 3, .. }
    ));
    assert!(matches!(
        refused("a: [1\n", edit(0, &["a"], json!(1))),
        EditError::Parse { .. }
    ));
    assert!(matches!(
        set_values(
            TEXT,
            &[
                edit(0, &["server", "host"], json!(1)),
                edit(0, &["server", "host"], json!(2))
            ]
        )
        .unwrap_err(),
        EditError::DuplicateEdit { .. }
    ));
    for (text, path) in [
        // An anchor or alias on the way to the value, or in it.
        ("base: &b {c: {d: 1}}\na: *b\n", &["a", "c", "d"][..]),
        ("a: &a\n  c: {d: 1}\nb: *a\n", &["a", "c", "d"]),
        ("a:\n  c: {d: &x 1}\nb: *x\n", &["a", "c"]),
        // A merge key next to the edited key.
        (
            "base: &b {d: 1}\na:\n  c:\n    <<: *b\n    d: 2\n",
            &["a", "c", "d"],
        ),
    ] {
        let error = set_values(text, &[edit(0, path, json!(3))]).unwrap_err();
        assert!(
            matches!(error, EditError::AliasOrMerge { .. }),
            "{text}: {error:?}"
        );
    }
}

#[test]
fn no_edits_change_nothing() {
    assert_eq!(set_values(TEXT, &[]).unwrap(), TEXT);
}
