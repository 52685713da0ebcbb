//! A hand-written parser for the plain YAML that configuration files are written in.
//!
//! Most such files use a small part of YAML: block mappings and sequences, one-line flow
//! collections, one-line plain and quoted scalars, and comments. This parser reads that subset
//! several times faster than granit-parser, and builds exactly the tree that
//! [`super::parse_documents`]'s granit path builds from it: the same values, the same spans, the
//! same duplicate keys, the same empty documents left out.
//!
//! It never reports an error. Whatever is outside the subset, or looks wrong in any way, or would
//! pass one of the [`Limits`], makes it decline (`None`), and the granit path reads the file
//! instead: so every error message and every rarer YAML feature (anchors, tags, block scalars,
//! multi-line scalars and flows, ...) stays granit's.
//!
//! The limits are the granit path's own, counted as its builder counts them: collections nested
//! (`depth`, one more for each collection inside a collection), nodes (each key, scalar,
//! collection, empty value and empty document), documents (the one before the first `---` if it
//! has content, and one for each `---`), and the characters of an implicit key up to its `:`.
//! So it reads every file in its subset that is within them, and declines one past any of them,
//! which the granit path then refuses.
//!
//! Span conventions, as granit's markers give them (checked by the tests against granit):
//! - a scalar covers its text, quotes included, trailing spaces of a plain scalar excluded;
//! - a key is a scalar;
//! - a block mapping starts at its first key, a block sequence at its first `-`; both are empty;
//! - except a sequence as indented as its key (`key:` then `- item` below it): it starts where
//!   its first entry's content does (after the `- `; at the end of the line if there is none);
//! - a flow collection covers its opening bracket (`[` or `{`, one byte);
//! - an empty mapping value is an empty null at its key's `:`;
//! - an empty sequence entry is an empty null at the end of the `-` line (after any comment);
//! - columns count characters, offsets count bytes.

use std::borrow::Cow;
use std::cell::Cell;

use super::{Key, Node, Span, Value, core};
use crate::Limits;

/// The documents of `source`, or `None` when the granit path must read it (outside the
/// subset, or past one of `limits`).
pub(super) fn parse(source: &str, limits: &Limits) -> Option<Vec<Node>> {
    let mut parser = Parser {
        src: source,
        b: source.as_bytes(),
        next: 0,
        next_no: 1,
        cur: Cur::Eof,
        nodes: 0,
        limits: *limits,
        column_cache: Cell::new((usize::MAX, 0)),
    };
    parser.cur = parser.advance()?;
    let mut documents = Vec::new();
    // Documents as granit counts them: content before the first `---` is one, and each `---`
    // starts one (empty when another `---` or the end follows).
    let mut count = usize::from(matches!(parser.cur, Cur::Line(_)));
    loop {
        match parser.cur {
            Cur::Eof => break,
            Cur::Marker => {
                count += 1;
                parser.cur = parser.advance()?;
                if !matches!(parser.cur, Cur::Line(_)) {
                    // An empty document: granit reads a null, which counts as a node.
                    parser.count()?;
                }
            }
            Cur::Line(line) => {
                let node = parser.entry(line, line.start + line.indent, 0)?;
                // The root must be all of its document.
                if let Cur::Line(_) = parser.cur {
                    return None;
                }
                if node.value != Value::Null {
                    documents.push(node);
                }
            }
        }
        if count > limits.documents {
            return None;
        }
    }
    Some(documents)
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGH_BITS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The end of the line that starts at `start` (its `\n`, or the end of `b`), and whether the
/// line is ASCII. Declines on tabs, carriage returns, control characters and DEL.
fn scan_line(b: &[u8], start: usize) -> Option<(usize, bool)> {
    let mut ascii = true;
    let mut i = start;
    loop {
        // Eight bytes at a time while none is below 0x20 or above 0x7e.
        while let Some(word) = b.get(i..i + 8) {
            let word = u64::from_ne_bytes(word.try_into().ok()?);
            let below_space = word.wrapping_sub(ONES * 0x20) & !word;
            let above_tilde = word.wrapping_add(ONES) | word;
            if (below_space | above_tilde) & HIGH_BITS != 0 {
                break;
            }
            i += 8;
        }
        let Some(&byte) = b.get(i) else {
            return Some((i, ascii));
        };
        match byte {
            b'\n' => return Some((i, ascii)),
            0..0x20 | 0x7f => return None,
            0x80.. => ascii = false,
            _ => {}
        }
        i += 1;
    }
}

/// Whether a non-ASCII line is free of C1 controls (NEL included), byte order marks,
/// non-characters and Unicode line separators.
fn plain_unicode(line: &str) -> bool {
    !line.chars().any(|c| {
        matches!(
            c as u32,
            0x80..=0x9f | 0x2028 | 0x2029 | 0xfeff | 0xfffe | 0xffff
        )
    })
}

/// A line with content (not blank, not only a comment).
#[derive(Clone, Copy)]
struct Line {
    /// Byte offsets of its first byte and of its end (its `\n`, or the end of the source).
    start: usize,
    end: usize,
    /// 1-based.
    no: u32,
    /// Leading spaces.
    indent: usize,
    ascii: bool,
}

/// Where the reader stands: on a line with content, on a `---` line, or at the end.
#[derive(Clone, Copy)]
enum Cur {
    Line(Line),
    Marker,
    Eof,
}

/// What ends a scalar written in block context.
#[derive(Clone, Copy, PartialEq)]
enum Term {
    /// A `:` followed by a space or the end of the line, at this byte offset: the scalar is a
    /// key.
    Colon(usize),
    /// A comment, or the end of the line.
    End,
}

/// A scalar: its text (unescaped), whether it was plain, and its byte range.
struct Scalar<'s> {
    text: Cow<'s, str>,
    plain: bool,
    start: usize,
    end: usize,
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    /// The first byte and number of the line after the current one.
    next: usize,
    next_no: u32,
    cur: Cur,
    nodes: usize,
    limits: Limits,
    /// The offset and 0-based column of the last span, in a non-ASCII source.
    column_cache: Cell<(usize, usize)>,
}

fn is_flow_indicator(byte: u8) -> bool {
    matches!(byte, b',' | b'[' | b']' | b'{' | b'}')
}

/// Whether a plain scalar may start at `at` (before `end`): not on an indicator, except a `-`
/// before a letter, a digit or a `.` (`-7`, `-x`, `-.5`).
fn plain_may_start(b: &[u8], at: usize, end: usize) -> bool {
    match b[at] {
        b'-' => at + 1 < end && (b[at + 1].is_ascii_alphanumeric() || b[at + 1] == b'.'),
        b'?' | b':' | b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|'
        | b'>' | b'\'' | b'"' | b'%' | b'@' | b'`' | b' ' => false,
        _ => true,
    }
}

impl<'s> Parser<'s> {
    /// The next line with content, skipping blank lines and comment lines. Declines on `...` and
    /// on a `---` line with anything but a comment after it.
    fn advance(&mut self) -> Option<Cur> {
        let b = self.b;
        loop {
            if self.next >= b.len() {
                return Some(Cur::Eof);
            }
            let start = self.next;
            let (end, ascii) = scan_line(b, start)?;
            if !ascii && !plain_unicode(&self.src[start..end]) {
                return None;
            }
            let no = self.next_no;
            self.next = end + 1;
            self.next_no = self.next_no.checked_add(1)?;
            let indent = b[start..end].iter().take_while(|&&c| c == b' ').count();
            let first = start + indent;
            if first == end || b[first] == b'#' {
                continue;
            }
            if indent == 0 {
                let line = &b[start..end];
                if line.starts_with(b"...") {
                    return None;
                }
                if line.starts_with(b"---") {
                    let rest = &line[3..];
                    let spaces = rest.iter().take_while(|&&c| c == b' ').count();
                    return match rest.get(spaces) {
                        None => Some(Cur::Marker),
                        Some(b'#') if spaces > 0 => Some(Cur::Marker),
                        _ => None,
                    };
                }
            }
            return Some(Cur::Line(Line {
                start,
                end,
                no,
                indent,
                ascii,
            }));
        }
    }

