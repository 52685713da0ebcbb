//! Diagnostics: what is wrong, where, and what to do about it.
//!
//! Every problem has a stable [`Code`] (users grep for them, CI annotations show them), a
//! severity, the file:line:column of the offending key or value, a label on it, and a help line.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use intsync_yaml::Span;

/// How bad a diagnostic is. Warnings never fail a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, )*) => {
        /// The stable identity of a validation rule. The strings are part of the user contract
        /// (`docs/validation.md` lists them all): add codes, never rename one.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as users see it, e.g. `intsync::name_too_long`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => concat!("intsync::", $name), )*
                }
            }
        }
    };
}

codes! {
    /// A path given on the command line does not exist or cannot be read.
    Io = "io",
    /// A directory given on the command line holds no `*.yaml` or `*.yml` file.
    NoManifests = "no_manifests",
    /// A file is larger than the 10 MiB limit.
    FileTooLarge = "file_too_large",
    /// A file is not valid UTF-8.
    NotUtf8 = "not_utf8",
    /// The YAML cannot be parsed.
    YamlSyntax = "yaml_syntax",
    /// The YAML exceeds a safety limit (alias expansion, nesting depth, node count).
    YamlTooComplex = "yaml_too_complex",
    /// A number JSON cannot carry: `.inf`, `-.inf`, `.nan` (JSON has no infinity or NaN).
    NonJsonNumber = "non_json_number",
    /// A mapping has the same key twice.
    DuplicateKey = "duplicate_key",
    /// A top-level document is not a mapping.
    NotAMapping = "not_a_mapping",
    /// `apiVersion`, `kind` or `spec` is missing.
    MissingField = "missing_field",
    /// `apiVersion` is not `intsync/v1`.
    UnsupportedApiVersion = "unsupported_api_version",
    /// `kind` is not one of the known kinds.
    UnknownKind = "unknown_kind",
    /// A key that the format does not define.
    UnknownField = "unknown_field",
    /// A value of the wrong type (a number where a string is expected, ...).
    WrongType = "wrong_type",
    /// `null` for a field the API does not let you clear.
    NullNotAllowed = "null_not_allowed",
    /// A manifest without `metadata.id` lacks a field that creating it requires.
    MissingCreateField = "missing_create_field",
    /// A string that must not be empty is empty.
    EmptyString = "empty_string",
    /// `name` is longer than 160 characters.
    NameTooLong = "name_too_long",
    /// `author` is longer than 160 characters.
    AuthorTooLong = "author_too_long",
    /// A URL field is not an absolute `http://` or `https://` URL.
    InvalidUrl = "invalid_url",
    /// `contact` is neither a URL nor an e-mail address.
    InvalidContact = "invalid_contact",
    /// A tag outside the documented set (`knowledge`).
    InvalidTag = "invalid_tag",
    /// A scope outside the documented set (a warning: the API accepts any string).
    UnknownScope = "unknown_scope",
    /// A value outside an enumeration (Truto `sharing`).
    InvalidEnumValue = "invalid_enum_value",
    /// `configuration_fields` is not a valid JSON Schema.
    InvalidJsonSchema = "invalid_json_schema",
    /// `configuration_fields` declares a `$schema` intsync does not know; checked as 2020-12.
    UnknownSchemaDialect = "unknown_schema_dialect",
    /// A `required` list names a field that its sibling `properties` does not define.
    RequiredNotInProperties = "required_not_in_properties",
    /// `identifier_field_path` is not valid JMESPath.
    InvalidJmespath = "invalid_jmespath",
    /// `identifier_field_path` is valid JMESPath but not a plain dotted field path.
    IdentifierPathNotAField = "identifier_path_not_a_field",
    /// `identifier_field_path` names a field `configuration_fields` does not define.
    IdentifierPathUnresolved = "identifier_path_unresolved",
    /// `identifier_field_path` points at a field that is not `type: string`.
    IdentifierNotString = "identifier_not_string",
    /// `identifier_field_path` points at a field that is not required at every level.
    IdentifierNotRequired = "identifier_not_required",
    /// Two manifests claim the same live object (same kind and id, or same kind and name).
    DuplicateIdentity = "duplicate_identity",
    /// `metadata.allow` names a code that is not one of intsync's own rules (a vendor's rule, a
    /// problem of the file itself, or no code at all): only [`Code::allowable`] ones can be
    /// allowed.
    NotAllowable = "not_allowable",
    /// `metadata.allow` names a code the manifest does not break (a warning: remove it).
    UnusedAllow = "unused_allow",
    /// `!var NAME` names a var a receiving target does not define.
    UnknownVar = "unknown_var",
    /// `!var NAME` names a var whose environment variable is not set (or not UTF-8).
    UnsetVar = "unset_var",
    /// `!var` where a value must be the same on every target (`apiVersion`, `kind`,
    /// `metadata.targets`), or a sensitive var where it would be printed (`spec.name`,
    /// `metadata`).
    VarNotAllowed = "var_not_allowed",
    /// `metadata.targets` names a target the configuration does not define, or one that does
    /// not serve the manifest's kind.
    UnknownTarget = "unknown_target",
    /// No configured target receives the manifest: it would never be planned.
    NoTarget = "no_target",
}

