//! Which targets receive a manifest, and what its `!var NAME` references stand for on each
//! (design §11).
//!
//! This crate reads no configuration and no environment: the caller says which targets there
//! are, the kinds each serves and the value of each of its vars ([`Receivers`]). A document
//! without `!var` is checked once and goes to every receiver; a document with one is resolved
//! and checked once per receiving target, so a value that is wrong on one target is reported
//! with that target's name, at the reference's file:line:column.

use std::collections::BTreeMap;
use std::sync::Arc;

use intsync_yaml::{Key, Node, Span, Value};

use crate::diagnostic::{Code, Diagnostic, SourceFile, did_you_mean};
use crate::model::Kind;

/// The targets manifests may go to. [`Receivers::unchecked`] knows none: `metadata.targets` is
/// then not held to a configuration, and a `!var` has no value.
#[derive(Debug, Clone, Default)]
pub struct Receivers {
    targets: Option<Vec<Receiver>>,
    /// The targets a run serves ([`Receivers::only`]): manifests are resolved and checked for
    /// them alone (another target's var may be unset in this run's environment); `None`: all.
    serving: Option<Vec<String>>,
}

/// One target, as loading needs it.
#[derive(Debug, Clone)]
pub struct Receiver {
    pub name: String,
    /// The kinds it serves.
    pub kinds: Vec<Kind>,
    /// Its vars by name.
    pub vars: BTreeMap<String, VarValue>,
}

/// A var's value on one target.
#[derive(Debug, Clone, PartialEq)]
pub enum VarValue {
    Known {
        value: serde_json::Value,
        sensitive: bool,
    },
    /// Read from an environment variable that has no value now; `reason` says why, in words
    /// that name the variable.
    Missing { reason: String, env: String },
}

/// Where a manifest's value came from a var: what `plan` masks when it is sensitive, and what
/// `pull` leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarUse {
    /// RFC 6901 pointer into `spec` (`/oauth_callback_url`, `/config/base_url`).
    pub pointer: String,
    pub name: String,
    pub sensitive: bool,
    /// Where `!var NAME` is written.
    pub span: Span,
}

impl VarUse {
    /// The `spec` field the value is in (the pointer's first token, decoded).
    pub fn field(&self) -> String {
        let first = self.pointer[1..].split('/').next().unwrap_or_default();
        first.replace("~1", "/").replace("~0", "~")
    }
}

impl Receivers {
    /// No configuration known (tests, tools reading a file alone).
    pub fn unchecked() -> Receivers {
        Receivers::default()
    }

    pub fn new(targets: Vec<Receiver>) -> Receivers {
        Receivers {
            targets: Some(targets),
            serving: None,
        }
    }

    /// The same targets, for a run that serves only `names`: every target still decides who
    /// gets a manifest (`metadata.targets` is held to all of them), but a manifest's `!var`s
    /// are resolved, and its copies checked, only for these.
    #[must_use]
    pub fn only(mut self, names: &[&str]) -> Receivers {
        self.serving = Some(names.iter().map(|n| (*n).to_owned()).collect());
        self
    }

    /// Whether this run resolves manifests for target `name`.
    pub fn serves(&self, name: &str) -> bool {
        self.serving
            .as_ref()
            .is_none_or(|names| names.iter().any(|n| n == name))
    }

    pub fn targets(&self) -> Option<&[Receiver]> {
        self.targets.as_deref()
    }
}

