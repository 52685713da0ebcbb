//! What each vendor accepts in a manifest's `spec`: one table per vendor ([`ADA_FIELDS`],
//! [`TRUTO_FIELDS`]), each field with its type, whether creating needs it, whether `null` clears
//! it, its length limits, its format, its allowed values and a one-line description.
//!
//! This is the crate's only copy of that knowledge: the rules in `rules/` take every limit, set
//! and format from here, and the editor schema (`intsync schema`) generates the `spec`
//! properties from it. The emulator keeps its own copy on purpose (`intsync_emulator::vendor`);
//! `tests/vendor_tables.rs` checks both, and the schema, against Ada's OpenAPI file and Truto's
//! documented fields.

use crate::diagnostic::Severity;

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

/// What a value must look like beyond its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Nothing beyond the type.
    None,
    /// An absolute `http://` or `https://` URL with a host (Ada's `format: url`); see
    /// [`is_web_url`].
    Url,
    /// A URL as for [`Format::Url`], or an e-mail address (optionally after `mailto:`).
    UrlOrEmail,
    /// A JSON Schema (checked against its meta-schema).
    JsonSchema,
    /// A JMESPath to a required `type: string` field of the kind's [`Format::JsonSchema`] field.
    JmesPath,
    /// A mapping whose values are all strings.
    StringValues,
}

/// A closed set of values for a string, or for each item of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowed {
    pub values: &'static [&'static str],
    /// [`Severity::Error`] when the API refuses other values; [`Severity::Warning`] when the set is
    /// only the documented one and the API accepts any string.
    pub severity: Severity,
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
    /// The fewest characters (Unicode scalar values) a string value may have: 0 or 1.
    pub min_chars: usize,
    /// The most characters a string value may have.
    pub max_chars: Option<usize>,
    pub format: Format,
    /// The values a string, or each item of a list, may take.
    pub allowed: Option<Allowed>,
    /// One line for editors (the schema's `description`).
    pub description: &'static str,
}

impl FieldDef {
    /// An optional, non-nullable field of the create body, with no limits.
    const fn new(name: &'static str, ty: FieldType, description: &'static str) -> FieldDef {
        FieldDef {
            name,
            ty,
            required_on_create: false,
            nullable: false,
            in_create_body: true,
            min_chars: 0,
            max_chars: None,
            format: Format::None,
            allowed: None,
            description,
        }
    }

    const fn required(self) -> FieldDef {
        FieldDef {
            required_on_create: true,
            ..self
        }
    }

    const fn nullable(self) -> FieldDef {
        FieldDef {
            nullable: true,
            ..self
        }
    }

    const fn update_only(self) -> FieldDef {
        FieldDef {
            in_create_body: false,
            ..self
        }
    }

    const fn chars(self, min: usize, max: Option<usize>) -> FieldDef {
        FieldDef {
            min_chars: min,
            max_chars: max,
            ..self
        }
    }

    const fn format(self, format: Format) -> FieldDef {
        FieldDef { format, ..self }
    }

    const fn one_of(self, values: &'static [&'static str], severity: Severity) -> FieldDef {
        FieldDef {
            allowed: Some(Allowed { values, severity }),
            ..self
        }
    }
}

use FieldType as T;

