//! Desired and observed state in one vocabulary, and the plan computed from them.

use intsync_manifest::{Fields, Kind};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One integration as a manifest wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredIntegration {
    pub kind: Kind,
    /// `metadata.id`, when the manifest pins the live object.
    pub id: Option<String>,
    /// The managed fields only; an explicit `null` means "clear it". Held as compact JSON text
    /// (see [`Fields`]).
    pub spec: Fields,
    /// Where it was written (`manifests/cool-shop.yaml`), for messages and the plan.
    pub manifest: String,
    /// Its file and document: where `pull` writes a live value back.
    pub origin: intsync_manifest::Origin,
    /// Which targets get it, and which of its values came from a target's vars (design §11).
    pub routing: intsync_manifest::Routing,
}

impl DesiredIntegration {
    pub fn name(&self) -> Option<&str> {
        self.spec.name()
    }

    pub fn from_manifest(manifest: intsync_manifest::Manifest) -> DesiredIntegration {
        let path = manifest.origin.path.to_string_lossy().replace('\\', "/");
        DesiredIntegration {
            kind: manifest.kind,
            id: manifest.id,
            spec: manifest.spec,
            manifest: if manifest.origin.document == 0 {
                path
            } else {
                format!("{path}#{}", manifest.origin.document + 1)
            },
            origin: manifest.origin,
            routing: manifest.routing,
        }
    }
}

/// One live integration, as a provider read it: its known fields only (server-managed and
/// unknown response keys already dropped), plus what the plan needs of the server-managed ones.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedIntegration {
    pub kind: Kind,
    pub id: String,
    /// Ada's `status` (`development`, `approved`, ...); `None` for Truto.
    pub status: Option<String>,
    /// Truto's `version`, sent back with a PATCH; `None` for Ada.
    pub version: Option<u64>,
    /// The writable fields as the API returned them, as compact JSON text (see [`Fields`]).
    pub fields: Fields,
    /// The [`crate::fingerprint`] of all of the above, computed once, when the integration is
    /// read ([`ObservedIntegration::new`]), from the values themselves.
    pub fingerprint: String,
    /// When it was created, as the vendor says it (Ada's `created`, Truto's `created_at`), for
    /// telling apart integrations that share a name. Not part of the fingerprint.
    pub created: Option<String>,
}

impl ObservedIntegration {
    /// A live integration with its fingerprint.
    pub fn new(
        kind: Kind,
        id: String,
        status: Option<String>,
        version: Option<u64>,
        fields: Map<String, Value>,
    ) -> ObservedIntegration {
        let fingerprint =
            crate::planner::fingerprint_of(kind, &id, status.as_deref(), version, &fields);
        ObservedIntegration {
            kind,
            id,
            status,
            version,
            fields: Fields::from_map(&fields),
            fingerprint,
            created: None,
        }
    }

    /// [`ObservedIntegration::new`] of fields already held as text, each value as serde_json
    /// writes it ([`Fields::from_compact`]), given with their canonical text
    /// ([`crate::normalize::read_compact_item`]), from which the fingerprint is hashed: no
    /// value is built.
    pub fn from_compact(
        kind: Kind,
        id: String,
        status: Option<String>,
        version: Option<u64>,
        fields: Fields,
        canonical: &[u8],
    ) -> ObservedIntegration {
        let fingerprint = crate::planner::fingerprint_of_canonical(
            kind,
            &id,
            status.as_deref(),
            version,
            canonical,
        );
        ObservedIntegration {
            kind,
            id,
            status,
            version,
            fields,
            fingerprint,
            created: None,
        }
    }

    /// The same integration, with the creation time the vendor gave it.
    #[must_use]
    pub fn with_created(mut self, created: Option<String>) -> ObservedIntegration {
        self.created = created;
        self
    }

    pub fn name(&self) -> Option<&str> {
        self.fields.name()
    }
}

/// What the plan is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The kinds the target serves: desired integrations of other kinds are skipped.
    pub kinds: Vec<Kind>,
    /// The integrations this target may manage.
    pub integrations: Vec<ObservedIntegration>,
    /// Listed, but not this target's to manage (Truto's own, other teams' shared ones): never
    /// matched, never unmanaged, never written.
    pub ignored: Vec<Ignored>,
    /// Listed, but their answer cannot be read (a field the API always returns is missing, the
    /// `name` is not a string, ...): never matched, written, exported or unmanaged; the
    /// manifests that may be one of them are set aside by the planner (their `set_aside` is
    /// empty here).
    pub unreadable: Vec<Unreadable>,
}

