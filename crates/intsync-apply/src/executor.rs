//! Applying a plan's writes: POST for creates, PATCH with exactly the plan's body for updates, at
//! most `parallelism` at once, each request under the provider's rate limiter.
//!
//! # Guarantees
//!
//! - A create is never sent twice blind: when its outcome is unknown (no answer, a 5xx), the
//!   kind is listed again and an integration with that name is adopted; only if there is none is
//!   the POST sent again.
//! - A write answered 2xx with a body that cannot be read (cut off, not JSON, fields missing)
//!   took effect: the create is found by name, the update checked in live state; neither is
//!   sent again.
//! - A Truto update that fails on `version` is checked against live state: already applied (its
//!   own earlier attempt got through) is success; anything else is a conflict to re-plan, never
//!   retried with a fresher version.

use std::sync::Arc;

use intsync_manifest::Kind;
use intsync_plan::{Action, ObservedIntegration, normalize};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::provider::{Provider, ProviderError};
use crate::secret::Secret;

/// What a write achieved.
#[derive(Debug, Clone)]
pub enum Done {
    Created {
        observed: ObservedIntegration,
        /// Ada's secret; `None` for Truto, or when the answer carrying it was lost.
        client_secret: Option<Secret>,
        /// Found by listing after an unknown outcome, rather than from the POST's answer.
        adopted: bool,
    },
    Updated {
        observed: ObservedIntegration,
    },
}

/// The result for the action at `index` of the input.
#[derive(Debug)]
pub struct Applied {
    pub index: usize,
    pub result: Result<Done, String>,
}

/// Whether `live` already holds every field of `wanted` (Truto's `version` aside).
pub fn holds(kind: Kind, live: &ObservedIntegration, wanted: &Map<String, Value>) -> bool {
    wanted
        .iter()
        .filter(|(field, _)| field.as_str() != "version")
        .all(|(field, value)| normalize::field_equal(kind, field, value, live.fields.get(field)))
}

const CREATE_ATTEMPTS: u32 = 3;

async fn create(
    provider: &Provider,
    kind: Kind,
    body: &Map<String, Value>,
) -> Result<Done, String> {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    let mut last = String::new();
    for _ in 0..CREATE_ATTEMPTS {
        match provider.create(kind, body).await {
            Ok(created) => {
                return Ok(Done::Created {
                    observed: created.observed,
                    client_secret: created.client_secret,
                    adopted: false,
                });
            }
            Err(error) => {
                // No answer (or a 5xx): it may not have been created. Answered 2xx with a body
                // that cannot be read: it was. Either way, live state says what to adopt.
                let answered = match &error {
                    ProviderError::UnknownOutcome { .. } => false,
                    ProviderError::BadResponse {
                        status: 200..=299, ..
                    } => true,
                    _ => return Err(error.to_string()),
                };
                last = error.to_string();
                tracing::warn!(target: "intsync::apply", %error, "create outcome unclear; listing to find out");
                let live = provider
                    .list(kind)
                    .await
                    .map_err(|e| format!("{error}; then listing failed: {e}"))?;
                let matches: Vec<ObservedIntegration> = live
                    .into_iter()
                    .filter(|o| o.name() == Some(name))
                    .collect();
                match matches.as_slice() {
                    [one] => {
                        return Ok(Done::Created {
                            observed: one.clone(),
                            client_secret: None,
                            adopted: true,
                        });
                    }
                    // Not created: sending it again cannot duplicate it.
                    [] if !answered => continue,
                    [] => {
                        return Err(format!(
                            "{error}; and no integration named `{name}` is listed, so it was not sent again: run `intsync plan` to see the state"
                        ));
                    }
                    many => {
                        let ids: Vec<&str> = many.iter().map(|o| o.id.as_str()).collect();
                        return Err(format!(
                            "{error}; now {} integrations are named `{name}` ({})",
                            many.len(),
                            ids.join(", ")
                        ));
                    }
                }
            }
        }
    }
    Err(format!(
        "gave up after {CREATE_ATTEMPTS} attempts whose outcome was unknown; last: {last}"
    ))
}

async fn update(
    provider: &Provider,
    kind: Kind,
    id: &str,
    patch: &Map<String, Value>,
) -> Result<Done, String> {
    let error = match provider.update(kind, id, patch).await {
        Ok(observed) => return Ok(Done::Updated { observed }),
        Err(error) => error,
    };
    let otherwise = match &error {
        // Our own earlier attempt may have got through before its answer was lost.
        ProviderError::Refused { status: 400, .. }
            if kind == Kind::TrutoIntegration && error.to_string().contains("version") =>
        {
            "it was changed by someone else since the plan; run `intsync plan` again"
        }
        // Accepted, by the status, with an unreadable answer; or no answer to any attempt (it
        // may have landed anyway).
        ProviderError::BadResponse {
            status: 200..=299, ..
        }
        | ProviderError::Exhausted { .. } => {
            "and the change is not in live state: run `intsync plan` again"
        }
        _ => return Err(error.to_string()),
    };
    // Live state says whether it landed.
    let live = provider
        .list(kind)
        .await
        .map_err(|e| format!("{error}; then listing failed: {e}"))?;
    match live.into_iter().find(|o| o.id == id) {
        Some(observed) if holds(kind, &observed, patch) => Ok(Done::Updated { observed }),
        _ => Err(format!("{error}; {otherwise}")),
    }
}