    fn count(&mut self) -> Option<()> {
        self.nodes += 1;
        (self.nodes <= self.limits.nodes).then_some(())
    }

    fn span(&self, line: &Line, offset: usize, len: usize) -> Span {
        let column = if line.ascii {
            offset - line.start
        } else {
            // Characters from the line's start, counted on from the last span on this line.
            let (at, chars) = self.column_cache.get();
            let (from, before) = if (line.start..=offset).contains(&at) {
                (at, chars)
            } else {
                (line.start, 0)
            };
            let column = before + self.src[from..offset].chars().count();
            self.column_cache.set((offset, column));
            column
        };
        Span {
            line: line.no,
            column: u32::try_from(column + 1).unwrap_or(u32::MAX),
            offset,
            len,
        }
    }

    fn skip_spaces(&self, mut at: usize, end: usize) -> usize {
        while at < end && self.b[at] == b' ' {
            at += 1;
        }
        at
    }

    /// Whether a `-` at `at` starts a block sequence entry.
    fn is_dash(&self, line: &Line, at: usize) -> bool {
        self.b[at] == b'-' && (at + 1 == line.end || self.b[at + 1] == b' ')
    }

    /// A node written from `at` on `line`, where any node may start: a document root, or what
    /// follows a `- `. Leaves `cur` on the line after the node.
    fn entry(&mut self, line: Line, at: usize, depth: usize) -> Option<Node> {
        if self.is_dash(&line, at) {
            return self.block_sequence(line, at, depth, false);
        }
        if matches!(self.b[at], b'[' | b'{') {
            return self.inline(line, at, depth);
        }
        let (scalar, term) = self.block_scalar(&line, at)?;
        if let Term::Colon(_) = term {
            return self.block_mapping(line, at, depth);
        }
        let node = self.scalar_node(&line, scalar)?;
        self.cur = self.advance()?;
        Some(node)
    }

    /// A node that starts on the next line, more indented than its key or `-`: a block mapping or
    /// a block sequence (a scalar or flow there declines).
    fn nested(&mut self, line: Line, depth: usize) -> Option<Node> {
        let at = line.start + line.indent;
        if self.is_dash(&line, at) {
            self.block_sequence(line, at, depth, false)
        } else {
            self.block_mapping(line, at, depth)
        }
    }

    /// A mapping value written after its key's `: `: a scalar or a flow collection, the rest of
    /// the line a comment. Leaves `cur` on the next line.
    fn inline(&mut self, line: Line, at: usize, depth: usize) -> Option<Node> {
        let node = if matches!(self.b[at], b'[' | b'{') {
            let (node, after) = self.flow(&line, at, depth)?;
            let rest = self.skip_spaces(after, line.end);
            if rest < line.end && !(self.b[rest] == b'#' && rest > after) {
                return None;
            }
            node
        } else {
            let (scalar, term) = self.block_scalar(&line, at)?;
            if term != Term::End {
                return None;
            }
            self.scalar_node(&line, scalar)?
        };
        self.cur = self.advance()?;
        Some(node)
    }

    fn scalar_node(&mut self, line: &Line, scalar: Scalar<'s>) -> Option<Node> {
        self.count()?;
        let span = self.span(line, scalar.start, scalar.end - scalar.start);
        let value = if scalar.plain {
            // A value granit's path refuses (`.inf`) declines: the error is granit's to report.
            match core(&scalar.text, &self.limits).plain_value().ok()? {
                Some(value) => value,
                None => Value::String(scalar.text.into_owned()),
            }
        } else {
            Value::String(scalar.text.into_owned())
        };
        Some(Node { value, span })
    }

    /// A key: a one-line scalar at `at`, whose `:` is at `colon`.
    fn key(&mut self, line: &Line, at: usize, scalar: Scalar<'s>, colon: usize) -> Option<Key> {
        // Measured as granit measures it: characters from the key's start to its `:`.
        let long = colon - at > self.limits.implicit_key
            && (line.ascii || self.src[at..colon].chars().count() > self.limits.implicit_key);
        if long {
            return None;
        }
        self.count()?;
        let span = self.span(line, scalar.start, scalar.end - scalar.start);
        // The builder keeps a plain key's text as written, whatever it resolves to.
        Some(Key {
            name: scalar.text.into_owned(),
            span,
        })
    }

    /// A block mapping whose first key starts at `first` on `line` (the mapping's indentation is
    /// that key's column). Leaves `cur` on the first line after the mapping.
    fn block_mapping(&mut self, line: Line, first: usize, depth: usize) -> Option<Node> {
        if depth >= self.limits.depth {
            return None;
        }
        self.count()?;
        let indent = first - line.start;
        let span = self.span(&line, first, 0);
        let mut pairs = Vec::new();
        let (mut line, mut at) = (line, first);
        loop {
            let (scalar, term) = self.block_scalar(&line, at)?;
            let Term::Colon(colon) = term else {
                return None;
            };
            let key = self.key(&line, at, scalar, colon)?;
            let value_at = self.skip_spaces(colon + 1, line.end);
            let value = if value_at == line.end || self.b[value_at] == b'#' {
                self.cur = self.advance()?;
                match self.cur {
                    Cur::Line(next) if next.indent > indent => self.nested(next, depth + 1)?,
                    Cur::Line(next)
                        if next.indent == indent && self.is_dash(&next, next.start + indent) =>
                    {
                        self.block_sequence(next, next.start + indent, depth + 1, true)?
                    }
                    _ => {
                        self.count()?;
                        Node {
                            value: Value::Null,
                            span: self.span(&line, colon, 0),
                        }
                    }
                }
            } else {
                self.inline(line, value_at, depth + 1)?
            };
            pairs.push((key, value));
            match self.cur {
                Cur::Line(next) if next.indent == indent => {
                    line = next;
                    at = next.start + indent;
                }
                Cur::Line(next) if next.indent > indent => return None,
                _ => break,
            }
        }
        Some(Node {
            value: Value::Mapping(pairs),
            span,
        })
    }

    /// A block sequence whose first `-` is at `first` on `line`. Leaves `cur` on the first line
    /// after the sequence. An `indentless` sequence (a mapping value as indented as its key)
    /// starts where its first entry does, not at its `-`.
    fn block_sequence(
        &mut self,
        line: Line,
        first: usize,
        depth: usize,
        indentless: bool,
    ) -> Option<Node> {
        if depth >= self.limits.depth {
            return None;
        }
        self.count()?;
        let indent = first - line.start;
        let mut span = self.span(&line, first, 0);
        let mut items = Vec::new();
        let (mut line, mut dash) = (line, first);
        loop {
            let at = self.skip_spaces(dash + 1, line.end);
            let empty = at == line.end || self.b[at] == b'#';
            if indentless && items.is_empty() {
                // granit's entry token: after the `- `, and after a comment if any.
                span = self.span(&line, if empty { line.end } else { at }, 0);
            }
            let item = if empty {
                self.cur = self.advance()?;
                match self.cur {
                    Cur::Line(next) if next.indent > indent => self.nested(next, depth + 1)?,
                    _ => {
                        self.count()?;
                        Node {
                            value: Value::Null,
                            span: self.span(&line, line.end, 0),
                        }
                    }
                }
            } else {
                self.entry(line, at, depth + 1)?
            };
            items.push(item);
            match self.cur {
                Cur::Line(next)
                    if next.indent == indent && self.is_dash(&next, next.start + indent) =>
                {
                    line = next;
                    dash = next.start + indent;
                }
                Cur::Line(next) if next.indent > indent => return None,
                _ => break,
            }
        }
        Some(Node {
            value: Value::Sequence(items),
            span,
        })
    }

