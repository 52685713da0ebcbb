//! Truto's `/integration`: list, create, get, update (optimistic concurrency on `version`),
//! delete; and `/environment`, which names the token's team.
//!
//! The token belongs to one team ([`TEAM_ID`]). Its list also shows Truto-built integrations and
//! other teams' shared ones (their `config` stripped); it may change only its own (403).

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::fields::{self, Field, Ty, field};
use crate::ids;
use crate::store::{Change, Record, Store};
use crate::wire::{ApiError, Request, Response};

const SHARING: &[&str] = &["allow", "ask", "deny"];

/// The documented create body (`POST /integration`): anything else is refused with a 400.
pub const CREATE_FIELDS: &[Field] = &[
    field("name", Ty::Str { min: 1, max: None }, true, false),
    field("category", Ty::Str { min: 0, max: None }, false, false),
    field("config", Ty::Object, false, false),
    field("is_beta", Ty::Bool, false, false),
];

/// The update body (`PATCH /integration/{id}`, besides `version`): the create fields and the
/// sharing policy, which the update page's description names.
pub const UPDATE_FIELDS: &[Field] = &[
    field("name", Ty::Str { min: 1, max: None }, true, false),
    field("category", Ty::Str { min: 0, max: None }, false, false),
    field("config", Ty::Object, false, false),
    field("is_beta", Ty::Bool, false, false),
    field("sharing", Ty::Enum(SHARING), false, false),
];

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 1000;
/// The team the emulator's token belongs to (`GET /environment` names it).
pub const TEAM_ID: &str = "5e1f3c2a-7b9d-4e8f-a1b2-c3d4e5f60718";
/// The one environment the emulator's token is scoped to.
pub const ENVIRONMENT_ID: &str = "0c7e5a1d-3f2b-4c6e-9a8d-1b2c3d4e5f60";
/// Truto's own team: the owner of the integrations Truto builds.
pub const TRUTO_TEAM_ID: &str = "7a3c9e1f-2b4d-4f6a-8c0e-9d1b3f5a7c20";
/// Another customer's team, whose shared integrations the token's list shows.
pub const OTHER_TEAM_ID: &str = "b2d4f6a8-1c3e-4a5b-9d7f-0e2c4a6b8d31";
/// When the emulator's environment was made (fixed: it exists before any request).
const ENVIRONMENT_TIMESTAMP: &str = "2024-01-01T00:00:00.000Z";

/// Who owns a Truto integration: the token's team, Truto (a Truto-built integration) or another
/// customer's team (listed only when it shares it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Owner {
    /// The token's team ([`Owner::team_id`] is the `team_id` of `GET /environment`).
    Own,
    /// Truto itself (team "Truto", verified).
    Truto,
    /// Another customer's team ("Acme Corp").
    Other,
}

impl Owner {
    /// The owner's `team_id`.
    pub fn team_id(self) -> &'static str {
        match self {
            Owner::Own => TEAM_ID,
            Owner::Truto => TRUTO_TEAM_ID,
            Owner::Other => OTHER_TEAM_ID,
        }
    }

    /// The `team` object of the owner's integrations.
    pub fn team(self) -> Value {
        let (name, domain, is_verified) = match self {
            Owner::Own => ("intsync emulator", "emulator.intsync.invalid", false),
            Owner::Truto => ("Truto", "truto.one", true),
            Owner::Other => ("Acme Corp", "acme.example.com", false),
        };
        json!({
            "id": self.team_id(),
            "name": name,
            "domain": domain,
            "logo": null,
            "is_verified": is_verified,
        })
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("integration `{id}` not found"))
}

fn team_of(record: &Record) -> Option<&str> {
    record.get("team_id").and_then(Value::as_str)
}

fn is_own(record: &Record) -> bool {
    team_of(record) == Some(TEAM_ID)
}

/// Whether the token sees `record`: its team's own, Truto-built ones, and other teams' unless
/// they `deny` sharing.
fn visible(record: &Record) -> bool {
    match team_of(record) {
        Some(TEAM_ID | TRUTO_TEAM_ID) => true,
        _ => record.get("sharing").and_then(Value::as_str) != Some("deny"),
    }
}

/// A record as the token's team reads it: another team's `config` (credentials, internal
/// configuration) is stripped.
fn answer(record: &Record) -> Record {
    let mut record = record.clone();
    if !is_own(&record) {
        record.remove("config");
    }
    record
}

