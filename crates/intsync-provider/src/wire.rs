//! The vendors' wire JSON, turned into the planner's types at this edge and nowhere else.

use intsync_manifest::Kind;
use intsync_plan::ObservedIntegration;
use serde_json::{Map, Value};

use crate::secret::Secret;

/// An answer that does not have the shape the vendor documents; says what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

fn unreadable(reason: impl Into<String>) -> Unreadable {
    Unreadable(reason.into())
}

/// Ada's collection path (with the documented trailing slash).
pub const ADA_COLLECTION: &str = "/api/v2/platform-integrations/";
/// Truto's collection path; items are `/integration/{id}` (the vendor SDK's spelling).
pub const TRUTO_COLLECTION: &str = "/integration";

/// Truto's environments (`GET /environment`): a token sees its own, which names its team.
pub const TRUTO_ENVIRONMENT: &str = "/environment";

/// The team ids of `GET /environment`'s answer, each once, in order. Truto documents the list
/// under `result` (every admin list) and shows `results` in one example: both are read.
pub fn environment_teams(body: Value) -> Result<Vec<String>, Unreadable> {
    let Value::Object(mut body) = body else {
        return Err(unreadable(format!(
            "the environment list is {}, not an object",
            type_name(&body)
        )));
    };
    let items = match body.remove("result").or_else(|| body.remove("results")) {
        Some(Value::Array(items)) => items,
        _ => {
            return Err(unreadable(
                "the environment list has no `result` (or `results`) array",
            ));
        }
    };
    let mut teams: Vec<String> = Vec::new();
    for item in &items {
        if let Some(team) = team_id(item)
            && !teams.iter().any(|t| t == team)
        {
            teams.push(team.to_owned());
        }
    }
    Ok(teams)
}

/// The `team_id` of a Truto integration or environment (a non-empty string), if it has one.
pub fn team_id(item: &Value) -> Option<&str> {
    item.get("team_id")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
}

/// The body of a create: the fields of `body` the vendor's create takes, in `body`'s order.
/// Truto documents `name`, `category`, `config` and `is_beta`; its `sharing` is set by a PATCH.
pub fn create_body(kind: Kind, body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(field, _)| kind.field(field).is_some_and(|f| f.in_create_body))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect()
}

/// Percent-encodes one path segment.
pub fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

pub fn item_path(kind: Kind, id: &str) -> String {
    match kind {
        Kind::AdaPlatformIntegration => format!("/api/v2/platform-integrations/{}", segment(id)),
        Kind::TrutoIntegration => format!("{TRUTO_COLLECTION}/{}", segment(id)),
    }
}

pub fn collection_path(kind: Kind) -> &'static str {
    match kind {
        Kind::AdaPlatformIntegration => ADA_COLLECTION,
        Kind::TrutoIntegration => TRUTO_COLLECTION,
    }
}

/// One live integration from its wire JSON. Unknown keys are ignored (both vendors promise to
/// add some); the server-managed ones the plan needs (`id`, Ada `status`, Truto `version`) must
/// be there. The error says, in one sentence, what is wrong (see [`item`] for its parts).
pub fn observed(kind: Kind, value: Value) -> Result<ObservedIntegration, Unreadable> {
    item(kind, value).map_err(|e| Unreadable(e.to_string()))
}

/// A listed integration that cannot be read: what can be read of its identity, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableItem {
    /// Its `id`, when it has one (a non-empty string, or a number).
    pub id: Option<String>,
    /// Its `name`, when it is a string.
    pub name: Option<String>,
    /// What is wrong, as a predicate of the integration (say, "has no `status`"). Names a key and
    /// the problem; never quotes the answer (it may hold a secret).
    pub reason: String,
}

impl std::fmt::Display for UnreadableItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.id {
            Some(id) => write!(f, "integration `{id}` {}", self.reason),
            None => write!(f, "an integration {}", self.reason),
        }
    }
}

/// [`observed`], with the parts of the error apart: a list keeps each integration it cannot
/// read as one, by id and name, instead of failing the whole list.
///
/// An integration whose identity cannot be read reliably is unreadable too: one whose `name`
/// is there but not a string would plan as nameless, and a manifest of its name would create
/// a duplicate.
pub fn item(kind: Kind, value: Value) -> Result<ObservedIntegration, UnreadableItem> {
    let Value::Object(mut object) = value else {
        return Err(UnreadableItem {
            id: None,
            name: None,
            reason: format!("is {}, not an object", type_name(&value)),
        });
    };
    let (id, status, version) = identity(kind, &object, |key| object.contains_key(key))?;
    // Moved, not copied: pages of large forms add up. Kept as compact text, with the
    // fingerprint computed now, from these values (issue #16).
    let fields: Map<String, Value> = kind
        .fields()
        .iter()
        .filter_map(|f| object.remove(f.name).map(|v| (f.name.to_owned(), v)))
        .collect();
    Ok(ObservedIntegration::new(kind, id, status, version, fields)
        .with_created(created(kind, &object)))
}