/// Ada's writable fields (OpenAPI `PlatformIntegrationCreateRequest`), in response order. The
/// lengths are the docs' rendered field tables (the OpenAPI file has none).
pub const ADA_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "identifier_field_path",
        T::String,
        "JMESPath into `configuration_fields` naming the field that identifies an installation \
         (e.g. `credentials.account_name`); it must be a required `type: string` field.",
    )
    .required()
    .chars(1, None)
    .format(Format::JmesPath),
    FieldDef::new("name", T::String, "The name of the integration.")
        .required()
        .chars(1, Some(160)),
    FieldDef::new(
        "description",
        T::String,
        "What the integration does and how to use it.",
    )
    .required()
    .chars(1, None),
    FieldDef::new("author", T::String, "The integration developer.")
        .required()
        .chars(1, Some(160)),
    FieldDef::new(
        "contact",
        T::String,
        "A URL or e-mail address where users can reach out for support.",
    )
    .required()
    .chars(1, None)
    .format(Format::UrlOrEmail),
    FieldDef::new(
        "uninstallation_url",
        T::String,
        "The `delete` endpoint that starts the uninstallation flow.",
    )
    .required()
    .chars(1, None)
    .format(Format::Url),
    FieldDef::new(
        "oauth_callback_url",
        T::String,
        "The `get` endpoint invoked after OAuth authorization.",
    )
    .required()
    .chars(1, None)
    .format(Format::Url),
    FieldDef::new(
        "tags",
        T::StringList,
        "Tags describing the type of integration.",
    )
    .required()
    .one_of(ADA_TAGS, Severity::Error),
    FieldDef::new(
        "scopes",
        T::StringList,
        "OAuth scopes requested on install, e.g. `articles:read`, `knowledge_sources:write`.",
    )
    .required()
    .one_of(ADA_SCOPES, Severity::Warning),
    FieldDef::new(
        "configuration_fields",
        T::Object,
        "The JSON Schema of the form shown to installers.",
    )
    .required()
    .format(Format::JsonSchema),
    FieldDef::new(
        "icon_url",
        T::String,
        "URL of the integration's icon; `null` clears it.",
    )
    .nullable()
    .chars(1, None)
    .format(Format::Url),
    FieldDef::new(
        "call_to_action",
        T::String,
        "The call-to-action text; `null` clears it.",
    )
    .nullable()
    .chars(1, None),
    FieldDef::new(
        "error_codes",
        T::Object,
        "Error codes and the messages shown on the OAuth failure page; `null` clears them.",
    )
    .nullable()
    .format(Format::StringValues),
];

/// Truto's writable integration fields (create and update bodies), in response order.
pub const TRUTO_FIELDS: &[FieldDef] = &[
    FieldDef::new(
        "name",
        T::String,
        "The name of the integration, e.g. `my_custom_crm`.",
    )
    .required()
    .chars(1, None),
    FieldDef::new("category", T::String, "A short category, e.g. `crm`."),
    FieldDef::new("is_beta", T::Bool, "Whether the integration is in beta."),
    FieldDef::new(
        "config",
        T::Object,
        "The configuration object defining the integration's underlying API.",
    ),
    FieldDef::new("sharing", T::String, "The sharing policy.")
        .update_only()
        .one_of(TRUTO_SHARING, Severity::Error),
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

/// Ada's documented tag values (the OpenAPI enum).
pub const ADA_TAGS: &[&str] = &["knowledge"];

/// Truto's sharing policies.
pub const TRUTO_SHARING: &[&str] = &["allow", "ask", "deny"];

/// Response keys Ada manages; a manifest may not set them.
pub const ADA_SERVER_MANAGED: &[&str] = &["id", "status", "created", "updated", "client_secret"];

/// Response keys Truto manages (`version` is its optimistic-concurrency counter).
pub const TRUTO_SERVER_MANAGED: &[&str] = &[
    "id",
    "version",
    "team_id",
    "team",
    "created_at",
    "updated_at",
    "installed_environment",
    "can_install",
];

/// An absolute `http://` or `https://` URL with a host ([`Format::Url`]).
///
/// Whitespace and control characters anywhere are refused: the `url` crate silently drops tabs
/// and newlines and trims spaces and controls at either end, so it would accept text that is not
/// the URL it stands for. The emulator's `is_web_url` applies the same rule (a test checks that
/// the two agree).
pub fn is_web_url(text: &str) -> bool {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    url::Url::parse(text).is_ok_and(|url| {
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty())
    })
}

/// A [`Format::UrlOrEmail`] value: a web URL, an e-mail address, or `mailto:` and an address.
pub fn is_url_or_email(text: &str) -> bool {
    let is_email = |s: &str| {
        email_address::EmailAddress::parse_with_options(
            s,
            email_address::Options::default().without_display_text(),
        )
        .is_ok()
    };
    is_web_url(text) || is_email(text) || text.strip_prefix("mailto:").is_some_and(is_email)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_urls() {
        assert!(is_web_url("https://coolshop.example.com/oauth/callback"));
        assert!(is_web_url("http://localhost:8080/x"));
        assert!(!is_web_url("ftp://example.com"));
        assert!(!is_web_url("example.com/path"));
        assert!(!is_web_url("/relative"));
        assert!(!is_web_url("https://exa mple.com"));
        assert!(!is_web_url("https://example.com/a b"));
        assert!(!is_web_url("https://example.com/a\tb"));
        assert!(!is_web_url("https://example.com/\n"));
        assert!(!is_web_url(" https://example.com"));
        assert!(!is_web_url("\u{1}https://example.com"));
        assert!(!is_web_url("https://"));
    }

    /// The rules know two minimums: none, and "not empty" (`intsync::empty_string`).
    #[test]
    fn minimums_are_zero_or_one_and_limits_apply_to_strings() {
        for def in ADA_FIELDS.iter().chain(TRUTO_FIELDS) {
            assert!(def.min_chars <= 1, "{}", def.name);
            if def.min_chars > 0 || def.max_chars.is_some() || def.format != Format::None {
                let string_format = matches!(
                    def.format,
                    Format::None | Format::Url | Format::UrlOrEmail | Format::JmesPath
                );
                let expected = if string_format {
                    FieldType::String
                } else {
                    FieldType::Object
                };
                assert_eq!(def.ty, expected, "{}", def.name);
            }
            if def.allowed.is_some() {
                assert!(
                    matches!(def.ty, FieldType::String | FieldType::StringList),
                    "{}",
                    def.name
                );
            }
        }
    }

    #[test]
    fn names_are_unique() {
        for table in [ADA_FIELDS, TRUTO_FIELDS] {
            for (i, def) in table.iter().enumerate() {
                assert!(
                    table[..i].iter().all(|d| d.name != def.name),
                    "{}",
                    def.name
                );
            }
        }
    }
}