    /// A one-line scalar in block context at `at`, and what ends it. Declines on anything else
    /// after a quoted scalar.
    fn block_scalar(&self, line: &Line, at: usize) -> Option<(Scalar<'s>, Term)> {
        let b = self.b;
        let end = line.end;
        if matches!(b[at], b'"' | b'\'') {
            let scalar = self.quoted(at, end)?;
            let after = scalar.end;
            let rest = self.skip_spaces(after, end);
            let term = if rest == end {
                Term::End
            } else if b[rest] == b':' && (rest + 1 == end || b[rest + 1] == b' ') {
                Term::Colon(rest)
            } else if b[rest] == b'#' && rest > after {
                Term::End
            } else {
                return None;
            };
            return Some((scalar, term));
        }
        if !plain_may_start(b, at, end) {
            return None;
        }
        let mut i = at;
        let term = loop {
            if i == end {
                break Term::End;
            }
            match b[i] {
                b':' if i + 1 == end || b[i + 1] == b' ' => break Term::Colon(i),
                b'#' if b[i - 1] == b' ' => break Term::End,
                _ => i += 1,
            }
        };
        while b[i - 1] == b' ' {
            i -= 1;
        }
        let scalar = Scalar {
            text: self.src[at..i].into(),
            plain: true,
            start: at,
            end: i,
        };
        Some((scalar, term))
    }

