//! The pipeline `plan`, `apply`, `drift`, `pull` and `watch` share: a target connected, its live
//! state read while the manifests load, the creates an earlier run left in flight looked for,
//! then the plan, and with a baseline its drift told from what is pending.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use intsync_apply::SecretStore;
use intsync_manifest::Receivers;
use intsync_plan::{DesiredIntegration, Observed, Plan, PlanError, Skipped};
use intsync_provider::{Provider, ProviderError};

use crate::config::{Config, Target};
use crate::writer::{Leftovers, Looked, look_for_leftovers};
use crate::{Talk, plural};

/// One target of the configuration, connected: what every command that reads live state
/// starts from. Owned, so that several can run at once.
pub struct Connected {
    pub target: Target,
    pub provider: Arc<Provider>,
    /// Every target of the configuration, as manifests are loaded for them.
    pub receivers: Arc<Receivers>,
}

impl Connected {
    /// Target `name` of `config` (`None`: its default target), connected.
    pub fn open(config: &Config, name: Option<&str>) -> anyhow::Result<Connected> {
        Connected::within(config, config.target(name)?)
    }

    /// `target` of `config`, connected.
    pub fn within(config: &Config, target: &Target) -> anyhow::Result<Connected> {
        Connected::of(target, &Arc::new(config.receivers().only(&[&target.name])))
    }

    /// `target`, connected; `receivers`: every target of its configuration.
    pub fn of(target: &Target, receivers: &Arc<Receivers>) -> anyhow::Result<Connected> {
        let target = target.clone();
        let provider = Arc::new(target.provider()?);
        Ok(Connected {
            target,
            provider,
            receivers: Arc::clone(receivers),
        })
    }

    /// The valid manifests under `paths` that this target gets (see [`load_desired`]).
    pub fn load_desired(
        &self,
        paths: &[PathBuf],
        talk: &dyn Talk,
    ) -> Option<Vec<DesiredIntegration>> {
        load_desired(paths, &self.receivers, talk).map(|all| for_target(&self.target, all))
    }

    /// `target`, connected through `connections` (made for the targets of one run: those of
    /// one API and token share one rate limiter and one retry budget, design §11).
    pub fn through(
        connections: &crate::config::Connections,
        target: &Target,
        receivers: &Arc<Receivers>,
    ) -> anyhow::Result<Connected> {
        Ok(Connected {
            target: target.clone(),
            provider: Arc::new(connections.provider(target)?),
            receivers: Arc::clone(receivers),
        })
    }
}

/// The valid manifests under `paths`, for the targets of `receivers` (a manifest with `!var`
/// once per target receiving it), as the planner's desired integrations; `None` once their
/// diagnostics and the error count were told to `talk`.
pub fn load_desired(
    paths: &[PathBuf],
    receivers: &Receivers,
    talk: &dyn Talk,
) -> Option<Vec<DesiredIntegration>> {
    let loaded = intsync_manifest::load_for(paths, receivers);
    talk.diagnostics(&loaded.diagnostics);
    if loaded.has_errors() {
        talk.say(&format!(
            "error: {} manifest error{}; no plan was made and nothing was written (run `intsync validate` for details)",
            loaded.error_count(),
            plural(loaded.error_count())
        ));
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

/// Those of `all` that `target` gets by `metadata.targets` and per-target copies (the kinds it
/// does not serve are still skipped by [`desired_for`]): a target's own copies, which the
/// plan's manifests name alone.
#[must_use]
pub fn for_target(target: &Target, all: Vec<DesiredIntegration>) -> Vec<DesiredIntegration> {
    all.into_iter()
        .filter(|d| d.routing.goes_to(&target.name))
        .collect()
}

/// What one target gets of the desired integrations: those it receives, and those it skips
/// (listed in its plan).
pub struct Share<'a> {
    pub received: Cow<'a, [DesiredIntegration]>,
    pub skipped: Vec<Skipped>,
}

/// The one answer to "which desired integrations does `target` get" (design §11): those
/// `metadata.targets` and per-target copies give it, of the kinds it serves; those of other
/// kinds are skipped. Borrows when it gets them all.
#[must_use]
pub fn desired_for<'a>(target: &Target, desired: &'a [DesiredIntegration]) -> Share<'a> {
    let kinds = target.kinds();
    if desired
        .iter()
        .all(|want| kinds.contains(&want.kind) && want.routing.goes_to(&target.name))
    {
        return Share {
            received: Cow::Borrowed(desired),
            skipped: Vec::new(),
        };
    }
    let (received, skipped): (Vec<&DesiredIntegration>, Vec<&DesiredIntegration>) = desired
        .iter()
        .filter(|want| want.routing.goes_to(&target.name))
        .partition(|want| kinds.contains(&want.kind));
    Share {
        received: Cow::Owned(received.into_iter().cloned().collect()),
        skipped: skipped
            .into_iter()
            .map(|want| Skipped {
                kind: want.kind,
                name: want.name().map(str::to_owned),
                manifest: want.manifest.clone(),
            })
            .collect(),
    }
}

