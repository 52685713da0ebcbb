//! `intsync watch`: re-validate and re-plan on every save. Plain `watch` plans against live state
//! held in memory (read at start, after each apply, and every `--refresh` seconds: never on
//! every keystroke). `watch --apply` writes what saves change, and nothing else: at start it
//! shows the plan and writes nothing (a pending plan, or an edit made in the vendor's
//! dashboard, is not its to write); after a save it reads live state, holding the target's
//! writer lock, and writes through the same engine as `apply` the part of the plan that the
//! saves made (`intsync_plan::saves`). When that read fails, nothing is written until a read
//! succeeds.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use intsync_apply::{Outcome, SecretStore, Stores, engine};
use intsync_plan::{DesiredIntegration, Observed, render};
use intsync_provider::{Provider, StopReason};
use notify::{EventKind, RecursiveMode};

use crate::config::Target;
use crate::control::Control;
use crate::pipeline::{Connected, Observing};
use crate::words;
use crate::writer::{Leftovers, look_for_leftovers, take_lock};
use crate::{Talk, Verdict, plural};

/// What to watch, and what to do on a save.
pub struct Options {
    /// The manifest files and directories watched.
    pub paths: Vec<PathBuf>,
    /// Write what saves change (`watch --apply`).
    pub apply: bool,
    /// Writes at once, at most.
    pub parallelism: usize,
    /// Where created integrations' client secrets are saved.
    pub secrets_dir: PathBuf,
    /// How long to wait for the target's writer lock.
    pub lock_timeout: Duration,
    /// How long saves settle before a cycle.
    pub debounce: Duration,
    /// How often live state is read again (drift shows then).
    pub refresh: Duration,
    /// How plans are shown.
    pub style: render::Style,
}

/// The context of one watch: its options, target, provider, stop, and where it talks.
struct Watch<'a> {
    options: &'a Options,
    target: &'a Target,
    provider: &'a Arc<Provider>,
    /// The configuration's targets, as manifests are loaded for them.
    receivers: &'a intsync_manifest::Receivers,
    control: &'a Control,
    talk: &'a dyn Talk,
}

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

/// Whether a cycle may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writes {
    /// At start: show the plan, write nothing.
    Nothing,
    /// After a save: write what the saves changed (with `--apply`).
    Saved,
}

