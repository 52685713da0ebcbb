//! intsync's YAML layer, which knows nothing of integrations: reading YAML into a tree whose
//! every key and value knows where it is written ([`parse_documents`]), editing a file's text
//! in place without touching its comments or layout ([`set_values`]), and writing YAML a
//! person would write ([`emit`]).
//!
//! What the documents mean (manifests, their kinds, rules and diagnostic codes) is
//! intsync-manifest's business. This crate reads strings and nothing else: no files, no
//! network, no clock. Hostile input (alias bombs, absurd nesting, huge numbers) is refused
//! with a typed [`ParseError`] in bounded time and memory; nothing here panics on any input.

mod edit;
pub mod emit;
mod limits;
mod tree;

pub use edit::{Edit, EditError, set_values};
pub use limits::Limits;
pub use tree::{
    Key, Node, ParseError, ParseErrorKind, Span, Value, parse_documents, parse_documents_within,
    shown,
};
