//! A reconcile run (design §8): (saved-plan re-check) → refuse or skip blocked → execute →
//! save secrets (as each answer is read) → verify, returning a typed [`Report`]. `apply`,
//! `apply --plan` and `watch --apply` all go through here; the commands only prompt and render.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use intsync_manifest::Kind;
use intsync_plan::{Action, DesiredIntegration, Observed, ObservedIntegration, Plan};
use intsync_provider::{BoxError, Provider, ProviderError, Stop, StopReason};
use tokio::task::JoinSet;

use crate::executor::{ItemError, Outcome, Stores, holds, run_one};

/// Something about an action of a saved plan that live state no longer agrees with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub kind: Kind,
    pub name: Option<String>,
    pub id: Option<String>,
    pub what: String,
}

impl std::fmt::Display for Moved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {:?}",
            self.kind,
            self.name.as_deref().unwrap_or("(unnamed)")
        )?;
        if let Some(id) = &self.id {
            write!(f, " ({id})")?;
        }
        write!(f, " {}", self.what)
    }
}

/// A saved plan against live state: pending actions stay, actions already applied (the plan was
/// applied before) become noops, anything else that moved makes it stale (nothing may be
/// written).
pub fn recheck(mut plan: Plan, observed: &Observed) -> Result<Plan, Vec<Moved>> {
    // Live state by id and by name, once: each action is checked in constant time.
    let mut by_id: HashMap<(Kind, &str), &ObservedIntegration> =
        HashMap::with_capacity(observed.integrations.len());
    let mut by_name: HashMap<(Kind, Option<&str>), Vec<&ObservedIntegration>> =
        HashMap::with_capacity(observed.integrations.len());
    for live in &observed.integrations {
        by_id.insert((live.kind, live.id.as_str()), live);
        by_name
            .entry((live.kind, live.name()))
            .or_default()
            .push(live);
    }
    let find = |kind, id: &str| by_id.get(&(kind, id)).copied();
    // An integration that cannot be read now: the plan's action on it cannot be checked.
    let gone = |kind, id: &str| match observed
        .unreadable
        .iter()
        .find(|u| u.kind == kind && u.id.as_deref() == Some(id))
    {
        Some(u) => format!("cannot be read live now: it {}", u.reason),
        None => "no longer exists".to_owned(),
    };
    let moved_at = |kind, name: &Option<String>, id: Option<&str>, what: String| Moved {
        kind,
        name: name.clone(),
        id: id.map(str::to_owned),
        what,
    };
    let noop =
        |kind, name: &Option<String>, manifest: &str, live: &ObservedIntegration| Action::Noop {
            kind,
            id: live.id.clone(),
            name: name.clone(),
            manifest: manifest.to_owned(),
            fingerprint: intsync_plan::fingerprint(live),
        };
    let mut moved = Vec::new();
    for action in &mut plan.actions {
        let now_noop = match &*action {
            Action::Update {
                kind,
                id,
                name,
                manifest,
                patch,
                live: seen,
                fingerprint,
                ..
            } => match find(*kind, id) {
                None => {
                    moved.push(moved_at(*kind, name, Some(id), gone(*kind, id)));
                    None
                }
                Some(live) if intsync_plan::fingerprint(live) == *fingerprint => None,
                Some(live) if holds(*kind, live, patch) => Some(noop(*kind, name, manifest, live)),
                Some(live) => {
                    moved.push(moved_at(
                        *kind,
                        name,
                        Some(id),
                        format!("changed: {}", changed_fields(live, seen)),
                    ));
                    None
                }
            },
            Action::Create {
                kind,
                name,
                manifest,
                body,
                ..
            } => {
                // One that cannot be read, of this name or of a name that cannot be read
                // either, may be it: creating it could make a duplicate.
                if let Some(u) = observed
                    .unreadable
                    .iter()
                    .find(|u| u.kind == *kind && (u.name.is_none() || u.name == *name))
                {
                    moved.push(moved_at(
                        *kind,
                        name,
                        None,
                        format!(
                            "may exist live now: the integration {} cannot be read (it {}), and it may be this one; the plan would create it again",
                            u.id.as_deref().unwrap_or("(id unreadable)"),
                            u.reason
                        ),
                    ));
                    continue;
                }
                let existing = by_name
                    .get(&(*kind, name.as_deref()))
                    .map_or(&[][..], Vec::as_slice);
                match existing {
                    [] => None,
                    [live] if holds(*kind, live, body) => Some(noop(*kind, name, manifest, live)),
                    _ => {
                        moved.push(moved_at(
                            *kind,
                            name,
                            None,
                            "now exists live; the plan would create it again".into(),
                        ));
                        None
                    }
                }
            }
            Action::Noop {
                kind,
                id,
                name,
                fingerprint,
                ..
            }
            | Action::Blocked {
                kind,
                id,
                name,
                fingerprint,
                ..
            } => {
                match find(*kind, id) {
                    None => moved.push(moved_at(*kind, name, Some(id), gone(*kind, id))),
                    Some(live) if intsync_plan::fingerprint(live) != *fingerprint => {
                        moved.push(moved_at(*kind, name, Some(id), "changed".into()));
                    }
                    Some(_) => {}
                }
                None
            }
        };
        if let Some(noop) = now_noop {
            *action = noop;
        }
    }
    if moved.is_empty() {
        Ok(plan)
    } else {
        Err(moved)
    }
}