/// `desired` planned against `observed` for `target`, what the target skips listed in the plan.
pub fn plan_for(
    target: &Target,
    desired: &[DesiredIntegration],
    observed: &Observed,
) -> Result<Plan, Vec<PlanError>> {
    let share = desired_for(target, desired);
    let mut plan = intsync_plan::plan(&target.name, &share.received, observed)?;
    plan.skipped.extend(share.skipped);
    Ok(plan)
}

/// Live state being read in the background while the manifests load: a command that needs
/// both costs the longer of the two, not their sum (issue #16). Reading sends only GETs, so a
/// reading whose manifests turn out wrong is simply dropped (the task is aborted with it).
pub struct Observing {
    task: Option<tokio::task::JoinHandle<Result<Observed, ProviderError>>>,
}

impl Observing {
    /// Starts reading the live state of `provider` on `runtime` (said to `talk`), and returns
    /// once the reading runs: its first request is leaving as the caller goes on to load the
    /// manifests.
    pub fn start(
        runtime: &tokio::runtime::Runtime,
        target: &Target,
        provider: &Arc<Provider>,
        talk: &dyn Talk,
    ) -> Observing {
        talk.say(&format!(
            "Reading live state of target `{}`...",
            target.name
        ));
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
        Observing::spawn_on(&tokio::runtime::Handle::current(), provider)
    }