/// A live integration the target lists but does not own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub kind: Kind,
    pub id: String,
}

/// A live integration the target lists but cannot read reliably, and what the plan set aside
/// because of it (docs/plan.md, *Unreadable live integrations*).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreadable {
    pub kind: Kind,
    /// Its `id` (a string, or a number spelt as JSON does), when the answer has one.
    pub id: Option<String>,
    /// Its `name`, when the answer has one that is a string.
    pub name: Option<String>,
    /// The list page (path and query) whose answer holds it.
    pub page: String,
    /// What is wrong with it, in words (say, "has no `status`"): it names a key and the problem,
    /// never quotes the answer.
    pub reason: String,
    /// The manifests not planned because they may be this integration (filled by the planner).
    #[serde(default)]
    pub set_aside: Vec<SetAside>,
}

/// A manifest the planner did not plan because it may be an [`Unreadable`] live integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAside {
    pub manifest: String,
    /// The manifest's `spec.name`, if it has one.
    pub name: Option<String>,
    /// Why it may be that integration.
    pub claim: Claim,
}

/// How a set-aside manifest may be an unreadable live integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Claim {
    /// Its `metadata.id` is the integration's id.
    Id,
    /// It has no `metadata.id`, and its name is the integration's.
    Name,
    /// It would be created, and the integration's name cannot be read: it may be the one the
    /// create would duplicate.
    Create,
}

/// How the changed fields of an action divide between drift and pending (design §10,
/// docs/drift.md), once [classified](crate::drift::classify). In the plan document these are
/// the action's own `drift` and `also_pending` keys (flattened): absent before classifying.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// The fields changed live, outside git, sorted: their live value is not what was applied
    /// (the baseline's). The patch's other fields are pending.
    pub drift: Vec<String>,
    /// Those of `drift` that git changed too since the baseline, sorted: someone edited them
    /// live *and* a commit changed them, so they are drift and pending at once. `apply` would
    /// write git's value over the live edit; `pull` leaves them to a person. Only with a
    /// baseline; absent from the document when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also_pending: Vec<String>,
}

impl Drift {
    /// Every field drift, none also pending (no baseline, or a create missing live).
    pub fn all(fields: Vec<String>) -> Drift {
        Drift {
            drift: fields,
            also_pending: Vec::new(),
        }
    }
}

/// One entry of the plan (design §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Create {
        kind: Kind,
        name: Option<String>,
        manifest: String,
        /// The whole desired integration, in manifest order.
        body: Map<String, Value>,
        /// The fields of `body` the vendor's create does not take (Truto's `sharing`): the POST
        /// leaves them out and a PATCH right after it, in the same run, sets them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        set_after_create: Vec<String>,
        /// With a baseline: the fields that are drift (all of the body when the manifest was
        /// already applied, so the integration went missing live; none when it is new in git).
        #[serde(flatten)]
        drift: Option<Drift>,
    },
    Update {
        kind: Kind,
        id: String,
        name: Option<String>,
        manifest: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        live_status: Option<String>,
        /// The changed fields, each with its whole desired value, in the manifest's order.
        patch: Map<String, Value>,
        /// The live values of the changed fields, for showing the change.
        #[serde(default)]
        live: Map<String, Value>,
        /// Truto's optimistic concurrency: the `version` the plan saw. The provider adds it to
        /// the PATCH body; it is not a change, so it is not in `patch`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expected_version: Option<u64>,
        fingerprint: String,
        /// Once classified: the fields of `patch` that are drift (changed live, outside git),
        /// and which of them git changed too; the others are pending.
        #[serde(flatten)]
        drift: Option<Drift>,
    },
    Blocked {
        kind: Kind,
        id: String,
        name: Option<String>,
        manifest: String,
        live_status: Option<String>,
        patch: Map<String, Value>,
        #[serde(default)]
        live: Map<String, Value>,
        reason: String,
        fingerprint: String,
        /// As on `Update`.
        #[serde(flatten)]
        drift: Option<Drift>,
    },
    Noop {
        kind: Kind,
        id: String,
        name: Option<String>,
        manifest: String,
        fingerprint: String,
    },
}

impl Action {
    pub fn kind(&self) -> Kind {
        match self {
            Action::Create { kind, .. }
            | Action::Update { kind, .. }
            | Action::Blocked { kind, .. }
            | Action::Noop { kind, .. } => *kind,
        }
    }