/// Which of the fields a plan saw (`seen`) differ live now.
fn changed_fields(
    live: &ObservedIntegration,
    seen: &serde_json::Map<String, serde_json::Value>,
) -> String {
    let fields: Vec<&str> = seen
        .iter()
        .filter(|(field, value)| {
            !intsync_plan::normalize::field_equal(
                live.kind,
                field,
                value,
                live.fields.get(field).as_ref(),
            )
        })
        .map(|(field, _)| field.as_str())
        .collect();
    if fields.is_empty() {
        "fields it does not change, or its status or version".to_owned()
    } else {
        fields.join(", ")
    }
}

/// The writes of a plan, once blocked changes were refused or set aside.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Creates and updates, in plan order.
    pub writes: Vec<Action>,
    /// Blocked changes set aside (`--skip-blocked`, and always in `watch --apply`).
    pub skipped_blocked: Vec<Action>,
}

/// Blocked changes, refused: nothing may be written.
#[derive(Debug, Clone)]
pub struct Refused {
    pub blocked: Vec<Action>,
}

/// Refuses a plan with blocked changes, unless `skip_blocked`; the writes otherwise.
pub fn prepare(plan: &Plan, skip_blocked: bool) -> Result<Batch, Refused> {
    let blocked: Vec<Action> = plan
        .actions
        .iter()
        .filter(|a| matches!(a, Action::Blocked { .. }))
        .cloned()
        .collect();
    if !blocked.is_empty() && !skip_blocked {
        return Err(Refused { blocked });
    }
    Ok(Batch {
        writes: plan
            .actions
            .iter()
            .filter(|a| matches!(a, Action::Create { .. } | Action::Update { .. }))
            .cloned()
            .collect(),
        skipped_blocked: blocked,
    })
}

/// How a run goes.
#[derive(Debug, Clone)]
pub struct Options<'a> {
    /// Writes at once (at least 1).
    pub parallelism: usize,
    /// Where client secrets and the records of creates in flight go.
    pub stores: Stores,
    /// Asked → no new write starts; writes in flight finish; no verification.
    pub stop: Stop,
    /// The manifests the plan was made from, when there are any (not for `apply --plan`):
    /// verification then also re-plans, and every written integration must plan as unchanged
    /// (design §8.6) — which catches a change the plan itself missed, not only a write that did
    /// not land.
    pub desired: Option<&'a [DesiredIntegration]>,
    /// The live state the plan was made from, when the caller has it. Verification then first
    /// checks the writes' own answers (each POST and PATCH answers the integration as it left
    /// it) folded into this state, and lists live state again only when those leave a doubt
    /// (issue #16: the second listing cost `pages × latency` on every apply).
    pub observed: Option<&'a Observed>,
}

/// A problem of the run rather than of one write.
#[derive(Debug, thiserror::Error)]
pub enum RunProblem {
    #[error("cannot read live state to verify: {0}")]
    VerifyRead(ProviderError),
    #[error("cannot save the local state: {0}")]
    Checkpoint(BoxError),
    #[error(
        "a write task failed unexpectedly ({0}); its outcome is unknown: run `intsync plan` again"
    )]
    Task(String),
    #[error("cannot plan again to verify: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Replan(Vec<intsync_plan::PlanError>),
}

