//! Drift and pending (design §10): which differences of a plan someone made live, outside git
//! (*drift*), and which git made and were not applied yet (*pending*).
//!
//! A changed field is drift when its live value is not the baseline's desired value (the
//! manifests at the revision last applied): someone changed it live since. It is pending when
//! its desired value differs between the baseline and now, or when the baseline did not manage
//! it (or has no such manifest). A field can be both: git changed it *and* someone changed it
//! live (`also_pending`); it counts as drift, so that no live edit goes unreported and is
//! overwritten unseen by the next apply. Without a baseline every difference is drift. Pure,
//! like the planner.

use crate::index::HashMap;

use intsync_manifest::Kind;
use serde_json::{Map, Value};

use crate::inert::{code_span, visible};
use crate::model::{Action, DesiredIntegration, Drift, Plan};
use crate::normalize;

/// Manifests as they were at some earlier point (the revision last applied, for drift; the last
/// write, for `watch --apply`: [`crate::saves`]), indexed by identity: `metadata.id` when they
/// have one, and `spec.name`.
pub struct Baseline<'a> {
    by_id: HashMap<(Kind, &'a str), &'a DesiredIntegration>,
    by_name: HashMap<(Kind, &'a str), &'a DesiredIntegration>,
}

impl<'a> Baseline<'a> {
    pub fn new(manifests: &'a [DesiredIntegration]) -> Baseline<'a> {
        let mut baseline = Baseline {
            by_id: HashMap::default(),
            by_name: HashMap::default(),
        };
        for manifest in manifests {
            if let Some(id) = &manifest.id {
                baseline
                    .by_id
                    .insert((manifest.kind, id.as_str()), manifest);
            }
            if let Some(name) = manifest.name() {
                baseline.by_name.insert((manifest.kind, name), manifest);
            }
        }
        baseline
    }

    /// The baseline's version of `now`: the same `metadata.id`, else the same name.
    pub fn find(&self, now: &DesiredIntegration) -> Option<&'a DesiredIntegration> {
        let by_id = now
            .id
            .as_deref()
            .and_then(|id| self.by_id.get(&(now.kind, id)));
        let by_name = || {
            now.name()
                .and_then(|name| self.by_name.get(&(now.kind, name)))
        };
        by_id.or_else(by_name).copied()
    }
}

/// Marks every create, update and blocked action of `plan` with its drifted fields, and sets
/// `summary.drift`. `desired` is what the plan was computed from (matched to actions by
/// manifest); `baseline` `None` counts every difference as drift.
pub fn classify(plan: &mut Plan, desired: &[DesiredIntegration], baseline: Option<&Baseline<'_>>) {
    let by_manifest: HashMap<&str, &DesiredIntegration> =
        desired.iter().map(|d| (d.manifest.as_str(), d)).collect();
    let then = |manifest: &str| -> Option<Option<&DesiredIntegration>> {
        let baseline = baseline?;
        Some(by_manifest.get(manifest).and_then(|now| baseline.find(now)))
    };
    let mut with_drift = 0;
    for action in &mut plan.actions {
        match action {
            Action::Create {
                manifest,
                body,
                drift,
                ..
            } => {
                // Applied before (or no baseline to say otherwise), yet missing live: deleted
                // outside git. New since the baseline: pending.
                let fields = match then(manifest) {
                    Some(None) => Vec::new(),
                    None | Some(Some(_)) => sorted(body.keys()),
                };
                with_drift += usize::from(!fields.is_empty());
                *drift = Some(Drift::all(fields));
            }
            Action::Update {
                kind,
                manifest,
                patch,
                live,
                drift,
                ..
            }
            | Action::Blocked {
                kind,
                manifest,
                patch,
                live,
                drift,
                ..
            } => {
                let classified = drifted(*kind, patch, live, then(manifest));
                with_drift += usize::from(!classified.drift.is_empty());
                *drift = Some(classified);
            }
            Action::Noop { .. } => {}
        }
    }
    plan.summary.drift = Some(with_drift);
}

/// Which fields of `patch` drifted, against the baseline's manifest `then` (`None` without a
/// baseline: all of them; `Some(None)` when the manifest is new since it: none). A field the
/// baseline managed drifted when its `live` value is not the baseline's: when git did not
/// change it (the patch is there because live differs from it), or when git changed it too
/// and live no longer holds what was applied (`also_pending`). A field the baseline did not
/// manage is pending only: nothing says what live held when it was applied.
fn drifted(
    kind: Kind,
    patch: &Map<String, Value>,
    live: &Map<String, Value>,
    then: Option<Option<&DesiredIntegration>>,
) -> Drift {
    let then = match then {
        None => return Drift::all(sorted(patch.keys())),
        Some(None) => return Drift::default(),
        Some(Some(then)) => then,
    };
    let mut drift = Vec::new();
    let mut also_pending = Vec::new();
    for (field, now) in patch {
        let Some(was) = then.spec.get(field) else {
            continue;
        };
        if normalize::field_equal(kind, field, now, Some(&was)) {
            drift.push(field);
        } else if !normalize::field_equal(
            kind,
            field,
            live.get(field).unwrap_or(&Value::Null),
            Some(&was),
        ) {
            drift.push(field);
            also_pending.push(field);
        }
    }
    Drift {
        drift: sorted(drift.into_iter()),
        also_pending: sorted(also_pending.into_iter()),
    }
}

fn sorted<'k>(fields: impl Iterator<Item = &'k String>) -> Vec<String> {
    let mut fields: Vec<String> = fields.cloned().collect();
    fields.sort();
    fields
}

