//! What saves changed, for `watch --apply` (design §12): it writes the changes a save made to
//! the manifests, never a difference that was there before — a change pending in git that
//! nobody asked it to write, or an edit made in the vendor's dashboard, which writing the whole
//! plan would revert. Pure, like the planner.

use crate::index::HashMap;

use crate::model::{Action, DesiredIntegration, Plan, Summary};
use crate::normalize;

/// The manifests as `watch` last wrote them (or as they were when it started), by identity.
pub type Since<'a> = crate::drift::Baseline<'a>;

/// The part of `plan` (computed from `desired`) that saves made since `since`: a create whose
/// manifest is new or changed; an update's (or a blocked change's) fields whose desired value
/// changed, or that a manifest manages newly. Everything else is left out, and the summary
/// counts what is left.
pub fn made_by_saves(plan: &Plan, desired: &[DesiredIntegration], since: &Since<'_>) -> Plan {
    let by_manifest: HashMap<&str, &DesiredIntegration> =
        desired.iter().map(|d| (d.manifest.as_str(), d)).collect();
    let earlier = |manifest: &str| by_manifest.get(manifest).map(|now| (*now, since.find(now)));
    let mut actions = Vec::new();
    for action in &plan.actions {
        let Some((now, then)) = earlier(action.manifest()) else {
            continue;
        };
        match action {
            Action::Create { .. } => {
                if then.is_none_or(|then| then.spec != now.spec) {
                    actions.push(action.clone());
                }
            }
            Action::Update { kind, patch, .. } | Action::Blocked { kind, patch, .. } => {
                let changed = |field: &String| {
                    let value = &patch[field];
                    then.is_none_or(|then| {
                        !then.spec.get(field).is_some_and(|was| {
                            normalize::field_equal(*kind, field, value, Some(&was))
                        })
                    })
                };
                let keep: Vec<String> = patch.keys().filter(|f| changed(f)).cloned().collect();
                if keep.is_empty() {
                    continue;
                }
                let mut action = action.clone();
                if let Action::Update {
                    patch, live: seen, ..
                }
                | Action::Blocked {
                    patch, live: seen, ..
                } = &mut action
                {
                    patch.retain(|field, _| keep.contains(field));
                    seen.retain(|field, _| keep.contains(field));
                }
                actions.push(action);
            }
            Action::Noop { .. } => {}
        }
    }
    let summary = Summary::of(&actions);
    Plan {
        has_changes: !actions.is_empty(),
        summary,
        actions,
        unmanaged: Vec::new(),
        skipped: Vec::new(),
        ignored: 0,
        ..plan.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Observed, ObservedIntegration};
    use intsync_manifest::Kind;
    use serde_json::{Value, json};

    fn desired(name: &str, spec: Value) -> DesiredIntegration {
        let mut spec = spec.as_object().cloned().unwrap_or_default();
        spec.insert("name".into(), name.into());
        DesiredIntegration {
            kind: Kind::AdaPlatformIntegration,
            id: None,
            spec: spec.into(),
            manifest: format!("{name}.yaml"),
            origin: Default::default(),
            routing: Default::default(),
        }
    }

    fn creatable(spec: Value) -> Value {
        crate::testing::creatable(Kind::AdaPlatformIntegration, spec)
    }

    fn live(id: &str, name: &str, status: &str, fields: Value) -> ObservedIntegration {
        let mut fields = fields.as_object().cloned().unwrap_or_default();
        fields.insert("name".into(), name.into());
        ObservedIntegration::new(
            Kind::AdaPlatformIntegration,
            id.into(),
            Some(status.into()),
            None,
            fields,
        )
    }

    fn summary(plan: &Plan) -> Vec<String> {
        plan.actions
            .iter()
            .map(|a| match a {
                Action::Create { name, .. } => format!("create {}", name.as_deref().unwrap_or("")),
                Action::Update { name, patch, .. } | Action::Blocked { name, patch, .. } => {
                    format!(
                        "{} {} {}",
                        if matches!(a, Action::Update { .. }) {
                            "update"
                        } else {
                            "blocked"
                        },
                        name.as_deref().unwrap_or(""),
                        patch.keys().cloned().collect::<Vec<_>>().join(",")
                    )
                }
                Action::Noop { .. } => "noop".into(),
            })
            .collect()
    }

    /// Issue #21: `watch --apply` wrote the whole pending plan, reverting a dashboard edit. Only
    /// what the saves changed is written.
    #[test]
    fn only_what_the_saves_changed_is_kept() {
        let observed = Observed {
            kinds: vec![Kind::AdaPlatformIntegration],
            integrations: vec![
                // Edited in the dashboard: description differs from the manifest.
                live(
                    "d",
                    "Dashboard",
                    "development",
                    json!({"description": "edited live", "author": "a"}),
                ),
                // Pending in git: author differs; then a save changes description too.
                live(
                    "p",
                    "Pending",
                    "development",
                    json!({"description": "x", "author": "old"}),
                ),
                live("f", "Frozen", "approved", json!({"description": "x"})),
            ],
            ignored: Vec::new(),
            unreadable: Vec::new(),
        };
        let at_start = vec![
            desired(
                "Dashboard",
                json!({"description": "from git", "author": "a"}),
            ),
            desired("Pending", json!({"description": "x", "author": "new"})),
            desired("Frozen", json!({"description": "x"})),
            desired("Uncreated", creatable(json!({"description": "x"}))),
        ];
        let now = vec![
            desired(
                "Dashboard",
                json!({"description": "from git", "author": "a"}),
            ),
            desired("Pending", json!({"description": "saved", "author": "new"})),
            desired("Frozen", json!({"description": "saved"})),
            desired("Uncreated", creatable(json!({"description": "x"}))),
            desired("Brand new", creatable(json!({"description": "x"}))),
        ];
        let since = Since::new(&at_start);
        let full = crate::plan("t", &now, &observed).unwrap();
        assert_eq!(
            summary(&full),
            [
                "update Dashboard description",
                "update Pending description,author",
                "blocked Frozen description",
                "create Uncreated",
                "create Brand new"
            ]
        );
        let saved = made_by_saves(&full, &now, &since);
        assert_eq!(
            summary(&saved),
            [
                "update Pending description",
                "blocked Frozen description",
                "create Brand new"
            ]
        );
        assert_eq!(
            (
                saved.summary.update,
                saved.summary.blocked,
                saved.summary.create
            ),
            (1, 1, 1)
        );
        // Nothing saved since: nothing to write, whatever the plan says.
        let quiet = made_by_saves(&full, &now, &Since::new(&now));
        assert!(quiet.actions.is_empty() && !quiet.has_changes);
        // A change to a manifest that was never created writes its create.
        let mut edited = now.clone();
        edited[3] = desired("Uncreated", creatable(json!({"description": "edited"})));
        let full = crate::plan("t", &edited, &observed).unwrap();
        assert!(
            summary(&made_by_saves(&full, &edited, &Since::new(&now)))
                .contains(&"create Uncreated".to_owned())
        );
    }
}
