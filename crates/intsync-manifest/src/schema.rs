//! The JSON Schema of the manifest format, for editors (yaml-language-server) and other tools.
//!
//! These types exist only to describe the format; loading goes through the spanned tree and the
//! rules in `rules/`. A test keeps the two in step (`fields_match_the_rule_tables`), and another
//! keeps the committed copy in `schemas/` identical to what `intsync schema` prints.

#![allow(dead_code, clippy::large_enum_variant)] // reason: the types are read by the schemars derive, never built

use std::collections::BTreeMap;

use schemars::JsonSchema;

/// One intsync manifest: a platform integration kept in git.
#[derive(JsonSchema)]
#[serde(tag = "kind")]
#[schemars(title = "intsync manifest")]
enum ManifestDocument {
    /// An integration on Ada's platform (`/api/v2/platform-integrations`).
    AdaPlatformIntegration(AdaDocument),
    /// An integration on Truto (`/integration`).
    TrutoIntegration(TrutoDocument),
}

#[derive(JsonSchema)]
enum ApiVersion {
    #[serde(rename = "intsync/v1")]
    V1,
}

/// Identity of the live object.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct Metadata {
    /// The live object's id. Optional: without it the manifest is matched by `spec.name`.
    /// Needed to rename an integration, and lets a manifest manage only some fields.
    #[serde(default)]
    #[schemars(length(min = 1))]
    id: Option<String>,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct AdaDocument {
    #[serde(rename = "apiVersion")]
    api_version: ApiVersion,
    #[serde(default)]
    metadata: Option<Metadata>,
    spec: AdaSpec,
}

/// The fields of an Ada platform integration, named as the API names them. An omitted field is
/// not managed; `null` clears a nullable one.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct AdaSpec {
    /// JMESPath into `configuration_fields` naming the field that identifies an installation
    /// (e.g. `credentials.account_name`); it must be a required `type: string` field.
    #[serde(default)]
    identifier_field_path: String,
    /// The name of the integration (1 to 160 characters).
    #[serde(default)]
    #[schemars(length(min = 1, max = 160))]
    name: String,
    /// What the integration does and how to use it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    description: String,
    /// The integration developer (1 to 160 characters).
    #[serde(default)]
    #[schemars(length(min = 1, max = 160))]
    author: String,
    /// A URL or e-mail address where users can reach out for support.
    #[serde(default)]
    #[schemars(length(min = 1))]
    contact: String,
    /// The `delete` endpoint that starts the uninstallation flow.
    #[serde(default)]
    #[schemars(url)]
    uninstallation_url: String,
    /// The `get` endpoint invoked after OAuth authorization.
    #[serde(default)]
    #[schemars(url)]
    oauth_callback_url: String,
    /// Tags describing the type of integration.
    #[serde(default)]
    tags: Vec<AdaTag>,
    /// OAuth scopes requested on install, e.g. `articles:read`, `knowledge_sources:write`.
    #[serde(default)]
    scopes: Vec<String>,
    /// The JSON Schema of the form shown to installers.
    #[serde(default)]
    configuration_fields: serde_json::Map<String, serde_json::Value>,
    /// URL of the integration's icon; `null` clears it.
    #[serde(default)]
    #[schemars(url)]
    icon_url: Option<String>,
    /// The call-to-action text; `null` clears it.
    #[serde(default)]
    #[schemars(length(min = 1))]
    call_to_action: Option<String>,
    /// Error codes and the messages shown on the OAuth failure page; `null` clears them.
    #[serde(default)]
    error_codes: Option<BTreeMap<String, String>>,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum AdaTag {
    Knowledge,
}

#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct TrutoDocument {
    #[serde(rename = "apiVersion")]
    api_version: ApiVersion,
    #[serde(default)]
    metadata: Option<Metadata>,
    spec: TrutoSpec,
}

/// The fields of a Truto integration. An omitted field is not managed.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
struct TrutoSpec {
    /// The name of the integration, e.g. `my_custom_crm`.
    #[serde(default)]
    #[schemars(length(min = 1))]
    name: String,
    /// A short category, e.g. `crm`.
    #[serde(default)]
    category: String,
    /// Whether the integration is in beta.
    #[serde(default)]
    is_beta: bool,
    /// The configuration object defining the integration's underlying API.
    #[serde(default)]
    config: serde_json::Map<String, serde_json::Value>,
    /// The sharing policy.
    #[serde(default)]
    sharing: Option<TrutoSharing>,
}

#[derive(JsonSchema)]
#[serde(rename_all = "lowercase")]
enum TrutoSharing {
    Allow,
    Ask,
    Deny,
}

/// The JSON Schema of a manifest document, as `intsync schema` prints it.
pub fn manifest_schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<ManifestDocument>();
    let mut value = serde_json::to_value(schema).unwrap_or(serde_json::Value::Null);
    strip_defaults(&mut value);
    value
}

/// `#[serde(default)]` only marks a field optional here; an omitted field is *unmanaged*, not
/// "empty", so the `default` values schemars derives from it would mislead editors.
fn strip_defaults(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove("default");
            map.values_mut().for_each(strip_defaults);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(strip_defaults),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Kind;

    /// The schema's `spec` properties and the rule tables name the same fields.
    #[test]
    fn fields_match_the_rule_tables() {
        let schema = manifest_schema();
        for kind in Kind::ALL {
            let def = match kind {
                Kind::AdaPlatformIntegration => "AdaSpec",
                Kind::TrutoIntegration => "TrutoSpec",
            };
            let props = schema["definitions"][def]["properties"]
                .as_object()
                .expect("spec properties");
            let mut from_schema: Vec<&str> = props.keys().map(String::as_str).collect();
            let mut from_rules: Vec<&str> = kind.fields().iter().map(|f| f.name).collect();
            from_schema.sort_unstable();
            from_rules.sort_unstable();
            assert_eq!(from_schema, from_rules, "{kind}");
        }
    }
}
