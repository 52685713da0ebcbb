//! Drift and pending (design §10): which differences of a plan someone made live, outside git
//! (*drift*), and which git made and were not applied yet (*pending*).
//!
//! A changed field is pending when its desired value differs between the baseline (the
//! manifests at the revision last applied) and now, or when the manifest is not in the
//! baseline; drift otherwise. Without a baseline every difference is drift. Pure, like the
//! planner.

use std::collections::HashMap;

use intsync_manifest::Kind;
use serde_json::{Map, Value};

use crate::model::{Action, DesiredIntegration, Plan};
use crate::normalize;

/// The manifests at the baseline, indexed by identity: `metadata.id` when they have one, and
/// `spec.name`.
pub struct Baseline<'a> {
    by_id: HashMap<(Kind, &'a str), &'a DesiredIntegration>,
    by_name: HashMap<(Kind, &'a str), &'a DesiredIntegration>,
}

impl<'a> Baseline<'a> {
    pub fn new(manifests: &'a [DesiredIntegration]) -> Baseline<'a> {
        let mut baseline = Baseline {
            by_id: HashMap::new(),
            by_name: HashMap::new(),
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
    fn find(&self, now: &DesiredIntegration) -> Option<&'a DesiredIntegration> {
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
                *drift = Some(fields);
            }
            Action::Update {
                kind,
                manifest,
                patch,
                drift,
                ..
            }
            | Action::Blocked {
                kind,
                manifest,
                patch,
                drift,
                ..
            } => {
                let fields = drifted(*kind, patch, then(manifest));
                with_drift += usize::from(!fields.is_empty());
                *drift = Some(fields);
            }
            Action::Noop { .. } => {}
        }
    }
    plan.summary.drift = Some(with_drift);
}

/// The fields of `patch` whose desired value is the baseline's (`then`: `None` without a
/// baseline, `Some(None)` when the manifest is new since it).
fn drifted(
    kind: Kind,
    patch: &Map<String, Value>,
    then: Option<Option<&DesiredIntegration>>,
) -> Vec<String> {
    let fields = patch.iter().filter(|(field, now)| match then {
        None => true,
        Some(None) => false,
        Some(Some(then)) => then
            .spec
            .get(field)
            .is_some_and(|was| normalize::field_equal(kind, field, now, Some(&was))),
    });
    sorted(fields.map(|(field, _)| field))
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
            let keep = drift.clone().unwrap_or_default();
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
                *drift = Some(fields);
            }
            Action::Create { drift, .. } => *drift = Some(Vec::new()),
            Action::Noop { .. } => {}
        }
    }
    plan.summary.drift = Some(with_drift);
}

/// One value `intsync pull` writes: `field` of the manifest `manifest` (as the plan names it)
/// takes `value`, its live value.
#[derive(Debug, Clone, PartialEq)]
pub struct Pull {
    pub manifest: String,
    pub field: String,
    pub value: Value,
}

/// What `intsync pull` writes for a classified plan: the live value of every drifted field of
/// the update and blocked actions (blocked ones too: that is how a manifest adopts an approved
/// integration's values). Also says, in words, what cannot be pulled: a create with drift (the
/// integration is gone live) and a field with no value live that the API cannot clear.
pub fn pulls(plan: &Plan) -> (Vec<Pull>, Vec<String>) {
    let mut pulls = Vec::new();
    let mut notes = Vec::new();
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
                notes.push(format!(
                    "{manifest}: {kind} {:?} is not live, so there is nothing to pull (`intsync apply` creates it again; delete the manifest to keep it gone)",
                    action.name().unwrap_or("(unnamed)")
                ));
                continue;
            }
            Action::Create { .. } | Action::Noop { .. } => continue,
        };
        for field in patch.keys().filter(|f| drift.contains(f)) {
            let value = live.get(field).cloned().unwrap_or(Value::Null);
            if value.is_null() && !kind.field(field).is_some_and(|f| f.nullable) {
                notes.push(format!(
                    "{manifest}: `{field}` has no value live, and the manifest cannot say so; remove the line to stop managing it"
                ));
                continue;
            }
            pulls.push(Pull {
                manifest: manifest.clone(),
                field: field.clone(),
                value,
            });
        }
    }
    (pulls, notes)
}
