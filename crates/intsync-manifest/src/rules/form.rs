//! Rules for Ada's installer form: `configuration_fields` (a JSON Schema) and
//! `identifier_field_path` (a JMESPath into it).
//!
//! Ada's own getting-started example fails two of these checks (a `required` name that is not a
//! property; an identifier that is not required), so they are errors, not style advice.

use super::Checker;
use crate::diagnostic::Code;
use intsync_yaml::{Node, Value};

/// Keywords whose value is one subschema.
const SCHEMA_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
    "items",
];
/// Keywords whose value is a list of subschemas.
const SCHEMA_LIST_KEYWORDS: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems", "items"];
/// Keywords whose value maps names to subschemas.
const SCHEMA_MAP_KEYWORDS: &[&str] = &[
    "properties",
    "patternProperties",
    "dependentSchemas",
    "$defs",
    "definitions",
];

#[derive(Debug, Clone, Copy)]
enum Dialect {
    Draft4,
    Draft6,
    Draft7,
    Draft201909,
    Draft202012,
}

fn dialect(uri: &str) -> Option<Dialect> {
    let uri = uri
        .trim_end_matches('#')
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    match uri {
        "json-schema.org/draft-04/schema" => Some(Dialect::Draft4),
        "json-schema.org/draft-06/schema" => Some(Dialect::Draft6),
        "json-schema.org/draft-07/schema" => Some(Dialect::Draft7),
        "json-schema.org/draft/2019-09/schema" => Some(Dialect::Draft201909),
        "json-schema.org/draft/2020-12/schema" => Some(Dialect::Draft202012),
        _ => None,
    }
}

/// `configuration_fields` must be a valid JSON Schema, and every `required` name must exist in
/// the sibling `properties`.
pub(super) fn check_schema(checker: &mut Checker<'_>, form: &Node) {
    let mut chosen = Dialect::Draft202012;
    if let Some((_, uri)) = form.get("$schema")
        && let Some(text) = uri.as_str()
    {
        match dialect(text) {
            Some(d) => chosen = d,
            None => {
                checker
                    .warning(Code::UnknownSchemaDialect, uri.span, format!("unknown JSON Schema dialect `{text}`; checking as draft 2020-12"))
                    .label("unknown `$schema`")
                    .help("use https://json-schema.org/draft/2020-12/schema (or draft-07), or remove `$schema`");
            }
        }
    }

    let json = form.to_json();
    let meta = match chosen {
        Dialect::Draft4 => jsonschema::draft4::meta::validator(),
        Dialect::Draft6 => jsonschema::draft6::meta::validator(),
        Dialect::Draft7 => jsonschema::draft7::meta::validator(),
        Dialect::Draft201909 => jsonschema::draft201909::meta::validator(),
        Dialect::Draft202012 => jsonschema::draft202012::meta::validator(),
    };
    let mut meta_valid = true;
    for error in meta.iter_errors(&json) {
        meta_valid = false;
        let pointer = error.instance_path().as_str().to_owned();
        let node = form.pointer(&pointer).unwrap_or(form);
        let at = if pointer.is_empty() {
            String::new()
        } else {
            format!(" at `{pointer}`")
        };
        // The meta-schema says "not valid under any of the schemas listed in 'anyOf'" for a
        // misspelt type; name the valid ones instead.
        let reason = if pointer.ends_with("/type")
            && matches!(
                error.kind(),
                jsonschema::error::ValidationErrorKind::AnyOf { .. }
            ) {
            format!(
                "{} is not a JSON Schema type (string, number, integer, boolean, object, array, null)",
                error.instance()
            )
        } else {
            error.to_string()
        };
        checker
            .error(Code::InvalidJsonSchema, node.span, format!("`configuration_fields` is not a valid JSON Schema{at}: {reason}"))
            .label("invalid here")
            .help("`configuration_fields` is the JSON Schema of the installer's form; see https://json-schema.org/understanding-json-schema");
    }
    if meta_valid && needs_compile(form, chosen) {
        // Meta-schemas leave some things to the compiler: regular expressions, `$ref` targets.
        let draft = match chosen {
            Dialect::Draft4 => jsonschema::Draft::Draft4,
            Dialect::Draft6 => jsonschema::Draft::Draft6,
            Dialect::Draft7 => jsonschema::Draft::Draft7,
            Dialect::Draft201909 => jsonschema::Draft::Draft201909,
            Dialect::Draft202012 => jsonschema::Draft::Draft202012,
        };
        if let Err(error) = jsonschema::options()
            .with_draft(draft)
            .build(&for_compiler(&json))
        {
            let pointer = error.instance_path().as_str().to_owned();
            let node = form.pointer(&pointer).unwrap_or(form);
            checker
                .error(Code::InvalidJsonSchema, node.span, format!("`configuration_fields` is not a usable JSON Schema: {error}"))
                .label("cannot be compiled")
                .help("fix the keyword's value; remote `$ref`s are not fetched, so keep the form self-contained");
        }
    }

    check_required_lists(checker, form);
    checker.form_json = Some((form.span, json));
}

