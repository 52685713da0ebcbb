//! `plan(desired, observed)`: a pure function. Same inputs, same plan, byte for byte.

use crate::index::HashMap;
use std::io::Write as _;

use intsync_manifest::{Fields, Kind};
use rayon::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{
    Action, Candidate, Claim, DesiredIntegration, Observed, ObservedIntegration, Plan, PlanError,
    Problem, SetAside, Skipped, Summary, Unmanaged, Unreadable,
};
use crate::normalize;

/// The hash of the normalized live object a plan was computed from (`sha256:<hex>`): its kind,
/// id, status, version and every known field. `apply --plan` refuses to write when it moved.
/// Computed once, when the integration is read ([`ObservedIntegration::new`]).
pub fn fingerprint(observed: &ObservedIntegration) -> String {
    observed.fingerprint.clone()
}

/// [`fingerprint`] of an integration's parts.
pub(crate) fn fingerprint_of(
    kind: Kind,
    id: &str,
    status: Option<&str>,
    version: Option<u64>,
    fields: &Map<String, Value>,
) -> String {
    // Writing into a Vec cannot fail.
    hashed(kind, id, status, version, |text| {
        normalize::write_fields(kind, fields, text).ok()
    })
    .unwrap_or_default()
}

/// [`fingerprint`] of an integration's parts, its fields given as their canonical text
/// ([`normalize::read_compact_item`]'s, what [`normalize::write_fields`] writes).
pub(crate) fn fingerprint_of_canonical(
    kind: Kind,
    id: &str,
    status: Option<&str>,
    version: Option<u64>,
    fields: &[u8],
) -> String {
    hashed(kind, id, status, version, |text| {
        text.extend_from_slice(fields);
        Some(())
    })
    .unwrap_or_default()
}

/// The hash of the canonical header of an integration and of what `fields` writes after it.
fn hashed(
    kind: Kind,
    id: &str,
    status: Option<&str>,
    version: Option<u64>,
    fields: impl FnOnce(&mut Vec<u8>) -> Option<()>,
) -> Option<String> {
    // The canonical text, written into one buffer and hashed at once (small writes straight
    // into the hasher cost more than the hashing).
    let mut text = Vec::with_capacity(4096);
    write_header(kind, id, status, version, &mut text);
    fields(&mut text)?;
    let digest = Sha256::digest(&text);
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    Some(out)
}

