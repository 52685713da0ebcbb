//! The one set of input limits, which both YAML readers enforce.

/// What the YAML readers read at most: hostile input (alias bombs, absurd nesting, huge
/// numbers) is refused in bounded time and memory, and hand-written files are far below every
/// limit.
///
/// [`crate::parse_documents`] reads with [`Limits::DEFAULT`]. Both of its readers enforce the
/// same numbers, counted the same way: the hand-written fast reader (which reads plain YAML)
/// hands a file over to the full reader (granit-parser's events) as soon as it would pass a
/// limit, and the full reader refuses it. So a file one past a limit is refused with the same
/// typed error whichever reader it would otherwise take, and a file at a limit is read by
/// either: [`crate::ParseErrorKind::Limit`] for the limits intsync sets (`depth`, `nodes`,
/// `documents`, `radix_digits`), [`crate::ParseErrorKind::Syntax`] for YAML's own limit on an
/// implicit key (`implicit_key`).
///
/// A caller's limit on the size of its input (intsync-manifest's `MAX_FILE_BYTES`) is
/// checked before the text is read, and is not one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Collections (mappings and sequences, block or flow) nested in one another: a document
    /// `depth` collections deep is read, one more deep is refused. Scalars do not count.
    pub depth: usize,
    /// Nodes in one file: every scalar (each key included), every collection, every empty
    /// value and every empty document; an alias counts as the number of nodes of what it
    /// stands for (an alias bomb is refused before it is expanded).
    pub nodes: usize,
    /// Documents in one file, empty ones included (`---` with nothing after it).
    pub documents: usize,
    /// Significant digits of a hexadecimal (`0x…`) or octal (`0o…`) integer value: converting
    /// one to decimal costs the square of its length. A longer one is refused where it is a
    /// value; as a key it is only text.
    pub radix_digits: usize,
    /// Characters of an implicit (not `?`-introduced) mapping key, from its first character
    /// (a quote included) to its `:`. YAML 1.2 allows 1024 (§7.4); a longer key is not YAML,
    /// and is refused as a syntax error (or, inside a flow collection, read as YAML reads it
    /// there).
    pub implicit_key: usize,
}

impl Limits {
    /// The limits [`crate::parse_documents`] reads with.
    pub const DEFAULT: Limits = Limits {
        depth: 48,
        nodes: 200_000,
        documents: 1_000,
        radix_digits: 1_000,
        implicit_key: 1_024,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::DEFAULT
    }
}
