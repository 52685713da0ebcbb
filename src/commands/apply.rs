//! `intsync apply`: show the plan, refuse what must be refused, ask, then write through
//! `intsync_run::apply` (the engine's policy) and render its report (design §8).

use std::io::IsTerminal as _;
use std::path::Path;

use intsync_apply::{Outcome, SecretStore, engine};
use intsync_plan::{Plan, render};
use intsync_run::apply::{Ready, Source};
use intsync_run::pipeline::{Connected, Saved, check_saved_target, read_saved_plans};
use intsync_run::pipeline::{runtime, while_observing};
use intsync_run::writer::take_lock;
use intsync_run::{Ended, Verdict, words};

use crate::cli::ApplyArgs;
use crate::commands::{Stderr, apply_many, end, load_config};
use crate::output::{self, plural};
use crate::signals::{self, Idle};

pub fn run(config: Option<&Path>, args: &ApplyArgs) -> anyhow::Result<Verdict> {
    let config = load_config(config)?;
    let selection = args.targets.selection();
    let selected = config.select(&selection)?;
    let saved = match &args.plan {
        Some(file) => Some((file, read_saved_plans(file)?)),
        None => None,
    };
    let saved = match (selected.as_slice(), saved) {
        ([target], None) => return apply_one(Connected::within(&config, target)?, None, args),
        ([target], Some((file, Saved::One(plan)))) => {
            let connected = Connected::within(&config, target)?;
            check_saved_target(file, &plan, &target.name)?;
            return apply_one(connected, Some(plan), args);
        }
        (_, None) => None,
        (several, Some((file, saved))) => Some(apply_many::saved_plans(file, saved, several)?),
    };
    apply_many::run(&config, &selection, saved, args)
}

/// `apply` against one target (`saved`: its plan from `--plan`).
fn apply_one(
    connected: Connected,
    saved: Option<Plan>,
    args: &ApplyArgs,
) -> anyhow::Result<Verdict> {
    let target = &connected.target;
    let runtime = runtime()?;
    // One writer per target, from before live state is read until the writes are verified: two
    // appliers planning from one reading would each create what the other creates.
    let lock = runtime.block_on(take_lock(target, "apply", args.lock_timeout, &Stderr))?;
    let secrets = SecretStore::new(&args.secrets_dir);
    // The manifests load while live state is read (a saved plan has none to load).
    let source = match saved {
        Some(saved) => {
            eprintln!(
                "Checking the saved plan against live state of target `{}`...",
                target.name
            );
            Source::Saved(saved)
        }
        None => {
            let (desired, observing) = while_observing(&runtime, &connected, &Stderr, || {
                connected.load_desired(&args.paths, &Stderr)
            });
            let Some(desired) = desired else {
                return Ok(Verdict::Failed);
            };
            Source::Manifests(desired, observing)
        }
    };
    // From here on a signal is ours: before the writes it exits at once (nothing written).
    let control = signals::listen(&runtime, Idle::Exit)?;
    let ready = match runtime.block_on(intsync_run::apply::ready(
        &connected, source, &secrets, &Stderr,
    ))? {
        Ok(ready) => ready,
        Err(verdict) => return Ok(verdict),
    };
    let verdict = show_and_write(&runtime, &connected, ready, args, &control)?;
    drop(lock);
    Ok(verdict)
}

