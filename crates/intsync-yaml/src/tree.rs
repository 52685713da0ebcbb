//! A YAML document as a tree of nodes that each remember where they came from.
//!
//! granit-parser (the YAML 1.2 parser under serde-saphyr) produces events; this module builds
//! them into [`Node`]s, so that every key
//! and every value can be pointed at (file:line:column, byte range) by a diagnostic. The tree is
//! deliberately generic: a caller's checks read it, and [`Node::to_json`] turns the parts it
//! keeps into plain JSON.
//!
//! Most files are plain YAML (block collections, one-line flows and scalars, comments):
//! [`fast`] reads those by hand, several times faster, into the very same tree, and declines
//! everything else, which granit-parser reads.

use std::collections::HashMap;

use granit_parser::{Event, Marker, Parser, ScalarStyle, StructureStyle, Tag};

use crate::Limits;

mod fast;
#[cfg(test)]
mod limit_tests;
#[cfg(test)]
mod suite;

/// Where a key or value sits in its source text: 1-based line and column (in characters), and
/// the byte range, which is what miette labels need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub line: u32,
    pub column: u32,
    pub offset: usize,
    pub len: usize,
}

impl Span {
    /// A zero-width span at a byte offset of `source`, with line and column computed from it.
    pub fn at_offset(source: &str, offset: usize) -> Span {
        let offset = offset.min(source.len());
        let before = &source.as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        Span {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
            offset,
            len: 0,
        }
    }
}

/// A mapping key: its text and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: Span,
}

/// One YAML node and its span. For aliases the span is where the alias is used.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

/// The value of a [`Node`]. Mappings keep their pairs in source order, duplicates included, so
/// that a duplicate key can be reported instead of silently dropped.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Sequence(Vec<Node>),
    Mapping(Vec<(Key, Node)>),
    /// `!var NAME` (the local tag `!var` on a scalar): a value the caller looks up by `NAME`
    /// (intsync: a target's var). Left unresolved here; [`Node::to_json`] cannot carry it.
    Var(String),
}

impl Value {
    /// The YAML/JSON type name used in "expected X, found Y" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Sequence(_) => "a list",
            Value::Mapping(_) => "a mapping",
            Value::Var(_) => "a `!var` reference",
        }
    }
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_mapping(&self) -> Option<&[(Key, Node)]> {
        match &self.value {
            Value::Mapping(pairs) => Some(pairs),
            _ => None,
        }
    }

    pub fn as_sequence(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Sequence(items) => Some(items),
            _ => None,
        }
    }

    /// The first pair with this key, for mappings.
    pub fn get(&self, key: &str) -> Option<(&Key, &Node)> {
        self.as_mapping()?
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, v)| (k, v))
    }

    /// Follows a JSON pointer (RFC 6901) through the tree, as jsonschema reports instance paths.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for raw in pointer.strip_prefix('/')?.split('/') {
            let token = raw.replace("~1", "/").replace("~0", "~");
            node = match &node.value {
                Value::Mapping(_) => node.get(&token)?.1,
                Value::Sequence(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Like [`Node::pointer`], but for a pointer that ends at a mapping key, returns the key's
    /// span (where an unknown or misplaced key should be reported).
    pub fn pointer_key_span(&self, pointer: &str) -> Option<Span> {
        let (parent, last) = pointer.rsplit_once('/')?;
        let last = last.replace("~1", "/").replace("~0", "~");
        self.pointer(parent)?.get(&last).map(|(k, _)| k.span)
    }

    /// Plain JSON for this subtree. Duplicate keys keep the last value, as YAML loaders do.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => serde_json::Value::Number(n.clone()),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Sequence(items) => items.iter().map(Node::to_json).collect(),
            Value::Mapping(pairs) => serde_json::Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
            // A reference has no value of its own: callers resolve every one before this.
            Value::Var(_) => serde_json::Value::Null,
        }
    }

    /// Whether a `!var` reference is this node or under it.
    pub fn has_var(&self) -> bool {
        match &self.value {
            Value::Var(_) => true,
            Value::Sequence(items) => items.iter().any(Node::has_var),
            Value::Mapping(pairs) => pairs.iter().any(|(_, v)| v.has_var()),
            _ => false,
        }
    }
}

/// What kind of problem a [`ParseError`] is: the caller chooses its diagnostic code by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// Not YAML, or YAML intsync does not read: a tag outside the core schema, a value that
    /// does not match its core tag, a key that is not a string.
    Syntax,
    /// Past one of the [`Limits`]: nodes (aliases at their expanded size), nesting, documents,
    /// the digits of a hexadecimal or octal integer.
    Limit,
    /// A number JSON has no spelling for (`.inf`, `-.inf`, `.nan`).
    NotJson,
    /// A tag intsync does not read: outside the core schema, or on a value it does not fit.
    Tag,
}

/// A YAML error that stops a file from being read, with where it happened when known.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub kind: ParseErrorKind,
    pub message: String,
    pub span: Option<Span>,
}

impl ParseError {
    fn at(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Syntax,
            message: message.into(),
            span: Some(span),
        }
    }

    fn tag(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Tag,
            ..ParseError::at(span, message)
        }
    }

    fn limit(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            kind: ParseErrorKind::Limit,
            ..ParseError::at(span, message)
        }
    }

    /// Why the scalar `text` at `span` has no value.
    fn value(span: Span, text: &str, problem: ValueProblem, limits: &Limits) -> ParseError {
        let text = shown(text);
        match problem {
            ValueProblem::NotJson => ParseError {
                kind: ParseErrorKind::NotJson,
                ..ParseError::at(
                    span,
                    format!(
                        "`{text}` is a number JSON cannot carry (JSON has no infinity or NaN); quote it (\"{text}\") if a string is meant"
                    ),
                )
            },
            ValueProblem::TooLong => ParseError::limit(
                span,
                format!(
                    "a hexadecimal or octal integer of more than {} digits",
                    limits.radix_digits
                ),
            ),
            ValueProblem::Tag(message) => ParseError::tag(span, message),
        }
    }
}

