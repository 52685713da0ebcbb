//! The between-runs promises as the commands meet them (design §12): one writer per target
//! (`intsync_apply::lock`), and the creates an earlier run left in flight
//! (`intsync_apply::intents`), reported by every command that reads live state and settled by
//! the writers. The rules are the library's; this is where they are said.

use std::time::{Duration, UNIX_EPOCH};

use intsync_apply::intents::{self, LeftSecret, Leftover};
use intsync_apply::{Holder, LockError, SecretStore, TargetLock};
use intsync_plan::Observed;
use intsync_plan::inert::visible;
use intsync_provider::Provider;

use crate::Talk;
use crate::config::Target;

/// `2026-12-02T10:00:00.000Z`.
pub fn timestamp(ms: u64) -> String {
    intsync_emulator::ids::truto_timestamp(UNIX_EPOCH + Duration::from_millis(ms))
}

/// `pid 123 on host x (`apply`, since ...)`.
pub fn holder_text(holder: &Holder) -> String {
    format!(
        "pid {} on {} (`intsync {}`, since {})",
        holder.pid,
        visible(&holder.host),
        visible(&holder.command),
        timestamp(holder.since_ms)
    )
}

/// Takes target `target`'s writer lock for `command`, waiting up to `timeout` (said to `talk`).
/// The error says who holds it and what to do.
pub async fn take_lock(
    target: &Target,
    command: &str,
    timeout: Duration,
    talk: &dyn Talk,
) -> anyhow::Result<TargetLock> {
    let me = Holder::this_process(command);
    let locked =
        intsync_apply::lock::acquire(&target.state_dir, &target.name, &me, timeout, |holder| {
            talk.say(&format!(
                "Waiting up to {} for the lock of target `{}`, held by {}...",
                humane(timeout),
                target.name,
                holder.map_or_else(|| "another intsync".to_owned(), holder_text)
            ));
        })
        .await;
    match locked {
        Ok(lock) => Ok(lock),
        Err(LockError::Held { holder, waited, .. }) => {
            let who = holder
                .as_ref()
                .map_or_else(|| "another intsync process".to_owned(), holder_text);
            let waited = if timeout.is_zero() {
                "pass --lock-timeout 5m to wait for it".to_owned()
            } else {
                format!("waited {}", humane(waited))
            };
            anyhow::bail!(
                "target `{}` is being written by {who}; nothing was done ({waited}). One writer at a time: two would each create what the other creates. The lock ends with that process, however it ends.",
                target.name
            )
        }
        Err(error @ LockError::Io { .. }) => Err(error.into()),
    }
}

/// `30 s`, `5 min`, `250 ms`.
fn humane(d: Duration) -> String {
    match d.as_millis() {
        ms if ms < 1000 => format!("{ms} ms"),
        ms if ms % 60_000 == 0 => format!("{} min", ms / 60_000),
        ms => format!("{:.0} s", ms as f64 / 1000.0),
    }
}

/// Whether the command settles what it finds (a writer holding the lock: waits for creates
/// that may still land, reports, removes the records) or only reports it (a reader).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leftovers {
    Report,
    Settle,
}

/// What [`look_for_leftovers`] found: the live state to plan from, and whether a client secret
/// was lost with a create left in flight (a writer then fails, as the run that lost it would
/// have).
pub struct Looked {
    pub observed: Observed,
    pub secret_lost: bool,
}

