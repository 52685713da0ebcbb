//! The plan as text (for people), JSON (for machines and `apply --plan`), and Markdown (for a
//! pull-request comment).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::model::{Action, Plan};
use crate::normalize::canonical;

/// `--format json`: design §7's shape, `format_version: 1`, the document's own keys sorted and
/// the payloads (`body`, `patch`, `live`) exactly as they are: `apply --plan` sends them, and
/// their key order is what users see (a form's properties are the install form's fields).
pub fn json(plan: &Plan) -> String {
    let value = serde_json::to_value(plan).unwrap_or(Value::Null);
    let mut text = serde_json::to_string_pretty(&sort_document(value)).unwrap_or_default();
    text.push('\n');
    text
}

/// The keys whose values are payloads, kept in their source order by [`json`].
const PAYLOADS: [&str; 3] = ["body", "patch", "live"];

fn sort_document(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| {
                        let value = if PAYLOADS.contains(&key.as_str()) {
                            value
                        } else {
                            sort_document(value)
                        };
                        (key, value)
                    })
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_document).collect()),
        other => other,
    }
}

/// A value on one line when it is a scalar or a list of scalars, as pretty JSON otherwise.
fn show(value: &Value) -> String {
    if is_nested(value) {
        serde_json::to_string_pretty(&canonical(value)).unwrap_or_default()
    } else {
        canonical(value).to_string()
    }
}

fn is_nested(value: &Value) -> bool {
    match value {
        Value::Object(_) => true,
        Value::Array(items) => items
            .iter()
            .any(|i| matches!(i, Value::Object(_) | Value::Array(_))),
        _ => false,
    }
}

/// Colours for the text rendering (none when writing to a pipe or under `NO_COLOR`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\u{1b}[{code}m{text}\u{1b}[0m")
        } else {
            text.to_owned()
        }
    }
    fn green(self, t: &str) -> String {
        self.paint("32", t)
    }
    fn red(self, t: &str) -> String {
        self.paint("31", t)
    }
    fn yellow(self, t: &str) -> String {
        self.paint("33", t)
    }
    fn bold(self, t: &str) -> String {
        self.paint("1", t)
    }
    fn dim(self, t: &str) -> String {
        self.paint("2", t)
    }
}

fn title(kind: &str, name: Option<&str>, id: Option<&str>) -> String {
    let mut t = format!("{kind} {:?}", name.unwrap_or("(unnamed)"));
    if let Some(id) = id {
        let _ = write!(t, " ({id})");
    }
    t
}

/// Unified line diff of two values rendered as pretty JSON, with `indent` before each line.
fn line_diff(old: &Value, new: &Value, indent: &str, style: Style, out: &mut String) {
    let (old, new) = (show(old), show(new));
    let diff = similar::TextDiff::from_lines(&old, &new);
    for hunk in diff.unified_diff().context_radius(2).iter_hunks() {
        let _ = writeln!(out, "{indent}{}", style.dim(&hunk.header().to_string()));
        for change in hunk.iter_changes() {
            let line = change.value().trim_end_matches('\n');
            let _ = match change.tag() {
                similar::ChangeTag::Delete => {
                    writeln!(out, "{indent}{}", style.red(&format!("- {line}")))
                }
                similar::ChangeTag::Insert => {
                    writeln!(out, "{indent}{}", style.green(&format!("+ {line}")))
                }
                similar::ChangeTag::Equal => writeln!(out, "{indent}  {line}"),
            };
        }
    }
}

/// The mark of a drifted field (changed live, outside git) in the text rendering.
const DRIFT_MARK: &str = "[drift] ";

fn changed_fields(
    patch: &Map<String, Value>,
    live: &Map<String, Value>,
    drift: Option<&[String]>,
    style: Style,
    out: &mut String,
) {
    for (field, new) in patch {
        let old = live.get(field).unwrap_or(&Value::Null);
        let mark = if drift.is_some_and(|d| d.contains(field)) {
            style.yellow(DRIFT_MARK)
        } else {
            String::new()
        };
        if is_nested(new) || is_nested(old) {
            let _ = writeln!(out, "    {mark}{field}:");
            line_diff(old, new, "      ", style, out);
        } else {
            let _ = writeln!(
                out,
                "    {mark}{field}: {} → {}",
                style.red(&show(old)),
                style.green(&show(new))
            );
        }
    }
}