/// A scalar's text as a message shows it: escaped (it comes from the file, and may hold control
/// characters), and cut short at 40 characters, with `…` after.
pub fn shown(text: &str) -> String {
    const SHOWN: usize = 40;
    let mut out: String = text
        .chars()
        .take(SHOWN)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(SHOWN).is_some() {
        out.push('…');
    }
    out
}

fn marker_span(source: &str, start: Marker, end: Marker) -> Span {
    let offset = start.byte_offset().unwrap_or(0).min(source.len());
    let end = end
        .byte_offset()
        .unwrap_or(offset)
        .clamp(offset, source.len());
    Span {
        line: u32::try_from(start.line()).unwrap_or(u32::MAX),
        column: u32::try_from(start.col() + 1).unwrap_or(u32::MAX),
        offset,
        len: end - offset,
    }
}

/// A collection being built. Its items (or pairs) so far are the tail of the builder's
/// `items` (or `pairs`) from `start` on: one buffer for all open collections, so that each
/// finished collection is allocated once, at its final size, instead of growing.
enum Frame {
    Sequence {
        span: Span,
        anchor: usize,
        start: usize,
        flow: bool,
    },
    Mapping {
        span: Span,
        anchor: usize,
        start: usize,
        key: Option<Key>,
        flow: bool,
    },
}

/// Builds [`Node`] trees from parser events, enforcing the limits.
struct Builder<'s> {
    source: &'s str,
    limits: Limits,
    stack: Vec<Frame>,
    /// The items of the open sequences, innermost last.
    items: Vec<Node>,
    /// The pairs of the open mappings, innermost last.
    pairs: Vec<(Key, Node)>,
    /// Anchored nodes by the parser's anchor id, with their size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    documents: Vec<Node>,
    /// Open flow collections (`[...]`, `{...}`).
    flows: usize,
    /// Values that cannot be read, in source order: the file is refused, but every one of them
    /// is reported, not only the first.
    problems: Vec<ParseError>,
}

impl Builder<'_> {
    fn count(&mut self, n: usize, span: Span) -> Result<(), ParseError> {
        self.nodes += n;
        let most = self.limits.nodes;
        if self.nodes > most {
            let message = if self.anchors.is_empty() {
                format!("the YAML has more than {most} nodes")
            } else {
                format!("aliases expand to more than {most} nodes (an alias bomb)")
            };
            return Err(ParseError::limit(span, message));
        }
        Ok(())
    }

    fn push_frame(&mut self, frame: Frame, span: Span) -> Result<(), ParseError> {
        if self.stack.len() >= self.limits.depth {
            return Err(too_deep(span, &self.limits));
        }
        self.count(1, span)?;
        self.stack.push(frame);
        Ok(())
    }

    /// A finished node: becomes a key, a value, an item, or a document root. `raw` is the
    /// scalar's source text, which a mapping key keeps as written (`1:` is the key "1").
    fn finish(
        &mut self,
        node: Node,
        anchor: usize,
        raw: Option<&str>,
        size: usize,
    ) -> Result<(), ParseError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), size));
        }
        match self.stack.last_mut() {
            None => {
                if self.documents.len() >= self.limits.documents {
                    return Err(ParseError::limit(
                        node.span,
                        format!("more than {} documents in one file", self.limits.documents),
                    ));
                }
                self.documents.push(node);
            }
            Some(Frame::Sequence { .. }) => self.items.push(node),
            Some(Frame::Mapping { key, .. }) => match key.take() {
                Some(k) => self.pairs.push((k, node)),
                None => {
                    let span = node.span;
                    // A string key's text moves into the key: no copy.
                    let name = match (node.value, raw) {
                        (Value::String(s), _) => s,
                        (Value::Var(_), _) => {
                            return Err(ParseError::tag(
                                span,
                                "`!var` stands for a value, not a key: keys are written as they are",
                            ));
                        }
                        (_, Some(raw)) => raw.to_owned(),
                        (value, None) => {
                            return Err(ParseError::at(
                                span,
                                format!(
                                    "mapping keys must be strings, found {}",
                                    value.type_name()
                                ),
                            ));
                        }
                    };
                    *key = Some(Key { name, span });
                }
            },
        }
        Ok(())
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ParseError> {
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, span)?;
                if style == ScalarStyle::Plain {
                    self.check_plain_start(&text, span)?;
                }
                let at_key = matches!(self.stack.last(), Some(Frame::Mapping { key: None, .. }));
                let resolved = match resolve_scalar(&text, style, tag.as_deref(), &self.limits) {
                    Ok(resolved) => resolved,
                    // A plain key is its text, whatever it would resolve to: `.inf: x` is the
                    // key ".inf".
                    Err(ValueProblem::NotJson | ValueProblem::TooLong) if at_key => {
                        Some(Value::Null)
                    }
                    Err(problem) => {
                        let problem = ParseError::value(span, &text, problem, &self.limits);
                        self.problems.push(problem);
                        Some(Value::Null)
                    }
                };
                match resolved {
                    // The text is the value: moved when the parser owns it, copied once otherwise.
                    None => {
                        let value = Value::String(text.into_owned());
                        self.finish(Node { value, span }, anchor, None, 1)
                    }
                    Some(value) => self.finish(Node { value, span }, anchor, Some(&text), 1),
                }
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).map(|(n, s)| (n.clone(), *s)) else {
                    return Err(ParseError::at(span, "alias to an unknown anchor"));
                };
                self.count(size, span)?;
                // The alias is reported where it is used. (A key needs no raw text: a string
                // moves into the key, anything else is refused.)
                self.finish(Node { span, ..node }, 0, None, size)
            }
            Event::SequenceStart(style, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq", span)?;
                let start = self.items.len();
                let flow = style == StructureStyle::Flow;
                self.push_frame(
                    Frame::Sequence {
                        span,
                        anchor,
                        start,
                        flow,
                    },
                    span,
                )?;
                self.flows += usize::from(flow);
                Ok(())
            }
            Event::MappingStart(style, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map", span)?;
                let start = self.pairs.len();
                let flow = style == StructureStyle::Flow;
                self.push_frame(
                    Frame::Mapping {
                        span,
                        anchor,
                        start,
                        key: None,
                        flow,
                    },
                    span,
                )?;
                self.flows += usize::from(flow);
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor, flow) = match self.stack.pop() {
                    Some(Frame::Sequence {
                        span,
                        anchor,
                        start,
                        flow,
                    }) => (
                        Node {
                            value: Value::Sequence(self.items.drain(start..).collect()),
                            span,
                        },
                        anchor,
                        flow,
                    ),
                    Some(Frame::Mapping {
                        span,
                        anchor,
                        start,
                        flow,
                        ..
                    }) => (
                        Node {
                            value: Value::Mapping(self.pairs.drain(start..).collect()),
                            span,
                        },
                        anchor,
                        flow,
                    ),
                    None => return Err(ParseError::at(span, "unbalanced collection end")),
                };
                self.flows -= usize::from(flow);
                let size = if anchor == 0 { 0 } else { node.size() };
                self.finish(node, anchor, None, size)
            }
            Event::DocumentEnd => {
                // Anchors are scoped to their document.
                self.anchors.clear();
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

impl Builder<'_> {
    /// YAML lets `?`, `:` and `-` start a plain scalar only before a character that is "safe"
    /// in it (§7.3.3 `ns-plain-first`): not a space or a line break, and inside a flow
    /// collection not one of `,[]{}`. granit-parser reads `[?, x]` as `["?", "x"]`; YAML does
    /// not read it at all.
    fn check_plain_start(&self, text: &str, span: Span) -> Result<(), ParseError> {
        let Some(first @ ('?' | ':' | '-')) = text.chars().next() else {
            return Ok(());
        };
        // An empty scalar reads as `~` at the next token: only a scalar written from here on.
        if self.source.as_bytes().get(span.offset) != Some(&(first as u8)) {
            return Ok(());
        }
        let next = self.source[span.offset + 1..].chars().next();
        let unsafe_next = match next {
            None | Some(' ' | '\t' | '\n' | '\r') => true,
            Some(',' | '[' | ']' | '{' | '}') => self.flows > 0,
            Some(_) => false,
        };
        if !unsafe_next {
            return Ok(());
        }
        let after = match next {
            Some(c @ (',' | '[' | ']' | '{' | '}')) => format!("`{c}`"),
            Some(' ' | '\t') => "a space".to_owned(),
            _ => "the end of the line".to_owned(),
        };
        Err(ParseError::at(
            span,
            format!(
                "`{first}` before {after} cannot start a plain value; quote it (\"{first}\") if it is the value"
            ),
        ))
    }
}