    pub fn name(&self) -> Option<&str> {
        match self {
            Action::Create { name, .. }
            | Action::Update { name, .. }
            | Action::Blocked { name, .. }
            | Action::Noop { name, .. } => name.as_deref(),
        }
    }

    pub fn manifest(&self) -> &str {
        match self {
            Action::Create { manifest, .. }
            | Action::Update { manifest, .. }
            | Action::Blocked { manifest, .. }
            | Action::Noop { manifest, .. } => manifest,
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Action::Create { .. } => None,
            Action::Update { id, .. } | Action::Blocked { id, .. } | Action::Noop { id, .. } => {
                Some(id)
            }
        }
    }

    /// The drifted fields, once classified (`None` before, or for a noop).
    pub fn drift(&self) -> Option<&[String]> {
        self.classified().map(|d| d.drift.as_slice())
    }

    /// The drifted fields git changed too since the baseline (empty when none, or before
    /// classifying).
    pub fn also_pending(&self) -> &[String] {
        self.classified().map_or(&[], |d| d.also_pending.as_slice())
    }

    /// How its changed fields divide between drift and pending, once classified.
    pub fn classified(&self) -> Option<&Drift> {
        match self {
            Action::Create { drift, .. }
            | Action::Update { drift, .. }
            | Action::Blocked { drift, .. } => drift.as_ref(),
            Action::Noop { .. } => None,
        }
    }

    pub fn fingerprint(&self) -> Option<&str> {
        match self {
            Action::Create { .. } => None,
            Action::Update { fingerprint, .. }
            | Action::Blocked { fingerprint, .. }
            | Action::Noop { fingerprint, .. } => Some(fingerprint),
        }
    }
}

/// A live object no manifest claims. Nothing is ever deleted (Ada has no delete endpoint).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unmanaged {
    pub kind: Kind,
    pub id: String,
    pub name: Option<String>,
}

/// A manifest of a kind the target does not serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub kind: Kind,
    pub name: Option<String>,
    pub manifest: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub noop: usize,
    pub blocked: usize,
    pub unmanaged: usize,
    /// With a baseline: how many actions have drift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<usize>,
}

impl Summary {
    /// The counts of `actions` (unmanaged and drift not counted).
    pub fn of(actions: &[Action]) -> Summary {
        let mut summary = Summary::default();
        for action in actions {
            match action {
                Action::Create { .. } => summary.create += 1,
                Action::Update { .. } => summary.update += 1,
                Action::Blocked { .. } => summary.blocked += 1,
                Action::Noop { .. } => summary.noop += 1,
            }
        }
        summary
    }
}

/// The plan: what apply would do, and nothing else (design §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub target: String,
    pub has_changes: bool,
    pub summary: Summary,
    pub actions: Vec<Action>,
    pub unmanaged: Vec<Unmanaged>,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
    /// How many listed integrations belong to Truto or other teams (left out of everything).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub ignored: usize,
    /// Listed integrations whose answer cannot be read, each with the manifests set aside
    /// because of it. Absent from the document when empty. Not counted in `summary` nor in
    /// `has_changes`: a command that plans says them on stderr and exits 1 at the end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<Unreadable>,
    /// The values of the actions that come from a sensitive var: every rendering of the plan
    /// (text, markdown, JSON, the saved plan) shows `(sensitive)` there; a saved plan keeps the
    /// var and a keyed hash of its value, which `apply --plan` resolves again (design §11).
    /// Absent from the document when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<Sensitive>,
}

/// A value of an action that comes from a sensitive var.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sensitive {
    /// The action's manifest (`Action::manifest`).
    pub manifest: String,
    /// RFC 6901 pointer into the integration's fields (`/config/api_key`): into a create's
    /// `body`, an update's `patch` and `live`.
    pub pointer: String,
    /// The var of the action's target the value comes from.
    pub var: String,
    /// HMAC-SHA256 of the value, keyed by the target (see intsync-run's `vars`), in hex; empty
    /// until the run that planned it seals the plan.
    #[serde(default)]
    pub hash: String,
}

/// What a sensitive value shows as, everywhere.
pub const MASK: &str = "(sensitive)";