/// The drift line of an action in Markdown, if it has drift.
fn drift_note(action: &Action) -> Option<String> {
    let fields = action.drift().filter(|d| !d.is_empty())?;
    Some(match action {
        Action::Create { .. } => {
            "**Drift**: applied before, but missing live (deleted outside git?)".to_owned()
        }
        _ => format!(
            "**Drift** (changed live, outside git): {}",
            fields
                .iter()
                .map(|f| format!("`{}`", html(f)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The one-line summary: `Plan: 1 to create, 2 to update, 1 blocked, 5 unchanged`.
pub fn summary_line(plan: &Plan) -> String {
    let s = &plan.summary;
    let mut line = format!(
        "Plan: {} to create, {} to update, {} blocked, {} unchanged",
        s.create, s.update, s.blocked, s.noop
    );
    if s.unmanaged > 0 {
        let _ = write!(line, ", {} unmanaged", s.unmanaged);
    }
    if !plan.skipped.is_empty() {
        let _ = write!(line, ", {} skipped", plan.skipped.len());
    }
    if let Some(drift) = s.drift {
        let _ = write!(line, "; {drift} with drift");
    }
    line
}

/// `--format text`: per integration, only what changes.
pub fn text(plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for action in &plan.actions {
        match action {
            Action::Create {
                kind,
                name,
                manifest,
                body,
                set_after_create,
                drift,
            } => {
                let missing = if drift.as_ref().is_some_and(|d| !d.is_empty()) {
                    format!(" {}", style.yellow("[drift: applied before, missing live]"))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "{} {} will be created{missing}  {}",
                    style.green("+"),
                    style.bold(&title(kind.as_str(), name.as_deref(), None)),
                    style.dim(manifest)
                );
                for (field, value) in body {
                    if is_nested(value) {
                        let _ = writeln!(out, "    {field}:");
                        for line in show(value).lines() {
                            let _ = writeln!(out, "      {}", style.green(line));
                        }
                    } else {
                        let _ = writeln!(out, "    {field}: {}", style.green(&show(value)));
                    }
                }
                if !set_after_create.is_empty() {
                    let _ = writeln!(
                        out,
                        "    {}",
                        style.dim(&after_create_note(set_after_create))
                    );
                }
            }
            Action::Update {
                kind,
                id,
                name,
                manifest,
                patch,
                live,
                drift,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "{} {} will be updated  {}",
                    style.yellow("~"),
                    style.bold(&title(kind.as_str(), name.as_deref(), Some(id))),
                    style.dim(manifest)
                );
                changed_fields(patch, live, drift.as_deref(), style, &mut out);
            }
            Action::Blocked {
                kind,
                id,
                name,
                manifest,
                live_status,
                patch,
                live,
                reason,
                drift,
                ..
            } => {
                let status = live_status.as_deref().unwrap_or("unknown");
                let _ = writeln!(
                    out,
                    "{} {} is blocked: {reason} (status: {status})  {}",
                    style.red("!"),
                    style.bold(&title(kind.as_str(), name.as_deref(), Some(id))),
                    style.dim(manifest)
                );
                changed_fields(patch, live, drift.as_deref(), style, &mut out);
            }
            Action::Noop { .. } => {}
        }
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(out, "Unmanaged (live, no manifest; left alone):");
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "  ? {}",
                title(u.kind.as_str(), u.name.as_deref(), Some(&u.id))
            );
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(
            out,
            "Skipped (target `{}` does not serve this kind):",
            plan.target
        );
        for s in &plan.skipped {
            let _ = writeln!(
                out,
                "  - {}  {}",
                title(s.kind.as_str(), s.name.as_deref(), None),
                style.dim(&s.manifest)
            );
        }
    }
    if plan.ignored > 0 {
        let _ = writeln!(out, "{}", ignored_note(plan.ignored));
    }
    if !plan.has_changes {
        let _ = writeln!(
            out,
            "No changes: the live integrations match the manifests."
        );
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    out
}

/// Says that a create is followed by a PATCH of `fields` (the vendor's create does not take them).
fn after_create_note(fields: &[String]) -> String {
    let names: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    format!(
        "then {} {} set by a PATCH right after the create (the vendor's create does not take {})",
        names.join(", "),
        if fields.len() == 1 { "is" } else { "are" },
        if fields.len() == 1 { "it" } else { "them" }
    )
}

fn ignored_note(ignored: usize) -> String {
    format!(
        "Ignored: {ignored} listed integration{} owned by Truto or by other teams (never matched, exported or written)",
        if ignored == 1 { "" } else { "s" }
    )
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A fence longer than any run of backticks in `body`.
fn fence(body: &str) -> String {
    let longest = body.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn diff_block(patch: &Map<String, Value>, live: Option<&Map<String, Value>>) -> String {
    let mut body = String::new();
    for (field, new) in patch {
        match live {
            Some(live) => {
                let old = live.get(field).unwrap_or(&Value::Null);
                for line in format!("{field}: {}", show(old)).lines() {
                    let _ = writeln!(body, "- {line}");
                }
                for line in format!("{field}: {}", show(new)).lines() {
                    let _ = writeln!(body, "+ {line}");
                }
            }
            None => {
                for line in format!("{field}: {}", show(new)).lines() {
                    let _ = writeln!(body, "+ {line}");
                }
            }
        }
    }
    let fence = fence(&body);
    format!("{fence}diff\n{body}{fence}\n")
}

/// `--format markdown`: a pull-request comment.
pub fn markdown(plan: &Plan) -> String {
    markdown_titled(plan, "plan")
}

/// `markdown` under the heading `### intsync <what> for <target>` (`intsync drift` says "drift").
pub fn markdown_titled(plan: &Plan, what: &str) -> String {
    let s = &plan.summary;
    let mut out = String::new();
    let _ = writeln!(out, "### intsync {what} for `{}`\n", plan.target);
    let _ = writeln!(
        out,
        "| to create | to update | blocked | unchanged | unmanaged |"
    );
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} |\n",
        s.create, s.update, s.blocked, s.noop, s.unmanaged
    );
    if !plan.has_changes {
        let _ = writeln!(
            out,
            "No changes: the live integrations match the manifests.\n"
        );
    }
    for action in &plan.actions {
        let (sign, verb, block) = match action {
            Action::Create {
                body,
                set_after_create,
                ..
            } => {
                let mut block = diff_block(body, None);
                if !set_after_create.is_empty() {
                    block = format!("{block}\n{}\n", after_create_note(set_after_create));
                }
                ("➕", "create", block)
            }
            Action::Update { patch, live, .. } => ("✏️", "update", diff_block(patch, Some(live))),
            Action::Blocked {
                patch,
                live,
                reason,
                live_status,
                ..
            } => (
                "⛔",
                "blocked",
                format!(
                    "{reason} (status: `{}`)\n\n{}",
                    html(live_status.as_deref().unwrap_or("unknown")),
                    diff_block(patch, Some(live))
                ),
            ),
            Action::Noop { .. } => continue,
        };
        let block = match drift_note(action) {
            Some(note) => format!("{note}\n\n{block}"),
            None => block,
        };
        let id = action
            .id()
            .map(|id| format!(" (<code>{}</code>)", html(id)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "<details><summary>{sign} {verb} <code>{}</code> <b>{}</b>{id} — <code>{}</code></summary>\n\n{block}\n</details>\n",
            action.kind(),
            html(action.name().unwrap_or("(unnamed)")),
            html(action.manifest())
        );
    }
    if !plan.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} unmanaged (live, no manifest; left alone)</summary>\n",
            plan.unmanaged.len()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(
                out,
                "- `{}` {} (`{}`)",
                u.kind,
                html(u.name.as_deref().unwrap_or("(unnamed)")),
                html(&u.id)
            );
        }
        let _ = writeln!(out, "\n</details>\n");
    }
    if plan.ignored > 0 {
        let _ = writeln!(out, "{}\n", ignored_note(plan.ignored));
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    out
}