/// The record `id`, if the token sees it.
fn visible_record<'s>(state: &'s crate::store::State, id: &str) -> Result<&'s Record, ApiError> {
    state
        .truto
        .get(id)
        .filter(|r| visible(r))
        .ok_or_else(|| not_found(id))
}

/// The record `id`, if the token's team may change it: 404 when it does not see it, 403 when
/// another team owns it.
fn owned_record<'s>(state: &'s crate::store::State, id: &str) -> Result<&'s Record, ApiError> {
    let record = visible_record(state, id)?;
    if !is_own(record) {
        let team = team_of(record).unwrap_or("none");
        return Err(ApiError::new(
            403,
            format!(
                "integration `{id}` belongs to another team (`{team}`); only your team's integrations can be changed"
            ),
        ));
    }
    Ok(record)
}

/// Whether another integration of `team_id` is named `name` (names are unique within a team).
fn name_taken(
    state: &crate::store::State,
    name: &str,
    team_id: &str,
    except: Option<&str>,
) -> bool {
    state.truto.values().any(|r| {
        team_of(r) == Some(team_id)
            && r.get("name").and_then(Value::as_str) == Some(name)
            && r.get("id").and_then(Value::as_str) != except
    })
}

fn duplicate(name: &str) -> ApiError {
    ApiError::new(409, format!("an integration named `{name}` already exists"))
}

/// `GET /environment`: the one environment the token is scoped to, and its team.
pub(crate) fn environments(req: &Request) -> Result<Response, ApiError> {
    let limit = fields::limit(req.query_param("limit"), DEFAULT_LIMIT, MAX_LIMIT)?;
    Ok(Response::json(
        200,
        &json!({
            "result": [{
                "id": ENVIRONMENT_ID,
                "name": "emulator",
                "team_id": TEAM_ID,
                "created_at": ENVIRONMENT_TIMESTAMP,
                "updated_at": ENVIRONMENT_TIMESTAMP,
            }],
            "next_cursor": null,
            "limit": limit,
        }),
    ))
}

