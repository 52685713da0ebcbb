//! The typed result of loading: which integration a manifest describes, and the `spec` fields
//! it manages, in the vendors' own field names.

use std::fmt;
use std::path::PathBuf;

use crate::Fields;
use crate::vendor::{self, FieldDef, Profile};

/// The API version every manifest must declare.
pub const API_VERSION: &str = "intsync/v1";

/// What kind of live object a manifest describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// An integration on Ada's `/api/v2/platform-integrations`.
    AdaPlatformIntegration,
    /// An integration on Truto's `/integration`.
    TrutoIntegration,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::AdaPlatformIntegration, Kind::TrutoIntegration];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::AdaPlatformIntegration => "AdaPlatformIntegration",
            Kind::TrutoIntegration => "TrutoIntegration",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// What the vendor of this kind does: its fields, and the behaviour beyond them.
    pub fn profile(self) -> &'static Profile {
        match self {
            Kind::AdaPlatformIntegration => &vendor::ADA,
            Kind::TrutoIntegration => &vendor::TRUTO,
        }
    }

    /// The `spec` fields of this kind, in the order the API returns them (the vendor's table in
    /// [`crate::vendor`]).
    pub fn fields(self) -> &'static [FieldDef] {
        self.profile().fields
    }

    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Whether the vendor's create answers a client secret, shown that once and never again
    /// (Ada's `client_secret`; Truto issues none).
    pub fn issues_secret(self) -> bool {
        self.profile().secret_on_create.is_some()
    }

    /// The fields creating one needs that `has` says are absent, in the table's order.
    pub fn missing_for_create(self, has: impl Fn(&str) -> bool) -> Vec<&'static str> {
        self.fields()
            .iter()
            .filter(|f| f.required_on_create && !has(f.name))
            .map(|f| f.name)
            .collect()
    }

    /// Response keys the server manages; a manifest may not set them.
    pub fn server_managed(self) -> &'static [&'static str] {
        self.profile().server_managed
    }
}

impl serde::Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Kind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Kind::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown kind `{text}`")))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a manifest was written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub path: PathBuf,
    /// 0-based index of the YAML document in its file.
    pub document: usize,
    /// 1-based line where the document starts.
    pub line: u32,
}

/// A valid manifest: one desired integration.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    pub kind: Kind,
    /// `metadata.id`: pins the live object.
    pub id: Option<String>,
    /// The managed `spec` fields, in manifest order. An explicit `null` is kept (it means clear).
    pub spec: Fields,
    pub origin: Origin,
    /// Which targets get it, and where its values came from their vars.
    pub routing: Routing,
}

impl Manifest {
    pub fn name(&self) -> Option<&str> {
        self.spec.name()
    }

    /// Whether target `target`, serving `kinds`, gets this manifest.
    pub fn goes_to(&self, target: &str, kinds: &[Kind]) -> bool {
        kinds.contains(&self.kind) && self.routing.goes_to(target)
    }
}

/// Which targets get a manifest (design §11), and where its values came from their vars.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routing {
    /// `metadata.targets`: the only targets that get it (`None`: every target serving its kind).
    pub targets: Option<Vec<String>>,
    /// The target whose vars its `!var` references were resolved with: the manifest is that
    /// target's copy. `None`: it has no `!var`, and is the same for every target.
    pub target: Option<String>,
    /// Where its `spec` values came from vars.
    pub vars: Vec<crate::VarUse>,
}

impl Routing {
    /// Whether target `target` gets it, if that target serves its kind.
    pub fn goes_to(&self, target: &str) -> bool {
        self.target.as_deref().is_none_or(|t| t == target)
            && self
                .targets
                .as_ref()
                .is_none_or(|listed| listed.iter().any(|t| t == target))
    }

    /// The sensitive values' pointers into `spec`.
    pub fn sensitive(&self) -> impl Iterator<Item = &crate::VarUse> {
        self.vars.iter().filter(|v| v.sensitive)
    }
}