    /// Starts reading on `runtime`, quietly and without waiting.
    pub fn spawn_on(runtime: &tokio::runtime::Handle, provider: &Arc<Provider>) -> Observing {
        let provider = Arc::clone(provider);
        Observing {
            task: Some(runtime.spawn(async move { provider.observe().await })),
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

    /// The reading, once finished, with what it read told to `talk`.
    pub async fn finish(
        self,
        target: &Target,
        provider: &Provider,
        talk: &dyn Talk,
    ) -> anyhow::Result<Observed> {
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
        talk.say(&format!(
            "Read {} live integration{}{unreadable} in {} request{}.",
            observed.integrations.len(),
            plural(observed.integrations.len()),
            provider.request_count(),
            plural(usize::try_from(provider.request_count()).unwrap_or(usize::MAX))
        ));
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

/// Runs `load` while the live state of the target is read ([`Observing`]): the first page
/// request leaves before `load` starts.
pub fn while_observing<T>(
    runtime: &tokio::runtime::Runtime,
    connected: &Connected,
    talk: &dyn Talk,
    load: impl FnOnce() -> T,
) -> (T, Observing) {
    let observing = Observing::start(runtime, &connected.target, &connected.provider, talk);
    (load(), observing)
}

/// The async runtime of one command run: two workers (the machine intsync is measured on has
/// two cores).
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

/// Manifests that cannot be matched to live integrations: no plan.
#[derive(Debug)]
pub struct Unmatched {
    pub errors: Vec<PlanError>,
}

impl Unmatched {
    /// Each error, what can be done about it (for a name several live integrations share:
    /// each of them, with its creation time and whether its client secret is saved), and the
    /// count.
    #[must_use]
    pub fn lines(&self, secrets: &SecretStore) -> Vec<String> {
        let mut lines = Vec::new();
        for error in &self.errors {
            lines.push(format!("error: {error}"));
            lines.extend(candidate_lines(error, secrets));
        }
        lines.push(format!(
            "error: no plan: {} manifest{} cannot be matched to live integrations",
            self.errors.len(),
            plural(self.errors.len())
        ));
        lines
    }
}

/// Plans `desired` against the live state `observing` reads, once the creates an earlier run
/// left in flight were looked for (`leftovers`: reported, or settled by a writer).
pub async fn compute(
    connected: &Connected,
    desired: &[DesiredIntegration],
    observing: Observing,
    secrets: &SecretStore,
    leftovers: Leftovers,
    talk: &dyn Talk,
) -> anyhow::Result<Result<Planned, Unmatched>> {
    let Connected {
        target, provider, ..
    } = connected;
    let observed = observing.finish(target, provider, talk).await?;
    let Looked {
        observed,
        secret_lost,
    } = look_for_leftovers(target, provider, secrets, observed, leftovers, talk).await?;
    Ok(match plan_for(target, desired, &observed) {
        Ok(mut plan) => Ok(Planned {
            plan: {
                crate::vars::seal(&mut plan, desired, target);
                plan
            },
            observed,
            secret_lost,
        }),
        Err(errors) => Err(Unmatched { errors }),
    })
}

/// [`compute`], with the reasons there is no plan told to `talk` (`None` then).
pub async fn compute_or_say(
    connected: &Connected,
    desired: &[DesiredIntegration],
    observing: Observing,
    secrets: &SecretStore,
    leftovers: Leftovers,
    talk: &dyn Talk,
) -> anyhow::Result<Option<Planned>> {
    match compute(connected, desired, observing, secrets, leftovers, talk).await? {
        Ok(planned) => Ok(Some(planned)),
        Err(unmatched) => {
            for line in unmatched.lines(secrets) {
                talk.say(&line);
            }
            Ok(None)
        }
    }
}

/// For a manifest whose name several live integrations share: each of them, with its creation
/// time and whether its client secret is saved, and how to keep one.
fn candidate_lines(error: &PlanError, secrets: &SecretStore) -> Vec<String> {
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
/// repository holding `paths`, for the plan's target as `receivers` load them); without one,
/// every difference is drift.
pub fn classify(
    plan: &mut Plan,
    desired: &[DesiredIntegration],
    baseline: Option<&str>,
    paths: &[PathBuf],
    receivers: &Receivers,
) -> anyhow::Result<()> {
    // The plan's target's own copies: another target's copy of a manifest has its name.
    let desired: Cow<'_, [DesiredIntegration]> =
        if desired.iter().all(|d| d.routing.goes_to(&plan.target)) {
            Cow::Borrowed(desired)
        } else {
            desired
                .iter()
                .filter(|d| d.routing.goes_to(&plan.target))
                .cloned()
                .collect()
        };
    let desired = &*desired;
    match baseline {
        Some(rev) => {
            let receivers = receivers.clone().only(&[&plan.target]);
            let mut then = crate::baseline::desired_at(rev, paths, &receivers)
                .with_context(|| format!("cannot read the manifests at --baseline `{rev}`"))?;
            then.retain(|d| d.routing.goes_to(&plan.target));
            let index = intsync_plan::drift::Baseline::new(&then);
            intsync_plan::drift::classify(plan, desired, Some(&index));
        }
        None => intsync_plan::drift::classify(plan, desired, None),
    }
    Ok(())
}

/// The manifests under `paths`, planned against `connected`'s target, reporting (not
/// settling) creates an earlier run left in flight. `None` when the manifests or their
/// identities are wrong (told to `talk`).
pub fn load_and_plan(
    runtime: &tokio::runtime::Runtime,
    connected: &Connected,
    paths: &[PathBuf],
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> anyhow::Result<Option<(Vec<DesiredIntegration>, Planned)>> {
    let (desired, observing) = while_observing(runtime, connected, talk, || {
        connected.load_desired(paths, talk)
    });
    let Some(desired) = desired else {
        return Ok(None);
    };
    let planned = runtime.block_on(compute_or_say(
        connected,
        &desired,
        observing,
        secrets,
        Leftovers::Report,
        talk,
    ))?;
    Ok(planned.map(|planned| (desired, planned)))
}

/// A plan file written by `plan --out`, for `target`.
pub fn read_saved_plan(file: &Path, target: &str) -> anyhow::Result<Plan> {
    let saved = read_plan_document(file, &read_plan_text(file)?)?;
    check_saved_target(file, &saved, target)?;
    Ok(saved)
}

/// Refuses `saved` (read from `file`) unless it was planned for `target`.
pub fn check_saved_target(file: &Path, saved: &Plan, target: &str) -> anyhow::Result<()> {
    if saved.target != target {
        anyhow::bail!(
            "`{}` was planned for target `{}`, not `{target}`; pass --target {}",
            file.display(),
            saved.target,
            saved.target
        );
    }
    Ok(())
}

/// A plan file as `plan --out` writes it: one target's plan document, or the envelope of
/// several targets' (design §11).
pub enum Saved {
    One(Plan),
    Several(Vec<Plan>),
}

/// Reads `file`, either form ([`Saved`]).
pub fn read_saved_plans(file: &Path) -> anyhow::Result<Saved> {
    #[derive(serde::Deserialize)]
    struct Probe {
        kind: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        format_version: u32,
        plans: Vec<Plan>,
    }
    let text = read_plan_text(file)?;
    let probe: Option<Probe> = serde_json::from_str(&text).ok();
    if probe.and_then(|p| p.kind).as_deref() != Some(intsync_plan::render::ENVELOPE_KIND) {
        return Ok(Saved::One(read_plan_document(file, &text)?));
    }
    let envelope: Envelope = serde_json::from_str(&text)
        .with_context(|| format!("`{}` is not an envelope of intsync plans", file.display()))?;
    check_format(file, envelope.format_version)?;
    for plan in &envelope.plans {
        check_format(file, plan.format_version)?;
    }
    Ok(Saved::Several(envelope.plans))
}

fn read_plan_text(file: &Path) -> anyhow::Result<String> {
    fs_err::read_to_string(file)
        .with_context(|| format!("cannot read the saved plan `{}`", file.display()))
}

fn read_plan_document(file: &Path, text: &str) -> anyhow::Result<Plan> {
    let saved: Plan = serde_json::from_str(text)
        .with_context(|| format!("`{}` is not an intsync plan", file.display()))?;
    check_format(file, saved.format_version)?;
    Ok(saved)
}

fn check_format(file: &Path, format_version: u32) -> anyhow::Result<()> {
    if format_version != 1 {
        anyhow::bail!(
            "`{}` has plan format {format_version}; this intsync reads format 1",
            file.display(),
        );
    }
    Ok(())
}

/// Writes `plan` as JSON to `path`, whole or not at all.
pub fn write_plan_file(plan: &Plan, path: &Path) -> anyhow::Result<()> {
    write_json(path, &intsync_plan::render::json(plan))
}

/// Writes the envelope of several targets' `plans` as JSON to `path`, whole or not at all.
pub fn write_plans_file(plans: &[&Plan], path: &Path) -> anyhow::Result<()> {
    write_json(path, &intsync_plan::render::json_envelope(plans))
}

fn write_json(path: &Path, json: &str) -> anyhow::Result<()> {
    crate::files::write_atomically(path, json.as_bytes())
        .with_context(|| format!("cannot write the plan to `{}`", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quiet;

    fn local() -> (tempfile::TempDir, Connected) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse("", &dir.path().join("intsync.toml")).unwrap();
        let connected = Connected::open(&config, None).unwrap();
        (dir, connected)
    }

    /// The first page request is sent before the manifests start loading: a loader that waits
    /// for it would wait forever (here: fail after 20 s) if reading began only after loading.
    #[test]
    fn live_state_is_read_while_the_manifests_load() {
        let (_dir, connected) = local();
        let runtime = runtime().unwrap();
        let provider = Arc::clone(&connected.provider);
        let (seen, observing) = while_observing(&runtime, &connected, &Quiet, || {
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
            .block_on(observing.finish(&connected.target, &provider, &Quiet))
            .unwrap();
        assert!(observed.integrations.is_empty());
    }

    /// Manifests that turn out wrong drop the reading under way: nothing is left running.
    #[test]
    fn a_dropped_reading_is_aborted() {
        let (_dir, connected) = local();
        let runtime = runtime().unwrap();
        let observing = Observing::start(&runtime, &connected.target, &connected.provider, &Quiet);
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

    /// `toml` as the configuration of a fresh directory.
    fn configured(toml: &str) -> (tempfile::TempDir, Config) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse(toml, &dir.path().join("intsync.toml")).unwrap();
        (dir, config)
    }

    /// A target gets the desired integrations of the kinds it serves (borrowed when that is
    /// all of them); the others are listed as skipped in its plan, in manifest order.
    #[test]
    fn a_target_gets_its_kinds_and_its_plan_lists_the_rest_as_skipped() {
        let (_dir, config) = configured(
            "[targets.crm]\nprovider = \"truto\"\nbase_url = \"https://api.truto.one\"\ntoken_env = \"T\"\n",
        );
        let want = |kind, name: &str, manifest: &str| {
            let spec = intsync_plan::testing::creatable(kind, serde_json::json!({"name": name}));
            DesiredIntegration {
                kind,
                id: None,
                spec: spec.as_object().unwrap().clone().into(),
                manifest: manifest.to_owned(),
                origin: intsync_manifest::Origin::default(),
                routing: Default::default(),
            }
        };
        use intsync_manifest::Kind::{AdaPlatformIntegration as Ada, TrutoIntegration as Truto};
        let desired = vec![
            want(Ada, "Shop", "a.yaml"),
            want(Truto, "crm", "t.yaml"),
            want(Ada, "Desk", "b.yaml"),
        ];
        let crm = &config.targets["crm"];
        let share = desired_for(crm, &desired);
        let received: Vec<&str> = share.received.iter().map(|d| d.manifest.as_str()).collect();
        assert_eq!(received, ["t.yaml"]);
        let local = &config.targets["local"];
        assert!(matches!(
            desired_for(local, &desired).received,
            Cow::Borrowed(_)
        ));
        let observed = Observed {
            kinds: vec![Truto],
            ..Observed::default()
        };
        let plan = plan_for(crm, &desired, &observed).unwrap();
        let skipped: Vec<&str> = plan.skipped.iter().map(|s| s.manifest.as_str()).collect();
        assert_eq!(skipped, ["a.yaml", "b.yaml"]);
        assert_eq!(plan.summary.create, 1);
    }

    /// Two targets of one configuration plan at once on one runtime, each from its own live
    /// state: nothing is shared between them but the runtime.
    #[test]
    fn two_targets_plan_at_once_each_from_its_own_state() {
        let (dir, config) = configured(
            "[targets.a]\nprovider = \"local\"\nstate = \"a.json\"\n[targets.b]\nprovider = \"local\"\nstate = \"b.json\"\n",
        );
        let a = Connected::open(&config, Some("a")).unwrap();
        let b = Connected::open(&config, Some("b")).unwrap();
        let kind = intsync_manifest::Kind::TrutoIntegration;
        let spec = intsync_plan::testing::creatable(kind, serde_json::json!({"name": "Shared"}));
        let desired = vec![DesiredIntegration {
            kind,
            id: None,
            spec: spec.as_object().unwrap().clone().into(),
            manifest: "shared.yaml".to_owned(),
            origin: intsync_manifest::Origin::default(),
            routing: Default::default(),
        }];
        let runtime = runtime().unwrap();
        // Only `a` has it live.
        runtime
            .block_on(a.provider.create(
                kind,
                spec.as_object().unwrap(),
                &intsync_provider::Stop::new(),
            ))
            .unwrap();
        let secrets = SecretStore::new(dir.path().join("secrets"));
        let reading_a = Observing::spawn_on(runtime.handle(), &a.provider);
        let reading_b = Observing::spawn_on(runtime.handle(), &b.provider);
        let (plan_a, plan_b) = runtime.block_on(async {
            tokio::join!(
                compute(&a, &desired, reading_a, &secrets, Leftovers::Report, &Quiet),
                compute(&b, &desired, reading_b, &secrets, Leftovers::Report, &Quiet)
            )
        });
        let (plan_a, plan_b) = (plan_a.unwrap().unwrap().plan, plan_b.unwrap().unwrap().plan);
        assert_eq!((plan_a.target.as_str(), plan_b.target.as_str()), ("a", "b"));
        assert!(!plan_a.has_changes, "a has it: {:?}", plan_a.actions);
        assert!(
            matches!(
                plan_b.actions.as_slice(),
                [intsync_plan::Action::Create { .. }]
            ),
            "b creates it: {:?}",
            plan_b.actions
        );
    }
}