    /// A one-line quoted scalar at `at`; `end` is the end of its line.
    fn quoted(&self, at: usize, end: usize) -> Option<Scalar<'s>> {
        let b = self.b;
        let src = self.src;
        let mut out: Option<String> = None;
        let mut segment = at + 1;
        let mut i = at + 1;
        if b[at] == b'\'' {
            loop {
                if i >= end {
                    return None;
                }
                if b[i] == b'\'' {
                    if i + 1 < end && b[i + 1] == b'\'' {
                        out.get_or_insert_with(String::new)
                            .push_str(&src[segment..=i]);
                        i += 2;
                        segment = i;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
        } else {
            loop {
                if i >= end {
                    return None;
                }
                match b[i] {
                    b'"' => break,
                    b'\\' => {
                        let s = out.get_or_insert_with(String::new);
                        s.push_str(&src[segment..i]);
                        let escape = *b.get(i + 1).filter(|_| i + 1 < end)?;
                        i += 2;
                        match escape {
                            b'\\' => s.push('\\'),
                            b'"' => s.push('"'),
                            b'/' => s.push('/'),
                            b'n' => s.push('\n'),
                            b't' => s.push('\t'),
                            b'r' => s.push('\r'),
                            b'b' => s.push('\u{8}'),
                            b'f' => s.push('\u{c}'),
                            b'0' => s.push('\0'),
                            b'u' => {
                                let hex = src.get(i..i + 4).filter(|_| i + 4 <= end)?;
                                if !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                                    return None;
                                }
                                let code = u32::from_str_radix(hex, 16).ok()?;
                                // Surrogates (granit pairs them up) decline.
                                s.push(char::from_u32(code)?);
                                i += 4;
                            }
                            _ => return None,
                        }
                        segment = i;
                    }
                    _ => i += 1,
                }
            }
        }
        let text = match out {
            None => src[at + 1..i].into(),
            Some(mut s) => {
                s.push_str(&src[segment..i]);
                s.into()
            }
        };
        Some(Scalar {
            text,
            plain: false,
            start: at,
            end: i + 1,
        })
    }

    /// A one-line flow collection at `at` (on `[` or `{`), and the offset after it.
    fn flow(&mut self, line: &Line, at: usize, depth: usize) -> Option<(Node, usize)> {
        if depth >= self.limits.depth {
            return None;
        }
        self.count()?;
        let b = self.b;
        let end = line.end;
        let span = self.span(line, at, 1);
        let mapping = b[at] == b'{';
        let close = if mapping { b'}' } else { b']' };
        let mut i = self.skip_spaces(at + 1, end);
        if i < end && b[i] == close {
            let value = if mapping {
                Value::Mapping(Vec::new())
            } else {
                Value::Sequence(Vec::new())
            };
            return Some((Node { value, span }, i + 1));
        }
        let mut items = Vec::new();
        let mut pairs = Vec::new();
        loop {
            if i >= end {
                return None;
            }
            if mapping {
                if matches!(b[i], b'[' | b'{') {
                    return None;
                }
                let (scalar, after) = self.flow_scalar(line, i)?;
                let colon = self.skip_spaces(after, end);
                // A value follows its key's `:` after a space, or at once after a quoted key
                // (YAML's JSON-like keys: `{"a":1}`, as JSON is written).
                if !(colon + 1 < end && b[colon] == b':' && (b[colon + 1] == b' ' || !scalar.plain))
                {
                    return None;
                }
                let key = self.key(line, i, scalar, colon)?;
                let value_at = self.skip_spaces(colon + 1, end);
                let (value, after) = self.flow_item(line, value_at, depth + 1)?;
                pairs.push((key, value));
                i = after;
            } else {
                let (item, after) = self.flow_item(line, i, depth + 1)?;
                items.push(item);
                i = after;
            }
            i = self.skip_spaces(i, end);
            if i >= end {
                return None;
            }
            if b[i] == close {
                let value = if mapping {
                    Value::Mapping(pairs)
                } else {
                    Value::Sequence(items)
                };
                return Some((Node { value, span }, i + 1));
            }
            if b[i] != b',' {
                return None;
            }
            i = self.skip_spaces(i + 1, end);
            // An empty entry or a trailing comma declines.
            if i >= end || b[i] == b',' || b[i] == close {
                return None;
            }
        }
    }

    /// A node in a flow collection, and the offset after it.
    fn flow_item(&mut self, line: &Line, at: usize, depth: usize) -> Option<(Node, usize)> {
        if at >= line.end {
            return None;
        }
        if matches!(self.b[at], b'[' | b'{') {
            return self.flow(line, at, depth);
        }
        let (scalar, after) = self.flow_scalar(line, at)?;
        Some((self.scalar_node(line, scalar)?, after))
    }

    /// A scalar in a flow collection, and the offset after it (before any spaces that follow).
    fn flow_scalar(&self, line: &Line, at: usize) -> Option<(Scalar<'s>, usize)> {
        let b = self.b;
        let end = line.end;
        if matches!(b[at], b'"' | b'\'') {
            let scalar = self.quoted(at, end)?;
            let after = scalar.end;
            return Some((scalar, after));
        }
        if !plain_may_start(b, at, end) {
            return None;
        }
        let mut i = at;
        loop {
            // The flow must close on this line.
            if i == end {
                return None;
            }
            match b[i] {
                c if is_flow_indicator(c) => break,
                b':' if i + 1 == end || b[i + 1] == b' ' || is_flow_indicator(b[i + 1]) => break,
                // A comment inside a flow: it goes on on the next line.
                b'#' if b[i - 1] == b' ' => return None,
                _ => i += 1,
            }
        }
        let after = i;
        while b[i - 1] == b' ' {
            i -= 1;
        }
        let scalar = Scalar {
            text: self.src[at..i].into(),
            plain: true,
            start: at,
            end: i,
        };
        Some((scalar, after))
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::path::{Path, PathBuf};

    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use super::FAST_READS;
    use super::*;

    /// The fast reader within the default limits.
    fn parse(source: &str) -> Option<Vec<Node>> {
        super::parse(source, &Limits::DEFAULT)
    }

    /// The full reader alone, within the default limits.
    fn parse_documents_granit(source: &str) -> Result<Vec<Node>, Vec<super::super::ParseError>> {
        super::super::parse_documents_granit(source, &Limits::DEFAULT)
    }

    /// `fast` agrees with granit: `Some(x)` means granit reads `Ok(x)`.
    fn check_agrees(source: &str) -> Result<bool, String> {
        let Some(fast) = parse(source) else {
            return Ok(false);
        };
        match parse_documents_granit(source) {
            Ok(granit) if granit == fast => Ok(true),
            Ok(granit) => Err(format!(
                "trees differ for {source:?}\nfast:   {fast:?}\ngranit: {granit:?}"
            )),
            Err(error) => Err(format!(
                "fast read {source:?}, granit refuses it: {error:?}\nfast: {fast:?}"
            )),
        }
    }

    /// Parses by the fast path, which must not decline, and checks it against granit.
    fn fast_one(source: &str) -> Node {
        assert_eq!(check_agrees(source), Ok(true), "{source:?}");
        let mut docs = parse(source).unwrap();
        assert_eq!(docs.len(), 1, "{source:?}");
        docs.remove(0)
    }

    fn span(line: u32, column: u32, offset: usize, len: usize) -> Span {
        Span {
            line,
            column,
            offset,
            len,
        }
    }

    // ---- A random manifest-like YAML document ------------------------------------------------

    /// A scalar as written: in block context, and in flow context (quoted when the plain text
    /// cannot stand in a flow).
    #[derive(Debug, Clone)]
    struct Written {
        block: String,
        flow: String,
    }

    #[derive(Debug, Clone)]
    struct Style {
        /// A collection written as a one-line flow.
        flow: bool,
        /// Extra indentation of a nested block collection (a sequence under a key may use 0).
        indent: usize,
        /// A collection in a sequence entry starts on the `-` line.
        compact: bool,
        /// Spaces, comments and blank lines.
        seed: u32,
    }

    #[derive(Debug, Clone)]
    enum Tree {
        Scalar(Written),
        /// Nothing written: a null.
        Empty,
        Seq(Vec<Tree>, Style),
        Map(Vec<(Written, Tree)>, Style),
    }

    fn double_quote(text: &str, seed: u32) -> String {
        let mut out = String::from("\"");
        for (i, c) in text.chars().enumerate() {
            let pick = (seed >> (i % 31)) & 1 == 1;
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\0' => out.push_str(if pick { "\\0" } else { "\\u0000" }),
                '/' if pick => out.push_str("\\/"),
                'é' if pick => out.push_str("\\u00e9"),
                'A' if pick => out.push_str("\\u0041"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn single_quote(text: &str) -> String {
        format!("'{}'", text.replace('\'', "''"))
    }

    /// Text that a plain scalar may hold: no `: `, ` #`, trailing `:` or spaces, no leading
    /// indicator.
    fn plain_fixup(text: &str) -> String {
        let mut text = text.replace(": ", ":_").replace(" #", " _#");
        while text.ends_with([' ', ':']) {
            text.pop();
        }
        if text.is_empty() || !plain_may_start(text.as_bytes(), 0, text.len()) {
            text.insert(0, 'p');
        }
        text
    }

    fn flow_safe(text: &str) -> bool {
        !text.contains([',', '[', ']', '{', '}'])
    }

    fn plain(text: String, seed: u32) -> Written {
        // What the loader refuses plain (`.inf`, `.nan`) is written quoted, as a person would.
        if matches!(
            core(&text, &Limits::DEFAULT),
            super::super::Core::NotJson | super::super::Core::Radix(None)
        ) {
            let quoted = double_quote(&text, seed);
            return Written {
                block: quoted.clone(),
                flow: quoted,
            };
        }
        let flow = if flow_safe(&text) {
            text.clone()
        } else {
            double_quote(&text, seed)
        };
        Written { block: text, flow }
    }

    const PLAIN_WORDS: &[&str] = &[
        "42",
        "-7",
        "0",
        "007",
        "1.5",
        "-1.5",
        "1e3",
        "1E-3",
        "2.5e+10",
        ".5",
        "-.5",
        "+3",
        "0x1F",
        "0o17",
        "0x",
        "0xZZ",
        "123456789012345678901234567890",
        "18446744073709551615",
        "-9223372036854775808",
        "1e999",
        ".inf",
        "-.inf",
        ".nan",
        "1.2.3",
        "1_000",
        "0.",
        "true",
        "True",
        "TRUE",
        "false",
        "yes",
        "no",
        "on",
        "off",
        "null",
        "Null",
        "NULL",
        "~",
        "https://hub0.bench.example.com/oauth/callback",
        "http://coolshop.com/",
        "articles:read",
        "a:b",
        "10:30",
        "a#b",
        "x-y",
        "-x",
        "é→x",
        "日本語",
        "emoji 😀 ok",
        "it's",
        "say \"hi\"",
        "a b  c",
        "v1.2",
        "50%",
        "a&b *c !d |e >f ?g @h `i`",
        "x?",
        "a,b",
        "x{y}",
        "x[0]",
        "/contacts/{{id}}",
        "support+0@bench.example.com",
        "\u{a0}nbsp",
        "Connect hub 0",
        "$headers.'retry-after'",
    ];

    fn plain_scalar() -> impl Strategy<Value = Written> {
        prop_oneof![
            (prop::sample::select(PLAIN_WORDS), any::<u32>())
                .prop_map(|(w, seed)| plain(w.to_owned(), seed)),
            (
                "[a-zA-Z0-9é日😀._/~+$][a-zA-Z0-9 é日😀._/:#@'\"!&*%?|>~+$,-]{0,14}",
                any::<u32>()
            )
                .prop_map(|(w, seed)| plain(plain_fixup(&w), seed)),
        ]
    }

    fn quoted_scalar() -> impl Strategy<Value = Written> {
        prop_oneof![
            (
                "[a-zA-Z0-9 é日😀#:'\"\\\\/\n\t\r\u{8}\u{c}\0A,\\[\\]{}-]{0,12}",
                any::<u32>()
            )
                .prop_map(|(t, seed)| {
                    let q = double_quote(&t, seed);
                    Written {
                        block: q.clone(),
                        flow: q,
                    }
                }),
            "[a-zA-Z0-9 é日😀#:'\"\\\\/,\\[\\]{}-]{0,12}".prop_map(|t| {
                let q = single_quote(&t);
                Written {
                    block: q.clone(),
                    flow: q,
                }
            }),
        ]
    }

    fn scalar() -> impl Strategy<Value = Written> {
        prop_oneof![3 => plain_scalar(), 1 => quoted_scalar()]
    }

    const KEYS: &[&str] = &[
        "name",
        "type",
        "title",
        "a",
        "b",
        "1",
        "-1",
        "0x1F",
        "true",
        "null",
        "~",
        "a b",
        "a:b",
        "é",
        "日本",
        "$schema",
        "error_401",
        "x-y",
        "k#1",
        "properties",
        "items",
    ];

    fn key() -> impl Strategy<Value = Written> {
        prop_oneof![
            6 => (prop::sample::select(KEYS), any::<u32>()).prop_map(|(k, seed)| plain(k.to_owned(), seed)),
            2 => "[a-z][a-zA-Z0-9_]{0,8}".prop_map(|k| plain(k, 0)),
            1 => quoted_scalar(),
        ]
    }

    fn style() -> impl Strategy<Value = Style> {
        (
            prop::bool::weighted(0.2),
            1usize..5,
            any::<bool>(),
            any::<u32>(),
        )
            .prop_map(|(flow, indent, compact, seed)| Style {
                flow,
                indent,
                compact,
                seed,
            })
    }

    fn tree() -> impl Strategy<Value = Tree> {
        let leaf = prop_oneof![8 => scalar().prop_map(Tree::Scalar), 1 => Just(Tree::Empty)];
        leaf.prop_recursive(6, 96, 6, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..6), style())
                    .prop_map(|(items, s)| Tree::Seq(items, s)),
                (prop::collection::vec((key(), inner), 0..7), style())
                    .prop_map(|(pairs, s)| Tree::Map(pairs, s)),
            ]
        })
    }

    /// A document root: usually a block mapping.
    fn root() -> impl Strategy<Value = Tree> {
        prop_oneof![
            6 => (prop::collection::vec((key(), tree()), 1..8), style())
                .prop_map(|(pairs, s)| Tree::Map(pairs, Style { flow: false, ..s })),
            1 => tree(),
        ]
    }

    const COMMENTS: &[&str] = &[
        "",
        " a comment",
        " yaml-language-server: $schema=../schemas/intsync-manifest.schema.json",
        "# key: value",
        " - item",
        " 'quoted' \"text\" [flow] {x: y}",
        " é 😀",
        " &anchor *alias !tag | >",
        " ---",
    ];

    struct Writer {
        out: String,
        seed: u64,
    }

    impl Writer {
        fn pick(&mut self, n: u64) -> u64 {
            // xorshift: the rendering choices follow from the generated seeds.
            self.seed ^= self.seed << 13;
            self.seed ^= self.seed >> 7;
            self.seed ^= self.seed << 17;
            self.seed % n
        }

        fn spaces(&mut self, n: usize) {
            self.out.extend(std::iter::repeat_n(' ', n));
        }

        /// Blank lines and comment lines, sometimes.
        fn decor(&mut self, indent: usize) {
            for _ in 0..3 {
                match self.pick(12) {
                    0 => self.out.push('\n'),
                    1 => {
                        let n = self.pick(6) as usize;
                        self.spaces(n);
                        self.out.push('\n');
                    }
                    2 | 3 => {
                        let n = match self.pick(3) {
                            0 => indent,
                            1 => 0,
                            _ => self.pick(8) as usize,
                        };
                        self.spaces(n);
                        let text = COMMENTS[self.pick(COMMENTS.len() as u64) as usize];
                        let _ = writeln!(self.out, "#{text}");
                    }
                    _ => return,
                }
            }
        }

        /// The end of a line with a value: spaces, a comment, or nothing.
        fn line_end(&mut self) {
            match self.pick(8) {
                0 => {
                    let n = 1 + self.pick(3) as usize;
                    self.spaces(n);
                }
                1 | 2 => {
                    let n = 1 + self.pick(3) as usize;
                    self.spaces(n);
                    let text = COMMENTS[self.pick(COMMENTS.len() as u64) as usize];
                    let _ = write!(self.out, "#{text}");
                }
                _ => {}
            }
            self.out.push('\n');
        }

        fn flow(&mut self, tree: &Tree) {
            match tree {
                Tree::Scalar(s) => self.out.push_str(&s.flow),
                Tree::Empty => {
                    let text = ["null", "~", "\"\""][self.pick(3) as usize];
                    self.out.push_str(text);
                }
                Tree::Seq(items, _) => {
                    self.out.push('[');
                    let inner = self.pick(2) as usize;
                    self.spaces(inner);
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            let before = self.pick(4) / 3;
                            self.spaces(before as usize);
                            self.out.push(',');
                            let after = 1 - self.pick(5) / 4;
                            self.spaces(after as usize);
                        }
                        self.flow(item);
                    }
                    self.spaces(inner);
                    self.out.push(']');
                }
                Tree::Map(pairs, _) => {
                    self.out.push('{');
                    let inner = self.pick(2) as usize;
                    self.spaces(inner);
                    for (i, (k, v)) in pairs.iter().enumerate() {
                        if i > 0 {
                            self.out.push(',');
                            let after = 1 - self.pick(5) / 4;
                            self.spaces(after as usize);
                        }
                        self.out.push_str(&k.flow);
                        let before = self.pick(5) / 4;
                        self.spaces(before as usize);
                        self.out.push_str(": ");
                        self.flow(v);
                    }
                    self.spaces(inner);
                    self.out.push('}');
                }
            }
        }