/// What a run did, write by write.
#[derive(Debug)]
pub struct Report {
    /// Every write of the batch, in plan order, with what came of it.
    pub items: Vec<(Action, Outcome)>,
    pub skipped_blocked: Vec<Action>,
    /// Set when a stop was asked for during the run.
    pub stopped: Option<StopReason>,
    /// Live state read by verification (`None` when it did not run, or failed).
    pub verified: Option<Observed>,
    pub problems: Vec<RunProblem>,
}

/// How a run ended, for the exit code (design §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every write done and verified.
    Ok,
    /// Stopped by a signal: what was in flight finished, nothing new started.
    Stopped(StopReason),
    /// Some writes failed, and every failure was a stale (Truto version conflict) item.
    Stale,
    /// Some writes (or the run) failed.
    Failed,
}

impl Report {
    pub fn status(&self) -> Status {
        if let Some(reason) = self.stopped {
            return Status::Stopped(reason);
        }
        let failures: Vec<&ItemError> = self.failures().collect();
        match (failures.is_empty(), self.problems.is_empty()) {
            (true, true) => Status::Ok,
            (false, true) if failures.iter().all(|e| e.is_stale()) => Status::Stale,
            _ => Status::Failed,
        }
    }

    pub fn failures(&self) -> impl Iterator<Item = &ItemError> {
        self.items.iter().filter_map(|(_, outcome)| match outcome {
            Outcome::Failed(error) => Some(error),
            _ => None,
        })
    }

    pub fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.items.iter().filter(|(_, o)| f(o)).count()
    }

    /// Folds what this run learnt of live state into `held` (`watch`): the verification's
    /// reading when there is one, else every integration a write returned.
    pub fn fold_into(&self, held: &mut Observed) {
        if let Some(verified) = &self.verified {
            *held = verified.clone();
            return;
        }
        fold_answers(&self.items, held);
    }
}

/// Every integration a write returned, put into `held` in place of what it held of it.
fn fold_answers(items: &[(Action, Outcome)], held: &mut Observed) {
    let mut index: HashMap<(Kind, String), usize> = held
        .integrations
        .iter()
        .enumerate()
        .map(|(i, h)| ((h.kind, h.id.clone()), i))
        .collect();
    for observed in items.iter().filter_map(|(_, o)| o.observed()) {
        match index.get(&(observed.kind, observed.id.clone())) {
            Some(&i) => held.integrations[i] = observed.clone(),
            None => {
                index.insert(
                    (observed.kind, observed.id.clone()),
                    held.integrations.len(),
                );
                held.integrations.push(observed.clone());
            }
        }
    }
}

