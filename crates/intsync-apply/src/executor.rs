//! One write at a time, and what came of it: POST for a create, PATCH with exactly the plan's
//! body for an update, each under the provider's retries and rate limit.
//!
//! # Guarantees
//!
//! - A create is sent again only when it certainly did not reach the server (the provider's
//!   rule: no connection, 429). A create whose outcome is unknown (no answer, a 5xx, a 2xx that
//!   cannot be read) is **never sent again in this run**: live state is listed, repeatedly over
//!   [`Provider::outcome_grace`], and an integration with that name is adopted; none → the item
//!   fails, saying to plan again in a minute.
//! - A client secret is saved (durably) as soon as the answer carrying it is read, before the
//!   item is reported. An answer is used as far as it can be read: a secret and an `id` are kept
//!   even when the rest of the integration is missing a field.
//! - A Truto update refused because the version moved is a stale item — unless live state shows
//!   the change already landed (an earlier attempt of ours got through).
//! - A stop asked for before a write is sent leaves it not done; writes in flight finish.

use std::time::{Duration, Instant};

use intsync_manifest::Kind;
use intsync_plan::{Action, ObservedIntegration, normalize};
use intsync_provider::{ClientSecret, Provider, ProviderError, Stop};
use serde_json::{Map, Value};

use crate::intents::{IntentError, Intents};
use crate::secrets::{SecretError, SecretStore};

/// Whether `live` already holds every field of `wanted`.
pub fn holds(kind: Kind, live: &ObservedIntegration, wanted: &Map<String, Value>) -> bool {
    wanted.iter().all(|(field, value)| {
        normalize::field_equal(kind, field, value, live.fields.get(field).as_ref())
    })
}

/// What happened to the client secret of a created integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSaved {
    /// Saved to this file (0600).
    At(std::path::PathBuf),
    /// The vendor issues none (Truto).
    NoneIssued,
}

/// What one write came to.
#[derive(Debug)]
pub enum Outcome {
    Created {
        observed: ObservedIntegration,
        secret: SecretSaved,
        /// Found by listing (its answer could not be read in full) rather than from the answer.
        adopted: bool,
    },
    Updated {
        observed: ObservedIntegration,
    },
    /// Not started: a stop was asked for before it was sent (or before it could be sent again,
    /// and live state does not show it).
    NotDone,
    Failed(ItemError),
}

impl Outcome {
    pub fn is_done(&self) -> bool {
        matches!(self, Outcome::Created { .. } | Outcome::Updated { .. })
    }

    /// The integration as the write left it.
    pub fn observed(&self) -> Option<&ObservedIntegration> {
        match self {
            Outcome::Created { observed, .. } | Outcome::Updated { observed } => Some(observed),
            Outcome::NotDone | Outcome::Failed(_) => None,
        }
    }
}

