//! A YAML document as a tree of nodes that each remember where they came from.
//!
//! granit-parser (the YAML 1.2 parser under serde-saphyr) produces events; this module builds
//! them into [`Node`]s, so that every key
//! and every value can be pointed at (file:line:column, byte range) by a diagnostic. The tree is
//! deliberately generic: the validation rules read it, and [`Node::to_json`] turns the parts that
//! survive validation into plain JSON for the rest of the pipeline.
//!
//! Most manifests are plain YAML (block collections, one-line flows and scalars, comments):
//! [`fast`] reads those by hand, several times faster, into the very same tree, and declines
//! everything else, which granit-parser reads.

use std::collections::HashMap;

use granit_parser::{Event, Marker, Parser, ScalarStyle, Tag};

mod fast;

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
        }
    }
}

/// Limits that keep hostile input (alias bombs, absurd nesting) bounded in time and memory.
/// Manifests are small hand-written files: these are far above any real one.
pub(crate) const MAX_DEPTH: usize = 48;
/// Nodes in one file, aliases counted at their expanded size.
pub(crate) const MAX_NODES: usize = 200_000;
const MAX_DOCUMENTS: usize = 1_000;

/// A YAML error that stops a file from being read, with where it happened when known.
#[derive(Debug, Clone)]
pub struct ParseError {
    pub message: String,
    pub span: Option<Span>,
    pub limit_exceeded: bool,
}

impl ParseError {
    fn at(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            span: Some(span),
            limit_exceeded: false,
        }
    }

    fn limit(span: Span, message: impl Into<String>) -> ParseError {
        ParseError {
            limit_exceeded: true,
            ..ParseError::at(span, message)
        }
    }
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
    },
    Mapping {
        span: Span,
        anchor: usize,
        start: usize,
        key: Option<Key>,
    },
}

/// Builds [`Node`] trees from parser events, enforcing the limits.
struct Builder<'s> {
    source: &'s str,
    stack: Vec<Frame>,
    /// The items of the open sequences, innermost last.
    items: Vec<Node>,
    /// The pairs of the open mappings, innermost last.
    pairs: Vec<(Key, Node)>,
    /// Anchored nodes by the parser's anchor id, with their size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    documents: Vec<Node>,
}

impl Builder<'_> {
    fn count(&mut self, n: usize, span: Span) -> Result<(), ParseError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            let message = if self.anchors.is_empty() {
                format!("the YAML has more than {MAX_NODES} nodes")
            } else {
                format!("aliases expand to more than {MAX_NODES} nodes (an alias bomb)")
            };
            return Err(ParseError::limit(span, message));
        }
        Ok(())
    }

    fn push_frame(&mut self, frame: Frame, span: Span) -> Result<(), ParseError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(ParseError::limit(
                span,
                format!("the YAML nests deeper than {MAX_DEPTH} levels"),
            ));
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
                if self.documents.len() >= MAX_DOCUMENTS {
                    return Err(ParseError::limit(
                        node.span,
                        format!("more than {MAX_DOCUMENTS} documents in one file"),
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
                let resolved = resolve_scalar(&text, style, tag.as_deref())
                    .map_err(|m| ParseError::at(span, m))?;
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
            Event::SequenceStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "seq").map_err(|m| ParseError::at(span, m))?;
                let start = self.items.len();
                self.push_frame(
                    Frame::Sequence {
                        span,
                        anchor,
                        start,
                    },
                    span,
                )
            }
            Event::MappingStart(_, anchor, tag) => {
                check_collection_tag(tag.as_deref(), "map").map_err(|m| ParseError::at(span, m))?;
                let start = self.pairs.len();
                self.push_frame(
                    Frame::Mapping {
                        span,
                        anchor,
                        start,
                        key: None,
                    },
                    span,
                )
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Sequence {
                        span,
                        anchor,
                        start,
                    }) => (
                        Node {
                            value: Value::Sequence(self.items.drain(start..).collect()),
                            span,
                        },
                        anchor,
                    ),
                    Some(Frame::Mapping {
                        span,
                        anchor,
                        start,
                        ..
                    }) => (
                        Node {
                            value: Value::Mapping(self.pairs.drain(start..).collect()),
                            span,
                        },
                        anchor,
                    ),
                    None => return Err(ParseError::at(span, "unbalanced collection end")),
                };
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

fn check_collection_tag(tag: Option<&Tag>, expected: &str) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(tag) if tag.is_yaml_core_schema_tag(expected) => Ok(()),
        Some(tag) => Err(format!(
            "unsupported YAML tag `{}{}`",
            tag.handle(),
            tag.suffix()
        )),
    }
}

/// YAML 1.2 core schema resolution, with YAML 1.1's `yes`/`no`/`on`/`off` left as strings.
/// `None` means the value is the string `text` itself (which the caller owns, and may move).
fn resolve_scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
) -> Result<Option<Value>, String> {
    if let Some(tag) = tag {
        let wanted = ["str", "null", "bool", "int", "float"]
            .into_iter()
            .find(|s| tag.is_yaml_core_schema_tag(s));
        let resolved = resolve_plain(text);
        return match (wanted, resolved) {
            (Some("str"), _) => Ok(None),
            (Some("null"), Some(Value::Null)) => Ok(Some(Value::Null)),
            (Some("bool"), Some(Value::Bool(b))) => Ok(Some(Value::Bool(b))),
            (Some("int" | "float"), Some(Value::Number(n))) => Ok(Some(Value::Number(n))),
            (Some(kind), _) => Err(format!("`{text}` is not a valid !!{kind}")),
            (None, _) => Err(format!(
                "unsupported YAML tag `{}{}`",
                tag.handle(),
                tag.suffix()
            )),
        };
    }
    Ok(match style {
        ScalarStyle::Plain => resolve_plain(text),
        _ => None,
    })
}

