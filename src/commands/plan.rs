//! `intsync plan`: list live state, compute the plan, print it. Sends only GET requests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use intsync_plan::{DesiredIntegration, Observed, Plan, render};
use intsync_provider::{Provider, ProviderError};

use intsync_apply::SecretStore;

use crate::cli::{DEFAULT_SECRETS_DIR, PlanArgs, PlanFormat};
use crate::commands::report;
use crate::commands::writer::{Leftovers, Looked, look_for_leftovers};
use crate::config::{Config, Target};
use crate::{Exit, output};

/// Valid manifests, or the diagnostics (printed to stderr) and `None`.
pub fn load_manifests(paths: &[PathBuf]) -> Option<Vec<intsync_manifest::Manifest>> {
    let loaded = intsync_manifest::load(paths);
    output::eprint_diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        eprintln!(
            "error: {} manifest error{}; no plan was made and nothing was written (run `intsync validate` for details)",
            loaded.error_count(),
            output::plural(loaded.error_count())
        );
        return None;
    }
    Some(loaded.manifests)
}

/// Live state being read in the background while the manifests load: a command that needs
/// both costs the longer of the two, not their sum (issue #16). Reading sends only GETs, so a
/// reading whose manifests turn out wrong is simply dropped (the task is aborted with it).
pub struct Observing {
    task: Option<tokio::task::JoinHandle<Result<Observed, ProviderError>>>,
}

impl Observing {
    /// Starts reading the live state of `provider` on `runtime` (say so on stderr), and returns
    /// once the reading runs: its first request is leaving as the caller goes on to load the
    /// manifests.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        target: &Target,
        provider: &Arc<Provider>,
    ) -> Observing {
        eprintln!("Reading live state of target `{}`...", target.name);
        let (running, started) = std::sync::mpsc::channel();
        let provider = Arc::clone(provider);
        let task = runtime.spawn(async move {
            let _ = running.send(());
            provider.observe().await
        });
        // The runtime has worker threads of its own: the task starts without this thread.
        let _ = started.recv();
        Observing { task: Some(task) }
    }

    /// Starts reading on the current runtime, quietly and without waiting (`watch`).
    pub fn spawn(provider: &Arc<Provider>) -> Observing {
        let provider = Arc::clone(provider);
        Observing {
            task: Some(tokio::spawn(async move { provider.observe().await })),
        }
    }

    /// The reading, once finished.
    pub async fn reading(mut self) -> anyhow::Result<Observed> {
        let task = self.task.take().expect("read once");
        match task.await {
            Ok(reading) => Ok(reading?),
            Err(error) => anyhow::bail!("reading live state failed unexpectedly: {error}"),
        }
    }

    /// The reading, once finished, with what it read said on stderr.
    pub async fn finish(self, target: &Target, provider: &Provider) -> anyhow::Result<Observed> {
        let observed = self.reading().await.with_context(|| {
            format!(
                "cannot read the live integrations of target `{}`",
                target.name
            )
        })?;
        let unreadable = match observed.unreadable.len() {
            0 => String::new(),
            n => format!(" (and {n} that cannot be read: see below)"),
        };
        eprintln!(
            "Read {} live integration{}{unreadable} in {} request{}.",
            observed.integrations.len(),
            output::plural(observed.integrations.len()),
            provider.request_count(),
            output::plural(usize::try_from(provider.request_count()).unwrap_or(usize::MAX))
        );
        Ok(observed)
    }
}

