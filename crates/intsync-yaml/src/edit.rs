//! Editing YAML text in place: [`set_values`] writes new values of mapping keys, each named by
//! its document and its path of keys from the document's root, into a file's text, and changes
//! nothing else.
//!
//! Only the replaced values' text changes. Comments (including one after a replaced value on
//! its line, and one on the key's line), key order, quoting, blank lines, line endings and the
//! layout of everything else stay byte-identical. Comments *inside* a replaced nested value go
//! with it.
//!
//! How a new value is written, by the shape of the new and the old value:
//! - a scalar, `[]` or `{}`: on the key's line, replacing exactly the old value's text when that
//!   started on the key's line (a block scalar's header and lines; a comment on the header line
//!   stays), else right after the key's `:` (the old value's lines go);
//! - an object, or a list holding one: block YAML, on the lines after the key, at the old block
//!   value's indentation, or at the key's column + 2 when the old value was on the key's line;
//! - a list of scalars stays in flow style (`[a, b]`) when the old value was a flow sequence, and
//!   is a block list otherwise;
//! - anything inside a flow mapping (`spec: {name: x}`) is written in flow style.
//!
//! Strings are plain where YAML reads them back as the same string, double-quoted with escapes
//! otherwise ([`crate::emit`]); numbers are spelt as JSON spells them. New lines end as the
//! key's line does (`\r\n` in a CRLF file).
//!
//! The edit is refused ([`EditError`]) rather than guessed at when the document or a key of
//! the path does not exist, a key is written twice, the same value is edited twice, or an
//! anchor, alias or merge key is involved. The result is parsed again before it is returned: it
//! must hold exactly the old documents with the edited values changed to the new ones, or the
//! edit is refused.

use granit_parser::{Event, Marker, Parser, ScalarStyle, StructureStyle};
use serde_json::Value as Json;

use crate::Limits;
use crate::emit;
use crate::tree;

/// A new value for one key of one document: the key at the end of `path`.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// 0-based index of the YAML document in the file, counting documents that are not empty
    /// (the index of the document in what [`crate::parse_documents`] returns).
    pub document: usize,
    /// The keys from the document's root mapping to the edited key, which is the last one:
    /// `["spec", "name"]` is the value of `name` in the mapping that is the value of `spec`.
    /// Each key must be present, once, and every key but the last must hold a mapping. An
    /// empty path (the whole document) is refused.
    pub path: Vec<String>,
    /// The value to write.
    pub value: Json,
}

/// Why [`set_values`] refused an edit. The text is never half-edited: an error means nothing
/// was changed. `path` is always the path of the edit refused, or (for a missing, duplicate or
/// misplaced key) the part of it up to that key.
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
    /// The node at `path` (the document's root when it is empty) is not a mapping, so the next
    /// key of the edit's path cannot be in it.
    #[error("in document {document}, {} is not a mapping", shown_path(path))]
    NotAMapping { document: usize, path: Vec<String> },
    /// The last key of `path` is not in its mapping.
    #[error("`{}` is not in document {document}", joined(path))]
    KeyMissing { document: usize, path: Vec<String> },
    /// The last key of `path` is written more than once in its mapping; `line` is the second.
    #[error(
        "`{}` is written more than once in document {document} (line {line})",
        joined(path)
    )]
    DuplicateKey {
        document: usize,
        path: Vec<String>,
        line: u32,
    },
    #[error("`{}` of document {document} is edited more than once", joined(path))]
    DuplicateEdit { document: usize, path: Vec<String> },
    #[error(
        "document {document} uses {what} at line {line}, which `{}` depends on: edit the file by hand",
        joined(path)
    )]
    AliasOrMerge {
        document: usize,
        path: Vec<String>,
        /// What is in the way: an anchor, an alias or a merge key.
        what: &'static str,
        line: u32,
    },
    #[error(
        "`{}` of document {document} (line {line}) is written in a form that cannot be edited safely: {reason}",
        joined(path)
    )]
    Unsupported {
        document: usize,
        path: Vec<String>,
        line: u32,
        reason: &'static str,
    },
    #[error(
        "internal error: the edited text would not read back as intended ({detail}); nothing was changed"
    )]
    Verification { detail: String },
}

