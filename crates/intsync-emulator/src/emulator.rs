//! The emulator core: one [`Emulator::handle`] for every request, whichever transport carried
//! it (the HTTP server, or the in-process `local` target).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use http::Method;
use serde_json::{Value, json};

use crate::controls::{
    ADA_DOCUMENTED, FaultAction, Faults, LOG_CAPACITY, LogSettings, LoggedRequest, RateLimits,
    TRUTO_DOCUMENTED, Window, body_for_log,
};
use crate::store::{Change, Store, StoreError};
use crate::truto::Owner;
use crate::wire::{Api, ApiError, Request, Response};
use crate::{ada, truto};

/// Request bodies above this are refused with 413 (Ada: "Max request body size: 10MB").
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// How the answer reaches the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Respond,
    /// Close the connection without handling the request.
    DropBefore,
    /// The request was handled (and its write committed); close the connection unanswered.
    DropAfterCommit,
}

/// What [`Emulator::handle`] decided. The transport waits `delay`, waits for `commit` to be
/// durable ([`Emulator::wait_durable`]), then delivers.
///
/// Unless `held` is set: then the request has not been handled yet (a `delay_commit` fault), the
/// other fields mean nothing, and the transport waits [`Held::hold`], passes the request to
/// [`Emulator::handle_held`] and goes on with the outcome that returns instead.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub response: Response,
    pub delay: Duration,
    /// The change to make durable before answering.
    pub commit: Option<u64>,
    pub delivery: Delivery,
    /// The request, not handled yet, when a `delay_commit` fault holds it.
    pub held: Option<Held>,
}

impl Outcome {
    fn respond(response: Response) -> Outcome {
        Outcome {
            response,
            delay: Duration::ZERO,
            commit: None,
            delivery: Delivery::Respond,
            held: None,
        }
    }
}

/// A request that a `delay_commit` fault holds: received, and counted by the fault rules and the
/// rate limits, but not handled, so nothing of it is visible in the state until
/// [`Emulator::handle_held`] handles it.
#[derive(Debug, Clone)]
pub struct Held {
    hold: Duration,
    request: Request,
    api: Api,
    /// The fault actions selected when the request arrived (they still apply, after the hold).
    actions: Vec<FaultAction>,
    /// Whether the rate limits admitted the request when it arrived.
    admitted: bool,
    /// The global `latency_ms` when the request arrived.
    latency: Duration,
}

impl Held {
    /// How long to hold the request before handling it.
    pub fn hold(&self) -> Duration {
        self.hold
    }
}

/// Applies a response-changing fault to an answer already decided (its write committed);
/// returns the fault's name for the request log.
fn mangle(response: &mut Response, action: &FaultAction) -> String {
    let set_content_type = |response: &mut Response, value: &str| {
        response
            .headers
            .retain(|(k, _)| !k.eq_ignore_ascii_case("content-type"));
        response
            .headers
            .push(("content-type".to_owned(), value.to_owned()));
    };
    match action {
        FaultAction::TruncateBody => {
            let half = response.body.len() / 2;
            response.body.truncate(half);
            "truncate_body".to_owned()
        }
        FaultAction::NonJsonBody => {
            response.body = bytes::Bytes::from_static(
                b"<html><head><title>Gateway</title></head><body>upstream said something</body></html>",
            );
            set_content_type(response, "text/html; charset=utf-8");
            "non_json_body".to_owned()
        }
        FaultAction::DropField { field } => {
            let mut body = response.json_body();
            let strip = |item: &mut Value| {
                if let Value::Object(object) = item {
                    object.remove(field);
                }
            };
            match &mut body {
                Value::Object(object)
                    if object.contains_key("data") || object.contains_key("result") =>
                {
                    for key in ["data", "result"] {
                        if let Some(Value::Array(items)) = object.get_mut(key) {
                            items.iter_mut().for_each(strip);
                        }
                    }
                }
                other => strip(other),
            }
            response.body = bytes::Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
            format!("drop_field {field}")
        }
        FaultAction::ContentType { value } => {
            set_content_type(response, value);
            format!("content_type {value}")
        }
        FaultAction::Status { .. }
        | FaultAction::DropBefore
        | FaultAction::DropAfterCommit
        | FaultAction::Latency { .. }
        | FaultAction::DelayCommit { .. } => String::new(),
    }
}

/// The connection was closed without an answer (an injected fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the emulator closed the connection without answering (injected fault)")]
pub struct Dropped;

/// Which rate limits to enforce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RateLimitPreset {
    /// No limit (the default: tests and benchmarks run at full speed).
    #[default]
    Off,
    /// Ada's 10/s and 100/min, Truto's 500 per 10 s.
    Documented,
}