/// `GET /integration?next_cursor=&limit=&name=&category=&sharing=`.
pub(crate) fn list(store: &Store, req: &Request) -> Result<Response, ApiError> {
    let limit = fields::limit(req.query_param("limit"), DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = req.query_param("next_cursor").filter(|c| !c.is_empty());
    let filters: Vec<(&str, String)> = ["name", "category", "sharing"]
        .into_iter()
        .filter_map(|k| req.query_param(k).map(|v| (k, v)))
        .collect();
    store.read(|state| {
        let start = match &cursor {
            None => 0,
            Some(id) => state
                .truto
                .get_index_of(id.as_str())
                .ok_or_else(|| ApiError::bad_request(format!("invalid next_cursor `{id}`")))?,
        };
        let matches = |r: &&Record| {
            visible(r)
                && filters
                    .iter()
                    .all(|(k, v)| r.get(*k).and_then(Value::as_str) == Some(v.as_str()))
        };
        let mut rest = state.truto.values().skip(start).filter(matches);
        let page: Vec<Record> = rest.by_ref().take(limit).map(answer).collect();
        // The cursor is the id of the next record the token sees that matches.
        let next_cursor = rest.next().and_then(|r| r.get("id").cloned());
        Ok(Response::json(
            200,
            &json!({ "result": page, "next_cursor": next_cursor, "limit": limit }),
        ))
    })
}

/// A new record from a validated body: `version` 1, the defaults, and `owner`'s team.
fn new_record(body: &Map<String, Value>, owner: Owner, now: SystemTime) -> Record {
    let timestamp = ids::truto_timestamp(now);
    let get = |k: &str, default: Value| body.get(k).cloned().unwrap_or(default);
    let mut record = Map::new();
    record.insert("id".into(), Value::String(ids::truto_id()));
    record.insert("name".into(), get("name", Value::Null));
    record.insert("category".into(), get("category", Value::Null));
    record.insert("is_beta".into(), get("is_beta", Value::Bool(false)));
    record.insert("config".into(), get("config", json!({})));
    record.insert("team_id".into(), Value::String(owner.team_id().into()));
    record.insert(
        "sharing".into(),
        get("sharing", Value::String("allow".into())),
    );
    record.insert("created_at".into(), Value::String(timestamp.clone()));
    record.insert("updated_at".into(), Value::String(timestamp));
    record.insert("installed_environment".into(), json!([]));
    record.insert("team".into(), owner.team());
    record.insert("version".into(), json!(1));
    record
}

/// Stores `record` unless its team already has an integration of that name (409).
fn insert(store: &Store, record: Record) -> Result<(Record, u64), ApiError> {
    let name = record
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let team = team_of(&record).unwrap_or_default().to_owned();
    store.change(|state| {
        if name_taken(state, &name, &team, None) {
            return Err(duplicate(&name));
        }
        Ok((record.clone(), vec![Change::PutTruto { record }]))
    })
}

/// `POST /integration`: 201 with the new integration at `version` 1.
pub(crate) fn create(
    store: &Store,
    req: &Request,
    now: SystemTime,
) -> Result<(Response, u64), ApiError> {
    let body = fields::object_body(&req.body)?;
    fields::validate(&body, CREATE_FIELDS, &[], true)?;
    insert(store, new_record(&body, Owner::Own, now))
        .map(|(record, seq)| (Response::json(201, &Value::Object(record)), seq))
}

/// The seeding control (`POST /_emulator/truto/integrations`, [`crate::Emulator::seed_truto`]):
/// stores `integration` (the update fields: `name` required, `sharing` allowed) as `owner`'s,
/// exactly as a create would. Answers the whole record, `config` included.
pub(crate) fn seed(
    store: &Store,
    owner: Owner,
    integration: &Value,
    now: SystemTime,
) -> Result<(Record, u64), ApiError> {
    let Value::Object(body) = integration else {
        return Err(ApiError::bad_request(format!(
            "`integration` must be an object, not {}",
            fields::type_name(integration)
        ))
        .with_details("integration"));
    };
    fields::validate(body, UPDATE_FIELDS, &[], true)?;
    insert(store, new_record(body, owner, now))
}

/// `GET /integration/{id}`.
pub(crate) fn get(store: &Store, id: &str) -> Result<Response, ApiError> {
    store.read(|state| {
        visible_record(state, id).map(|r| Response::json(200, &Value::Object(answer(r))))
    })
}

/// `PATCH /integration/{id}`: only the token's team's (403 otherwise); `version` must be the
/// current one (400 otherwise); success bumps it.
pub(crate) fn update(
    store: &Store,
    req: &Request,
    id: &str,
    now: SystemTime,
) -> Result<(Response, u64), ApiError> {
    let body = fields::object_body(&req.body);
    store
        .change(|state| {
            let current = owned_record(state, id)?;
            let mut body = body?;
            fields::validate(&body, UPDATE_FIELDS, &["version"], false)?;
            let current_version = current.get("version").and_then(Value::as_u64).unwrap_or(0);
            match body.remove("version") {
                None => return Err(ApiError::bad_request("`version` is required for concurrency control")),
                Some(v) => match v.as_u64() {
                    None => return Err(ApiError::bad_request(format!("`version` must be an integer, not {}", fields::type_name(&v)))),
                    Some(v) if v != current_version => {
                        return Err(ApiError::bad_request(format!(
                            "version mismatch: the integration is at version {current_version}, the request says {v}"
                        )));
                    }
                    Some(_) => {}
                },
            }
            if let Some(name) = body.get("name").and_then(Value::as_str)
                && name_taken(state, name, TEAM_ID, Some(id))
            {
                return Err(duplicate(name));
            }
            let mut record = current.clone();
            for (key, value) in body {
                record.insert(key, value);
            }
            record.insert("version".into(), json!(current_version + 1));
            record.insert("updated_at".into(), Value::String(ids::truto_timestamp(now)));
            Ok((record.clone(), vec![Change::PutTruto { record }]))
        })
        .map(|(record, seq)| (Response::json(200, &Value::Object(record)), seq))
}

/// `DELETE /integration/{id}`: `{"id": id}`; only the token's team's (403 otherwise).
pub(crate) fn delete(store: &Store, id: &str) -> Result<(Response, u64), ApiError> {
    store
        .change(|state| {
            owned_record(state, id)?;
            Ok(((), vec![Change::DeleteTruto { id: id.to_owned() }]))
        })
        .map(|((), seq)| (Response::json(200, &json!({ "id": id })), seq))
}
