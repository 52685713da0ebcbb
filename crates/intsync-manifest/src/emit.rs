//! Writing manifests: the inverse of loading, for `intsync export`. Block-style YAML that a
//! person would write, with strings quoted only where YAML would read them as something else
//! (intsync-yaml's emitter, which `intsync pull`'s edits use too).

use std::fmt::Write as _;

use intsync_yaml::emit::{block_mapping, flow_scalar, scalar};
use serde_json::{Map, Value};

use crate::diagnostic::Code;
use crate::model::{API_VERSION, Kind};

/// A whole manifest document: header comment lines, `apiVersion`, `kind`, `metadata.id` (when
/// given) and `spec` with its fields in the given order.
pub fn manifest_yaml(
    header: &[String],
    kind: Kind,
    id: Option<&str>,
    spec: &Map<String, Value>,
) -> String {
    manifest_yaml_allowing(header, kind, id, &[], &[], spec)
}

/// The manifest `intsync export` writes for a live integration: [`manifest_yaml`], plus a
/// `metadata.allow` list naming each of intsync's own rules ([`Code::allowable`]) the live
/// values already break, so that the adopted manifest validates and plans as it is, and the
/// allowance is there for a reviewer to see. A rule the vendor enforces is never allowed: a
/// live value breaking one stays an error. Returns the text and the codes allowed.
pub fn adopted_manifest_yaml(
    header: &[String],
    kind: Kind,
    id: Option<&str>,
    targets: &[String],
    spec: &Map<String, Value>,
) -> (String, Vec<Code>) {
    let plain = manifest_yaml_allowing(header, kind, id, targets, &[], spec);
    let loaded = crate::load_source("exported.yaml", &plain);
    let mut allow: Vec<Code> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.is_error() && d.code.allowable())
        .map(|d| d.code)
        .collect();
    allow.sort();
    allow.dedup();
    if allow.is_empty() {
        return (plain, allow);
    }
    let text = manifest_yaml_allowing(header, kind, id, targets, &allow, spec);
    (text, allow)
}