/// The plan restricted to drift (`intsync drift`): actions without drift are left out, patches
/// (and their live values) hold only the drifted fields, unmanaged integrations are left out;
/// the summary counts what is left. Call [`classify`] first.
pub fn only_drift(mut plan: Plan) -> Plan {
    plan.actions
        .retain(|a| a.drift().is_some_and(|d| !d.is_empty()));
    for action in &mut plan.actions {
        if let Action::Update {
            patch, live, drift, ..
        }
        | Action::Blocked {
            patch, live, drift, ..
        } = action
        {
            let keep = drift.as_ref().map(|d| d.drift.clone()).unwrap_or_default();
            patch.retain(|field, _| keep.contains(field));
            live.retain(|field, _| keep.contains(field));
        }
    }
    plan.unmanaged.clear();
    plan.skipped.clear();
    let mut summary = crate::Summary {
        drift: Some(plan.actions.len()),
        ..crate::Summary::default()
    };
    for action in &plan.actions {
        match action {
            Action::Create { .. } => summary.create += 1,
            Action::Update { .. } => summary.update += 1,
            Action::Blocked { .. } => summary.blocked += 1,
            Action::Noop { .. } => {}
        }
    }
    plan.has_changes = !plan.actions.is_empty();
    plan.summary = summary;
    plan
}

/// For `watch --refresh`: marks as drift the changed fields whose live value moved between
/// `previous` (the last reading) and the reading the plan was computed from — someone changed
/// them live meanwhile; the other differences were already there (pending saves). An update of
/// an integration `previous` did not have is all drift. Creates are not drift here.
pub fn classify_moved(plan: &mut Plan, previous: &crate::Observed) {
    let before: HashMap<(Kind, &str), &crate::ObservedIntegration> = previous
        .integrations
        .iter()
        .map(|o| ((o.kind, o.id.as_str()), o))
        .collect();
    let mut with_drift = 0;
    for action in &mut plan.actions {
        match action {
            Action::Update {
                kind,
                id,
                patch,
                live,
                drift,
                ..
            }
            | Action::Blocked {
                kind,
                id,
                patch,
                live,
                drift,
                ..
            } => {
                let was = before.get(&(*kind, id.as_str()));
                let fields = sorted(patch.keys().filter(|field| match was {
                    None => true,
                    Some(was) => !normalize::field_equal(
                        *kind,
                        field,
                        live.get(*field).unwrap_or(&Value::Null),
                        was.fields.get(field).as_ref(),
                    ),
                }));
                with_drift += usize::from(!fields.is_empty());
                *drift = Some(Drift::all(fields));
            }
            Action::Create { drift, .. } => *drift = Some(Drift::default()),
            Action::Noop { .. } => {}
        }
    }
    plan.summary.drift = Some(with_drift);
}

