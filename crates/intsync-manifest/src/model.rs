//! The typed result of loading: which integration a manifest describes, and the `spec` fields
//! it manages, in the vendors' own field names.

use std::fmt;
use std::path::PathBuf;

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

    /// The `spec` fields of this kind, in the order the API returns them.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            Kind::AdaPlatformIntegration => ADA_FIELDS,
            Kind::TrutoIntegration => TRUTO_FIELDS,
        }
    }

    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// Response keys the server manages; a manifest may not set them.
    pub fn server_managed(self) -> &'static [&'static str] {
        match self {
            Kind::AdaPlatformIntegration => {
                &["id", "status", "created", "updated", "client_secret"]
            }
            Kind::TrutoIntegration => &[
                "id",
                "version",
                "team_id",
                "team",
                "created_at",
                "updated_at",
                "installed_environment",
                "can_install",
            ],
        }
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

/// The JSON type a `spec` field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    Bool,
    /// A mapping (JSON object).
    Object,
    /// A list of strings.
    StringList,
}

impl FieldType {
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::String => "a string",
            FieldType::Bool => "a boolean",
            FieldType::Object => "a mapping",
            FieldType::StringList => "a list of strings",
        }
    }
}

/// One `spec` field as the vendor API defines it.
#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    /// Creating the object needs this field.
    pub required_on_create: bool,
    /// The API accepts `null` for it (clears the value).
    pub nullable: bool,
    /// The vendor's create body takes it. A field it does not (Truto's `sharing`) is set by an
    /// update right after the create.
    pub in_create_body: bool,
}

const fn field(
    name: &'static str,
    ty: FieldType,
    required_on_create: bool,
    nullable: bool,
) -> FieldDef {
    FieldDef {
        name,
        ty,
        required_on_create,
        nullable,
        in_create_body: true,
    }
}

/// Ada's writable fields (OpenAPI `PlatformIntegrationCreateRequest`), in response order.
const ADA_FIELDS: &[FieldDef] = &[
    field("identifier_field_path", FieldType::String, true, false),
    field("name", FieldType::String, true, false),
    field("description", FieldType::String, true, false),
    field("author", FieldType::String, true, false),
    field("contact", FieldType::String, true, false),
    field("uninstallation_url", FieldType::String, true, false),
    field("oauth_callback_url", FieldType::String, true, false),
    field("tags", FieldType::StringList, true, false),
    field("scopes", FieldType::StringList, true, false),
    field("configuration_fields", FieldType::Object, true, false),
    field("icon_url", FieldType::String, false, true),
    field("call_to_action", FieldType::String, false, true),
    field("error_codes", FieldType::Object, false, true),
];

/// Truto's writable integration fields (create and update bodies), in response order.
const TRUTO_FIELDS: &[FieldDef] = &[
    field("name", FieldType::String, true, false),
    field("category", FieldType::String, false, false),
    field("is_beta", FieldType::Bool, false, false),
    field("config", FieldType::Object, false, false),
    FieldDef {
        in_create_body: false,
        ..field("sharing", FieldType::String, false, false)
    },
];

/// Ada's documented OAuth scopes. Others are accepted by the API, so intsync only warns.
pub const ADA_SCOPES: &[&str] = &[
    "articles:read",
    "articles:write",
    "article_tags:read",
    "article_tags:write",
    "knowledge_sources:read",
    "knowledge_sources:write",
    "platform_integration_installations:read",
    "platform_integration_installations:write",
];

/// Ada's documented tag values.
pub const ADA_TAGS: &[&str] = &["knowledge"];

/// Truto's sharing policies.
pub const TRUTO_SHARING: &[&str] = &["allow", "ask", "deny"];

/// Where a manifest was written.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    pub spec: serde_json::Map<String, serde_json::Value>,
    pub origin: Origin,
}

impl Manifest {
    pub fn name(&self) -> Option<&str> {
        self.spec.get("name").and_then(serde_json::Value::as_str)
    }
}