/// The canonical text of `{"kind", "id", "status", "version"}` ([`normalize::write_canonical`]
/// of that object: keys sorted, `null` for what is missing), written directly: it is written
/// for every live integration (issue #24).
fn write_header(
    kind: Kind,
    id: &str,
    status: Option<&str>,
    version: Option<u64>,
    out: &mut Vec<u8>,
) {
    let string = |out: &mut Vec<u8>, text: &str| {
        // Writing JSON into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    };
    out.extend_from_slice(b"{\"id\":");
    string(out, id);
    out.extend_from_slice(b",\"kind\":");
    string(out, kind.as_str());
    out.extend_from_slice(b",\"status\":");
    match status {
        Some(status) => string(out, status),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"version\":");
    match version {
        Some(version) => {
            let _ = write!(out, "{version}");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// The minimal PATCH body: every managed field whose normalized value differs, with its whole
/// desired value.
pub fn minimal_patch(
    desired: &DesiredIntegration,
    observed: &ObservedIntegration,
) -> Map<String, Value> {
    // The live fields are looked for in the manifest's order, which is mostly theirs.
    let mut near = 0;
    desired
        .spec
        .iter_raw()
        .filter(|(field, value)| {
            let live = observed.fields.raw_near(field, &mut near);
            !normalize::raw_field_equal(desired.kind, field, value, live)
        })
        .map(|(field, value)| (field.into_owned(), Fields::read(value)))
        .collect()
}

/// Computes the plan for `target`. Linear in the number of integrations: live objects are
/// indexed by id and by name, never scanned per manifest.
///
/// # Errors
///
/// Every identity problem at once: a `metadata.id` no live object has, a name several live
/// objects share (the message names their ids), a live object claimed by two manifests.
///
/// A manifest that may be a live integration whose answer cannot be read
/// ([`Observed::unreadable`]) is no error: it is set aside, listed under that integration in
/// [`Plan::unreadable`], and everything else is planned. It may be that integration when its
/// `metadata.id` is the integration's id; when, without `metadata.id`, its name is the
/// integration's (even if a readable integration has that name too); and when it would be
/// created while an unreadable integration of its kind has no readable name (creating it could
/// make a duplicate, and Ada has no delete). Manifests pinned by `metadata.id` to a readable
/// integration always plan.
pub fn plan(
    target: &str,
    desired: &[DesiredIntegration],
    observed: &Observed,
) -> Result<Plan, Vec<PlanError>> {
    let mut by_id: HashMap<(Kind, &str), usize> =
        crate::index::with_capacity(observed.integrations.len());
    let mut by_name: HashMap<(Kind, &str), Vec<usize>> =
        crate::index::with_capacity(observed.integrations.len());
    for (i, live) in observed.integrations.iter().enumerate() {
        by_id.insert((live.kind, live.id.as_str()), i);
        if let Some(name) = live.name() {
            by_name.entry((live.kind, name)).or_default().push(i);
        }
    }

    let foreign: crate::index::HashSet<(Kind, &str)> = observed
        .ignored
        .iter()
        .map(|i| (i.kind, i.id.as_str()))
        .collect();
    // Live integrations that cannot be read: by id, by readable name, and, per kind, those
    // whose name cannot be read (any create of that kind may be one of them).
    let mut unreadable: Vec<Unreadable> = observed
        .unreadable
        .iter()
        .map(|u| Unreadable {
            set_aside: Vec::new(),
            ..u.clone()
        })
        .collect();
    let mut unreadable_by_id: HashMap<(Kind, &str), Vec<usize>> = HashMap::default();
    let mut unreadable_by_name: HashMap<(Kind, &str), Vec<usize>> = HashMap::default();
    let mut nameless: HashMap<Kind, Vec<usize>> = HashMap::default();
    for (i, u) in observed.unreadable.iter().enumerate() {
        if let Some(id) = &u.id {
            unreadable_by_id.entry((u.kind, id)).or_default().push(i);
        }
        match &u.name {
            Some(name) => unreadable_by_name
                .entry((u.kind, name))
                .or_default()
                .push(i),
            None => nameless.entry(u.kind).or_default().push(i),
        }
    }
    let mut claimed: Vec<Option<&str>> = vec![None; observed.integrations.len()];
    let mut actions = Vec::with_capacity(desired.len());
    let mut skipped = Vec::new();
    let mut errors = Vec::new();
    for want in desired {
        if !observed.kinds.contains(&want.kind) {
            skipped.push(Skipped {
                kind: want.kind,
                name: want.name().map(str::to_owned),
                manifest: want.manifest.clone(),
            });
            continue;
        }
        let error = |problem: Problem| PlanError {
            manifest: want.manifest.clone(),
            problem,
        };
        let mut set_aside = |entries: &[usize], claim: Claim| {
            for &i in entries {
                unreadable[i].set_aside.push(SetAside {
                    manifest: want.manifest.clone(),
                    name: want.name().map(str::to_owned),
                    claim,
                });
            }
        };
        let matched = match (&want.id, want.name()) {
            (Some(id), _) => match by_id.get(&(want.kind, id.as_str())) {
                Some(&i) => Some(i),
                None if unreadable_by_id.contains_key(&(want.kind, id.as_str())) => {
                    set_aside(&unreadable_by_id[&(want.kind, id.as_str())], Claim::Id);
                    continue;
                }
                None if foreign.contains(&(want.kind, id.as_str())) => {
                    errors.push(error(Problem::ForeignId {
                        kind: want.kind,
                        id: id.clone(),
                    }));
                    continue;
                }
                None => {
                    errors.push(error(Problem::NoSuchId {
                        kind: want.kind,
                        id: id.clone(),
                    }));
                    continue;
                }
            },
            (None, Some(name)) if unreadable_by_name.contains_key(&(want.kind, name)) => {
                set_aside(&unreadable_by_name[&(want.kind, name)], Claim::Name);
                continue;
            }
            (None, Some(name)) => match by_name.get(&(want.kind, name)).map(Vec::as_slice) {
                None | Some([]) if nameless.contains_key(&want.kind) => {
                    set_aside(&nameless[&want.kind], Claim::Create);
                    continue;
                }
                None | Some([]) => None,
                Some([i]) => Some(*i),
                Some(many) => {
                    errors.push(error(Problem::AmbiguousName {
                        kind: want.kind,
                        name: name.to_owned(),
                        candidates: many
                            .iter()
                            .map(|&i| Candidate {
                                id: observed.integrations[i].id.clone(),
                                created: observed.integrations[i].created.clone(),
                            })
                            .collect(),
                    }));
                    continue;
                }
            },
            (None, None) => {
                errors.push(error(Problem::Unmatchable));
                continue;
            }
        };
        let Some(index) = matched else {
            // Fields a create needs are needed only now (design §4): matched by name, a
            // manifest manages just the fields it gives.
            let missing = want
                .kind
                .missing_for_create(|field| want.spec.contains_key(field));
            if missing.is_empty() {
                actions.push(Slot::Create(want));
            } else {
                errors.push(error(Problem::CreateLacks {
                    kind: want.kind,
                    name: want.name().unwrap_or_default().to_owned(),
                    missing,
                }));
            }
            continue;
        };
        let live = &observed.integrations[index];
        if let Some(other) = claimed[index] {
            errors.push(error(Problem::ClaimedTwice {
                kind: live.kind,
                id: live.id.clone(),
                other: other.to_owned(),
            }));
            continue;
        }
        claimed[index] = Some(&want.manifest);
        actions.push(Slot::Matched(want, live));
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    // Each matched pair is compared and fingerprinted on its own, on every core; the actions
    // stay in manifest order.
    let actions: Vec<Action> = actions
        .into_par_iter()
        .map(|slot| match slot {
            Slot::Create(want) => create_for(want),
            Slot::Matched(want, live) => action_for(want, live),
        })
        .collect();
    let unmanaged: Vec<Unmanaged> = observed
        .integrations
        .iter()
        .zip(&claimed)
        .filter(|(_, claim)| claim.is_none())
        .map(|(live, _)| Unmanaged {
            kind: live.kind,
            id: live.id.clone(),
            name: live.name().map(str::to_owned),
        })
        .collect();
    let mut summary = Summary {
        unmanaged: unmanaged.len(),
        ..Summary::default()
    };
    for action in &actions {
        match action {
            Action::Create { .. } => summary.create += 1,
            Action::Update { .. } => summary.update += 1,
            Action::Blocked { .. } => summary.blocked += 1,
            Action::Noop { .. } => summary.noop += 1,
        }
    }
    let sensitive = sensitive_of(desired, &actions);
    Ok(Plan {
        format_version: 1,
        target: target.to_owned(),
        has_changes: summary.create + summary.update + summary.blocked > 0,
        summary,
        actions,
        unmanaged,
        skipped,
        ignored: observed.ignored.len(),
        unreadable,
        sensitive,
    })
}

/// The values of `actions` that come from sensitive vars (hashes filled by the run): only those
/// an action sends or shows (a noop, or a field the patch leaves alone, has none).
fn sensitive_of(desired: &[DesiredIntegration], actions: &[Action]) -> Vec<crate::Sensitive> {
    let with: Vec<&DesiredIntegration> = desired
        .iter()
        .filter(|d| d.routing.sensitive().next().is_some())
        .collect();
    if with.is_empty() {
        return Vec::new();
    }
    let fields: std::collections::HashMap<&str, Vec<&str>> = actions
        .iter()
        .filter_map(|action| {
            let keys: Vec<&str> = match action {
                Action::Create { body, .. } => body.keys().map(String::as_str).collect(),
                Action::Update { patch, .. } | Action::Blocked { patch, .. } => {
                    patch.keys().map(String::as_str).collect()
                }
                Action::Noop { .. } => return None,
            };
            Some((action.manifest(), keys))
        })
        .collect();
    let mut out = Vec::new();
    for d in with {
        let Some(keys) = fields.get(d.manifest.as_str()) else {
            continue;
        };
        for used in d.routing.sensitive() {
            if keys.contains(&used.field().as_str()) {
                out.push(crate::Sensitive {
                    manifest: d.manifest.clone(),
                    pointer: used.pointer.clone(),
                    var: used.name.clone(),
                    hash: String::new(),
                });
            }
        }
    }
    out
}

/// What an action of the plan is computed from.
enum Slot<'a> {
    Create(&'a DesiredIntegration),
    Matched(&'a DesiredIntegration, &'a ObservedIntegration),
}

fn create_for(want: &DesiredIntegration) -> Action {
    Action::Create {
        kind: want.kind,
        name: want.name().map(str::to_owned),
        manifest: want.manifest.clone(),
        body: want.spec.to_map(),
        set_after_create: want
            .spec
            .keys()
            .filter(|f| want.kind.field(f).is_some_and(|d| !d.in_create_body))
            .map(std::borrow::Cow::into_owned)
            .collect(),
        drift: None,
    }
}

fn action_for(want: &DesiredIntegration, live: &ObservedIntegration) -> Action {
    let patch = minimal_patch(want, live);
    let name = live.name().or(want.name()).map(str::to_owned);
    let fingerprint = live.fingerprint.clone();
    if patch.is_empty() {
        return Action::Noop {
            kind: want.kind,
            id: live.id.clone(),
            name,
            manifest: want.manifest.clone(),
            fingerprint,
        };
    }
    let before: Map<String, Value> = patch
        .keys()
        .map(|field| (field.clone(), live.fields.get(field).unwrap_or(Value::Null)))
        .collect();
    let profile = want.kind.profile();
    if profile.is_frozen(live.status.as_deref()) {
        return Action::Blocked {
            kind: want.kind,
            id: live.id.clone(),
            name,
            manifest: want.manifest.clone(),
            live_status: live.status.clone(),
            patch,
            live: before,
            reason: profile.frozen_reason.to_owned(),
            fingerprint,
            drift: None,
        };
    }
    Action::Update {
        kind: want.kind,
        id: live.id.clone(),
        name,
        manifest: want.manifest.clone(),
        live_status: live.status.clone(),
        patch,
        live: before,
        // Truto's optimistic concurrency: the PATCH carries the version the plan saw.
        expected_version: live.version,
        fingerprint,
        drift: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header written directly is the canonical text of the header object, escapes and
    /// missing parts included.
    #[test]
    fn the_header_is_the_canonical_text_of_its_object() {
        for (id, status, version) in [
            ("abc", Some("development"), Some(3)),
            ("a\"b\\c\u{1}é", None, None),
            ("", Some("x\ny"), Some(u64::MAX)),
            ("42", None, Some(0)),
        ] {
            for kind in [Kind::AdaPlatformIntegration, Kind::TrutoIntegration] {
                let header = serde_json::json!({
                    "kind": kind.as_str(),
                    "id": id,
                    "status": status,
                    "version": version,
                });
                let mut expected = Vec::new();
                normalize::write_canonical(&header, &mut expected).unwrap();
                let mut written = Vec::new();
                write_header(kind, id, status, version, &mut written);
                assert_eq!(
                    String::from_utf8(written).unwrap(),
                    String::from_utf8(expected).unwrap()
                );
            }
        }
    }
}