/// What a vendor does beyond its fields, for one kind: the facts the planner, the executor,
/// the configuration and the provider each need, in one place ([`crate::Kind::profile`]).
/// `tests/vendor_tables.rs` holds every one against the emulator's own copy and the vendors'
/// documents.
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// The vendor's name in messages.
    pub vendor: &'static str,
    /// The `spec` fields, as the vendor defines them.
    pub fields: &'static [FieldDef],
    /// Response keys the server manages; a manifest may not set them.
    pub server_managed: &'static [&'static str],
    /// Fields compared as sets: order and repetition do not matter (the planner's
    /// normalization).
    pub set_valued: &'static [&'static str],
    /// Only integrations with this status may change (Ada's `development`); any other makes a
    /// change blocked. `None`: every integration may change.
    pub editable_status: Option<&'static str>,
    /// Why a change to an integration not in [`Profile::editable_status`] is blocked, as the
    /// plan says it.
    pub frozen_reason: &'static str,
    /// The rule behind it, as a refusal of `apply` says it.
    pub frozen_rule: &'static str,
    /// The key of the create's answer that holds a client secret, shown that once and never
    /// again (Ada's `client_secret`). `None`: the vendor issues none.
    pub secret_on_create: Option<&'static str>,
    /// The documented rate limits, as (window in seconds, requests in it): the default
    /// client-side limit of a target of this vendor.
    pub rate_limits: &'static [(u64, u32)],
    /// What a 403 to a PATCH may mean here, after ` — ` in the error.
    pub patch_refusal_hint: &'static str,
}

/// Ada's platform integrations.
pub const ADA: Profile = Profile {
    vendor: "Ada",
    fields: ADA_FIELDS,
    server_managed: ADA_SERVER_MANAGED,
    set_valued: &["tags", "scopes"],
    editable_status: Some("development"),
    frozen_reason: "only integrations in development may be updated",
    frozen_rule: "Ada only lets integrations in development change",
    secret_on_create: Some("client_secret"),
    rate_limits: &[(1, 10), (60, 100)],
    patch_refusal_hint: "it may have left `development` since it was read (run `intsync plan` again), or the token lacks permission for it",
};

/// Truto's integrations.
pub const TRUTO: Profile = Profile {
    vendor: "Truto",
    fields: TRUTO_FIELDS,
    server_managed: TRUTO_SERVER_MANAGED,
    set_valued: &[],
    editable_status: None,
    frozen_reason: "",
    frozen_rule: "",
    secret_on_create: None,
    rate_limits: &[(10, 500)],
    patch_refusal_hint: "it may belong to another team, or be one of Truto's own (only your team's integrations can be changed), or the token lacks permission for it",
};

impl Profile {
    /// Whether `field` is compared as a set.
    #[must_use]
    pub fn is_set_valued(&self, field: &str) -> bool {
        self.set_valued.contains(&field)
    }

    /// Whether an integration whose status is `status` is frozen: a change to it is blocked.
    #[must_use]
    pub fn is_frozen(&self, status: Option<&str>) -> bool {
        self.editable_status
            .is_some_and(|editable| status != Some(editable))
    }

    /// The documented limit of `window` seconds, if there is one.
    #[must_use]
    pub fn rate_limit(&self, window: u64) -> Option<u32> {
        self.rate_limits
            .iter()
            .find(|(w, _)| *w == window)
            .map(|(_, n)| *n)
    }
}
