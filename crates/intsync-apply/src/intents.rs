//! Creates in flight, on disk (design §12): before a create is sent, a record naming it is
//! written and synced into `<target dir>/intents/`; it is removed once the create's outcome is
//! settled and reported (its secret saved, or its failure said). A record still there when a
//! later run starts is a create whose run ended without knowing how it went (a second Ctrl-C,
//! SIGKILL, a runner thrown away, a power cut): that run looks for the integration live,
//! adopts it, and says whether its client secret was saved ([`resolve`]).
//!
//! # Guarantees
//!
//! - A create is never sent before its record is durable (written, `fsync`'d, renamed into
//!   place, directory `fsync`'d): no crash after the POST left can leave it unrecorded.
//! - A record appears whole or not at all (rename), and is removed only after its outcome was
//!   reported; one whose outcome stayed unknown (no answer and not found in live state) is kept.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use intsync_manifest::Kind;
use intsync_plan::{Observed, ObservedIntegration};
use serde::{Deserialize, Serialize};

use crate::lock::{Holder, host_name, unix_ms};
use crate::secrets::{SecretStore, sync_dir};

/// One create, as recorded before it was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub kind: Kind,
    /// The integration's `name` (what a create is found by in live state).
    pub name: String,
    /// The manifest it was planned from (`None` for a saved plan's create without one).
    pub manifest: Option<String>,
    pub pid: u32,
    pub host: String,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub sent_ms: u64,
}

/// Why a create could not be recorded (so it was not sent).
#[derive(Debug, thiserror::Error)]
#[error("cannot record the create in `{}` before sending it: {source}", path.display())]
pub struct IntentError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// The intent records of one target.
#[derive(Debug, Clone)]
pub struct Intents {
    dir: PathBuf,
    /// This process's creates in flight, for the line a second Ctrl-C prints.
    in_flight: Arc<Mutex<Vec<(u64, Intent)>>>,
    next: Arc<AtomicU64>,
}

/// A create recorded and (about to be) sent: [`Pending::settled`] once its outcome is known and
/// reported; dropped without it, the record stays for a later run to resolve.
#[derive(Debug)]
pub struct Pending {
    path: PathBuf,
    key: u64,
    in_flight: Arc<Mutex<Vec<(u64, Intent)>>>,
}

