//! `intsync apply`: show the plan, refuse what must be refused, ask, then hand the writes to the
//! reconcile engine (`intsync-apply`) and render its report (design §8). The policy (re-check,
//! blocked, secrets, verification, interruption) lives in the engine, not here.

use std::io::IsTerminal as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use intsync_apply::{Options, Outcome, SecretStore, Status, Stores, engine};
use intsync_plan::{Plan, render};

use crate::cli::ApplyArgs;
use crate::commands::plan::{compute, load_desired_observing, runtime};
use crate::commands::report;
use crate::commands::writer::{Leftovers, look_for_leftovers, take_lock};
use crate::config::Config;
use crate::signals::{self, Idle, Signals};
use crate::{Exit, output};

/// A plan file written by `plan --out`, for `target`.
fn read_saved_plan(file: &Path, target: &str) -> anyhow::Result<Plan> {
    let text = fs_err::read_to_string(file)
        .with_context(|| format!("cannot read the saved plan `{}`", file.display()))?;
    let saved: Plan = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not an intsync plan", file.display()))?;
    if saved.format_version != 1 {
        anyhow::bail!(
            "`{}` has plan format {}; this intsync reads format 1",
            file.display(),
            saved.format_version
        );
    }
    if saved.target != target {
        anyhow::bail!(
            "`{}` was planned for target `{}`, not `{target}`; pass --target {}",
            file.display(),
            saved.target,
            saved.target
        );
    }
    Ok(saved)
}