/// The keys of a listed integration [`identity`], [`created`] and the ownership check read;
/// the others are its fields, or ignored.
const READ_KEYS: [&str; 7] = [
    "id",
    "name",
    "status",
    "version",
    "created",
    "created_at",
    "team_id",
];

/// A listed integration's `id`, Ada `status` and Truto `version`, or why it cannot be read:
/// see [`item`]. `object` holds at least [`READ_KEYS`]; `has` says which keys the whole
/// integration has.
fn identity(
    kind: Kind,
    object: &Map<String, Value>,
    has: impl Fn(&str) -> bool,
) -> Result<(String, Option<String>, Option<u64>), UnreadableItem> {
    let name = object
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let unreadable = |id: Option<&str>, reason: String| UnreadableItem {
        id: id.map(str::to_owned),
        name: name.clone(),
        reason,
    };
    let Some(id) = id(object) else {
        return Err(unreadable(None, "has no `id`".to_owned()));
    };
    if let Some(other) = object.get("name").filter(|n| !n.is_string()) {
        return Err(unreadable(
            Some(&id),
            format!("has a `name` that is {}, not a string", type_name(other)),
        ));
    }
    let (status, version) = match kind {
        Kind::AdaPlatformIntegration => match object.get("status").and_then(Value::as_str) {
            Some(s) => (Some(s.to_owned()), None),
            None => return Err(unreadable(Some(&id), "has no `status`".to_owned())),
        },
        Kind::TrutoIntegration => match object.get("version").and_then(Value::as_u64) {
            Some(v) => (None, Some(v)),
            None => {
                return Err(unreadable(Some(&id), "has no numeric `version`".to_owned()));
            }
        },
    };
    // The API always returns these (Ada's response schema requires them; Truto's `name`). An
    // answer without one is broken, and planning from it could, say, create a duplicate of an
    // integration whose name went missing.
    if let Some(missing) = kind
        .fields()
        .iter()
        .find(|f| f.required_on_create && !has(f.name))
    {
        return Err(unreadable(
            Some(&id),
            format!("has no `{}`, which the API always returns", missing.name),
        ));
    }
    Ok((id, status, version))
}

/// When a listed integration was created, as its vendor says.
fn created(kind: Kind, object: &Map<String, Value>) -> Option<String> {
    match kind {
        Kind::AdaPlatformIntegration => object.get("created"),
        Kind::TrutoIntegration => object.get("created_at"),
    }
    .and_then(Value::as_str)
    .map(str::to_owned)
}

/// [`read_page`] of a page as serde_json writes it (compact, its own escapes): each item's
/// fields are taken as their text and its fingerprint written from it, no value built but
/// the few keys [`identity`] reads (issue #24). `None` for any other page, or a page whose
/// envelope is not the documented one: [`read_page`] then reads it by serde_json, and its
/// answer (or error) is the one that counts.
fn read_compact_page(
    kind: Kind,
    body: &[u8],
    team: Option<&str>,
    page_size: usize,
) -> Option<ReadPage> {
    use intsync_plan::compact;
    let text = std::str::from_utf8(body).ok()?;
    let bytes = text.as_bytes();
    let items_key = match kind {
        Kind::AdaPlatformIntegration => "data",
        Kind::TrutoIntegration => "result",
    };
    let mut keys = Map::new();
    let mut read = None;
    // One pass: the items are read where they stand, each once.
    let end = compact::walk_object(bytes, 0, |key, start| {
        if key == items_key {
            let (items, end) = compact_items(kind, text, start, team)?;
            read = Some(items);
            return Some(end);
        }
        let end = compact::value_end(bytes, start)?;
        if key == "meta" || key == "next_cursor" {
            keys.insert(
                key.to_owned(),
                serde_json::from_str(&text[start..end]).ok()?,
            );
        }
        Some(end)
    })?;
    if end != bytes.len() {
        return None;
    }
    let next = next_of(kind, &keys, page_size).ok()?;
    Some(ReadPage { items: read?, next })
}

/// The items of the array at `at` in `text` ([`compact_item`] each), and where it ends.
fn compact_items(
    kind: Kind,
    text: &str,
    at: usize,
    team: Option<&str>,
) -> Option<(Vec<PageItem>, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let mut read = Vec::new();
    let mut at = at + 1;
    if bytes.get(at) == Some(&b']') {
        return Some((read, at + 1));
    }
    let mut scratch = intsync_plan::normalize::ItemScratch::default();
    loop {
        let (item, end) = compact_item(kind, text, at, team, &mut scratch)?;
        read.push(item);
        match bytes.get(end)? {
            b',' => at = end + 1,
            b']' => return Some((read, end + 1)),
            _ => return None,
        }
    }
}

