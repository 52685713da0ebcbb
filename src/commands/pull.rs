//! `intsync pull`: keep drift instead of reverting it. The live values of the differing managed
//! fields (with `--baseline`: the drifted ones only) are written into the manifests; only those
//! values' text changes (`intsync_manifest::set_fields`), comments and layout stay (design §10).
//! A field git changed too since the baseline is a conflict: not pulled, named, exit 1.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use intsync_manifest::FieldEdit;
use intsync_plan::DesiredIntegration;
use intsync_plan::inert::{code_span, visible};

use crate::cli::PullArgs;
use crate::commands::plan::{classify, compute, load_manifests, runtime, while_observing};
use crate::config::Config;
use crate::{Exit, output};

/// One file to rewrite: its text as read, and the new text.
struct FileChange {
    path: PathBuf,
    before: String,
    after: String,
    values: usize,
}

pub fn run(config: Option<&Path>, args: &PullArgs) -> anyhow::Result<Exit> {
    if let Some(rev) = &args.baseline {
        crate::baseline::check(rev)?;
    }
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let provider = std::sync::Arc::new(target.provider()?);
    let runtime = runtime()?;
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
    let Some((_, mut plan)) = runtime.block_on(compute(target, &provider, &desired, observing))?
    else {
        return Ok(Exit::Error);
    };
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

    let mut changes = Vec::new();
    for (path, edits) in edits {
        let before = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read `{}`", path.display()))?;
        let after = intsync_manifest::set_fields(&before, &edits)
            .with_context(|| format!("cannot rewrite `{}`", path.display()))?;
        changes.push(FileChange {
            path,
            before,
            after,
            values: edits.len(),
        });
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
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: not on a terminal, so there is no one to confirm; pass --yes to write without asking"
            );
            return Ok(Exit::Error);
        }
        eprint!(
            "Write {values} live value{} into {} file{}? Only `yes` continues: ",
            output::plural(values),
            changes.len(),
            output::plural(changes.len())
        );
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != "yes" {
            eprintln!("Cancelled; no file was written.");
            return Ok(Exit::Ok);
        }
    }

    let mut refused = 0;
    for change in &changes {
        // Never overwrite an edit made since the file was read (an editor, a `git pull`).
        let now = std::fs::read_to_string(&change.path).unwrap_or_default();
        if now != change.before {
            eprintln!(
                "error: `{}` changed since it was read; it was not written (run `intsync pull` again)",
                change.path.display()
            );
            refused += 1;
            continue;
        }
        output::write_atomically(&change.path, change.after.as_bytes())
            .with_context(|| format!("cannot write `{}`", change.path.display()))?;
    }
    let written = changes.len() - refused;
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
    Ok(if refused > 0 || conflicts > 0 {
        Exit::Error
    } else {
        Exit::Ok
    })
}