/// Why one write failed. Each says what to do; none contains a token or secret.
#[derive(Debug, thiserror::Error)]
pub enum ItemError {
    #[error("{0}")]
    Provider(ProviderError),
    /// Truto's version moved since the plan: someone else changed the integration.
    #[error("{0}; run `intsync plan` again and review the new plan")]
    Stale(ProviderError),
    /// A create whose outcome is unknown, and no integration of that name appeared.
    #[error(
        "{error}; no integration named {name:?} appeared in live state {}: outcome unknown; run `intsync plan` again in a minute{}",
        within(*grace),
        if *secret_lost {
            " (if it appears, its client secret was in the answer that was lost: rotate it in Ada's dashboard)"
        } else {
            ""
        }
    )]
    OutcomeUnknown {
        error: ProviderError,
        name: String,
        /// How long live state was searched ([`Provider::outcome_grace`]).
        grace: Duration,
        /// Ada's secret was in the answer that was lost (it is shown only once).
        secret_lost: bool,
    },
    /// Created, but the client secret is not on disk: it was in an answer intsync could not
    /// use, or the answer had none.
    #[error(
        "created {name:?}{}, but its client secret was lost: {reason}. Ada shows it only once: rotate it in Ada's dashboard (the integration's settings), then store the new one",
        id.as_deref().map(|id| format!(" ({id})")).unwrap_or_default()
    )]
    SecretLost {
        name: String,
        id: Option<String>,
        reason: String,
    },
    /// Created, but the client secret could not be written.
    #[error(
        "created {name:?} ({id}), but its client secret {error}. It was not printed; rotate it in Ada's dashboard (the integration's settings), then store the new one"
    )]
    SecretNotSaved {
        name: String,
        id: String,
        error: SecretError,
    },
    /// Created, but the PATCH that sets what the create does not take (Truto's `sharing`) failed.
    #[error(
        "created {name:?} ({id}), but setting {fields} right after it failed: {error}; run `intsync apply` again to set it"
    )]
    NotFinished {
        name: String,
        id: String,
        fields: String,
        error: Box<ItemError>,
    },
    /// The create could not be recorded on disk before it was sent, so it was not sent.
    #[error(
        "{0}; nothing was sent: free the disk or fix the directory's permissions, then run `intsync apply` again"
    )]
    NotRecorded(IntentError),
    /// After an unclear answer, more than one live integration has the name.
    #[error("{error}; now {} integrations are named {name:?} ({})", ids.len(), ids.join(", "))]
    Duplicates {
        error: ProviderError,
        name: String,
        ids: Vec<String>,
    },
    /// After an unclear answer, listing (to find out what happened) failed too.
    #[error("{error}; then listing to find out failed: {list}")]
    Unresolved {
        error: ProviderError,
        list: ProviderError,
    },
    /// An update whose answer was lost or unreadable, and live state does not show it.
    #[error("{0}; and the change is not in live state: run `intsync plan` again")]
    NotApplied(ProviderError),
    /// The write was answered, but reading live state afterwards does not show it.
    #[error("{kind} {name:?} ({id}) {problem}")]
    NotVerified {
        kind: Kind,
        name: String,
        id: String,
        problem: String,
    },
}

impl ItemError {
    /// A Truto version conflict: nothing was written; the plan is out of date.
    pub fn is_stale(&self) -> bool {
        matches!(self, ItemError::Stale(_))
    }
}

/// "within 3 s" (the grace window, as configured: the same words every run), or "when listed"
/// for an in-process target (one listing).
fn within(grace: Duration) -> String {
    match grace.as_millis() {
        0 => "when listed".to_owned(),
        ms if ms % 1000 == 0 => format!("within {} s", ms / 1000),
        ms => format!("within {:.1} s", ms as f64 / 1000.0),
    }
}