/// Keywords whose value the compiler reads as a count (a `u64`).
const COUNT_KEYWORDS: &[&str] = &[
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "maxProperties",
    "minProperties",
    "maxContains",
    "minContains",
];

/// The form as the compiler is given it. A count past `u64` written with an exponent
/// (`maxItems: 1e400`) is an integer to the meta-schema (jsonschema's `arbitrary-precision`
/// reads it exactly), but its compiler, which reads counts as `u64`, calls it "not of type
/// integer". No instance is that long, so `u64::MAX` compiles to a validator that judges every
/// instance the same. Only the compile check sees this copy; the form sent is the manifest's.
fn for_compiler(json: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match json {
        J::Object(map) => J::Object(
            map.iter()
                .map(|(key, value)| {
                    let value = match value {
                        J::Number(n)
                            if COUNT_KEYWORDS.contains(&key.as_str())
                                && n.as_u64().is_none()
                                && !n.as_str().starts_with('-') =>
                        {
                            J::from(u64::MAX)
                        }
                        other => for_compiler(other),
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        J::Array(items) => J::Array(items.iter().map(for_compiler).collect()),
        other => other.clone(),
    }
}

/// Keywords the meta-schema accepts but the compiler may still refuse: references it must
/// resolve, and identifiers and anchors it must parse as URIs (`$id: "::::"` passes the 2020-12
/// meta-schema, which leaves formats unchecked).
const COMPILER_KEYWORDS: &[&str] = &[
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
    "$id",
    "$anchor",
    "$dynamicAnchor",
    "$recursiveAnchor",
    "$vocabulary",
];

/// Whether a form the meta-schema accepts must also be compiled to know that it is usable.
///
/// Compiling a validator costs several times the meta-schema check, for every form, so it is
/// kept for what the meta-schema cannot decide:
/// - draft-04 and draft-06 (old dialects, whose compiler quirks the fast path does not vouch
///   for; their meta-schemas do not even mark `patternProperties` keys as regexes);
/// - `$ref` and friends (targets to resolve), `$id` and anchors (URIs to parse), a `$schema`
///   below the root (another dialect), an unknown root `$schema`;
/// - a `pattern` or a `patternProperties` key that [`plainly_compiles`] cannot vouch for.
///
/// The meta-schemas mark patterns `format: regex`, but that format checks ECMA-262 syntax,
/// while the compiler translates the pattern to a Rust regex and builds it: the two disagree
/// both ways (`(?i)abc` compiles but is not ECMA-262; `(?<a>x)|(?<a>y)` and `[^]` are ECMA-262
/// but do not compile). So an unusual pattern is compiled, and the compiler's error, worded
/// as ever, is reported.
///
/// Keys are looked at anywhere in the form, not only where they are keywords: a false alarm
/// (a property named `$id`) only costs the compile.
fn needs_compile(form: &Node, chosen: Dialect) -> bool {
    if matches!(chosen, Dialect::Draft4 | Dialect::Draft6) {
        return true;
    }
    if let Some((_, uri)) = form.get("$schema")
        && uri.as_str().and_then(dialect).is_none()
    {
        return true;
    }
    fn visit(node: &Node, root: bool) -> bool {
        match &node.value {
            Value::Mapping(pairs) => pairs.iter().any(|(key, value)| {
                let k = key.name.as_str();
                COMPILER_KEYWORDS.contains(&k)
                    || (k == "$schema" && !root)
                    || (k == "pattern" && value.as_str().is_some_and(|p| !plainly_compiles(p)))
                    || (k == "patternProperties"
                        && value
                            .as_mapping()
                            .unwrap_or_default()
                            .iter()
                            .any(|(p, _)| !plainly_compiles(&p.name)))
                    || visit(value, false)
            }),
            Value::Sequence(items) => items.iter().any(|item| visit(item, false)),
            _ => false,
        }
    }
    visit(form, true)
}

/// The most a plain pattern may weigh, in characters and in cost (its characters times the
/// repetition bounds around them), so that it stays far below the regex engine's size limit:
/// the smallest pattern found to exceed it, `\W{1,10000}`, costs 20,000.
const MAX_PLAIN_PATTERN: usize = 1_000;

/// Whether `pattern` is in a plain subset of regular expressions that the JSON Schema compiler
/// always accepts (a unit test checks this against the compiler itself): literals, `.`, `^`,
/// `$`, `\b`, the classes `\d \w \s` and their negations, character escapes, bracketed classes
/// of single characters and ranges, groups `(…)` and `(?:…)`, alternation, and the
/// quantifiers `* + ? {n} {n,} {n,m}` (lazy or not), with a bounded expansion.
///
/// `false` means "compile it to know", not "invalid".
fn plainly_compiles(pattern: &str) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    if chars.is_empty() || chars.len() > MAX_PLAIN_PATTERN {
        return false;
    }
    let mut parser = PlainRegex {
        chars: &chars,
        at: 0,
        cost: 0,
    };
    parser.alternation(1, 0).is_some() && parser.at == chars.len()
}

/// A recursive-descent recogniser for [`plainly_compiles`]. `None` means "not plain".
struct PlainRegex<'c> {
    chars: &'c [char],
    at: usize,
    /// Source characters times the repetitions around them: bounds the compiled size.
    cost: usize,
}

impl PlainRegex<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// `sequence ('|' sequence)*`, every alternative non-empty. `repeat` is the product of the
    /// repetition bounds around it.
    fn alternation(&mut self, repeat: usize, depth: usize) -> Option<()> {
        if depth > 16 {
            return None;
        }
        loop {
            let start = self.at;
            while !matches!(self.peek(), None | Some('|' | ')')) {
                self.term(repeat, depth)?;
            }
            if self.at == start {
                return None;
            }
            if !self.eat('|') {
                return Some(());
            }
        }
    }

    /// An atom and its quantifier.
    fn term(&mut self, repeat: usize, depth: usize) -> Option<()> {
        let start = self.at;
        let c = self.peek()?;
        self.at += 1;
        let quantifiable = match c {
            '^' | '$' => false,
            '.' => true,
            '\\' => match self.peek()? {
                'b' | 'B' => {
                    self.at += 1;
                    false
                }
                'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                    self.at += 1;
                    true
                }
                _ => {
                    self.char_escape()?;
                    true
                }
            },
            '[' => {
                self.class()?;
                true
            }
            '(' => {
                if self.eat('?') && !self.eat(':') {
                    return None;
                }
                // The group's own characters are counted by its contents.
                let inner_repeat = self.quantifier_bound_after_group(repeat)?;
                self.alternation(inner_repeat, depth + 1)?;
                if !self.eat(')') {
                    return None;
                }
                self.quantifier()?;
                return Some(());
            }
            c if is_plain_literal(c) => true,
            _ => return None,
        };
        let width = self.at - start;
        let bound = if quantifiable { self.quantifier()? } else { 1 };
        self.cost = self
            .cost
            .checked_add(width.checked_mul(repeat)?.checked_mul(bound)?)?;
        (self.cost <= MAX_PLAIN_PATTERN).then_some(())
    }

    /// The repetition bound of the quantifier after the group that starts here, times `repeat`,
    /// found by scanning to the group's closing parenthesis (groups nest; classes and escapes
    /// may hold parentheses).
    fn quantifier_bound_after_group(&self, repeat: usize) -> Option<usize> {
        let mut depth = 1;
        let mut i = self.at;
        while depth > 0 {
            match *self.chars.get(i)? {
                '\\' => i += 1,
                '[' => {
                    i += 1;
                    while *self.chars.get(i)? != ']' {
                        if self.chars[i] == '\\' {
                            i += 1;
                        }
                        i += 1;
                    }
                }
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            i += 1;
        }
        let mut after = PlainRegex {
            chars: self.chars,
            at: i,
            cost: 0,
        };
        repeat.checked_mul(after.quantifier()?)
    }

    /// An optional quantifier; returns the repetition bound it multiplies the cost by.
    fn quantifier(&mut self) -> Option<usize> {
        let bound = match self.peek() {
            Some('*' | '+' | '?') => {
                self.at += 1;
                1
            }
            Some('{') => {
                self.at += 1;
                let min = self.number()?;
                let max = if self.eat(',') {
                    if self.peek() == Some('}') {
                        min.checked_add(1)?
                    } else {
                        let max = self.number()?;
                        if max < min {
                            return None;
                        }
                        max
                    }
                } else {
                    min
                };
                if !self.eat('}') {
                    return None;
                }
                max.max(1)
            }
            _ => return Some(1),
        };
        self.eat('?');
        Some(bound)
    }

    /// Up to four decimal digits.
    fn number(&mut self) -> Option<usize> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) && self.at - start < 4 {
            self.at += 1;
        }
        if self.at == start || self.peek().is_some_and(|c| c.is_ascii_digit()) {
            return None;
        }
        self.chars[start..self.at]
            .iter()
            .collect::<String>()
            .parse()
            .ok()
    }

    /// After `\\`: an escape that stands for one character; returns it.
    fn char_escape(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += 1;
        match c {
            'n' => Some('\n'),
            'r' => Some('\r'),
            't' => Some('\t'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            'x' => self.hex(2),
            'u' => self.hex(4),
            '^' | '$' | '\\' | '.' | '*' | '+' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|'
            | '/' | '-' => Some(c),
            _ => None,
        }
    }

    /// Exactly `digits` hex digits, naming a character that is not a surrogate.
    fn hex(&mut self, digits: usize) -> Option<char> {
        let text: String = self.chars.get(self.at..self.at + digits)?.iter().collect();
        if !text.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        self.at += digits;
        char::from_u32(u32::from_str_radix(&text, 16).ok()?)
    }

    /// After `[`: `^`?, then single characters, ranges and `\d \w \s` (and negations), up to
    /// `]`. A `-` is literal only first or last; `[` and set-operation syntax are not plain.
    fn class(&mut self) -> Option<()> {
        self.eat('^');
        let mut first = true;
        loop {
            match self.peek()? {
                ']' if !first => {
                    self.at += 1;
                    return Some(());
                }
                '-' => {
                    let next = self.chars.get(self.at + 1).copied();
                    if !(first || next == Some(']')) || next == Some('-') {
                        return None;
                    }
                    self.at += 1;
                }
                _ => {
                    let atom = self.class_atom()?;
                    if self.peek() == Some('-') && self.chars.get(self.at + 1) != Some(&']') {
                        let ClassAtom::Char(low) = atom else {
                            return None;
                        };
                        self.at += 1;
                        let ClassAtom::Char(high) = self.class_atom()? else {
                            return None;
                        };
                        if high < low || high == '-' {
                            return None;
                        }
                    }
                }
            }
            first = false;
        }
    }

    fn class_atom(&mut self) -> Option<ClassAtom> {
        let c = self.peek()?;
        self.at += 1;
        match c {
            '\\' => match self.peek()? {
                'd' | 'D' | 'w' | 'W' | 's' | 'S' => {
                    self.at += 1;
                    Some(ClassAtom::Class)
                }
                _ => self.char_escape().map(ClassAtom::Char),
            },
            '[' | ']' => None,
            // Set operations (`&&`, `~~`, `--`) in Rust regex classes.
            '&' | '~' | '-' if self.peek() == Some(c) => None,
            c if !c.is_control() => Some(ClassAtom::Char(c)),
            _ => None,
        }
    }
}