        /// Whether this node is written on the line of its key or `-`.
        fn inline(tree: &Tree) -> bool {
            match tree {
                Tree::Scalar(_) | Tree::Empty => true,
                Tree::Seq(items, s) => s.flow || items.is_empty(),
                Tree::Map(pairs, s) => s.flow || pairs.is_empty(),
            }
        }

        /// A block mapping at `indent`; the first key is already indented when `first_inline`.
        fn map(&mut self, pairs: &[(Written, Tree)], indent: usize, first_inline: bool) {
            for (i, (k, v)) in pairs.iter().enumerate() {
                if i > 0 || !first_inline {
                    if i > 0 {
                        self.decor(indent);
                    }
                    self.spaces(indent);
                }
                self.out.push_str(&k.block);
                let before = self.pick(6) / 5;
                self.spaces(before as usize);
                self.out.push(':');
                self.value(v, indent);
            }
        }

        /// A mapping value, after its key's `:`.
        fn value(&mut self, tree: &Tree, key_indent: usize) {
            match tree {
                Tree::Empty => self.line_end(),
                tree if Self::inline(tree) => {
                    let n = 1 + self.pick(4) / 3;
                    self.spaces(n as usize);
                    if let Tree::Scalar(s) = tree {
                        self.out.push_str(&s.block);
                    } else {
                        self.flow(tree);
                    }
                    self.line_end();
                }
                Tree::Map(pairs, s) => {
                    self.line_end();
                    self.decor(key_indent + s.indent);
                    self.map(pairs, key_indent + s.indent, false);
                }
                Tree::Seq(items, s) => {
                    self.line_end();
                    self.decor(key_indent + s.indent - 1);
                    self.seq(items, key_indent + s.indent - 1, false);
                }
                _ => unreachable!(),
            }
        }

        /// A block sequence at `indent`; the first `-` is already indented when `first_inline`.
        fn seq(&mut self, items: &[Tree], indent: usize, first_inline: bool) {
            for (i, item) in items.iter().enumerate() {
                if i > 0 || !first_inline {
                    if i > 0 {
                        self.decor(indent);
                    }
                    self.spaces(indent);
                }
                self.out.push('-');
                match item {
                    Tree::Empty => self.line_end(),
                    item if Self::inline(item) => {
                        let n = 1 + self.pick(4) / 3;
                        self.spaces(n as usize);
                        if let Tree::Scalar(s) = item {
                            self.out.push_str(&s.block);
                        } else {
                            self.flow(item);
                        }
                        self.line_end();
                    }
                    Tree::Map(pairs, s) if s.compact => {
                        let n = s.indent;
                        self.spaces(n);
                        self.map(pairs, indent + 1 + n, true);
                    }
                    Tree::Seq(items, s) if s.compact => {
                        let n = s.indent;
                        self.spaces(n);
                        self.seq(items, indent + 1 + n, true);
                    }
                    Tree::Map(pairs, s) => {
                        self.line_end();
                        self.decor(indent + s.indent);
                        self.map(pairs, indent + s.indent, false);
                    }
                    Tree::Seq(items, s) => {
                        self.line_end();
                        self.decor(indent + s.indent);
                        self.seq(items, indent + s.indent, false);
                    }
                    _ => unreachable!(),
                }
            }
        }