/// A path as messages write it: its keys joined by `.`, each escaped and cut short.
fn joined(path: &[String]) -> String {
    path.iter()
        .map(|key| tree::shown(key))
        .collect::<Vec<_>>()
        .join(".")
}

/// A path as [`EditError::NotAMapping`] names its node.
fn shown_path(path: &[String]) -> String {
    if path.is_empty() {
        "the root".to_owned()
    } else {
        format!("`{}`", joined(path))
    }
}

/// Writes each edit's value into `source` in place of the value at its path, and returns the
/// new text. See the module documentation for the rules; edits are applied from the end of the
/// file backwards, so they may come in any order.
///
/// # Errors
///
/// [`EditError`]: the first edit (in the order given) that cannot be made safely, or the file
/// that is not YAML; nothing is changed.
pub fn set_values(source: &str, edits: &[Edit]) -> Result<String, EditError> {
    let documents = tree::parse_documents(source).map_err(|errors| {
        // Never empty; the first one is where the file stops being readable.
        let first = errors.into_iter().next();
        let span = first.as_ref().and_then(|e| e.span).unwrap_or_default();
        EditError::Parse {
            message: first.map(|e| e.message).unwrap_or_default(),
            line: span.line,
            column: span.column,
        }
    })?;
    let outline = Outline::read(source, &documents)?;
    let newline = if source
        .find('\n')
        .is_some_and(|i| source[..i].ends_with('\r'))
    {
        "\r\n"
    } else {
        "\n"
    };

    let mut replacements = Vec::with_capacity(edits.len());
    for (i, edit) in edits.iter().enumerate() {
        if edits[..i]
            .iter()
            .any(|e| e.document == edit.document && e.path == edit.path)
        {
            return Err(EditError::DuplicateEdit {
                document: edit.document,
                path: edit.path.clone(),
            });
        }
        let Some(root) = outline.documents.get(edit.document) else {
            return Err(EditError::NoSuchDocument {
                document: edit.document,
                count: outline.documents.len(),
            });
        };
        let field = find_field(source, root, edit)?;
        replacements.push(replacement(source, newline, &field, &edit.value)?);
    }

    replacements.sort_by_key(|r| r.start);
    if replacements.windows(2).any(|w| w[0].end > w[1].start) {
        return Err(EditError::Verification {
            detail: "two edits overlap".to_owned(),
        });
    }
    let mut out = source.to_owned();
    for r in replacements.iter().rev() {
        out.replace_range(r.start..r.end, &r.text);
    }
    verify(&documents, &out, edits)?;
    Ok(out)
}

/// The edited text must parse to the same documents, with only the edited values changed,
/// each to its new value.
fn verify(before: &[tree::Node], text: &str, edits: &[Edit]) -> Result<(), EditError> {
    let after = tree::parse_documents(text).map_err(|errors| EditError::Verification {
        detail: format!(
            "the result does not parse: {}",
            errors.first().map_or("", |e| e.message.as_str())
        ),
    })?;
    if after.len() != before.len() {
        return Err(EditError::Verification {
            detail: format!("{} documents became {}", before.len(), after.len()),
        });
    }
    for (index, (old, new)) in before.iter().zip(&after).enumerate() {
        let mut expected = old.to_json();
        for edit in edits.iter().filter(|e| e.document == index) {
            let Some((last, parents)) = edit.path.split_last() else {
                continue;
            };
            let parent = parents
                .iter()
                .try_fold(&mut expected, |node, key| node.get_mut(key.as_str()));
            if let Some(mapping) = parent.and_then(Json::as_object_mut) {
                mapping.insert(last.clone(), edit.value.clone());
            }
        }
        if !same_json(&expected, &new.to_json()) {
            return Err(EditError::Verification {
                detail: format!("document {index} reads back differently"),
            });
        }
    }
    Ok(())
}

