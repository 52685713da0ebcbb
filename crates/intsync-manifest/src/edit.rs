//! Editing manifest text in place, for `intsync pull` (design §10): [`set_fields`] writes new
//! values of top-level `spec` fields into a file's text and changes nothing else.
//!
//! The editing is intsync-yaml's ([`intsync_yaml::set_values`], whose documentation gives the
//! rules: only the replaced values' text changes; comments, key order, quoting, blank lines,
//! line endings and the layout of everything else stay byte-identical; the result is parsed
//! again before it is returned). This module names the value by its manifest field
//! (`spec.<field>`), and says why an edit is refused in a manifest's terms.

use intsync_yaml::Edit;
use serde_json::Value as Json;

/// A new value for one top-level field of one document's `spec`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldEdit {
    /// 0-based index of the YAML document in the file, counting documents that are not empty
    /// (the index [`crate::Origin::document`] gives).
    pub document: usize,
    /// A top-level key of that document's `spec`; it must be present (pull only rewrites the
    /// fields a manifest manages).
    pub field: String,
    /// The value to write.
    pub value: Json,
}

/// Why [`set_fields`] refused an edit. The text is never half-edited: an error means nothing
/// was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("the file is not valid YAML (line {line}, column {column}): {message}")]
    Parse {
        message: String,
        line: u32,
        column: u32,
    },
    #[error("the file has {count} document(s): there is no document {document} (0-based)")]
    NoSuchDocument { document: usize, count: usize },
    #[error("document {document} has no `spec` mapping")]
    NoSpec { document: usize },
    #[error(
        "`spec.{field}` is not in document {document}: pull rewrites only the fields a manifest already manages"
    )]
    FieldMissing { document: usize, field: String },
    #[error("`spec.{field}` is written more than once in document {document} (line {line})")]
    DuplicateField {
        document: usize,
        field: String,
        line: u32,
    },
    #[error("`spec.{field}` of document {document} is edited more than once")]
    DuplicateEdit { document: usize, field: String },
    #[error(
        "document {document} uses {what} at line {line}, which `spec.{field}` depends on: edit the file by hand"
    )]
    AliasOrMerge {
        document: usize,
        field: String,
        /// What is in the way: an anchor, an alias or a merge key.
        what: &'static str,
        line: u32,
    },
    #[error(
        "`spec.{field}` of document {document} (line {line}) is written in a form that cannot be edited safely: {reason}"
    )]
    Unsupported {
        document: usize,
        field: String,
        line: u32,
        reason: &'static str,
    },
    #[error(
        "internal error: the edited text would not read back as intended ({detail}); nothing was changed"
    )]
    Verification { detail: String },
}

/// Writes each edit's value into `source` in place of the field's current value, and returns
/// the new text. See [`intsync_yaml::set_values`] for the rules; edits are applied from the end
/// of the file backwards, so they may come in any order.
pub fn set_fields(source: &str, edits: &[FieldEdit]) -> Result<String, EditError> {
    let edits: Vec<Edit> = edits
        .iter()
        .map(|edit| Edit {
            document: edit.document,
            path: vec!["spec".to_owned(), edit.field.clone()],
            value: edit.value.clone(),
        })
        .collect();
    intsync_yaml::set_values(source, &edits).map_err(EditError::from_yaml)
}

impl EditError {
    /// The YAML editor's refusal of an edit of `spec.<field>`, in a manifest's terms.
    fn from_yaml(error: intsync_yaml::EditError) -> EditError {
        use intsync_yaml::EditError as Yaml;
        // The edit's field: the second key of every path set_fields gives.
        let field = |path: &[String]| path.get(1).cloned().unwrap_or_default();
        match error {
            Yaml::Parse {
                message,
                line,
                column,
            } => EditError::Parse {
                message,
                line,
                column,
            },
            Yaml::NoSuchDocument { document, count } => {
                EditError::NoSuchDocument { document, count }
            }
            // The root is not a mapping, or `spec` is not one (the paths are `spec.<field>`: no
            // other node is looked into), or `spec` is missing or given twice.
            Yaml::NotAMapping { document, .. } => EditError::NoSpec { document },
            Yaml::KeyMissing { document, path } | Yaml::DuplicateKey { document, path, .. }
                if path.len() < 2 =>
            {
                EditError::NoSpec { document }
            }
            Yaml::KeyMissing { document, path } => EditError::FieldMissing {
                document,
                field: field(&path),
            },
            Yaml::DuplicateKey {
                document,
                path,
                line,
            } => EditError::DuplicateField {
                document,
                field: field(&path),
                line,
            },
            Yaml::DuplicateEdit { document, path } => EditError::DuplicateEdit {
                document,
                field: field(&path),
            },
            Yaml::AliasOrMerge {
                document,
                path,
                what,
                line,
            } => EditError::AliasOrMerge {
                document,
                field: field(&path),
                what,
                line,
            },
            Yaml::Unsupported {
                document,
                path,
                line,
                reason,
            } => EditError::Unsupported {
                document,
                field: field(&path),
                line,
                reason,
            },
            Yaml::Verification { detail } => EditError::Verification { detail },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(text: &str, field: &str) -> EditError {
        let edit = FieldEdit {
            document: 0,
            field: field.to_owned(),
            value: json!(1),
        };
        set_fields(text, &[edit]).unwrap_err()
    }

    /// intsync-yaml's refusals, said in a manifest's terms: anything wrong with `spec` itself
    /// is `NoSpec`, and the field's problems name the field.
    #[test]
    fn refusals_are_said_in_a_manifests_terms() {
        for text in [
            "- a\n",
            "kind: x\n",
            "spec: x\n",
            "spec: [a]\n",
            "spec: {a: 1}\nspec: {a: 2}\n",
        ] {
            assert_eq!(
                refused(text, "a"),
                EditError::NoSpec { document: 0 },
                "{text}"
            );
        }
        let missing = refused("spec: {a: 1}\n", "b");
        assert_eq!(
            missing,
            EditError::FieldMissing {
                document: 0,
                field: "b".to_owned()
            }
        );
        assert_eq!(
            missing.to_string(),
            "`spec.b` is not in document 0: pull rewrites only the fields a manifest already manages"
        );
        assert_eq!(
            refused("spec:\n  a: 1\n  a: 2\n", "a"),
            EditError::DuplicateField {
                document: 0,
                field: "a".to_owned(),
                line: 3
            }
        );
        assert!(matches!(
            refused("base: &b 1\nspec:\n  a: *b\n", "a"),
            EditError::AliasOrMerge { ref field, what: "an alias", line: 3, .. } if field == "a"
        ));
    }
}