impl Node {
    /// The number of nodes in this subtree (what an alias to it costs).
    fn size(&self) -> usize {
        1 + match &self.value {
            Value::Sequence(items) => items.iter().map(Node::size).sum(),
            Value::Mapping(pairs) => pairs.iter().map(|(_, v)| 1 + v.size()).sum(),
            _ => 0,
        }
    }
}

fn check_collection_tag(tag: Option<&Tag>, expected: &str, span: Span) -> Result<(), ParseError> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.is_yaml_core_schema_tag(expected) || is_non_specific(tag) => Ok(()),
        Some(tag) if is_var(tag) => Err(ParseError::tag(
            span,
            "`!var` stands for a whole value and names it: `!var NAME`, not a list or a mapping",
        )),
        Some(tag) => Err(ParseError::tag(span, unsupported_tag(tag))),
    }
}

/// The local tag `!var`, as written (not through a `%TAG` directive).
fn is_var(tag: &Tag) -> bool {
    tag.handle() == "!" && tag.suffix() == "var" && tag.original() == "!var"
}

/// `!var NAME`: a plain or quoted scalar naming the value, nothing else.
fn var_reference(text: &str, style: ScalarStyle) -> Result<Option<Value>, ValueProblem> {
    let name = text.trim();
    if !matches!(
        style,
        ScalarStyle::Plain | ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted
    ) || name.is_empty()
    {
        return Err(ValueProblem::Tag(
            "`!var` needs the name of a var on the same line: `!var NAME`".to_owned(),
        ));
    }
    Ok(Some(Value::Var(name.to_owned())))
}

/// The non-specific tag `!`: a scalar is a string, a collection what it is written as.
fn is_non_specific(tag: &Tag) -> bool {
    tag.handle().is_empty() && tag.suffix() == "!"
}

fn unsupported_tag(tag: &Tag) -> String {
    let written = tag.original();
    let resolved = format!("{}{}", tag.handle(), tag.suffix());
    // `%TAG` can make `!!int` mean something else: say what it means here.
    let meaning = if resolved == written {
        String::new()
    } else {
        format!(" (here `{}`)", shown(&resolved))
    };
    format!(
        "unsupported YAML tag `{}`{meaning}: intsync reads only YAML's core tags (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`, `!!seq`, `!!map`) and `!var NAME`",
        shown(&written)
    )
}

/// A scalar's value: by its tag when it has one (`!!str 1` is "1", `!!int "7"` is 7, and a value
/// that does not match its core tag's form is refused), else a plain scalar's by the core
/// schema and a quoted one's as a string. `Ok(None)` means the string `text` itself (which the
/// caller owns, and may move).
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    limits: &Limits,
) -> Result<Option<Value>, ValueProblem> {
    let Some(tag) = tag else {
        return match style {
            ScalarStyle::Plain => core(text, limits).plain_value(),
            _ => Ok(None),
        };
    };
    if is_non_specific(tag) {
        return Ok(None);
    }
    if is_var(tag) {
        return var_reference(text, style);
    }
    let Some(kind) = tag.core_suffix() else {
        return Err(ValueProblem::Tag(unsupported_tag(tag)));
    };
    let form = core(text, limits);
    let fits = match kind {
        "str" => return Ok(None),
        "null" => matches!(form, Core::Null),
        "bool" => matches!(form, Core::Bool(_)),
        "int" => matches!(form, Core::Decimal(_) | Core::Radix(_)),
        // The core float form includes `1` and `-7`, and `.inf`/`.nan`.
        "float" => matches!(form, Core::Decimal(_) | Core::Float(_) | Core::NotJson),
        _ => {
            return Err(ValueProblem::Tag(format!(
                "`!!{kind}` is a collection's tag; a scalar cannot have it"
            )));
        }
    };
    if !fits {
        return Err(ValueProblem::Tag(format!(
            "`{}` is not a valid !!{kind}",
            shown(text)
        )));
    }
    form.plain_value()
}