/// JSON equality with numbers compared by value (`1` and `1.0` are the same number).
fn same_json(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------------------------------------
// The outline: where each node's text starts and ends, and what presentation it has.

/// A node of the outline. `start..end` is its text: from its tag (if any) or a block scalar's
/// header to the end of its last character (a flow collection's closing bracket; a block
/// collection's last descendant; a block scalar's last non-blank line). A block sequence starts
/// at its first item, after the `-` ([`replacement`] finds the `-` with [`next_token`]).
#[derive(Debug)]
struct Item {
    start: usize,
    /// Where the node itself starts, after its tag (where [`tree::Node::span`] starts).
    content: usize,
    end: usize,
    /// An empty plain scalar (`key:` with nothing after it): `start == end`, right after the
    /// indicator before it.
    empty: bool,
    /// Whether `end` is a real position of text (not an empty scalar placed at the next token).
    has_text: bool,
    anchored: bool,
    shape: Shape,
}

#[derive(Debug)]
enum Shape {
    Scalar {
        text: String,
        style: ScalarStyle,
        /// A block scalar's header: where its indicator starts and where the header ends.
        header: Option<(usize, usize)>,
    },
    Alias,
    Sequence {
        flow: bool,
        items: Vec<Item>,
    },
    Mapping {
        flow: bool,
        pairs: Vec<(Item, Item)>,
    },
}

impl Item {
    /// The first anchor or alias in this subtree, as (what, byte offset).
    fn first_reference(&self) -> Option<(&'static str, usize)> {
        if self.anchored {
            return Some(("an anchor", self.start));
        }
        match &self.shape {
            Shape::Alias => Some(("an alias", self.start)),
            Shape::Scalar { .. } => None,
            Shape::Sequence { items, .. } => items.iter().find_map(Item::first_reference),
            Shape::Mapping { pairs, .. } => pairs
                .iter()
                .find_map(|(k, v)| k.first_reference().or_else(|| v.first_reference())),
        }
    }
}

/// The outline of every non-empty document of a file, in the order [`tree::parse_documents`]
/// returns them.
struct Outline {
    documents: Vec<Item>,
}

enum Frame {
    Sequence {
        item: Item,
        items: Vec<Item>,
    },
    Mapping {
        item: Item,
        pairs: Vec<(Item, Item)>,
        key: Option<Item>,
    },
}

impl Outline {
    fn read(source: &str, parsed: &[tree::Node]) -> Result<Outline, EditError> {
        // The file was read within the default limits already.
        let options = tree::granit_options(&Limits::DEFAULT);
        let mut parser = Parser::new_from_str_with_options(source, options);
        let offset = |m: Marker| m.byte_offset().unwrap_or(0).min(source.len());
        let mut stack: Vec<Frame> = Vec::new();
        let mut roots = Vec::new();
        // The end of the last token read that has text (scalars, aliases, flow brackets).
        let mut prev_end = 0;
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|e| EditError::Parse {
                message: e.info().to_owned(),
                line: u32::try_from(e.marker().line()).unwrap_or(u32::MAX),
                column: u32::try_from(e.marker().col() + 1).unwrap_or(u32::MAX),
            })?;
            let (start, end) = (offset(span.start), offset(span.end).max(offset(span.start)));
            let tag = span.tag_span().map(|t| (offset(t.start), offset(t.end)));
            let with_tag = |start: usize, end: usize| match tag {
                Some((ts, te)) => (start.min(ts), end.max(te)),
                None => (start, end),
            };
            let finished = match event {
                Event::Scalar(text, style, anchor, tag_value) => {
                    // A block scalar's header (`|`, `>-`, ...) is not in its span: it is the
                    // first `|` or `>` after the previous token (and the tag).
                    let header = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                        let from = prev_end.max(tag.map_or(0, |(_, te)| te)).min(source.len());
                        source[from..].find(['|', '>']).map(|i| {
                            let indicator = from + i;
                            let len = source[indicator + 1..]
                                .bytes()
                                .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9'))
                                .count();
                            (indicator, indicator + 1 + len)
                        })
                    } else {
                        None
                    };
                    // An empty `key:` or `-` is read as `~` with a zero-width span: at the `:`,
                    // after the `-`, or (in flow) at the next token.
                    let empty = matches!(style, ScalarStyle::Plain)
                        && tag_value.is_none()
                        && start == end
                        && (text.is_empty() || text == "~");
                    let (content_start, content_end, has_text) = if empty {
                        if source[start..].starts_with(':') {
                            (start + 1, start + 1, true)
                        } else {
                            let after_dash =
                                source[..start].trim_end_matches([' ', '\t']).ends_with('-');
                            (start, start, after_dash)
                        }
                    } else if let Some((_, header_end)) = header {
                        // The span starts at the first line (after the header) and may run on
                        // over the blank lines after the last one; an empty one's span is
                        // anywhere near.
                        // Only blank lines (`|+` keeps them as the value): they end with the
                        // header's line, or replacing up to `start` would join the next line.
                        let lines = source[start..end].trim_end();
                        let last = if text.is_empty() || lines.is_empty() {
                            header_end
                        } else {
                            start + lines.len()
                        };
                        (start, last.max(header_end), true)
                    } else {
                        (start, end, true)
                    };
                    let (mut start, end) = with_tag(content_start, content_end);
                    if let Some((indicator, _)) = header {
                        start = start.min(indicator);
                    }
                    prev_end = prev_end.max(end);
                    Some(Item {
                        start,
                        content: content_start,
                        end,
                        empty,
                        has_text: has_text || tag.is_some(),
                        anchored: anchor != 0,
                        shape: Shape::Scalar {
                            text: text.into_owned(),
                            style,
                            header,
                        },
                    })
                }
                Event::Alias(_) => Some({
                    prev_end = prev_end.max(end);
                    Item {
                        start,
                        content: start,
                        end,
                        empty: false,
                        has_text: true,
                        anchored: false,
                        shape: Shape::Alias,
                    }
                }),
                Event::SequenceStart(style, anchor, _) => {
                    if style == StructureStyle::Flow {
                        prev_end = prev_end.max(end);
                    }
                    let (tagged, _) = with_tag(start, start);
                    stack.push(Frame::Sequence {
                        item: Item {
                            start: tagged,
                            content: start,
                            end: start,
                            empty: false,
                            has_text: true,
                            anchored: anchor != 0,
                            shape: Shape::Sequence {
                                flow: style == StructureStyle::Flow,
                                items: Vec::new(),
                            },
                        },
                        items: Vec::new(),
                    });
                    None
                }
                Event::MappingStart(style, anchor, _) => {
                    if style == StructureStyle::Flow {
                        prev_end = prev_end.max(end);
                    }
                    let (tagged, _) = with_tag(start, start);
                    stack.push(Frame::Mapping {
                        item: Item {
                            start: tagged,
                            content: start,
                            end: start,
                            empty: false,
                            has_text: true,
                            anchored: anchor != 0,
                            shape: Shape::Mapping {
                                flow: style == StructureStyle::Flow,
                                pairs: Vec::new(),
                            },
                        },
                        pairs: Vec::new(),
                        key: None,
                    });
                    None
                }
                Event::SequenceEnd => match stack.pop() {
                    Some(Frame::Sequence { mut item, items }) => {
                        let flow = matches!(item.shape, Shape::Sequence { flow: true, .. });
                        item.end = if flow {
                            prev_end = prev_end.max(end);
                            end
                        } else {
                            items
                                .iter()
                                .filter(|i| i.has_text)
                                .map(|i| i.end)
                                .fold(item.start, usize::max)
                        };
                        item.shape = Shape::Sequence { flow, items };
                        Some(item)
                    }
                    _ => return Err(unbalanced()),
                },
                Event::MappingEnd => match stack.pop() {
                    Some(Frame::Mapping {
                        mut item, pairs, ..
                    }) => {
                        let flow = matches!(item.shape, Shape::Mapping { flow: true, .. });
                        item.end = if flow {
                            prev_end = prev_end.max(end);
                            end
                        } else {
                            pairs
                                .iter()
                                .flat_map(|(k, v)| [k, v])
                                .filter(|i| i.has_text)
                                .map(|i| i.end)
                                .fold(item.start, usize::max)
                        };
                        item.shape = Shape::Mapping { flow, pairs };
                        Some(item)
                    }
                    _ => return Err(unbalanced()),
                },
                _ => None,
            };
            let Some(node) = finished else { continue };
            match stack.last_mut() {
                None => roots.push(node),
                Some(Frame::Sequence { items, .. }) => items.push(node),
                Some(Frame::Mapping { pairs, key, .. }) => match key.take() {
                    Some(k) => pairs.push((k, node)),
                    None => *key = Some(node),
                },
            }
        }
        // `parse_documents` leaves out empty documents: keep the roots it kept, matched by
        // where they start.
        let mut documents = Vec::with_capacity(parsed.len());
        let mut wanted = parsed.iter().peekable();
        for root in roots {
            if let Some(next) = wanted.peek()
                && root.content == next.span.offset
            {
                documents.push(root);
                wanted.next();
            }
        }
        if wanted.peek().is_some() {
            return Err(EditError::Verification {
                detail: "the documents of the file could not be matched up".to_owned(),
            });
        }
        Ok(Outline { documents })
    }
}