async fn run_one(provider: &Provider, action: &Action) -> Result<Done, String> {
    match action {
        Action::Create { kind, body, .. } => create(provider, *kind, body).await,
        Action::Update {
            kind, id, patch, ..
        } => update(provider, *kind, id, patch).await,
        Action::Blocked { .. } | Action::Noop { .. } => Err("not a write".to_owned()),
    }
}

/// Runs the writes of `actions` (creates and updates; others are ignored), at most
/// `parallelism` at once. `on_done` sees each result as it arrives (progress). Results come back
/// in input order.
pub async fn apply(
    provider: Arc<Provider>,
    actions: Vec<Action>,
    parallelism: usize,
    mut on_done: impl FnMut(&Action, &Result<Done, String>),
) -> Vec<Applied> {
    let permits = Arc::new(Semaphore::new(parallelism.max(1)));
    let actions = Arc::new(actions);
    let mut tasks = JoinSet::new();
    for index in 0..actions.len() {
        if !matches!(
            actions[index],
            Action::Create { .. } | Action::Update { .. }
        ) {
            continue;
        }
        let (provider, permits, actions) = (
            Arc::clone(&provider),
            Arc::clone(&permits),
            Arc::clone(&actions),
        );
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = run_one(&provider, &actions[index]).await;
            Applied { index, result }
        });
    }
    let mut results = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let applied = match joined {
            Ok(applied) => applied,
            Err(e) => {
                // A panicking write task is a bug; report it rather than lose the others.
                tracing::error!(target: "intsync::apply", error = %e, "a write task failed");
                continue;
            }
        };
        on_done(&actions[applied.index], &applied.result);
        results.push(applied);
    }
    results.sort_by_key(|a| a.index);
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{RetryPolicy, Transport};
    use intsync_plan::Action;
    use serde_json::json;

    fn local() -> (
        tempfile::TempDir,
        Arc<Provider>,
        Arc<intsync_emulator::Emulator>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let emulator = Arc::new(intsync_emulator::local(&dir.path().join("state.json")).unwrap());
        let transport = Transport::Local {
            emulator: Arc::clone(&emulator),
        };
        let provider = Provider::new(
            "local",
            transport,
            Kind::ALL.to_vec(),
            100,
            RetryPolicy::default(),
            "",
        );
        (dir, Arc::new(provider), emulator)
    }

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    /// Someone else's change between plan and apply: the update fails with a message to re-plan,
    /// and is not retried with the fresher version.
    #[tokio::test]
    async fn truto_version_conflict_fails_and_says_to_replan() {
        let (_dir, provider, emulator) = local();
        let created = provider
            .create(
                Kind::TrutoIntegration,
                &object(json!({"name": "crm", "category": "crm"})),
            )
            .await
            .unwrap();
        let id = created.observed.id.clone();
        // Someone else bumps the version.
        let other =
            intsync_emulator::Request::new(http::Method::PATCH, &format!("/integration/{id}"))
                .bearer(emulator.token())
                .json(&json!({"category": "sales", "version": 1}));
        assert_eq!(emulator.call(other).unwrap().status, 200);
        let action = Action::Update {
            kind: Kind::TrutoIntegration,
            id: id.clone(),
            name: Some("crm".into()),
            manifest: "crm.yaml".into(),
            live_status: None,
            patch: object(json!({"category": "helpdesk", "version": 1})),
            live: Map::new(),
            fingerprint: String::new(),
        };
        let results = apply(Arc::clone(&provider), vec![action], 1, |_, _| {}).await;
        let error = results[0].result.as_ref().unwrap_err();
        assert!(
            error.contains("changed by someone else since the plan; run `intsync plan` again"),
            "{error}"
        );
        let live = provider.list(Kind::TrutoIntegration).await.unwrap();
        assert_eq!(live[0].fields["category"], "sales", "not overwritten");
        assert_eq!(live[0].version, Some(2));

        // The same conflict when the change had in fact landed (an earlier attempt got through):
        // success.
        let landed = Action::Update {
            kind: Kind::TrutoIntegration,
            id,
            name: Some("crm".into()),
            manifest: "crm.yaml".into(),
            live_status: None,
            patch: object(json!({"category": "sales", "version": 1})),
            live: Map::new(),
            fingerprint: String::new(),
        };
        let results = apply(provider, vec![landed], 1, |_, _| {}).await;
        assert!(results[0].result.is_ok());
    }
}