/// Runs a batch: its writes, at most `parallelism` at once, each one's secret saved as its
/// answer is read and `on_item` told as it ends; then (unless stopped) verification against a
/// fresh reading of live state, and the local state's checkpoint.
pub async fn execute(
    provider: Arc<Provider>,
    batch: Batch,
    options: &Options<'_>,
    mut on_item: impl FnMut(&Action, &Outcome),
) -> Report {
    let Batch {
        writes,
        skipped_blocked,
    } = batch;
    // `parallelism` workers, each taking the next write as soon as its previous one is answered:
    // no task per write waiting on a semaphore (each hand-over cost a wake-up, ~0.7 ms a write
    // at parallelism 16 on 2 cores; issue #16).
    let actions = Arc::new(writes);
    let next = Arc::new(AtomicUsize::new(0));
    let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
    let mut workers = JoinSet::new();
    for _ in 0..options.parallelism.max(1).min(actions.len()) {
        let (provider, actions, next, done) = (
            Arc::clone(&provider),
            Arc::clone(&actions),
            Arc::clone(&next),
            done.clone(),
        );
        let (stores, stop) = (options.stores.clone(), options.stop.clone());
        workers.spawn(async move {
            // Waiting for a turn is not a write: a stop asked for meanwhile starts nothing.
            while stop.reason().is_none() {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(action) = actions.get(index) else {
                    break;
                };
                let outcome = run_one(&provider, &stores, &stop, action).await;
                if done.send((index, outcome)).is_err() {
                    break;
                }
            }
        });
    }
    drop(done);
    let mut outcomes: Vec<Option<Outcome>> = (0..actions.len()).map(|_| None).collect();
    while let Some((index, outcome)) = finished.recv().await {
        on_item(&actions[index], &outcome);
        outcomes[index] = Some(outcome);
    }
    let mut problems = Vec::new();
    while let Some(joined) = workers.join_next().await {
        if let Err(error) = joined {
            // A panicking write is a bug; report it rather than lose the others.
            tracing::error!(target: "intsync::apply", %error, "a write task failed");
            problems.push(RunProblem::Task(error.to_string()));
        }
    }
    // Writes no worker took (a stop came first) are reported as not done, in plan order.
    let taken = next.load(Ordering::Relaxed).min(actions.len());
    for index in taken..actions.len() {
        on_item(&actions[index], &Outcome::NotDone);
    }
    let actions = Arc::try_unwrap(actions).unwrap_or_else(|shared| (*shared).clone());
    let mut items: Vec<(Action, Outcome)> = actions
        .into_iter()
        .zip(outcomes)
        .map(|(action, outcome)| (action, outcome.unwrap_or(Outcome::NotDone)))
        .collect();
    let mut verified = None;
    if options.stop.reason().is_none() && items.iter().any(|(_, o)| o.is_done()) {
        // The writes' answers first: when they confirm every write, they are the reading.
        let answered = options.observed.and_then(|before| {
            let mut state = before.clone();
            fold_answers(&items, &mut state);
            let replanned = match options.desired {
                Some(desired) => Some(intsync_plan::plan(provider.target(), desired, &state).ok()?),
                None => None,
            };
            unconfirmed(&items, &state, replanned.as_ref())
                .is_empty()
                .then_some(state)
        });
        if let Some(state) = answered {
            verified = Some(state);
        } else {
            // A doubt (or no state to fold into): live state, read again, decides.
            // Reading only: a stop asked for meanwhile ends it (the writes are done and saved).
            let reading = tokio::select! {
                biased;
                _ = options.stop.requested() => None,
                reading = provider.observe() => Some(reading),
            };
            match reading {
                Some(Ok(observed)) => {
                    let replanned = options
                        .desired
                        .map(|desired| intsync_plan::plan(provider.target(), desired, &observed));
                    match replanned {
                        Some(Err(errors)) => {
                            verify(&mut items, &observed, None);
                            problems.push(RunProblem::Replan(errors));
                        }
                        Some(Ok(plan)) => verify(&mut items, &observed, Some(&plan)),
                        None => verify(&mut items, &observed, None),
                    }
                    verified = Some(observed);
                }
                Some(Err(error)) => problems.push(RunProblem::VerifyRead(error)),
                None => {}
            }
        }
    }
    let stopped = options.stop.reason();
    if let Err(error) = provider.checkpoint() {
        problems.push(RunProblem::Checkpoint(error));
    }
    Report {
        items,
        skipped_blocked,
        stopped,
        verified,
        problems,
    }
}