/// The receivers of one document, and what was wrong in choosing them.
pub(crate) struct Routed<'r> {
    /// `None`: unchecked (no configuration known).
    pub receivers: Option<Vec<&'r Receiver>>,
    /// `metadata.targets`, when written as a list of strings.
    pub listed: Option<Vec<String>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Which of `receivers` get the document `root` (`metadata.targets`, else every target serving
/// its kind), with a diagnostic for a listed target that is unknown or serves another kind, for
/// a document no target receives, and for `!var` where the value must be one for all targets.
pub(crate) fn route<'r>(
    file: &Arc<SourceFile>,
    root: &Node,
    receivers: &'r Receivers,
) -> Routed<'r> {
    let mut diagnostics = Vec::new();
    for key in ["apiVersion", "kind"] {
        if let Some((_, node)) = root.get(key) {
            refuse_vars(file, node, &format!("`{key}`"), &mut diagnostics);
        }
    }
    let listed_node = root
        .get("metadata")
        .and_then(|(_, m)| m.get("targets"))
        .map(|(_, n)| n);
    if let Some(node) = listed_node {
        refuse_vars(file, node, "`metadata.targets`", &mut diagnostics);
    }
    let listed: Option<Vec<(String, Span)>> =
        listed_node.and_then(Node::as_sequence).map(|items| {
            items
                .iter()
                .filter_map(|n| n.as_str().map(|s| (s.to_owned(), n.span)))
                .collect()
        });
    let names = listed
        .as_ref()
        .map(|l| l.iter().map(|(n, _)| n.clone()).collect());
    let Some(all) = receivers.targets() else {
        return Routed {
            receivers: None,
            listed: names,
            diagnostics,
        };
    };
    let kind_node = root.get("kind").map(|(_, n)| n);
    let Some(kind) = kind_node.and_then(Node::as_str).and_then(Kind::parse) else {
        // The rules report a missing or unknown kind.
        return Routed {
            receivers: Some(Vec::new()),
            listed: names,
            diagnostics,
        };
    };
    let serving: Vec<&Receiver> = all.iter().filter(|r| r.kinds.contains(&kind)).collect();
    let chosen = match &listed {
        None => serving,
        Some(listed) => {
            for (name, span) in listed {
                match all.iter().find(|r| &r.name == name) {
                    None => {
                        let known: Vec<&str> = all.iter().map(|r| r.name.as_str()).collect();
                        let mut d = Diagnostic::error(
                            Code::UnknownTarget,
                            file,
                            *span,
                            format!(
                                "`metadata.targets` names `{name}`, which is no configured target"
                            ),
                        );
                        d.label("unknown target").help(
                            match did_you_mean(name, known.iter().copied()) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("the configured targets are {}", code_list(&known)),
                            },
                        );
                        diagnostics.push(d);
                    }
                    Some(r) if !r.kinds.contains(&kind) => {
                        let mut d = Diagnostic::error(
                            Code::UnknownTarget,
                            file,
                            *span,
                            format!("target `{name}` does not serve {kind}"),
                        );
                        d.label("serves another kind").help(
                            "list only targets whose provider serves this kind, or remove the name",
                        );
                        diagnostics.push(d);
                    }
                    Some(_) => {}
                }
            }
            serving
                .into_iter()
                .filter(|r| listed.iter().any(|(n, _)| n == &r.name))
                .collect()
        }
    };
    if chosen.is_empty() && diagnostics.is_empty() {
        let span = listed_node.or(kind_node).map_or(root.span, |n| n.span);
        let known: Vec<String> = all
            .iter()
            .map(|r| {
                let kinds: Vec<&str> = r.kinds.iter().map(|k| k.as_str()).collect();
                format!("`{}` ({})", r.name, kinds.join(", "))
            })
            .collect();
        let mut d = Diagnostic::error(
            Code::NoTarget,
            file,
            span,
            format!(
                "no configured target receives this {kind} manifest: it would never be planned"
            ),
        );
        d.label("received by no target").help(format!(
            "configure a target serving {kind} in intsync.toml, or list one in `metadata.targets` (configured: {})",
            known.join(", ")
        ));
        diagnostics.push(d);
    }
    Routed {
        receivers: Some(chosen),
        listed: names,
        diagnostics,
    }
}

/// `names` as a list of code spans.
fn code_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A diagnostic for every `!var` under `node`, where a value must be one for all targets.
fn refuse_vars(file: &Arc<SourceFile>, node: &Node, what: &str, out: &mut Vec<Diagnostic>) {
    visit_vars(node, &mut |name, span| {
        let mut d = Diagnostic::error(
            Code::VarNotAllowed,
            file,
            span,
            format!("{what} cannot be `!var {name}`: it decides which targets get the manifest"),
        );
        d.label("var not allowed here")
            .help("write the value itself");
        out.push(d);
    });
}

fn visit_vars(node: &Node, found: &mut impl FnMut(&str, Span)) {
    match &node.value {
        Value::Var(name) => found(name, node.span),
        Value::Sequence(items) => items.iter().for_each(|n| visit_vars(n, found)),
        Value::Mapping(pairs) => pairs.iter().for_each(|(_, n)| visit_vars(n, found)),
        _ => {}
    }
}

/// Every `!var` of a document that no configuration gives a value (the document is refused).
pub(crate) fn unresolvable(file: &Arc<SourceFile>, root: &Node) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    visit_vars(root, &mut |name, span| {
        let mut d = Diagnostic::error(
            Code::UnknownVar,
            file,
            span,
            format!("`!var {name}` has no value: no target's vars are known here"),
        );
        d.label("unresolved var")
            .help("check the manifest with its configuration (`intsync validate` beside intsync.toml, or `--config`)");
        out.push(d);
    });
    out
}