/// One item of [`read_compact_page`]: [`item`] and the ownership check of [`read_page`], from
/// the item's text, read once ([`intsync_plan::normalize::read_compact_item`]).
fn compact_item(
    kind: Kind,
    text: &str,
    at: usize,
    team: Option<&str>,
    scratch: &mut intsync_plan::normalize::ItemScratch,
) -> Option<(PageItem, usize)> {
    let (item, end) = intsync_plan::normalize::read_compact_item(kind, text, at, scratch)?;
    let entries = &item.entries;
    let raw = |key: &str| {
        entries
            .iter()
            .find(|(k, _)| k.len() == key.len() && *k == key)
            .map(|(_, (start, end))| &text[*start..*end])
    };
    let mut object = Map::new();
    for key in READ_KEYS {
        if let Some(value) = raw(key) {
            object.insert(key.to_owned(), serde_json::from_str(value).ok()?);
        }
    }
    let object = Value::Object(object);
    if let Some(team) = team
        && team_id(&object) != Some(team)
    {
        return Some((
            PageItem::Others(object.as_object().and_then(id).unwrap_or_default()),
            end,
        ));
    }
    let Value::Object(object) = object else {
        return None;
    };
    let (id, status, version) = match identity(kind, &object, |key| raw(key).is_some()) {
        Ok(identity) => identity,
        Err(unreadable) => return Some((PageItem::Unreadable(unreadable), end)),
    };
    let observed =
        ObservedIntegration::from_compact(kind, id, status, version, item.fields, &item.canonical);
    Some((
        PageItem::Ours(observed.with_created(created(kind, &object))),
        end,
    ))
}

