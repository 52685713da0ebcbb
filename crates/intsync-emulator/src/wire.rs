//! Requests and responses as the emulator sees them, independent of any HTTP library, and the
//! two vendors' error envelopes.

use bytes::Bytes;
use http::Method;

/// Which vendor API a request is addressed to (decides the error envelope).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    Ada,
    Truto,
}

/// One API request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// The path, without the query string (`/api/v2/platform-integrations/`).
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    /// The `Authorization` header value.
    pub authorization: Option<String>,
    pub body: Bytes,
    /// Scheme and authority the client used (`http://127.0.0.1:8787`), for absolute
    /// `next_page_url`s.
    pub base_url: String,
}

impl Request {
    /// A request with an empty body and no credentials, for tests and the in-process transport.
    pub fn new(method: Method, path_and_query: &str) -> Request {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        Request {
            method,
            path,
            query,
            authorization: None,
            body: Bytes::new(),
            base_url: "http://127.0.0.1".to_owned(),
        }
    }

    #[must_use]
    pub fn bearer(mut self, token: &str) -> Request {
        self.authorization = Some(format!("Bearer {token}"));
        self
    }

    #[must_use]
    pub fn json(mut self, body: &serde_json::Value) -> Request {
        self.body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        self
    }

    /// The value of a query parameter (percent-decoded), if present.
    pub fn query_param(&self, name: &str) -> Option<String> {
        let query = self.query.as_deref()?;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

/// One API response.
#[derive(Debug, Clone, PartialEq)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Response {
    pub fn json(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![("content-type".to_owned(), "application/json".to_owned())],
            body: Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        }
    }

    /// The body parsed as JSON (`Null` when it is not JSON).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An error as a vendor reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
    pub details: Option<String>,
    /// Extra headers (e.g. `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            details: None,
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(404, message)
    }

    #[must_use]
    pub fn with_details(mut self, details: impl Into<String>) -> ApiError {
        self.details = Some(details.into());
        self
    }

    /// The body and headers in `api`'s envelope.
    pub fn into_response(self, api: Api) -> Response {
        let body = match api {
            // {"errors": [{"type", "message", "details"}]}; the type strings are our choice
            // (docs/emulator.md), Ada does not document them.
            Api::Ada => serde_json::json!({
                "errors": [{
                    "type": ada_error_type(self.status),
                    "message": self.message,
                    "details": self.details,
                }]
            }),
            // {"statusCode", "error", "message"} (Truto's documented envelope).
            Api::Truto => serde_json::json!({
                "statusCode": self.status,
                "error": reason_phrase(self.status),
                "message": self.message,
            }),
        };
        let mut response = Response::json(self.status, &body);
        response.headers.extend(self.headers);
        response
    }
}

/// Ada's error `type` for an HTTP status (undocumented by Ada; see docs/emulator.md).
pub fn ada_error_type(status: u16) -> &'static str {
    match status {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        409 => "duplicate_resource",
        413 => "content_too_large",
        422 => "unprocessable_content",
        429 => "too_many_requests",
        _ => "internal_server_error",
    }
}

/// The canonical reason phrase, as Truto's `error` field carries it.
pub fn reason_phrase(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let ada = ApiError::bad_request("name is too long").into_response(Api::Ada);
        assert_eq!(
            ada.json_body(),
            serde_json::json!({"errors": [{"type": "bad_request", "message": "name is too long", "details": null}]})
        );
        let truto = ApiError::not_found("no such integration").into_response(Api::Truto);
        assert_eq!(
            truto.json_body(),
            serde_json::json!({"statusCode": 404, "error": "Not Found", "message": "no such integration"})
        );
        let forbidden = ApiError::new(403, "another team's").into_response(Api::Truto);
        assert_eq!(
            forbidden.json_body(),
            serde_json::json!({"statusCode": 403, "error": "Forbidden", "message": "another team's"})
        );
    }

    #[test]
    fn query_params_are_decoded() {
        let r = Request::new(Method::GET, "/integration?name=my%20crm&limit=5");
        assert_eq!(r.query_param("name").as_deref(), Some("my crm"));
        assert_eq!(r.query_param("limit").as_deref(), Some("5"));
        assert_eq!(r.query_param("cursor"), None);
    }
}
