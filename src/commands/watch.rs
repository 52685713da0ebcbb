//! `intsync watch`: re-validate and re-plan on every save. Plain `watch` plans against live state
//! held in memory (read at start, after each apply, and every `--refresh` seconds: never on
//! every keystroke). `watch --apply` reads live state after every save before it writes, and
//! writes through the same engine as `apply`; when that read fails, nothing is written until a
//! read succeeds.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use intsync_apply::{Options, Outcome, SecretStore, engine};
use intsync_plan::{DesiredIntegration, Observed, render};
use intsync_provider::{Provider, StopReason};
use notify::{EventKind, RecursiveMode};

use crate::cli::WatchArgs;
use crate::commands::plan::{Observing, runtime};
use crate::commands::report;
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
    /// `--apply` only: a save's writes are waiting for a successful read of live state.
    pending: bool,
    /// The manifests as last loaded without errors (for telling drift on a refresh).
    desired: Option<Vec<DesiredIntegration>>,
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

/// The manifests, or `None` when they have errors (printed).
fn load_cycle(args: &WatchArgs) -> Option<Vec<DesiredIntegration>> {
    let loaded = intsync_manifest::load(&args.paths);
    output::eprint_diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        eprintln!(
            "[{}] {} manifest error{}; waiting for the next save",
            now(),
            loaded.error_count(),
            output::plural(loaded.error_count())
        );
        return None;
    }
    Some(
        loaded
            .manifests
            .into_iter()
            .map(DesiredIntegration::from_manifest)
            .collect(),
    )
}

/// One save's work: validate, plan, print; with `--apply`, read live state (while the
/// manifests load), then write the development changes through the engine and fold its results
/// into the held state.
async fn cycle(
    args: &WatchArgs,
    target: &Target,
    provider: &Arc<Provider>,
    signals: &Signals,
    held: &mut Held,
) {
    // Writes go only against live state read after the save that asks for them: with
    // `--apply`, that reading runs while the manifests load.
    let fresh = args.apply.then(|| Observing::spawn(provider));
    let Some(desired) = load_cycle(args) else {
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
    plan_cycle(args, target, provider, signals, held, desired).await;
}

/// Plans `desired` against the held live state, prints it, and with `--apply` writes it.
async fn plan_cycle(
    args: &WatchArgs,
    target: &Target,
    provider: &Arc<Provider>,
    signals: &Signals,
    held: &mut Held,
    desired: Vec<DesiredIntegration>,
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
    if !args.apply || held.pending {
        return;
    }
    // Blocked changes are only reported (the plan shows them); the rest is written.
    let Ok(batch) = engine::prepare(&plan, true) else {
        return;
    };
    if batch.writes.is_empty() || signals.stop().reason().is_some() {
        return;
    }
    let _writing = signals.writing();
    let options = Options {
        parallelism: usize::from(args.parallelism),
        secrets: SecretStore::new(&args.secrets_dir),
        stop: signals.stop(),
        desired: Some(desired),
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
        let mut held = Held {
            observed,
            pending: false,
            desired: None,
        };
        if let Some(desired) = desired {
            plan_cycle(args, target, &provider, &signals, &mut held, desired).await;
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
