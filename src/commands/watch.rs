//! `intsync watch`: re-validate and re-plan on every save. Plain `watch` plans against live state
//! held in memory (read at start, after each apply, and every `--refresh` seconds: never on
//! every keystroke). `watch --apply` writes what saves change, and nothing else: at start it
//! prints the plan and writes nothing (a pending plan, or an edit made in the vendor's
//! dashboard, is not its to write); after a save it reads live state, holding the target's
//! writer lock, and writes through the same engine as `apply` the part of the plan that the
//! saves made (`intsync_plan::saves`). When that read fails, nothing is written until a read
//! succeeds.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use intsync_apply::{Options, Outcome, SecretStore, Stores, engine};
use intsync_plan::{DesiredIntegration, Observed, render};
use intsync_provider::{Provider, StopReason};
use notify::{EventKind, RecursiveMode};

use crate::cli::WatchArgs;
use crate::commands::plan::{Observing, runtime};
use crate::commands::report;
use crate::commands::writer::{Leftovers, look_for_leftovers, take_lock};
use crate::config::{Config, Target};
use crate::signals::{Idle, Signals};
use crate::{Exit, output};

fn now() -> String {
    intsync_emulator::ids::truto_timestamp(SystemTime::now())
}

/// Whether a file event can change the plan: a manifest written, or something removed or a
/// directory changed. Reads (ours included) are not changes.
fn changes_manifests(event: &notify::Event) -> bool {
    !matches!(event.kind, EventKind::Access(_))
        && event
            .paths
            .iter()
            .any(|p| intsync_manifest::is_manifest_file(p) || !p.exists() || p.is_dir())
}

fn print_stdout(text: &str) {
    let _ = output::print_stdout(text);
    let _ = std::io::stdout().flush();
}

/// What the watch loop holds between saves.
struct Held {
    observed: Observed,
    /// `--apply` only: a save's writes are waiting for a successful read of live state (or for
    /// the target's writer lock).
    pending: bool,
    /// The manifests as last loaded without errors (for telling drift on a refresh).
    desired: Option<Vec<DesiredIntegration>>,
    /// `--apply` only: the manifests whose changes are written (or were there at start): what
    /// a save changed is told against these.
    written: Vec<DesiredIntegration>,
}

/// After a `--refresh` reading: the differences that appeared because live state moved since
/// the last reading (someone changed it outside this watch) are printed as drift.
fn report_drift(target: &Target, held: &Held, fresh: &Observed) {
    let Some(desired) = &held.desired else { return };
    let Ok(mut plan) = intsync_plan::plan(&target.name, desired, fresh) else {
        return;
    };
    intsync_plan::drift::classify_moved(&mut plan, &held.observed);
    let drift = intsync_plan::drift::only_drift(plan);
    if !drift.has_changes {
        return;
    }
    print_stdout(&format!(
        "[{}] drift on target `{}`: changed live, outside git since the last reading\n{}",
        now(),
        target.name,
        render::text(
            &drift,
            render::Style {
                color: output::stdout_color()
            }
        )
    ));
}

/// The manifests loaded: all of them (`Ok`), or, when some have errors (printed), the valid
/// ones (`Err`).
fn load_cycle(args: &WatchArgs) -> Result<Vec<DesiredIntegration>, Vec<DesiredIntegration>> {
    let loaded = intsync_manifest::load(&args.paths);
    output::eprint_diagnostics(&loaded.diagnostics);
    let has_errors = loaded.has_errors();
    if has_errors {
        eprintln!(
            "[{}] {} manifest error{}; waiting for the next save",
            now(),
            loaded.error_count(),
            output::plural(loaded.error_count())
        );
    }
    let valid = loaded
        .manifests
        .into_iter()
        .map(DesiredIntegration::from_manifest)
        .collect();
    if has_errors { Err(valid) } else { Ok(valid) }
}

/// One save's work: validate, plan, print; with `--apply`, take the target's writer lock, read
/// live state (while the manifests load), then write what the saves changed through the engine
/// and fold its results into the held state.
async fn cycle(
    args: &WatchArgs,
    target: &Target,
    provider: &Arc<Provider>,
    signals: &Signals,
    held: &mut Held,
) {
    // Writes go only against live state read after the save that asks for them, by the one
    // writer of the target: the lock first, then that reading, while the manifests load.
    let lock = if args.apply {
        match take_lock(target, "watch --apply", args.lock_timeout).await {
            Ok(lock) => Some(lock),
            Err(e) => {
                held.pending = true;
                eprintln!(
                    "[{}] warning: {e:#} Nothing is written until the lock is free (at the next save or refresh).",
                    now()
                );
                None
            }
        }
    } else {
        None
    };
    let fresh = lock.is_some().then(|| Observing::spawn(provider));
    let Ok(desired) = load_cycle(args) else {
        return;
    };
    if let Some(fresh) = fresh {
        match fresh.reading().await {
            Ok(fresh) => {
                held.observed = fresh;
                held.pending = false;
            }
            Err(e) => {
                held.pending = true;
                eprintln!(
                    "[{}] warning: cannot read live state: {e:#}; nothing is written until a read succeeds (the plan below is against live state as last read)",
                    now()
                );
            }
        }
    }
    plan_cycle(
        args,
        target,
        provider,
        signals,
        held,
        desired,
        Writes::Saved,
    )
    .await;
    drop(lock);
}

