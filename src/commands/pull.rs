//! `intsync pull`: keep drift instead of reverting it (`intsync_run::pull`): the new texts, as
//! a diff on stdout, then, once confirmed, the files written.

use std::path::Path;

use intsync_apply::SecretStore;
use intsync_run::config::{Config, Selection};
use intsync_run::pipeline::Connected;
use intsync_run::pipeline::runtime;
use intsync_run::pull::Prepared;
use intsync_run::writer::take_lock;
use intsync_run::{Ended, Verdict};

use crate::cli::{DEFAULT_SECRETS_DIR, PullArgs};
use crate::commands::{Stderr, end, load_config};
use crate::output::{self, plural};
use crate::signals::{self, Idle};

pub fn run(config: Option<&Path>, args: &PullArgs) -> anyhow::Result<Verdict> {
    if let Some(rev) = &args.baseline {
        intsync_run::baseline::check(rev)?;
    }
    let loaded = load_config(config)?;
    let selection = args.targets.selection();
    if loaded.select(&selection)?.len() > 1 {
        return run_many(&loaded, &selection, args);
    }
    let connected = Connected::within(&loaded, loaded.only(&selection)?)?;
    let runtime = runtime()?;
    // One writer per target: no apply changes live state between this reading and the files
    // written from it.
    let _lock = runtime.block_on(take_lock(
        &connected.target,
        "pull",
        args.lock_timeout,
        &Stderr,
    ))?;
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let Some(prepared) = intsync_run::pull::prepare(
        &runtime,
        &connected,
        &args.paths,
        args.baseline.as_deref(),
        &secrets,
        &Stderr,
    )?
    else {
        return Ok(Verdict::Failed);
    };
    show_ask_write(&runtime, prepared, Vec::new(), args)
}

/// `pull` of several targets (design §11): each target locked (in name order, so that two
/// pulls of overlapping targets cannot hold one each and wait for the other), every target
/// planned at once, and only the values all the targets receiving a manifest agree on pulled.
fn run_many(config: &Config, selection: &Selection, args: &PullArgs) -> anyhow::Result<Verdict> {
    let runtime = runtime()?;
    let mut targets = config.select(selection)?;
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    let mut locks = Vec::new();
    for target in targets {
        locks.push(runtime.block_on(take_lock(target, "pull", args.lock_timeout, &Stderr))?);
    }
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let Some((prepared, others)) = intsync_run::pull::prepare_many(
        &runtime,
        config,
        selection,
        &args.paths,
        args.baseline.as_deref(),
        &secrets,
        &Stderr,
    )?
    else {
        return Ok(Verdict::Failed);
    };
    show_ask_write(&runtime, prepared, others, args)
}

/// The diff on stdout, the question (or `--yes`), the files written; what the other targets
/// (`others`) could not read is said last, and the verdicts folded.
fn show_ask_write(
    runtime: &tokio::runtime::Runtime,
    prepared: Prepared,
    others: Vec<Ended>,
    args: &PullArgs,
) -> anyhow::Result<Verdict> {
    let fold =
        |first: &Ended| Verdict::fold(std::iter::once(end(first)).chain(others.iter().map(end)));
    if prepared.changes.is_empty() {
        return Ok(fold(&prepared.end));
    }
    output::print_stdout(&prepared.diff())?;
    if !args.yes {
        let (values, files) = (prepared.values(), prepared.changes.len());
        let question = format!(
            "Write {values} live value{} into {files} file{}?",
            plural(values),
            plural(files)
        );
        let verdict = match output::confirm(&question, "--yes", "no file was written")? {
            output::Answer::Yes => None,
            output::Answer::No => Some(Verdict::Ok),
            output::Answer::NoOneToAsk => Some(Verdict::Failed),
        };
        if let Some(verdict) = verdict {
            let mut ended = prepared.end;
            ended.verdict = verdict;
            return Ok(fold(&ended));
        }
    }
    // From here a signal stops the writing between two files: each file is written whole
    // (atomically) or not at all.
    let control = signals::listen(runtime, Idle::Exit)?;
    let _writing = control.writing();
    let ended = intsync_run::pull::write(prepared, &control.stop(), &Stderr)?;
    Ok(fold(&ended))
}
