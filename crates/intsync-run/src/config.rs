//! `intsync.toml` (design §5): raw TOML → validated, typed targets. Tokens come from the
//! environment variable each target names, never from a file.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use intsync_manifest::Kind;
use intsync_provider::{Provider, RetryBudget, RetryPolicy, Secret, Timeouts, Transport};
use serde::Deserialize;

pub const CONFIG_FILE: &str = "intsync.toml";
const DEFAULT_PAGE_SIZE: usize = 100;
const DEFAULT_LOCAL_STATE: &str = ".intsync/local-state.json";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    default_target: Option<DefaultTarget>,
    #[serde(default)]
    targets: BTreeMap<String, TargetFile>,
}

/// `default_target`: one name, or a list of them (each used when no target is selected).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DefaultTarget {
    One(String),
    Several(Vec<String>),
}

/// Which targets a command runs against: `--target a,b` (repeatable), `--all-targets`, or
/// neither (`default_target`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection {
    /// `default_target` of the configuration (one name or a list).
    #[default]
    Default,
    /// These names, in this order (a name given twice counts once, where it first came).
    Named(Vec<String>),
    /// Every target the configuration declares, in name order (the built-in `local` only
    /// when it declares none).
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    Local,
    Ada,
    Truto,
}

impl ProviderName {
    /// As `intsync.toml` writes it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderName::Local => "local",
            ProviderName::Ada => "ada",
            ProviderName::Truto => "truto",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetFile {
    provider: ProviderName,
    base_url: Option<String>,
    token_env: Option<String>,
    state: Option<PathBuf>,
    rate_limit: Option<RateLimitFile>,
    page_size: Option<usize>,
    retry: Option<RetryFile>,
    timeout_secs: Option<u64>,
    team_id: Option<String>,
    #[serde(default)]
    vars: BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum RateLimitFile {
    Off(String),
    Limits(RateLimit),
}

/// A client-side request rate limit (applied by `apply`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    pub per_second: Option<u32>,
    pub per_minute: Option<u32>,
    pub per_10_seconds: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
struct RetryFile {
    attempts: Option<u32>,
    base_delay_ms: Option<u64>,
    max_delay_ms: Option<u64>,
    /// The longest `Retry-After` honoured as it is; longer ones are cut to it.
    max_retry_after_ms: Option<u64>,
}

/// Where a target's API is.
#[derive(Debug, Clone)]
pub enum Endpoint {
    Local { state: PathBuf },
    Remote { base_url: String, token_env: String },
}

/// One validated target.
#[derive(Debug, Clone)]
pub struct Target {
    pub name: String,
    pub provider: ProviderName,
    pub endpoint: Endpoint,
    pub page_size: usize,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    /// `None`: no client-side limit.
    pub rate_limit: Option<RateLimit>,
    /// Truto: the team whose integrations this target manages; `None`: asked of
    /// `GET /environment`.
    pub team_id: Option<String>,
    /// Where this target's writer lock and records of creates in flight are kept
    /// (`.intsync/targets/<name>/` beside the configuration).
    pub state_dir: PathBuf,
    /// The values `!var NAME` stands for in the manifests this target receives, by name.
    pub vars: BTreeMap<String, Var>,
}

/// The prefix of the only environment variables a var may be read from: a manifest (which a
/// pull request can change) must not be able to print `ADA_API_TOKEN` into a plan comment.
pub const VAR_ENV_PREFIX: &str = "INTSYNC_VAR_";

/// One value of `[targets.NAME.vars]` (design §11).
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    pub source: VarSource,
    /// Never printed: shown as `(sensitive)` everywhere.
    pub sensitive: bool,
}

/// Where a var's value comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum VarSource {
    /// Written in `intsync.toml`: any TOML value, as JSON.
    Value(serde_json::Value),
    /// Read, as a string, from this environment variable (named `INTSYNC_VAR_...`) when used.
    Env(String),
}

/// A var that has no value now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("the environment variable {0} is not set")]
    Unset(String),
    #[error("the environment variable {0} is not valid UTF-8")]
    NotUnicode(String),
}

impl Var {
    /// Its value now (an environment variable is read when asked).
    pub fn resolve(&self) -> Result<serde_json::Value, VarError> {
        match &self.source {
            VarSource::Value(value) => Ok(value.clone()),
            VarSource::Env(name) => match std::env::var(name) {
                Ok(value) => Ok(serde_json::Value::String(value)),
                Err(std::env::VarError::NotPresent) => Err(VarError::Unset(name.clone())),
                Err(std::env::VarError::NotUnicode(_)) => Err(VarError::NotUnicode(name.clone())),
            },
        }
    }
}

/// Every string in a sensitive var's value is scrubbed from whatever leaves the process by a
/// path that does not mask it (a vendor's error quoting a body, a log line).
fn register_secret(value: &serde_json::Value) {
    match value {
        serde_json::Value::String(s) => drop(Secret::new(s.clone())),
        serde_json::Value::Array(items) => items.iter().for_each(register_secret),
        serde_json::Value::Object(map) => map.values().for_each(register_secret),
        _ => {}
    }
}

