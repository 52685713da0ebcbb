//! The plan as text (for people), JSON (for machines and `apply --plan`), and Markdown (for a
//! pull-request comment).
//!
//! Text and Markdown show a reviewer only what changes: one line per changed leaf at its path,
//! from [`crate::diff`] (docs/plan.md, "Rendering"). Markdown stays within GitHub's limit on a
//! comment ([`MARKDOWN_LIMIT`]).

use std::fmt::Write as _;

use serde_json::{Map, Value};

use crate::diff::{self, Change};
use crate::inert::{code_span, html_code, longest_backtick_run, visible};
use crate::model::{Action, Claim, Plan, Unreadable};

/// `--format json`: design §7's shape, `format_version: 1`, the document's own keys sorted and
/// the payloads (`body`, `patch`, `live`) exactly as they are: `apply --plan` sends them, and
/// their key order is what users see (a form's properties are the install form's fields).
pub fn json(plan: &Plan) -> String {
    let plan = plan.masked();
    json_in_parts(&plan).unwrap_or_else(|| json_whole(&plan))
}

/// [`json`] in one piece: the whole document built as a value, sorted and written.
fn json_whole(plan: &Plan) -> String {
    let value = serde_json::to_value(plan).unwrap_or(Value::Null);
    let mut text = serde_json::to_string_pretty(&sort_document(value)).unwrap_or_default();
    text.push('\n');
    text
}

/// [`json`] of a plan with many actions, the same text written in parts: the document without
/// its actions, and each action on its own, all at once (rayon), indented to its place
/// (issue #24: writing the 3.4 MB plan of 10,000 integrations was a tenth of `plan`'s time, on
/// one core after everything else). JSON text holds no raw line break inside a string, so
/// indenting every line of an action is indenting the action. `None` when the document does
/// not start as expected (then [`json_whole`] writes it).
fn json_in_parts(plan: &Plan) -> Option<String> {
    use rayon::prelude::*;
    const PARALLEL_FROM: usize = 256;
    if plan.actions.len() < PARALLEL_FROM {
        return None;
    }
    let shell = Plan {
        format_version: plan.format_version,
        target: plan.target.clone(),
        has_changes: plan.has_changes,
        summary: plan.summary,
        actions: Vec::new(),
        unmanaged: plan.unmanaged.clone(),
        skipped: plan.skipped.clone(),
        ignored: plan.ignored,
        unreadable: plan.unreadable.clone(),
        sensitive: plan.sensitive.clone(),
    };
    let shell = json_whole(&shell);
    // `actions` sorts first: the document starts with its (here empty) list.
    let rest = shell.strip_prefix("{\n  \"actions\": []")?;
    let actions: Vec<String> = plan
        .actions
        .par_iter()
        .map(|action| {
            let value = sort_document(serde_json::to_value(action).unwrap_or(Value::Null));
            let text = serde_json::to_string_pretty(&value).unwrap_or_default();
            let mut indented = String::with_capacity(text.len() + text.len() / 8);
            for (n, line) in text.split('\n').enumerate() {
                if n > 0 {
                    indented.push('\n');
                }
                indented.push_str("    ");
                indented.push_str(line);
            }
            indented
        })
        .collect();
    let mut out = String::with_capacity(
        shell.len() + actions.iter().map(|a| a.len() + 2).sum::<usize>() + 16,
    );
    out.push_str("{\n  \"actions\": [\n");
    for (n, action) in actions.iter().enumerate() {
        if n > 0 {
            out.push_str(",\n");
        }
        out.push_str(action);
    }
    out.push_str("\n  ]");
    out.push_str(rest);
    Some(out)
}

/// What the envelope of several targets' plans says it is (`"kind"`).
pub const ENVELOPE_KIND: &str = "intsync-plans";

