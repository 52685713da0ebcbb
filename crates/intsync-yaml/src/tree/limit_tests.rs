//! Every one of the [`Limits`] is one number, whichever reader reads a file: for each limit and
//! for several shapes of file, a file at the limit is read, by the fast reader when it is plain
//! YAML and by the full reader when it is not (a `%YAML` directive, which the fast reader
//! leaves to the full one), and a file one past it is refused with the same typed error
//! ([`ParseErrorKind`]) on both paths. Each limit is checked at its default value and at small
//! ones. (`fast.rs`'s tests hold the two readers to each other under random limits too.)

use std::cell::Cell;

use super::{
    Node, ParseError, ParseErrorKind, fast, parse_documents_granit, parse_documents_within,
};
use crate::Limits;

/// Which reader read a file.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reader {
    Fast,
    Full,
}

/// `source` as [`parse_documents_within`] reads it, and which reader did. The full reader
/// alone must give the same result (the fast one only reads faster).
fn read(source: &str, limits: &Limits) -> (Reader, Result<Vec<Node>, Vec<ParseError>>) {
    let before = fast::FAST_READS.with(Cell::get);
    let result = parse_documents_within(source, limits);
    let reader = if fast::FAST_READS.with(Cell::get) > before {
        Reader::Fast
    } else {
        Reader::Full
    };
    assert_eq!(
        format!("{result:?}"),
        format!("{:?}", parse_documents_granit(source, limits)),
        "the readers disagree on {}",
        head(source)
    );
    (reader, result)
}

/// The start of a source, for messages (sources here can be megabytes).
fn head(source: &str) -> String {
    format!("{:?}", source.chars().take(80).collect::<String>())
}

/// A source that the fast reader leaves to the full reader, with the same content (and the
/// same documents, nodes and depth) as `source`, whose first document has content.
fn full_only(source: &str) -> String {
    format!("%YAML 1.2\n---\n{source}")
}

/// `shape(limit)` is read, and by `reader`; `shape(limit + 1)` is refused with one error,
/// of kind `past`, and the fast reader declines it.
fn holds(
    what: &str,
    limits: &Limits,
    limit: usize,
    reader: Reader,
    past: ParseErrorKind,
    shape: &dyn Fn(usize) -> String,
) {
    let at = shape(limit);
    let (read_by, result) = read(&at, limits);
    assert!(
        result.is_ok(),
        "{what}, at the limit ({limit}): refused: {:?}",
        result.err()
    );
    assert_eq!(read_by, reader, "{what}, at the limit ({limit})");
    let beyond = shape(limit + 1);
    assert!(
        fast::parse(&beyond, limits).is_none(),
        "{what}, past the limit ({limit}): the fast reader read it"
    );
    let (_, result) = read(&beyond, limits);
    let errors = result.expect_err(what);
    let kinds: Vec<ParseErrorKind> = errors.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [past],
        "{what}, past the limit ({limit}): {errors:?}"
    );
}

/// [`holds`] on both paths: `shape` as it is, read by the fast reader, and with a directive
/// before it, read by the full reader.
fn holds_on_both_paths(
    what: &str,
    limits: &Limits,
    limit: usize,
    past: ParseErrorKind,
    shape: &dyn Fn(usize) -> String,
) {
    holds(what, limits, limit, Reader::Fast, past, shape);
    let full = |n: usize| full_only(&shape(n));
    holds(what, limits, limit, Reader::Full, past, &full);
}

/// A shape of file: `shape(n)` has `n` of what a limit counts.
type Shape = Box<dyn Fn(usize) -> String>;

fn small(change: impl FnOnce(&mut Limits)) -> Limits {
    let mut limits = Limits::DEFAULT;
    change(&mut limits);
    limits
}

// ---- depth --------------------------------------------------------------------------------

