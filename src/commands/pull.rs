//! `intsync pull`: keep drift instead of reverting it (`intsync_run::pull`): the new texts, as
//! a diff on stdout, then, once confirmed, the files written.

use std::path::Path;

use intsync_apply::SecretStore;
use intsync_run::Verdict;
use intsync_run::pipeline::runtime;
use intsync_run::writer::take_lock;

use crate::cli::{DEFAULT_SECRETS_DIR, PullArgs};
use crate::commands::{Stderr, connect, end};
use crate::output::{self, plural};
use crate::signals::{self, Idle};

pub fn run(config: Option<&Path>, args: &PullArgs) -> anyhow::Result<Verdict> {
    if let Some(rev) = &args.baseline {
        intsync_run::baseline::check(rev)?;
    }
    let connected = connect(config, &args.targets)?;
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
    if prepared.changes.is_empty() {
        return Ok(end(&prepared.end));
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
            return Ok(end(&ended));
        }
    }
    // From here a signal stops the writing between two files: each file is written whole
    // (atomically) or not at all.
    let control = signals::listen(&runtime, Idle::Exit)?;
    let _writing = control.writing();
    Ok(end(&intsync_run::pull::write(
        prepared,
        &control.stop(),
        &Stderr,
    )?))
}