impl Plan {
    /// The plan as it may be shown or saved: every sensitive value replaced by [`MASK`].
    #[must_use]
    pub fn masked(&self) -> std::borrow::Cow<'_, Plan> {
        if self.sensitive.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut plan = self.clone();
        for sensitive in &self.sensitive {
            for map in plan.values_of(&sensitive.manifest) {
                if let Some(value) = pointer_mut(map, &sensitive.pointer) {
                    *value = Value::String(MASK.to_owned());
                }
            }
        }
        std::borrow::Cow::Owned(plan)
    }

    /// The field maps of the action of `manifest`: a create's body; an update's (or a blocked
    /// change's) patch and live values.
    pub fn values_of(&mut self, manifest: &str) -> Vec<&mut Map<String, Value>> {
        let Some(action) = self.actions.iter_mut().find(|a| a.manifest() == manifest) else {
            return Vec::new();
        };
        match action {
            Action::Create { body, .. } => vec![body],
            Action::Update { patch, live, .. } | Action::Blocked { patch, live, .. } => {
                vec![patch, live]
            }
            Action::Noop { .. } => Vec::new(),
        }
    }
}

/// The value at RFC 6901 `pointer` of the fields `map`.
pub fn pointer_mut<'a>(map: &'a mut Map<String, Value>, pointer: &str) -> Option<&'a mut Value> {
    let rest = pointer.strip_prefix('/')?;
    let (first, rest) = rest.split_once('/').map_or((rest, ""), |(f, r)| (f, r));
    let first = first.replace("~1", "/").replace("~0", "~");
    let value = map.get_mut(&first)?;
    if rest.is_empty() {
        Some(value)
    } else {
        value.pointer_mut(&format!("/{rest}"))
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Plan {
    pub fn has_blocked(&self) -> bool {
        self.summary.blocked > 0
    }
}

/// Why no plan could be made for a manifest. Every problem is reported, not only the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub manifest: String,
    pub problem: Problem,
}

/// What kept a manifest from being planned: a caller decides on this, never on the words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Its `metadata.id` is an integration of Truto's or of another team (design §5).
    ForeignId { kind: Kind, id: String },
    /// No live integration of its kind has its `metadata.id`.
    NoSuchId { kind: Kind, id: String },
    /// Several live integrations have its name (and it has no `metadata.id`): each of them,
    /// with its creation time, so that the caller can say which to keep and how to pin it.
    AmbiguousName {
        kind: Kind,
        name: String,
        candidates: Vec<Candidate>,
    },
    /// It has neither `metadata.id` nor `spec.name`.
    Unmatchable,
    /// The live integration it matches is matched by another manifest too.
    ClaimedTwice {
        kind: Kind,
        id: String,
        other: String,
    },
    /// It would be created, but lacks fields a create needs (design §4).
    CreateLacks {
        kind: Kind,
        name: String,
        missing: Vec<&'static str>,
    },
}

impl PlanError {
    /// The live integrations its name matches, when several do; empty otherwise.
    pub fn candidates(&self) -> &[Candidate] {
        match &self.problem {
            Problem::AmbiguousName { candidates, .. } => candidates,
            _ => &[],
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::ForeignId { kind, id } => write!(
                f,
                "the {kind} `{id}` given in metadata.id belongs to Truto or to another team: only your team's integrations can be managed; remove metadata.id to create your own"
            ),
            Problem::NoSuchId { kind, id } => write!(
                f,
                "no live {kind} has the id `{id}` given in metadata.id; remove metadata.id to create it, or fix the id"
            ),
            Problem::AmbiguousName {
                kind,
                name,
                candidates,
            } => {
                let ids: Vec<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
                write!(
                    f,
                    "{} live {kind} integrations are named `{name}` (ids {}); set metadata.id to say which one this manifest manages",
                    candidates.len(),
                    ids.join(", ")
                )
            }
            Problem::Unmatchable => {
                f.write_str("a manifest needs metadata.id or spec.name to be matched")
            }
            Problem::ClaimedTwice { kind, id, other } => write!(
                f,
                "the live {kind} `{id}` is also claimed by {other}; each live integration is managed by one manifest"
            ),
            Problem::CreateLacks {
                kind,
                name,
                missing,
            } => {
                let missing: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
                write!(
                    f,
                    "no live {kind} is named `{}`, so this manifest would create one, but creating needs {} too; add {}, or fix the name if it should match a live integration",
                    crate::inert::visible(name),
                    missing.join(", "),
                    if missing.len() == 1 { "it" } else { "them" },
                )
            }
        }
    }
}

/// One of several live integrations a manifest's name matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    pub created: Option<String>,
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.manifest, self.problem)
    }
}
