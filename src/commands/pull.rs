//! `intsync pull`: keep drift instead of reverting it. The live values of the differing managed
//! fields (with `--baseline`: the drifted ones only) are written into the manifests; only those
//! values' text changes (`intsync_manifest::set_fields`), comments and layout stay (design §10).
//! A field git changed too since the baseline is a conflict: not pulled, named, exit 1.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use intsync_manifest::FieldEdit;
use intsync_plan::DesiredIntegration;
use intsync_plan::inert::{code_span, visible};

use crate::cli::PullArgs;
use intsync_apply::SecretStore;

use crate::cli::DEFAULT_SECRETS_DIR;
use crate::commands::plan::{Planned, classify, compute, load_manifests, runtime, while_observing};
use crate::commands::writer::{Leftovers, take_lock};
use crate::config::Config;
use crate::signals::{self, Idle, Signals};
use crate::{Exit, output};

/// One file to rewrite: its text as read, and the new text.
struct FileChange {
    /// The manifest as named (the diff and messages use it).
    path: PathBuf,
    /// Where its text is: the manifest itself, or the file a symbolic link leads to.
    written: PathBuf,
    before: String,
    after: String,
    values: usize,
}

pub fn run(config: Option<&Path>, args: &PullArgs) -> anyhow::Result<Exit> {
    // Live integrations that cannot be read: nothing is pulled from them (their manifests were
    // set aside); the rest is pulled, then they are said and the run fails.
    let mut unreadable = (String::new(), Vec::new());
    let exit = pull(config, args, &mut unreadable)?;
    let (target, unreadable) = unreadable;
    let failed = crate::commands::report::unreadable(
        &target,
        &unreadable,
        "the rest was pulled as said above",
        "",
    );
    Ok(exit.failed_if(failed))
}