enum ClassAtom {
    Char(char),
    /// `\d`, `\w`, `\s` or a negation: cannot end a range.
    Class,
}

/// A character that stands for itself outside a class.
fn is_plain_literal(c: char) -> bool {
    !c.is_control()
        && !matches!(
            c,
            '\\' | '^' | '$' | '.' | '|' | '?' | '*' | '+' | '(' | ')' | '[' | ']' | '{' | '}'
        )
}

/// Visits every subschema of `schema`, itself included.
fn for_each_subschema<'n>(schema: &'n Node, visit: &mut dyn FnMut(&'n Node)) {
    if !matches!(schema.value, Value::Mapping(_)) {
        return;
    }
    visit(schema);
    for (key, value) in schema.as_mapping().unwrap_or_default() {
        let k = key.name.as_str();
        if SCHEMA_KEYWORDS.contains(&k) {
            for_each_subschema(value, visit);
        }
        if SCHEMA_LIST_KEYWORDS.contains(&k) {
            for item in value.as_sequence().unwrap_or_default() {
                for_each_subschema(item, visit);
            }
        }
        if SCHEMA_MAP_KEYWORDS.contains(&k) {
            for (_, sub) in value.as_mapping().unwrap_or_default() {
                for_each_subschema(sub, visit);
            }
        }
    }
}