/// `--format json` with several targets (design §11): `{"format_version": 1, "kind":
/// "intsync-plans", "plans": [...]}`, each plan the document [`json`] writes, keys sorted alike.
pub fn json_envelope(plans: &[&Plan]) -> String {
    let plans: Vec<Value> = plans
        .iter()
        .map(|plan| serde_json::to_value(plan.masked()).unwrap_or(Value::Null))
        .collect();
    let envelope = serde_json::json!({
        "format_version": 1,
        "kind": ENVELOPE_KIND,
        "plans": plans,
    });
    let mut text = serde_json::to_string_pretty(&sort_document(envelope)).unwrap_or_default();
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

/// `Kind "name" (id)`: the name as Rust debug-quotes it and the id [`visible`], so that neither
/// can move the cursor, recolour or reorder the reviewer's terminal.
fn title(kind: &str, name: Option<&str>, id: Option<&str>) -> String {
    let mut t = format!("{kind} {:?}", name.unwrap_or("(unnamed)"));
    if let Some(id) = id {
        let _ = write!(t, " ({})", visible(id));
    }
    t
}

/// The mark of a drifted field (changed live, outside git), on each of its lines.
const DRIFT_MARK: &str = "[drift] ";

/// The mark of a drifted field that git changed too since the baseline.
const ALSO_PENDING_MARK: &str = "[drift (also pending)] ";

/// The lines of the changed fields of an update or a blocked action, each with the drift mark
/// of its field: `(change, mark)`.
fn changes(
    action: &Action,
    patch: &Map<String, Value>,
    live: &Map<String, Value>,
) -> Vec<(Change, &'static str)> {
    let drift = action.drift().unwrap_or_default();
    let also_pending = action.also_pending();
    let mut lines = Vec::new();
    for (field, new) in patch {
        let old = live.get(field).unwrap_or(&Value::Null);
        let mark = if also_pending.contains(field) {
            ALSO_PENDING_MARK
        } else if drift.contains(field) {
            DRIFT_MARK
        } else {
            ""
        };
        lines.extend(
            diff::field(action.kind(), field, old, new)
                .into_iter()
                .map(|change| (change, mark)),
        );
    }
    lines
}

/// A change's line in colour: the old value red, the new one green, the drift mark yellow.
/// Without colour, exactly [`Change::line`].
fn painted(change: &Change, mark: &str, style: Style) -> String {
    let mark = if mark.is_empty() {
        String::new()
    } else {
        style.yellow(mark)
    };
    match change {
        Change::Changed { path, old, new } => {
            format!("{mark}{path}: {} → {}", style.red(old), style.green(new))
        }
        Change::Added { path, value } => format!(
            "{}{mark}{}",
            style.green("+ "),
            style.green(&format!("{path}: {value}"))
        ),
        Change::Removed { path, value } => format!(
            "{}{mark}{}",
            style.red("- "),
            style.red(&format!("{path}: {value}"))
        ),
        Change::Member {
            path,
            added: true,
            member,
        } => format!("{mark}{path}: {}", style.green(&format!("+ {member}"))),
        Change::Member {
            path,
            added: false,
            member,
        } => format!("{mark}{path}: {}", style.red(&format!("- {member}"))),
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
                .map(|f| {
                    if action.also_pending().contains(f) {
                        format!("{} (also pending: changed in git too)", code_span(f))
                    } else {
                        code_span(f)
                    }
                })
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
    if !plan.unreadable.is_empty() {
        let _ = write!(line, ", {} unreadable", plan.unreadable.len());
    }
    if let Some(drift) = s.drift {
        let _ = write!(line, "; {drift} with drift");
    }
    line
}

/// `--format text`: per integration, only what changes — a header line, then one line per
/// changed leaf (an update or a blocked change) or the body as block YAML (a create).
pub fn text(plan: &Plan, style: Style) -> String {
    let plan = &*plan.masked();
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
                let missing = if drift.as_ref().is_some_and(|d| !d.drift.is_empty()) {
                    format!(" {}", style.yellow("[drift: applied before, missing live]"))
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "{} {} will be created{missing}  {}",
                    style.green("+"),
                    style.bold(&title(kind.as_str(), name.as_deref(), None)),
                    style.dim(&visible(manifest))
                );
                for line in diff::block(body) {
                    let _ = writeln!(out, "    {}", style.green(&line));
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
                ..
            } => {
                let _ = writeln!(
                    out,
                    "{} {} will be updated  {}",
                    style.yellow("~"),
                    style.bold(&title(kind.as_str(), name.as_deref(), Some(id))),
                    style.dim(&visible(manifest))
                );
                for (change, mark) in changes(action, patch, live) {
                    let _ = writeln!(out, "    {}", painted(&change, mark, style));
                }
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
                ..
            } => {
                let status = visible(live_status.as_deref().unwrap_or("unknown"));
                let _ = writeln!(
                    out,
                    "{} {} is blocked: {reason} (status: {status})  {}",
                    style.red("!"),
                    style.bold(&title(kind.as_str(), name.as_deref(), Some(id))),
                    style.dim(&visible(manifest))
                );
                for (change, mark) in changes(action, patch, live) {
                    let _ = writeln!(out, "    {}", painted(&change, mark, style));
                }
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
            visible(&plan.target)
        );
        for s in &plan.skipped {
            let _ = writeln!(
                out,
                "  - {}  {}",
                title(s.kind.as_str(), s.name.as_deref(), None),
                style.dim(&visible(&s.manifest))
            );
        }
    }
    if plan.ignored > 0 {
        let _ = writeln!(out, "{}", ignored_note(plan.ignored));
    }
    if !plan.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "Unreadable (live, but its answer cannot be read; never written, and the manifests that may be it are not planned):"
        );
        for u in &plan.unreadable {
            let _ = writeln!(
                out,
                "  {} {}: {}",
                style.red("✗"),
                unreadable_title(u),
                visible(&u.reason)
            );
            for aside in &u.set_aside {
                let _ = writeln!(
                    out,
                    "      not planned: {}",
                    style.dim(&visible(&aside.manifest))
                );
            }
        }
    }
    if !plan.has_changes {
        let _ = writeln!(out, "{}", no_changes(plan));
    }
    let _ = writeln!(out, "{}", summary_line(plan));
    out
}