fn unbalanced() -> EditError {
    EditError::Verification {
        detail: "unbalanced collection events".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Finding the field and computing its replacement.

/// A value to rewrite: its key, the value, and the style of the mapping that holds them.
struct Field<'a> {
    name: &'a str,
    key: &'a Item,
    value: &'a Item,
    flow: bool,
}

fn line_of(source: &str, offset: usize) -> u32 {
    tree::Span::at_offset(source, offset).line
}

/// The key and value at the end of the edit's path, in the document `root`. A merge key is
/// refused in the mapping that holds the edited key (the key may come from elsewhere), an
/// anchor or alias on the way to it or anywhere in it.
fn find_field<'a>(source: &str, root: &'a Item, edit: &'a Edit) -> Result<Field<'a>, EditError> {
    let document = edit.document;
    let refuse = |what: &'static str, at: usize| EditError::AliasOrMerge {
        document,
        path: edit.path.clone(),
        what,
        line: line_of(source, at),
    };
    let Some((name, parents)) = edit.path.split_last() else {
        return Err(EditError::Unsupported {
            document,
            path: Vec::new(),
            line: line_of(source, root.start),
            reason: "the path is empty: a whole document cannot be edited",
        });
    };
    // The key `path[depth]` in `node`, which must be a mapping.
    let lookup = |node: &'a Item, depth: usize| -> Result<(&'a Item, &'a Item, bool), EditError> {
        let Shape::Mapping { pairs, flow } = &node.shape else {
            return Err(EditError::NotAMapping {
                document,
                path: edit.path[..depth].to_vec(),
            });
        };
        let last = depth == parents.len();
        let mut found: Option<(&Item, &Item)> = None;
        for (key, value) in pairs {
            let Shape::Scalar { text, style, .. } = &key.shape else {
                return Err(refuse("an alias as a key", key.start));
            };
            if last && text == "<<" && matches!(style, ScalarStyle::Plain) {
                return Err(refuse("a merge key (`<<`)", key.start));
            }
            if *text == edit.path[depth] {
                if found.is_some() {
                    return Err(EditError::DuplicateKey {
                        document,
                        path: edit.path[..=depth].to_vec(),
                        line: line_of(source, key.start),
                    });
                }
                found = Some((key, value));
            }
        }
        match found {
            Some((key, value)) => Ok((key, value, *flow)),
            None => Err(EditError::KeyMissing {
                document,
                path: edit.path[..=depth].to_vec(),
            }),
        }
    };
    let mut node = root;
    for depth in 0..parents.len() {
        let (_, value, _) = lookup(node, depth)?;
        match value.shape {
            Shape::Alias => return Err(refuse("an alias", value.start)),
            _ if value.anchored => return Err(refuse("an anchor", value.start)),
            _ => {}
        }
        node = value;
    }
    let (key, value, flow) = lookup(node, parents.len())?;
    if let Some((what, at)) = key.first_reference().or_else(|| value.first_reference()) {
        return Err(refuse(what, at));
    }
    // The key must be followed by its `:` (not an explicit `? key` entry).
    let after_key = source[key.end..].trim_start_matches([' ', '\t']);
    if !after_key.starts_with(':') || value.start < key.end {
        return Err(EditError::Unsupported {
            document,
            path: edit.path.clone(),
            line: line_of(source, key.start),
            reason: "the key is not followed by `:` (an explicit `? key` entry)",
        });
    }
    Ok(Field {
        name,
        key,
        value,
        flow,
    })
}