fn check_required_lists(checker: &mut Checker<'_>, form: &Node) {
    for_each_subschema(form, &mut |schema| {
        let Some((_, required)) = schema.get("required") else {
            return;
        };
        let Some(names) = required.as_sequence() else {
            return;
        };
        let properties = schema.get("properties");
        for item in names {
            let Some(name) = item.as_str() else { continue };
            let defined = properties.is_some_and(|(_, p)| p.get(name).is_some());
            if defined {
                continue;
            }
            let diagnostic = checker
                .error(
                    Code::RequiredNotInProperties,
                    item.span,
                    format!("`required` names `{name}`, which is not in the sibling `properties`"),
                )
                .label("not a property");
            match properties {
                Some((key, props)) => {
                    let known: Vec<&str> = props
                        .as_mapping()
                        .unwrap_or_default()
                        .iter()
                        .map(|(k, _)| k.name.as_str())
                        .collect();
                    diagnostic.secondary(key.span, "the properties defined here");
                    match crate::diagnostic::did_you_mean(name, known.iter().copied()) {
                        Some(s) => diagnostic.help(format!(
                            "did you mean `{s}`? Otherwise add `{name}` to `properties`"
                        )),
                        None => diagnostic.help(format!(
                            "add `{name}` to `properties`, or remove it from `required`"
                        )),
                    };
                }
                None => {
                    diagnostic.help(format!("add a `properties` mapping that defines `{name}`, or remove it from `required`"));
                }
            }
        }
    });
}