/// What a plan without changes says: all is in line, or only what could be read is.
fn no_changes(plan: &Plan) -> &'static str {
    if plan.unreadable.is_empty() {
        "No changes: the live integrations match the manifests."
    } else {
        "No changes to the live integrations that could be read."
    }
}

/// `AdaPlatformIntegration "Gamma" (a3)`, or with `(name unreadable)` / `(id unreadable)`:
/// the name debug-quoted, the id [`visible`].
fn unreadable_title(u: &Unreadable) -> String {
    let name = u
        .name
        .as_deref()
        .map_or_else(|| "(name unreadable)".to_owned(), |n| format!("{n:?}"));
    let id =
        u.id.as_deref()
            .map_or_else(|| "id unreadable".to_owned(), |id| visible(id).into_owned());
    format!("{} {name} ({id})", u.kind)
}

/// The lines that report, on stderr, live integrations that cannot be read: one `error:` line
/// each (its id, name, why, and the page that listed it), the manifests set aside because of
/// it, and a last line saying what became of the rest (`rest`: "the rest was planned") and
/// what to do. Nothing when there are none. Every vendor value is shown [`visible`].
pub fn unreadable_report(target: &str, unreadable: &[Unreadable], rest: &str) -> Vec<String> {
    if unreadable.is_empty() {
        return Vec::new();
    }
    let mut lines = Vec::new();
    for u in unreadable {
        lines.push(format!(
            "error: the live {} cannot be read: it {} (listed by GET {})",
            unreadable_title(u),
            visible(&u.reason),
            visible(&u.page)
        ));
        for aside in &u.set_aside {
            let manifest = visible(&aside.manifest);
            let name = aside.name.as_deref().unwrap_or("(unnamed)");
            lines.push(match aside.claim {
                Claim::Id => format!(
                    "  - {manifest} was not planned: its metadata.id is this integration's id; nothing is written to it until it can be read"
                ),
                Claim::Name => format!(
                    "  - {manifest} was not planned: its name {name:?} is this integration's; it is neither updated nor created again (that would be a duplicate) until the integration can be read, or until metadata.id pins the manifest to another integration"
                ),
                Claim::Create => format!(
                    "  - {manifest} was not created: this integration's name cannot be read, so it may be the {name:?} the manifest would create (a duplicate); nothing of this kind is created until it can be read, or until metadata.id pins the manifest to an integration"
                ),
            });
        }
    }
    let n = unreadable.len();
    lines.push(format!(
        "error: {n} live integration{} of target `{}` cannot be read (above); {rest}. intsync never writes to an integration it cannot read, nor creates one that may be it: look at {} in the vendor's dashboard, or send the vendor the id{} and the reason{}, then run again.",
        if n == 1 { "" } else { "s" },
        visible(target),
        if n == 1 { "it" } else { "them" },
        if n == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" },
    ));
    lines
}