/// [`manifest_yaml`] with `metadata.targets` and `metadata.allow` lists (each written only when
/// not empty).
fn manifest_yaml_allowing(
    header: &[String],
    kind: Kind,
    id: Option<&str>,
    targets: &[String],
    allow: &[Code],
    spec: &Map<String, Value>,
) -> String {
    let mut out = String::new();
    for line in header {
        let _ = writeln!(out, "# {line}");
    }
    let _ = writeln!(out, "apiVersion: {API_VERSION}");
    let _ = writeln!(out, "kind: {kind}");
    if id.is_some() || !targets.is_empty() || !allow.is_empty() {
        let _ = writeln!(out, "metadata:");
    }
    if let Some(id) = id {
        let _ = writeln!(out, "  id: {}", scalar(id));
    }
    if !targets.is_empty() {
        let names: Vec<String> = targets.iter().map(|t| flow_scalar(t)).collect();
        let _ = writeln!(out, "  targets: [{}]", names.join(", "));
    }
    if !allow.is_empty() {
        let codes: Vec<&str> = allow.iter().map(|c| c.as_str()).collect();
        let _ = writeln!(out, "  allow: [{}]", codes.join(", "));
    }
    if spec.is_empty() {
        let _ = writeln!(out, "spec: {{}}");
    } else {
        let _ = writeln!(out, "spec:");
        block_mapping(spec, 2, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(spec: Value) {
        let spec = spec.as_object().unwrap().clone();
        let text = manifest_yaml(&[], Kind::TrutoIntegration, Some("1"), &spec);
        let loaded = crate::load_source("x.yaml", &text);
        let manifest = loaded.manifests.first().unwrap_or_else(|| {
            panic!(
                "{text}\n{:?}",
                loaded
                    .diagnostics
                    .iter()
                    .map(|d| &d.message)
                    .collect::<Vec<_>>()
            )
        });
        assert_eq!(
            Value::Object(manifest.spec.to_map()),
            Value::Object(spec),
            "{text}"
        );
    }

    /// Ada's getting-started example breaks two of intsync's own rules: the export allows
    /// exactly those, and the manifest then loads with warnings only. A vendor rule is never
    /// allowed.
    #[test]
    fn an_adopted_manifest_allows_only_intsync_rules_it_breaks() {
        let spec = json!({
            "name": "Getting started", "description": "d", "author": "a", "contact": "help@example.com",
            "identifier_field_path": "credentials.knowledgeHubUrl",
            "uninstallation_url": "http://example.com/u", "oauth_callback_url": "http://example.com/",
            "tags": ["knowledge"], "scopes": ["articles:read"],
            "configuration_fields": {"type": "object", "required": ["credentials"], "properties": {
                "credentials": {"type": "object", "required": ["helpCenterUrl", "secretKey"], "properties": {
                    "knowledgeHubUrl": {"type": "string"}, "secretKey": {"type": "string"}}}}}
        });
        let spec = spec.as_object().unwrap();
        let (text, allow) =
            adopted_manifest_yaml(&[], Kind::AdaPlatformIntegration, Some("abc"), &[], spec);
        assert_eq!(
            allow,
            [Code::RequiredNotInProperties, Code::IdentifierNotRequired],
            "{text}"
        );
        assert!(text.contains(
            "metadata:\n  id: abc\n  allow: [intsync::required_not_in_properties, intsync::identifier_not_required]\n"
        ), "{text}");
        let loaded = crate::load_source("x.yaml", &text);
        assert_eq!(loaded.manifests.len(), 1, "{text}");
        let codes: Vec<(Code, crate::Severity)> = loaded
            .diagnostics
            .iter()
            .map(|d| (d.code, d.severity))
            .collect();
        assert_eq!(
            codes,
            [
                (Code::IdentifierNotRequired, crate::Severity::Warning),
                (Code::RequiredNotInProperties, crate::Severity::Warning),
            ]
        );

        // A clean spec gets no allowance; a vendor rule broken stays an error.
        let mut clean = spec.clone();
        clean["identifier_field_path"] = json!("credentials.secretKey");
        clean["configuration_fields"]["properties"]["credentials"]["required"] =
            json!(["secretKey"]);
        let (text, allow) =
            adopted_manifest_yaml(&[], Kind::AdaPlatformIntegration, Some("abc"), &[], &clean);
        assert!(allow.is_empty() && !text.contains("allow"), "{text}");
        clean["name"] = json!("n".repeat(161));
        let (text, allow) =
            adopted_manifest_yaml(&[], Kind::AdaPlatformIntegration, Some("abc"), &[], &clean);
        assert!(allow.is_empty(), "{text}");
        assert!(crate::load_source("x.yaml", &text).has_errors());
    }

    #[test]
    fn tricky_scalars_survive() {
        round_trip(json!({"name": "crm", "config": {
            "a": "yes", "b": "null", "c": "1.0", "d": "0x1F", "e": "- not a list", "f": "key: value", "g": " padded ",
            "h": "multi\nline", "i": "", "j": "# not a comment", "k": "é ünïcode ✓", "l": "{{oauth.token}}", "m": "1e3", "n": "~",
            "o": 1.5, "p": -3, "q": true, "r": null, "s": [], "t": {}, "u": ["x", 1, null, {"v": [1, [2, 3]], "w": {}}],
            "trailing:": "colon", "1": "numeric key", "with space": "ok", ".5": "dot"
        }}));
    }

    #[test]
    fn readable_block_style() {
        let spec = json!({"name": "crm", "config": {"headers": {"Accept": "application/json"}, "scopes": ["a", "b"]}});
        let text = manifest_yaml(
            &["generated".to_owned()],
            Kind::TrutoIntegration,
            Some("abc"),
            spec.as_object().unwrap(),
        );
        assert_eq!(
            text,
            "# generated\napiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  id: abc\nspec:\n  name: crm\n  config:\n    headers:\n      Accept: application/json\n    scopes:\n      - a\n      - b\n"
        );
    }
}
