//! Truto's `/integration`: list, create, get, update (optimistic concurrency on `version`),
//! delete.

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
/// The one team the emulator's token belongs to.
pub const TEAM_ID: &str = "5e1f3c2a-7b9d-4e8f-a1b2-c3d4e5f60718";

fn team() -> Value {
    json!({
        "id": TEAM_ID,
        "name": "intsync emulator",
        "domain": "emulator.intsync.invalid",
        "logo": null,
        "is_verified": false,
    })
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("integration `{id}` not found"))
}

fn name_taken(state: &crate::store::State, name: &str, except: Option<&str>) -> bool {
    state.truto.values().any(|r| {
        r.get("name").and_then(Value::as_str) == Some(name)
            && r.get("id").and_then(Value::as_str) != except
    })
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
            filters
                .iter()
                .all(|(k, v)| r.get(*k).and_then(Value::as_str) == Some(v.as_str()))
        };
        let mut rest = state.truto.values().skip(start).filter(matches);
        let page: Vec<&Record> = rest.by_ref().take(limit).collect();
        // The cursor is the id of the next matching record.
        let next_cursor = rest.next().and_then(|r| r.get("id").cloned());
        Ok(Response::json(
            200,
            &json!({ "result": page, "next_cursor": next_cursor, "limit": limit }),
        ))
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
    let timestamp = ids::truto_timestamp(now);
    let get = |k: &str, default: Value| body.get(k).cloned().unwrap_or(default);
    let mut record = Map::new();
    record.insert("id".into(), Value::String(ids::truto_id()));
    record.insert("name".into(), get("name", Value::Null));
    record.insert("category".into(), get("category", Value::Null));
    record.insert("is_beta".into(), get("is_beta", Value::Bool(false)));
    record.insert("config".into(), get("config", json!({})));
    record.insert("team_id".into(), Value::String(TEAM_ID.into()));
    record.insert(
        "sharing".into(),
        get("sharing", Value::String("allow".into())),
    );
    record.insert("created_at".into(), Value::String(timestamp.clone()));
    record.insert("updated_at".into(), Value::String(timestamp));
    record.insert("installed_environment".into(), json!([]));
    record.insert("team".into(), team());
    record.insert("version".into(), json!(1));
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    store
        .change(|state| {
            if name_taken(state, &name, None) {
                return Err(ApiError::new(
                    409,
                    format!("an integration named `{name}` already exists"),
                ));
            }
            Ok((record.clone(), vec![Change::PutTruto { record }]))
        })
        .map(|(record, seq)| (Response::json(201, &Value::Object(record)), seq))
}

/// `GET /integration/{id}`.
pub(crate) fn get(store: &Store, id: &str) -> Result<Response, ApiError> {
    store.read(|state| {
        state
            .truto
            .get(id)
            .map(|r| Response::json(200, &Value::Object(r.clone())))
            .ok_or_else(|| not_found(id))
    })
}

/// `PATCH /integration/{id}`: `version` must be the current one (400 otherwise); success bumps it.
pub(crate) fn update(
    store: &Store,
    req: &Request,
    id: &str,
    now: SystemTime,
) -> Result<(Response, u64), ApiError> {
    let body = fields::object_body(&req.body);
    store
        .change(|state| {
            let Some(current) = state.truto.get(id) else { return Err(not_found(id)) };
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
                && name_taken(state, name, Some(id))
            {
                return Err(ApiError::new(409, format!("an integration named `{name}` already exists")));
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

/// `DELETE /integration/{id}`: `{"id": id}`.
pub(crate) fn delete(store: &Store, id: &str) -> Result<(Response, u64), ApiError> {
    store
        .change(|state| {
            if !state.truto.contains_key(id) {
                return Err(not_found(id));
            }
            Ok(((), vec![Change::DeleteTruto { id: id.to_owned() }]))
        })
        .map(|((), seq)| (Response::json(200, &json!({ "id": id })), seq))
}
