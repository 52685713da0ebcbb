//! `intsync targets`: what each configured target is and what it receives (design §11): the
//! input of a CI matrix. Reads the configuration and the manifests only; no request is sent.

use intsync_manifest::{Kind, Manifest};
use intsync_plan::inert::visible;
use serde::Serialize;

use crate::config::{Config, Endpoint, Target, VarSource};

/// Every target of a configuration (the JSON of `intsync targets --format json`).
#[derive(Debug, Serialize)]
pub struct Listing {
    pub format_version: u32,
    /// The target a command uses without `--target`: a name, or a list of names when
    /// `default_target` is a list.
    pub default_target: serde_json::Value,
    pub targets: Vec<Entry>,
}

/// One target.
#[derive(Debug, Serialize)]
pub struct Entry {
    pub name: String,
    /// `local`, `ada` or `truto`.
    pub provider: &'static str,
    /// A remote target's host (and port, when it has one); `null` for a local one.
    pub host: Option<String>,
    /// A local target's state file; `null` for a remote one.
    pub state: Option<String>,
    pub kinds: Vec<Kind>,
    pub vars: Vec<VarEntry>,
    /// How many of the manifests this target receives (those of the kinds it serves).
    pub manifests: usize,
}

/// One var of a target, its value masked when sensitive.
#[derive(Debug, Serialize)]
pub struct VarEntry {
    pub name: String,
    pub sensitive: bool,
    /// The environment variable it is read from, if it is.
    pub env: Option<String>,
    /// Its value now: `"(sensitive)"` for a sensitive one, `null` for an unset variable.
    pub value: Option<serde_json::Value>,
}

/// What a sensitive value shows as, everywhere.
pub const MASK: &str = "(sensitive)";

/// The listing of `config`'s targets, given the manifests they may receive.
#[must_use]
pub fn list(config: &Config, manifests: &[Manifest]) -> Listing {
    Listing {
        format_version: 1,
        default_target: match config.default_targets.as_slice() {
            [one] => serde_json::Value::from(one.as_str()),
            several => serde_json::Value::from(several.to_vec()),
        },
        targets: config
            .targets
            .values()
            .map(|target| entry(target, manifests))
            .collect(),
    }
}

fn entry(target: &Target, manifests: &[Manifest]) -> Entry {
    let kinds = target.kinds();
    let (host, state) = match &target.endpoint {
        Endpoint::Local { state } => (None, Some(state.display().to_string())),
        Endpoint::Remote { base_url, .. } => {
            let url = url::Url::parse(base_url).ok();
            let host = url.as_ref().and_then(|u| {
                let host = u.host_str()?;
                Some(match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                })
            });
            (host, None)
        }
    };
    let vars = target
        .vars
        .iter()
        .map(|(name, var)| VarEntry {
            name: name.clone(),
            sensitive: var.sensitive,
            env: match &var.source {
                VarSource::Env(env) => Some(env.clone()),
                VarSource::Value(_) => None,
            },
            value: match var.resolve() {
                Ok(_) if var.sensitive => Some(serde_json::Value::String(MASK.to_owned())),
                Ok(value) => Some(value),
                Err(_) => None,
            },
        })
        .collect();
    Entry {
        name: target.name.clone(),
        provider: target.provider.as_str(),
        host,
        state,
        manifests: manifests
            .iter()
            .filter(|m| m.goes_to(&target.name, &kinds))
            .count(),
        kinds,
        vars,
    }
}

impl Listing {
    /// The listing as JSON, one document.
    #[must_use]
    pub fn json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).expect("a listing serializes");
        text.push('\n');
        text
    }

    /// The listing for a person: a block per target. Names and values come from the
    /// configuration: shown inert.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = String::new();
        for t in &self.targets {
            let is_default = match &self.default_target {
                serde_json::Value::Array(names) => names.iter().any(|n| *n == t.name.as_str()),
                one => *one == t.name.as_str(),
            };
            let default = if is_default { " (default)" } else { "" };
            let place = match (&t.host, &t.state) {
                (Some(host), _) => visible(host).into_owned(),
                (None, Some(state)) => format!("state {}", visible(state)),
                (None, None) => "-".to_owned(),
            };
            let kinds: Vec<&str> = t.kinds.iter().map(|k| k.as_str()).collect();
            out.push_str(&format!(
                "{}{default}: {} at {place}; {}; {} manifest{}\n",
                visible(&t.name),
                t.provider,
                kinds.join(", "),
                t.manifests,
                crate::plural(t.manifests)
            ));
            for var in &t.vars {
                let value = match &var.value {
                    Some(value) => visible(&value.to_string()).into_owned(),
                    None => "(unset)".to_owned(),
                };
                let from = var
                    .env
                    .as_deref()
                    .map(|env| format!(" (from {env})"))
                    .unwrap_or_default();
                out.push_str(&format!("  {} = {value}{from}\n", visible(&var.name)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_masks_sensitive_values_and_counts_the_manifests_of_each_kind() {
        let config = Config::parse(
            "default_target = \"sandbox\"\n[targets.sandbox]\nprovider = \"ada\"\nbase_url = \"https://sandbox.ada.support\"\ntoken_env = \"T\"\n[targets.sandbox.vars]\ncallback = \"https://s.example.com/cb\"\nsecret = { value = \"hunter22\", sensitive = true }\nfrom_env = { env = \"INTSYNC_VAR_TEST_SURELY_UNSET_2\" }\n[targets.crm]\nprovider = \"truto\"\nbase_url = \"http://127.0.0.1:8787\"\ntoken_env = \"T\"\n",
            std::path::Path::new("intsync.toml"),
        )
        .unwrap();
        let manifests = intsync_manifest::load_source(
            "m.yaml",
            "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec: {name: a}\n",
        )
        .manifests;
        assert_eq!(manifests.len(), 1);
        let listing = list(&config, &manifests);
        let json = listing.json();
        assert!(!json.contains("hunter22"), "{json}");
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["default_target"], "sandbox");
        let names: Vec<&str> = listing.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["crm", "local", "sandbox"]);
        let crm = &value["targets"][0];
        assert_eq!(crm["host"], "127.0.0.1:8787");
        assert_eq!(crm["kinds"], serde_json::json!(["TrutoIntegration"]));
        assert_eq!(crm["manifests"], 1);
        let local = &value["targets"][1];
        assert_eq!(
            (local["provider"].as_str(), local["manifests"].as_u64()),
            (Some("local"), Some(1))
        );
        let sandbox = &value["targets"][2];
        assert_eq!(sandbox["host"], "sandbox.ada.support");
        assert_eq!(sandbox["manifests"], 0);
        assert_eq!(
            sandbox["vars"],
            serde_json::json!([
                {"name": "callback", "sensitive": false, "env": null, "value": "https://s.example.com/cb"},
                {"name": "from_env", "sensitive": false, "env": "INTSYNC_VAR_TEST_SURELY_UNSET_2", "value": null},
                {"name": "secret", "sensitive": true, "env": null, "value": "(sensitive)"}
            ])
        );
        let text = listing.text();
        assert!(!text.contains("hunter22"), "{text}");
        assert!(
            text.contains("sandbox (default): ada at sandbox.ada.support; AdaPlatformIntegration; 0 manifests\n"),
            "{text}"
        );
        assert!(text.contains("  secret = \"(sensitive)\"\n"), "{text}");
        assert!(
            text.contains("  from_env = (unset) (from INTSYNC_VAR_TEST_SURELY_UNSET_2)\n"),
            "{text}"
        );
    }
}