/// Text to put in place of `source[start..end]`.
struct Replacement {
    start: usize,
    end: usize,
    text: String,
}

/// The end of the line holding `offset` (before its `\r\n` or `\n`).
fn line_end(source: &str, offset: usize) -> usize {
    let end = source[offset..]
        .find('\n')
        .map_or(source.len(), |i| offset + i);
    if end > offset && source[..end].ends_with('\r') {
        end - 1
    } else {
        end
    }
}

fn line_start(source: &str, offset: usize) -> usize {
    source[..offset].rfind('\n').map_or(0, |i| i + 1)
}

/// The column (in characters, 0-based) of `offset` in its line; a byte order mark is not counted.
fn column(source: &str, offset: usize) -> usize {
    let start = line_start(source, offset);
    let prefix = &source[start..offset];
    let prefix = if start == 0 {
        prefix.trim_start_matches('\u{feff}')
    } else {
        prefix
    };
    prefix.chars().count()
}

/// `text` if it holds a comment (whitespace, then `#`), else nothing.
fn comment_only(text: &str) -> &str {
    if text.trim_start().starts_with('#') {
        text
    } else {
        ""
    }
}

/// `value` as block lines at `indent`, joined by `newline`, without a final line break.
fn block_lines(value: &Json, indent: usize, newline: &str) -> String {
    let mut out = String::new();
    emit::block(value, indent, &mut out);
    let out = out.strip_suffix('\n').unwrap_or(&out);
    if newline == "\n" {
        out.to_owned()
    } else {
        out.replace('\n', newline)
    }
}