/// A var as written: a table with `env` or `value` (and optionally `sensitive`) says where its
/// value comes from; anything else is the value itself.
fn parse_var(target: &str, name: &str, raw: toml::Value) -> anyhow::Result<Var> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        bail!(
            "target `{target}`: var {name:?} is not a plain name; use letters, digits and `_` (it is written `!var {name}` in manifests)"
        );
    }
    let spec = match raw {
        toml::Value::Table(table) if table.contains_key("env") || table.contains_key("value") => {
            table
        }
        value => {
            return Ok(Var {
                source: VarSource::Value(json_of(target, name, value)?),
                sensitive: false,
            });
        }
    };
    if let Some(key) = spec
        .keys()
        .find(|k| !matches!(k.as_str(), "env" | "value" | "sensitive"))
    {
        bail!(
            "target `{target}`: var `{name}` has `{key}`; a var is a value, or {{ value = ..., sensitive = true }}, or {{ env = \"{VAR_ENV_PREFIX}...\", sensitive = true }}"
        );
    }
    let sensitive = match spec.get("sensitive") {
        None => false,
        Some(toml::Value::Boolean(b)) => *b,
        Some(_) => bail!("target `{target}`: var `{name}`: `sensitive` is true or false"),
    };
    let source = match (spec.get("env"), spec.get("value")) {
        (Some(_), Some(_)) => {
            bail!("target `{target}`: var `{name}` has both `env` and `value`; give one")
        }
        (Some(toml::Value::String(env)), None) => {
            if !env.starts_with(VAR_ENV_PREFIX) || env.len() == VAR_ENV_PREFIX.len() {
                bail!(
                    "target `{target}`: var `{name}` reads the environment variable {env:?}; only variables named {VAR_ENV_PREFIX}* may be read into manifests (a manifest could otherwise print a token, such as a target's token_env, into a plan)"
                );
            }
            VarSource::Env(env.clone())
        }
        (Some(_), None) => bail!(
            "target `{target}`: var `{name}`: `env` is the name of an environment variable ({VAR_ENV_PREFIX}...)"
        ),
        (None, Some(value)) => VarSource::Value(json_of(target, name, value.clone())?),
        (None, None) => unreachable!("a spec has `env` or `value`"),
    };
    Ok(Var { source, sensitive })
}

/// A TOML value as the JSON a manifest field holds; a date or time has no JSON form.
fn json_of(target: &str, name: &str, value: toml::Value) -> anyhow::Result<serde_json::Value> {
    fn has_datetime(value: &toml::Value) -> bool {
        match value {
            toml::Value::Datetime(_) => true,
            toml::Value::Array(items) => items.iter().any(has_datetime),
            toml::Value::Table(table) => table.values().any(has_datetime),
            _ => false,
        }
    }
    if has_datetime(&value) {
        bail!(
            "target `{target}`: var `{name}` holds a TOML date or time, which JSON (and so the vendor's API) has no form for; quote it to send a string"
        );
    }
    serde_json::to_value(value)
        .with_context(|| format!("target `{target}`: var `{name}` cannot be read as JSON"))
}

/// The loaded configuration.
#[derive(Debug)]
pub struct Config {
    /// The file it came from; `None` for the built-in default (no `intsync.toml`).
    pub path: Option<PathBuf>,
    /// Without a configuration here: the nearest `intsync.toml` of a parent directory, which is
    /// never read (it may belong to another repository, with other targets), only mentioned
    /// ([`Config::note`]).
    pub unread: Option<PathBuf>,
    /// The targets used when none is selected, in order: at least one.
    pub default_targets: Vec<String>,
    pub targets: BTreeMap<String, Target>,
    /// The targets `intsync.toml` declares, in name order (what `--all-targets` selects);
    /// without any, the built-in `local`.
    pub declared: Vec<String>,
}

impl Target {
    pub fn kinds(&self) -> Vec<Kind> {
        match self.provider {
            ProviderName::Local => Kind::ALL.to_vec(),
            ProviderName::Ada => vec![Kind::AdaPlatformIntegration],
            ProviderName::Truto => vec![Kind::TrutoIntegration],
        }
    }

    /// The documented limit of the vendor (its profile), the default when `rate_limit` is not
    /// set.
    fn documented_rate_limit(provider: ProviderName) -> Option<RateLimit> {
        let profile = match provider {
            ProviderName::Local => return None,
            ProviderName::Ada => Kind::AdaPlatformIntegration.profile(),
            ProviderName::Truto => Kind::TrutoIntegration.profile(),
        };
        Some(RateLimit {
            per_second: profile.rate_limit(1),
            per_minute: profile.rate_limit(60),
            per_10_seconds: profile.rate_limit(10),
        })
    }

    /// The records of this target's creates in flight.
    pub fn intents(&self) -> intsync_apply::Intents {
        intsync_apply::Intents::new(self.state_dir.join("intents"))
    }

    /// What loading needs of this target: its kinds, and its vars' values now (an environment
    /// variable is read here; one that is unset is a value missing, reported where a manifest
    /// uses it).
    #[must_use]
    pub fn receiver(&self) -> intsync_manifest::Receiver {
        let vars = self
            .vars
            .iter()
            .map(|(name, var)| {
                let value = match var.resolve() {
                    Ok(value) => {
                        if var.sensitive {
                            register_secret(&value);
                        }
                        intsync_manifest::VarValue::Known {
                            value,
                            sensitive: var.sensitive,
                        }
                    }
                    Err(error) => intsync_manifest::VarValue::Missing {
                        reason: error.to_string(),
                        env: match &var.source {
                            VarSource::Env(env) => env.clone(),
                            VarSource::Value(_) => unreachable!("a written value is always known"),
                        },
                    },
                };
                (name.clone(), value)
            })
            .collect();
        intsync_manifest::Receiver {
            name: self.name.clone(),
            kinds: self.kinds(),
            vars,
        }
    }