/// An integration's `id` (a non-empty string, or a number), if it has one.
pub fn id(object: &Map<String, Value>) -> Option<String> {
    match object.get("id") {
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// What a create's answer says of Ada's `client_secret` (present in a create response only).
#[derive(Debug, Clone)]
pub enum ClientSecret {
    /// A usable secret.
    Issued(Secret),
    /// No `client_secret` key (or `null`).
    Absent,
    /// A `client_secret` that cannot be a secret; why, in words (never the value).
    Unusable(String),
}

/// Ada's `client_secret` of a create's answer. An empty or blank string, or a value that is not
/// a string, is unusable: saving it would report a secret that does not exist.
pub fn client_secret(value: &Value) -> ClientSecret {
    match value.get("client_secret") {
        None | Some(Value::Null) => ClientSecret::Absent,
        Some(Value::String(secret)) if secret.trim().is_empty() => {
            ClientSecret::Unusable("it is empty".to_owned())
        }
        Some(Value::String(secret)) => ClientSecret::Issued(Secret::new(secret)),
        Some(other) => ClientSecret::Unusable(format!("it is {}, not a string", type_name(other))),
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// One page of a list: the items, and where the next page is (path and query), if any.
pub fn page(
    kind: Kind,
    body: Value,
    page_size: usize,
) -> Result<(Vec<Value>, Option<String>), Unreadable> {
    let Value::Object(mut body) = body else {
        return Err(unreadable(format!(
            "the list is {}, not an object",
            type_name(&body)
        )));
    };
    let items_key = match kind {
        Kind::AdaPlatformIntegration => "data",
        Kind::TrutoIntegration => "result",
    };
    let items = match body.remove(items_key) {
        Some(Value::Array(items)) => items,
        _ => return Err(unreadable(format!("the list has no `{items_key}` array"))),
    };
    let next = next_of(kind, &body, page_size)?;
    Ok((items, next))
}

/// One item of a list page, as [`read_page`] read it.
#[derive(Debug, PartialEq)]
pub enum PageItem {
    /// An integration of the token's team (every one without a team), read.
    Ours(ObservedIntegration),
    /// Another team's, or Truto's own: by its id only (never matched, exported or written).
    Others(String),
    /// One of the team's that cannot be read.
    Unreadable(UnreadableItem),
}

/// A list page as [`read_page`] read it: its items in order, and the next page's path.
#[derive(Debug, PartialEq)]
pub struct ReadPage {
    pub items: Vec<PageItem>,
    pub next: Option<String>,
}

/// Why a list page cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageError {
    /// The answer is not JSON.
    NotJson,
    /// JSON, but not the documented envelope.
    Unreadable(Unreadable),
}

/// A list answer's bytes, read: its items split by `team` (Truto: those of another team, or
/// none, are [`PageItem::Others`]; without a team every item is read), and where the next page
/// is.
pub fn read_page(
    kind: Kind,
    body: &[u8],
    team: Option<&str>,
    page_size: usize,
) -> Result<ReadPage, PageError> {
    match read_compact_page(kind, body, team, page_size) {
        Some(read) => Ok(read),
        None => read_value_page(kind, body, team, page_size),
    }
}

/// [`read_page`] by serde_json: the page parsed as a value, each item read by [`item`].
fn read_value_page(
    kind: Kind,
    body: &[u8],
    team: Option<&str>,
    page_size: usize,
) -> Result<ReadPage, PageError> {
    let body: Value = serde_json::from_slice(body).map_err(|_| PageError::NotJson)?;
    let (items, next) = page(kind, body, page_size).map_err(PageError::Unreadable)?;
    let items = items
        .into_iter()
        .map(|item| {
            // Ownership first: another team's integration is never read as ours, even when its
            // answer is stripped (Truto leaves out their `config`).
            if let Some(team) = team
                && team_id(&item) != Some(team)
            {
                return PageItem::Others(item.as_object().and_then(id).unwrap_or_default());
            }
            match self::item(kind, item) {
                Ok(observed) => PageItem::Ours(observed),
                Err(unreadable) => PageItem::Unreadable(unreadable),
            }
        })
        .collect();
    Ok(ReadPage { items, next })
}

/// The next page's path of a list answer, read without building its items, so that the next
/// request can leave while this page's items are read (issue #16). `None` when there is no
/// next page, or when the answer cannot be read this way: [`page`] then decides, and its
/// answer is the one that counts.
pub fn next_page(kind: Kind, body: &[u8], page_size: usize) -> Option<String> {
    if let Some(next) = next_page_at_the_end(kind, body, page_size) {
        return next;
    }
    /// The keys that name the next page; every other key (the items) is skipped unbuilt.
    #[derive(serde::Deserialize)]
    struct Skim {
        meta: Option<Value>,
        next_cursor: Option<Value>,
    }
    let skim: Skim = serde_json::from_slice(body).ok()?;
    let mut keys = Map::new();
    if let Some(meta) = skim.meta {
        keys.insert("meta".to_owned(), meta);
    }
    if let Some(cursor) = skim.next_cursor {
        keys.insert("next_cursor".to_owned(), cursor);
    }
    next_of(kind, &keys, page_size).ok().flatten()
}

/// [`next_page`] of an answer whose last key is the one naming the next page (`meta` for Ada,
/// `next_cursor` for Truto), as serde_json writes it: found from the end, without reading the
/// items before it (issue #24: skimming every page through serde_json was a tenth of reading
/// it). The key is the top-level one when its value ends right before the answer's last `}`.
/// `None` when that is not so (the caller skims the whole answer).
fn next_page_at_the_end(kind: Kind, body: &[u8], page_size: usize) -> Option<Option<String>> {
    let key = match kind {
        Kind::AdaPlatformIntegration => "meta",
        Kind::TrutoIntegration => "next_cursor",
    };
    let quoted = format!("\"{key}\":");
    let at = body
        .windows(quoted.len())
        .rposition(|w| w == quoted.as_bytes())?;
    if !matches!(
        at.checked_sub(1).map(|before| body[before]),
        Some(b',' | b'{')
    ) {
        return None;
    }
    let start = at + quoted.len();
    let end = intsync_plan::compact::value_end(body, start)?;
    if end + 1 != body.len() || body[end] != b'}' {
        return None;
    }
    let value: Value = serde_json::from_slice(&body[start..end]).ok()?;
    let keys = Map::from_iter([(key.to_owned(), value)]);
    Some(next_of(kind, &keys, page_size).ok().flatten())
}

/// The next page named by a list answer's keys (Ada: `meta.next_page_url`; Truto:
/// `next_cursor`).
fn next_of(
    kind: Kind,
    body: &Map<String, Value>,
    page_size: usize,
) -> Result<Option<String>, Unreadable> {
    Ok(match kind {
        Kind::AdaPlatformIntegration => match body.get("meta").and_then(|m| m.get("next_page_url"))
        {
            None | Some(Value::Null) => None,
            Some(Value::String(url)) if url.is_empty() => None,
            Some(Value::String(url)) => Some(list_page(kind, url)?),
            Some(other) => {
                return Err(unreadable(format!(
                    "`meta.next_page_url` is {}, not a URL",
                    type_name(other)
                )));
            }
        },
        Kind::TrutoIntegration => match body.get("next_cursor") {
            None | Some(Value::Null) => None,
            Some(Value::String(c)) if c.is_empty() => None,
            Some(Value::String(c)) => Some(format!(
                "{TRUTO_COLLECTION}?limit={page_size}&next_cursor={}",
                url::form_urlencoded::byte_serialize(c.as_bytes()).collect::<String>()
            )),
            Some(other) => {
                return Err(unreadable(format!(
                    "`next_cursor` is {}, not a string",
                    type_name(other)
                )));
            }
        },
    })
}

/// The path and query of a `next_page_url`, when it is a page of the list being read: its path
/// is the list's own (with or without the trailing slash: the emulator serves both, as a vendor
/// building the URL might drop it), its query anything (the cursor). The host is dropped on
/// purpose: requests (and the token) only ever go to the configured base URL. Any other path
/// is never asked for: following it would send the token to whatever the answer names.
fn list_page(kind: Kind, url: &str) -> Result<String, Unreadable> {
    let not_a_page = |why: String| {
        unreadable(format!(
            "`meta.next_page_url` is {}, {why}; intsync follows only pages of the list (`{}`), so it stopped here",
            quoted(url),
            collection_path(kind)
        ))
    };
    let parsed = url::Url::parse(url)
        .or_else(|_| url::Url::parse("http://relative.invalid").and_then(|base| base.join(url)))
        .map_err(|e| not_a_page(format!("which is not a URL ({e})")))?;
    let list = collection_path(kind);
    if parsed.path() != list && parsed.path() != list.trim_end_matches('/') {
        return Err(not_a_page(format!(
            "whose path {} is not the list's",
            quoted(parsed.path())
        )));
    }
    Ok(match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_owned(),
    })
}

/// The longest part of a vendor's value that a message quotes.
pub const MAX_QUOTED_CHARS: usize = 200;

/// A value from an answer, fit to print: in double quotes with every quote, backslash, control
/// and invisible character escaped (no terminal escape, no line break, no look-alike text),
/// and cut at [`MAX_QUOTED_CHARS`] characters.
pub fn quoted(text: &str) -> String {
    let mut chars = text.chars();
    let shown: String = chars.by_ref().take(MAX_QUOTED_CHARS).collect();
    let cut = if chars.next().is_some() { "…" } else { "" };
    format!("{shown:?}{cut}")
}

/// The human part of a vendor error body (Ada `errors[0].message`, Truto `message`).
pub fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => {
            // The vendor's own words are cleaned and cut like anything else a server sends: no
            // terminal escape sequence, no page of text, reaches an error line.
            if let Some(first) = value.get("errors").and_then(|e| e.get(0)) {
                let message = first.get("message").and_then(Value::as_str).unwrap_or("");
                return truncate(&match first.get("details").and_then(Value::as_str) {
                    Some(details) if !details.is_empty() => format!("{message} ({details})"),
                    _ => message.to_owned(),
                });
            }
            if let Some(message) = value.get("message").and_then(Value::as_str) {
                return truncate(message);
            }
            truncate(&value.to_string())
        }
        Err(_) => truncate(&String::from_utf8_lossy(body)),
    }
}