/// Whether a cycle may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// At start: print the plan, write nothing.
    Nothing,
    /// After a save: write what the saves changed (with `--apply`).
    Saved,
}

/// Plans `desired` against the held live state, prints it, and with `--apply` (and `writes`)
/// writes the part of it that the saves made.
async fn plan_cycle(
    args: &WatchArgs,
    target: &Target,
    provider: &Arc<Provider>,
    signals: &Signals,
    held: &mut Held,
    desired: Vec<DesiredIntegration>,
    writes: Writes,
) {
    held.desired = Some(desired.clone());
    let plan = match intsync_plan::plan(&target.name, &desired, &held.observed) {
        Ok(plan) => plan,
        Err(errors) => {
            for error in &errors {
                eprintln!("[{}] error: {error}", now());
            }
            return;
        }
    };
    print_stdout(&format!(
        "[{}] plan for target `{}`\n{}",
        now(),
        target.name,
        render::text(
            &plan,
            render::Style {
                color: output::stdout_color()
            }
        )
    ));
    // Said at every plan; watch goes on (the next reading may read them).
    report::unreadable(
        &target.name,
        &plan.unreadable,
        "the rest was planned (above)",
        &format!("[{}] ", now()),
    );
    if !args.apply || held.pending || writes == Writes::Nothing {
        if args.apply && writes == Writes::Nothing && plan.has_changes {
            eprintln!(
                "[{}] nothing is written at start: watch --apply writes what your saves change from now on (`intsync apply` writes the plan above)",
                now()
            );
        }
        return;
    }
    // Only what the saves changed since the last write (or the start); blocked changes are
    // only reported (the plan shows them).
    let saved = intsync_plan::saves::made_by_saves(
        &plan,
        &desired,
        &intsync_plan::saves::Since::new(&held.written),
    );
    let left = plan
        .actions
        .iter()
        .filter(|a| !matches!(a, intsync_plan::Action::Noop { .. }))
        .count()
        .saturating_sub(saved.actions.len());
    if left > 0 {
        eprintln!(
            "[{}] {left} difference{} your saves did not make {} left as {} (`intsync apply` writes {})",
            now(),
            output::plural(left),
            if left == 1 { "is" } else { "are" },
            if left == 1 { "it is" } else { "they are" },
            if left == 1 { "it" } else { "them" }
        );
    }
    let Ok(batch) = engine::prepare(&saved, true) else {
        return;
    };
    if batch.writes.is_empty() || signals.stop().reason().is_some() {
        held.written = written_after(&held.written, &desired, &saved, None);
        return;
    }
    let intents = target.intents();
    let _writing = signals.writing_creates(&intents);
    let options = Options {
        parallelism: usize::from(args.parallelism),
        stores: Stores {
            secrets: SecretStore::new(&args.secrets_dir),
            intents,
        },
        stop: signals.stop(),
        desired: Some(desired.clone()),
        observed: Some(held.observed.clone()),
    };
    let result = engine::execute(Arc::clone(provider), batch, &options, |action, outcome| {
        match outcome {
            Outcome::Failed(error) => {
                eprintln!(
                    "[{}] {}: {error}",
                    now(),
                    report::item_line(action, outcome)
                );
            }
            _ => eprintln!("[{}] {}", now(), report::item_line(action, outcome)),
        }
        if let Some(line) = report::secret_line(action, outcome) {
            eprintln!("  {line}");
        }
    })
    .await;
    for (action, outcome) in &result.items {
        // Verification's findings (the per-write lines were printed as they ended).
        if let Outcome::Failed(error @ intsync_apply::ItemError::NotVerified { .. }) = outcome {
            eprintln!("[{}] FAILED {}: {error}", now(), report::label(action));
        }
    }
    for problem in &result.problems {
        eprintln!("[{}] warning: {problem}", now());
    }
    result.fold_into(&mut held.observed);
    held.written = written_after(&held.written, &desired, &saved, Some(&result));
    let done = result.count(Outcome::is_done);
    let failed = result.count(|o| matches!(o, Outcome::Failed(_)));
    let not_done = result.count(|o| matches!(o, Outcome::NotDone));
    let mut tail = String::new();
    if failed > 0 {
        tail.push_str(&format!(", {failed} failed"));
    }
    if not_done > 0 {
        tail.push_str(&format!(", {not_done} not started (stopping)"));
    }
    eprintln!(
        "[{}] applied {done} change{}{tail}",
        now(),
        output::plural(done)
    );
}