/// `root` with every `!var` replaced by `receiver`'s value (each node of the value placed at
/// the reference), and where each came from; `None` when a reference has no value (said in
/// `diagnostics`).
pub(crate) fn resolve(
    file: &Arc<SourceFile>,
    root: &Node,
    receiver: &Receiver,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<(Node, Vec<VarUse>)> {
    let mut uses = Vec::new();
    let before = diagnostics.len();
    let mut path = Vec::new();
    let resolved = substitute(file, root, receiver, &mut path, &mut uses, diagnostics);
    (diagnostics.len() == before).then_some((resolved, uses))
}

fn substitute(
    file: &Arc<SourceFile>,
    node: &Node,
    receiver: &Receiver,
    path: &mut Vec<String>,
    uses: &mut Vec<VarUse>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Node {
    let value = match &node.value {
        Value::Var(name) => {
            return match receiver.vars.get(name) {
                Some(VarValue::Known { value, sensitive }) => {
                    let in_spec = path.first().is_some_and(|p| p == "spec");
                    let printed = !in_spec || path.get(1..) == Some(&["name".to_owned()][..]);
                    if *sensitive && printed {
                        let mut d = Diagnostic::error(
                            Code::VarNotAllowed,
                            file,
                            node.span,
                            format!(
                                "var `{name}` of target `{}` is sensitive, and this value is printed in every plan",
                                receiver.name
                            ),
                        );
                        d.label("sensitive var here").help(
                            "use sensitive vars only in `spec` fields other than `name`, or make the var not sensitive",
                        );
                        diagnostics.push(d);
                    } else if in_spec {
                        uses.push(VarUse {
                            pointer: pointer(&path[1..]),
                            name: name.clone(),
                            sensitive: *sensitive,
                            span: node.span,
                        });
                    }
                    node_of(value, node.span)
                }
                Some(VarValue::Missing { reason, env }) => {
                    let mut d = Diagnostic::error(
                        Code::UnsetVar,
                        file,
                        node.span,
                        format!(
                            "var `{name}` of target `{}` has no value: {reason}",
                            receiver.name
                        ),
                    );
                    d.label("var without a value").help(format!(
                        "export {env} before running intsync (in CI: from the secret store of the job)"
                    ));
                    diagnostics.push(d);
                    node.clone()
                }
                None => {
                    let defined: Vec<&str> = receiver.vars.keys().map(String::as_str).collect();
                    let mut d = Diagnostic::error(
                        Code::UnknownVar,
                        file,
                        node.span,
                        format!("target `{}` has no var `{name}`", receiver.name),
                    );
                    let hint = match did_you_mean(name, defined.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`? "),
                        None => String::new(),
                    };
                    d.label("unknown var").help(format!(
                        "{hint}define it under `[targets.{}.vars]` in intsync.toml, or list in `metadata.targets` only the targets that define it",
                        receiver.name
                    ));
                    diagnostics.push(d);
                    node.clone()
                }
            };
        }
        Value::Sequence(items) => Value::Sequence(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(i.to_string());
                    let n = substitute(file, item, receiver, path, uses, diagnostics);
                    path.pop();
                    n
                })
                .collect(),
        ),
        Value::Mapping(pairs) => Value::Mapping(
            pairs
                .iter()
                .map(|(key, value)| {
                    path.push(key.name.clone());
                    let n = substitute(file, value, receiver, path, uses, diagnostics);
                    path.pop();
                    (key.clone(), n)
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value,
        span: node.span,
    }
}

/// `diagnostic` about a sensitive var's value, with every text of the value in its words
/// replaced by `(sensitive)` (a rule may quote the value it refuses).
pub(crate) fn mask_in(diagnostic: &mut Diagnostic, value: Option<&VarValue>) {
    fn texts(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) if !s.is_empty() => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| texts(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| texts(v, out)),
            serde_json::Value::Null | serde_json::Value::Bool(_) | serde_json::Value::String(_) => {
            }
            other => out.push(other.to_string()),
        }
    }
    let Some(VarValue::Known { value, .. }) = value else {
        return;
    };
    let mut secret = Vec::new();
    texts(value, &mut secret);
    // Longest first, so that a text inside another is not left half shown.
    secret.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for text in &secret {
        let mask = |words: &mut String| {
            if words.contains(text.as_str()) {
                *words = words.replace(text.as_str(), "(sensitive)");
            }
        };
        mask(&mut diagnostic.message);
        mask(&mut diagnostic.label);
        if let Some(help) = &mut diagnostic.help {
            mask(help);
        }
    }
}

/// RFC 6901 pointer of `tokens`.
fn pointer(tokens: &[String]) -> String {
    tokens
        .iter()
        .map(|t| format!("/{}", t.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// A JSON value as a YAML tree, every node placed at `span` (where the reference is written).
fn node_of(value: &serde_json::Value, span: Span) -> Node {
    let value = match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.clone()),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => {
            Value::Sequence(items.iter().map(|v| node_of(v, span)).collect())
        }
        serde_json::Value::Object(map) => Value::Mapping(
            map.iter()
                .map(|(k, v)| {
                    (
                        Key {
                            name: k.clone(),
                            span,
                        },
                        node_of(v, span),
                    )
                })
                .collect(),
        ),
    };
    Node { value, span }
}