/// Shows `ready`'s plan, refuses blocked changes (unless skipped), asks, writes; the verdict,
/// failed at the end when live integrations could not be read.
fn show_and_write(
    runtime: &tokio::runtime::Runtime,
    connected: &Connected,
    ready: Ready,
    args: &ApplyArgs,
    control: &intsync_run::control::Control,
) -> anyhow::Result<Verdict> {
    let target = &connected.target;
    // Live integrations that cannot be read: the manifests that may be them were set aside by
    // the planner (never written, never created); the rest goes on, and at the end they are
    // said and the run fails.
    let unreadable = ready.plan.unreadable.clone();
    let finish = |verdict: Verdict, rest: &'static str| {
        end(&Ended {
            verdict,
            target: target.name.clone(),
            unreadable: unreadable.clone(),
            rest,
        })
    };
    // A client secret an earlier run lost fails this one, once it was said.
    let secret_lost = ready.secret_lost;
    let earlier_failed = |verdict: Verdict| match verdict {
        Verdict::Ok if secret_lost => Verdict::Failed,
        verdict => verdict,
    };
    let planned = "the rest was planned (above)";
    output::print_stdout(&render::text(&ready.plan, output::plan_style()))?;

    // Refuse blocked changes, unless told to skip them.
    let batch = match engine::prepare(&ready.plan, args.skip_blocked) {
        Ok(batch) => batch,
        Err(refused) => {
            eprintln!("{}", blocked_error(&refused));
            return Ok(finish(Verdict::Blocked, planned));
        }
    };
    say_skipped(&batch, "");
    if batch.writes.is_empty() {
        eprintln!("Nothing to apply.");
        return Ok(finish(earlier_failed(Verdict::Ok), planned));
    }
    if !args.auto_approve {
        let question = format!(
            "Apply {} change{} to target `{}`?",
            batch.writes.len(),
            plural(batch.writes.len()),
            target.name
        );
        match output::confirm(&question, "--auto-approve", "nothing was written")? {
            output::Answer::Yes => {}
            output::Answer::No => return Ok(finish(earlier_failed(Verdict::Ok), planned)),
            output::Answer::NoOneToAsk => return Ok(finish(Verdict::Failed, planned)),
        }
    }
    let verdict = write(runtime, connected, batch, ready, args, control);
    Ok(finish(
        earlier_failed(verdict),
        "the writes of the rest are reported above",
    ))
}

/// Why nothing is written: changes are blocked.
pub fn blocked_error(refused: &engine::Refused) -> String {
    let n = refused.blocked.len();
    let rule = refused.blocked[0].kind().profile().frozen_rule;
    format!(
        "error: {n} change{} blocked ({rule}); nothing was written. Use --skip-blocked to apply the rest.",
        if n == 1 { " is" } else { "s are" }
    )
}

/// Lists the blocked changes `batch` set aside (`--skip-blocked`), each line after `prefix`.
pub fn say_skipped(batch: &engine::Batch, prefix: &str) {
    if batch.skipped_blocked.is_empty() {
        return;
    }
    eprintln!(
        "{prefix}Skipping {} blocked change{}:",
        batch.skipped_blocked.len(),
        plural(batch.skipped_blocked.len())
    );
    for action in &batch.skipped_blocked {
        eprintln!(
            "{prefix}  - {} ({})",
            words::label(action),
            intsync_plan::inert::visible(action.id().unwrap_or("-"))
        );
    }
}

/// The writes, a progress bar on a terminal (plain lines otherwise: CI logs), then the report.
/// A signal now stops new writes and lets these finish.
fn write(
    runtime: &tokio::runtime::Runtime,
    connected: &Connected,
    batch: engine::Batch,
    ready: Ready,
    args: &ApplyArgs,
    control: &intsync_run::control::Control,
) -> Verdict {
    let total = batch.writes.len();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let mut done = 0usize;
    let report = runtime.block_on(intsync_run::apply::write(
        connected,
        batch,
        &ready,
        usize::from(args.parallelism),
        args.secrets_dir.clone(),
        control,
        |action, outcome| {
            if matches!(outcome, Outcome::NotDone) {
                return; // listed once, in the report
            }
            done += 1;
            let mut lines = vec![words::item_line(action, outcome)];
            lines.extend(words::secret_line(action, outcome));
            match &bar {
                Some(bar) => {
                    for line in &lines {
                        bar.println(line);
                    }
                    bar.inc(1);
                }
                None => {
                    // One write per line: stderr is unbuffered.
                    let mut text = format!("[{done}/{total}] {}\n", lines[0]);
                    for line in &lines[1..] {
                        text.push_str(line);
                        text.push('\n');
                    }
                    eprint!("{text}");
                }
            }
        },
    ));
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    for line in words::summary(&report) {
        eprintln!("{line}");
    }
    let verdict = intsync_run::apply::verdict(&report);
    output::keep_until_exit((report, ready));
    verdict
}