/// The manifests whose changes count as written after a cycle: the new version of each, except
/// those with a change the cycle did not write (blocked, failed, not started), which keep their
/// earlier version so that the change is still theirs to write at the next save.
fn written_after(
    before: &[DesiredIntegration],
    desired: &[DesiredIntegration],
    saved: &intsync_plan::Plan,
    result: Option<&intsync_apply::Report>,
) -> Vec<DesiredIntegration> {
    let done: std::collections::HashSet<&str> = result
        .map(|r| {
            r.items
                .iter()
                .filter(|(_, o)| o.is_done())
                .map(|(a, _)| a.manifest())
                .collect()
        })
        .unwrap_or_default();
    // Manifests set aside (they may be a live integration that could not be read) were not
    // written either: their change stays theirs to write once it can be.
    let set_aside = saved
        .unreadable
        .iter()
        .flat_map(|u| u.set_aside.iter().map(|a| a.manifest.as_str()));
    let unwritten: std::collections::HashSet<&str> = saved
        .actions
        .iter()
        .map(intsync_plan::Action::manifest)
        .filter(|m| !done.contains(m))
        .chain(set_aside)
        .collect();
    let since = intsync_plan::saves::Since::new(before);
    desired
        .iter()
        .filter_map(|now| {
            if unwritten.contains(now.manifest.as_str()) {
                since.find(now).cloned()
            } else {
                Some(now.clone())
            }
        })
        .collect()
}

pub fn run(config: Option<&Path>, args: &WatchArgs) -> anyhow::Result<Exit> {
    let config = Config::load(config)?;
    let target = config.target(args.target.as_deref())?;
    let provider = Arc::new(target.provider()?);
    for path in &args.paths {
        anyhow::ensure!(
            path.exists(),
            "cannot watch `{}`: it does not exist",
            path.display()
        );
    }
    let runtime = runtime()?;
    // Listening before anything else: a signal during the first plan (or an apply) is not
    // fatal; the cycle in progress finishes (its writes in flight too), then watch stops.
    let signals = Signals::listen(&runtime, Idle::Stop)?;
    let stop = signals.stop();
    runtime.block_on(async {
        // Live state is read while watching is set up and the manifests load for the first
        // plan; a start that cannot read it stops here, as before.
        let first = Observing::spawn(&provider);
        // notify calls back on its own thread; bridge to this task with a channel.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut debouncer = notify_debouncer_full::new_debouncer(
            Duration::from_millis(args.debounce_ms),
            None,
            move |result| {
                let _ = tx.send(result);
            },
        )
        .context("cannot watch files")?;
        for path in &args.paths {
            debouncer
                .watch(path, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch `{}`", path.display()))?;
        }
        // Watching starts before the first plan, so a save during it is not missed.
        eprintln!(
            "[{}] watching {} (Ctrl-C to stop)",
            now(),
            args.paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let desired = load_cycle(args);
        let observed = first.reading().await.with_context(|| {
            format!(
                "cannot read the live integrations of target `{}`",
                target.name
            )
        })?;
        // Creates an earlier run left in flight: settled (under the lock) by a writer, else
        // reported.
        let secrets = SecretStore::new(&args.secrets_dir);
        let observed = if args.apply {
            let _lock = take_lock(target, "watch --apply", args.lock_timeout).await?;
            look_for_leftovers(target, &provider, &secrets, observed, Leftovers::Settle)
                .await?
                .observed
        } else {
            look_for_leftovers(target, &provider, &secrets, observed, Leftovers::Report)
                .await?
                .observed
        };
        // What saves change is told against the manifests as they are now (the valid ones).
        let written = match &desired {
            Ok(all) | Err(all) => all.clone(),
        };
        let mut held = Held {
            observed,
            pending: false,
            desired: None,
            written,
        };
        if let Ok(desired) = desired {
            plan_cycle(
                args,
                target,
                &provider,
                &signals,
                &mut held,
                desired,
                Writes::Nothing,
            )
            .await;
        }
        let mut refresh = tokio::time::interval(Duration::from_secs(args.refresh.max(1)));
        refresh.tick().await; // the first tick is immediate; live state was just read
        while stop.reason().is_none() {
            tokio::select! {
                events = rx.recv() => {
                    let Some(events) = events else { break };
                    let relevant = match events {
                        Ok(events) => events.iter().any(|e| changes_manifests(e)),
                        Err(errors) => {
                            for e in errors {
                                eprintln!("[{}] warning: file watching: {e}", now());
                            }
                            false
                        }
                    };
                    if relevant {
                        cycle(args, target, &provider, &signals, &mut held).await;
                    }
                }
                _ = refresh.tick() => match provider.observe().await {
                    Ok(fresh) => {
                        report_drift(target, &held, &fresh);
                        held.observed = fresh;
                        if held.pending {
                            // A save's writes waited for this read: plan and write now.
                            cycle(args, target, &provider, &signals, &mut held).await;
                        }
                    }
                    Err(e) => eprintln!("[{}] warning: cannot refresh live state: {e}", now()),
                },
                _ = stop.requested() => break,
            }
        }
        anyhow::Ok(())
    })?;
    if let Err(e) = provider.checkpoint() {
        eprintln!("[{}] warning: cannot save the local state: {e}", now());
    }
    eprintln!("[{}] stopped", now());
    Ok(match stop.reason() {
        Some(StopReason::Terminate) => Exit::Terminated,
        Some(StopReason::Interrupt) | None => Exit::Ok,
    })
}