struct Controls {
    faults: Faults,
    limits: RateLimits,
    log: std::collections::VecDeque<LoggedRequest>,
    log_seq: u64,
    log_settings: LogSettings,
}

/// Both vendor APIs over one state.
pub struct Emulator {
    store: Store,
    token: String,
    controls: Mutex<Controls>,
}

/// Whether `given` equals `expected`, in time that depends only on `expected`'s length: no early
/// exit on the first differing byte or on a length mismatch, so response times say nothing about
/// how much of a guessed token was right.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u64::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(!e);
        diff |= u64::from(std::hint::black_box(g ^ e));
    }
    std::hint::black_box(diff) == 0
}

fn api_of(path: &str) -> Api {
    if path.starts_with("/api/") {
        Api::Ada
    } else {
        Api::Truto
    }
}

/// The body of `POST /_emulator/truto/integrations`:
/// `{"owner": "own"|"truto"|"other", "integration": {...}}`, `owner` defaulting to `own`.
fn seed_body(body: Value) -> Result<(Owner, Value), ApiError> {
    let Value::Object(mut body) = body else {
        return Err(ApiError::bad_request(
            "expected {\"owner\": \"own\"|\"truto\"|\"other\", \"integration\": {...}}",
        ));
    };
    if let Some(key) = body
        .keys()
        .find(|k| !matches!(k.as_str(), "owner" | "integration"))
    {
        return Err(
            ApiError::bad_request(format!("unknown field `{key}`")).with_details(key.clone())
        );
    }
    let owner = match body.remove("owner") {
        None => Owner::Own,
        Some(owner) => serde_json::from_value(owner).map_err(|_| {
            ApiError::bad_request("`owner` must be one of: own, truto, other").with_details("owner")
        })?,
    };
    let integration = body.remove("integration").ok_or_else(|| {
        ApiError::bad_request("missing required fields: integration").with_details("integration")
    })?;
    Ok((owner, integration))
}

fn method_not_allowed(method: &Method) -> ApiError {
    ApiError::new(405, format!("method {method} is not allowed here"))
}

impl Emulator {
    pub fn new(store: Store, token: impl Into<String>) -> Emulator {
        Emulator {
            store,
            token: token.into(),
            controls: Mutex::new(Controls {
                faults: Faults::default(),
                limits: RateLimits::default(),
                log: std::collections::VecDeque::new(),
                log_seq: 0,
                log_settings: LogSettings::default(),
            }),
        }
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    fn controls(&self) -> std::sync::MutexGuard<'_, Controls> {
        self.controls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn set_rate_limits(&self, preset: RateLimitPreset) {
        let mut controls = self.controls();
        let (ada, truto) = match preset {
            RateLimitPreset::Off => (Vec::new(), Vec::new()),
            RateLimitPreset::Documented => (ADA_DOCUMENTED.to_vec(), TRUTO_DOCUMENTED.to_vec()),
        };
        controls.limits = RateLimits::new(ada, truto);
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        self.controls().faults = faults;
    }

    /// Turns the logging of request bodies on or off (off by default; `PUT /_emulator/log`).
    /// Only requests logged from now on are affected.
    pub fn set_log_bodies(&self, bodies: bool) {
        self.controls().log_settings.bodies = bodies;
    }

    /// Whether request bodies are logged.
    pub fn log_bodies(&self) -> bool {
        self.controls().log_settings.bodies
    }

    /// Blocks until the change `seq` is on disk.
    pub fn wait_durable(&self, seq: u64) -> Result<(), StoreError> {
        self.store.wait_durable(seq)
    }

    /// Writes the state file and empties the journal (on shutdown, and at the end of a `local`
    /// run, so the state is one readable file).
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        self.store.checkpoint()
    }

    /// Handles a request start to finish on the calling thread: holds it if a `delay_commit`
    /// fault says so, waits the injected delay, makes the write durable, and delivers (or reports
    /// the dropped connection).
    pub fn call(&self, request: Request) -> Result<Response, Dropped> {
        let mut outcome = self.handle(request);
        if let Some(held) = outcome.held.take() {
            std::thread::sleep(held.hold());
            outcome = self.handle_held(held);
        }
        if !outcome.delay.is_zero() {
            std::thread::sleep(outcome.delay);
        }
        let response = match outcome.commit.map(|seq| self.wait_durable(seq)) {
            Some(Err(e)) => {
                ApiError::new(500, format!("the emulator could not save its state: {e}"))
                    .into_response(Api::Ada)
            }
            _ => outcome.response,
        };
        match outcome.delivery {
            Delivery::Respond => Ok(response),
            Delivery::DropBefore | Delivery::DropAfterCommit => Err(Dropped),
        }
    }

