//! How requests reach a vendor API: HTTP (reqwest, rustls), or in-process to an API served in
//! the same process (the `local` target's embedded emulator, through [`InProcessApi`], which the
//! binary implements: this crate depends on no server). Everything above this speaks the vendors'
//! wire JSON through the same interface, so the local target exercises the same code as the real
//! ones.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;

use crate::retry::parse_retry_after;
use crate::secret::Secret;

/// An answer, whatever its status.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub retry_after: Option<Duration>,
    /// The `Content-Type` header, if any (for messages: the body is read as JSON regardless).
    pub content_type: Option<String>,
    /// The `Location` header, if any, as sent (for the message of a redirect, which is never
    /// followed).
    pub location: Option<String>,
    pub body: Bytes,
}

/// The HTTP client could not be built (TLS set-up).
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(String);

/// A request that got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The request never left: safe to send again, whatever it was.
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// Sent, but no (complete) answer: it may or may not have taken effect.
    #[error("no answer from {url}: {reason}")]
    Interrupted { url: String, reason: String },
    /// The answer is larger than any the vendors send ([`MAX_RESPONSE_BYTES`]); reading stopped
    /// there. Not worth retrying.
    #[error(
        "the answer from {url} is larger than {limit} bytes; reading stopped (is `base_url` the API?)"
    )]
    TooLarge {
        url: String,
        status: u16,
        limit: usize,
    },
}

impl TransportError {
    /// What went wrong, without the URL (for messages that name it already).
    pub fn into_reason(self) -> String {
        match self {
            TransportError::Interrupted { reason, .. } | TransportError::Connect { reason, .. } => {
                reason
            }
            TransportError::TooLarge { limit, .. } => {
                format!("the answer is larger than {limit} bytes")
            }
        }
    }

    pub fn was_sent(&self) -> bool {
        matches!(
            self,
            TransportError::Interrupted { .. } | TransportError::TooLarge { .. }
        )
    }
}

/// The largest answer read: a list page of 100 integrations with large forms is a few MB; a
/// server sending more is broken or hostile, and must not exhaust memory.
pub const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// Where requests go.
#[derive(Clone)]
pub enum Transport {
    Http {
        client: reqwest::Client,
        /// Scheme, host and port, e.g. `https://coolshop.ada.support` (no trailing slash).
        base: String,
        token: Secret,
        /// Answers larger than this are not read ([`MAX_RESPONSE_BYTES`]).
        max_body: usize,
        /// How long one request may take, answer included.
        request_timeout: Duration,
    },
    InProcess {
        api: Arc<dyn InProcessApi>,
    },
}

/// What an in-process API's error is: anything, boxed (the provider only reports it).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An answer from an [`InProcessApi`].
#[derive(Debug, Clone)]
pub struct InProcessAnswer {
    pub status: u16,
    /// Header names are compared without regard to case.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// A vendor API served in this process (the embedded emulator of the `local` target). The
/// binary's wiring implements it, so that providers never depend on a server crate.
pub trait InProcessApi: Send + Sync {
    /// Handles one authorized request to its end. Called on a blocking thread; may block (an
    /// injected latency). `Err` means the request got no answer (an injected dropped connection):
    /// it may or may not have taken effect.
    fn call(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
    ) -> Result<InProcessAnswer, BoxError>;

    /// Leaves the state as one readable file (called at the end of a run).
    fn checkpoint(&self) -> Result<(), BoxError>;
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Http { base, .. } => write!(f, "Http({base})"),
            Transport::InProcess { .. } => f.write_str("InProcess"),
        }
    }
}

/// Makes `rustls` use `ring` (one crypto provider for the whole process). Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Timeouts for HTTP targets.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub connect: Duration,
    /// For the whole request, answer included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
        }
    }
}

impl Transport {
    pub fn http(base: &str, token: Secret, timeouts: Timeouts) -> Result<Transport, ClientError> {
        install_crypto_provider();
        let client = reqwest::Client::builder()
            .user_agent(concat!("intsync/", env!("CARGO_PKG_VERSION")))
            // Requests (and the token) go only to `base_url`: a 3xx comes back as an answer,
            // which the provider reports (`ProviderError::Redirected`), never follows.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            .timeout(timeouts.request);
        // A plain-http target (loopback only: `config.rs`) never makes a TLS connection, since
        // nothing but `base_url` is ever asked: skip reading the system's certificate store,
        // which was half of the start-up (146 files here: 7.9 → 4.2 ms; issue #16).
        let client = if base.starts_with("http://") {
            client.tls_certs_only(std::iter::empty())
        } else {
            client
        };
        let client = client.build().map_err(|e| ClientError(e.to_string()))?;
        Ok(Transport::Http {
            client,
            base: base.trim_end_matches('/').to_owned(),
            token,
            max_body: MAX_RESPONSE_BYTES,
            request_timeout: timeouts.request,
        })
    }