/// How the integration of an unclear create is recognised in live state.
#[derive(Debug, Clone, Copy)]
enum Find<'a> {
    Id(&'a str),
    Name(&'a str),
}

enum Resolve {
    Found(ObservedIntegration),
    /// Not there after searching for this long.
    Absent(Duration),
    Many(Vec<String>),
    ListFailed(ProviderError),
}

/// Lists `kind` until the integration shows, or `grace` has passed (at least one listing).
async fn find_created(provider: &Provider, kind: Kind, find: Find<'_>, grace: Duration) -> Resolve {
    let started = Instant::now();
    let mut pause = Duration::from_millis(250);
    loop {
        let live = match provider.list(kind).await {
            Ok(live) => live,
            Err(error) => return Resolve::ListFailed(error),
        };
        let mut matches: Vec<ObservedIntegration> = live
            .into_iter()
            .filter(|o| match find {
                Find::Id(id) => o.id == id,
                Find::Name(name) => o.name() == Some(name),
            })
            .collect();
        match matches.len() {
            0 => {}
            1 => return Resolve::Found(matches.remove(0)),
            _ => return Resolve::Many(matches.into_iter().map(|o| o.id).collect()),
        }
        let waited = started.elapsed();
        if waited >= grace {
            return Resolve::Absent(grace);
        }
        tokio::time::sleep(pause.min(grace - waited)).await;
        pause = (pause * 2).min(Duration::from_secs(5));
    }
}

/// The outcome of an unclear create, once live state was searched: `found` decides what a
/// found integration means; the rest is the same for every unclear create.
fn settle(
    resolve: Resolve,
    error: ProviderError,
    name: String,
    secret_lost: bool,
    found: impl FnOnce(ObservedIntegration, ProviderError, String) -> Outcome,
) -> Outcome {
    match resolve {
        Resolve::Found(observed) => found(observed, error, name),
        Resolve::Absent(grace) => Outcome::Failed(ItemError::OutcomeUnknown {
            error,
            name,
            grace,
            secret_lost,
        }),
        Resolve::Many(ids) => Outcome::Failed(ItemError::Duplicates { error, name, ids }),
        Resolve::ListFailed(list) => Outcome::Failed(ItemError::Unresolved { error, list }),
    }
}

/// Where a write's durable side effects go: client secrets, and the records of creates in
/// flight.
#[derive(Debug, Clone)]
pub struct Stores {
    pub secrets: SecretStore,
    pub intents: Intents,
}

/// Runs one write action (a create or an update; anything else is not a write and is `NotDone`).
pub async fn run_one(
    provider: &Provider,
    stores: &Stores,
    stop: &Stop,
    action: &Action,
) -> Outcome {
    match action {
        Action::Create {
            kind,
            body,
            manifest,
            ..
        } => {
            let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
            // On disk before it is sent: a run that ends without hearing back (a second Ctrl-C,
            // SIGKILL) leaves a record the next run resolves.
            let pending = match stores.intents.begin(*kind, name, Some(manifest)) {
                Ok(pending) => pending,
                Err(error) => return Outcome::Failed(ItemError::NotRecorded(error)),
            };
            let created = create(provider, &stores.secrets, stop, *kind, body).await;
            // Settled (its secret saved, or its failure about to be reported) unless its outcome
            // is still unknown: that record stays for a later run.
            if !matches!(
                created,
                Outcome::Failed(ItemError::OutcomeUnknown { .. } | ItemError::Unresolved { .. })
            ) {
                pending.settled();
            }
            set_after_create(provider, *kind, body, created).await
        }
        Action::Update {
            kind,
            id,
            patch,
            expected_version,
            ..
        } => update(provider, stop, *kind, id, patch, *expected_version).await,
        Action::Blocked { .. } | Action::Noop { .. } => Outcome::NotDone,
    }
}

async fn create(
    provider: &Provider,
    secrets: &SecretStore,
    stop: &Stop,
    kind: Kind,
    body: &Map<String, Value>,
) -> Outcome {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let issues_secret = kind.issues_secret();
    let grace = provider.outcome_grace();
    let created = match provider.create(kind, body, stop).await {
        Ok(created) => created,
        // Only ever stopped before an attempt reached the server (the provider's rule).
        Err(ProviderError::Stopped { .. }) => return Outcome::NotDone,
        // No answer, a 5xx, or a 2xx that cannot be read at all: it may exist now (and the
        // server may still be working on it). Never sent again; live state says.
        Err(
            error @ (ProviderError::UnknownOutcome { .. }
            | ProviderError::BadResponse {
                status: 200..=299, ..
            }),
        ) => {
            tracing::warn!(target: "intsync::apply", %error, "create outcome unknown; listing to find out");
            let resolve = find_created(provider, kind, Find::Name(&name), grace).await;
            return settle(
                resolve,
                error,
                name,
                issues_secret,
                |observed, error, name| {
                    if issues_secret {
                        Outcome::Failed(ItemError::SecretLost {
                            name,
                            id: Some(observed.id),
                            reason: format!("it was in the answer that was lost ({error})"),
                        })
                    } else {
                        Outcome::Created {
                            observed,
                            secret: SecretSaved::NoneIssued,
                            adopted: true,
                        }
                    }
                },
            );
        }
        Err(error) => return Outcome::Failed(ItemError::Provider(error)),
    };
    // The secret first: nothing that happens after may lose it.
    let secret = match (created.client_secret, &created.id) {
        (ClientSecret::Issued(secret), Some(id)) => {
            match secrets.save(kind, id, Some(&name), &secret) {
                Ok(path) => SecretSaved::At(path),
                Err(error) => {
                    return Outcome::Failed(ItemError::SecretNotSaved {
                        name,
                        id: id.clone(),
                        error,
                    });
                }
            }
        }
        (ClientSecret::Issued(_), None) => {
            return Outcome::Failed(ItemError::SecretLost {
                name,
                id: None,
                reason: "the answer carrying it names no `id`, so it cannot be told which integration it belongs to".to_owned(),
            });
        }
        (ClientSecret::Unusable(why), id) if issues_secret => {
            return Outcome::Failed(ItemError::SecretLost {
                name,
                id: id.clone(),
                reason: format!(
                    "the create's answer held a `client_secret` that is no secret: {why}"
                ),
            });
        }
        (ClientSecret::Absent, id) if issues_secret => {
            return Outcome::Failed(ItemError::SecretLost {
                name,
                id: id.clone(),
                reason: "the create's answer held no `client_secret`".to_owned(),
            });
        }
        (ClientSecret::Absent | ClientSecret::Unusable(_), _) => SecretSaved::NoneIssued,
    };
    match (created.observed, created.id) {
        (Ok(observed), _) => Outcome::Created {
            observed,
            secret,
            adopted: false,
        },
        // Created (the status says so) and its secret kept, but the answer misses a field: the
        // integration itself is read from live state.
        (Err(error), id) => {
            let find = match &id {
                Some(id) => Find::Id(id),
                None => Find::Name(&name),
            };
            let resolve = find_created(provider, kind, find, grace).await;
            settle(resolve, error, name, false, |observed, _, _| {
                Outcome::Created {
                    observed,
                    secret,
                    adopted: true,
                }
            })
        }
    }
}

/// Sets the fields of `body` the vendor's create does not take (Truto's `sharing`) with a PATCH
/// right after the create, from the version the create left. Part of the create: it runs even
/// when a stop was asked for meanwhile (the create was in flight, so it is finished).
async fn set_after_create(
    provider: &Provider,
    kind: Kind,
    body: &Map<String, Value>,
    created: Outcome,
) -> Outcome {
    let Outcome::Created {
        observed,
        secret,
        adopted,
    } = created
    else {
        return created;
    };
    let patch: Map<String, Value> = body
        .iter()
        .filter(|(field, value)| {
            kind.field(field).is_some_and(|f| !f.in_create_body)
                && !normalize::field_equal(kind, field, value, observed.fields.get(field).as_ref())
        })
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    if patch.is_empty() {
        return Outcome::Created {
            observed,
            secret,
            adopted,
        };
    }
    let never = Stop::new();
    match update(
        provider,
        &never,
        kind,
        &observed.id,
        &patch,
        observed.version,
    )
    .await
    {
        Outcome::Updated { observed } => Outcome::Created {
            observed,
            secret,
            adopted,
        },
        Outcome::Failed(error) => Outcome::Failed(ItemError::NotFinished {
            name: observed.name().unwrap_or_default().to_owned(),
            id: observed.id,
            fields: patch
                .keys()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", "),
            error: Box::new(error),
        }),
        // Only a stop asked for makes an update not done, and this one cannot be stopped.
        other => other,
    }
}