impl Watch<'_> {
    /// Says `line` after the time.
    fn say(&self, line: &str) {
        self.talk.say(&format!("[{}] {line}", now()));
    }

    /// Shows `plan` (data) under a title line with the time.
    fn show(&self, title: &str, plan: &intsync_plan::Plan) {
        self.talk.show(&format!(
            "[{}] {title}\n{}",
            now(),
            render::text(plan, self.options.style)
        ));
    }

    /// After a refresh: the differences that appeared because live state moved since the last
    /// reading (someone changed it outside this watch) are shown as drift.
    fn report_drift(&self, held: &Held, fresh: &Observed) {
        let Some(desired) = &held.desired else { return };
        let Ok(mut plan) = crate::pipeline::plan_for(self.target, desired, fresh) else {
            return;
        };
        intsync_plan::drift::classify_moved(&mut plan, &held.observed);
        let drift = intsync_plan::drift::only_drift(plan);
        if drift.has_changes {
            self.show(
                &format!(
                    "drift on target `{}`: changed live, outside git since the last reading",
                    self.target.name
                ),
                &drift,
            );
        }
    }

    /// The manifests loaded: all of them (`Ok`), or, when some have errors (told), the valid
    /// ones (`Err`).
    fn load(&self) -> Result<Vec<DesiredIntegration>, Vec<DesiredIntegration>> {
        let loaded = intsync_manifest::load_for(&self.options.paths, self.receivers);
        self.talk.diagnostics(&loaded.diagnostics);
        let has_errors = loaded.has_errors();
        if has_errors {
            self.say(&format!(
                "{} manifest error{}; waiting for the next save",
                loaded.error_count(),
                plural(loaded.error_count())
            ));
        }
        let valid = crate::pipeline::for_target(
            self.target,
            loaded
                .manifests
                .into_iter()
                .map(DesiredIntegration::from_manifest)
                .collect(),
        );
        if has_errors { Err(valid) } else { Ok(valid) }
    }

    /// One save's work: validate, plan, show; with `--apply`, take the target's writer lock,
    /// read live state (while the manifests load), then write what the saves changed through
    /// the engine and fold its results into the held state.
    async fn cycle(&self, held: &mut Held) {
        // Writes go only against live state read after the save that asks for them, by the
        // one writer of the target: the lock first, then that reading, while the manifests
        // load.
        let lock = if self.options.apply {
            match take_lock(
                self.target,
                "watch --apply",
                self.options.lock_timeout,
                self.talk,
            )
            .await
            {
                Ok(lock) => Some(lock),
                Err(e) => {
                    held.pending = true;
                    self.say(&format!(
                        "warning: {e:#} Nothing is written until the lock is free (at the next save or refresh)."
                    ));
                    None
                }
            }
        } else {
            None
        };
        let fresh = lock.is_some().then(|| Observing::spawn(self.provider));
        let Ok(desired) = self.load() else {
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
                    self.say(&format!(
                        "warning: cannot read live state: {e:#}; nothing is written until a read succeeds (the plan below is against live state as last read)"
                    ));
                }
            }
        }
        self.plan_cycle(held, desired, Writes::Saved).await;
        drop(lock);
    }

    /// Plans `desired` against the held live state, shows it, and with `--apply` (and
    /// `writes`) writes the part of it that the saves made.
    async fn plan_cycle(&self, held: &mut Held, desired: Vec<DesiredIntegration>, writes: Writes) {
        held.desired = Some(desired.clone());
        let plan = match crate::pipeline::plan_for(self.target, &desired, &held.observed) {
            Ok(plan) => plan,
            Err(errors) => {
                for error in &errors {
                    self.say(&format!("error: {error}"));
                }
                return;
            }
        };
        self.show(&format!("plan for target `{}`", self.target.name), &plan);
        // Said at every plan; watch goes on (the next reading may read them).
        for line in render::unreadable_report(
            &self.target.name,
            &plan.unreadable,
            "the rest was planned (above)",
        ) {
            self.say(&line);
        }
        let apply = self.options.apply;
        if !apply || held.pending || writes == Writes::Nothing {
            if apply && writes == Writes::Nothing && plan.has_changes {
                self.say(
                    "nothing is written at start: watch --apply writes what your saves change from now on (`intsync apply` writes the plan above)",
                );
            }
            return;
        }
        // Only what the saves changed since the last write (or the start); blocked changes
        // are only reported (the plan shows them).
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
            self.say(&format!(
                "{left} difference{} your saves did not make {} left as {} (`intsync apply` writes {})",
                plural(left),
                if left == 1 { "is" } else { "are" },
                if left == 1 { "it is" } else { "they are" },
                if left == 1 { "it" } else { "them" }
            ));
        }
        let Ok(batch) = engine::prepare(&saved, true) else {
            return;
        };
        if batch.writes.is_empty() || self.control.stop().reason().is_some() {
            held.written = written_after(&held.written, &desired, &saved, None);
            return;
        }
        let result = self.write(batch, &desired, held).await;
        result.fold_into(&mut held.observed);
        held.written = written_after(&held.written, &desired, &saved, Some(&result));
        self.summary(&result);
    }

    /// Writes `batch` through the engine, each write said as it ends.
    async fn write(
        &self,
        batch: engine::Batch,
        desired: &[DesiredIntegration],
        held: &Held,
    ) -> intsync_apply::Report {
        let intents = self.target.intents();
        let _writing = self.control.writing_creates(&intents);
        let options = intsync_apply::Options {
            parallelism: self.options.parallelism,
            stores: Stores {
                secrets: SecretStore::new(&self.options.secrets_dir),
                intents,
            },
            stop: self.control.stop(),
            desired: Some(desired),
            observed: Some(&held.observed),
        };
        engine::execute(
            Arc::clone(self.provider),
            batch,
            &options,
            |action, outcome| {
                match outcome {
                    Outcome::Failed(error) => {
                        self.say(&format!("{}: {error}", words::item_line(action, outcome)));
                    }
                    _ => self.say(&words::item_line(action, outcome)),
                }
                if let Some(line) = words::secret_line(action, outcome) {
                    self.talk.say(&format!("  {line}"));
                }
            },
        )
        .await
    }

    /// Verification's findings (the per-write lines were said as they ended), problems, and
    /// the count.
    fn summary(&self, result: &intsync_apply::Report) {
        for (action, outcome) in &result.items {
            if let Outcome::Failed(error @ intsync_apply::ItemError::NotVerified { .. }) = outcome {
                self.say(&format!("FAILED {}: {error}", words::label(action)));
            }
        }
        for problem in &result.problems {
            self.say(&format!("warning: {problem}"));
        }
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
        self.say(&format!("applied {done} change{}{tail}", plural(done)));
    }

    /// The start: live state read while watching is set up and the manifests load; creates an
    /// earlier run left in flight settled (a writer, under the lock) or reported; the first
    /// plan shown, nothing written.
    async fn start(&self, first: Observing) -> anyhow::Result<Held> {
        let desired = self.load();
        let observed = first.reading().await.with_context(|| {
            format!(
                "cannot read the live integrations of target `{}`",
                self.target.name
            )
        })?;
        let secrets = SecretStore::new(&self.options.secrets_dir);
        let (target, provider, talk) = (self.target, self.provider, self.talk);
        let observed = if self.options.apply {
            let _lock = take_lock(target, "watch --apply", self.options.lock_timeout, talk).await?;
            look_for_leftovers(
                target,
                provider,
                &secrets,
                observed,
                Leftovers::Settle,
                talk,
            )
            .await?
            .observed
        } else {
            look_for_leftovers(
                target,
                provider,
                &secrets,
                observed,
                Leftovers::Report,
                talk,
            )
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
            self.plan_cycle(&mut held, desired, Writes::Nothing).await;
        }
        Ok(held)
    }
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

