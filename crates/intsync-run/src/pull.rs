//! `intsync pull`: keep drift instead of reverting it. The live values of the differing managed
//! fields (with `--baseline`: the drifted ones only) are written into the manifests; only those
//! values' text changes (`intsync_manifest::set_fields`), comments and layout stay (design §10).
//! A field git changed too since the baseline is a conflict: not pulled, named, exit 1.
//!
//! Two steps, so that the caller can show the diff and ask between them: [`prepare`] reads
//! live state and the files and computes every new text; [`write()`] writes them, each whole or
//! not at all, never over an edit made since it was read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use intsync_apply::SecretStore;
use intsync_manifest::FieldEdit;
use intsync_plan::DesiredIntegration;
use intsync_plan::drift::Pull;
use intsync_plan::inert::{code_span, visible};
use intsync_provider::{Stop, StopReason};

use crate::pipeline::{Connected, Planned, classify, load_and_plan};
use crate::{Ended, Talk, Verdict, plural};

/// One file to rewrite: its text as read, and the new text.
pub struct FileChange {
    /// The manifest as named (the diff and messages use it).
    pub path: PathBuf,
    /// Where its text is: the manifest itself, or the file a symbolic link leads to.
    written: PathBuf,
    pub before: String,
    pub after: String,
    /// How many live values it takes.
    pub values: usize,
}

/// What [`prepare`] found: the files to rewrite, or why there are none.
pub struct Prepared {
    pub changes: Vec<FileChange>,
    /// Fields changed both live and in git since the baseline: not pulled, a person decides.
    pub conflicts: usize,
    /// Fields the targets of a several-target pull hold differently: not pulled either.
    pub disagreements: usize,
    /// Files refused (a link leading out of the repository).
    pub refused: usize,
    /// Live integrations that could not be read (nothing was pulled from them), said last.
    pub end: Ended,
}

impl Prepared {
    /// Every change as one unified diff (`a/…`, `b/…`), paths shown inert.
    #[must_use]
    pub fn diff(&self) -> String {
        let mut diff = String::new();
        for change in &self.changes {
            let name = visible(&change.path.display().to_string()).into_owned();
            diff.push_str(
                &similar::TextDiff::from_lines(&change.before, &change.after)
                    .unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
                    .to_string(),
            );
        }
        diff
    }

    /// The live values the changes take.
    #[must_use]
    pub fn values(&self) -> usize {
        self.changes.iter().map(|c| c.values).sum()
    }
}