    /// The same transport with another answer size limit (tests).
    #[must_use]
    pub fn with_max_body(mut self, limit: usize) -> Transport {
        if let Transport::Http { max_body, .. } = &mut self {
            *max_body = limit;
        }
        self
    }

    /// The URL a path is sent to, for messages.
    pub fn url(&self, path_and_query: &str) -> String {
        match self {
            Transport::Http { base, .. } => format!("{base}{path_and_query}"),
            Transport::InProcess { .. } => format!("local:{path_and_query}"),
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Reply, TransportError> {
        // Serialized once, here: both transports send exactly these bytes, in the body's own
        // key order (the order of a form's properties is the order users see).
        let body = body.map(|b| Bytes::from(serde_json::to_vec(b).unwrap_or_default()));
        match self {
            Transport::Http {
                client,
                base,
                token,
                max_body,
                ..
            } => {
                let url = format!("{base}{path_and_query}");
                let mut request = client.request(method, &url).bearer_auth(token.expose());
                if let Some(body) = body {
                    request = request
                        .header(http::header::CONTENT_TYPE, "application/json")
                        .body(body);
                }
                let describe = |e: &reqwest::Error| {
                    // reqwest's Display names the URL; its source says what went wrong.
                    let mut reason = e.to_string();
                    let mut source = std::error::Error::source(e);
                    while let Some(s) = source {
                        reason = format!("{reason}: {s}");
                        source = s.source();
                    }
                    reason
                };
                let mut response = request.send().await.map_err(|e| {
                    if e.is_connect() {
                        TransportError::Connect {
                            url: url.clone(),
                            reason: describe(&e),
                        }
                    } else {
                        TransportError::Interrupted {
                            url: url.clone(),
                            reason: describe(&e),
                        }
                    }
                })?;
                let status = response.status().as_u16();
                let retry_after = response
                    .headers()
                    .get(http::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()));
                let header = |name: http::header::HeaderName| {
                    response
                        .headers()
                        .get(name)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                };
                let content_type = header(http::header::CONTENT_TYPE);
                let location = header(http::header::LOCATION);
                let too_large = || TransportError::TooLarge {
                    url: url.clone(),
                    status,
                    limit: *max_body,
                };
                if response
                    .content_length()
                    .is_some_and(|n| n > *max_body as u64)
                {
                    return Err(too_large());
                }
                // The announced length (checked above) is reserved at once: a page grown by
                // doubling was copied about twice over (issue #24).
                let mut body = bytes::BytesMut::with_capacity(
                    response
                        .content_length()
                        .map_or(0, |n| usize::try_from(n).unwrap_or(0).min(*max_body)),
                );
                while let Some(chunk) =
                    response
                        .chunk()
                        .await
                        .map_err(|e| TransportError::Interrupted {
                            url: url.clone(),
                            reason: format!("the answer was cut off: {}", describe(&e)),
                        })?
                {
                    if body.len() + chunk.len() > *max_body {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                let body = body.freeze();
                Ok(Reply {
                    status,
                    retry_after,
                    content_type,
                    location,
                    body,
                })
            }
            Transport::InProcess { api } => {
                let api = Arc::clone(api);
                let url = self.url(path_and_query);
                let path = path_and_query.to_owned();
                let answered =
                    tokio::task::spawn_blocking(move || api.call(method, &path, body)).await;
                match answered {
                    Ok(Ok(answer)) => {
                        let header = |name: &str| {
                            answer
                                .headers
                                .iter()
                                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                                .map(|(_, v)| v.as_str())
                        };
                        Ok(Reply {
                            status: answer.status,
                            retry_after: header("retry-after")
                                .and_then(|v| parse_retry_after(v, std::time::SystemTime::now())),
                            content_type: header("content-type").map(str::to_owned),
                            location: header("location").map(str::to_owned),
                            body: answer.body,
                        })
                    }
                    Ok(Err(dropped)) => Err(TransportError::Interrupted {
                        url,
                        reason: dropped.to_string(),
                    }),
                    Err(join) => Err(TransportError::Interrupted {
                        url,
                        reason: join.to_string(),
                    }),
                }
            }
        }
    }
}
