//! Test controls: injected faults, rate limits and the request log (`/_emulator/...`).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::wire::Api;

/// What a fault rule does to a matching request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// Answer with this status in the vendor's error envelope; nothing is changed.
    Status {
        status: u16,
        /// A `Retry-After` header value (seconds), if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Close the connection before handling the request: nothing is changed.
    DropBefore,
    /// Handle the request (commit any write durably), then close the connection unanswered.
    DropAfterCommit,
    /// Delay the answer. The request is handled first, so its write is visible while the client
    /// waits.
    Latency { ms: u64 },
    /// Hold the request `ms` milliseconds without handling it (nothing of it is visible), then
    /// handle it as usual (validation, commit, durability) and answer, even if the client gave
    /// up in the meantime: a server that commits a request after the client's timeout, so that
    /// a client's timeout handling can be tested (does it list before retrying a create?).
    DelayCommit { ms: u64 },
    /// Handle the request (commit any write), then send only the first half of the body's bytes
    /// (with a `Content-Length` that matches them, as a cutting proxy would).
    TruncateBody,
    /// Handle the request (commit any write), then answer with an HTML page instead of JSON, with
    /// the original status.
    NonJsonBody,
    /// Handle the request (commit any write), then remove `field` from every integration in the
    /// answer (the object itself, or each item of a list page).
    DropField { field: String },
    /// Handle the request (commit any write), then answer with this `Content-Type`; the body is
    /// unchanged.
    ContentType { value: String },
}

/// A fault for the requests it matches: it lets `after` of them through, then acts on the next
/// `times` (all of them when `times` is absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<Api>,
    /// `GET`, `POST`, `PATCH`, `DELETE`; any when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    #[serde(default)]
    pub after: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    pub action: FaultAction,
    /// Matching requests seen so far, and how many were acted on.
    #[serde(default)]
    pub seen: u32,
    #[serde(default)]
    pub applied: u32,
}

/// The faults in force.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Added to every API request.
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

impl Faults {
    /// The actions that apply to this request, updating the rules' counters.
    pub fn select(&mut self, api: Api, method: &str, path: &str) -> Vec<FaultAction> {
        let mut actions = Vec::new();
        for rule in &mut self.rules {
            let matches = rule.api.is_none_or(|a| a == api)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(method))
                && rule
                    .path_prefix
                    .as_deref()
                    .is_none_or(|p| path.starts_with(p));
            if !matches {
                continue;
            }
            rule.seen += 1;
            if rule.seen > rule.after && rule.times.is_none_or(|t| rule.applied < t) {
                rule.applied += 1;
                actions.push(rule.action.clone());
            }
        }
        actions
    }
}

/// A rate limit for one API: at most `limit` requests in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub window_ms: u64,
    pub limit: u32,
}

/// Ada's documented limits: 10 requests per second and 100 per minute.
pub const ADA_DOCUMENTED: [Window; 2] = [
    Window {
        window_ms: 1_000,
        limit: 10,
    },
    Window {
        window_ms: 60_000,
        limit: 100,
    },
];
/// Truto's documented limit: 500 requests per 10 seconds per token.
pub const TRUTO_DOCUMENTED: [Window; 1] = [Window {
    window_ms: 10_000,
    limit: 500,
}];

/// Sliding-window rate limiting per API. Off by default.
#[derive(Debug, Default)]
pub struct RateLimits {
    pub ada: Vec<Window>,
    pub truto: Vec<Window>,
    ada_seen: VecDeque<Instant>,
    truto_seen: VecDeque<Instant>,
}

impl RateLimits {
    pub fn new(ada: Vec<Window>, truto: Vec<Window>) -> RateLimits {
        RateLimits {
            ada,
            truto,
            ..RateLimits::default()
        }
    }

    /// Counts the request; `false` means it is over a limit (and is not counted).
    pub fn admit(&mut self, api: Api, now: Instant) -> bool {
        let (windows, seen) = match api {
            Api::Ada => (&self.ada, &mut self.ada_seen),
            Api::Truto => (&self.truto, &mut self.truto_seen),
        };
        if windows.is_empty() {
            return true;
        }
        let longest = Duration::from_millis(windows.iter().map(|w| w.window_ms).max().unwrap_or(0));
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= longest)
        {
            seen.pop_front();
        }
        let over = windows.iter().any(|w| {
            let window = Duration::from_millis(w.window_ms);
            let recent = seen
                .iter()
                .rev()
                .take_while(|t| now.duration_since(**t) < window)
                .count();
            recent >= w.limit as usize
        });
        if !over {
            seen.push_back(now);
        }
        !over
    }
}

/// One request as the log shows it. It never holds the `Authorization` header (nor any other
/// header): the log is readable by anything that has the token, and is printed by failing tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub seq: u64,
    pub api: Api,
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// `None` when the connection was dropped unanswered.
    pub status: Option<u16>,
    /// The injected fault, if one acted on the request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    /// The request body, when body logging is on ([`LogSettings::bodies`]): the body parsed as
    /// JSON with its keys in the order they were sent, or `Some(Value::Null)` when there was no
    /// body or it was not JSON. `None` (and absent from the JSON) when body logging is off.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "logged_body"
    )]
    pub body: Option<Value>,
}