/// Plans the manifests under `paths` against `connected`'s target (read while they load),
/// tells drift from pending with `baseline`, and computes the new text of every manifest file
/// that takes a live value. `None` when the manifests or their identities are wrong; the
/// conflicts and what cannot be pulled are told to `talk`.
pub fn prepare(
    runtime: &tokio::runtime::Runtime,
    connected: &Connected,
    paths: &[PathBuf],
    baseline: Option<&str>,
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> anyhow::Result<Option<Prepared>> {
    let Some((desired, Planned { mut plan, .. })) =
        load_and_plan(runtime, connected, paths, secrets, talk)?
    else {
        return Ok(None);
    };
    let end = Ended {
        verdict: Verdict::Ok,
        target: plan.target.clone(),
        unreadable: std::mem::take(&mut plan.unreadable),
        rest: "the rest was pulled as said above",
    };
    classify(&mut plan, &desired, baseline, paths, &connected.receivers)?;

    // The drifted fields (every differing one without a baseline), each at its manifest's origin.
    let pulls = intsync_plan::drift::pulls(&plan, &desired);
    let conflicts = say_what_is_not_pulled(&pulls, baseline, talk);
    Ok(Some(prepared(
        pulls.values,
        conflicts,
        baseline,
        paths,
        end,
        talk,
    )?))
}

/// The edits `pulls` make, the files' new texts, or why there are none.
fn prepared(
    pulls: Vec<Pull>,
    conflicts: usize,
    baseline: Option<&str>,
    paths: &[PathBuf],
    mut end: Ended,
    talk: &dyn Talk,
) -> anyhow::Result<Prepared> {
    let mut edits: BTreeMap<PathBuf, Vec<FieldEdit>> = BTreeMap::new();
    for pull in pulls {
        edits.entry(pull.origin.path).or_default().push(FieldEdit {
            document: pull.origin.document,
            field: pull.field,
            value: pull.value,
        });
    }
    if edits.is_empty() {
        end.verdict = nothing_to_pull(conflicts, baseline.is_some(), talk);
        return Ok(Prepared {
            changes: Vec::new(),
            conflicts,
            disagreements: 0,
            refused: 0,
            end,
        });
    }
    let (changes, refused) = new_texts(edits, paths, talk)?;
    if changes.is_empty() {
        end.verdict = Verdict::Failed;
    }
    Ok(Prepared {
        changes,
        conflicts,
        disagreements: 0,
        refused,
        end,
    })
}

/// [`prepare`] for several targets (design §11): the manifests are loaded once and every
/// target is planned at once. A field is pulled only when every selected target that receives
/// its manifest holds the same live value for it; where they disagree (one target drifted, or
/// two drifted apart) it is not pulled and is named, as a conflict: a person picks one target
/// (`pull --target`), or makes the field a `!var`. `None` when the manifests are wrong or a
/// target cannot be planned: nothing is pulled from any target then (told to `talk`). The
/// returned [`Prepared::end`] is the first target's; `others` holds the rest.
pub fn prepare_many(
    runtime: &tokio::runtime::Runtime,
    config: &crate::config::Config,
    selection: &crate::config::Selection,
    paths: &[PathBuf],
    baseline: Option<&str>,
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> anyhow::Result<Option<(Prepared, Vec<Ended>)>> {
    let Some((desired, planned)) =
        crate::many::load_and_plan(runtime, config, selection, paths, secrets, talk)?
    else {
        return Ok(None);
    };
    let receivers = config.receivers();
    let mut failed = false;
    let mut ends = Vec::new();
    let mut conflicts = 0;
    // Per target: the manifests it receives, and the values it would pull.
    let mut taken: Vec<(String, std::collections::HashSet<String>, Vec<Pull>)> = Vec::new();
    for crate::many::Each { target, outcome } in planned {
        let about = crate::About {
            target: &target,
            talk,
        };
        let mut plan = match outcome {
            Ok(Planned { plan, .. }) => plan,
            Err(failure) => {
                for line in &failure.lines {
                    about.say(&visible(line));
                }
                failed = true;
                continue;
            }
        };
        ends.push(Ended {
            verdict: Verdict::Ok,
            target: plan.target.clone(),
            unreadable: std::mem::take(&mut plan.unreadable),
            rest: "the rest was pulled as said above",
        });
        let own: Vec<DesiredIntegration> = desired
            .iter()
            .filter(|d| d.routing.goes_to(&target))
            .cloned()
            .collect();
        classify(&mut plan, &own, baseline, paths, &receivers)?;
        let pulls = intsync_plan::drift::pulls(&plan, &own);
        conflicts += say_what_is_not_pulled(&pulls, baseline, &about);
        let manifests = own.iter().map(|d| d.manifest.clone()).collect();
        taken.push((target, manifests, pulls.values));
    }
    if failed {
        talk.say("error: nothing pulled: a target could not be planned (above); pull the others with --target");
        return Ok(None);
    }
    let (agreed, disagreements) = agreed(&taken);
    for line in &disagreements {
        talk.say(&format!("conflict: {line}"));
    }
    if ends.is_empty() {
        return Ok(None);
    }
    let mut first = ends.remove(0);
    if agreed.is_empty() && !disagreements.is_empty() {
        talk.say(&format!(
            "Nothing pulled: {} field{} the targets disagree on need{} a person (above).",
            disagreements.len(),
            plural(disagreements.len()),
            if disagreements.len() == 1 { "s" } else { "" }
        ));
        first.verdict = Verdict::Failed;
        let prepared = Prepared {
            changes: Vec::new(),
            conflicts,
            disagreements: disagreements.len(),
            refused: 0,
            end: first,
        };
        return Ok(Some((prepared, ends)));
    }
    let mut prepared = prepared(agreed, conflicts, baseline, paths, first, talk)?;
    prepared.disagreements = disagreements.len();
    Ok(Some((prepared, ends)))
}

/// The values every target receiving their manifest agrees on, and, in words, the fields the
/// targets disagree on.
fn agreed(
    taken: &[(String, std::collections::HashSet<String>, Vec<Pull>)],
) -> (Vec<Pull>, Vec<String>) {
    let mut agreed = Vec::new();
    let mut disagreements = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (_, _, pulls) in taken {
        for pull in pulls {
            if !seen.insert((pull.manifest.clone(), pull.field.clone())) {
                continue;
            }
            let mut same = Vec::new();
            let mut other = Vec::new();
            for (target, manifests, pulls) in taken {
                if !manifests.contains(&pull.manifest) {
                    continue;
                }
                let theirs = pulls
                    .iter()
                    .find(|p| p.manifest == pull.manifest && p.field == pull.field);
                match theirs {
                    Some(p) if intsync_plan::normalize::equal(&p.value, &pull.value) => {
                        same.push(code_span(target));
                    }
                    _ => other.push(code_span(target)),
                }
            }
            if other.is_empty() {
                agreed.push(pull.clone());
            } else {
                disagreements.push(format!(
                    "{}: {} is not the same live on every target that receives it (one value on {}; another, or the manifest's, on {}), so it is not pulled. Pull one target (`intsync pull --target NAME`) to keep its value everywhere, or make the field a `!var` to give each target its own.",
                    visible(&pull.manifest),
                    code_span(&pull.field),
                    same.join(", "),
                    other.join(", "),
                ));
            }
        }
    }
    (agreed, disagreements)
}

/// Says what [`intsync_plan::drift::pulls`] leaves as it is and the conflicts with git; the
/// number of conflicts.
fn say_what_is_not_pulled(
    pulls: &intsync_plan::drift::Pulls,
    baseline: Option<&str>,
    talk: &dyn Talk,
) -> usize {
    for line in &pulls.skipped {
        talk.say(&format!("note: {line}"));
    }
    let rev = baseline.unwrap_or_default();
    for conflict in &pulls.conflicts {
        talk.say(&format!(
            "conflict: {}: {} was changed live (outside git) and in git since the baseline {}, so it is not pulled. Decide by hand: keep the manifest's value (the next `intsync apply` writes it over the live edit), or copy the live value (`intsync drift --baseline {}` shows it) into the manifest.",
            visible(&conflict.manifest),
            code_span(&conflict.field),
            code_span(rev),
            crate::baseline::shell_quoted(rev),
        ));
    }
    pulls.conflicts.len()
}

/// Says why nothing is pulled; the verdict.
fn nothing_to_pull(conflicts: usize, baseline: bool, talk: &dyn Talk) -> Verdict {
    if conflicts > 0 {
        talk.say(&format!(
            "Nothing pulled: {conflicts} field{} changed both live and in git need{} a person (above).",
            plural(conflicts),
            if conflicts == 1 { "s" } else { "" }
        ));
        return Verdict::Failed;
    }
    talk.say(&format!(
        "Nothing to pull: {}.",
        if baseline {
            "no managed field drifted from the manifests"
        } else {
            "every managed field matches live state"
        }
    ));
    Verdict::Ok
}

/// The new text of every file with edits, and how many were refused (told to `talk`).
fn new_texts(
    edits: BTreeMap<PathBuf, Vec<FieldEdit>>,
    paths: &[PathBuf],
    talk: &dyn Talk,
) -> anyhow::Result<(Vec<FileChange>, usize)> {
    let root = repository_root(paths);
    let mut changes = Vec::new();
    let mut refused = 0;
    for (path, edits) in edits {
        // A symbolic link is written through only to a file inside the repository; replacing
        // the link by a regular file would cut it from what it shared.
        let written = match write_place(&path, &root) {
            Ok(written) => written,
            Err(why) => {
                talk.say(&format!("error: {why}; it was not written"));
                refused += 1;
                continue;
            }
        };
        let before = std::fs::read_to_string(&written)
            .with_context(|| format!("cannot read `{}`", visible(&path.display().to_string())))?;
        let after = intsync_manifest::set_fields(&before, &edits).with_context(|| {
            format!("cannot rewrite `{}`", visible(&path.display().to_string()))
        })?;
        changes.push(FileChange {
            path,
            written,
            before,
            after,
            values: edits.len(),
        });
    }
    Ok((changes, refused))
}

/// Writes the changes [`prepare`] computed, each file whole (atomically) or not at all, until
/// `stop` is asked; a file changed since it was read is refused. The summary is told to `talk`.
pub fn write(prepared: Prepared, stop: &Stop, talk: &dyn Talk) -> anyhow::Result<Ended> {
    let Prepared {
        changes,
        conflicts,
        disagreements,
        refused,
        mut end,
    } = prepared;
    let values: usize = changes.iter().map(|c| c.values).sum();
    let mut refused = refused;
    let mut written = 0;
    let mut not_written = Vec::new();
    for change in &changes {
        if stop.reason().is_some() {
            not_written.push(visible(&change.path.display().to_string()).into_owned());
            continue;
        }
        // Never overwrite an edit made since the file was read (an editor, a `git pull`).
        let now = std::fs::read_to_string(&change.written).unwrap_or_default();
        if now != change.before {
            talk.say(&format!(
                "error: `{}` changed since it was read; it was not written (run `intsync pull` again)",
                visible(&change.path.display().to_string())
            ));
            refused += 1;
            continue;
        }
        crate::files::write_atomically(&change.written, change.after.as_bytes()).with_context(
            || {
                format!(
                    "cannot write `{}`",
                    visible(&change.path.display().to_string())
                )
            },
        )?;
        written += 1;
    }
    talk.say(&format!(
        "Pulled {values} live value{} into {written} file{}{}. Review with `git diff`, then commit.",
        plural(values),
        plural(written),
        if refused > 0 {
            format!(" ({refused} refused)")
        } else {
            String::new()
        }
    ));
    if conflicts > 0 {
        talk.say(&format!(
            "{conflicts} field{} changed both live and in git {} not pulled and need{} a person (above).",
            plural(conflicts),
            if conflicts == 1 { "was" } else { "were" },
            if conflicts == 1 { "s" } else { "" }
        ));
    }
    if disagreements > 0 {
        talk.say(&format!(
            "{disagreements} field{} the targets disagree on {} not pulled (above).",
            plural(disagreements),
            if disagreements == 1 { "was" } else { "were" },
        ));
    }
    end.verdict = match stop.reason() {
        Some(reason) => stopped(reason, &not_written, talk),
        None if refused > 0 || conflicts > 0 || disagreements > 0 => Verdict::Failed,
        None => Verdict::Ok,
    };
    Ok(end)
}

/// Says which files a signal left unwritten; the verdict.
fn stopped(reason: StopReason, not_written: &[String], talk: &dyn Talk) -> Verdict {
    talk.say(&format!(
        "Stopped: {} file{} not written (each file is written whole or not at all; run `intsync pull` again for the rest):",
        not_written.len(),
        plural(not_written.len())
    ));
    for path in not_written {
        talk.say(&format!("  - {path}"));
    }
    Verdict::Stopped(reason)
}

/// The directory a pull may write in: the git repository holding the manifests, else the
/// working directory (canonical, so that a link's target can be compared with it).
fn repository_root(paths: &[PathBuf]) -> PathBuf {
    let start = paths
        .first()
        .map(|p| {
            if p.is_dir() {
                p.clone()
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or_default()
            }
        })
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| PathBuf::from("."));
    let toplevel = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(&start)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let root = toplevel.unwrap_or_else(|| PathBuf::from("."));
    std::fs::canonicalize(&root).unwrap_or(root)
}

/// Why a manifest is not written through (a symbolic link, or a path that cannot be resolved).
#[derive(Debug, thiserror::Error)]
enum NotWritten {
    #[error("cannot resolve `{}`: {source}", shown(path))]
    Unresolvable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "`{}` leads (through a symbolic link) to `{}`, outside the repository `{}`: pull writes only files of the repository. Copy that file into the repository in place of the link, or run pull where it belongs",
        shown(path),
        shown(real),
        shown(root)
    )]
    OutsideRepository {
        path: PathBuf,
        real: PathBuf,
        root: PathBuf,
    },
}

/// A path as messages show it: every character that would act on a terminal escaped.
fn shown(path: &Path) -> String {
    visible(&path.display().to_string()).into_owned()
}

/// Where the new text of manifest `path` goes: the file itself, or, when it is a symbolic link
/// (or inside a linked directory), the file it leads to if that is inside `root`. Otherwise
/// why it is refused, and what to do.
fn write_place(path: &Path, root: &Path) -> Result<PathBuf, NotWritten> {
    let real = std::fs::canonicalize(path).map_err(|source| NotWritten::Unresolvable {
        path: path.to_owned(),
        source,
    })?;
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if real.starts_with(root) {
        return Ok(if linked { real } else { path.to_owned() });
    }
    Err(NotWritten::OutsideRepository {
        path: path.to_owned(),
        real,
        root: root.to_owned(),
    })
}