fn truncate(text: &str) -> String {
    let clean: String = text.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.is_empty() {
        "(empty body)".to_owned()
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Issue #24: a page as serde_json writes it is read from its text, with no value built
    /// for its fields, into exactly what reading it as a value gives (fields' text, ids,
    /// fingerprints, creation times, unreadable items and their reasons, other teams'
    /// integrations, the next page); a page written otherwise is declined and read as a value.
    #[test]
    fn a_page_read_from_its_text_is_the_page_read_as_a_value() {
        let ada = Kind::AdaPlatformIntegration;
        let truto = Kind::TrutoIntegration;
        let form = json!({"title": "Connect", "type": "object", "required": ["b", "a"],
            "properties": {"b": {"type": "string", "enum": ["x", "y"], "minLength": 3},
                           "a": {"type": "number", "maximum": 1.50, "minimum": -0.0, "default": 1E2}}});
        let ada_item = |i: usize| {
            json!({"id": format!("{i:024x}"), "name": format!("Hub \"{i}\" é ☃\n"),
                "description": "Sync\tarticles", "author": "A", "contact": "a@b.example",
                "configuration_fields": form, "tags": ["b", "a", "a"], "scopes": [],
                "status": "development", "created": "2026-01-01T00:00:00Z",
                "updated": "2026-01-02T00:00:00Z", "unknown": {"deep": [1, 2, {"x": null}]}})
        };
        let mut unreadable = vec![
            json!({"name": "no id", "status": "development"}),
            json!({"id": "n1", "name": 5, "status": "development"}),
            json!({"id": "n2", "name": "no status"}),
            json!({"id": 77, "name": "numeric id, no author", "status": "approved", "description": "d", "contact": "c", "configuration_fields": {}}),
        ];
        let mut items: Vec<Value> = (0..5).map(ada_item).collect();
        items.append(&mut unreadable);
        let ada_pages = [
            json!({"data": items, "meta": {"next_page_url": "https://x/api/v2/platform-integrations/?cursor=c1&limit=2"}}),
            json!({"meta": {"next_page_url": null}, "data": []}),
            json!({"data": [ada_item(9)]}),
        ];
        let truto_item = |i: usize, team: &str| {
            json!({"id": format!("t{i}"), "name": format!("T{i}"), "category": "crm",
                "config": {"label": "L", "resources": {"a": {"b": [1, 2.5e-3]}}},
                "is_beta": false, "sharing": "allow", "team_id": team, "version": i,
                "created_at": "2026-01-01T00:00:00Z"})
        };
        let truto_pages = [
            json!({"result": [truto_item(1, "mine"), truto_item(2, "theirs"),
            json!({"id": "t3", "name": "T3", "team_id": "mine"}), json!({"id": "t4", "name": "no team"})],
            "next_cursor": "a b/c", "limit": 2}),
        ];
        let cases = ada_pages
            .iter()
            .map(|p| (ada, p, None))
            .chain(truto_pages.iter().map(|p| (truto, p, Some("mine"))));
        for (kind, page, team) in cases {
            let text = serde_json::to_vec(page).unwrap();
            let from_text = read_compact_page(kind, &text, team, 2)
                .unwrap_or_else(|| panic!("read from its text: {page}"));
            let as_value = read_value_page(kind, &text, team, 2).unwrap();
            assert_eq!(from_text, as_value, "{page}");
            assert!(!from_text.items.is_empty() || page.to_string().contains("[]"));
        }
        // Written otherwise: declined, and read as a value all the same.
        for text in [
            br#"{"data": [], "meta": {}}"#.as_slice(),
            br#"{"data":[{"id":"a","name":"\u00e9","status":"development","description":"d","author":"a","contact":"c","configuration_fields":{}}]}"#,
            br#"{"data":[{"id":"a","id":"b","name":"x","status":"development"}]}"#,
            br#"{"data":[5]}"#,
        ] {
            assert!(read_compact_page(ada, text, None, 2).is_none());
            assert_eq!(
                read_page(ada, text, None, 2).unwrap(),
                read_value_page(ada, text, None, 2).unwrap()
            );
        }
        assert_eq!(
            read_page(ada, b"not json", None, 2),
            Err(PageError::NotJson)
        );
        assert!(matches!(
            read_page(ada, br#"{"items":[]}"#, None, 2),
            Err(PageError::Unreadable(_))
        ));
    }

    /// A page nested deeper than any JSON reader here takes (a hostile server's `[[[[…`) is an
    /// unreadable answer, not a crash.
    #[test]
    fn a_page_nested_too_deep_is_refused() {
        let ada = Kind::AdaPlatformIntegration;
        let body = format!(
            "{{\"data\":[{{\"id\":\"a\",\"x\":{}{}}}],\"meta\":{{\"next_page_url\":null}}}}",
            "[".repeat(300_000),
            "]".repeat(300_000)
        );
        assert!(read_page(ada, body.as_bytes(), None, 2).is_err());
        assert_eq!(next_page(ada, body.as_bytes(), 2), None);
    }

    /// The next page read ahead (items skipped) is the one the full read finds, for both
    /// vendors, wherever the keys are; an answer it cannot read names none.
    #[test]
    fn the_page_read_ahead_is_the_page_the_full_read_finds() {
        let ada = Kind::AdaPlatformIntegration;
        let truto = Kind::TrutoIntegration;
        let cases = [
            (
                ada,
                json!({"data": [{"id": "a"}], "meta": {"next_page_url": "https://x/api/v2/platform-integrations/?cursor=c1&limit=2"}}),
            ),
            (
                ada,
                json!({"meta": {"next_page_url": "/api/v2/platform-integrations/?cursor=c%2F2&limit=2"}, "data": []}),
            ),
            (ada, json!({"data": [], "meta": {"next_page_url": null}})),
            // A `meta` inside an item, or inside `meta`, is not the answer's.
            (
                ada,
                json!({"data": [{"id": "a", "meta": {"next_page_url": "/api/v2/platform-integrations/?cursor=evil&limit=2"}}]}),
            ),
            (
                ada,
                json!({"data": [], "meta": {"x": {"meta": 1}, "next_page_url": "/api/v2/platform-integrations/?cursor=c3&limit=2"}}),
            ),
            (ada, json!({"data": [], "meta": {}})),
            (ada, json!({"data": []})),
            (
                truto,
                json!({"result": [{"id": "t"}], "next_cursor": "a b/c"}),
            ),
            (truto, json!({"next_cursor": null, "result": []})),
            (truto, json!({"result": [], "next_cursor": ""})),
        ];
        for (kind, body) in cases {
            let bytes = serde_json::to_vec(&body).unwrap();
            let (_, next) = page(kind, body.clone(), 2).unwrap();
            assert_eq!(next_page(kind, &bytes, 2), next, "{body}");
        }
        assert_eq!(next_page(ada, b"<html>", 2), None);
        assert_eq!(
            next_page(ada, br#"{"data": [], "meta": {"next_page_url": 5}}"#, 2),
            None
        );
        assert_eq!(next_page(ada, br#"{"data": [1, 2"#, 2), None, "cut off");
    }

    #[test]
    fn unknown_and_server_managed_keys_are_dropped() {
        let mut record = json!({"id": "a", "status": "development", "created": "x", "brand_new_key": 1, "client_secret": "s3cr3t-value", "icon_url": null});
        for field in Kind::AdaPlatformIntegration.fields() {
            if field.required_on_create {
                record[field.name] = json!(field.name);
            }
        }
        let o = observed(Kind::AdaPlatformIntegration, record.clone()).unwrap();
        assert_eq!(
            o.fields.len(),
            11,
            "the ten always-returned fields and icon_url"
        );
        assert_eq!(o.fields.get("name").unwrap(), "name");
        assert!(o.fields.contains_key("icon_url"));
        for dropped in ["created", "brand_new_key", "client_secret", "id", "status"] {
            assert!(!o.fields.contains_key(dropped), "{dropped}");
        }
        assert_eq!(o.status.as_deref(), Some("development"));
        // A field the API always returns, missing: the answer is broken, never "no name".
        record.as_object_mut().unwrap().remove("name");
        let error = observed(Kind::AdaPlatformIntegration, record).unwrap_err();
        assert!(
            error
                .0
                .contains("has no `name`, which the API always returns"),
            "{error}"
        );
        assert!(observed(Kind::TrutoIntegration, json!({"id": "t", "version": 1})).is_err());
        assert!(observed(Kind::AdaPlatformIntegration, json!({"id": "a"})).is_err());
        assert!(observed(Kind::TrutoIntegration, json!({"id": "a", "version": "3"})).is_err());
        assert!(observed(Kind::TrutoIntegration, json!([])).is_err());
    }

    #[test]
    fn next_pages_stay_on_the_configured_host() {
        let (_, next) = page(
            Kind::AdaPlatformIntegration,
            json!({"data": [], "meta": {"next_page_url": "https://evil.example.com/api/v2/platform-integrations/?cursor=abc&limit=5"}}),
            5,
        )
        .unwrap();
        assert_eq!(
            next.as_deref(),
            Some("/api/v2/platform-integrations/?cursor=abc&limit=5")
        );
        let (_, next) = page(
            Kind::TrutoIntegration,
            json!({"result": [], "next_cursor": "a b"}),
            7,
        )
        .unwrap();
        assert_eq!(
            next.as_deref(),
            Some("/integration?limit=7&next_cursor=a+b")
        );
        // Truto's cursor is the vendor's text: encoded into the query, never into the path.
        let (_, next) = page(
            Kind::TrutoIntegration,
            json!({"result": [], "next_cursor": "../../environment?team=x#y/z&limit=1"}),
            7,
        )
        .unwrap();
        assert_eq!(
            next.as_deref(),
            Some(
                "/integration?limit=7&next_cursor=..%2F..%2Fenvironment%3Fteam%3Dx%23y%2Fz%26limit%3D1"
            )
        );
        assert!(page(Kind::TrutoIntegration, json!({"results": []}), 7).is_err());
    }

    /// Only pages of the list are followed: a `next_page_url` with another path is an error
    /// naming it (quoted), never a page to ask for; read ahead, it is no page either.
    #[test]
    fn a_next_page_url_must_be_a_page_of_the_list() {
        let ada = Kind::AdaPlatformIntegration;
        let with_next = |url: &str| json!({"data": [], "meta": {"next_page_url": url}});
        for (url, path) in [
            (
                "/api/v2/platform-integrations/?cursor=c&limit=2",
                "/api/v2/platform-integrations/?cursor=c&limit=2",
            ),
            (
                "https://x.example/api/v2/platform-integrations?cursor=c",
                "/api/v2/platform-integrations?cursor=c",
            ),
            (
                "/api/v2/./platform-integrations/",
                "/api/v2/platform-integrations/",
            ),
        ] {
            assert_eq!(
                page(ada, with_next(url), 2).unwrap().1.as_deref(),
                Some(path),
                "{url}"
            );
        }
        for (url, shown) in [
            (
                "aute aliquip",
                r#"`meta.next_page_url` is "aute aliquip", whose path "/aute%20aliquip" is not the list's"#,
            ),
            (
                "/api/v2/end-users/",
                r#"`meta.next_page_url` is "/api/v2/end-users/", whose path "/api/v2/end-users/" is not the list's"#,
            ),
            (
                "/api/v2/platform-integrations/../end-users/",
                r#"whose path "/api/v2/end-users/" is not the list's"#,
            ),
            (
                "https://x.example/api/v2/platform-integrations/x",
                r#"whose path "/api/v2/platform-integrations/x""#,
            ),
            ("javascript:alert(1)", r#"whose path "alert(1)""#),
            ("http://[::1", "which is not a URL"),
        ] {
            let error = page(ada, with_next(url), 2).unwrap_err().0;
            assert!(error.contains(shown), "{url}: {error}");
            assert!(
                error.ends_with("intsync follows only pages of the list (`/api/v2/platform-integrations/`), so it stopped here"),
                "{error}"
            );
            let bytes = serde_json::to_vec(&with_next(url)).unwrap();
            assert_eq!(next_page(ada, &bytes, 2), None, "{url}");
        }
    }

    #[test]
    fn values_are_quoted_escaped_and_cut() {
        assert_eq!(quoted("plain"), r#""plain""#);
        assert_eq!(
            quoted("a\"b\\c\n\u{1b}[31m\u{202e}"),
            r#""a\"b\\c\n\u{1b}[31m\u{202e}""#
        );
        let long = "é".repeat(MAX_QUOTED_CHARS + 1);
        assert_eq!(
            quoted(&long),
            format!("\"{}\"…", "é".repeat(MAX_QUOTED_CHARS))
        );
        assert_eq!(
            quoted(&long[..MAX_QUOTED_CHARS * 2]),
            format!("\"{}\"", "é".repeat(MAX_QUOTED_CHARS))
        );
    }

    #[test]
    fn error_messages() {
        assert_eq!(
            error_message(
                br#"{"errors":[{"type":"bad_request","message":"bad name","details":"name"}]}"#
            ),
            "bad name (name)"
        );
        assert_eq!(
            error_message(
                br#"{"statusCode":400,"error":"Bad Request","message":"version mismatch"}"#
            ),
            "version mismatch"
        );
        assert_eq!(error_message(b"<html>oops</html>"), "<html>oops</html>");
        let hostile = format!(
            r#"{{"statusCode":400,"message":"bad \u001b[31mred\u001b[0m {}"}}"#,
            "x".repeat(500)
        );
        let shown = error_message(hostile.as_bytes());
        assert!(!shown.contains('\u{1b}'), "{shown}");
        assert_eq!(shown.chars().count(), 200, "cut to 200 characters");
        let ada = format!(
            r#"{{"errors":[{{"type":"bad_request","message":"m\u0007","details":"{}"}}]}}"#,
            "d".repeat(500)
        );
        assert_eq!(error_message(ada.as_bytes()).chars().count(), 200);
        assert_eq!(error_message(b""), "(empty body)");
    }

    #[test]
    fn the_token_team_is_read_from_result_or_results() {
        let env = |key: &str, teams: &[&str]| {
            let items: Vec<Value> = teams
                .iter()
                .map(|t| json!({"id": "e", "name": "prod", "team_id": t}))
                .collect();
            json!({ key: items, "next_cursor": null, "limit": 100 })
        };
        assert_eq!(environment_teams(env("result", &["t1"])).unwrap(), ["t1"]);
        assert_eq!(environment_teams(env("results", &["t1"])).unwrap(), ["t1"]);
        assert_eq!(
            environment_teams(env("result", &["t1", "t1", "t2"])).unwrap(),
            ["t1", "t2"]
        );
        assert!(environment_teams(env("result", &[""])).unwrap().is_empty());
        assert!(environment_teams(env("data", &["t1"])).is_err());
        assert!(environment_teams(json!([])).is_err());
    }

    #[test]
    fn a_create_body_holds_only_what_the_vendor_create_takes() {
        let body = json!({"name": "n", "sharing": "ask", "category": "crm", "config": {}, "is_beta": true});
        let sent = create_body(Kind::TrutoIntegration, body.as_object().unwrap());
        assert_eq!(
            sent.keys().collect::<Vec<_>>(),
            ["name", "category", "config", "is_beta"]
        );
        let ada = json!({"name": "n", "icon_url": null, "tags": ["knowledge"]});
        assert_eq!(
            create_body(Kind::AdaPlatformIntegration, ada.as_object().unwrap()),
            *ada.as_object().unwrap()
        );
    }
}