        fn document(&mut self, tree: &Tree) {
            self.decor(0);
            match tree {
                Tree::Map(pairs, s) if !Self::inline(tree) => {
                    let indent = if s.seed % 8 == 0 { 2 } else { 0 };
                    self.spaces(indent);
                    self.map(pairs, indent, true);
                }
                Tree::Seq(items, s) if !Self::inline(tree) => {
                    let indent = if s.seed % 8 == 0 { 1 } else { 0 };
                    self.spaces(indent);
                    self.seq(items, indent, true);
                }
                Tree::Scalar(s) => {
                    self.out.push_str(&s.block);
                    self.line_end();
                }
                Tree::Empty => {}
                tree => {
                    self.flow(tree);
                    self.line_end();
                }
            }
            self.decor(0);
        }
    }

    /// YAML text for some documents.
    fn render(docs: &[Tree], seed: u64) -> String {
        let mut w = Writer {
            out: String::new(),
            seed: seed | 1,
        };
        if w.pick(4) == 0 {
            w.out.push_str(
                "# yaml-language-server: $schema=../schemas/intsync-manifest.schema.json\n",
            );
        }
        for (i, doc) in docs.iter().enumerate() {
            if i > 0 || w.pick(5) == 0 {
                let marker = ["---\n", "--- \n", "--- # next\n"][w.pick(3) as usize];
                w.out.push_str(marker);
            }
            w.document(doc);
        }
        if w.pick(3) == 0 && w.out.ends_with('\n') {
            w.out.pop();
        }
        w.out
    }

    fn source() -> impl Strategy<Value = String> {
        (prop::collection::vec(root(), 1..3), any::<u64>())
            .prop_map(|(docs, seed)| render(&docs, seed))
    }

    // ---- Differential tests against granit ---------------------------------------------------

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

        /// Everything the generator writes is in the subset, and reads as granit reads it.
        #[test]
        fn generated_manifests_take_the_fast_path_and_agree(source in source()) {
            prop_assert_eq!(check_agrees(&source), Ok(true), "{}", source);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

        /// Within any limits, the fast reader reads a generated document exactly when the full
        /// reader does, and the same tree: past a limit it declines, and the full reader
        /// refuses the file as past a limit. (Implicit keys are held to their limit in
        /// `limit_tests.rs`: the generator's keys are short.)
        #[test]
        fn the_readers_share_every_limit(
            source in source(),
            depth in 0usize..8,
            nodes in 0usize..60,
            documents in 0usize..4,
            radix_digits in 0usize..4,
        ) {
            let limits = Limits { depth, nodes, documents, radix_digits, ..Limits::DEFAULT };
            let fast = super::parse(&source, &limits);
            let full = super::super::parse_documents_granit(&source, &limits);
            match (&fast, &full) {
                (Some(fast), Ok(full)) => prop_assert_eq!(fast, full, "{}", source),
                (None, Err(errors)) => prop_assert!(
                    errors.iter().all(|e| e.kind == super::super::ParseErrorKind::Limit),
                    "{:?}: {:?}\n{}", limits, errors, source
                ),
                _ => prop_assert!(false, "{:?}: fast {:?}, full {:?}\n{}", limits, fast, full, source),
            }
        }
    }

    /// One edit at a char boundary: an insertion, a deletion or a replacement.
    fn mutate(source: &str, edits: &[(usize, u8, usize)]) -> String {
        const CHARS: &[&str] = &[
            ":", "#", "-", "'", "\"", "{", "}", "[", "]", ",", " ", "  ", "\n", "\t", "\r", "&",
            "*", "!", "|", ">", "?", "%", "@", "`", "\\", "x", "1", ".", "---", "...", "é",
            "\u{85}", "\u{feff}", "\0", "\u{7f}", "\u{1b}", "\u{2028}", "\u{a0}", ": ", " #", "- ",
            "\n  ", "\n-", "\n ", "~",
        ];
        let mut text = source.to_owned();
        for &(at, kind, pick) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let insert = CHARS[pick % CHARS.len()];
            let next = text[at..].chars().next().map_or(0, char::len_utf8);
            match kind % 3 {
                0 => text.insert_str(at, insert),
                1 => text.replace_range(at..at + next, ""),
                _ => text.replace_range(at..at + next, insert),
            }
        }
        text
    }

    /// Broken or unusual variants of generated documents: whatever the fast path reads, granit
    /// reads the same way (and whatever granit refuses, the fast path declines).
    #[test]
    fn mutated_manifests_decline_or_agree() {
        let mut runner = TestRunner::new(Config {
            cases: 6_000,
            failure_persistence: None,
            ..Config::default()
        });
        let taken = Cell::new((0usize, 0usize, 0usize));
        let edits = prop::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..4);
        runner
            .run(&(source(), edits), |(source, edits)| {
                let (mut cases, mut unmutated, mut mutated) = taken.get();
                cases += 1;
                if check_agrees(&source).map_err(TestCaseError::fail)? {
                    unmutated += 1;
                }
                let broken = mutate(&source, &edits);
                if check_agrees(&broken).map_err(TestCaseError::fail)? {
                    mutated += 1;
                }
                taken.set((cases, unmutated, mutated));
                Ok(())
            })
            .unwrap();
        let (cases, unmutated, mutated) = taken.get();
        // Proptest also runs the shrunk cases of a failure; there is none here.
        assert!(unmutated * 10 >= cases * 9, "{unmutated} of {cases}");
        // Enough of the mutants are read by the fast path to make the comparison count.
        assert!(
            mutated * 5 >= cases,
            "{mutated} of {cases} mutants read fast"
        );
        println!("{cases} cases: {unmutated} read fast, {mutated} mutants read fast");
    }

    // ---- Real manifests ---------------------------------------------------------------------

    fn workspace() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn yaml_files(dir: &Path) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .map(walkdir::DirEntry::into_path)
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        files
    }

    /// Every YAML file of the repository's manifests, fixtures, fuzz corpus and examples reads
    /// the same on both paths (or is declined).
    #[test]
    fn repository_yaml_files_decline_or_agree() {
        let mut read = 0;
        let mut total = 0;
        for dir in [
            "manifests",
            "tests/fixtures",
            "fuzz/corpus",
            "docs/examples",
        ] {
            for file in yaml_files(&workspace().join(dir)) {
                let source = std::fs::read_to_string(&file).unwrap();
                total += 1;
                match check_agrees(&source) {
                    Ok(fast) => read += usize::from(fast),
                    Err(e) => panic!("{}: {e}", file.display()),
                }
            }
        }
        assert!(total >= 40, "only {total} files found");
        assert!(read * 4 >= total * 3, "{read} of {total} files read fast");
    }

    /// The repository's manifests take the fast path, except where a YAML feature outside the
    /// subset is used on purpose.
    #[test]
    fn repository_manifests_take_the_fast_path() {
        // Its description is a folded block scalar (`>-`), which granit reads.
        let declined = ["northwind-docs.yaml"];
        let files = yaml_files(&workspace().join("manifests"));
        assert!(files.len() >= 4, "{files:?}");
        for file in files {
            let source = std::fs::read_to_string(&file).unwrap();
            let name = file.file_name().unwrap().to_str().unwrap();
            let expected = !declined.contains(&name);
            assert_eq!(check_agrees(&source), Ok(expected), "{name}");
        }
    }

    const CORPUS_MANIFEST: &str = r#"# yaml-language-server: $schema=../schemas/intsync-manifest.schema.json
apiVersion: intsync/v1
kind: AdaPlatformIntegration
spec:
  name: Generated Knowledge Hub 0
  contact: support+0@bench.example.com
  oauth_callback_url: https://hub0.bench.example.com/oauth/callback
  tags: [knowledge]
  scopes: [articles:read, articles:write, knowledge_sources:write]
  error_codes:
    error_401: The API key was rejected
  configuration_fields:
    title: Connect hub 0
    type: object
    required: [connection, sync]
    properties:
      connection:
        type: object
        properties:
          workspace:
            type: object
            properties:
              slug: { type: string, title: Workspace slug, pattern: "^hub0-[a-z0-9-]+$" }
              region: { type: string, enum: [us, eu, ap, zone-0], default: us }
          apiKey: { type: string, title: API key, format: password, minLength: 32 }
      sync:
        type: object
        properties:
          languages:
            type: array
            minItems: 1
            items: { type: string, enum: [en, fr, de, es] }