/// The value of a plain (unquoted, untagged) scalar.
pub(crate) fn plain_scalar(text: &str) -> Value {
    resolve_plain(text).unwrap_or_else(|| Value::String(text.to_owned()))
}

/// [`plain_scalar`], with `None` for the string `text` itself.
fn resolve_plain(text: &str) -> Option<Value> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(Value::Null),
        "true" | "True" | "TRUE" => return Some(Value::Bool(true)),
        "false" | "False" | "FALSE" => return Some(Value::Bool(false)),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let negative = text.starts_with('-');
    let radix = |digits: &str, radix: u32| -> Option<Value> {
        let n = i128::from_str_radix(digits, radix).ok()?;
        let n = if negative { -n } else { n };
        number_from_i128(n)
    };
    if let Some(hex) = unsigned.strip_prefix("0x") {
        if let Some(v) = radix(hex, 16).filter(|_| hex.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Some(v);
        }
    } else if let Some(oct) = unsigned.strip_prefix("0o") {
        if let Some(v) = radix(oct, 8).filter(|_| oct.bytes().all(|b| (b'0'..=b'7').contains(&b))) {
            return Some(v);
        }
    } else if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for any integer: keep the text rather than lose precision.
        return radix(unsigned, 10);
    }
    if is_float(unsigned)
        && let Ok(f) = text.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Some(Value::Number(n));
    }
    // `.inf`, `.nan` and out-of-range floats have no JSON spelling: keep the text.
    None
}

fn number_from_i128(n: i128) -> Option<Value> {
    if let Ok(i) = i64::try_from(n) {
        Some(Value::Number(i.into()))
    } else {
        u64::try_from(n).ok().map(|u| Value::Number(u.into()))
    }
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

/// Parses every document of a YAML stream. Empty documents are skipped.
///
/// Plain manifests are read by a hand-written parser ([`fast`]), several times faster; anything
/// it is not sure about is read by granit-parser, with the same result for what both read.
pub fn parse_documents(source: &str) -> Result<Vec<Node>, ParseError> {
    if let Some(documents) = fast::parse(source) {
        #[cfg(test)]
        fast::FAST_READS.with(|n| n.set(n.get() + 1));
        return Ok(documents);
    }
    parse_documents_granit(source)
}

/// [`parse_documents`] by granit-parser's events, for any YAML.
fn parse_documents_granit(source: &str) -> Result<Vec<Node>, ParseError> {
    // The parser's own limits stop runaway nesting before the builder sees it.
    let mut options = granit_parser::Options::default();
    options.flow_nesting_limit = MAX_DEPTH + 1;
    options.block_nesting_limit = MAX_DEPTH + 1;
    options.emit_comments = false;
    let mut parser = Parser::new_from_str_with_options(source, options);
    let mut builder = Builder {
        source,
        stack: Vec::new(),
        items: Vec::new(),
        pairs: Vec::new(),
        anchors: HashMap::new(),
        nodes: 0,
        documents: Vec::new(),
    };
    while let Some(next) = parser.next_event() {
        match next {
            Ok((event, span)) => {
                let span = marker_span(builder.source, span.start, span.end);
                builder.event(event, span)?;
            }
            Err(error) => {
                let marker = *error.marker();
                let span = marker_span(source, marker, marker);
                let info = error.info();
                let limit = info.contains("nesting") || info.contains("limit");
                return Err(if limit {
                    ParseError::limit(
                        span,
                        format!("the YAML nests deeper than {MAX_DEPTH} levels"),
                    )
                } else {
                    ParseError::at(span, info)
                });
            }
        }
    }
    Ok(builder
        .documents
        .into_iter()
        .filter(|d| d.value != Value::Null)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_one(source: &str) -> Node {
        let mut docs = parse_documents(source).expect("valid YAML");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
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
        let err = parse_documents("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.is_some(), "{err:?}");
        assert!(!err.limit_exceeded);
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
        let err = parse_documents(&yaml).unwrap_err();
        assert!(err.limit_exceeded, "{err:?}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let yaml = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let err = parse_documents(&yaml).unwrap_err();
        assert!(err.limit_exceeded, "{err:?}");
        let block: String = (0..200)
            .map(|i| format!("{}k:\n", "  ".repeat(i)))
            .collect();
        let err = parse_documents(&block).unwrap_err();
        assert!(err.limit_exceeded, "{err:?}");
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
            "big: 123456789012345678901234567890\ninf: .inf\nnull1: ~\nnull2:\nquoted: \"42\"\n",
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
        assert_eq!(json["big"], "123456789012345678901234567890");
        assert_eq!(json["inf"], ".inf");
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
            parse_documents("a: !!int nope\n")
                .unwrap_err()
                .message
                .contains("!!int")
        );
        assert!(
            parse_documents("a: !custom x\n")
                .unwrap_err()
                .message
                .contains("unsupported YAML tag")
        );
        assert!(
            parse_documents("? [a]\n: b\n")
                .unwrap_err()
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
}