pub fn run(config: Option<&Path>, args: &ApplyArgs) -> anyhow::Result<Exit> {
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let saved = match &args.plan {
        Some(file) => Some(read_saved_plan(file, &target.name)?),
        None => None,
    };
    let provider = Arc::new(target.provider()?);
    let runtime = runtime()?;
    // One writer per target, from before live state is read until the writes are verified: two
    // appliers planning from one reading would each create what the other creates.
    let lock = runtime.block_on(take_lock(target, "apply", args.lock_timeout))?;
    let secrets = SecretStore::new(&args.secrets_dir);
    // The manifests load while live state is read (a saved plan has none to load).
    let (desired, observing) = match &saved {
        Some(_) => {
            eprintln!(
                "Checking the saved plan against live state of target `{}`...",
                target.name
            );
            (None, None)
        }
        None => match load_desired_observing(&runtime, target, &provider, &args.paths) {
            Some((desired, observing)) => (Some(desired), Some(observing)),
            None => return Ok(Exit::Error),
        },
    };
    // From here on a signal is ours: before the writes it exits at once (nothing written).
    let signals = Signals::listen(&runtime, Idle::Exit)?;

    // 1. The plan: a saved one checked against live state, or computed now; either from live
    //    state read once the creates an earlier run left in flight were settled.
    let (observed, plan, secret_lost) = match (saved, &desired, observing) {
        (Some(saved), _, _) => {
            let observed = runtime.block_on(provider.observe()).with_context(|| {
                format!(
                    "cannot read the live integrations of target `{}`",
                    target.name
                )
            })?;
            let looked = runtime.block_on(look_for_leftovers(
                target,
                &provider,
                &secrets,
                observed,
                Leftovers::Settle,
            ))?;
            match engine::recheck(saved, &looked.observed) {
                Ok(plan) => (looked.observed, plan, looked.secret_lost),
                Err(moved) => {
                    eprintln!(
                        "error: live state moved since the plan was made; nothing was written:"
                    );
                    for line in &moved {
                        // Names, ids and reasons come from the vendor.
                        eprintln!("  - {}", intsync_plan::inert::visible(&line.to_string()));
                    }
                    eprintln!("Run `intsync plan` again and review the new plan.");
                    return Ok(Exit::Stale);
                }
            }
        }
        (None, Some(desired), Some(observing)) => {
            match runtime.block_on(compute(
                target,
                &provider,
                desired,
                observing,
                &secrets,
                Leftovers::Settle,
            ))? {
                Some(planned) => (planned.observed, planned.plan, planned.secret_lost),
                None => return Ok(Exit::Error),
            }
        }
        _ => unreachable!("desired is loaded and read when there is no saved plan"),
    };
    // A client secret lost by an earlier run fails this one, once it was said (above).
    let earlier_failed = |exit: Exit| match exit {
        Exit::Ok if secret_lost => Exit::Error,
        exit => exit,
    };
    // Live integrations that cannot be read: the manifests that may be them were set aside by
    // the planner (never written, never created); the rest goes on, and at the end they are
    // said and the run fails.
    let unreadable = plan.unreadable.clone();
    let finish = |exit: Exit, rest: &str| {
        let failed = report::unreadable(&target.name, &unreadable, rest, "");
        exit.failed_if(failed)
    };
    let planned = "the rest was planned (above)";

    // 2. Show it.
    output::print_stdout(&render::text(
        &plan,
        render::Style {
            color: output::stdout_color(),
        },
    ))?;

    // 3. Refuse blocked changes, unless told to skip them.
    let batch = match engine::prepare(&plan, args.skip_blocked) {
        Ok(batch) => batch,
        Err(refused) => {
            let n = refused.blocked.len();
            eprintln!(
                "error: {n} change{} blocked (Ada only lets integrations in development change); nothing was written. Use --skip-blocked to apply the rest.",
                if n == 1 { " is" } else { "s are" }
            );
            return Ok(finish(Exit::Blocked, planned));
        }
    };
    if !batch.skipped_blocked.is_empty() {
        eprintln!(
            "Skipping {} blocked change{}:",
            batch.skipped_blocked.len(),
            output::plural(batch.skipped_blocked.len())
        );
        for action in &batch.skipped_blocked {
            eprintln!(
                "  - {} ({})",
                report::label(action),
                intsync_plan::inert::visible(action.id().unwrap_or("-"))
            );
        }
    }
    if batch.writes.is_empty() {
        eprintln!("Nothing to apply.");
        return Ok(finish(earlier_failed(Exit::Ok), planned));
    }

    // 4. Confirm.
    if !args.auto_approve {
        let question = format!(
            "Apply {} change{} to target `{}`?",
            batch.writes.len(),
            output::plural(batch.writes.len()),
            target.name
        );
        match output::confirm(&question, "--auto-approve", "nothing was written")? {
            output::Answer::Yes => {}
            output::Answer::No => return Ok(finish(earlier_failed(Exit::Ok), planned)),
            output::Answer::NoOneToAsk => return Ok(finish(Exit::Error, planned)),
        }
    }

    // 5. Write, through the engine. A signal now stops new writes and lets these finish.
    let intents = target.intents();
    let _writing = signals.writing_creates(&intents);
    let total = batch.writes.len();
    // A progress bar on a terminal; plain lines otherwise (CI logs).
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    });
    let options = Options {
        parallelism: usize::from(args.parallelism),
        stores: Stores { secrets, intents },
        stop: signals.stop(),
        // A saved plan has no manifests with it: verification checks what it wrote.
        desired,
        observed: Some(observed),
    };
    let mut done = 0usize;
    let result = runtime.block_on(engine::execute(
        Arc::clone(&provider),
        batch,
        &options,
        |action, outcome| {
            if matches!(outcome, Outcome::NotDone) {
                return; // listed once, in the report
            }
            done += 1;
            let mut lines = vec![report::item_line(action, outcome)];
            lines.extend(report::secret_line(action, outcome));
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

    // 6. The report: summary, what was not done, failures.
    report::print(&result);
    let exit = match result.status() {
        Status::Ok => Exit::Ok,
        Status::Stopped(reason) => signals::exit_code(reason),
        Status::Stale => Exit::Stale,
        Status::Failed => Exit::Error,
    };
    output::keep_until_exit((result, options));
    drop(lock);
    Ok(finish(
        earlier_failed(exit),
        "the writes of the rest are reported above",
    ))
}