/// Watches `options.paths` for `connected`'s target until `control` is asked to stop (design
/// §11): a plan at start, then one at every save, with `--apply` the writes the saves made.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    connected: &Connected,
    options: &Options,
    control: &Control,
    talk: &dyn Talk,
) -> anyhow::Result<Verdict> {
    let watch = Watch {
        options,
        target: &connected.target,
        provider: &connected.provider,
        receivers: &connected.receivers,
        control,
        talk,
    };
    for path in &options.paths {
        anyhow::ensure!(
            path.exists(),
            "cannot watch `{}`: it does not exist",
            path.display()
        );
    }
    let stop = control.stop();
    runtime.block_on(async {
        // Live state is read while watching is set up and the manifests load for the first
        // plan; a start that cannot read it stops here.
        let first = Observing::spawn(watch.provider);
        // notify calls back on its own thread; bridge to this task with a channel.
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut debouncer =
            notify_debouncer_full::new_debouncer(options.debounce, None, move |result| {
                let _ = tx.send(result);
            })
            .context("cannot watch files")?;
        for path in &options.paths {
            debouncer
                .watch(path, RecursiveMode::Recursive)
                .with_context(|| format!("cannot watch `{}`", path.display()))?;
        }
        // Watching starts before the first plan, so a save during it is not missed.
        watch.say(&format!(
            "watching {} (Ctrl-C to stop)",
            options
                .paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let mut held = watch.start(first).await?;
        let mut refresh = tokio::time::interval(options.refresh);
        refresh.tick().await; // the first tick is immediate; live state was just read
        while stop.reason().is_none() {
            tokio::select! {
                events = rx.recv() => {
                    let Some(events) = events else { break };
                    let relevant = match events {
                        Ok(events) => events.iter().any(|e| changes_manifests(e)),
                        Err(errors) => {
                            for e in errors {
                                watch.say(&format!("warning: file watching: {e}"));
                            }
                            false
                        }
                    };
                    if relevant {
                        watch.cycle(&mut held).await;
                    }
                }
                _ = refresh.tick() => match watch.provider.observe().await {
                    Ok(fresh) => {
                        watch.report_drift(&held, &fresh);
                        held.observed = fresh;
                        if held.pending {
                            // A save's writes waited for this read: plan and write now.
                            watch.cycle(&mut held).await;
                        }
                    }
                    Err(e) => watch.say(&format!("warning: cannot refresh live state: {e}")),
                },
                _ = stop.requested() => break,
            }
        }
        anyhow::Ok(())
    })?;
    if let Err(e) = watch.provider.checkpoint() {
        watch.say(&format!("warning: cannot save the local state: {e}"));
    }
    watch.say("stopped");
    Ok(match stop.reason() {
        Some(StopReason::Terminate) => Verdict::Stopped(StopReason::Terminate),
        Some(StopReason::Interrupt) | None => Verdict::Ok,
    })
}