/// The field names of a plain dotted JMESPath (`a.b.c`), or `None` for anything else.
fn field_chain(ast: &jmespath::ast::Ast, out: &mut Vec<String>) -> bool {
    match ast {
        jmespath::ast::Ast::Field { name, .. } => {
            out.push(name.clone());
            true
        }
        jmespath::ast::Ast::Subexpr { lhs, rhs, .. } => {
            field_chain(lhs, out) && field_chain(rhs, out)
        }
        _ => false,
    }
}

/// `identifier_field_path` compiles as JMESPath and, when the same manifest has
/// `configuration_fields`, resolves through `properties` to a `type: string` field that is
/// required at every level on the way.
pub(super) fn check_identifier_path(checker: &mut Checker<'_>, node: &Node, form: Option<&Node>) {
    let Some(path) = node.as_str() else { return };
    let ast = match jmespath::parse(path) {
        Ok(ast) => ast,
        Err(error) => {
            checker
                .error(
                    Code::InvalidJmespath,
                    node.span,
                    format!(
                        "`identifier_field_path` is not valid JMESPath: {}",
                        error.reason
                    ),
                )
                .label("invalid JMESPath")
                .help(
                    "write a dotted path to a field of the form, e.g. `credentials.account_name`",
                );
            return;
        }
    };
    let mut segments = Vec::new();
    if !field_chain(&ast, &mut segments) {
        checker
            .error(
                Code::IdentifierPathNotAField,
                node.span,
                format!("`identifier_field_path` `{path}` is not a plain dotted path to one field"),
            )
            .label("not a field path")
            .help("use field names joined by dots, e.g. `credentials.account_name`");
        return;
    }
    // A manifest pinned by id may manage the path without the form: nothing to resolve against.
    let Some(mut schema) = form else { return };
    let mut walked = Vec::new();
    for segment in &segments {
        let parent = if walked.is_empty() {
            "the form's top level".to_owned()
        } else {
            format!("`{}`", walked.join("."))
        };
        let property = schema.get("properties").and_then(|(_, p)| p.get(segment));
        let Some((_, property)) = property else {
            let diagnostic = checker
                .error(Code::IdentifierPathUnresolved, node.span, format!("`identifier_field_path` `{path}` does not resolve: {parent} has no property `{segment}`"))
                .label("points at nothing");
            if let Some((key, _)) = schema.get("properties") {
                diagnostic.secondary(key.span, format!("properties of {parent}"));
            }
            diagnostic
                .help("point `identifier_field_path` at a field defined in `configuration_fields`");
            return;
        };
        let required = schema
            .get("required")
            .and_then(|(_, r)| r.as_sequence())
            .is_some_and(|names| names.iter().any(|n| n.as_str() == Some(segment.as_str())));
        if !required {
            let diagnostic = checker
                .error(Code::IdentifierNotRequired, node.span, format!("`identifier_field_path` `{path}` goes through `{segment}`, which {parent} does not list in `required`"))
                .label("not required on the way");
            match schema.get("required") {
                Some((key, _)) => {
                    diagnostic.secondary(key.span, format!("add `{segment}` to this list"))
                }
                None => diagnostic.secondary(schema.span, "this schema has no `required` list"),
            };
            diagnostic.help(format!("an installation is identified by this field, so the form must require it: add `{segment}` to `required`"));
        }
        walked.push(segment.as_str());
        schema = property;
    }
    let ty = schema.get("type").map(|(_, t)| t);
    if ty.and_then(Node::as_str) != Some("string") {
        let found = match ty {
            Some(t) => match &t.value {
                Value::String(s) => format!("`type: {s}`"),
                other => format!("`type` {}", other.type_name()),
            },
            None => "no `type`".to_owned(),
        };
        let diagnostic = checker
            .error(Code::IdentifierNotString, node.span, format!("`identifier_field_path` `{path}` points at a field with {found}; it must be `type: string`"))
            .label("not a string field");
        diagnostic.secondary(ty.map_or(schema.span, |t| t.span), "the field's type");
        diagnostic.help("identify installations by a string field, e.g. an account name or URL");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;
    use proptest::prelude::*;

    /// The diagnostics of `check_schema` on the form written in `yaml`: (line, message).
    fn check(yaml: &str) -> Vec<(u32, String)> {
        let file = SourceFile::new("form.yaml", yaml);
        let form = intsync_yaml::parse_documents(yaml)
            .expect("valid YAML")
            .remove(0);
        let mut checker = Checker::new(&file);
        check_schema(&mut checker, &form);
        checker
            .diagnostics
            .iter()
            .map(|d| (d.span.line, d.message.clone()))
            .collect()
    }

    fn is_fast(yaml: &str) -> bool {
        let form = intsync_yaml::parse_documents(yaml).unwrap().remove(0);
        let chosen = form
            .get("$schema")
            .and_then(|(_, s)| s.as_str())
            .and_then(dialect)
            .unwrap_or(Dialect::Draft202012);
        !needs_compile(&form, chosen)
    }

    const DRAFT7: &str = "$schema: http://json-schema.org/draft-07/schema#\n";
    const DRAFT2020: &str = "$schema: https://json-schema.org/draft/2020-12/schema\n";

    fn regex_error(pattern: &str) -> String {
        format!(
            "`configuration_fields` is not a usable JSON Schema: \"{pattern}\" is not a \"regex\""
        )
    }

    const DRAFT4: &str = "$schema: http://json-schema.org/draft-04/schema#\n";
    const BIG: &str = "123456789012345678901234567890";

    /// A form written with `numbers` as the values of number keywords, in `dialect`; compiled
    /// too when `compile` (a `$ref` makes it need the compiler).
    fn numbers_form(dialect: &str, compile: bool, numbers: &[(&str, &str)]) -> String {
        let keywords: Vec<String> = numbers.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        let reference = if compile {
            "  named: {$ref: '#/properties/name'}\n"
        } else {
            ""
        };
        format!(
            "{dialect}type: object\nproperties:\n  name: {{type: string}}\n  field: {{{}}}\n{reference}",
            keywords.join(", ")
        )
    }

    /// Integers past 64 bits and numbers past `f64` are numbers to the JSON Schema checks, in
    /// every dialect, on the meta-schema path and on the compile path: where the meta-schema
    /// wants a number, an integer or a non-negative integer, they pass, and what breaks the
    /// rule fails, however big or small. (Without jsonschema's `arbitrary-precision` feature,
    /// `multipleOf: 1e-400` was "not above 0", `maxItems: 1e-400` and `maxItems:
    /// 123456789012345678901234567890.5` integers, `maxProperties: 1e400` not one.)
    #[test]
    fn big_numbers_are_judged_as_numbers() {
        let big = BIG;
        let counts = [
            "maxLength",
            "minLength",
            "maxItems",
            "minItems",
            "maxProperties",
            "minProperties",
        ];
        let mut valid: Vec<(&str, String)> = vec![
            ("maximum", big.to_owned()),
            ("minimum", format!("-{big}")),
            ("maximum", "1e400".to_owned()),
            ("minimum", "-1e400".to_owned()),
            ("multipleOf", "1e-400".to_owned()),
            ("multipleOf", big.to_owned()),
            ("default", big.to_owned()),
            ("default", "1e400".to_owned()),
            ("enum", format!("[{big}, 1e400, -1e-400]")),
        ];
        valid.extend(counts.map(|k| (k, big.to_owned())));
        // Integers by value, but not by draft-04's "without a fraction or exponent".
        let mut spelled: Vec<(&str, String)> = vec![
            ("minLength", "1e0".to_owned()),
            ("maxLength", format!("{big}.0")),
        ];
        spelled.extend(counts.map(|k| (k, "1e400".to_owned())));
        let invalid: &[(&str, String)] = &[
            ("minLength", format!("-{big}")),
            ("maxItems", format!("{big}.5")),
            ("maxItems", "1e-400".to_owned()),
            ("maxLength", "-1e400".to_owned()),
            ("multipleOf", "0".to_owned()),
            ("multipleOf", format!("-{big}")),
            ("multipleOf", "-1e400".to_owned()),
            ("maximum", format!("\"{big}\"")),
        ];
        let mut wrong = Vec::new();
        for dialect in ["", DRAFT4, DRAFT7, DRAFT2020] {
            for compile in [false, true] {
                let accepted = valid
                    .iter()
                    .chain(spelled.iter().filter(|_| dialect != DRAFT4));
                for (keyword, value) in accepted {
                    let yaml = numbers_form(dialect, compile, &[(keyword, value)]);
                    let found = check(&yaml);
                    if !found.is_empty() {
                        wrong.push(format!(
                            "{dialect}compiled: {compile}: {keyword}: {value} refused: {found:?}"
                        ));
                    }
                }
                let refused = invalid
                    .iter()
                    .chain(spelled.iter().filter(|_| dialect == DRAFT4));
                for (keyword, value) in refused {
                    let yaml = numbers_form(dialect, compile, &[(keyword, value)]);
                    let found = check(&yaml);
                    if found.is_empty()
                        || !found.iter().all(|(_, m)| m.contains("/properties/field/"))
                    {
                        wrong.push(format!("{dialect}compiled: {compile}: {keyword}: {value} not refused there: {found:?}"));
                    }
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn a_plain_valid_form_has_no_diagnostic_and_is_not_compiled() {
        for dialect in ["", DRAFT7, DRAFT2020] {
            let yaml = format!(
                "{dialect}type: object\nrequired: [slug]\nproperties:\n  slug: {{ type: string, pattern: \"^[a-z0-9-]{{3,63}}$\" }}\n  \
                 region: {{ type: string, enum: [us, eu] }}\npatternProperties:\n  \"^x-[a-z]+$\": {{ type: string }}\n"
            );
            assert_eq!(check(&yaml), vec![], "{yaml}");
            assert!(is_fast(&yaml), "{yaml}");
        }
    }

    /// Draft-07's meta-schema validator checks formats, so it reports a bad regex itself; for
    /// 2019-09 and 2020-12 the compiler does.
    fn expected_regex_error(dialect: &str, at: &str, pattern: &str) -> String {
        if dialect == DRAFT7 {
            format!(
                "`configuration_fields` is not a valid JSON Schema at `{at}`: \"{pattern}\" is not a \"regex\""
            )
        } else {
            regex_error(pattern)
        }
    }

    #[test]
    fn an_invalid_pattern_is_reported_where_it_is_written() {
        for dialect in ["", DRAFT7, DRAFT2020] {
            let yaml = format!(
                "{dialect}type: object\nproperties:\n  name:\n    type: string\n    pattern: \"([a-z\"\n"
            );
            let line = 5 + u32::from(!dialect.is_empty());
            let message = expected_regex_error(dialect, "/properties/name/pattern", "([a-z");
            assert_eq!(check(&yaml), vec![(line, message)], "{yaml}");
        }
    }

    #[test]
    fn an_invalid_pattern_properties_key_is_reported() {
        for dialect in [DRAFT7, DRAFT2020] {
            let yaml = format!(
                "{dialect}type: object\npatternProperties:\n  \"^ok$\": {{ type: string }}\n  \"([a-z\": {{ type: string }}\n"
            );
            let found = check(&yaml);
            assert_eq!(found.len(), 1, "{yaml}: {found:?}");
            let message = expected_regex_error(dialect, "/patternProperties", "([a-z");
            assert_eq!(found[0].1, message, "{yaml}");
        }
    }

    #[test]
    fn refs_are_resolved() {
        let missing = "type: object\nproperties:\n  a: { $ref: \"#/$defs/x\" }\n";
        let found = check(missing);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .1
                .starts_with("`configuration_fields` is not a usable JSON Schema: "),
            "{found:?}"
        );
        let valid = "type: object\n$defs:\n  x: { type: string }\nproperties:\n  a: { $ref: \"#/$defs/x\" }\n";
        assert_eq!(check(valid), vec![]);
        let draft7 = format!(
            "{DRAFT7}type: object\ndefinitions:\n  x: {{ type: string }}\nproperties:\n  a: {{ $ref: \"#/definitions/x\" }}\n"
        );
        assert_eq!(check(&draft7), vec![]);
    }

    #[test]
    fn what_only_the_compiler_knows_is_still_reported() {
        // Not a URI, though the 2020-12 meta-schema does not check `$id`'s format.
        assert_eq!(check("$id: \"::::\"\ntype: object\n").len(), 1);
        // ECMA-262 patterns the compiler cannot build.
        for pattern in ["(?<a>x)|(?<a>y)", "[^]", "\\\\d{1,100000}"] {
            let yaml = format!("type: string\npattern: \"{pattern}\"\n");
            assert_eq!(check(&yaml).len(), 1, "{yaml}");
        }
        // Not ECMA-262, but the compiler builds it: no diagnostic, as ever.
        assert_eq!(check("type: string\npattern: \"(?i)^abc$\"\n"), vec![]);
    }

    /// Whether the JSON Schema compiler accepts `pattern`, as a `pattern` and as a
    /// `patternProperties` key.
    fn compiles(pattern: &str) -> bool {
        let as_pattern = serde_json::json!({ "pattern": pattern });
        let as_key = serde_json::json!({ "patternProperties": { pattern: {} } });
        jsonschema::options().build(&as_pattern).is_ok()
            && jsonschema::options().build(&as_key).is_ok()
    }

    #[test]
    fn plain_patterns_are_the_common_ones() {
        for pattern in [
            "^[a-z0-9-]+$",
            "^[a-z0-9-]{3,63}$",
            "^\\d{3}-\\d{4}$",
            "^https?://",
            "^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,}$",
            "^(?:[a-z]+|\\*)$",
            "^[\\u00C0-\\u017Fa-z ]*$",
            "^\\S+$",
            "^x-",
            "\\bword\\b",
            "^[^@]+@[^@]+$",
            "\\x41\\u0000[\\x00-\\x1F]\\uFFFF\\u00e9\\t\\n\\r\\f\\v",
            "[\\^\\-\\]\\[\\\\/.*+?(){}|$]",
            "\\^\\$\\\\\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\/\\-",
            "(?:a|b(c)*?){2,10}?x{3}y{0}z{0,}",
        ] {
            assert!(plainly_compiles(pattern), "{pattern}");
            assert!(compiles(pattern), "{pattern}");
        }
        for pattern in [
            "",
            "([a-z",
            "(?i)abc",
            "(?<a>x)|(?<a>y)",
            "[^]",
            "[]",
            "[\\b]",
            "\\0",
            "\\p{L}",
            "\\k<a>(?<a>x)",
            "a{,5}",
            "a++",
            "a{2}{3}",
            "[[:alpha:]]",
            "[a&&b]",
            "[a--b]",
            "\\d{1,100000}",
            "(a{1000}){1000}",
            "x{999}y{999}",
            "(?=a)",
            "\\1(a)",
            "a|",
            "()",
            "]",
            "}",
        ] {
            assert!(!plainly_compiles(pattern), "{pattern}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4_000))]

        /// The fast path's promise: a pattern it calls plain is one the compiler builds.
        #[test]
        fn plain_patterns_compile(pattern in "[-a-c0-9^$.|?*+(){}\\[\\]\\\\,:=!<&~ dDwWsSbBuxnpk]{1,14}") {
            if plainly_compiles(&pattern) {
                prop_assert!(compiles(&pattern), "{pattern:?} is plain but does not compile");
            }
        }

        #[test]
        fn plain_patterns_with_counted_repetitions_compile(
            parts in proptest::collection::vec(("[-a.^$]|\\\\[dDwWsS]|\\[\\^?[-a-z0-9\\\\dWs]{1,5}\\]", 0usize..1200, 0usize..1200, any::<bool>()), 1..5)
        ) {
            let mut pattern = String::new();
            for (atom, min, max, group) in &parts {
                let (low, high) = (min.min(max), min.max(max));
                if *group {
                    pattern.push_str(&format!("(?:{atom}{atom}){{{low},{high}}}"));
                } else {
                    pattern.push_str(&format!("{atom}{{{low},{high}}}"));
                }
            }
            if plainly_compiles(&pattern) {
                prop_assert!(compiles(&pattern), "{pattern:?} is plain but does not compile");
            }
        }
    }
}