/// `"body": null` is a logged empty or non-JSON body (`Some(Null)`), not an absent one.
fn logged_body<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// The body of a request as the log keeps it: JSON in the order sent, `null` when empty or not
/// JSON.
pub fn body_for_log(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// What the request log records (`GET`/`PUT /_emulator/log`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Keep each request's body. Off by default: benchmarks send tens of thousands of requests,
    /// and a body costs a parse and its memory for as long as the entry is kept.
    #[serde(default)]
    pub bodies: bool,
}

/// The request log keeps the most recent entries only, so a long benchmark cannot exhaust memory.
pub const LOG_CAPACITY: usize = 200_000;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_skip_then_act_a_number_of_times() {
        let mut faults = Faults {
            latency_ms: 0,
            rules: vec![FaultRule {
                api: Some(Api::Ada),
                method: Some("PATCH".into()),
                path_prefix: None,
                after: 1,
                times: Some(2),
                action: FaultAction::Status {
                    status: 503,
                    retry_after: None,
                },
                seen: 0,
                applied: 0,
            }],
        };
        let hits: Vec<usize> = (0..5)
            .map(|_| faults.select(Api::Ada, "PATCH", "/x").len())
            .collect();
        assert_eq!(hits, [0, 1, 1, 0, 0]);
        assert!(faults.select(Api::Truto, "PATCH", "/x").is_empty());
        assert!(faults.select(Api::Ada, "GET", "/x").is_empty());
    }

    #[test]
    fn delay_commit_json() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"method": "POST", "times": 1, "action": {"type": "delay_commit", "ms": 2500}}"#,
        )
        .unwrap();
        assert_eq!(rule.action, FaultAction::DelayCommit { ms: 2500 });
        assert_eq!(
            serde_json::to_value(&rule.action).unwrap(),
            serde_json::json!({"type": "delay_commit", "ms": 2500})
        );
        assert!(
            serde_json::from_str::<FaultAction>(r#"{"type": "delay_commit"}"#).is_err(),
            "`ms` is required"
        );
    }

    #[test]
    fn logged_body_json_keeps_null_apart_from_absent() {
        let entry = LoggedRequest {
            seq: 1,
            api: Api::Ada,
            method: "POST".into(),
            path: "/api/v2/platform-integrations/".into(),
            query: None,
            status: Some(200),
            fault: None,
            body: None,
        };
        let off = serde_json::to_value(&entry).unwrap();
        assert!(off.get("body").is_none(), "no `body` key when off: {off}");
        assert_eq!(serde_json::from_value::<LoggedRequest>(off).unwrap(), entry);

        let empty = LoggedRequest {
            body: Some(Value::Null),
            ..entry.clone()
        };
        let json = serde_json::to_string(&empty).unwrap();
        assert!(json.ends_with(r#","body":null}"#), "{json}");
        assert_eq!(
            serde_json::from_str::<LoggedRequest>(&json).unwrap(),
            empty,
            "`null` reads back as a logged empty body"
        );

        let sent = LoggedRequest {
            body: Some(body_for_log(br#"{"z": 1, "a": {"y": 2, "b": 3}}"#)),
            ..entry
        };
        let json = serde_json::to_string(&sent).unwrap();
        assert!(
            json.ends_with(r#","body":{"z":1,"a":{"y":2,"b":3}}}"#),
            "the order sent: {json}"
        );
        assert_eq!(serde_json::from_str::<LoggedRequest>(&json).unwrap(), sent);
    }

    #[test]
    fn bodies_for_the_log() {
        assert_eq!(body_for_log(b""), Value::Null);
        assert_eq!(body_for_log(b"{"), Value::Null);
        assert_eq!(body_for_log(b"<html>"), Value::Null);
        assert_eq!(body_for_log(b"[1, 2]"), serde_json::json!([1, 2]));
        assert_eq!(
            serde_json::to_string(&body_for_log(br#"{"version": 3, "name": "x"}"#)).unwrap(),
            r#"{"version":3,"name":"x"}"#
        );
    }

    #[test]
    fn log_settings_json() {
        assert_eq!(LogSettings::default(), LogSettings { bodies: false });
        assert_eq!(
            serde_json::from_str::<LogSettings>(r#"{"bodies": true}"#).unwrap(),
            LogSettings { bodies: true }
        );
        assert_eq!(
            serde_json::from_str::<LogSettings>("{}").unwrap(),
            LogSettings::default()
        );
        assert!(serde_json::from_str::<LogSettings>(r#"{"body": true}"#).is_err());
        assert!(serde_json::from_str::<LogSettings>(r#"{"bodies": "yes"}"#).is_err());
    }

    #[test]
    fn sliding_windows() {
        let mut limits = RateLimits::new(ADA_DOCUMENTED.to_vec(), Vec::new());
        let t0 = Instant::now();
        let admitted = (0..15).filter(|_| limits.admit(Api::Ada, t0)).count();
        assert_eq!(admitted, 10);
        // A second later, ten more.
        let t1 = t0 + Duration::from_millis(1_000);
        assert_eq!((0..15).filter(|_| limits.admit(Api::Ada, t1)).count(), 10);
        // Truto is not limited.
        assert!((0..1000).all(|_| limits.admit(Api::Truto, t0)));
        // The minute window: 100 in total.
        let mut total = 20;
        for s in 2..20 {
            total += (0..15)
                .filter(|_| limits.admit(Api::Ada, t0 + Duration::from_secs(s)))
                .count();
        }
        assert_eq!(total, 100);
    }
}