/// Says that a create is followed by a PATCH of `fields` (the vendor's create does not take them).
fn after_create_note(fields: &[String]) -> String {
    let names: Vec<String> = fields.iter().map(|f| code_span(f)).collect();
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

/// A fence longer than any run of backticks in `body`, so that no line of it can close the
/// block (its lines' values are already [`visible`]: no line break of a value starts a line).
fn fence(body: &str) -> String {
    "`".repeat(longest_backtick_run(body).max(2) + 1)
}

/// `lines` in a fenced code block of `language`.
fn code_block(language: &str, lines: impl IntoIterator<Item = String>) -> String {
    let mut body = String::new();
    for line in lines {
        body.push_str(&line);
        body.push('\n');
    }
    let fence = fence(&body);
    format!("{fence}{language}\n{body}{fence}\n")
}

/// The most characters (Unicode scalar values) a GitHub comment or issue body may hold.
pub const MARKDOWN_LIMIT: usize = 65_536;

/// `--format markdown`: a pull-request comment.
pub fn markdown(plan: &Plan) -> String {
    markdown_titled(plan, "plan")
}

/// The collapsible block of one action: its changes in a `diff` block (a create: its body in a
/// `yaml` block), after its drift note and, when blocked, why.
fn action_block(action: &Action) -> Option<String> {
    let (sign, verb, block) = match action {
        Action::Create {
            body,
            set_after_create,
            ..
        } => {
            let mut block = code_block("yaml", diff::block(body));
            if !set_after_create.is_empty() {
                block = format!("{block}\n{}\n", after_create_note(set_after_create));
            }
            ("➕", "create", block)
        }
        Action::Update { patch, live, .. } => {
            let lines = changes(action, patch, live);
            let block = code_block("diff", lines.iter().map(|(c, mark)| c.line(mark)));
            ("✏️", "update", block)
        }
        Action::Blocked {
            patch,
            live,
            reason,
            live_status,
            ..
        } => {
            let lines = changes(action, patch, live);
            let block = format!(
                "{reason} (status: {})\n\n{}",
                code_span(live_status.as_deref().unwrap_or("unknown")),
                code_block("diff", lines.iter().map(|(c, mark)| c.line(mark)))
            );
            ("⛔", "blocked", block)
        }
        Action::Noop { .. } => return None,
    };
    let block = match drift_note(action) {
        Some(note) => format!("{note}\n\n{block}"),
        None => block,
    };
    // The summary line is HTML (Markdown is not parsed there): names in `<code>`, escaped.
    let id = action
        .id()
        .map(|id| format!(" ({})", html_code(id)))
        .unwrap_or_default();
    Some(format!(
        "<details><summary>{sign} {verb} <code>{}</code> <b>{}</b>{id} — {}</summary>\n\n{block}\n</details>\n\n",
        action.kind(),
        html_code(action.name().unwrap_or("(unnamed)")),
        html_code(action.manifest())
    ))
}

/// What a reviewer needs to know of blocked changes, before them: why, and what to do.
fn blocked_note(blocked: &[&Action]) -> String {
    let mut statuses: Vec<&str> = Vec::new();
    for action in blocked {
        if let Action::Blocked { live_status, .. } = action {
            let status = live_status.as_deref().unwrap_or("unknown");
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
    }
    let statuses: Vec<String> = statuses.iter().map(|s| code_span(s)).collect();
    let (count, these, them) = match blocked.len() {
        1 => ("1 change is blocked".to_owned(), "this one is", "it"),
        n => (format!("{n} changes are blocked"), "these are", "them"),
    };
    format!(
        "**⛔ {count}** (shown first): Ada lets the API change an integration only while its status is `development`; {these} {}, so changes must go through Ada's review: ask Ada to make {them}, or to move the integration back to development. Until then `intsync apply` refuses to run; `intsync apply --skip-blocked` applies the rest.\n\n",
        statuses.join(", ")
    )
}

/// The most characters [`unreadable_note`] gives its list of integrations; the rest are counted.
const UNREADABLE_BUDGET: usize = 8_192;

/// What a reviewer needs to know of live integrations that cannot be read, near the top of the
/// comment (it is never cut): how many, each with why and the manifests set aside (while they
/// fit in [`UNREADABLE_BUDGET`]), and that the command fails. Empty when there are none.
fn unreadable_note(plan: &Plan) -> String {
    if plan.unreadable.is_empty() {
        return String::new();
    }
    let n = plan.unreadable.len();
    let mut note = format!(
        "**✗ {n} live integration{} cannot be read**: {} left out of the plan, never written, and the manifests that may be {} are not planned (the command exits 1).\n\n",
        if n == 1 { "" } else { "s" },
        if n == 1 { "it is" } else { "they are" },
        if n == 1 { "it" } else { "them" },
    );
    let mut used = 0;
    let mut left = 0;
    for u in &plan.unreadable {
        let mut line = format!(
            "- `{}` {} ({}): {}",
            u.kind,
            u.name
                .as_deref()
                .map_or_else(|| "(name unreadable)".to_owned(), code_span),
            u.id.as_deref()
                .map_or_else(|| "id unreadable".to_owned(), code_span),
            code_span(&u.reason)
        );
        if !u.set_aside.is_empty() {
            let manifests: Vec<String> =
                u.set_aside.iter().map(|a| code_span(&a.manifest)).collect();
            let _ = write!(line, " — not planned: {}", manifests.join(", "));
        }
        line.push('\n');
        let size = chars(&line);
        if left > 0 || used + size > UNREADABLE_BUDGET {
            left += 1;
            continue;
        }
        used += size;
        note.push_str(&line);
    }
    if left > 0 {
        let _ = writeln!(note, "- and {left} more (the JSON plan lists every one)");
    }
    note.push('\n');
    note
}

/// Says what a comment cut to [`MARKDOWN_LIMIT`] left out, and where the whole plan is.
fn left_out_line(what: &str, actions: usize, total: usize, unmanaged: Option<usize>) -> String {
    let mut parts = Vec::new();
    if actions > 0 {
        parts.push(format!(
            "{actions} of {total} change{}",
            if total == 1 { "" } else { "s" }
        ));
    }
    if let Some(n) = unmanaged {
        parts.push(format!(
            "the list of {n} unmanaged integration{}",
            if n == 1 { "" } else { "s" }
        ));
    }
    format!(
        "**Left out: {}**, to stay within GitHub's limit of 65,536 characters. The JSON plan has everything: `intsync {what} --out {what}.json` writes it (in CI, the artifact kept with this run).\n\n",
        parts.join(" and ")
    )
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

/// `markdown` under the heading `### intsync <what> for <target>` (`intsync drift` says "drift").
///
/// The summary table, blocked changes first (explained), then the other changes in plan order,
/// each in a collapsible block. Never longer than [`MARKDOWN_LIMIT`]: when everything does not
/// fit, the heading, table and notes stay, and the blocks that fit, in order (a block is never
/// cut); a line says how many were left out, before the summary line.
pub fn markdown_titled(plan: &Plan, what: &str) -> String {
    let out = markdown_within(plan, what, MARKDOWN_LIMIT);
    debug_assert!(chars(&out) <= MARKDOWN_LIMIT);
    out
}

/// [`markdown_titled`] within `limit` characters instead of [`MARKDOWN_LIMIT`] (one comment
/// holding several targets' plans shares the limit between them). The heading, table, notes
/// and summary always stay, even when they alone pass `limit`.
pub fn markdown_within(plan: &Plan, what: &str, limit: usize) -> String {
    let plan = &*plan.masked();
    let s = &plan.summary;
    let mut head = String::new();
    let _ = writeln!(head, "### intsync {what} for {}\n", code_span(&plan.target));
    let _ = writeln!(
        head,
        "| to create | to update | blocked | unchanged | unmanaged |"
    );
    let _ = writeln!(head, "|---:|---:|---:|---:|---:|");
    let _ = writeln!(
        head,
        "| {} | {} | {} | {} | {} |\n",
        s.create, s.update, s.blocked, s.noop, s.unmanaged
    );
    if !plan.has_changes {
        let _ = writeln!(head, "{}\n", no_changes(plan));
    }
    head.push_str(&unreadable_note(plan));
    let (blocked, others): (Vec<&Action>, Vec<&Action>) = plan
        .actions
        .iter()
        .partition(|a| matches!(a, Action::Blocked { .. }));
    if !blocked.is_empty() {
        head.push_str(&blocked_note(&blocked));
    }
    let blocks: Vec<String> = blocked
        .into_iter()
        .chain(others)
        .filter_map(action_block)
        .collect();

    let unmanaged = (!plan.unmanaged.is_empty()).then(|| {
        let mut block = format!(
            "<details><summary>{} unmanaged (live, no manifest; left alone)</summary>\n\n",
            plan.unmanaged.len()
        );
        for u in &plan.unmanaged {
            let _ = writeln!(
                block,
                "- `{}` {} ({})",
                u.kind,
                code_span(u.name.as_deref().unwrap_or("(unnamed)")),
                code_span(&u.id)
            );
        }
        block.push_str("\n</details>\n\n");
        block
    });
    let ignored = if plan.ignored > 0 {
        format!("{}\n\n", ignored_note(plan.ignored))
    } else {
        String::new()
    };
    let summary = format!("{}\n", summary_line(plan));

    let mut out = head;
    let whole = chars(&out)
        + blocks.iter().map(|b| chars(b)).sum::<usize>()
        + unmanaged.as_deref().map_or(0, chars)
        + chars(&ignored)
        + chars(&summary);
    if whole <= limit {
        for block in &blocks {
            out.push_str(block);
        }
        out.push_str(unmanaged.as_deref().unwrap_or_default());
        out.push_str(&ignored);
        out.push_str(&summary);
        return out;
    }
    // Room for the blocks once the longest left-out line is reserved.
    let longest = left_out_line(what, blocks.len(), blocks.len(), Some(plan.unmanaged.len()));
    let mut room =
        limit.saturating_sub(chars(&out) + chars(&ignored) + chars(&summary) + chars(&longest));
    let mut kept = 0;
    for block in &blocks {
        let size = chars(block);
        if size > room {
            break;
        }
        room -= size;
        kept += 1;
        out.push_str(block);
    }
    let mut unmanaged_left = None;
    if let Some(block) = &unmanaged {
        if kept == blocks.len() && chars(block) <= room {
            out.push_str(block);
        } else {
            unmanaged_left = Some(plan.unmanaged.len());
        }
    }
    out.push_str(&ignored);
    out.push_str(&left_out_line(
        what,
        blocks.len() - kept,
        blocks.len(),
        unmanaged_left,
    ));
    out.push_str(&summary);
    out
}

#[cfg(test)]
mod parts_tests {
    use super::*;
    use serde_json::json;

    /// The document written in parts is the document written whole, byte for byte: payloads in
    /// their own key order, everything else sorted, strings with escaped line breaks.
    #[test]
    fn a_plan_written_in_parts_is_the_plan_written_whole() {
        let actions: Vec<Value> = (0..300)
            .map(|i| match i % 3 {
                0 => json!({
                    "action": "create", "kind": "AdaPlatformIntegration",
                    "manifest": format!("manifests/c{i}.yaml"), "name": format!("New {i}\nline"),
                    "body": {"name": format!("New {i}"), "description": "d", "configuration_fields": {"type": "object", "properties": {"z": {"type": "string"}, "a": {}}}, "scopes": []}
                }),
                1 => json!({
                    "action": "update", "kind": "TrutoIntegration", "id": format!("id-{i}"),
                    "manifest": format!("manifests/u{i}.yaml"), "name": format!("Up {i}"),
                    "fingerprint": "sha256:00", "live_status": "development",
                    "patch": {"zeta": {"b": 1, "a": [1, {"y": 2, "x": "\u{1b}"}]}, "alpha": "x"},
                    "live": {"zeta": null, "alpha": "y"}
                }),
                _ => json!({
                    "action": "noop", "kind": "AdaPlatformIntegration", "id": format!("n{i}"),
                    "manifest": format!("manifests/n{i}.yaml"), "name": format!("Same {i}"),
                    "fingerprint": "sha256:11"
                }),
            })
            .collect();
        let plan: Plan = serde_json::from_value(json!({
            "format_version": 1, "target": "t\"x", "has_changes": true,
            "summary": {"blocked": 0, "create": 100, "noop": 100, "unmanaged": 1, "update": 100},
            "actions": actions,
            "unmanaged": [{"kind": "AdaPlatformIntegration", "id": "u", "name": "Other"}],
            "skipped": []
        }))
        .unwrap();
        let parts = json_in_parts(&plan).expect("a plan of 300 actions is written in parts");
        assert_eq!(parts, json_whole(&plan));
        // A small plan is written whole.
        let mut small = plan.clone();
        small.actions.truncate(3);
        assert!(json_in_parts(&small).is_none());
    }
}