async fn update(
    provider: &Provider,
    stop: &Stop,
    kind: Kind,
    id: &str,
    patch: &Map<String, Value>,
    expected_version: Option<u64>,
) -> Outcome {
    let error = match provider
        .update(kind, id, patch, expected_version, stop)
        .await
    {
        Ok(observed) => return Outcome::Updated { observed },
        Err(error) => error,
    };
    match error {
        ProviderError::Stopped { attempts: 0, .. } => Outcome::NotDone,
        // Moved since the plan. Our own earlier attempt may be what moved it.
        ProviderError::VersionConflict { ref live, .. } => {
            if holds(kind, live, patch) {
                Outcome::Updated {
                    observed: (**live).clone(),
                }
            } else {
                Outcome::Failed(ItemError::Stale(error))
            }
        }
        // Accepted (by the status) with an unreadable answer; no answer to any attempt; or
        // stopped between attempts: it may have landed. Live state says.
        ProviderError::BadResponse {
            status: 200..=299, ..
        }
        | ProviderError::Exhausted { .. }
        | ProviderError::Stopped { .. } => {
            let stopped = matches!(error, ProviderError::Stopped { .. });
            match provider.list(kind).await {
                Ok(live) => match live.into_iter().find(|o| o.id == id) {
                    Some(observed) if holds(kind, &observed, patch) => {
                        Outcome::Updated { observed }
                    }
                    _ if stopped => Outcome::NotDone,
                    _ => Outcome::Failed(ItemError::NotApplied(error)),
                },
                Err(list) => Outcome::Failed(ItemError::Unresolved { error, list }),
            }
        }
        other => Outcome::Failed(ItemError::Provider(other)),
    }
}