/// Looks for the creates earlier runs left in flight on `target`, against `observed`, tells
/// `talk` what became of each, and (for a writer) settles them.
pub async fn look_for_leftovers(
    target: &Target,
    provider: &Provider,
    secrets: &SecretStore,
    observed: Observed,
    policy: Leftovers,
    talk: &dyn Talk,
) -> anyhow::Result<Looked> {
    let records = target.intents();
    let (observed, leftovers) = match policy {
        Leftovers::Report => {
            let running = intsync_apply::lock::current_holder(&target.state_dir);
            let leftovers = intents::leftovers_now(
                &records,
                secrets,
                &observed,
                running.as_ref(),
                provider.outcome_grace(),
            )?;
            (observed, leftovers)
        }
        Leftovers::Settle => {
            intents::settle_leftovers(provider, &records, secrets, observed, |wait, n| {
                talk.say(&format!(
                    "Waiting {} before planning: {n} create{} an earlier run left in flight {} not live yet and may still land.",
                    humane(wait),
                    crate::plural(n),
                    if n == 1 { "is" } else { "are" }
                ));
            })
            .await?
        }
    };
    for leftover in &leftovers {
        talk.say(&leftover_line(leftover, policy));
    }
    if policy == Leftovers::Settle {
        for (path, error) in intents::clear_reported(&records, &leftovers) {
            talk.say(&format!(
                "warning: cannot remove `{}` ({error}); the next run reports it again",
                path.display()
            ));
        }
    }
    let secret_lost = leftovers.iter().any(Leftover::secret_lost);
    Ok(Looked {
        observed,
        secret_lost,
    })
}

/// One create left in flight, in words: what it was, what became of it, what to do.
pub fn leftover_line(leftover: &Leftover, policy: Leftovers) -> String {
    let what = |intent: &intents::Intent| {
        format!(
            "{} {:?}{} (sent {} by pid {} on {})",
            intent.kind,
            intent.name,
            intent
                .manifest
                .as_deref()
                .map(|m| format!(" of {m:?}"))
                .unwrap_or_default(),
            timestamp(intent.sent_ms),
            intent.pid,
            visible(&intent.host)
        )
    };
    let stopped = "a run stopped while creating";
    match leftover {
        Leftover::Live {
            intent,
            id,
            created,
            secret,
            ..
        } => {
            let created = created
                .as_deref()
                .map(|c| format!(", created {c:?}"))
                .unwrap_or_default();
            match secret {
                LeftSecret::Lost => format!(
                    "error: {stopped} {}: it was created (id {id:?}{created}) and is managed like any other now, but its client secret was in an answer no run read: it is lost. Rotate it in Ada's dashboard (the integration's settings), then store the new one.",
                    what(intent)
                ),
                LeftSecret::Saved(path) => format!(
                    "note: {stopped} {}: it was created (id {id:?}{created}) and its client secret was saved to {}.",
                    what(intent),
                    path.display()
                ),
                LeftSecret::NoneIssued => format!(
                    "note: {stopped} {}: it was created (id {id:?}{created}) and is managed like any other now.",
                    what(intent)
                ),
            }
        }
        Leftover::Several { intent, ids, .. } => format!(
            "error: {stopped} {}: {} live integrations now have that name ({}): it may have been created more than once. Keep one and pin it with metadata.id in its manifest; the other ids' client secrets were never saved.",
            what(intent),
            ids.len(),
            ids.iter()
                .map(|(id, created)| match created {
                    Some(c) => format!("{id:?} created {c:?}"),
                    None => format!("{id:?}"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Leftover::NotLive {
            intent,
            may_still_land: false,
            ..
        } => format!(
            "note: {stopped} {}: it is not live, so it never landed{}.",
            what(intent),
            if policy == Leftovers::Settle {
                "; the plan creates it"
            } else {
                ""
            }
        ),
        Leftover::NotLive { intent, .. } => format!(
            "note: {stopped} {}: it is not live yet and may still land; run `intsync plan` again in a minute (`intsync apply` waits for it).",
            what(intent)
        ),
        Leftover::InFlight { intent, .. } => format!(
            "note: the intsync writing to this target now is creating {}.",
            what(intent)
        ),
        Leftover::Unreadable { recorded, reason } => format!(
            "warning: `{}` records a create an earlier run had in flight, but cannot be read ({}); look for that integration live, then remove the file.",
            recorded.path.display(),
            visible(&reason.to_string())
        ),
    }
}