impl Drop for Observing {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

/// Runs `load` while the live state of `provider` is read ([`Observing`]): the first page
/// request leaves before `load` starts.
pub fn while_observing<T>(
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    provider: &Arc<Provider>,
    load: impl FnOnce() -> T,
) -> (T, Observing) {
    let observing = Observing::start(runtime, target, provider);
    (load(), observing)
}

/// [`load_desired`] while the live state of `provider` is read; `None` when the manifests are
/// wrong (printed).
pub fn load_desired_observing(
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    provider: &Arc<Provider>,
    paths: &[PathBuf],
) -> Option<(Vec<DesiredIntegration>, Observing)> {
    let (desired, observing) = while_observing(runtime, target, provider, || load_desired(paths));
    Some((desired?, observing))
}

/// [`load_manifests`], as the planner's desired integrations.
pub fn load_desired(paths: &[PathBuf]) -> Option<Vec<DesiredIntegration>> {
    Some(
        load_manifests(paths)?
            .into_iter()
            .map(DesiredIntegration::from_manifest)
            .collect(),
    )
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// A plan, and what it was made from.
pub struct Planned {
    pub observed: Observed,
    pub plan: Plan,
    /// A create an earlier run left in flight turned out created, with its client secret lost:
    /// a writer fails (exit 1) once it said so.
    pub secret_lost: bool,
}

/// Plans `desired` against the live state `observing` reads, once the creates an earlier run
/// left in flight were looked for (`leftovers`: reported, or settled by a writer). Identity
/// errors are printed; `None` then.
pub async fn compute(
    target: &Target,
    provider: &Provider,
    desired: &[DesiredIntegration],
    observing: Observing,
    secrets: &SecretStore,
    leftovers: Leftovers,
) -> anyhow::Result<Option<Planned>> {
    let observed = observing.finish(target, provider).await?;
    let Looked {
        observed,
        secret_lost,
    } = look_for_leftovers(target, provider, secrets, observed, leftovers).await?;
    match intsync_plan::plan(&target.name, desired, &observed) {
        Ok(plan) => Ok(Some(Planned {
            observed,
            plan,
            secret_lost,
        })),
        Err(errors) => {
            for error in &errors {
                eprintln!("error: {error}");
                for line in candidate_lines(error, secrets) {
                    eprintln!("{line}");
                }
            }
            eprintln!(
                "error: no plan: {} manifest{} cannot be matched to live integrations",
                errors.len(),
                output::plural(errors.len())
            );
            Ok(None)
        }
    }
}

/// For a manifest whose name several live integrations share: each of them, with its creation
/// time and whether its client secret is saved, and how to keep one.
fn candidate_lines(error: &intsync_plan::PlanError, secrets: &SecretStore) -> Vec<String> {
    let candidates = error.candidates();
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut lines: Vec<String> = candidates
        .iter()
        .map(|c| {
            let created = c.created.as_deref().map_or_else(
                || "creation time unknown".to_owned(),
                |t| format!("created {t:?}"),
            );
            let secret = match secrets.saved(&c.id) {
                Some(path) => format!("client secret saved in {}", path.display()),
                None => "no client secret saved here".to_owned(),
            };
            format!("  - {:?}: {created}, {secret}", c.id)
        })
        .collect();
    let keep = &candidates[0].id;
    lines.push(format!(
        "  Keep one: add `metadata: {{ id: {keep:?} }}` (its id) to {:?}; the others stay live as unmanaged (Ada has no delete: archive them in the dashboard).",
        error.manifest
    ));
    lines
}

/// Marks the drift of `plan` against the manifests at git revision `baseline` (read from the
/// repository holding `paths`); without one, every difference is drift.
pub fn classify(
    plan: &mut Plan,
    desired: &[DesiredIntegration],
    baseline: Option<&str>,
    paths: &[PathBuf],
) -> anyhow::Result<()> {
    match baseline {
        Some(rev) => {
            let then = crate::baseline::desired_at(rev, paths)
                .with_context(|| format!("cannot read the manifests at --baseline `{rev}`"))?;
            let index = intsync_plan::drift::Baseline::new(&then);
            intsync_plan::drift::classify(plan, desired, Some(&index));
        }
        None => intsync_plan::drift::classify(plan, desired, None),
    }
    Ok(())
}

/// `plan` in the chosen format.
pub fn rendered(plan: &Plan, format: PlanFormat) -> String {
    match format {
        PlanFormat::Text => render::text(
            plan,
            render::Style {
                color: output::stdout_color(),
            },
        ),
        PlanFormat::Json => render::json(plan),
        PlanFormat::Markdown => render::markdown(plan),
    }
}

pub fn write_plan_file(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    output::write_atomically(path, render::json(plan).as_bytes())
        .with_context(|| format!("cannot write the plan to `{}`", path.display()))?;
    eprintln!(
        "Saved the plan to {} (apply it with `intsync apply --plan {}`).",
        path.display(),
        path.display()
    );
    Ok(())
}

/// The manifests under `paths`, planned against `target` (`None`: the default target). `None`
/// when the manifests or their identities are wrong (what is wrong was printed).
pub fn load_and_plan(
    config: Option<&Path>,
    target: Option<&str>,
    paths: &[PathBuf],
) -> anyhow::Result<Option<(Vec<DesiredIntegration>, Plan)>> {
    let config = Config::load(config)?;
    let target = config.target(target)?;
    let provider = Arc::new(target.provider()?);
    let runtime = runtime()?;
    let Some((desired, observing)) = load_desired_observing(&runtime, target, &provider, paths)
    else {
        return Ok(None);
    };
    let secrets = SecretStore::new(DEFAULT_SECRETS_DIR);
    let planned = runtime.block_on(compute(
        target,
        &provider,
        &desired,
        observing,
        &secrets,
        Leftovers::Report,
    ))?;
    Ok(planned.map(|planned| {
        output::keep_until_exit(planned.observed);
        (desired, planned.plan)
    }))
}

pub fn run(config: Option<&Path>, args: &PlanArgs) -> anyhow::Result<Exit> {
    if let Some(rev) = &args.baseline {
        crate::baseline::check(rev)?;
    }
    let Some((desired, mut plan)) = load_and_plan(config, args.target.as_deref(), &args.paths)?
    else {
        return Ok(Exit::Error);
    };
    if let Some(rev) = &args.baseline {
        classify(&mut plan, &desired, Some(rev), &args.paths)?;
    }
    output::print_stdout(&rendered(&plan, args.format))?;
    if let Some(out) = &args.out {
        write_plan_file(&plan, out)?;
    }
    let exit = match (args.detailed_exitcode, plan.has_blocked(), plan.has_changes) {
        (false, _, _) | (true, false, false) => Exit::Ok,
        (true, true, _) => Exit::Blocked,
        (true, false, true) => Exit::Changes,
    };
    // Live integrations that cannot be read: the plan of the rest is printed, then they are
    // said, and the command fails.
    let failed = report::unreadable(&plan.target, &plan.unreadable, "the rest was planned", "");
    output::keep_until_exit((desired, plan));
    Ok(exit.failed_if(failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first page request is sent before the manifests start loading: a loader that waits
    /// for it would wait forever (here: fail after 20 s) if reading began only after loading.
    #[test]
    fn live_state_is_read_while_the_manifests_load() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse("", &dir.path().join("intsync.toml")).unwrap();
        let target = config.target(None).unwrap();
        let provider = Arc::new(target.provider().unwrap());
        let runtime = runtime().unwrap();
        let (seen, observing) = while_observing(&runtime, target, &provider, || {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            while provider.request_count() == 0 {
                assert!(
                    std::time::Instant::now() < deadline,
                    "no page was requested while the manifests loaded"
                );
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            provider.request_count()
        });
        assert!(seen >= 1);
        let observed = runtime
            .block_on(observing.finish(target, &provider))
            .unwrap();
        assert!(observed.integrations.is_empty());
    }

    /// Manifests that turn out wrong drop the reading under way: nothing is left running.
    #[test]
    fn a_dropped_reading_is_aborted() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse("", &dir.path().join("intsync.toml")).unwrap();
        let target = config.target(None).unwrap();
        let provider = Arc::new(target.provider().unwrap());
        let runtime = runtime().unwrap();
        let observing = Observing::start(&runtime, target, &provider);
        let task = observing.task.as_ref().unwrap().abort_handle();
        drop(observing);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !task.is_finished() {
            assert!(
                std::time::Instant::now() < deadline,
                "the reading still runs"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}