/// Shapes of `n` collections nested in one another (`n` ≥ 2).
fn nested() -> Vec<(&'static str, Shape)> {
    vec![
        (
            "block mappings",
            Box::new(|n| (0..n).map(|i| format!("{}k:\n", "  ".repeat(i))).collect()),
        ),
        (
            "block sequences",
            Box::new(|n| (0..n).map(|i| format!("{}-\n", "  ".repeat(i))).collect()),
        ),
        (
            "compact sequences",
            Box::new(|n| format!("{}x\n", "- ".repeat(n))),
        ),
        (
            "sequences as indented as their key",
            Box::new(|n| {
                // k:\n- k:\n  - k:\n    -\n ...: a mapping, then a sequence and a mapping on
                // each `-` line.
                let mut out = String::from("k:\n");
                let mut depth = 1;
                let mut column = 0;
                while depth < n {
                    out.push_str(&" ".repeat(column));
                    out.push('-');
                    depth += 1;
                    if depth < n {
                        out.push_str(" k:");
                        depth += 1;
                        column += 2;
                    }
                    out.push('\n');
                }
                out
            }),
        ),
        (
            "flow sequences",
            Box::new(|n| format!("a: {}{}\n", "[".repeat(n - 1), "]".repeat(n - 1))),
        ),
        (
            "flow mappings",
            Box::new(|n| format!("a: {}x{}\n", "{b: ".repeat(n - 1), "}".repeat(n - 1))),
        ),
        (
            "flows in block sequences",
            Box::new(|n| {
                format!(
                    "{}[{}x{}]\n",
                    "- ".repeat(n / 2),
                    "[".repeat(n - n / 2 - 1),
                    "]".repeat(n - n / 2 - 1)
                )
            }),
        ),
    ]
}

#[test]
fn depth_is_one_number_on_both_paths() {
    for limits in [
        Limits::DEFAULT,
        small(|l| l.depth = 5),
        small(|l| l.depth = 2),
    ] {
        for (what, shape) in nested() {
            let what = format!("{what}, depth {}", limits.depth);
            holds_on_both_paths(&what, &limits, limits.depth, ParseErrorKind::Limit, &shape);
        }
    }
}

// ---- nodes --------------------------------------------------------------------------------

/// Shapes of `n` nodes (`n` ≥ 3).
fn of_nodes() -> Vec<(&'static str, Shape)> {
    vec![
        ("block sequence items", Box::new(|n| "- x\n".repeat(n - 1))),
        (
            "flow sequence items",
            Box::new(|n| format!("[{}x]\n", "x, ".repeat(n - 2))),
        ),
        ("empty items (nulls)", Box::new(|n| "-\n".repeat(n - 1))),
        (
            "empty flows",
            Box::new(|n| format!("- {{}}\n{}", "- []\n".repeat(n - 2))),
        ),
    ]
}

#[test]
fn nodes_are_one_number_on_both_paths() {
    for limits in [
        Limits::DEFAULT,
        small(|l| l.nodes = 17),
        small(|l| l.nodes = 4),
    ] {
        for (what, shape) in of_nodes() {
            let what = format!("{what}, {} nodes", limits.nodes);
            holds_on_both_paths(&what, &limits, limits.nodes, ParseErrorKind::Limit, &shape);
        }
    }
    // Keys count: a mapping of `p` pairs is `1 + 2p` nodes (an odd limit).
    let limits = small(|l| l.nodes = 21);
    let pairs = |n: usize| {
        // An even count ends with `z: [x]` (3 nodes).
        let (pairs, last) = if n % 2 == 1 {
            ((n - 1) / 2, "")
        } else {
            ((n - 4) / 2, "z: [x]\n")
        };
        (0..pairs).map(|i| format!("k{i}: v\n")).collect::<String>() + last
    };
    holds_on_both_paths(
        "pairs",
        &limits,
        limits.nodes,
        ParseErrorKind::Limit,
        &pairs,
    );
    // So does every empty document (a null), with more documents allowed than nodes.
    let limits = small(|l| {
        l.nodes = 6;
        l.documents = 50;
    });
    let empty = |n: usize| "---\n".repeat(n);
    holds(
        "empty documents",
        &limits,
        6,
        Reader::Fast,
        ParseErrorKind::Limit,
        &empty,
    );
    let empty = |n: usize| format!("%YAML 1.2\n{}", "---\n".repeat(n));
    holds(
        "empty documents",
        &limits,
        6,
        Reader::Full,
        ParseErrorKind::Limit,
        &empty,
    );
    let mixed = |n: usize| format!("a: 1\n{}", "---\n".repeat(n - 3));
    holds_on_both_paths(
        "content, then empty documents",
        &limits,
        6,
        ParseErrorKind::Limit,
        &mixed,
    );
}

// ---- documents ----------------------------------------------------------------------------

