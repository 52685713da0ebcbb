//! intsync manifests: YAML files → typed, validated [`Manifest`]s, with a [`Diagnostic`] for
//! every problem, each at the file:line:column of the offending key or value.
//!
//! This crate reads files and nothing else: no network, no clock, no environment. It never stops
//! at the first problem: [`load`] returns every valid manifest *and* every diagnostic of every
//! file. Hostile input (huge files, invalid UTF-8, alias bombs, absurd nesting) is refused with a
//! diagnostic in bounded time and memory; nothing here panics on any input.
//!
//! The vendors' wire formats are not known here; the field names in `spec` are theirs, and the
//! rules of design §4 encode their documented constraints, which [`vendor`] holds in one table
//! per vendor.

mod diagnostic;
mod edit;
mod emit;
mod fields;
pub mod inert;
mod load;
mod model;
mod receivers;
pub mod render;
mod rules;
mod schema;
pub mod vendor;

pub use diagnostic::{Code, Diagnostic, Label, Severity, SourceFile};
pub use edit::{EditError, FieldEdit, set_fields};
pub use emit::{adopted_manifest_yaml, manifest_yaml};
pub use fields::Fields;
/// The YAML reader `load` uses, without the rules: for reading what a file declares (`export`
/// reads the `kind`, `metadata.id` and `spec.name` of files that need not be valid manifests).
pub use intsync_yaml::parse_documents;
/// The YAML tree `load` reads (intsync-yaml's), whose spans the diagnostics carry.
pub use intsync_yaml::{Key, Node, Span, Value};
pub use load::{
    Loaded, MAX_FILE_BYTES, Validated, is_manifest_file, load, load_for, load_source,
    load_source_for, validate, validate_for,
};
pub use model::{API_VERSION, Kind, Manifest, Origin, Routing};
pub use receivers::{Receiver, Receivers, VarUse, VarValue};
pub use schema::manifest_schema;
pub use vendor::{ADA_SCOPES, ADA_TAGS, FieldDef, FieldType, TRUTO_SHARING};