/// One value `intsync pull` writes: `field` of the manifest `manifest` (as the plan names it),
/// written at `origin`, takes `value`, its live value.
#[derive(Debug, Clone, PartialEq)]
pub struct Pull {
    pub manifest: String,
    /// The file and document the manifest came from: where the value is written.
    pub origin: intsync_manifest::Origin,
    pub field: String,
    pub value: Value,
}

/// What `intsync pull` does with a classified plan ([`pulls`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pulls {
    /// The live values to write into the manifests.
    pub values: Vec<Pull>,
    /// What cannot be pulled and is left as it is, in words (a create with drift: the
    /// integration is gone live; a field with no value live that the manifest cannot say).
    pub skipped: Vec<String>,
    /// Fields that drifted and that git changed too since the baseline (`also_pending`):
    /// writing the live value would throw the git change away, keeping git's would throw the
    /// live edit away, so a person decides.
    pub conflicts: Vec<Conflict>,
}

/// A field changed both live (outside git) and in git since the baseline: not pulled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The manifest, as the plan names it (`manifests/a.yaml`, `manifests/all.yaml#2`).
    pub manifest: String,
    pub field: String,
}

/// What `intsync pull` writes for a classified plan: the live value of every drifted field of
/// the update and blocked actions (blocked ones too: that is how a manifest adopts an approved
/// integration's values), except the ones git changed too since the baseline, which are
/// conflicts. Also says, in words, what cannot be pulled: a create with drift (the integration
/// is gone live) and a field with no value live that the API cannot clear. `desired` are the
/// manifests the plan was made from: each value goes to its manifest's origin.
pub fn pulls(plan: &Plan, desired: &[DesiredIntegration]) -> Pulls {
    let origins: HashMap<&str, &DesiredIntegration> =
        desired.iter().map(|d| (d.manifest.as_str(), d)).collect();
    let mut out = Pulls::default();
    for action in &plan.actions {
        let drift = action.drift().unwrap_or_default();
        let (kind, manifest, patch, live) = match action {
            Action::Update {
                kind,
                manifest,
                patch,
                live,
                ..
            }
            | Action::Blocked {
                kind,
                manifest,
                patch,
                live,
                ..
            } => (*kind, manifest, patch, live),
            Action::Create { kind, manifest, .. } if !drift.is_empty() => {
                out.skipped.push(format!(
                    "{}: {kind} {:?} is not live, so there is nothing to pull (`intsync apply` creates it again; delete the manifest to keep it gone)",
                    visible(manifest),
                    action.name().unwrap_or("(unnamed)")
                ));
                continue;
            }
            Action::Create { .. } | Action::Noop { .. } => continue,
        };
        for field in patch.keys().filter(|f| drift.contains(f)) {
            if action.also_pending().contains(field) {
                out.conflicts.push(Conflict {
                    manifest: manifest.clone(),
                    field: field.clone(),
                });
                continue;
            }
            let value = live.get(field).cloned().unwrap_or(Value::Null);
            if value.is_null() && !kind.field(field).is_some_and(|f| f.nullable) {
                out.skipped.push(format!(
                    "{}: {} has no value live, and the manifest cannot say so; remove the line to stop managing it",
                    visible(manifest),
                    code_span(field)
                ));
                continue;
            }
            let Some(want) = origins.get(manifest.as_str()) else {
                continue; // not a manifest of this plan: nowhere to write
            };
            // A value (or a part of it) from a var is changed where the var is: never replaced
            // by a literal, which would cut it from the other targets' values.
            if let Some(used) = want.routing.vars.iter().find(|u| u.field() == *field) {
                out.skipped.push(format!(
                    "{}: {} comes from `!var {}` of target {}; change that var (in intsync.toml, or the environment variable it reads), not the manifest",
                    visible(manifest),
                    code_span(field),
                    visible(&used.name),
                    code_span(want.routing.target.as_deref().unwrap_or("?")),
                ));
                continue;
            }
            out.values.push(Pull {
                manifest: manifest.clone(),
                origin: want.origin.clone(),
                field: field.clone(),
                value,
            });
        }
    }
    out
}