impl Pending {
    /// The outcome is known and reported: the record goes.
    pub fn settled(self) {
        if let Err(error) = std::fs::remove_file(&self.path) {
            // A record left behind is only reported again by the next run, which finds it
            // settled (live, secret saved) and removes it.
            tracing::warn!(target: "intsync::apply", path = %self.path.display(), %error, "cannot remove a settled create record");
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        lock(&self.in_flight).retain(|(key, _)| *key != self.key);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A record found on disk: its file, and what it says (or why it cannot be read).
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: PathBuf,
    pub intent: Result<Intent, RecordError>,
}

/// Why a record of a create in flight cannot be read (the cause's own words inside).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The file cannot be read.
    #[error("{0}")]
    Read(String),
    /// Its text is not a record's JSON.
    #[error("{0}")]
    Json(String),
}

impl Intents {
    /// The records under `dir` (`<target dir>/intents`).
    pub fn new(dir: impl Into<PathBuf>) -> Intents {
        Intents {
            dir: dir.into(),
            in_flight: Arc::default(),
            next: Arc::default(),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records a create durably before it is sent.
    pub fn begin(
        &self,
        kind: Kind,
        name: &str,
        manifest: Option<&str>,
    ) -> Result<Pending, IntentError> {
        let intent = Intent {
            kind,
            name: name.to_owned(),
            manifest: manifest.map(str::to_owned),
            pid: std::process::id(),
            host: host_name(),
            sent_ms: unix_ms(SystemTime::now()),
        };
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let stem = format!("{}-{}-{key}", intent.sent_ms, intent.pid);
        let path = self.dir.join(format!("{stem}.json"));
        let temp = self.dir.join(format!(".{stem}.tmp"));
        let error = |path: &Path| {
            let path = path.to_owned();
            move |source| IntentError { path, source }
        };
        std::fs::create_dir_all(&self.dir).map_err(error(&self.dir))?;
        let text = serde_json::to_string(&intent).unwrap_or_default();
        let written = (|| {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(error(&temp)(e));
        }
        if let Err(e) = std::fs::rename(&temp, &path) {
            let _ = std::fs::remove_file(&temp);
            return Err(error(&path)(e));
        }
        sync_dir(&self.dir).map_err(error(&self.dir))?;
        lock(&self.in_flight).push((key, intent));
        Ok(Pending {
            path,
            key,
            in_flight: Arc::clone(&self.in_flight),
        })
    }

    /// This process's creates in flight now.
    pub fn in_flight(&self) -> Vec<Intent> {
        lock(&self.in_flight)
            .iter()
            .map(|(_, intent)| intent.clone())
            .collect()
    }

    /// Every record on disk, oldest first (earlier runs', or a running writer's).
    pub fn recorded(&self) -> Result<Vec<Recorded>, IntentError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(IntentError {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| IntentError {
                path: self.dir.clone(),
                source,
            })?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue; // a temporary file: its create was never sent
            }
            let intent = std::fs::read_to_string(&path)
                .map_err(|e| RecordError::Read(e.to_string()))
                .and_then(|text| {
                    serde_json::from_str(&text).map_err(|e| RecordError::Json(e.to_string()))
                });
            found.push(Recorded { path, intent });
        }
        found.sort_by_key(|r| {
            (
                r.intent.as_ref().map(|i| i.sent_ms).unwrap_or(0),
                r.path.clone(),
            )
        });
        Ok(found)
    }

    /// Removes the record of a left-over create once it was reported.
    pub fn clear(&self, recorded: &Recorded) -> std::io::Result<()> {
        match std::fs::remove_file(&recorded.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

/// What became of a client secret of a create left in flight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeftSecret {
    /// Saved before the run ended (it ended between saving and removing the record).
    Saved(PathBuf),
    /// The vendor issues none (Truto).
    NoneIssued,
    /// It was in an answer no run read: lost; rotate it.
    Lost,
}

/// A create a stopped run left in flight, as live state shows it now.
#[derive(Debug, Clone)]
pub enum Leftover {
    /// It exists: adopted (the plan matches it by name like any other).
    Live {
        recorded: Recorded,
        intent: Intent,
        id: String,
        created: Option<String>,
        secret: LeftSecret,
    },
    /// Several live integrations have its name (it may have been created more than once).
    Several {
        recorded: Recorded,
        intent: Intent,
        ids: Vec<(String, Option<String>)>,
    },
    /// Not live. `may_still_land`: it was sent less than the grace window ago, so the server
    /// may still be working on it.
    NotLive {
        recorded: Recorded,
        intent: Intent,
        may_still_land: bool,
    },
    /// A writer that is running now has it in flight: not left over.
    InFlight { recorded: Recorded, intent: Intent },
    /// The record cannot be read (why); it is kept for a person to look at.
    Unreadable {
        recorded: Recorded,
        reason: RecordError,
    },
}

impl Leftover {
    pub fn recorded(&self) -> &Recorded {
        match self {
            Leftover::Live { recorded, .. }
            | Leftover::Several { recorded, .. }
            | Leftover::NotLive { recorded, .. }
            | Leftover::InFlight { recorded, .. }
            | Leftover::Unreadable { recorded, .. } => recorded,
        }
    }

    /// Whether a writer that reported it may remove its record: it is settled, or will be by
    /// this run's plan (which creates again what is not live).
    pub fn can_clear(&self) -> bool {
        matches!(
            self,
            Leftover::Live { .. }
                | Leftover::Several { .. }
                | Leftover::NotLive {
                    may_still_land: false,
                    ..
                }
        )
    }

    /// Whether a secret is lost with it (the run that reports it fails, as the run that lost it
    /// would have).
    pub fn secret_lost(&self) -> bool {
        matches!(
            self,
            Leftover::Live {
                secret: LeftSecret::Lost,
                ..
            }
        )
    }
}

/// What each record of `recorded` means against live state `observed`: found live (with or
/// without its secret on disk in `secrets`), not live, or in flight in `running` (the writer
/// holding the target's lock now, if any). `grace`: how long after its sending a create may
/// still land.
pub fn resolve(
    recorded: Vec<Recorded>,
    observed: &Observed,
    secrets: &SecretStore,
    running: Option<&Holder>,
    grace: Duration,
    now: SystemTime,
) -> Vec<Leftover> {
    let now_ms = unix_ms(now);
    recorded
        .into_iter()
        .map(|recorded| {
            let intent = match &recorded.intent {
                Ok(intent) => intent.clone(),
                Err(reason) => {
                    let reason = reason.clone();
                    return Leftover::Unreadable { recorded, reason };
                }
            };
            if running.is_some_and(|h| h.pid == intent.pid && h.host == intent.host) {
                return Leftover::InFlight { recorded, intent };
            }
            let live: Vec<&ObservedIntegration> = observed
                .integrations
                .iter()
                .filter(|o| o.kind == intent.kind && o.name() == Some(intent.name.as_str()))
                .collect();
            match live.as_slice() {
                [] => Leftover::NotLive {
                    may_still_land: now_ms.saturating_sub(intent.sent_ms)
                        < u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
                    recorded,
                    intent,
                },
                [one] => Leftover::Live {
                    secret: match secrets.saved(&one.id) {
                        Some(path) => LeftSecret::Saved(path),
                        None if intent.kind.issues_secret() => LeftSecret::Lost,
                        None => LeftSecret::NoneIssued,
                    },
                    id: one.id.clone(),
                    created: one.created.clone(),
                    recorded,
                    intent,
                },
                many => Leftover::Several {
                    ids: many
                        .iter()
                        .map(|o| (o.id.clone(), o.created.clone()))
                        .collect(),
                    recorded,
                    intent,
                },
            }
        })
        .collect()
}

/// How long until every record in `leftovers` that may still land is older than `grace`
/// (zero when none may).
pub fn wait_for_landing(leftovers: &[Leftover], grace: Duration, now: SystemTime) -> Duration {
    let now_ms = unix_ms(now);
    let grace_ms = u64::try_from(grace.as_millis()).unwrap_or(u64::MAX);
    leftovers
        .iter()
        .filter_map(|l| match l {
            Leftover::NotLive {
                intent,
                may_still_land: true,
                ..
            } => Some(Duration::from_millis(
                intent
                    .sent_ms
                    .saturating_add(grace_ms)
                    .saturating_sub(now_ms),
            )),
            _ => None,
        })
        .max()
        .unwrap_or_default()
}

/// Why the creates earlier runs left in flight could not be looked for.
#[derive(Debug, thiserror::Error)]
pub enum LeftoverError {
    #[error("cannot read the records of creates in flight: {0}")]
    Records(#[from] IntentError),
    #[error("cannot read live state again to look for creates an earlier run left in flight: {0}")]
    Read(#[from] intsync_provider::ProviderError),
}

/// For a reader (`plan`, `drift`, `watch` without `--apply`): the creates left in flight, as
/// `observed` shows them now. `running`: the writer that holds the target's lock, if any (its
/// own creates are in flight, not left over). Nothing is waited for or removed.
pub fn leftovers_now(
    intents: &Intents,
    secrets: &SecretStore,
    observed: &Observed,
    running: Option<&Holder>,
    grace: Duration,
) -> Result<Vec<Leftover>, IntentError> {
    Ok(resolve(
        intents.recorded()?,
        observed,
        secrets,
        running,
        grace,
        SystemTime::now(),
    ))
}

/// For a writer, holding the target's lock, before it plans: the creates earlier runs left in
/// flight, against `observed`. A create sent less than the provider's grace window ago may
/// still land: the writer waits until it cannot (`waiting` is told how long and how many), and
/// reads live state again, so that it never plans to create again what is about to appear.
/// Returns the live state to plan from and the leftovers to report; once reported, remove them
/// with [`clear_reported`].
pub async fn settle_leftovers(
    provider: &intsync_provider::Provider,
    intents: &Intents,
    secrets: &SecretStore,
    mut observed: Observed,
    waiting: impl FnOnce(Duration, usize),
) -> Result<(Observed, Vec<Leftover>), LeftoverError> {
    let grace = provider.outcome_grace();
    let recorded = intents.recorded()?;
    if recorded.is_empty() {
        return Ok((observed, Vec::new()));
    }
    let mut leftovers = resolve(
        recorded.clone(),
        &observed,
        secrets,
        None,
        grace,
        SystemTime::now(),
    );
    let wait = wait_for_landing(&leftovers, grace, SystemTime::now());
    if !wait.is_zero() {
        let landing = leftovers
            .iter()
            .filter(|l| {
                matches!(
                    l,
                    Leftover::NotLive {
                        may_still_land: true,
                        ..
                    }
                )
            })
            .count();
        waiting(wait, landing);
        tokio::time::sleep(wait).await;
        observed = provider.observe().await?;
        // Past the grace window now: what is still not live never landed.
        leftovers = resolve(recorded, &observed, secrets, None, grace, SystemTime::now());
    }
    Ok((observed, leftovers))
}

/// Removes the records of the reported `leftovers` that are settled ([`Leftover::can_clear`]);
/// the paths that could not be removed, and why.
pub fn clear_reported(intents: &Intents, leftovers: &[Leftover]) -> Vec<(PathBuf, std::io::Error)> {
    leftovers
        .iter()
        .filter(|l| l.can_clear())
        .filter_map(|l| {
            intents
                .clear(l.recorded())
                .err()
                .map(|e| (l.recorded().path.clone(), e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn observed(items: Vec<ObservedIntegration>) -> Observed {
        Observed {
            kinds: Kind::ALL.to_vec(),
            integrations: items,
            ignored: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    fn live(kind: Kind, id: &str, name: &str) -> ObservedIntegration {
        ObservedIntegration::new(
            kind,
            id.into(),
            None,
            None,
            json!({ "name": name }).as_object().unwrap().clone(),
        )
    }

    #[test]
    fn a_record_is_on_disk_while_its_create_is_in_flight_and_gone_once_settled() {
        let dir = tempfile::tempdir().unwrap();
        let intents = Intents::new(dir.path().join("intents"));
        let pending = intents
            .begin(Kind::AdaPlatformIntegration, "A", Some("a.yaml"))
            .unwrap();
        let unsettled = intents.begin(Kind::TrutoIntegration, "t", None).unwrap();
        let names: Vec<String> = intents.in_flight().into_iter().map(|i| i.name).collect();
        assert_eq!(names, ["A", "t"]);
        let recorded = intents.recorded().unwrap();
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[0].intent.as_ref().unwrap().name, "A");
        assert_eq!(
            recorded[0].intent.as_ref().unwrap().manifest.as_deref(),
            Some("a.yaml")
        );
        pending.settled();
        drop(unsettled); // outcome unknown: the record stays
        assert!(intents.in_flight().is_empty());
        let left = intents.recorded().unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].intent.as_ref().unwrap().name, "t");
        intents.clear(&left[0]).unwrap();
        assert!(intents.recorded().unwrap().is_empty());
    }

    #[test]
    fn an_unwritable_place_is_an_error_and_nothing_is_in_flight() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let intents = Intents::new(file.join("intents"));
        assert!(
            intents
                .begin(Kind::AdaPlatformIntegration, "A", None)
                .is_err()
        );
        assert!(intents.in_flight().is_empty());
    }

    #[test]
    fn leftovers_are_found_live_with_or_without_their_secret_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let intents = Intents::new(dir.path().join("intents"));
        let secrets = SecretStore::new(dir.path().join("secrets"));
        let ada = Kind::AdaPlatformIntegration;
        for name in ["Lost", "Kept", "Gone", "Twice", "Truto"] {
            let kind = if name == "Truto" {
                Kind::TrutoIntegration
            } else {
                ada
            };
            drop(intents.begin(kind, name, None).unwrap());
        }
        std::fs::write(intents.dir().join("broken.json"), "{not json").unwrap();
        secrets
            .save(
                ada,
                "k1",
                Some("Kept"),
                &intsync_provider::Secret::new("kept-secret-1"),
            )
            .unwrap();
        let state = observed(vec![
            live(ada, "l1", "Lost"),
            live(ada, "k1", "Kept"),
            live(ada, "w1", "Twice"),
            live(ada, "w2", "Twice"),
            live(Kind::TrutoIntegration, "t1", "Truto"),
        ]);
        let now = SystemTime::now();
        let grace = Duration::from_secs(60);
        let leftovers = resolve(
            intents.recorded().unwrap(),
            &state,
            &secrets,
            None,
            grace,
            now,
        );
        let summary: Vec<String> = leftovers
            .iter()
            .map(|l| match l {
                Leftover::Live {
                    intent, id, secret, ..
                } => {
                    format!("{} live {id} {secret:?}", intent.name)
                }
                Leftover::Several { intent, ids, .. } => {
                    format!("{} several {}", intent.name, ids.len())
                }
                Leftover::NotLive {
                    intent,
                    may_still_land,
                    ..
                } => {
                    format!("{} not live {may_still_land}", intent.name)
                }
                Leftover::InFlight { intent, .. } => format!("{} in flight", intent.name),
                Leftover::Unreadable { .. } => "unreadable".to_owned(),
            })
            .collect();
        assert_eq!(summary.len(), 6, "{summary:?}");
        for expected in [
            "Lost live l1 Lost",
            "Gone not live true",
            "Twice several 2",
            "Truto live t1 NoneIssued",
            "unreadable",
        ] {
            assert!(
                summary.contains(&expected.to_owned()),
                "{expected}: {summary:?}"
            );
        }
        assert!(
            summary.iter().any(|s| s.starts_with("Kept live k1 Saved(")),
            "{summary:?}"
        );
        assert!(leftovers.iter().filter(|l| l.secret_lost()).count() == 1);
        let wait = wait_for_landing(&leftovers, grace, now);
        assert!(wait > Duration::from_secs(50) && wait <= grace, "{wait:?}");
        // Once the grace window passed, "not live" is final and may be cleared.
        let later = now + grace;
        let leftovers = resolve(
            intents.recorded().unwrap(),
            &state,
            &secrets,
            None,
            grace,
            later,
        );
        assert!(leftovers.iter().any(|l| matches!(
            l,
            Leftover::NotLive {
                may_still_land: false,
                ..
            }
        )));
        assert_eq!(wait_for_landing(&leftovers, grace, later), Duration::ZERO);
        // A writer running now holds its own records in flight.
        let me = Holder::this_process("apply");
        let leftovers = resolve(
            intents.recorded().unwrap(),
            &state,
            &secrets,
            Some(&me),
            grace,
            now,
        );
        assert_eq!(
            leftovers
                .iter()
                .filter(|l| matches!(l, Leftover::InFlight { .. }))
                .count(),
            5
        );
    }
}