    /// Connects: reads the token from its variable, builds the transport. The provider has a
    /// rate limiter and retry budget of its own; targets run together get theirs from one
    /// [`Connections`] ([`Config::providers`]), so that those of one API and token share them.
    pub fn provider(&self) -> anyhow::Result<Provider> {
        Connections::new(&[self])?.provider(self)
    }

    /// The token, read from `token_env` by `env` (`None` for the `local` target).
    fn token(&self, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Option<Secret>> {
        let Endpoint::Remote { token_env, .. } = &self.endpoint else {
            return Ok(None);
        };
        match env(token_env) {
            Some(token) if !token.trim().is_empty() => Ok(Some(Secret::new(token.trim()))),
            Some(_) => bail!(
                "the target `{}` reads its token from {token_env}, which is empty; export {token_env}=<API token>",
                self.name
            ),
            None => bail!(
                "the target `{}` reads its token from {token_env}, which is not set; export {token_env}=<API token>",
                self.name
            ),
        }
    }
}

/// The API and token a target's requests count against (issue #24): the origin of its
/// `base_url` (scheme, lower-case host, port unless the scheme's default) and a keyed hash of
/// its token. The token itself is never kept here, so neither `Debug` nor a log can show it;
/// the hash's key is drawn per [`Connections`], so the fingerprint means nothing outside one.
#[derive(Clone, PartialEq, Eq, Hash)]
struct LimitKey {
    origin: String,
    token: u64,
}

impl std::fmt::Debug for LimitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (token #{:016x})", self.origin, self.token)
    }
}

/// What targets of one API and token share: one rate limiter (the strictest of their limits)
/// and one retry budget.
#[derive(Debug)]
struct Shared {
    limiter: Option<Arc<intsync_provider::RateLimiter>>,
    budget: Arc<RetryBudget>,
}

/// The rate limiters and retry budgets of the targets of one run, one per API and token
/// (design §11: targets sharing `base_url` and token share one rate limiter and retry budget;
/// different tokens go in parallel). Owned by the run, not the process: two runs in one
/// process (tests, a reconciler) do not slow each other. When targets sharing a key configure
/// different rate limits, the strictest of each window is kept (`per_second`, `per_10_seconds`,
/// `per_minute` each the lowest any of them sets; `"off"` only when all are off): a quota
/// belongs to the token, and the strictest target may know it best.
#[derive(Debug)]
pub struct Connections {
    hasher: std::hash::RandomState,
    /// Each remote target's token and key, by target name.
    tokens: BTreeMap<String, (Secret, LimitKey)>,
    shared: std::collections::HashMap<LimitKey, Shared>,
}

impl Connections {
    /// Reads the token of each of `targets` from its variable and gives each API and token one
    /// limiter (under the strictest of their rate limits) and one retry budget.
    pub fn new(targets: &[&Target]) -> anyhow::Result<Connections> {
        Connections::reading(targets, &|name| std::env::var(name).ok())
    }