fn pull(
    config: Option<&Path>,
    args: &PullArgs,
    unreadable: &mut (String, Vec<intsync_plan::Unreadable>),
) -> anyhow::Result<Exit> {
    if let Some(rev) = &args.baseline {
        crate::baseline::check(rev)?;
    }
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let provider = std::sync::Arc::new(target.provider()?);
    let runtime = runtime()?;
    // One writer per target: no apply changes live state between this reading and the files
    // written from it.
    let _lock = runtime.block_on(take_lock(target, "pull", args.lock_timeout))?;
    let (manifests, observing) =
        while_observing(&runtime, target, &provider, || load_manifests(&args.paths));
    let Some(manifests) = manifests else {
        return Ok(Exit::Error);
    };
    // Where each manifest is: its file and document, by the name the plan gives it.
    let mut places: BTreeMap<String, (PathBuf, usize)> = BTreeMap::new();
    let mut desired = Vec::with_capacity(manifests.len());
    for manifest in manifests {
        let place = (manifest.origin.path.clone(), manifest.origin.document);
        let integration = DesiredIntegration::from_manifest(manifest);
        places.insert(integration.manifest.clone(), place);
        desired.push(integration);
    }
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let Some(Planned { mut plan, .. }) = runtime.block_on(compute(
        target,
        &provider,
        &desired,
        observing,
        &secrets,
        Leftovers::Report,
    ))?
    else {
        return Ok(Exit::Error);
    };
    *unreadable = (plan.target.clone(), std::mem::take(&mut plan.unreadable));
    classify(&mut plan, &desired, args.baseline.as_deref(), &args.paths)?;

    // The edits, per file: the drifted fields (every differing one without a baseline).
    let pulls = intsync_plan::drift::pulls(&plan);
    let mut edits: BTreeMap<PathBuf, Vec<FieldEdit>> = BTreeMap::new();
    for pull in pulls.values {
        let Some((path, document)) = places.get(&pull.manifest) else {
            continue;
        };
        edits.entry(path.clone()).or_default().push(FieldEdit {
            document: *document,
            field: pull.field,
            value: pull.value,
        });
    }
    for line in &pulls.skipped {
        eprintln!("note: {line}");
    }
    let conflicts = pulls.conflicts.len();
    let rev = args.baseline.as_deref().unwrap_or_default();
    for conflict in &pulls.conflicts {
        eprintln!(
            "conflict: {}: {} was changed live (outside git) and in git since the baseline {}, so it is not pulled. Decide by hand: keep the manifest's value (the next `intsync apply` writes it over the live edit), or copy the live value (`intsync drift --baseline {}` shows it) into the manifest.",
            visible(&conflict.manifest),
            code_span(&conflict.field),
            code_span(rev),
            crate::baseline::shell_quoted(rev),
        );
    }
    if edits.is_empty() {
        if conflicts > 0 {
            eprintln!(
                "Nothing pulled: {conflicts} field{} changed both live and in git need{} a person (above).",
                output::plural(conflicts),
                if conflicts == 1 { "s" } else { "" }
            );
            return Ok(Exit::Error);
        }
        eprintln!(
            "Nothing to pull: {}.",
            if args.baseline.is_some() {
                "no managed field drifted from the manifests"
            } else {
                "every managed field matches live state"
            }
        );
        return Ok(Exit::Ok);
    }

    let root = repository_root(&args.paths);
    let mut changes = Vec::new();
    let mut refused_links = 0;
    for (path, edits) in edits {
        // A symbolic link is written through only to a file inside the repository; replacing
        // the link by a regular file would cut it from what it shared.
        let written = match write_place(&path, &root) {
            Ok(written) => written,
            Err(why) => {
                eprintln!("error: {why}; it was not written");
                refused_links += 1;
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
    if changes.is_empty() {
        return Ok(Exit::Error);
    }
    let mut diff = String::new();
    for change in &changes {
        let name = visible(&change.path.display().to_string()).into_owned();
        diff.push_str(
            &similar::TextDiff::from_lines(&change.before, &change.after)
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string(),
        );
    }
    output::print_stdout(&diff)?;
    let values: usize = changes.iter().map(|c| c.values).sum();

    if !args.yes {
        let question = format!(
            "Write {values} live value{} into {} file{}?",
            output::plural(values),
            changes.len(),
            output::plural(changes.len())
        );
        match output::confirm(&question, "--yes", "no file was written")? {
            output::Answer::Yes => {}
            output::Answer::No => return Ok(Exit::Ok),
            output::Answer::NoOneToAsk => return Ok(Exit::Error),
        }
    }

    // From here a signal stops the writing between two files: each file is written whole
    // (atomically) or not at all.
    let signals = Signals::listen(&runtime, Idle::Exit)?;
    let _writing = signals.writing();
    let stop = signals.stop();
    let mut refused = refused_links;
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
            eprintln!(
                "error: `{}` changed since it was read; it was not written (run `intsync pull` again)",
                visible(&change.path.display().to_string())
            );
            refused += 1;
            continue;
        }
        output::write_atomically(&change.written, change.after.as_bytes()).with_context(|| {
            format!(
                "cannot write `{}`",
                visible(&change.path.display().to_string())
            )
        })?;
        written += 1;
    }
    eprintln!(
        "Pulled {values} live value{} into {written} file{}{}. Review with `git diff`, then commit.",
        output::plural(values),
        output::plural(written),
        if refused > 0 {
            format!(" ({refused} refused)")
        } else {
            String::new()
        }
    );
    if conflicts > 0 {
        eprintln!(
            "{conflicts} field{} changed both live and in git {} not pulled and need{} a person (above).",
            output::plural(conflicts),
            if conflicts == 1 { "was" } else { "were" },
            if conflicts == 1 { "s" } else { "" }
        );
    }
    if let Some(reason) = stop.reason() {
        eprintln!(
            "Stopped: {} file{} not written (each file is written whole or not at all; run `intsync pull` again for the rest):",
            not_written.len(),
            output::plural(not_written.len())
        );
        for path in &not_written {
            eprintln!("  - {path}");
        }
        return Ok(signals::exit_code(reason));
    }
    Ok(if refused > 0 || conflicts > 0 {
        Exit::Error
    } else {
        Exit::Ok
    })
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

/// Where the new text of manifest `path` goes: the file itself, or, when it is a symbolic link
/// (or inside a linked directory), the file it leads to if that is inside `root`. Otherwise
/// why it is refused, and what to do.
fn write_place(path: &Path, root: &Path) -> Result<PathBuf, String> {
    let shown = |p: &Path| visible(&p.display().to_string()).into_owned();
    let real = std::fs::canonicalize(path)
        .map_err(|e| format!("cannot resolve `{}`: {e}", shown(path)))?;
    let linked = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if real.starts_with(root) {
        return Ok(if linked { real } else { path.to_owned() });
    }
    Err(format!(
        "`{}` leads (through a symbolic link) to `{}`, outside the repository `{}`: pull writes only files of the repository. Copy that file into the repository in place of the link, or run pull where it belongs",
        shown(path),
        shown(&real),
        shown(root)
    ))
}