/// What a scalar's text is under the YAML 1.2 core schema (§10.3.2): the form its text matches.
/// YAML 1.1's `yes`/`no`/`on`/`off` match none, so they are strings (as the core schema reads
/// them).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Core {
    /// Matches no other form: the scalar is the string it spells.
    Str,
    Null,
    Bool(bool),
    /// `[-+]?[0-9]+`, as an exact JSON number.
    Decimal(serde_json::Number),
    /// `0o[0-7]+` or `0x[0-9a-fA-F]+` (no sign), as an exact JSON number in decimal; `None`
    /// past [`Limits::radix_digits`].
    Radix(Option<serde_json::Number>),
    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, as the JSON number of the same
    /// exact value (`1.` is `1`, `.5` is `0.5`, `+1.5` is `1.5`): its digits are never read
    /// through an `f64`.
    Float(serde_json::Number),
    /// `[-+]?\.(inf|Inf|INF)` or `\.(nan|NaN|NAN)`: floats JSON has no spelling for.
    NotJson,
}

impl Core {
    /// The value of a plain (untagged, unquoted) scalar of this form.
    fn plain_value(self) -> Result<Option<Value>, ValueProblem> {
        Ok(Some(match self {
            Core::Str => return Ok(None),
            Core::Null => Value::Null,
            Core::Bool(b) => Value::Bool(b),
            Core::Decimal(n) | Core::Float(n) | Core::Radix(Some(n)) => Value::Number(n),
            Core::Radix(None) => return Err(ValueProblem::TooLong),
            Core::NotJson => return Err(ValueProblem::NotJson),
        }))
    }
}

/// Why a scalar has no value intsync can carry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ValueProblem {
    /// A float JSON cannot spell (`.inf`, `-.inf`, `.nan`).
    NotJson,
    /// A hexadecimal or octal integer of more than [`Limits::radix_digits`] digits.
    TooLong,
    /// A tag intsync does not read, or a value that does not match its core tag's form.
    Tag(String),
}

/// The core-schema form of `text`, a plain scalar's (or a tagged scalar's) text; a hexadecimal
/// or octal integer past `limits` has no value.
pub(crate) fn core(text: &str, limits: &Limits) -> Core {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Core::Null,
        "true" | "True" | "TRUE" => return Core::Bool(true),
        "false" | "False" | "FALSE" => return Core::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return Core::NotJson,
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Core::Str;
    }
    // No sign before `0x` or `0o`: `-0x1F` is a string in YAML 1.2 core.
    if let Some(hex) = text.strip_prefix("0x")
        && !hex.is_empty()
        && hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Core::Radix(radix_to_decimal(hex, 16, limits.radix_digits));
    }
    if let Some(oct) = text.strip_prefix("0o")
        && !oct.is_empty()
        && oct.bytes().all(|b| (b'0'..=b'7').contains(&b))
    {
        return Core::Radix(radix_to_decimal(oct, 8, limits.radix_digits));
    }
    let (negative, unsigned) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        // Integers have no negative zero: `-0` is 0.
        let digits = unsigned.trim_start_matches('0');
        let digits = if digits.is_empty() { "0" } else { digits };
        let sign = if negative && digits != "0" { "-" } else { "" };
        return Core::Decimal(json_number(&format!("{sign}{digits}")));
    }
    match json_float(unsigned) {
        Some(spelled) => {
            let sign = if negative { "-" } else { "" };
            Core::Float(json_number(&format!("{sign}{spelled}")))
        }
        None => Core::Str,
    }
}

/// A number from text that is valid JSON by construction.
fn json_number(text: &str) -> serde_json::Number {
    text.parse()
        .unwrap_or_else(|e| unreachable!("`{text}` is JSON by construction: {e}"))
}