impl Code {
    /// The code users write, `intsync::invalid_jmespath` (the `intsync::` prefix is required).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == text)
    }

    /// Whether `metadata.allow` may turn this code into a warning: the rules intsync adds to
    /// what the vendors enforce, which a live integration can already break (Ada accepted it).
    /// A rule the vendor enforces (its types, lengths, URL formats, sets, what a create needs),
    /// a problem of the file itself (YAML, unknown keys) and identity are never allowable: the
    /// API would refuse the value, or the manifest would not say what it means.
    pub fn allowable(self) -> bool {
        matches!(
            self,
            Code::InvalidContact
                | Code::UnknownScope
                | Code::InvalidJsonSchema
                | Code::UnknownSchemaDialect
                | Code::RequiredNotInProperties
                | Code::InvalidJmespath
                | Code::IdentifierPathNotAField
                | Code::IdentifierPathUnresolved
                | Code::IdentifierNotString
                | Code::IdentifierNotRequired
        )
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One loaded source file, shared by all diagnostics that point into it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user wrote it (relative paths stay relative).
    pub path: PathBuf,
    /// The text, when it could be read as UTF-8 (otherwise empty).
    pub text: Arc<str>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        })
    }

    /// The path with `/` separators, as diagnostics print it.
    pub fn display_path(&self) -> String {
        display_path(&self.path)
    }
}

pub(crate) fn display_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    if std::path::MAIN_SEPARATOR == '/' {
        text.into_owned()
    } else {
        text.replace(std::path::MAIN_SEPARATOR, "/")
    }
}

/// A secondary label in the same file (e.g. the first of two duplicate keys).
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// A problem found in a manifest.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// What to do about it.
    pub help: Option<String>,
    pub file: Arc<SourceFile>,
    /// The offending key or value. `line == 0` means the whole file (I/O problems).
    pub span: Span,
    /// What the primary label says.
    pub label: String,
    /// More places in the same file worth showing.
    pub labels: Vec<Label>,
}

impl Diagnostic {
    pub fn error(
        code: Code,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            help: None,
            file: Arc::clone(file),
            span,
            label: String::from("here"),
            labels: Vec::new(),
        }
    }

    pub fn warning(
        code: Code,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    /// Sets the help line: what to do about it.
    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        self.help = Some(help.into());
        self
    }

    /// Sets what the primary label says.
    pub fn label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = label.into();
        self
    }

    /// Adds a secondary label in the same file.
    pub fn secondary(&mut self, span: Span, text: impl Into<String>) -> &mut Self {
        self.labels.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `file:line:column`, the form editors and terminals make clickable.
    pub fn location(&self) -> String {
        format!(
            "{}:{}:{}",
            self.file.display_path(),
            self.span.line.max(1),
            self.span.column.max(1)
        )
    }
}

/// "did you mean `x`?" for a misspelt name, when one candidate is close enough.
pub(crate) fn did_you_mean<'a>(
    input: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&input.to_lowercase(), &c.to_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            assert!(code.as_str().starts_with("intsync::"));
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
        }
    }

    #[test]
    fn suggestions() {
        assert_eq!(did_you_mean("nmae", ["name", "author"]), Some("name"));
        assert_eq!(
            did_you_mean("oauth_callback", ["oauth_callback_url", "icon_url"]),
            Some("oauth_callback_url")
        );
        assert_eq!(did_you_mean("zzz", ["name", "author"]), None);
    }
}