"#;

    #[test]
    fn corpus_manifests_take_the_fast_path() {
        let variations = [
            CORPUS_MANIFEST.to_owned(),
            CORPUS_MANIFEST.replace("  ", "    "),
            CORPUS_MANIFEST.replace(
                "[knowledge]",
                "\n    - knowledge  # the only tag\n    - faq",
            ),
            CORPUS_MANIFEST.replace(
                "title: Connect hub 0",
                "title: 'Connect ''hub'' 0'\n\n    # the form",
            ),
            CORPUS_MANIFEST.replace("Generated Knowledge Hub 0", "Générateur → 日本 😀"),
            CORPUS_MANIFEST.replace(
                "minLength: 32",
                "minLength: 32, description: \"a \\\"key\\\" \\u00e9\"",
            ),
            format!("---\n{CORPUS_MANIFEST}---\n# nothing\n---\n{CORPUS_MANIFEST}"),
            CORPUS_MANIFEST.replace(
                "error_401: The API key was rejected",
                "error_401:\n    error_429: null",
            ),
            CORPUS_MANIFEST.trim_end().to_owned(),
        ];
        for source in &variations {
            assert_eq!(check_agrees(source), Ok(true), "{source}");
        }
        let doc = fast_one(&variations[0]);
        assert_eq!(
            doc.pointer("/spec/configuration_fields/properties/connection/properties/workspace/properties/slug/pattern")
                .and_then(Node::as_str),
            Some("^hub0-[a-z0-9-]+$")
        );
        assert_eq!(parse(&variations[6]).unwrap().len(), 2);
    }

    /// JSON values of every shape, as `serde_json` writes them.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        use serde_json::Value as Json;
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            (-1e6f64..1e6).prop_map(Json::from),
            "[a-z0-9 :#,\\[\\]{}'\"\\\\/éü\u{1F600}-]{0,12}".prop_map(Json::String),
        ];
        leaf.prop_recursive(4, 24, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Json::Array),
                proptest::collection::vec(("[a-z_:#]{1,8}", inner), 0..5)
                    .prop_map(|pairs| Json::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #![proptest_config(Config::with_cases(512))]

        /// A spec written as one line of JSON (as scripts and `kubectl`-style tools write
        /// YAML) takes the fast path and reads as granit reads it.
        #[test]
        fn json_written_specs_take_the_fast_path_and_agree(
            spec in proptest::collection::vec(("[a-z_]{1,8}", json_value()), 1..6),
        ) {
            let spec = serde_json::Value::Object(spec.into_iter().collect());
            let source = format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {spec}\n");
            prop_assert_eq!(check_agrees(&source), Ok(true), "{}", source);
        }
    }

    #[test]
    fn json_like_keys_take_their_value_at_once() {
        let doc = fast_one(r#"spec: {"a":1, "b" :[2,"x"], "c":{"d":"e"}, 'f':g}"#);
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"spec": {"a": 1, "b": [2, "x"], "c": {"d": "e"}, "f": "g"}})
        );
        assert_eq!(check_agrees("a: {\"b\":c}\n"), Ok(true));
        // A plain key needs the space: `{a:1}` is the key `a:1`, which granit reads.
        assert_eq!(parse("spec: {a:1}\n"), None);
    }

    #[test]
    fn parse_documents_uses_the_fast_path() {
        let reads = FAST_READS.with(Cell::get);
        let docs = super::super::parse_documents(CORPUS_MANIFEST).unwrap();
        assert_eq!(FAST_READS.with(Cell::get), reads + 1);
        assert_eq!(docs, parse(CORPUS_MANIFEST).unwrap());
        // Declined: granit reads it.
        let docs = super::super::parse_documents("a: &x 1\nb: *x\n").unwrap();
        assert_eq!(FAST_READS.with(Cell::get), reads + 1);
        assert_eq!(docs[0].to_json(), serde_json::json!({"a": 1, "b": 1}));
    }

    // ---- Declines ---------------------------------------------------------------------------

    #[test]
    fn outside_the_subset_declines() {
        // Past the limits (`limit_tests.rs` has them at their edges).
        let limits = Limits::DEFAULT;
        let deep_block: String = (0..=limits.depth)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        let deep_flow = format!(
            "a: {}{}\n",
            "[".repeat(limits.depth),
            "]".repeat(limits.depth)
        );
        let long_key = format!("{}: 1\n", "k".repeat(limits.implicit_key + 1));
        let many_documents = "a: 1\n---\n".repeat(limits.documents);
        let cases: &[(&str, &str)] = &[
            ("anchor", "a: &x 1\nb: 2\n"),
            ("alias", "a: 1\nb: *x\n"),
            ("anchor on a mapping", "a: &x\n  b: 1\n"),
            ("tag", "a: !!str 1\n"),
            ("local tag", "a: !custom x\n"),
            ("literal block scalar", "a: |\n  x\n"),
            ("folded block scalar", "a: >-\n  x\n  y\n"),
            ("tab indentation", "a:\n\tb: 1\n"),
            ("tab after a value", "a: b\t# c\n"),
            ("multi-line plain scalar", "a: b\n  c\n"),
            ("multi-line plain entry", "- a\n  b\n"),
            ("scalar on the next line", "a:\n  b\n"),
            ("multi-line double-quoted", "a: \"b\n  c\"\n"),
            ("multi-line single-quoted", "a: 'b\n  c'\n"),
            ("multi-line flow", "a: [b,\n  c]\n"),
            ("comment in a flow", "a: [b, # c\n  d]\n"),
            ("CRLF", "a: 1\r\nb: 2\r\n"),
            ("CR", "a: 1\rb: 2\n"),
            ("BOM", "\u{feff}a: 1\n"),
            ("NEL", "a: b\u{85}c\n"),
            ("control character", "a: b\u{1}c\n"),
            ("NUL", "a: b\0\n"),
            ("directive", "%YAML 1.2\n---\na: 1\n"),
            ("document end", "a: 1\n...\n"),
            ("content after ---", "--- a: 1\n"),
            ("complex key", "? a\n: b\n"),
            ("flow key", "[a]: b\n"),
            ("single-pair mapping in a flow sequence", "a: [b: c]\n"),
            ("empty flow entry", "a: [b, , c]\n"),
            ("trailing comma", "a: [b, c,]\n"),
            ("unsupported escape", "a: \"\\x41\"\n"),
            ("surrogate escape", "a: \"\\ud83d\\ude00\"\n"),
            ("mapping value in a value", "a: b: c\n"),
            ("sequence entry in a value", "a: - b\n"),
            ("indicator start", "a: @b\n"),
            ("reserved start", "a: `b`\n"),
            ("over-indented key", "a: 1\n  b: 2\n"),
            ("under-indented key", "a:\n    b: 1\n  c: 2\n"),
            ("deep block nesting", &deep_block),
            ("deep flow nesting", &deep_flow),
            ("long key", &long_key),
            ("many documents", &many_documents),
        ];
        for (what, source) in cases {
            assert_eq!(parse(source), None, "{what}: {source:?}");
        }
    }

    /// Past a limit of the full parser's (nodes, depth, documents), the fast reader declines,
    /// so that the file is refused with granit's diagnostic, exactly as if the fast reader did
    /// not exist. Each source here would be read by the fast reader without its own check of
    /// that limit (its node count, the depth of a block mapping, a block sequence or a flow,
    /// its document count).
    #[test]
    fn past_a_limit_the_fast_reader_declines_and_the_file_is_refused() {
        use super::super::{ParseErrorKind, parse_documents};
        let sources = [
            ("250,000 entries", "- x\n".repeat(250_000)),
            (
                "250,000 entries in a flow",
                format!("a: [{}]\n", vec!["x"; 250_000].join(", ")),
            ),
            (
                "125,000 pairs",
                (0..125_000).map(|i| format!("k{i}: v\n")).collect(),
            ),
            (
                "block mappings 60 deep",
                (0..60).map(|i| format!("{}k:\n", "  ".repeat(i))).collect(),
            ),
            (
                "block sequences 60 deep",
                (0..60).map(|i| format!("{}-\n", "  ".repeat(i))).collect(),
            ),
            (
                "compact sequences 60 deep",
                format!("{}x\n", "- ".repeat(60)),
            ),
            (
                "flows 60 deep",
                format!("a: {}{}\n", "[".repeat(60), "]".repeat(60)),
            ),
            (
                "1,001 documents",
                "a: 1\n---\n".repeat(Limits::DEFAULT.documents + 1),
            ),
        ];
        for (what, source) in &sources {
            assert!(parse(source).is_none(), "{what}: the fast reader read it");
            let read = parse_documents(source);
            let granit = parse_documents_granit(source);
            assert_eq!(format!("{read:?}"), format!("{granit:?}"), "{what}");
            let errors = read.expect_err(what);
            assert_eq!(errors.len(), 1, "{what}: {errors:?}");
            assert_eq!(errors[0].kind, ParseErrorKind::Limit, "{what}: {errors:?}");
        }
        // Just inside the limits, both read it (and agree).
        let inside = [
            "- x\n".repeat(40_000),
            (0..30).map(|i| format!("{}k:\n", "  ".repeat(i))).collect(),
            // Markers count as documents for the fast reader: 40 of each.
            "a: 1\n---\n".repeat(40),
        ];
        for (i, source) in inside.iter().enumerate() {
            assert_eq!(check_agrees(source), Ok(true), "inside #{i}");
        }
    }

    // ---- Spans ------------------------------------------------------------------------------

    #[test]
    fn spans_of_keys_values_and_empty_values() {
        let source = concat!(
            "# header\n",          // line 1
            "name: Hub  # c\n",    // 2
            "empty:\n",            // 3
            "'q''k' : \"v\\n\"\n", // 4
            "list:\n",             // 5
            "- a\n",               // 6
            "-   # nothing\n",     // 7
            "nested:\n",           // 8
            "  seq:\n",            // 9
            "    - x: 1\n",        // 10
            "      y:\n",          // 11
            "    - [b, {c: d}]\n", // 12
            "é: ü\n",              // 13
        );
        let doc = fast_one(source);
        assert_eq!(
            doc.span,
            span(2, 1, 9, 0),
            "a block mapping starts at its first key"
        );
        let (key, value) = doc.get("name").unwrap();
        assert_eq!(key.span, span(2, 1, 9, 4));
        assert_eq!(
            value.span,
            span(2, 7, 15, 3),
            "trailing spaces are not in the scalar"
        );
        let (key, value) = doc.get("empty").unwrap();
        assert_eq!(key.span, span(3, 1, 24, 5));
        assert_eq!(value.value, Value::Null);
        assert_eq!(
            value.span,
            span(3, 6, 29, 0),
            "an empty value is at the `:`"
        );
        let (key, value) = doc.get("q'k").unwrap();
        assert_eq!(key.span, span(4, 1, 31, 6), "quotes are in the span");
        assert_eq!(value.span, span(4, 10, 40, 5));
        assert_eq!(value.as_str(), Some("v\n"));
        let list = doc.get("list").unwrap().1;
        assert_eq!(
            list.span,
            span(6, 3, 54, 0),
            "a sequence as indented as its key starts at its first entry"
        );
        let items = list.as_sequence().unwrap();
        assert_eq!(items[1].value, Value::Null);
        assert_eq!(
            items[1].span,
            span(7, 14, 69, 0),
            "an empty entry is at the end of its line"
        );
        let seq = doc.pointer("/nested/seq").unwrap();
        assert_eq!(
            seq.span,
            span(10, 5, 89, 0),
            "an indented sequence starts at its `-`"
        );
        assert_eq!(
            doc.pointer("/nested/seq/0").unwrap().span,
            span(10, 7, 91, 0)
        );
        assert_eq!(
            doc.pointer("/nested/seq/0/y").unwrap().span,
            span(11, 8, 103, 0)
        );
        let flow = doc.pointer("/nested/seq/1").unwrap();
        assert_eq!(
            flow.span,
            span(12, 7, 111, 1),
            "a flow collection is its bracket"
        );
        assert_eq!(
            doc.pointer("/nested/seq/1/1").unwrap().span,
            span(12, 11, 115, 1)
        );
        assert_eq!(
            doc.pointer("/nested/seq/1/1/c").unwrap().span,
            span(12, 15, 119, 1)
        );
        let (key, value) = doc.get("é").unwrap();
        assert_eq!(key.span, span(13, 1, 123, 2));
        assert_eq!(value.span, span(13, 4, 127, 2), "columns count characters");

        // A sequence as indented as its key, whose first entry is on the next line: it starts
        // at the end of its first `-` line.
        let doc = fast_one("a:\n-  # c\n  b: 1\n");
        assert_eq!(doc.pointer("/a").unwrap().span, span(2, 7, 9, 0));
        assert_eq!(doc.pointer("/a/0").unwrap().span, span(3, 3, 12, 0));
    }

    #[test]
    fn keys_keep_their_text_and_scalars_resolve_as_granit_does() {
        let doc = fast_one(
            "1: a\ntrue: 0x1F\nnull: ~\n\"2\": '3'\nbig: 123456789012345678901234567890\nyes: -.5\n",
        );
        assert_eq!(
            doc.to_json(),
            serde_json::from_str::<serde_json::Value>(
                r#"{"1": "a", "true": 31, "null": null, "2": "3",
                "big": 123456789012345678901234567890, "yes": -0.5}"#
            )
            .unwrap()
        );
        let doc = fast_one("a: 1\na: 2\n");
        assert_eq!(
            doc.as_mapping().unwrap().len(),
            2,
            "duplicate keys are kept"
        );
        assert_eq!(parse("# only a comment\n---\n~\n"), Some(vec![]));
    }

    // ---- Speed ------------------------------------------------------------------------------

    /// `cargo test -p intsync-yaml --release -- --ignored --nocapture fast_path_speed`: both
    /// paths over 2,000 files of the validate benchmark's corpus (`target/bench-manifests`, or
    /// `INTSYNC_BENCH_MANIFESTS`), which `cargo bench --bench validate` writes.
    #[test]
    #[ignore = "a measurement, in release mode"]
    fn fast_path_speed() {
        let dir = std::env::var_os("INTSYNC_BENCH_MANIFESTS")
            .map_or_else(|| workspace().join("target/bench-manifests"), PathBuf::from);
        let files = yaml_files(&dir);
        if files.is_empty() {
            println!("skipped: no manifests in {}", dir.display());
            return;
        }
        let sources: Vec<String> = files
            .iter()
            .take(2_000)
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect();
        let bytes: usize = sources.iter().map(String::len).sum();
        for source in &sources {
            assert_eq!(check_agrees(source), Ok(true), "{source}");
        }
        let time = |f: &dyn Fn(&str) -> usize| {
            let mut best = std::time::Duration::MAX;
            for _ in 0..7 {
                let start = std::time::Instant::now();
                let n: usize = sources.iter().map(|s| f(s)).sum();
                best = best.min(start.elapsed());
                assert_eq!(n, sources.len());
            }
            best
        };
        let granit = time(&|s| {
            parse_documents_granit(std::hint::black_box(s))
                .unwrap()
                .len()
        });
        let fast = time(&|s| parse(std::hint::black_box(s)).unwrap().len());
        let mb = |d: std::time::Duration| bytes as f64 / 1e6 / d.as_secs_f64();
        println!(
            "{} files, {} KB: granit {:.1} ms ({:.0} MB/s), fast {:.1} ms ({:.0} MB/s): {:.1}x",
            sources.len(),
            bytes / 1_000,
            granit.as_secs_f64() * 1e3,
            mb(granit),
            fast.as_secs_f64() * 1e3,
            mb(fast),
            granit.as_secs_f64() / fast.as_secs_f64()
        );
    }
}

#[cfg(test)]
thread_local! {
    /// Documents lists [`parse`] returned to [`super::parse_documents`] on this thread.
    pub(super) static FAST_READS: Cell<usize> = const { Cell::new(0) };
}