    /// Decides the answer to one request. Never panics, never answers 5xx for bad input.
    ///
    /// A request that a `delay_commit` fault holds comes back unhandled in [`Outcome::held`]:
    /// nothing of it is visible, and it is not in the request log yet.
    pub fn handle(&self, request: Request) -> Outcome {
        if request.path == "/_emulator" || request.path.starts_with("/_emulator/") {
            return Outcome::respond(
                self.control(&request)
                    .unwrap_or_else(|e| e.into_response(Api::Ada)),
            );
        }
        let api = api_of(&request.path);
        if !self.authorized(&request) {
            let error = ApiError::new(401, "authentication credentials were missing or invalid")
                .with_details("send `Authorization: Bearer <token>`");
            return self.logged(
                &request,
                api,
                Outcome::respond(error.into_response(api)),
                None,
            );
        }

        let now = Instant::now();
        let (actions, admitted, latency) = {
            let mut controls = self.controls();
            let actions = controls
                .faults
                .select(api, request.method.as_str(), &request.path);
            let admitted = controls.limits.admit(api, now);
            (actions, admitted, controls.faults.latency_ms)
        };
        let latency = Duration::from_millis(latency);
        let holds = actions.iter().filter_map(|action| match action {
            FaultAction::DelayCommit { ms } => Some(Duration::from_millis(*ms)),
            _ => None,
        });
        if let Some(hold) = holds.reduce(Duration::saturating_add) {
            let held = Held {
                hold,
                request,
                api,
                actions,
                admitted,
                latency,
            };
            return Outcome {
                held: Some(held),
                ..Outcome::respond(Response::json(0, &Value::Null))
            };
        }
        self.process(&request, api, &actions, admitted, latency, false)
    }

    /// Handles a request that a `delay_commit` fault held, once the hold is over: exactly as
    /// [`Emulator::handle`] would have without the hold (validation, commit; the transport makes
    /// the write durable), with the fault actions and rate-limit decision made when it arrived,
    /// so the rules and limits count it once. It is logged now, with the fault `delay_commit`.
    pub fn handle_held(&self, held: Held) -> Outcome {
        self.process(
            &held.request,
            held.api,
            &held.actions,
            held.admitted,
            held.latency,
            true,
        )
    }

    /// Handles an authorized API request, given the fault actions selected for it and whether
    /// the rate limits admitted it; `held` says it was held by `delay_commit` (for the log).
    fn process(
        &self,
        request: &Request,
        api: Api,
        actions: &[FaultAction],
        admitted: bool,
        latency: Duration,
        held: bool,
    ) -> Outcome {
        // A held request is logged as `delay_commit`, followed by any other fault that acted.
        let named = |name: String| {
            Some(if held {
                format!("delay_commit, {name}")
            } else {
                name
            })
        };
        let mut delay = latency;
        let mut delivery = Delivery::Respond;
        let mut fault = held.then(|| "delay_commit".to_owned());
        let mut mangles = Vec::new();
        for action in actions {
            match action {
                FaultAction::TruncateBody
                | FaultAction::NonJsonBody
                | FaultAction::DropField { .. }
                | FaultAction::ContentType { .. } => {
                    mangles.push(action);
                }
                FaultAction::Latency { ms } => {
                    delay = delay.saturating_add(Duration::from_millis(*ms));
                }
                // Already applied: the request was held before it got here.
                FaultAction::DelayCommit { .. } => {}
                FaultAction::Status {
                    status,
                    retry_after,
                } => {
                    let mut error =
                        ApiError::new(*status, format!("injected fault: HTTP {status}"));
                    if let Some(after) = retry_after {
                        error.headers.push(("retry-after".into(), after.clone()));
                    }
                    let outcome = Outcome {
                        delay,
                        ..Outcome::respond(error.into_response(api))
                    };
                    return self.logged(request, api, outcome, named(format!("status {status}")));
                }
                FaultAction::DropBefore => {
                    let outcome = Outcome {
                        delay,
                        delivery: Delivery::DropBefore,
                        ..Outcome::respond(Response::json(0, &Value::Null))
                    };
                    return self.logged(request, api, outcome, named("drop_before".into()));
                }
                FaultAction::DropAfterCommit => {
                    delivery = Delivery::DropAfterCommit;
                    fault = named("drop_after_commit".to_owned());
                }
            }
        }
        if !admitted {
            let mut error = ApiError::new(429, "rate limit exceeded");
            if api == Api::Truto {
                // Truto documents `Retry-After: 10`; Ada documents no such header.
                error.headers.push(("retry-after".into(), "10".into()));
            }
            let outcome = Outcome {
                delay,
                ..Outcome::respond(error.into_response(api))
            };
            return self.logged(request, api, outcome, named("rate_limited".into()));
        }

        let (mut response, commit) = match self.dispatch(api, request) {
            Ok((response, commit)) => (response, commit),
            Err(error) => (error.into_response(api), None),
        };
        for action in mangles {
            fault = named(mangle(&mut response, action));
        }
        let outcome = Outcome {
            response,
            delay,
            commit,
            delivery,
            held: None,
        };
        self.logged(request, api, outcome, fault)
    }