#[test]
fn documents_are_one_number_on_both_paths() {
    for limits in [
        Limits::DEFAULT,
        small(|l| l.documents = 3),
        small(|l| l.documents = 1),
    ] {
        let n = limits.documents;
        let what = |shape: &str| format!("{shape}, {n} documents");
        // Content before the first `---` is a document.
        let content_first = |n: usize| format!("a: 1\n{}", "---\na: 1\n".repeat(n - 1));
        holds_on_both_paths(
            &what("content first"),
            &limits,
            n,
            ParseErrorKind::Limit,
            &content_first,
        );
        let markers_first = |n: usize| "--- # c\na: 1\n".repeat(n);
        holds(
            &what("--- first"),
            &limits,
            n,
            Reader::Fast,
            ParseErrorKind::Limit,
            &markers_first,
        );
        let full = |n: usize| format!("%YAML 1.2\n{}", markers_first(n));
        holds(
            &what("--- first"),
            &limits,
            n,
            Reader::Full,
            ParseErrorKind::Limit,
            &full,
        );
        // A `---` with nothing after it is an (empty) document too.
        let trailing = |n: usize| format!("a: 1\n{}", "---\n".repeat(n - 1));
        holds_on_both_paths(
            &what("empty ones after"),
            &limits,
            n,
            ParseErrorKind::Limit,
            &trailing,
        );
        // Comments alone are no document.
        let commented = |n: usize| format!("# c\n{}", "---\n# c\na: 1\n".repeat(n));
        holds(
            &what("comments"),
            &limits,
            n,
            Reader::Fast,
            ParseErrorKind::Limit,
            &commented,
        );
    }
}

// ---- radix digits -------------------------------------------------------------------------

#[test]
fn radix_digits_are_one_number_on_both_paths() {
    for limits in [Limits::DEFAULT, small(|l| l.radix_digits = 3)] {
        let n = limits.radix_digits;
        let shapes: [(&str, &dyn Fn(usize) -> String); 4] = [
            ("hexadecimal", &|n| format!("a: 0x{}\n", "f".repeat(n))),
            ("octal", &|n| format!("a: 0o{}\n", "7".repeat(n))),
            ("leading zeros", &|n| format!("a: 0x000{}\n", "1".repeat(n))),
            ("in a flow", &|n| format!("a: [1, 0x{}]\n", "A".repeat(n))),
        ];
        for (what, shape) in shapes {
            let what = format!("{what}, {n} digits");
            holds_on_both_paths(&what, &limits, n, ParseErrorKind::Limit, shape);
        }
        // As a key it is only text, however long.
        let key = format!("0x{}: 1\n", "f".repeat(n + 1));
        assert!(read(&key, &limits).1.is_ok());
    }
}

// ---- implicit keys ------------------------------------------------------------------------

#[test]
fn implicit_keys_are_one_number_on_both_paths() {
    for limits in [Limits::DEFAULT, small(|l| l.implicit_key = 10)] {
        let n = limits.implicit_key;
        let shapes: [(&str, &dyn Fn(usize) -> String); 5] = [
            ("plain", &|n| format!("{}: 1\n", "k".repeat(n))),
            ("plain, spaces before its `:`", &|n| {
                format!("{}  : 1\n", "k".repeat(n - 2))
            }),
            ("not ASCII", &|n| format!("{}: 1\n", "é".repeat(n))),
            ("quoted", &|n| format!("\"{}\": 1\n", "k".repeat(n - 2))),
            ("nested", &|n| {
                format!("a:\n  b: 1\n  {}: 1\n", "k".repeat(n))
            }),
        ];
        for (what, shape) in shapes {
            let what = format!("{what} key of {n} characters");
            // A longer implicit key is not YAML: a syntax error.
            holds_on_both_paths(&what, &limits, n, ParseErrorKind::Syntax, shape);
        }
        // In a flow mapping the fast reader reads a key at the limit and declines one past it
        // (which the full reader then reads as YAML reads it there).
        let flow = |n: usize| format!("a: {{{}: 1}}\n", "k".repeat(n));
        assert_eq!(read(&flow(n), &limits).0, Reader::Fast);
        assert!(fast::parse(&flow(n + 1), &limits).is_none());
        let _ = read(&flow(n + 1), &limits);
    }
}
