//! Several targets in one run (design §11, issue #24): each connected, its live state read
//! while the manifests load once, then each planned (and written) at once on the one runtime.
//! A target that fails (it cannot connect or be read, its manifests cannot be matched) is
//! reported as failed and the others go on; their verdicts fold into one ([`Verdict::fold`]).

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use intsync_apply::{Outcome, Report, SecretStore, TargetLock, engine};
use intsync_plan::{Action, DesiredIntegration};

use crate::apply::{Ready, Source};
use crate::config::{Config, Selection};
use crate::control::Control;
use crate::pipeline::{Connected, Observing, Planned, compute, load_desired};
use crate::writer::{Leftovers, take_lock};
use crate::{About, Talk, Verdict};

/// One selected target and how its part of the run went.
pub struct Each<T> {
    pub target: String,
    pub outcome: Result<T, Failure>,
}

/// Why a target's part of the run stopped: its verdict and what to say of it.
#[derive(Debug, Clone)]
pub struct Failure {
    pub verdict: Verdict,
    /// Whole lines, secrets scrubbed; names and values from vendors are not yet inert.
    pub lines: Vec<String>,
}

impl Failure {
    /// A failure (exit 1) for `error`, its secrets scrubbed.
    #[must_use]
    pub fn of(error: &anyhow::Error) -> Failure {
        Failure {
            verdict: Verdict::Failed,
            lines: vec![format!(
                "error: {}",
                intsync_provider::redact(&format!("{error:#}"))
            )],
        }
    }
}

/// Runs `step` on every target still going, all at once; a failed target stays as it was.
pub async fn each<T, U, Fut>(all: Vec<Each<T>>, step: impl Fn(String, T) -> Fut) -> Vec<Each<U>>
where
    Fut: Future<Output = Result<U, Failure>>,
{
    let step = &step;
    let steps = all.into_iter().map(|Each { target, outcome }| async move {
        let outcome = match outcome {
            Ok(value) => step(target.clone(), value).await,
            Err(failure) => Err(failure),
        };
        Each { target, outcome }
    });
    futures_util::future::join_all(steps).await
}

/// The targets `selection` picks, in its order, each connected (a target that cannot be,
/// e.g. its token variable unset, is failed). An unknown name fails the whole run.
pub fn connect(config: &Config, selection: &Selection) -> anyhow::Result<Vec<Each<Connected>>> {
    let targets = config.select(selection)?;
    let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
    let receivers = Arc::new(config.receivers().only(&names));
    // Targets of one API and token share one rate limiter and retry budget.
    let connections = crate::config::Connections::new(&targets)?;
    Ok(targets
        .into_iter()
        .map(|target| Each {
            target: target.name.clone(),
            outcome: Connected::through(&connections, target, &receivers)
                .map_err(|error| Failure::of(&error)),
        })
        .collect())
}

/// Takes every target's writer lock (waiting up to `timeout` for each, at once): a target
/// whose lock is held elsewhere is failed. The locks are held until they are dropped.
pub async fn lock(
    all: Vec<Each<Connected>>,
    command: &str,
    timeout: Duration,
    talk: &dyn Talk,
) -> (Vec<Each<Connected>>, Vec<TargetLock>) {
    let locked = each(all, |name, connected| async move {
        let talk = About {
            target: &name,
            talk,
        };
        match take_lock(&connected.target, command, timeout, &talk).await {
            Ok(lock) => Ok((connected, lock)),
            Err(error) => Err(Failure::of(&error)),
        }
    })
    .await;
    let mut locks = Vec::new();
    let all = locked
        .into_iter()
        .map(|Each { target, outcome }| Each {
            target,
            outcome: outcome.map(|(connected, lock)| {
                locks.push(lock);
                connected
            }),
        })
        .collect();
    (all, locks)
}

/// A target connected, its live state being read.
pub type Reading = (Connected, Observing);

/// The manifests, and each target's plan of what it gets of them.
pub type Plans = (Vec<DesiredIntegration>, Vec<Each<Planned>>);

/// Starts reading every target's live state, then loads the manifests under `paths` once
/// while they are read. `None` when the manifests are wrong (told to `talk`).
pub fn read_while_loading(
    runtime: &tokio::runtime::Runtime,
    all: Vec<Each<Connected>>,
    paths: &[PathBuf],
    talk: &dyn Talk,
) -> Option<(Vec<DesiredIntegration>, Vec<Each<Reading>>)> {
    // Every connected target holds the configuration's targets; with none connected, each
    // target has failed already and there is nothing to load the manifests for.
    let receivers = all
        .iter()
        .find_map(|each| each.outcome.as_ref().ok())
        .map(|connected| Arc::clone(&connected.receivers));
    let reading = all
        .into_iter()
        .map(|Each { target, outcome }| Each {
            target,
            outcome: outcome.map(|connected| {
                let observing =
                    Observing::start(runtime, &connected.target, &connected.provider, talk);
                (connected, observing)
            }),
        })
        .collect();
    let desired = match receivers {
        Some(receivers) => load_desired(paths, &receivers, talk)?,
        None => Vec::new(),
    };
    Some((desired, reading))
}