    fn authorized(&self, request: &Request) -> bool {
        let Some(header) = request.authorization.as_deref() else {
            return false;
        };
        let Some(token) = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
        else {
            return false;
        };
        constant_time_eq(token.trim().as_bytes(), self.token.as_bytes())
    }

    fn logged(
        &self,
        request: &Request,
        api: Api,
        outcome: Outcome,
        fault: Option<String>,
    ) -> Outcome {
        // Parsed outside the lock: a large body must not hold up the other requests.
        let body = self.log_bodies().then(|| body_for_log(&request.body));
        let mut controls = self.controls();
        controls.log_seq += 1;
        let entry = LoggedRequest {
            seq: controls.log_seq,
            api,
            method: request.method.to_string(),
            path: request.path.clone(),
            query: request.query.clone(),
            status: (outcome.delivery == Delivery::Respond).then_some(outcome.response.status),
            fault,
            body,
        };
        if controls.log.len() >= LOG_CAPACITY {
            controls.log.pop_front();
        }
        controls.log.push_back(entry);
        outcome
    }

    fn dispatch(&self, api: Api, request: &Request) -> Result<(Response, Option<u64>), ApiError> {
        if request.body.len() > MAX_BODY_BYTES {
            return Err(ApiError::new(
                413,
                format!("the request body is over {MAX_BODY_BYTES} bytes"),
            ));
        }
        let now = SystemTime::now();
        let segments: Vec<&str> = request.path.split('/').filter(|s| !s.is_empty()).collect();
        let method = &request.method;
        let read = |r: Result<Response, ApiError>| r.map(|resp| (resp, None));
        let write = |r: Result<(Response, u64), ApiError>| r.map(|(resp, seq)| (resp, Some(seq)));
        match (api, segments.as_slice()) {
            (Api::Ada, ["api", "v2", "platform-integrations"]) => match *method {
                Method::GET => read(ada::list(&self.store, request)),
                Method::POST => write(ada::create(&self.store, request, now)),
                _ => Err(method_not_allowed(method)),
            },
            (Api::Ada, ["api", "v2", "platform-integrations", id]) => match *method {
                Method::PATCH => write(ada::update(&self.store, request, id, now)),
                _ => Err(method_not_allowed(method)),
            },
            (Api::Truto, ["environment"]) => match *method {
                Method::GET => read(truto::environments(request)),
                _ => Err(method_not_allowed(method)),
            },
            (Api::Truto, ["integration"]) => match *method {
                Method::GET => read(truto::list(&self.store, request)),
                Method::POST => write(truto::create(&self.store, request, now)),
                _ => Err(method_not_allowed(method)),
            },
            (Api::Truto, ["integration" | "integrations", id]) => match *method {
                Method::GET => read(truto::get(&self.store, id)),
                Method::PATCH => write(truto::update(&self.store, request, id, now)),
                Method::DELETE => write(truto::delete(&self.store, id)),
                _ => Err(method_not_allowed(method)),
            },
            _ => Err(ApiError::not_found(format!(
                "no route for {method} {}",
                request.path
            ))),
        }
    }