    /// [`Connections::new`], with the tokens' variables read by `env`.
    pub fn reading(
        targets: &[&Target],
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Connections> {
        let hasher = std::hash::RandomState::new();
        let mut tokens = BTreeMap::new();
        let mut limits: std::collections::HashMap<LimitKey, Option<RateLimit>> =
            std::collections::HashMap::new();
        for target in targets {
            // A target whose token cannot be read shares nothing: connecting it says why.
            let (Ok(Some(token)), Endpoint::Remote { base_url, .. }) =
                (target.token(env), &target.endpoint)
            else {
                continue;
            };
            let key = limit_key(&hasher, base_url, &token);
            limits
                .entry(key.clone())
                .and_modify(|limit| *limit = stricter(*limit, target.rate_limit))
                .or_insert(target.rate_limit);
            tokens.insert(target.name.clone(), (token, key));
        }
        let shared = limits
            .into_iter()
            .map(|(key, limit)| {
                let limiter =
                    limit.map(|limit| Arc::new(intsync_provider::RateLimiter::new(windows(limit))));
                (
                    key,
                    Shared {
                        limiter,
                        budget: Arc::new(RetryBudget::new()),
                    },
                )
            })
            .collect();
        Ok(Connections {
            hasher,
            tokens,
            shared,
        })
    }

    /// `target` connected, its requests under the limiter and retry budget of its API and
    /// token. A target not among those the connections were made for gets its own, under its
    /// own rate limit, with its token read from its variable now.
    pub fn provider(&self, target: &Target) -> anyhow::Result<Provider> {
        let (transport, hint, shared) = match &target.endpoint {
            Endpoint::Local { state } => {
                let emulator = intsync_emulator::local(state).with_context(|| {
                    format!("cannot open the local target's state `{}`", state.display())
                })?;
                (
                    Transport::InProcess {
                        api: Arc::new(crate::local::LocalApi(Arc::new(emulator))),
                    },
                    String::new(),
                    None,
                )
            }
            Endpoint::Remote {
                base_url,
                token_env,
            } => {
                // Known, and for the same API: its token as read, and what it shares.
                let known = self
                    .tokens
                    .get(&target.name)
                    .filter(|(token, key)| limit_key(&self.hasher, base_url, token) == *key);
                let (token, shared) = match known {
                    Some((token, key)) => (token.clone(), self.shared.get(key)),
                    None => (
                        target
                            .token(&|name| std::env::var(name).ok())?
                            .context("a remote target has a token")?,
                        None,
                    ),
                };
                let hint = format!("check that {token_env} holds a valid API token for {base_url}");
                (
                    Transport::http(base_url, token, target.timeouts)?,
                    hint,
                    shared,
                )
            }
        };
        let provider = Provider::new(
            target.name.clone(),
            transport,
            target.kinds(),
            target.page_size,
            target.retry,
            hint,
        )
        .with_team_id(target.team_id.clone());
        Ok(match shared {
            Some(shared) => {
                let provider = provider.with_retry_budget(Arc::clone(&shared.budget));
                match &shared.limiter {
                    Some(limiter) => provider.with_rate_limiter(Arc::clone(limiter)),
                    None => provider,
                }
            }
            None => match target.rate_limit {
                Some(limit) => provider.with_rate_limiter(Arc::new(
                    intsync_provider::RateLimiter::new(windows(limit)),
                )),
                None => provider,
            },
        })
    }
}

fn limit_key(hasher: &std::hash::RandomState, base_url: &str, token: &Secret) -> LimitKey {
    use std::hash::BuildHasher as _;
    // `base_url` was checked to parse; the origin lower-cases the host and drops a default port.
    let origin = url::Url::parse(base_url).map_or_else(
        |_| base_url.to_ascii_lowercase(),
        |url| url.origin().ascii_serialization(),
    );
    LimitKey {
        origin,
        token: hasher.hash_one(token.expose()),
    }
}

/// The stricter of two rate limits, window by window (`None`: no limit).
fn stricter(a: Option<RateLimit>, b: Option<RateLimit>) -> Option<RateLimit> {
    let lower = |x: Option<u32>, y: Option<u32>| match (x, y) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    match (a, b) {
        (Some(a), Some(b)) => Some(RateLimit {
            per_second: lower(a.per_second, b.per_second),
            per_minute: lower(a.per_minute, b.per_minute),
            per_10_seconds: lower(a.per_10_seconds, b.per_10_seconds),
        }),
        (a, b) => a.or(b),
    }
}

/// The limiter's windows of a rate limit.
fn windows(limit: RateLimit) -> Vec<(Duration, u32)> {
    [
        (Duration::from_secs(1), limit.per_second),
        (Duration::from_secs(10), limit.per_10_seconds),
        (Duration::from_secs(60), limit.per_minute),
    ]
    .into_iter()
    .filter_map(|(w, n)| n.map(|n| (w, n)))
    .collect()
}

/// `base_url` is scheme, host and port, nothing else (design §5): a user or password would
/// replace the Bearer token (and show in every error), a path, query or fragment would change
/// every request's address, and the URL parser silently drops surrounding spaces and inner tabs.
/// `http://` is accepted only for loopback hosts: a token must never cross a network in clear.
/// Messages never show a password that `raw` holds.
fn check_base_url(target: &str, raw: &str) -> anyhow::Result<String> {
    let shown = intsync_provider::without_userinfo(raw);
    let only = "base_url is only scheme, host and port (e.g. https://coolshop.ada.support); intsync adds the API paths";
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        bail!(
            "target `{target}`: base_url {shown:?} contains spaces or control characters; {only}"
        );
    }
    let url = url::Url::parse(raw)
        .with_context(|| format!("target `{target}`: base_url `{shown}` is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() {
        bail!(
            "target `{target}`: base_url `{shown}` carries a user or password; remove it: the token of token_env is the only credential intsync sends, and a URL with a password would be printed in errors"
        );
    }
    let host = url.host_str().unwrap_or_default();
    match url.scheme() {
        "https" => {}
        "http" => {
            let loopback = host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if !loopback {
                bail!(
                    "target `{target}`: base_url `{shown}` uses plain http:// for a host that is not loopback; use https:// (http:// is accepted only for localhost, 127.0.0.0/8 and ::1)"
                );
            }
        }
        other => bail!("target `{target}`: base_url `{shown}` must be https:// (not {other}://)"),
    }
    let extra = [
        (url.fragment().is_some(), "a fragment (`#...`)"),
        (url.query().is_some(), "a query (`?...`)"),
        (url.path() != "/", "a path"),
    ];
    if let Some((_, what)) = extra.iter().find(|(has, _)| *has) {
        bail!("target `{target}`: base_url `{shown}` has {what}; {only}");
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

/// The nearest `intsync.toml` in a parent of the working directory, if any: never read (it
/// may belong to another repository, with other targets), only mentioned.
fn ancestor_config() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .skip(1)
        .map(|dir| dir.join(CONFIG_FILE))
        .find(|candidate| candidate.is_file())
}

/// The directory of target `name`'s lock and intent records, under the configuration's `base`.
fn state_dir(base: &Path, name: &str) -> PathBuf {
    base.join(".intsync/targets")
        .join(intsync_apply::secrets::file_stem(name))
}

fn built_in_local(base: &Path) -> Target {
    Target {
        state_dir: state_dir(base, "local"),
        name: "local".to_owned(),
        provider: ProviderName::Local,
        endpoint: Endpoint::Local {
            state: base.join(DEFAULT_LOCAL_STATE),
        },
        page_size: DEFAULT_PAGE_SIZE,
        retry: RetryPolicy::default(),
        timeouts: Timeouts::default(),
        rate_limit: None,
        team_id: None,
        vars: BTreeMap::new(),
    }
}

impl Config {
    /// `--config FILE`, else `intsync.toml` in the working directory, else the built-in default:
    /// one `local` target. Parent directories are never searched.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(path) => Some(path.to_owned()),
            None => Some(PathBuf::from(CONFIG_FILE)).filter(|p| p.exists()),
        };
        let Some(path) = path else {
            let base = PathBuf::from(".");
            let mut targets = BTreeMap::new();
            targets.insert("local".to_owned(), built_in_local(&base));
            return Ok(Config {
                path: None,
                unread: ancestor_config(),
                default_targets: vec!["local".to_owned()],
                targets,
                declared: vec!["local".to_owned()],
            });
        };
        let text = fs_err::read_to_string(&path)
            .with_context(|| format!("cannot read the configuration `{}`", path.display()))?;
        Config::parse(&text, &path)
    }

    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
        let file: File = toml::from_str(text).with_context(|| {
            format!("`{}` is not a valid intsync configuration", path.display())
        })?;
        let base = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        let mut targets = BTreeMap::new();
        targets.insert("local".to_owned(), built_in_local(&base));
        let mut declared: Vec<String> = file.targets.keys().cloned().collect();
        if declared.is_empty() {
            declared.push("local".to_owned());
        }
        for (name, t) in file.targets {
            let endpoint = match t.provider {
                ProviderName::Local => {
                    if t.base_url.is_some() || t.token_env.is_some() {
                        bail!(
                            "target `{name}`: a local target has `state`, not `base_url` or `token_env`"
                        );
                    }
                    Endpoint::Local {
                        state: base.join(
                            t.state
                                .unwrap_or_else(|| PathBuf::from(DEFAULT_LOCAL_STATE)),
                        ),
                    }
                }
                ProviderName::Ada | ProviderName::Truto => {
                    if t.state.is_some() {
                        bail!("target `{name}`: `state` is only for local targets");
                    }
                    let Some(base_url) = t.base_url else {
                        bail!("target `{name}`: `base_url` is required")
                    };
                    let Some(token_env) = t.token_env else {
                        bail!(
                            "target `{name}`: `token_env` is required: the name of the environment variable that holds the API token"
                        )
                    };
                    Endpoint::Remote {
                        base_url: check_base_url(&name, &base_url)?,
                        token_env,
                    }
                }
            };
            let rate_limit = match t.rate_limit {
                None => Target::documented_rate_limit(t.provider),
                Some(RateLimitFile::Off(s)) if s == "off" => None,
                Some(RateLimitFile::Off(s)) => bail!(
                    "target `{name}`: rate_limit is \"off\" or {{ per_second, per_minute, per_10_seconds }}, not \"{s}\""
                ),
                // A partial table changes the windows it names; the documented ones it does not
                // name stay (Ada's `{ per_second = 5 }` keeps 100 per minute).
                Some(RateLimitFile::Limits(limits)) => {
                    let documented =
                        Target::documented_rate_limit(t.provider).unwrap_or(RateLimit {
                            per_second: None,
                            per_minute: None,
                            per_10_seconds: None,
                        });
                    Some(RateLimit {
                        per_second: limits.per_second.or(documented.per_second),
                        per_minute: limits.per_minute.or(documented.per_minute),
                        per_10_seconds: limits.per_10_seconds.or(documented.per_10_seconds),
                    })
                }
            };
            let team_id = match (t.team_id, t.provider) {
                (None, _) => None,
                (Some(team), ProviderName::Truto) if !team.trim().is_empty() => {
                    Some(team.trim().to_owned())
                }
                (Some(_), ProviderName::Truto) => {
                    bail!(
                        "target `{name}`: team_id is empty; give your Truto team's id, or leave it out to have it read from GET /environment"
                    )
                }
                (Some(_), _) => bail!(
                    "target `{name}`: team_id is only for Truto targets (the team whose integrations the target manages)"
                ),
            };
            let page_size = t.page_size.unwrap_or(DEFAULT_PAGE_SIZE);
            if page_size == 0 {
                bail!("target `{name}`: page_size must be at least 1");
            }
            let mut retry = RetryPolicy::default();
            if let Some(r) = t.retry {
                retry.attempts = r.attempts.unwrap_or(retry.attempts).max(1);
                retry.base_delay = r
                    .base_delay_ms
                    .map_or(retry.base_delay, Duration::from_millis);
                retry.max_delay = r
                    .max_delay_ms
                    .map_or(retry.max_delay, Duration::from_millis);
                retry.max_retry_after = r
                    .max_retry_after_ms
                    .map_or(retry.max_retry_after, Duration::from_millis);
            }
            let mut timeouts = Timeouts::default();
            if let Some(secs) = t.timeout_secs {
                timeouts.request = Duration::from_secs(secs.max(1));
            }
            let vars = t
                .vars
                .into_iter()
                .map(|(var, raw)| Ok((var.clone(), parse_var(&name, &var, raw)?)))
                .collect::<anyhow::Result<BTreeMap<String, Var>>>()?;
            targets.insert(
                name.clone(),
                Target {
                    vars,
                    state_dir: state_dir(&base, &name),
                    name,
                    provider: t.provider,
                    endpoint,
                    page_size,
                    retry,
                    timeouts,
                    rate_limit,
                    team_id,
                },
            );
        }
        let default_targets = default_targets(file.default_target, &targets, path)?;
        Ok(Config {
            path: Some(path.to_owned()),
            unread: None,
            default_targets,
            targets,
            declared,
        })
    }

    /// What a person should know of where the configuration came from: a parent directory's
    /// `intsync.toml` that was not read.
    pub fn note(&self) -> Option<String> {
        self.unread.as_ref().map(|found| format!(
            "note: `{}` is not read: intsync reads only ./{CONFIG_FILE} (or --config), never a parent directory's; using the built-in `local` target",
            found.display()
        ))
    }

    /// Every target, as loading needs them: manifests are held to this configuration's
    /// targets, and resolved with their vars.
    #[must_use]
    pub fn receivers(&self) -> intsync_manifest::Receivers {
        intsync_manifest::Receivers::new(self.targets.values().map(Target::receiver).collect())
    }

    /// `--target NAME`, else the default target (a list of several is refused).
    pub fn target(&self, name: Option<&str>) -> anyhow::Result<&Target> {
        self.only(&match name {
            Some(name) => Selection::Named(vec![name.to_owned()]),
            None => Selection::Default,
        })
    }

    /// The one target `selection` picks; several are refused (`watch` serves one target).
    pub fn only(&self, selection: &Selection) -> anyhow::Result<&Target> {
        match self.select(selection)?.as_slice() {
            [one] => Ok(one),
            several => bail!(
                "this command serves one target, and {} are selected ({}); pick one with --target",
                several.len(),
                names(several)
            ),
        }
    }

    /// The targets `selection` names, in its order, each once; an unknown name is an error
    /// that lists the known ones.
    pub fn select(&self, selection: &Selection) -> anyhow::Result<Vec<&Target>> {
        let names = match selection {
            Selection::Default => &self.default_targets,
            Selection::Named(names) if !names.is_empty() => names,
            Selection::Named(_) => &self.default_targets,
            Selection::All => &self.declared,
        };
        let mut seen = std::collections::BTreeSet::new();
        names
            .iter()
            .filter(|name| seen.insert(name.as_str()))
            .map(|name| self.named(name))
            .collect()
    }

    fn named(&self, name: &str) -> anyhow::Result<&Target> {
        self.targets.get(name).with_context(|| {
            let known = self.targets.keys().cloned().collect::<Vec<_>>().join(", ");
            match &self.path {
                Some(path) => format!("no target `{name}` in `{}` (known: {known})", path.display()),
                None => format!("no target `{name}`: there is no {CONFIG_FILE} here, only the built-in `local` target"),
            }
        })
    }
}