/// What the plan `replanned` still wants to change, per integration: the fields, as a message
/// names them. Built once per verification, not searched per write.
fn still_changes(replanned: &Plan) -> HashMap<(Kind, &str), String> {
    replanned
        .actions
        .iter()
        .filter_map(|action| match action {
            Action::Update {
                kind, id, patch, ..
            }
            | Action::Blocked {
                kind, id, patch, ..
            } => Some((
                (*kind, id.as_str()),
                patch
                    .keys()
                    .map(|field| format!("`{field}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            )),
            _ => None,
        })
        .collect()
}

/// Every write reported done must show in `observed`: a create's whole body, an update's patch;
/// and, given `replanned` (the manifests planned again against `observed`), every written
/// integration must now be a noop. Those that are not become failures.
pub fn verify(items: &mut [(Action, Outcome)], observed: &Observed, replanned: Option<&Plan>) {
    for (index, problem) in unconfirmed(items, observed, replanned) {
        let (action, outcome) = &mut items[index];
        let id = outcome.observed().map(|o| o.id.clone()).unwrap_or_default();
        *outcome = Outcome::Failed(ItemError::NotVerified {
            kind: action.kind(),
            name: action.name().unwrap_or("(unnamed)").to_owned(),
            id,
            problem,
        });
    }
}

/// The writes done that `observed` (and `replanned`) do not confirm: their index, and why.
fn unconfirmed(
    items: &[(Action, Outcome)],
    observed: &Observed,
    replanned: Option<&Plan>,
) -> Vec<(usize, String)> {
    let live: HashMap<(Kind, &str), &ObservedIntegration> = observed
        .integrations
        .iter()
        .map(|o| ((o.kind, o.id.as_str()), o))
        .collect();
    let changing = replanned.map(still_changes).unwrap_or_default();
    let mut problems = Vec::new();
    for (index, (action, outcome)) in items.iter().enumerate() {
        let (id, wanted) = match (outcome, action) {
            (Outcome::Created { observed, .. }, Action::Create { body, .. }) => {
                (observed.id.as_str(), body)
            }
            (Outcome::Updated { observed }, Action::Update { patch, .. }) => {
                (observed.id.as_str(), patch)
            }
            _ => continue,
        };
        let kind = action.kind();
        let problem = match live.get(&(kind, id)) {
            Some(live) if holds(kind, live, wanted) => match changing.get(&(kind, id)) {
                None => continue,
                Some(fields) => format!(
                    "was written, but still differs from its manifest in {fields} (the plan missed a change: please report it)"
                ),
            },
            Some(_) => "was written, but live state does not show the change".to_owned(),
            None => match observed
                .unreadable
                .iter()
                .find(|u| u.kind == kind && u.id.as_deref() == Some(id))
            {
                Some(u) => format!(
                    "was written, but live state cannot be read back: it {}",
                    u.reason
                ),
                None => "was written, but is not listed".to_owned(),
            },
        };
        problems.push((index, problem));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use intsync_plan::DesiredIntegration;
    use serde_json::{Value, json};

    fn object(v: Value) -> intsync_manifest::Fields {
        v.as_object().cloned().unwrap_or_default().into()
    }

    fn live_with(id: &str, status: &str, fields: Value) -> ObservedIntegration {
        ObservedIntegration::new(
            Kind::AdaPlatformIntegration,
            id.into(),
            Some(status.into()),
            None,
            fields.as_object().cloned().unwrap_or_default(),
        )
    }

    fn live(id: &str, fields: Value) -> ObservedIntegration {
        live_with(id, "development", fields)
    }

    fn observed(items: Vec<ObservedIntegration>) -> Observed {
        Observed {
            kinds: vec![Kind::AdaPlatformIntegration],
            integrations: items,
            ignored: Vec::new(),
            unreadable: Vec::new(),
        }
    }

    fn desired(name: &str, description: &str) -> DesiredIntegration {
        DesiredIntegration {
            kind: Kind::AdaPlatformIntegration,
            id: None,
            spec: object(json!({"name": name, "description": description})),
            manifest: format!("{name}.yaml"),
            origin: Default::default(),
            routing: Default::default(),
        }
    }

    /// A manifest of an integration not live yet: every field a create needs.
    fn new_one(name: &str, description: &str) -> DesiredIntegration {
        DesiredIntegration {
            spec: object(intsync_plan::testing::creatable(
                Kind::AdaPlatformIntegration,
                json!({"name": name, "description": description}),
            )),
            ..desired(name, description)
        }
    }

    /// C of [`saved_plan`] as live state shows it once created.
    fn created_c() -> ObservedIntegration {
        live(
            "c",
            intsync_plan::testing::creatable(
                Kind::AdaPlatformIntegration,
                json!({"name": "C", "description": "created"}),
            ),
        )
    }

    /// A plan of: update A (old → new), create C, noop B.
    fn saved_plan() -> (Plan, Observed) {
        let before = observed(vec![
            live("a", json!({"name": "A", "description": "old"})),
            live("b", json!({"name": "B", "description": "same"})),
        ]);
        let plan = intsync_plan::plan(
            "t",
            &[
                desired("A", "new"),
                desired("B", "same"),
                new_one("C", "created"),
            ],
            &before,
        )
        .unwrap();
        (plan, before)
    }

    fn kinds(plan: &Plan) -> Vec<&'static str> {
        plan.actions
            .iter()
            .map(|a| match a {
                Action::Create { .. } => "create",
                Action::Update { .. } => "update",
                Action::Blocked { .. } => "blocked",
                Action::Noop { .. } => "noop",
            })
            .collect()
    }

    #[test]
    fn recheck_keeps_pending_actions() {
        let (plan, before) = saved_plan();
        let again = recheck(plan.clone(), &before).unwrap();
        assert_eq!(again, plan);
    }

    #[test]
    fn recheck_turns_what_was_already_applied_into_noops() {
        let (plan, _) = saved_plan();
        let after = observed(vec![
            live("a", json!({"name": "A", "description": "new"})),
            live("b", json!({"name": "B", "description": "same"})),
            created_c(),
        ]);
        let again = recheck(plan, &after).unwrap();
        assert_eq!(kinds(&again), ["noop", "noop", "noop"]);
        assert_eq!(again.actions[2].id(), Some("c"), "the create found by name");
    }

    #[test]
    fn recheck_refuses_what_moved_and_says_what() {
        let (plan, _) = saved_plan();
        let moved = observed(vec![
            live("a", json!({"name": "A", "description": "someone else"})),
            live(
                "c",
                json!({"name": "C", "description": "not what we wanted"}),
            ),
        ]);
        let problems: Vec<String> = recheck(plan, &moved)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "AdaPlatformIntegration \"A\" (a) changed: description",
                "AdaPlatformIntegration \"B\" (b) no longer exists",
                "AdaPlatformIntegration \"C\" now exists live; the plan would create it again",
            ]
        );
    }

    /// A saved plan against live state where some integrations cannot be read now (issue #22):
    /// an update or a noop of one is stale, and so is a create one of them may be (of its name,
    /// or one whose name cannot be read), never a write that could make a duplicate.
    #[test]
    fn recheck_refuses_what_cannot_be_read_now() {
        let (plan, _) = saved_plan();
        let unreadable =
            |id: Option<&str>, name: Option<&str>, reason: &str| intsync_plan::Unreadable {
                kind: Kind::AdaPlatformIntegration,
                id: id.map(str::to_owned),
                name: name.map(str::to_owned),
                page: "/api/v2/platform-integrations/?limit=100".to_owned(),
                reason: reason.to_owned(),
                set_aside: Vec::new(),
            };
        let mut now = observed(vec![live("b", json!({"name": "B", "description": "same"}))]);
        now.unreadable = vec![
            unreadable(Some("a"), Some("A"), "has no `status`"),
            unreadable(
                Some("c"),
                Some("C"),
                "has no `scopes`, which the API always returns",
            ),
        ];
        let problems: Vec<String> = recheck(plan.clone(), &now)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            problems,
            [
                "AdaPlatformIntegration \"A\" (a) cannot be read live now: it has no `status`",
                "AdaPlatformIntegration \"C\" may exist live now: the integration c cannot be read (it has no `scopes`, which the API always returns), and it may be this one; the plan would create it again",
            ]
        );
        let mut nameless = observed(vec![
            live("a", json!({"name": "A", "description": "old"})),
            live("b", json!({"name": "B", "description": "same"})),
        ]);
        nameless.unreadable = vec![unreadable(None, None, "is an array, not an object")];
        let problems = recheck(plan, &nameless).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].name.as_deref(), Some("C"));
    }

    #[test]
    fn prepare_refuses_blocked_unless_told_to_skip_them() {
        let frozen = live_with("f", "approved", json!({"name": "F", "description": "old"}));
        let plan = intsync_plan::plan(
            "t",
            &[desired("F", "new"), new_one("C", "x")],
            &observed(vec![frozen]),
        )
        .unwrap();
        let refused = prepare(&plan, false).unwrap_err();
        assert_eq!(refused.blocked.len(), 1);
        let batch = prepare(&plan, true).unwrap();
        assert_eq!(batch.writes.len(), 1);
        assert_eq!(batch.skipped_blocked.len(), 1);
    }

    fn updated(id: &str, fields: Value) -> Outcome {
        Outcome::Updated {
            observed: live(id, fields),
        }
    }

    #[test]
    fn verify_fails_writes_that_live_state_does_not_show() {
        let (plan, _) = saved_plan();
        let update = plan.actions[0].clone();
        let create = plan.actions[2].clone();
        let mut items = vec![
            (
                update.clone(),
                updated("a", json!({"name": "A", "description": "new"})),
            ),
            (
                create.clone(),
                Outcome::Created {
                    observed: created_c(),
                    secret: crate::SecretSaved::NoneIssued,
                    adopted: false,
                },
            ),
        ];
        // Both show: nothing changes.
        let shows = observed(vec![
            live("a", json!({"name": "A", "description": "new"})),
            created_c(),
        ]);
        verify(&mut items, &shows, None);
        assert!(items.iter().all(|(_, o)| o.is_done()));
        // The update reverted, the create gone: both fail, and say so.
        let lost = observed(vec![live("a", json!({"name": "A", "description": "old"}))]);
        verify(&mut items, &lost, None);
        let failures: Vec<String> = items
            .iter()
            .map(|(_, o)| match o {
                Outcome::Failed(e) => e.to_string(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            failures,
            [
                "AdaPlatformIntegration \"A\" (a) was written, but live state does not show the change",
                "AdaPlatformIntegration \"C\" (c) was written, but is not listed",
            ]
        );
    }

    /// A written integration whose patch landed, but that still differs from its manifest (the
    /// plan missed a field): verification against a fresh plan of the manifests says so.
    #[test]
    fn verify_replans_and_fails_what_still_differs_from_its_manifest() {
        let (plan, _) = saved_plan();
        let mut update = plan.actions[0].clone();
        // As if the planner had left `author` out of the patch.
        let want = DesiredIntegration {
            spec: object(json!({"name": "A", "description": "new", "author": "Ada Lovelace"})),
            ..desired("A", "new")
        };
        if let Action::Update { patch, .. } = &mut update {
            assert!(!patch.contains_key("author"));
        }
        let live_now = observed(vec![live(
            "a",
            json!({"name": "A", "description": "new", "author": "someone"}),
        )]);
        let replanned = intsync_plan::plan("t", &[want], &live_now).unwrap();
        let mut items = vec![(
            update.clone(),
            updated("a", json!({"name": "A", "description": "new"})),
        )];
        verify(&mut items, &live_now, None);
        assert!(items[0].1.is_done(), "the patch itself landed");
        verify(&mut items, &live_now, Some(&replanned));
        let Outcome::Failed(error) = &items[0].1 else {
            panic!("{:?}", items[0].1)
        };
        assert_eq!(
            error.to_string(),
            "AdaPlatformIntegration \"A\" (a) was written, but still differs from its manifest in `author` (the plan missed a change: please report it)"
        );
    }

    fn report(outcomes: Vec<Outcome>, stopped: Option<StopReason>) -> Report {
        let (plan, _) = saved_plan();
        Report {
            items: outcomes
                .into_iter()
                .map(|o| (plan.actions[0].clone(), o))
                .collect(),
            skipped_blocked: Vec::new(),
            stopped,
            verified: None,
            problems: Vec::new(),
        }
    }

    fn stale() -> Outcome {
        Outcome::Failed(ItemError::Stale(ProviderError::VersionConflict {
            method: http_patch(),
            url: "u".into(),
            expected: 1,
            live_version: 2,
            live: Box::new(live("a", json!({}))),
        }))
    }

    fn http_patch() -> http::Method {
        http::Method::PATCH
    }

    #[test]
    fn status_is_stale_only_when_every_failure_is_stale_and_a_stop_outranks_all() {
        let ok = || updated("a", json!({}));
        let refused = || {
            Outcome::Failed(ItemError::Provider(ProviderError::Refused {
                method: http_patch(),
                url: "u".into(),
                status: 400,
                message: "bad".into(),
                hint: String::new(),
            }))
        };
        assert_eq!(report(vec![ok(), ok()], None).status(), Status::Ok);
        assert_eq!(report(vec![ok(), stale()], None).status(), Status::Stale);
        assert_eq!(
            report(vec![stale(), refused()], None).status(),
            Status::Failed
        );
        assert_eq!(
            report(vec![ok(), Outcome::NotDone], Some(StopReason::Terminate)).status(),
            Status::Stopped(StopReason::Terminate)
        );
        let mut with_problem = report(vec![stale()], None);
        with_problem.problems.push(RunProblem::Task("boom".into()));
        assert_eq!(with_problem.status(), Status::Failed);
    }

    #[test]
    fn results_fold_into_held_state() {
        let mut held = observed(vec![live("a", json!({"name": "A", "description": "old"}))]);
        let r = report(
            vec![
                updated("a", json!({"name": "A", "description": "new"})),
                updated("n", json!({"name": "N"})),
                Outcome::NotDone,
            ],
            None,
        );
        r.fold_into(&mut held);
        assert_eq!(held.integrations.len(), 2);
        assert_eq!(
            held.integrations[0].fields.get("description").unwrap(),
            "new"
        );
        assert_eq!(held.integrations[1].id, "n");
        // A verification's reading replaces the held state whole.
        let mut verified = report(Vec::new(), None);
        verified.verified = Some(observed(Vec::new()));
        verified.fold_into(&mut held);
        assert!(held.integrations.is_empty());
    }
}