    /// `/_emulator/...`: state and fault controls for tests. Same token as the APIs, except
    /// `health`.
    fn control(&self, request: &Request) -> Result<Response, ApiError> {
        let segments: Vec<&str> = request
            .path
            .split('/')
            .filter(|s| !s.is_empty())
            .skip(1)
            .collect();
        if segments == ["health"] {
            return Ok(Response::json(200, &json!({ "ok": true })));
        }
        if !self.authorized(request) {
            return Err(ApiError::new(
                401,
                "authentication credentials were missing or invalid",
            ));
        }
        let body = || -> Result<Value, ApiError> {
            serde_json::from_slice(&request.body)
                .map_err(|e| ApiError::bad_request(format!("invalid JSON: {e}")))
        };
        let committed = |result: Result<(Response, u64), ApiError>| -> Result<Response, ApiError> {
            let (response, seq) = result?;
            self.store
                .wait_durable(seq)
                .map_err(|e| ApiError::new(500, e.to_string()))?;
            Ok(response)
        };
        match (&request.method, segments.as_slice()) {
            (&Method::POST, ["reset"]) => committed(
                self.store
                    .change(|_| Ok::<_, ApiError>(((), vec![Change::Reset])))
                    .map(|((), seq)| (Response::json(200, &json!({ "ok": true })), seq)),
            ),
            (&Method::POST | &Method::PUT, ["ada", id, "status"]) => {
                let body = body()?;
                let Some(status) = body.get("status").and_then(Value::as_str) else {
                    return Err(ApiError::bad_request("expected {\"status\": \"approved\"}"));
                };
                committed(ada::set_status(&self.store, id, status))
            }
            (&Method::POST, ["truto", "integrations"]) => {
                let (owner, integration) = seed_body(body()?)?;
                let record = self.seed_truto(owner, integration)?;
                Ok(Response::json(201, &record))
            }
            (&Method::GET, ["faults"]) => Ok(Response::json(200, &json!(self.controls().faults))),
            (&Method::PUT, ["faults"]) => {
                let faults: Faults = serde_json::from_value(body()?)
                    .map_err(|e| ApiError::bad_request(format!("invalid faults: {e}")))?;
                self.controls().faults = faults;
                Ok(Response::json(200, &json!({ "ok": true })))
            }
            (&Method::DELETE, ["faults"]) => {
                self.controls().faults = Faults::default();
                Ok(Response::json(200, &json!({ "ok": true })))
            }
            (&Method::GET, ["rate-limit"]) => {
                let controls = self.controls();
                Ok(Response::json(
                    200,
                    &json!({ "ada": controls.limits.ada, "truto": controls.limits.truto }),
                ))
            }
            (&Method::PUT, ["rate-limit"]) => {
                let body = body()?;
                let parse = |v: Option<&Value>,
                             documented: &[Window]|
                 -> Result<Vec<Window>, ApiError> {
                    match v {
                        None => Ok(Vec::new()),
                        Some(Value::String(s)) if s == "off" => Ok(Vec::new()),
                        Some(Value::String(s)) if s == "documented" => Ok(documented.to_vec()),
                        Some(other) => serde_json::from_value(other.clone())
                            .map_err(|e| ApiError::bad_request(format!("expected \"off\", \"documented\" or [{{\"window_ms\", \"limit\"}}]: {e}"))),
                    }
                };
                let ada = parse(body.get("ada"), &ADA_DOCUMENTED)?;
                let truto = parse(body.get("truto"), &TRUTO_DOCUMENTED)?;
                self.controls().limits = RateLimits::new(ada, truto);
                Ok(Response::json(200, &json!({ "ok": true })))
            }
            (&Method::GET, ["log"]) => {
                Ok(Response::json(200, &json!(self.controls().log_settings)))
            }
            (&Method::PUT, ["log"]) => {
                let settings: LogSettings = serde_json::from_value(body()?).map_err(|e| {
                    ApiError::bad_request(format!("expected {{\"bodies\": true|false}}: {e}"))
                })?;
                self.controls().log_settings = settings;
                Ok(Response::json(200, &json!(settings)))
            }
            (&Method::GET, ["requests"]) => Ok(Response::json(200, &json!(self.controls().log))),
            (&Method::DELETE, ["requests"]) => {
                self.controls().log.clear();
                Ok(Response::json(200, &json!({ "ok": true })))
            }
            _ => Err(ApiError::not_found(format!(
                "no emulator control {} {}",
                request.method, request.path
            ))),
        }
    }

    /// Stores a Truto integration owned by `owner` (the token's team, Truto, or another team), as
    /// `POST /_emulator/truto/integrations` does: `integration` has the update fields (`name`
    /// required, `sharing` allowed, nothing else), names are unique within the owner's team
    /// (409). Durable before it returns. Answers the whole stored record, `config` included.
    pub fn seed_truto(&self, owner: Owner, integration: Value) -> Result<Value, ApiError> {
        let (record, seq) = truto::seed(&self.store, owner, &integration, SystemTime::now())?;
        self.store
            .wait_durable(seq)
            .map_err(|e| ApiError::new(500, e.to_string()))?;
        Ok(Value::Object(record))
    }

    /// The request log (most recent last).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.controls().log.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::FaultRule;

    const TOKEN: &str = "unit";

    fn truto_names(emulator: &Emulator) -> Vec<Value> {
        let listed = emulator
            .call(Request::new(Method::GET, "/integration").bearer(TOKEN))
            .map(|r| r.json_body())
            .unwrap_or_default();
        listed["result"]
            .as_array()
            .map(|items| items.iter().map(|i| i["name"].clone()).collect())
            .unwrap_or_default()
    }

    fn delay_commit(ms: u64) -> Faults {
        Faults {
            latency_ms: 0,
            rules: vec![FaultRule {
                api: None,
                method: Some("POST".into()),
                path_prefix: None,
                after: 0,
                times: Some(1),
                action: FaultAction::DelayCommit { ms },
                seen: 0,
                applied: 0,
            }],
        }
    }