/// Where the text after `from` goes on: past blanks, line breaks and comments.
fn next_token(source: &str, from: usize) -> usize {
    let mut at = from;
    loop {
        let rest = &source[at..];
        let trimmed = rest.trim_start_matches([' ', '\t', '\r', '\n']);
        at += rest.len() - trimmed.len();
        if trimmed.starts_with('#') {
            at = source[at..].find('\n').map_or(source.len(), |i| at + i);
        } else {
            return at;
        }
    }
}

fn replacement(
    source: &str,
    newline: &str,
    field: &Field<'_>,
    value: &Json,
) -> Result<Replacement, EditError> {
    let old = field.value;
    if field.flow {
        let text = emit::flow(value);
        return Ok(if old.empty {
            // After the `:`, in place of the blanks before the next token.
            let rest = &source[old.start..];
            Replacement {
                start: old.start,
                end: old.start + rest.len() - rest.trim_start_matches([' ', '\t']).len(),
                text: format!(" {text}"),
            }
        } else {
            Replacement {
                start: old.start,
                end: old.end,
                text,
            }
        });
    }

    let colon_end = {
        let after_key = &source[field.key.end..];
        field.key.end + (after_key.len() - after_key.trim_start_matches([' ', '\t']).len()) + 1
    };
    let key_line_end = line_end(source, colon_end);
    // New lines end as the key's line does (the file's first line when the key's is its last).
    let newline = if source[key_line_end..].starts_with("\r\n") {
        "\r\n"
    } else if source[key_line_end..].starts_with('\n') {
        "\n"
    } else {
        newline
    };
    let key_column = column(source, field.key.start);
    // Where the old value's text starts: its tag, a block scalar's header, a block sequence's
    // first `-`, or the value itself.
    let old_start = if old.empty {
        colon_end
    } else {
        next_token(source, colon_end)
    };
    if !old.empty && old_start > old.content.max(old.start) {
        return Err(EditError::Verification {
            detail: format!("cannot find where `{}` starts", field.name),
        });
    }
    let block_collection = matches!(
        old.shape,
        Shape::Sequence { flow: false, .. } | Shape::Mapping { flow: false, .. }
    );
    // A block collection's last line is its own, comment included.
    let old_end = if block_collection {
        line_end(source, old.end)
    } else {
        old.end
    };
    let on_key_line = old_start <= key_line_end;
    // A block scalar's header (`|`, `>-`, ...) may be followed by a comment on its line; the
    // comment stays, on the key's line.
    let (header_end, header_comment) = match old.shape {
        Shape::Scalar {
            header: Some((_, header_end)),
            ..
        } => {
            let header_line_end = line_end(source, header_end);
            (
                Some((header_end, header_line_end)),
                comment_only(&source[header_end..header_line_end]),
            )
        }
        _ => (None, ""),
    };
    let old_flow_sequence = matches!(old.shape, Shape::Sequence { flow: true, .. });
    let inline = match value {
        Json::Array(items)
            if old_flow_sequence
                && items
                    .iter()
                    .all(|i| !matches!(i, Json::Array(_) | Json::Object(_))) =>
        {
            Some(emit::flow(value))
        }
        other => emit::inline(other),
    };
    let key_line_comment = comment_only(&source[colon_end..key_line_end]);

    Ok(match inline {
        Some(text) if old.empty => Replacement {
            start: colon_end,
            end: colon_end,
            text: format!(" {text}"),
        },
        Some(text) if on_key_line => match header_end {
            // A block scalar: its header and its lines go, a comment on the header line stays.
            Some((_, header_line_end)) if old_end > header_line_end => Replacement {
                start: old_start,
                end: old_end,
                text: format!("{text}{header_comment}"),
            },
            Some((header_end, _)) => Replacement {
                start: old_start,
                end: header_end,
                text,
            },
            None => Replacement {
                start: old_start,
                end: old_end,
                text,
            },
        },
        // The old value starts on a later line: the new one goes on the key's line.
        Some(text) => Replacement {
            start: colon_end,
            end: old_end,
            text: format!(" {text}{key_line_comment}"),
        },
        None if on_key_line => {
            let block = block_lines(value, key_column + 2, newline);
            let (end, comment) = if let Some((_, header_line_end)) = header_end {
                // A block scalar: a comment on its header line stays on the key's line.
                (old_end.max(header_line_end), header_comment)
            } else if old_end <= key_line_end {
                // A one-line value: a comment after it stays on the key's line.
                (key_line_end, comment_only(&source[old_end..key_line_end]))
            } else {
                (old_end, "")
            };
            Replacement {
                start: colon_end,
                end,
                text: format!("{comment}{newline}{block}"),
            }
        }
        None => {
            // The old value starts on a later line: the new one replaces its lines, at its
            // indentation; comments between the key and the old value stay.
            let first_line = line_start(source, old_start);
            let old_indent = column(source, old_start);
            if source[first_line..old_start].bytes().all(|b| b == b' ') {
                // An indentless list (`key:` then `- a` at the key's column) may stay one; a
                // mapping must be indented under its key.
                let indent = if old_indent > key_column || value.is_array() {
                    old_indent
                } else {
                    key_column + 2
                };
                Replacement {
                    start: first_line,
                    end: old_end,
                    text: block_lines(value, indent, newline),
                }
            } else {
                Replacement {
                    start: colon_end,
                    end: old_end,
                    text: format!(
                        "{key_line_comment}{newline}{}",
                        block_lines(value, key_column + 2, newline)
                    ),
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    fn awkward_string() -> impl Strategy<Value = String> {
        let c = prop_oneof![
            6 => prop::char::range('a', 'z'),
            2 => Just(' '),
            3 => prop::sample::select(vec![
                ':', '#', '-', '?', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"',
                '%', '@', '`', '\\', '.', '~', '0', '7',
            ]),
            2 => prop::sample::select(vec![
                '\n', '\t', '\r', '\u{0}', '\u{85}', '\u{a0}', '\u{feff}', '\u{2028}', '\u{fffe}',
                'é', '😀',
            ]),
        ];
        prop_oneof![
            3 => prop::collection::vec(c, 0..12).prop_map(|v| v.into_iter().collect()),
            1 => prop::sample::select(vec![
                "yes", "null", "~", "True", "123", "-1.5", "0o17", "1e3", ".nan", "a: b", "#x",
                " lead", "trail ", "- x", "x:", "---", "...", "", "? q", "a:b", "a,b",
            ])
            .prop_map(String::from),
        ]
    }

    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i64>().prop_map(Json::from),
            any::<u64>().prop_map(Json::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Json::from),
            awkward_string().prop_map(Json::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::btree_map(awkward_string(), inner, 0..4)
                    .prop_map(|m| Json::Object(m.into_iter().collect())),
            ]
        })
    }

    /// An edit of `spec.<field>` in the first document.
    fn edit(field: &str, value: Json) -> Edit {
        Edit {
            document: 0,
            path: vec!["spec".to_owned(), field.to_owned()],
            value,
        }
    }

    fn spec_of(text: &str) -> Json {
        tree::parse_documents(text).expect("parses")[0].to_json()["spec"].clone()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Any JSON value into any field of any spec, written in block or in flow style: the
        /// field reads back as the new value, the others as before.
        #[test]
        fn any_values_into_any_fields(
            old in prop::collection::btree_map(awkward_string(), json_value(), 1..5),
            new in prop::collection::vec((any::<prop::sample::Index>(), json_value()), 1..4),
            flow in any::<bool>(),
            crlf in any::<bool>(),
        ) {
            let old: Map<String, Json> = old.into_iter().collect();
            let text = if flow {
                format!("spec: {}  # flow\n", emit::flow(&Json::Object(old.clone())))
            } else {
                let mut text = String::from("# a document\nkind: x\nspec:\n");
                emit::block_mapping(&old, 2, &mut text);
                text
            };
            let text = if crlf { text.replace('\n', "\r\n") } else { text };
            let mut edits: Vec<Edit> = Vec::new();
            for (pick, value) in new {
                let field = old.keys().nth(pick.index(old.len())).unwrap().clone();
                if edits.iter().all(|e| e.path[1] != field) {
                    edits.push(edit(&field, value));
                }
            }
            let out = set_values(&text, &edits);
            prop_assert!(out.is_ok(), "{:?}\n{}", out, text);
            let out = out.unwrap();
            let mut expected = old.clone();
            for e in edits {
                expected.insert(e.path[1].clone(), e.value);
            }
            prop_assert!(same_json(&spec_of(&out), &Json::Object(expected)), "{}\n----\n{}", text, out);
        }
    }

    #[test]
    fn numbers_are_spelt_as_json_spells_them() {
        let text = "spec:\n  a: 1\n";
        for (value, written) in [
            (json!(0), "0"),
            (json!(-7), "-7"),
            (json!(u64::MAX), "18446744073709551615"),
            (json!(1.5), "1.5"),
            (json!(1.0), "1.0"),
            (json!(1e300), "1e+300"),
            (json!(-2.5e-8), "-2.5e-8"),
        ] {
            let out = set_values(text, &[edit("a", value.clone())]).unwrap();
            assert_eq!(out, format!("spec:\n  a: {written}\n"));
        }
    }

    #[test]
    fn empty_values_and_block_scalars() {
        let text = "spec:\n  a:\n  b: |-  # keep\n    x\n\n    # y\n\n  c: >\n  d: x\n";
        let out = set_values(
            text,
            &[
                edit("a", json!({"k": [1]})),
                edit("b", json!("z")),
                edit("c", json!(["p"])),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            "spec:\n  a:\n    k:\n      - 1\n  b: z  # keep\n\n  c:\n    - p\n  d: x\n"
        );
    }

    /// Odd but valid layouts: quoted keys, `#` inside quotes, document markers, multi-line
    /// flow values, tabs.
    #[test]
    fn odd_layouts() {
        let cases = [
            (
                "spec:\n  \"name\" : \"a # b\"  # c\n",
                json!("x"),
                "spec:\n  \"name\" : x  # c\n",
            ),
            (
                "spec:\n  name: a\n...\n---\nb: 1\n",
                json!({"k": "v"}),
                "spec:\n  name:\n    k: v\n...\n---\nb: 1\n",
            ),
            (
                "spec:\n  name: {\n    a: 1,   # c\n    b: 2 }  # after\nnext: 1\n",
                json!({"k": "v"}),
                "spec:\n  name:\n    k: v  # after\nnext: 1\n",
            ),
            (
                "spec:\n  name: {\n    a: 1,   # c\n    b: 2 }  # after\nnext: 1\n",
                json!(7),
                "spec:\n  name: 7  # after\nnext: 1\n",
            ),
            ("spec:\n  name:\tx\n", json!("z"), "spec:\n  name:\tz\n"),
            (
                "spec:\n  name:\r\n  - a\r\n  -\r\n  x: 1\r\n",
                json!({"k": [true]}),
                "spec:\n  name:\r\n    k:\r\n      - true\r\n  x: 1\r\n",
            ),
            (
                "spec:\n  name: !!str |+  # c\n    keep\n\n  x: 1\n",
                json!(null),
                "spec:\n  name: null  # c\n\n  x: 1\n",
            ),
            (
                "spec: {name: [a, b], x: y}\n",
                json!(["c"]),
                "spec: {name: [c], x: y}\n",
            ),
            (
                "spec: {name: , x: y}\n",
                json!("c"),
                "spec: {name: c, x: y}\n",
            ),
        ];
        for (text, value, expected) in cases {
            let out = set_values(text, &[edit("name", value)]);
            assert_eq!(out.as_deref(), Ok(expected), "{text}");
        }
    }
}