/// Each target's plan of what it gets of `desired`, all at once, reporting (not settling)
/// creates an earlier run left in flight.
pub async fn plan(
    reading: Vec<Each<Reading>>,
    desired: &[DesiredIntegration],
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> Vec<Each<Planned>> {
    each(reading, |name, (connected, observing)| async move {
        let talk = About {
            target: &name,
            talk,
        };
        let leftovers = Leftovers::Report;
        match compute(&connected, desired, observing, secrets, leftovers, &talk).await {
            Ok(Ok(planned)) => Ok(planned),
            Ok(Err(unmatched)) => Err(Failure {
                verdict: Verdict::Failed,
                lines: unmatched.lines(secrets),
            }),
            Err(error) => Err(Failure::of(&error)),
        }
    })
    .await
}

/// The manifests under `paths` planned against each target `selection` picks, at once.
/// `None` when the manifests are wrong (told to `talk`).
pub fn load_and_plan(
    runtime: &tokio::runtime::Runtime,
    config: &Config,
    selection: &Selection,
    paths: &[PathBuf],
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> anyhow::Result<Option<Plans>> {
    let all = connect(config, selection)?;
    let Some((desired, reading)) = read_while_loading(runtime, all, paths, talk) else {
        return Ok(None);
    };
    let planned = runtime.block_on(plan(reading, &desired, secrets, talk));
    Ok(Some((desired, planned)))
}

/// Each target's plan to write, from its `Source`, all at once (`crate::apply::ready`).
pub async fn ready(
    sources: Vec<Each<(Connected, Source)>>,
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> Vec<Each<(Connected, Ready)>> {
    each(sources, |name, (connected, source)| async move {
        let talk = About {
            target: &name,
            talk,
        };
        match crate::apply::ready(&connected, source, secrets, &talk).await {
            Ok(Ok(ready)) => Ok((connected, ready)),
            Ok(Err(verdict)) => Err(Failure {
                verdict,
                lines: vec!["error: no plan to write (said above); nothing was written".to_owned()],
            }),
            Err(error) => Err(Failure::of(&error)),
        }
    })
    .await
}

/// One target's writes: its batch, and the plan it comes from.
pub struct Writes {
    pub connected: Connected,
    pub batch: engine::Batch,
    pub ready: Ready,
}

/// Every target's writes through the engine (`crate::apply::write`), targets at once, each
/// `parallelism` at once; `done` is told each write's end with its target's name.
pub async fn write(
    all: Vec<Each<Writes>>,
    parallelism: usize,
    secrets_dir: &std::path::Path,
    control: &Control,
    done: &(dyn Fn(&str, &Action, &Outcome) + Sync),
) -> Vec<Each<(Writes, Report)>> {
    each(all, |name, writes| async move {
        let report = crate::apply::write(
            &writes.connected,
            writes.batch.clone(),
            &writes.ready,
            parallelism,
            secrets_dir.to_owned(),
            control,
            |action, outcome| done(&name, action, outcome),
        )
        .await;
        Ok((writes, report))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Quiet;

    fn config(dir: &std::path::Path) -> Config {
        Config::parse(
            "[targets.a]\nprovider = \"local\"\nstate = \"a.json\"\n[targets.b]\nprovider = \"ada\"\nbase_url = \"http://127.0.0.1:9\"\ntoken_env = \"INTSYNC_TEST_SURELY_UNSET_TOKEN\"\n",
            &dir.join("intsync.toml"),
        )
        .unwrap()
    }

    /// A target that cannot connect is failed; the other is planned all the same.
    #[test]
    fn one_target_failing_does_not_stop_the_other() {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path());
        let runtime = crate::pipeline::runtime().unwrap();
        let secrets = SecretStore::new(dir.path().join("secrets"));
        let selection = Selection::Named(vec!["b".to_owned(), "a".to_owned()]);
        let (_, planned) = load_and_plan(&runtime, &config, &selection, &[], &secrets, &Quiet)
            .unwrap()
            .unwrap();
        let names: Vec<&str> = planned.iter().map(|e| e.target.as_str()).collect();
        assert_eq!(names, ["b", "a"]);
        let failure = planned[0].outcome.as_ref().err().expect("b fails");
        assert_eq!(failure.verdict, Verdict::Failed);
        assert!(
            failure.lines[0].contains("INTSYNC_TEST_SURELY_UNSET_TOKEN"),
            "{:?}",
            failure.lines
        );
        let plan = &planned[1].outcome.as_ref().expect("a plans").plan;
        assert_eq!(plan.target, "a");
    }
}