    #[test]
    fn a_held_request_is_invisible_until_handled_and_counted_once() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        emulator.set_faults(delay_commit(2_500));
        let create = Request::new(Method::POST, "/integration")
            .bearer(TOKEN)
            .json(&json!({"name": "late"}));
        let mut outcome = emulator.handle(create);
        let held = outcome.held.take().expect("held by the fault");
        assert_eq!(held.hold(), Duration::from_millis(2_500));
        assert_eq!(outcome.commit, None);
        assert!(
            truto_names(&emulator).is_empty(),
            "nothing visible while held"
        );
        assert!(
            emulator.requests().iter().all(|r| r.method != "POST"),
            "logged when handled, not when held"
        );

        let outcome = emulator.handle_held(held);
        assert!(outcome.held.is_none());
        assert_eq!(outcome.response.status, 201);
        assert!(outcome.commit.is_some());
        assert_eq!(truto_names(&emulator), [json!("late")]);
        let logged: Vec<_> = emulator
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
        assert_eq!(logged.len(), 1);
        assert_eq!(logged[0].status, Some(201));
        assert_eq!(logged[0].fault.as_deref(), Some("delay_commit"));
        let rule = &emulator.controls().faults.rules[0];
        assert_eq!((rule.seen, rule.applied), (1, 1), "counted once");
    }

    #[test]
    fn a_held_request_still_gets_the_other_faults_and_validation() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        let mut faults = delay_commit(0);
        faults.rules[0].times = None;
        faults.rules.push(FaultRule {
            action: FaultAction::TruncateBody,
            ..faults.rules[0].clone()
        });
        emulator.set_faults(faults);
        let answer = emulator
            .call(
                Request::new(Method::POST, "/integration")
                    .bearer(TOKEN)
                    .json(&json!({"name": "cut"})),
            )
            .expect("answered");
        assert_eq!(answer.status, 201);
        assert!(
            serde_json::from_slice::<Value>(&answer.body).is_err(),
            "cut"
        );
        let refused = emulator
            .call(
                Request::new(Method::POST, "/integration")
                    .bearer(TOKEN)
                    .json(&json!({"name": ""})),
            )
            .expect("answered");
        assert_eq!(refused.status, 400, "validated after the hold");
        assert_eq!(truto_names(&emulator), [json!("cut")]);
        let faults: Vec<_> = emulator
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .map(|r| r.fault)
            .collect();
        assert_eq!(
            faults,
            [
                Some("delay_commit, truncate_body".to_owned()),
                Some("delay_commit, truncate_body".to_owned())
            ]
        );
    }

    #[test]
    fn call_commits_only_after_the_hold() {
        let hold = Duration::from_millis(1_500);
        let emulator = std::sync::Arc::new(Emulator::new(Store::in_memory(), TOKEN));
        emulator.set_faults(delay_commit(1_500));
        let started = Instant::now();
        let caller = {
            let emulator = std::sync::Arc::clone(&emulator);
            std::thread::spawn(move || {
                let answer = emulator.call(
                    Request::new(Method::POST, "/integration")
                        .bearer(TOKEN)
                        .json(&json!({"name": "late"})),
                );
                (answer, started.elapsed())
            })
        };
        // Wait until the request has arrived (the rule counted it), then look: still nothing.
        let deadline = Instant::now() + Duration::from_secs(10);
        while emulator.controls().faults.rules[0].applied == 0 {
            assert!(Instant::now() < deadline, "the request never arrived");
            std::thread::sleep(Duration::from_millis(5));
        }
        let names = truto_names(&emulator);
        if started.elapsed() < hold {
            assert!(names.is_empty(), "visible during the hold: {names:?}");
        }
        let (answer, took) = caller.join().expect("the caller thread");
        assert_eq!(answer.map(|r| r.status), Ok(201));
        assert!(took >= hold, "answered after {took:?}");
        assert_eq!(truto_names(&emulator), [json!("late")]);
    }

    #[test]
    fn the_log_keeps_bodies_only_when_asked_in_the_order_sent() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        assert!(!emulator.log_bodies(), "off by default");
        let create = |name: &str| {
            Request::new(Method::POST, "/integration")
                .bearer(TOKEN)
                .json(&json!({"name": name, "config": {"z": 1, "a": 2}, "category": "crm"}))
        };
        let id = emulator.call(create("before")).unwrap().json_body()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(emulator.requests()[0].body, None, "off: no body");

        emulator.set_log_bodies(true);
        assert!(emulator.log_bodies());
        emulator.call(create("after")).unwrap();
        let patch = Request::new(Method::PATCH, &format!("/integration/{id}"))
            .bearer(TOKEN)
            .json(&json!({"sharing": "deny", "category": "x", "version": 1}));
        assert_eq!(emulator.call(patch).unwrap().status, 200);
        emulator
            .call(Request::new(Method::GET, "/integration?limit=5").bearer(TOKEN))
            .unwrap();
        let mut garbage = Request::new(Method::POST, "/integration").bearer(TOKEN);
        garbage.body = bytes::Bytes::from_static(b"{\"name\": ");
        assert_eq!(emulator.call(garbage).unwrap().status, 400);

        let bodies: Vec<String> = emulator.requests()[1..]
            .iter()
            .map(|r| serde_json::to_string(r.body.as_ref().expect("logged")).unwrap())
            .collect();
        assert_eq!(
            bodies,
            [
                r#"{"name":"after","config":{"z":1,"a":2},"category":"crm"}"#,
                r#"{"sharing":"deny","category":"x","version":1}"#,
                "null",
                "null",
            ],
            "the bodies as sent, key order included; `null` for none or not JSON"
        );

        emulator.set_log_bodies(false);
        emulator.call(create("off again")).unwrap();
        assert_eq!(emulator.requests().last().unwrap().body, None);
    }

    #[test]
    fn a_held_request_is_logged_with_its_body() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        emulator.set_log_bodies(true);
        emulator.set_faults(delay_commit(0));
        let answer = emulator
            .call(
                Request::new(Method::POST, "/integration")
                    .bearer(TOKEN)
                    .json(&json!({"name": "late", "is_beta": true})),
            )
            .unwrap();
        assert_eq!(answer.status, 201);
        let logged = &emulator.requests()[0];
        assert_eq!(logged.fault.as_deref(), Some("delay_commit"));
        assert_eq!(
            serde_json::to_string(logged.body.as_ref().unwrap()).unwrap(),
            r#"{"name":"late","is_beta":true}"#
        );
    }

    #[test]
    fn the_log_never_holds_the_authorization_header() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        let control = |method: Method, path: &str, body: Option<Value>| {
            let mut request = Request::new(method, path).bearer(TOKEN);
            if let Some(body) = body {
                request = request.json(&body);
            }
            emulator.call(request).unwrap()
        };
        let set = control(Method::PUT, "/_emulator/log", Some(json!({"bodies": true})));
        assert_eq!(
            (set.status, set.json_body()),
            (200, json!({"bodies": true}))
        );
        for token in [TOKEN, "a-wrong-token-5e2f"] {
            for request in [
                Request::new(Method::GET, "/api/v2/platform-integrations/"),
                Request::new(Method::POST, "/integration").json(&json!({"name": "n"})),
                Request::new(Method::PATCH, "/api/v2/platform-integrations/0")
                    .json(&json!({"name": "n"})),
            ] {
                emulator.call(request.bearer(token)).unwrap();
            }
        }
        let log = control(Method::GET, "/_emulator/requests", None);
        let text = String::from_utf8(log.body.to_vec()).unwrap();
        assert_eq!(log.json_body().as_array().map(Vec::len), Some(6), "{text}");
        assert!(
            text.contains(r#""body":{"name":"n"}"#),
            "bodies are on: {text}"
        );
        for secret in [TOKEN, "a-wrong-token-5e2f", "Bearer", "uthorization"] {
            assert!(!text.contains(secret), "{secret:?} in the log: {text}");
        }
    }

    #[test]
    fn log_control_routes() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        let send = |method: Method, body: Option<&[u8]>, token: Option<&str>| {
            let mut request = Request::new(method, "/_emulator/log");
            if let Some(token) = token {
                request = request.bearer(token);
            }
            if let Some(body) = body {
                request.body = bytes::Bytes::copy_from_slice(body);
            }
            let answer = emulator.call(request).unwrap();
            (answer.status, answer.json_body())
        };
        let t = Some(TOKEN);
        // Each call and the answer it must get, in order.
        // (method, body, token, the status it must get, the answer when 200)
        type Row<'a> = (Method, Option<&'a [u8]>, Option<&'a str>, u16, Value);
        let table: [Row; 9] = [
            (Method::GET, None, t, 200, json!({"bodies": false})),
            (Method::GET, None, None, 401, Value::Null),
            (
                Method::PUT,
                Some(br#"{"bodies": true}"#),
                None,
                401,
                Value::Null,
            ),
            (
                Method::PUT,
                Some(br#"{"bodies": true}"#),
                t,
                200,
                json!({"bodies": true}),
            ),
            (Method::GET, None, t, 200, json!({"bodies": true})),
            (Method::PUT, Some(br#"{"bodies": 1}"#), t, 400, Value::Null),
            (
                Method::PUT,
                Some(br#"{"bodys": false}"#),
                t,
                400,
                Value::Null,
            ),
            (
                Method::POST,
                Some(br#"{"bodies": false}"#),
                t,
                404,
                Value::Null,
            ),
            (Method::PUT, Some(b"{}"), t, 200, json!({"bodies": false})),
        ];
        for (i, (method, body, token, status, answer)) in table.into_iter().enumerate() {
            let call = format!("call {i}: {method} {:?}", body.map(String::from_utf8_lossy));
            let (got, got_body) = send(method, body, token);
            assert_eq!(got, status, "{call}: {got_body}");
            if status == 200 {
                assert_eq!(got_body, answer, "{call}");
            }
        }
        assert!(!emulator.log_bodies(), "`{{}}` is the default: off");
    }

    #[test]
    fn the_seeding_control_body() {
        let integration = json!({"name": "hubspot"});
        assert_eq!(
            seed_body(json!({"integration": integration})),
            Ok((Owner::Own, integration.clone())),
            "owner defaults to own"
        );
        for (owner, expected) in [
            ("own", Owner::Own),
            ("truto", Owner::Truto),
            ("other", Owner::Other),
        ] {
            assert_eq!(
                seed_body(json!({"owner": owner, "integration": integration})),
                Ok((expected, integration.clone()))
            );
        }
        for bad in [
            json!({"owner": "Truto", "integration": integration}),
            json!({"owner": null, "integration": integration}),
            json!({"owner": "own"}),
            json!({"integration": integration, "team_id": "x"}),
            json!("own"),
        ] {
            assert_eq!(
                seed_body(bad.clone()).map_err(|e| e.status),
                Err(400),
                "{bad}"
            );
        }
    }

    #[test]
    fn foreign_integrations_over_the_in_process_transport() {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        let call = |method: Method, path: &str, body: Option<Value>| {
            let mut request = Request::new(method, path).bearer(TOKEN);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let answer = emulator.call(request).unwrap();
            (answer.status, answer.json_body())
        };
        let (status, seeded) = call(
            Method::POST,
            "/_emulator/truto/integrations",
            Some(json!({"owner": "other", "integration": {"name": "crm", "config": {"k": "v"}}})),
        );
        assert_eq!(status, 201, "{seeded}");
        assert_eq!(seeded["config"], json!({"k": "v"}));
        assert_eq!(seeded["team"]["name"], "Acme Corp");
        let id = seeded["id"].as_str().unwrap();
        let (status, got) = call(Method::GET, &format!("/integrations/{id}"), None);
        assert_eq!(status, 200);
        assert_eq!(got.get("config"), None, "stripped: {got}");
        // 403 before the body is looked at: a malformed PATCH of another team's is still 403.
        for body in [json!([]), json!({"unknown": 1}), json!({"category": "x"})] {
            let (status, refused) = call(Method::PATCH, &format!("/integration/{id}"), Some(body));
            assert_eq!(
                (status, &refused["error"]),
                (403, &json!("Forbidden")),
                "{refused}"
            );
        }
        // Hiding it: the other team stops sharing.
        let hidden = emulator
            .seed_truto(Owner::Other, json!({"name": "private", "sharing": "deny"}))
            .unwrap();
        let hidden_id = hidden["id"].as_str().unwrap();
        assert_eq!(hidden["team_id"], truto::OTHER_TEAM_ID);
        for method in [Method::GET, Method::DELETE] {
            assert_eq!(
                call(method, &format!("/integration/{hidden_id}"), None).0,
                404
            );
        }
        assert_eq!(truto_names(&emulator), [json!("crm")]);
        let (status, env) = call(Method::GET, "/environment", None);
        assert_eq!(status, 200);
        assert_eq!(env["result"][0]["team_id"], truto::TEAM_ID);
        assert_eq!(env["result"][0]["id"], truto::ENVIRONMENT_ID);
        assert_eq!(call(Method::DELETE, "/environment", None).0, 405);
    }

    #[test]
    fn token_comparison_is_exact() {
        let token = b"emulator-token-123";
        assert!(constant_time_eq(token, token));
        assert!(!constant_time_eq(b"emulator-token-124", token), "last byte");
        assert!(
            !constant_time_eq(b"Emulator-token-123", token),
            "first byte"
        );
        assert!(!constant_time_eq(b"emulator-token-12", token), "a prefix");
        assert!(!constant_time_eq(b"emulator-token-1234", token), "longer");
        assert!(!constant_time_eq(b"", token), "empty");
        assert!(!constant_time_eq(b"x", b""), "against an empty token");
        assert!(constant_time_eq(b"", b""));
    }
}
