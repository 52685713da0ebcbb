//! Ada's `/api/v2/platform-integrations`: list, create, update, with the documented rules.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use crate::fields::{self, Field, Format, Ty, field};
use crate::ids;
use crate::store::{Change, Record, Store};
use crate::wire::{ApiError, Request, Response};

/// Writable fields (OpenAPI `PlatformIntegrationCreateRequest`), in response order.
pub const FIELDS: &[Field] = &[
    field(
        "identifier_field_path",
        Ty::Str { min: 1, max: None },
        true,
        false,
    )
    .format(Format::JmesPath),
    field(
        "name",
        Ty::Str {
            min: 1,
            max: Some(160),
        },
        true,
        false,
    ),
    field("description", Ty::Str { min: 1, max: None }, true, false),
    field(
        "author",
        Ty::Str {
            min: 1,
            max: Some(160),
        },
        true,
        false,
    ),
    field("contact", Ty::Str { min: 1, max: None }, true, false).format(Format::UrlOrEmail),
    field("uninstallation_url", URL, true, false).format(Format::Url),
    field("oauth_callback_url", URL, true, false).format(Format::Url),
    field(
        "tags",
        Ty::StrList {
            allowed: Some(&["knowledge"]),
        },
        true,
        false,
    ),
    field("scopes", Ty::StrList { allowed: None }, true, false),
    field("configuration_fields", Ty::Object, true, false).format(Format::JsonSchema),
    field("icon_url", URL, false, true).format(Format::Url),
    field("call_to_action", Ty::Str { min: 1, max: None }, false, true),
    field("error_codes", Ty::Object, false, true).format(Format::StringValues),
];

/// A URL field's type: a string of at least one character (the doc pages' ">=1 character").
const URL: Ty = Ty::Str { min: 1, max: None };

pub const COLLECTION: &str = "/api/v2/platform-integrations";
pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 100;
/// The status a new integration has, and the only one that may be updated.
pub const DEVELOPMENT: &str = "development";

/// `GET /api/v2/platform-integrations/?cursor=&limit=`.
pub(crate) fn list(store: &Store, req: &Request) -> Result<Response, ApiError> {
    let limit = fields::limit(req.query_param("limit"), DEFAULT_LIMIT, MAX_LIMIT)?;
    let cursor = req.query_param("cursor").filter(|c| !c.is_empty());
    store.read(|state| {
        // The cursor is the id of the first record of the page (Ada: "the ID that marks the
        // start ... of the returned records").
        let start = match &cursor {
            None => 0,
            Some(id) => state
                .ada
                .get_index_of(id.as_str())
                .ok_or_else(|| ApiError::bad_request(format!("invalid cursor `{id}`")))?,
        };
        let end = (start + limit).min(state.ada.len());
        let data: Vec<&Record> = state.ada.values().skip(start).take(end - start).collect();
        let next_page_url = state
            .ada
            .get_index(end)
            .map(|(next, _)| format!("{}{COLLECTION}/?cursor={next}&limit={limit}", req.base_url));
        Ok(Response::json(
            200,
            &json!({ "data": data, "meta": { "next_page_url": next_page_url } }),
        ))
    })
}

/// `POST /api/v2/platform-integrations/`: 200 with the new integration and its `client_secret`,
/// which is returned this once and never stored.
pub(crate) fn create(
    store: &Store,
    req: &Request,
    now: SystemTime,
) -> Result<(Response, u64), ApiError> {
    let body = fields::object_body(&req.body)?;
    fields::validate(&body, FIELDS, &[], true)?;
    let timestamp = ids::ada_timestamp(now);
    let mut record = Map::new();
    record.insert("id".into(), Value::String(ids::ada_id()));
    record.insert("status".into(), Value::String(DEVELOPMENT.into()));
    for f in FIELDS {
        // Unset optional fields read back as null, as the documented examples show them.
        record.insert(
            f.name.into(),
            body.get(f.name).cloned().unwrap_or(Value::Null),
        );
    }
    record.insert("created".into(), Value::String(timestamp.clone()));
    record.insert("updated".into(), Value::String(timestamp));
    let (record, seq) =
        store.change(|_| Ok::<_, ApiError>((record.clone(), vec![Change::PutAda { record }])))?;
    let mut response = record;
    response.insert("client_secret".into(), Value::String(ids::secret()));
    Ok((Response::json(200, &Value::Object(response)), seq))
}

/// `PATCH /api/v2/platform-integrations/{id}`: only integrations in `development` change.
pub(crate) fn update(
    store: &Store,
    req: &Request,
    id: &str,
    now: SystemTime,
) -> Result<(Response, u64), ApiError> {
    let body = fields::object_body(&req.body);
    store
        .change(|state| {
            let Some(current) = state.ada.get(id) else {
                return Err(ApiError::not_found(format!(
                    "platform integration `{id}` not found"
                )));
            };
            let body = body?;
            fields::validate(&body, FIELDS, &[], false)?;
            let status = current
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if status != DEVELOPMENT {
                return Err(ApiError::new(
                    403,
                    format!("only integrations in development may be updated; `{id}` is {status}"),
                ));
            }
            if body.is_empty() {
                return Ok((current.clone(), Vec::new()));
            }
            let mut record = current.clone();
            for (key, value) in body {
                record.insert(key, value);
            }
            record.insert("updated".into(), Value::String(ids::ada_timestamp(now)));
            Ok((record.clone(), vec![Change::PutAda { record }]))
        })
        .map(|(record, seq)| (Response::json(200, &Value::Object(record)), seq))
}

/// Test control: sets the status the public API cannot change.
pub(crate) fn set_status(
    store: &Store,
    id: &str,
    status: &str,
) -> Result<(Response, u64), ApiError> {
    store
        .change(|state| {
            let Some(current) = state.ada.get(id) else {
                return Err(ApiError::not_found(format!(
                    "platform integration `{id}` not found"
                )));
            };
            let mut record = current.clone();
            record.insert("status".into(), Value::String(status.to_owned()));
            Ok((record.clone(), vec![Change::PutAda { record }]))
        })
        .map(|(record, seq)| (Response::json(200, &Value::Object(record)), seq))
}
