//! `apply`'s run around the engine (design §8): the plan it writes (a saved one re-checked
//! against live state, or one made now), then the writes through `intsync_apply::engine`,
//! whose policy (blocked, secrets, verification, interruption) is not repeated here.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use intsync_apply::{Outcome, Report, SecretStore, Status, Stores, engine};
use intsync_plan::{Action, DesiredIntegration, Observed, Plan};

use crate::Talk;
use crate::Verdict;
use crate::control::Control;
use crate::pipeline::{Connected, Observing, compute_or_say};
use crate::writer::{Leftovers, look_for_leftovers};

/// What `apply` writes from.
pub enum Source {
    /// A plan `plan --out` saved: re-checked against live state, written only if it still holds.
    Saved(Plan),
    /// The manifests, loaded (while live state was read): planned now.
    Manifests(Vec<DesiredIntegration>, Observing),
}

/// A plan to write, and what it was made from.
pub struct Ready {
    pub plan: Plan,
    pub observed: Observed,
    /// The manifests (`None` for a saved plan: verification checks what it wrote).
    pub desired: Option<Vec<DesiredIntegration>>,
    /// A create an earlier run left in flight turned out created with its client secret lost:
    /// this run fails once it said so.
    pub secret_lost: bool,
}

/// The plan `source` gives, from live state read once the creates an earlier run left in flight
/// were settled. `Err` with the verdict when there is none: the manifests cannot be matched
/// (said), or live state moved since a saved plan was made (said, `Stale`).
pub async fn ready(
    connected: &Connected,
    source: Source,
    secrets: &SecretStore,
    talk: &dyn Talk,
) -> anyhow::Result<Result<Ready, Verdict>> {
    let Connected {
        target, provider, ..
    } = connected;
    match source {
        Source::Saved(mut saved) => {
            // Sensitive values were saved as a var and a hash: resolved again, or stale.
            if let Err(unsealed) = crate::vars::unseal(&mut saved, target) {
                talk.say(&format!(
                    "error: {}; nothing was written.",
                    intsync_plan::inert::visible(&unsealed.to_string())
                ));
                return Ok(Err(match unsealed {
                    crate::vars::Unsealed::Changed { .. } => {
                        talk.say("Run `intsync plan` again and review the new plan.");
                        Verdict::Stale
                    }
                    crate::vars::Unsealed::Missing { .. } => Verdict::Failed,
                }));
            }
            let observed = provider.observe().await.with_context(|| {
                format!(
                    "cannot read the live integrations of target `{}`",
                    target.name
                )
            })?;
            let looked =
                look_for_leftovers(target, provider, secrets, observed, Leftovers::Settle, talk)
                    .await?;
            match engine::recheck(saved, &looked.observed) {
                Ok(plan) => Ok(Ok(Ready {
                    plan,
                    observed: looked.observed,
                    desired: None,
                    secret_lost: looked.secret_lost,
                })),
                Err(moved) => {
                    talk.say(
                        "error: live state moved since the plan was made; nothing was written:",
                    );
                    for line in &moved {
                        // Names, ids and reasons come from the vendor.
                        talk.say(&format!(
                            "  - {}",
                            intsync_plan::inert::visible(&line.to_string())
                        ));
                    }
                    talk.say("Run `intsync plan` again and review the new plan.");
                    Ok(Err(Verdict::Stale))
                }
            }
        }
        Source::Manifests(desired, observing) => {
            let planned = compute_or_say(
                connected,
                &desired,
                observing,
                secrets,
                Leftovers::Settle,
                talk,
            )
            .await?;
            Ok(match planned {
                Some(planned) => Ok(Ready {
                    plan: planned.plan,
                    observed: planned.observed,
                    // Verified against the target's own copies: another target's copy of a
                    // manifest claims the same integration by name.
                    desired: Some(crate::pipeline::for_target(&connected.target, desired)),
                    secret_lost: planned.secret_lost,
                }),
                None => Err(Verdict::Failed),
            })
        }
    }
}

/// Writes `batch` of `ready`'s plan through the engine, `parallelism` at once, secrets saved
/// under `secrets_dir`, until `control` is asked to stop; `done` is called as each write ends.
/// The engine borrows `ready`'s manifests and live state (to verify from).
pub async fn write(
    connected: &Connected,
    batch: engine::Batch,
    ready: &Ready,
    parallelism: usize,
    secrets_dir: PathBuf,
    control: &Control,
    done: impl FnMut(&Action, &Outcome),
) -> Report {
    let intents = connected.target.intents();
    let _writing = control.writing_creates(&intents);
    let options = intsync_apply::Options {
        parallelism,
        stores: Stores {
            secrets: SecretStore::new(secrets_dir),
            intents,
        },
        stop: control.stop(),
        desired: ready.desired.as_deref(),
        observed: Some(&ready.observed),
    };
    engine::execute(Arc::clone(&connected.provider), batch, &options, done).await
}

/// The verdict of an apply's report.
#[must_use]
pub fn verdict(report: &Report) -> Verdict {
    match report.status() {
        Status::Ok => Verdict::Ok,
        Status::Stopped(reason) => Verdict::Stopped(reason),
        Status::Stale => Verdict::Stale,
        Status::Failed => Verdict::Failed,
    }
}