/// `text` (sign stripped) as a JSON number's text of the same exact value, if it matches YAML
/// 1.2 core's float form: leading zeros dropped, `0` before a leading `.`, a trailing `.`
/// dropped, the exponent as written (JSON spells exponents as YAML does).
fn json_float(text: &str) -> Option<String> {
    if !is_float(text) {
        return None;
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let dot = if frac.is_empty() { "" } else { "." };
    Some(format!("{int}{dot}{frac}{exponent}"))
}

/// The decimal value of an unsigned integer written in base 8 or 16, exactly, or `None` when it
/// has more than `most` significant digits.
fn radix_to_decimal(digits: &str, radix: u32, most: usize) -> Option<serde_json::Number> {
    /// Limbs hold 18 decimal digits; a chunk of 14 digits in base 16 (or 18 in base 8) is at
    /// most 2^56 (2^54), so a limb times a chunk's weight plus a carry fits in a `u128`.
    const LIMB: u128 = 1_000_000_000_000_000_000;
    let digits = digits.trim_start_matches('0');
    if digits.len() > most {
        return None;
    }
    let chunk = if radix == 16 { 14 } else { 18 };
    // Little-endian base-10^18 limbs.
    let mut limbs: Vec<u64> = Vec::new();
    for part in digits.as_bytes().chunks(chunk) {
        let part = std::str::from_utf8(part).ok()?;
        let weight = u128::from(radix).pow(u32::try_from(part.len()).ok()?);
        let mut carry = u128::from_str_radix(part, radix).ok()?;
        for limb in &mut limbs {
            let value = u128::from(*limb) * weight + carry;
            *limb = u64::try_from(value % LIMB).ok()?;
            carry = value / LIMB;
        }
        while carry > 0 {
            limbs.push(u64::try_from(carry % LIMB).ok()?);
            carry /= LIMB;
        }
    }
    let mut text = limbs.last().map_or_else(|| "0".to_owned(), u64::to_string);
    for limb in limbs.iter().rev().skip(1) {
        text.push_str(&format!("{limb:018}"));
    }
    Some(json_number(&text))
}

/// `(\.[0-9]+ | [0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (YAML 1.2 core float, sign stripped).
pub(crate) fn is_float(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// Parses every document of a YAML stream, within [`Limits::DEFAULT`]. Empty documents are
/// skipped.
///
/// Plain YAML is read by a hand-written parser (`tree/fast.rs`), several times faster; anything
/// it is not sure about is read by granit-parser, with the same result for what both read.
///
/// # Errors
///
/// Every value that cannot be read (a `.inf`, a value its tag refuses), in source order, and
/// then the syntax error or limit that stopped the reading, if one did: never empty.
pub fn parse_documents(source: &str) -> Result<Vec<Node>, Vec<ParseError>> {
    parse_documents_within(source, &Limits::DEFAULT)
}

/// [`parse_documents`] within other [`Limits`] than the default ones. Both readers enforce
/// them alike: a file past one is refused with the same typed error whichever would read it.
///
/// # Errors
///
/// As [`parse_documents`].
pub fn parse_documents_within(source: &str, limits: &Limits) -> Result<Vec<Node>, Vec<ParseError>> {
    if let Some(documents) = fast::parse(source, limits) {
        #[cfg(test)]
        fast::FAST_READS.with(|n| n.set(n.get() + 1));
        return Ok(documents);
    }
    parse_documents_granit(source, limits)
}

/// granit-parser's options for reading within `limits`: its own limits, which stop runaway
/// nesting before the builder sees it (one past ours: the builder's message is the one met),
/// and the longest implicit key. YAML's own indentation rules are the caller's choice.
pub(crate) fn granit_options(limits: &Limits) -> granit_parser::Options {
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = limits.depth + 1;
    options.block_nesting_limit = limits.depth + 1;
    options.simple_key_max_lookahead = limits.implicit_key;
    options.emit_comments = false;
    options
}

/// [`parse_documents`] by granit-parser's events, for any YAML.
fn parse_documents_granit(source: &str, limits: &Limits) -> Result<Vec<Node>, Vec<ParseError>> {
    let mut options = granit_options(limits);
    // YAML's own indentation rules: a flow collection's lines indented under its key
    // (yaml-test-suite 9C9N), which granit-parser lets pass by default, as PyYAML does.
    options.strict_indentation = true;
    let mut parser = Parser::new_from_str_with_options(source, options);
    let mut builder = Builder {
        source,
        limits: *limits,
        stack: Vec::new(),
        items: Vec::new(),
        pairs: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        documents: Vec::new(),
        flows: 0,
        problems: Vec::new(),
    };
    while let Some(next) = parser.next_event() {
        let stop = match next {
            Ok((event, span)) => {
                let span = marker_span(builder.source, span.start, span.end);
                match builder.event(event, span) {
                    Ok(()) => continue,
                    Err(error) => error,
                }
            }
            Err(error) => {
                let strictness = matches!(
                    error.kind(),
                    granit_parser::ErrorKind::InvalidIndentation
                        | granit_parser::ErrorKind::InvalidFlowScalarIndent
                );
                match strictness.then(|| lenient_error(source, limits)) {
                    // Only YAML's own indentation rules refuse it (PyYAML would read it): say
                    // which rules.
                    Some(None) => {
                        let marker = *error.marker();
                        ParseError::at(
                            marker_span(source, marker, marker),
                            format!(
                                "{}: YAML wants each line of a `[...]` or `{{...}}` collection, and of a value continued on the next line, indented more than the key or `-` it belongs to",
                                error.info()
                            ),
                        )
                    }
                    // Broken either way: the lenient reading's error names the first problem
                    // (an unclosed `[` rather than the indentation of the line after it).
                    Some(Some(lenient)) => scan_error(source, &lenient, limits),
                    None => scan_error(source, &error, limits),
                }
            }
        };
        builder.problems.push(stop);
        return Err(builder.problems);
    }
    if !builder.problems.is_empty() {
        return Err(builder.problems);
    }
    Ok(builder
        .documents
        .into_iter()
        .filter(|d| d.value != Value::Null)
        .collect())
}

/// A granit-parser error as a [`ParseError`].
fn scan_error(source: &str, error: &granit_parser::ScanError, limits: &Limits) -> ParseError {
    let marker = *error.marker();
    let span = marker_span(source, marker, marker);
    let info = error.info();
    if matches!(
        error.kind(),
        granit_parser::ErrorKind::RecursionLimitExceeded
            | granit_parser::ErrorKind::InputByteLimitExceeded { .. }
    ) {
        too_deep(span, limits)
    } else {
        ParseError::at(span, info)
    }
}

/// The first error granit-parser finds in `source` without YAML's strict indentation rules, if
/// any: to tell a file that fails only those rules from one broken anyway. Only on that
/// error's path.
fn lenient_error(source: &str, limits: &Limits) -> Option<granit_parser::ScanError> {
    Parser::new_from_str_with_options(source, granit_options(limits)).find_map(Result::err)
}

/// Past [`Limits::depth`], by the builder's count or granit-parser's own.
fn too_deep(span: Span, limits: &Limits) -> ParseError {
    ParseError::limit(
        span,
        format!("the YAML nests deeper than {} levels", limits.depth),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX_RADIX_DIGITS: usize = Limits::DEFAULT.radix_digits;

    /// The full reader alone, within the default limits.
    fn parse_documents_granit(source: &str) -> Result<Vec<Node>, Vec<ParseError>> {
        super::parse_documents_granit(source, &Limits::DEFAULT)
    }

    fn parse_one(source: &str) -> Node {
        let mut docs = parse_documents(source).expect("valid YAML");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    /// The one error of a file that cannot be read.
    fn only_error(read: Result<Vec<Node>, Vec<ParseError>>) -> ParseError {
        let mut errors = read.expect_err("an error");
        assert_eq!(errors.len(), 1, "{errors:?}");
        errors.remove(0)
    }

    #[test]
    fn keys_and_values_carry_their_spans() {
        let doc = parse_one("a: 1\nnested:\n  é: x\n  list: [true, ~]\n");
        let (key, value) = doc.pointer("/nested").unwrap().get("é").unwrap();
        assert_eq!((key.span.line, key.span.column), (3, 3));
        assert_eq!((value.span.line, value.span.column), (3, 6));
        let null = doc.pointer("/nested/list/1").unwrap();
        assert_eq!(null.value, Value::Null);
        assert_eq!((null.span.line, null.span.column), (4, 16));
        assert_eq!(doc.pointer_key_span("/nested/list").unwrap().line, 4);
    }

    #[test]
    fn yaml_11_booleans_stay_strings() {
        let doc = parse_one("a: yes\nb: on\nc: true\n");
        assert_eq!(doc.pointer("/a").unwrap().as_str(), Some("yes"));
        assert_eq!(doc.pointer("/b").unwrap().as_str(), Some("on"));
        assert_eq!(doc.pointer("/c").unwrap().value, Value::Bool(true));
    }

    #[test]
    fn duplicate_keys_are_kept_for_reporting() {
        let doc = parse_one("a: 1\na: 2\n");
        assert_eq!(doc.as_mapping().unwrap().len(), 2);
        assert_eq!(doc.to_json(), serde_json::json!({"a": 2}));
    }

    #[test]
    fn multiple_documents_and_empty_ones() {
        let docs = parse_documents("a: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].span.line, 4);
    }

    #[test]
    fn syntax_error_has_a_location() {
        let err = only_error(parse_documents("a: [1, 2\nb: 3\n"));
        assert!(err.span.is_some(), "{err:?}");
        assert_eq!(err.kind, ParseErrorKind::Syntax);
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut yaml = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            yaml.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = only_error(parse_documents(&yaml));
        assert_eq!(err.kind, ParseErrorKind::Limit, "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let yaml = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = only_error(parse_documents(&yaml));
        assert_eq!(err.kind, ParseErrorKind::Limit, "{err:?}");
        let block: String = (0..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        let err = only_error(parse_documents(&block));
        assert_eq!(err.kind, ParseErrorKind::Limit, "{err:?}");
    }

    #[test]
    fn pointer_unescapes_tokens() {
        let doc = parse_one("\"a/b\": {\"c~d\": 1}\n");
        assert!(doc.pointer("/a~1b/c~0d").is_some());
    }

    #[test]
    fn scalars_resolve_as_yaml_1_2_core() {
        let doc = parse_one(concat!(
            "int: 42\nneg: -7\nhex: 0x1F\noct: 0o17\nfloat: 1.5\nexp: 1e3\nlead: .5\n",
            "big: 123456789012345678901234567890\nnull1: ~\nnull2:\nquoted: \"42\"\n",
            "tagged: !!str 42\nword: 12abc\nversion: 1.2.3\n",
        ));
        let json = doc.to_json();
        assert_eq!(json["int"], 42);
        assert_eq!(json["neg"], -7);
        assert_eq!(json["hex"], 31);
        assert_eq!(json["oct"], 15);
        assert_eq!(json["float"], 1.5);
        assert_eq!(json["exp"], 1000.0);
        assert_eq!(json["lead"], 0.5);
        assert_eq!(json["big"].to_string(), "123456789012345678901234567890");
        assert_eq!(json["null1"], serde_json::Value::Null);
        assert_eq!(json["null2"], serde_json::Value::Null);
        assert_eq!(json["quoted"], "42");
        assert_eq!(json["tagged"], "42");
        assert_eq!(json["word"], "12abc");
        assert_eq!(json["version"], "1.2.3");
    }

    #[test]
    fn bad_tags_and_keys_are_errors() {
        assert!(
            only_error(parse_documents("a: !!int nope\n"))
                .message
                .contains("!!int")
        );
        assert!(
            only_error(parse_documents("a: !custom x\n"))
                .message
                .contains("unsupported YAML tag")
        );
        assert!(
            only_error(parse_documents("? [a]\n: b\n"))
                .message
                .contains("keys must be strings")
        );
        let doc = parse_one("1: one\ntrue: yes\n");
        assert_eq!(
            doc.to_json(),
            serde_json::json!({"1": "one", "true": "yes"})
        );
    }

    #[test]
    fn aliases_are_expanded_where_used() {
        let doc = parse_one("base: &b {x: 1}\ncopy: *b\n");
        assert_eq!(doc.to_json()["copy"], serde_json::json!({"x": 1}));
        assert_eq!(doc.pointer("/copy").unwrap().span.line, 2);
        assert!(parse_documents("a: *missing\n").is_err());
    }

    /// The value of `a` in `a: <text>`, read by both paths (they must agree), as JSON text.
    fn value_of(text: &str) -> Result<String, Vec<ParseError>> {
        let source = format!("a: {text}\n");
        let granit = parse_documents_granit(&source);
        let read = parse_documents(&source);
        match (&read, &granit) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{source}"),
            (Err(a), Err(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{source}"),
            _ => panic!("the paths disagree on {source:?}: {read:?} / {granit:?}"),
        }
        read.map(|docs| docs[0].to_json()["a"].to_string())
    }

    /// The errors of `text`, as (kind, line, column).
    fn errors_of(text: &str) -> Vec<(ParseErrorKind, u32, u32)> {
        parse_documents(text)
            .expect_err("refused")
            .iter()
            .map(|e| {
                let span = e.span.expect("placed");
                (e.kind, span.line, span.column)
            })
            .collect()
    }

    /// YAML 1.2 core's ints are `[-+]?[0-9]+`, `0o[0-7]+` and `0x[0-9a-fA-F]+`: no sign before
    /// `0x` or `0o`, so a signed one is a string.
    #[test]
    fn signed_hex_and_octal_are_strings() {
        for text in [
            "-0x1F", "+0x1F", "-0o17", "+0o17", "-0x", "0X1F", "0o8", "0xG",
        ] {
            assert_eq!(value_of(text).unwrap(), format!("\"{text}\""), "{text}");
        }
        assert_eq!(value_of("0x1F").unwrap(), "31");
        assert_eq!(value_of("0o17").unwrap(), "15");
        assert_eq!(value_of("0x0").unwrap(), "0");
    }

    /// Integers of any size are numbers, exactly: decimal as written (without a `+`, leading
    /// zeros or a negative zero), hexadecimal and octal converted to decimal.
    #[test]
    fn integers_of_any_size_are_exact_numbers() {
        for (text, json) in [
            (
                "123456789012345678901234567890",
                "123456789012345678901234567890",
            ),
            (
                "-123456789012345678901234567890",
                "-123456789012345678901234567890",
            ),
            ("+42", "42"),
            ("-007", "-7"),
            ("000", "0"),
            ("-0", "0"),
            ("18446744073709551616", "18446744073709551616"),
            ("0xFFFFFFFFFFFFFFFF", "18446744073709551615"),
            ("0x10000000000000000", "18446744073709551616"),
            (
                "0x123456789ABCDEF0123456789",
                "90144042682896311822508713865",
            ),
            ("0x00000000000000000000000000000000000000000001", "1"),
            ("0o1777777777777777777777", "18446744073709551615"),
            ("0o2000000000000000000000", "18446744073709551616"),
            (
                "0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
                "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            ),
        ] {
            assert_eq!(value_of(text).unwrap(), json, "{text}");
        }
        let huge = "9".repeat(5_000);
        assert_eq!(value_of(&huge).unwrap(), huge);
    }

    /// A hexadecimal or octal integer's conversion costs the square of its length: past
    /// `Limits::radix_digits` significant digits it is refused as a limit, wherever it is.
    #[test]
    fn overlong_hex_and_octal_are_refused_as_a_limit() {
        let most = format!("0x{}", "f".repeat(MAX_RADIX_DIGITS));
        assert!(value_of(&most).is_ok());
        let padded = format!("0x{}{}", "0".repeat(5_000), "f".repeat(MAX_RADIX_DIGITS));
        assert!(value_of(&padded).is_ok());
        for text in [
            format!("0x{}", "f".repeat(MAX_RADIX_DIGITS + 1)),
            format!("0o{}", "7".repeat(MAX_RADIX_DIGITS + 1)),
        ] {
            let errors = value_of(&text).unwrap_err();
            assert_eq!(errors.len(), 1);
            assert_eq!(errors[0].kind, ParseErrorKind::Limit, "{errors:?}");
        }
        // As a key it is only text.
        let key = format!("0x{}", "f".repeat(MAX_RADIX_DIGITS + 1));
        assert!(parse_documents(&format!("{key}: 1\n")).is_ok());
    }

    /// Floats keep their digits (never read through an `f64`), spelled as JSON spells them.
    #[test]
    fn floats_keep_their_digits_in_json_spelling() {
        for (text, json) in [
            ("1.5", "1.5"),
            ("-1.5", "-1.5"),
            ("+1.5", "1.5"),
            ("1.", "1"),
            ("-1.", "-1"),
            (".5", "0.5"),
            ("-.5", "-0.5"),
            ("00.5", "0.5"),
            // Exponents as serde_json writes them (`e`, signed), the digits as written.
            ("1e3", "1e+3"),
            ("1E5", "1e+5"),
            ("1.e5", "1e+5"),
            (".5e-3", "0.5e-3"),
            ("1e+05", "1e+05"),
            ("-0.0", "-0.0"),
            ("1e400", "1e+400"),
            ("-1e-400", "-1e-400"),
            (
                "0.1000000000000000055511151231257827",
                "0.1000000000000000055511151231257827",
            ),
        ] {
            assert_eq!(value_of(text).unwrap(), json, "{text}");
        }
        for text in [
            "1.2.3", "1e", "e5", ".", "+", "+.5.", "1_000", "1:30", ".e5",
        ] {
            assert_eq!(value_of(text).unwrap(), format!("\"{text}\""), "{text}");
        }
    }

    /// `.inf` and `.nan` in every spelling the core schema has are refused, each at its
    /// place, every one of them; as keys or quoted they are strings, and `-.nan` (not core)
    /// is a string.
    #[test]
    fn infinities_and_nan_are_refused_at_their_place() {
        for text in [
            ".inf",
            ".Inf",
            ".INF",
            "-.inf",
            "-.Inf",
            "-.INF",
            "+.inf",
            "+.Inf",
            "+.INF",
            ".nan",
            ".NaN",
            ".NAN",
            "!!float .inf",
            "!!float .nan",
        ] {
            let errors = value_of(text).unwrap_err();
            assert_eq!(errors.len(), 1, "{text}");
            assert_eq!(errors[0].kind, ParseErrorKind::NotJson, "{text}");
            assert!(errors[0].message.contains("JSON"), "{}", errors[0].message);
            assert!(errors[0].message.contains("quote"), "{}", errors[0].message);
        }
        assert_eq!(
            errors_of("a: .inf\nb: [1, -.inf]\nc: {d: .nan}\n"),
            [
                (ParseErrorKind::NotJson, 1, 4),
                (ParseErrorKind::NotJson, 2, 8),
                (ParseErrorKind::NotJson, 3, 8),
            ]
        );
        for text in [
            "\".inf\"",
            "'.nan'",
            "-.nan",
            "+.nan",
            ".infinity",
            "!!str .inf",
        ] {
            assert!(value_of(text).unwrap().starts_with('"'), "{text}");
        }
        let doc = parse_one(".inf: 1\n.nan: 2\n");
        assert_eq!(doc.to_json(), serde_json::json!({".inf": 1, ".nan": 2}));
    }

    /// A core tag reads only a value of its own form (`!!int 1.5` is an error), `!!str` makes
    /// anything a string, and the non-specific tag `!` makes a scalar a string.
    #[test]
    fn core_tags_read_only_values_of_their_form() {
        for (text, json) in [
            ("!!str 1", "\"1\""),
            ("!!str true", "\"true\""),
            ("!!str", "\"\""),
            ("!!int 7", "7"),
            ("!!int \"7\"", "7"),
            ("!!int 0x1F", "31"),
            ("!!int -12", "-12"),
            ("!!float 1", "1"),
            ("!!float 1.5", "1.5"),
            ("!!float '-.5'", "-0.5"),
            ("!!bool true", "true"),
            ("!!bool \"False\"", "false"),
            ("!!null ~", "null"),
            ("!!null", "null"),
            ("!!null ''", "null"),
            ("! 12", "\"12\""),
            ("! true", "\"true\""),
            ("!<tag:yaml.org,2002:int> 3", "3"),
        ] {
            assert_eq!(value_of(text).unwrap(), json, "{text}");
        }
        for text in [
            "!!int 1.5",
            "!!int -0x1F",
            "!!int 1e3",
            "!!int yes",
            "!!float 0x1F",
            "!!float one",
            "!!bool yes",
            "!!bool 1",
            "!!null 0",
            "!!null none",
            "!!seq x",
            "!!map x",
        ] {
            let errors = value_of(text).unwrap_err();
            assert_eq!(errors.len(), 1, "{text}");
            assert_eq!(errors[0].kind, ParseErrorKind::Tag, "{text}");
        }
        assert_eq!(
            only_error(parse_documents("a: !!int 1.5\n")).message,
            "`1.5` is not a valid !!int"
        );
        // Collections: core tags of their kind and `!` are fine.
        assert!(parse_documents("a: !!seq [1]\nb: !!map {c: d}\ne: ! [f]\n").is_ok());
        assert!(parse_documents("a: !!map [1]\n").is_err());
    }

    /// yaml-test-suite 9C9N: inside a block, a flow collection's lines must be indented more
    /// than the key or `-` they belong to; at the top of a document they need not be.
    #[test]
    fn flow_lines_under_their_key_are_refused() {
        for (text, line, column) in [
            ("---\nflow: [a,\nb,\nc]\n", 3, 1),
            ("a:\n  flow: {x: 1,\n  y: 2}\n", 3, 3),
            ("- [a,\nb]\n", 2, 1),
            ("flow: [a,\n  b,\n]\n", 3, 1),
        ] {
            let error = only_error(parse_documents(text));
            assert_eq!(error.kind, ParseErrorKind::Syntax, "{text}");
            let span = error.span.unwrap();
            assert_eq!(
                (span.line, span.column),
                (line, column),
                "{text}: {error:?}"
            );
            assert!(
                error.message.contains("indented more than the key or `-`"),
                "{}",
                error.message
            );
        }
        for text in [
            "flow: [a,\n b,\n ]\n",
            "[a,\nb]\n",
            "- [a,\n  b]\n",
            "a:\n  f: [x,\n   y]\n",
        ] {
            assert!(parse_documents(text).is_ok(), "{text}");
        }
    }

    /// `?`, `:` and `-` start a plain scalar only before a character that is safe in one: not
    /// a space or the line's end, and inside a flow not one of `,[]{}`.
    #[test]
    fn indicators_before_unsafe_characters_are_refused() {
        for (text, column) in [
            ("a: [?, x]\n", 5),
            ("a: [?]\n", 5),
            ("a: [x, -]\n", 8),
            ("a: {?, x: y}\n", 5),
            ("a: {x: -}\n", 8),
        ] {
            // granit refuses some of these itself, in its own words.
            let error = only_error(parse_documents(text));
            assert_eq!(error.kind, ParseErrorKind::Syntax, "{text}");
            assert_eq!(error.span.unwrap().column, column, "{text}: {error:?}");
        }
        assert_eq!(
            only_error(parse_documents("a: [?, x]\n")).message,
            "`?` before `,` cannot start a plain value; quote it (\"?\") if it is the value"
        );
        for (text, json) in [
            ("[?x, -y, :z]", r#"["?x","-y",":z"]"#),
            ("[-1, -.5]", "[-1,-0.5]"),
            ("\"?\"", r#""?""#),
            ("?x", r#""?x""#),
            ("-x", r#""-x""#),
            ("a:b", r#""a:b""#),
        ] {
            assert_eq!(value_of(text).unwrap(), json, "{text}");
        }
    }

    /// A file with several values that cannot be read reports each of them, in order, and then
    /// the syntax error that stopped it, if any.
    #[test]
    fn every_unreadable_value_is_reported() {
        assert_eq!(
            errors_of("a: .inf\nb: !!int 1.5\nc: .nan\nd: [1,\n"),
            [
                (ParseErrorKind::NotJson, 1, 4),
                // At the value, after its tag.
                (ParseErrorKind::Tag, 2, 10),
                (ParseErrorKind::NotJson, 3, 4),
                // The flow that never closes.
                (ParseErrorKind::Syntax, 4, 4),
            ]
        );
    }

    /// Messages show a value from the file inert and short.
    #[test]
    fn values_in_messages_are_escaped_and_cut() {
        let error = only_error(parse_documents("a: !!int \"\\e[31mred\\nline\"\n"));
        assert_eq!(
            error.message,
            "`\\u{1b}[31mred\\nline` is not a valid !!int"
        );
        let long = "x".repeat(100);
        let error = only_error(parse_documents(&format!("a: !!int {long}\n")));
        assert_eq!(
            error.message,
            format!("`{}…` is not a valid !!int", "x".repeat(40))
        );
    }

    /// `!var NAME` is read as a reference wherever a whole value stands, at the name's place;
    /// nowhere else (a key, a collection, a `%TAG` spelling, no name) is it read.
    #[test]
    fn var_references_are_whole_values() {
        let documents = parse_documents(
            "a: !var url
b:
  - !var 'first'
  - x
c: {d: !var \"e\"}
",
        )
        .unwrap();
        let root = &documents[0];
        let var = |pointer: &str| {
            root.pointer(pointer)
                .map(|n| (n.value.clone(), n.span.line, n.span.column))
        };
        assert_eq!(var("/a"), Some((Value::Var("url".into()), 1, 9)));
        assert_eq!(var("/b/0"), Some((Value::Var("first".into()), 3, 10)));
        assert_eq!(var("/c/d"), Some((Value::Var("e".into()), 5, 13)));
        assert!(root.has_var());
        assert!(!root.pointer("/b/1").unwrap().has_var());
        for (text, message) in [
            ("!var x: 1\n", "not a key"),
            ("a: !var [x]\n", "not a list or a mapping"),
            ("a: !var {x: 1}\n", "not a list or a mapping"),
            ("a: !var\n", "needs the name"),
            ("a: !var |\n  x\n", "needs the name"),
            ("%TAG !v! !va\n---\na: !v!r x\n", "unsupported YAML tag"),
            ("a: !vars x\n", "unsupported YAML tag"),
        ] {
            let error = only_error(parse_documents(text));
            assert_eq!(error.kind, ParseErrorKind::Tag, "{text}");
            assert!(error.message.contains(message), "{text}: {}", error.message);
        }
    }
}