/// `name`, `name`, ... of `targets`, inert.
fn names(targets: &[&Target]) -> String {
    targets
        .iter()
        .map(|t| format!("`{}`", intsync_plan::inert::visible(&t.name)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `default_target` of the file at `path`: each a target of `targets`, at least one (`local`
/// when it is not given).
fn default_targets(
    given: Option<DefaultTarget>,
    targets: &BTreeMap<String, Target>,
    path: &Path,
) -> anyhow::Result<Vec<String>> {
    let names = match given {
        None => vec!["local".to_owned()],
        Some(DefaultTarget::One(name)) => vec![name],
        Some(DefaultTarget::Several(names)) if names.is_empty() => bail!(
            "`{}`: default_target is an empty list; name at least one target, or leave it out for `local`",
            path.display()
        ),
        Some(DefaultTarget::Several(names)) => names,
    };
    if let Some(unknown) = names.iter().find(|name| !targets.contains_key(*name)) {
        bail!(
            "`{}`: default_target `{unknown}` is not one of the targets ({})",
            path.display(),
            targets.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TWO: &str = "[targets.b]\nprovider = \"local\"\nstate = \"b.json\"\n[targets.a]\nprovider = \"local\"\nstate = \"a.json\"\n";

    fn names(config: &Config, selection: &Selection) -> Vec<String> {
        config
            .select(selection)
            .unwrap()
            .into_iter()
            .map(|t| t.name.clone())
            .collect()
    }

    #[test]
    fn default_target_may_be_a_list() {
        let config = parse(&format!("default_target = [\"b\", \"a\"]\n{TWO}")).unwrap();
        assert_eq!(names(&config, &Selection::Default), ["b", "a"]);
        let e = parse(&format!("default_target = [\"a\", \"prod\"]\n{TWO}")).unwrap_err();
        assert!(
            format!("{e:#}").contains("intsync.toml`: default_target `prod`"),
            "{e:#}"
        );
        let e = parse(&format!("default_target = []\n{TWO}")).unwrap_err();
        assert!(format!("{e:#}").contains("empty list"), "{e:#}");
        let e = config.target(None).unwrap_err();
        assert!(format!("{e:#}").contains("one target"), "{e:#}");
    }

    #[test]
    fn a_selection_keeps_its_order_once_each_and_all_is_every_declared_target() {
        let config = parse(TWO).unwrap();
        let named = Selection::Named(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(names(&config, &named), ["b", "a"]);
        assert_eq!(names(&config, &Selection::All), ["a", "b"]);
        assert_eq!(names(&config, &Selection::Default), ["local"]);
        let e = config
            .select(&Selection::Named(vec!["a".into(), "c".into()]))
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("no target `c` in `intsync.toml` (known: a, b, local)"),
            "{e:#}"
        );
        let only_local = parse("").unwrap();
        assert_eq!(names(&only_local, &Selection::All), ["local"]);
    }

    fn parse(text: &str) -> anyhow::Result<Config> {
        Config::parse(text, Path::new("intsync.toml"))
    }

    #[test]
    fn design_example_parses() {
        let config = parse(
            r#"
default_target = "local"
[targets.local]
provider = "local"
state = ".intsync/local-state.json"
[targets.ada-dev]
provider = "ada"
base_url = "https://coolshop-dev.ada.support"
token_env = "ADA_API_TOKEN"
rate_limit = { per_second = 10, per_minute = 100 }
page_size = 100
[targets.truto]
provider = "truto"
base_url = "https://api.truto.one"
token_env = "TRUTO_API_TOKEN"
"#,
        )
        .unwrap();
        assert_eq!(config.default_targets, ["local"]);
        let truto = config.target(Some("truto")).unwrap();
        assert_eq!(
            truto.rate_limit.unwrap().per_10_seconds,
            Some(500),
            "documented default"
        );
        assert_eq!(truto.kinds(), vec![Kind::TrutoIntegration]);
        assert_eq!(config.target(None).unwrap().kinds().len(), 2);
    }

    #[test]
    fn a_partial_rate_limit_keeps_the_documented_windows_it_does_not_name() {
        let config = parse(
            "[targets.a]\nprovider = \"ada\"\nbase_url = \"https://x.ada.support\"\ntoken_env = \"T\"\nrate_limit = { per_second = 5 }\n\
             [targets.t]\nprovider = \"truto\"\nbase_url = \"https://api.truto.one\"\ntoken_env = \"T\"\nrate_limit = { per_second = 20 }\n\
             [targets.off]\nprovider = \"ada\"\nbase_url = \"https://x.ada.support\"\ntoken_env = \"T\"\nrate_limit = \"off\"\n",
        )
        .unwrap();
        assert_eq!(
            config.target(Some("a")).unwrap().rate_limit,
            Some(RateLimit {
                per_second: Some(5),
                per_minute: Some(100),
                per_10_seconds: None
            }),
            "Ada's 100 per minute stays"
        );
        assert_eq!(
            config.target(Some("t")).unwrap().rate_limit,
            Some(RateLimit {
                per_second: Some(20),
                per_minute: None,
                per_10_seconds: Some(500)
            }),
            "Truto's 500 per 10 s stays"
        );
        assert_eq!(config.target(Some("off")).unwrap().rate_limit, None);
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost:1",
            "http://[::1]:80",
            "https://x.ada.support",
        ] {
            assert!(check_base_url("t", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1",
            "http://example.com",
            "ftp://x",
            "https://x/api",
            "nope",
        ] {
            assert!(check_base_url("t", bad).is_err(), "{bad}");
        }
    }

    /// Issue #21: a password in base_url replaced the Bearer token and showed in every error;
    /// a fragment sent every request to `/`; leading spaces were kept.
    #[test]
    fn base_url_is_scheme_host_and_port_only_and_never_shows_a_password() {
        for (bad, says) in [
            ("http://user:hunter22@127.0.0.1:1", "user or password"),
            ("https://user@x.ada.support", "user or password"),
            ("https://:hunter22@x.ada.support", "user or password"),
            ("https://x.ada.support#frag", "a fragment"),
            ("https://x.ada.support/#", "a fragment"),
            ("https://x.ada.support?a=1", "a query"),
            ("https://x.ada.support/?", "a query"),
            ("https://x.ada.support/api", "a path"),
            ("https://x.ada.support//", "a path"),
            ("  https://x.ada.support", "spaces or control characters"),
            ("https://x.ada.support ", "spaces or control characters"),
            ("https://x.ada\\t.support", "spaces or control characters"),
            (
                "https://x.ada.sup\\u0001port",
                "spaces or control characters",
            ),
        ] {
            let toml = format!(
                "[targets.a]\nprovider = \"ada\"\nbase_url = \"{bad}\"\ntoken_env = \"T\"\n"
            );
            let e = format!("{:#}", parse(&toml).unwrap_err());
            assert!(e.contains(says), "{bad}: {e}");
            assert!(!e.contains("hunter22"), "{bad}: {e}");
        }
        assert_eq!(
            check_base_url("t", "https://x.ada.support/").unwrap(),
            "https://x.ada.support"
        );
    }

    #[test]
    fn errors_are_specific() {
        let e = parse("[targets.a]\nprovider = \"ada\"\nbase_url = \"https://x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("token_env` is required"), "{e:#}");
        let e = parse("default_target = \"prod\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("default_target `prod`"), "{e:#}");
        let e = parse("[targets.a]\nprovider = \"ada\"\nbase_urll = \"https://x\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("base_urll"), "{e:#}");
        let e = parse("[targets.a]\nprovider = \"ada\"\nbase_url = \"https://x\"\ntoken_env = \"T\"\nrate_limit = \"none\"\n").unwrap_err();
        assert!(format!("{e:#}").contains("rate_limit"), "{e:#}");
    }

    /// Issue #24: targets of one API and token share a limiter and a retry budget (whatever
    /// the spelling of the same origin), another token gets its own, the strictest rate limit
    /// of a shared key wins, and no `Debug` shows a token.
    #[test]
    fn targets_of_one_api_and_token_share_a_limiter_and_a_retry_budget() {
        let config = parse(
            "[targets.a]\nprovider = \"ada\"\nbase_url = \"https://x.ada.support\"\ntoken_env = \"T1\"\nrate_limit = { per_second = 5 }\n\
             [targets.b]\nprovider = \"ada\"\nbase_url = \"https://X.ada.support:443/\"\ntoken_env = \"T1_AGAIN\"\nrate_limit = { per_second = 8, per_minute = 50 }\n\
             [targets.c]\nprovider = \"ada\"\nbase_url = \"https://x.ada.support\"\ntoken_env = \"T2\"\n\
             [targets.d]\nprovider = \"ada\"\nbase_url = \"https://y.ada.support\"\ntoken_env = \"T1\"\nrate_limit = \"off\"\n",
        )
        .unwrap();
        let env = |name: &str| {
            Some(
                match name {
                    "T1" | "T1_AGAIN" => "token-one-secret-value",
                    _ => "token-two-secret-value",
                }
                .to_owned(),
            )
        };
        let targets: Vec<&Target> = ["a", "b", "c", "d"]
            .iter()
            .map(|n| config.target(Some(n)).unwrap())
            .collect();
        let connections = Connections::reading(&targets, &env).unwrap();
        let [a, b, c, d] = [0, 1, 2, 3].map(|i| connections.provider(targets[i]).unwrap());
        let limiter = |p: &Provider| Arc::clone(p.rate_limiter().expect("a limiter"));
        assert!(
            Arc::ptr_eq(&limiter(&a), &limiter(&b)),
            "same API and token"
        );
        assert!(Arc::ptr_eq(a.retry_budget(), b.retry_budget()));
        assert!(!Arc::ptr_eq(&limiter(&a), &limiter(&c)), "another token");
        assert!(!Arc::ptr_eq(a.retry_budget(), c.retry_budget()));
        assert!(d.rate_limiter().is_none(), "another host, its limit off");
        assert!(!Arc::ptr_eq(a.retry_budget(), d.retry_budget()));
        // The stricter of a's (5/s, the documented 100/min) and b's (8/s, 50/min).
        assert_eq!(
            limiter(&a).stated_windows(),
            [(Duration::from_secs(1), 5), (Duration::from_secs(60), 50)]
        );
        assert_eq!(
            stricter(
                None,
                Some(RateLimit {
                    per_second: Some(3),
                    per_minute: None,
                    per_10_seconds: None
                })
            )
            .and_then(|l| l.per_second),
            Some(3),
            "off and a limit: the limit"
        );
        // Asked again, a target gets the same.
        let alone = connections.provider(targets[0]).unwrap();
        assert!(Arc::ptr_eq(&limiter(&alone), &limiter(&a)));
        let shown = format!("{connections:?}");
        assert!(
            !shown.contains("token-one") && !shown.contains("token-two"),
            "{shown}"
        );
        assert!(shown.contains("https://x.ada.support"), "{shown}");
    }

    #[test]
    fn missing_token_variable_names_it() {
        let config = parse("[targets.a]\nprovider = \"ada\"\nbase_url = \"https://x.ada.support\"\ntoken_env = \"INTSYNC_TEST_SURELY_UNSET\"\n").unwrap();
        let e = config.target(Some("a")).unwrap().provider().unwrap_err();
        assert!(
            e.to_string()
                .contains("INTSYNC_TEST_SURELY_UNSET, which is not set"),
            "{e}"
        );
    }

    /// Values per target (issue #24): literal values of any type, sensitive ones, and values
    /// read from `INTSYNC_VAR_*` variables only.
    #[test]
    fn vars_are_values_or_prefixed_environment_variables() {
        let config = parse(
            "[targets.s]\nprovider = \"local\"\n[targets.s.vars]\ncallback = \"https://s.example.com/cb\"\nport = 8443\nconfig = { value = { base_url = \"https://api\" } }\nkey = { env = \"INTSYNC_VAR_TEST_SURELY_UNSET\", sensitive = true }\nhidden = { value = \"x\", sensitive = true }\n",
        )
        .unwrap();
        let vars = &config.target(Some("s")).unwrap().vars;
        let value = |name: &str| vars[name].resolve();
        assert_eq!(
            value("callback"),
            Ok(serde_json::json!("https://s.example.com/cb"))
        );
        assert_eq!(value("port"), Ok(serde_json::json!(8443)));
        assert_eq!(
            value("config"),
            Ok(serde_json::json!({"base_url": "https://api"}))
        );
        assert!(vars["key"].sensitive && vars["hidden"].sensitive && !vars["port"].sensitive);
        assert_eq!(
            value("key"),
            Err(VarError::Unset("INTSYNC_VAR_TEST_SURELY_UNSET".to_owned()))
        );
        assert!(config.target(Some("local")).unwrap().vars.is_empty());
    }

    /// A pull request must not be able to read a token into a manifest: only `INTSYNC_VAR_*`.
    #[test]
    fn vars_refuse_other_environment_variables_and_odd_specs() {
        for (vars, says) in [
            (
                "x = { env = \"ADA_API_TOKEN\" }",
                "only variables named INTSYNC_VAR_*",
            ),
            (
                "x = { env = \"INTSYNC_VAR_\" }",
                "only variables named INTSYNC_VAR_*",
            ),
            (
                "x = { env = \"HOME\", sensitive = true }",
                "only variables named INTSYNC_VAR_*",
            ),
            (
                "x = { env = 3 }",
                "`env` is the name of an environment variable",
            ),
            (
                "x = { env = \"INTSYNC_VAR_A\", value = 1 }",
                "both `env` and `value`",
            ),
            ("x = { value = 1, sensitiv = true }", "has `sensitiv`"),
            (
                "x = { value = 1, sensitive = \"yes\" }",
                "`sensitive` is true or false",
            ),
            ("\"a-b\" = 1", "not a plain name"),
            ("x = 1979-05-27", "date or time"),
        ] {
            let toml = format!("[targets.s]\nprovider = \"local\"\n[targets.s.vars]\n{vars}\n");
            let e = format!("{:#}", parse(&toml).unwrap_err());
            assert!(e.contains(says), "{vars}: {e}");
        }
    }
}
