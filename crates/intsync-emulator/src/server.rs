//! The HTTP face of the emulator: axum (hyper) on a TCP listener, every request handed to
//! [`Emulator::handle`]. Connections are served one by one so that an injected fault can close
//! a connection without answering, which a router alone cannot do.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use http_body_util::{BodyExt as _, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::emulator::{Delivery, Emulator, MAX_BODY_BYTES, Outcome};
use crate::wire::{Api, ApiError, Request, Response};

/// Set on each request: closing it drops the connection the request came on.
#[derive(Clone)]
struct ConnectionCloser(Arc<Notify>);

#[derive(Clone)]
struct AppState {
    emulator: Arc<Emulator>,
}

fn to_http(response: Response) -> http::Response<Body> {
    let mut builder = http::Response::builder().status(response.status);
    for (name, value) in &response.headers {
        builder = builder.header(name, value);
    }
    builder
        .body(Body::from(response.body))
        .unwrap_or_else(|_| http::Response::new(Body::empty()))
}

/// Waits until `deadline`, to within a fraction of a millisecond. Tokio's timer alone fires up
/// to 2 ms late (1 ms ticks rounded up, then the driver's own 1 ms wait), which made a "20 ms"
/// latency measure 21.6 ms at the client: the last stretch is slept on a blocking thread.
async fn sleep_precisely_until(deadline: tokio::time::Instant) {
    if let Some(coarse) = deadline.checked_sub(Duration::from_millis(2)) {
        tokio::time::sleep_until(coarse).await;
    }
    let rest = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !rest.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(rest)).await;
    }
}

async fn handle(State(app): State<AppState>, request: http::Request<Body>) -> http::Response<Body> {
    // Injected latency counts from here: handling the request is part of it, not added to it.
    let arrived = tokio::time::Instant::now();
    let closer = request.extensions().get::<ConnectionCloser>().cloned();
    let (parts, body) = request.into_parts();
    let api = if parts.uri.path().starts_with("/api/") {
        Api::Ada
    } else {
        Api::Truto
    };
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let error = if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                ApiError::new(
                    413,
                    format!("the request body is over {MAX_BODY_BYTES} bytes"),
                )
            } else {
                ApiError::bad_request(format!("the request body could not be read: {error}"))
            };
            return to_http(error.into_response(api));
        }
    };
    let host = parts
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let request = Request {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        authorization: parts
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned),
        body,
        base_url: format!("http://{host}"),
    };
    let emulator = Arc::clone(&app.emulator);
    let mut outcome = emulator.handle(request);
    let outcome = if let Some(held) = outcome.held.take() {
        // A `delay_commit` fault: hold, handle and make durable on a task of its own, so that
        // when the client gives up and hyper drops this future, the request is still committed.
        let task = tokio::spawn(async move {
            tokio::time::sleep(held.hold()).await;
            let outcome = emulator.handle_held(held);
            durable(emulator, outcome, api).await
        });
        let mut outcome = match task.await {
            Ok(outcome) => outcome,
            // Only if the runtime is shutting down: the task never panics and is never aborted.
            Err(error) => Outcome {
                response: ApiError::new(
                    500,
                    format!("the emulator could not handle the held request: {error}"),
                )
                .into_response(api),
                delay: Duration::ZERO,
                commit: None,
                delivery: Delivery::Respond,
                held: None,
            },
        };
        if !outcome.delay.is_zero() {
            tokio::time::sleep(std::mem::take(&mut outcome.delay)).await;
        }
        outcome
    } else {
        if !outcome.delay.is_zero() {
            sleep_precisely_until(arrived + outcome.delay).await;
        }
        durable(emulator, outcome, api).await
    };
    match outcome.delivery {
        Delivery::Respond => to_http(outcome.response),
        Delivery::DropBefore | Delivery::DropAfterCommit => {
            if let Some(closer) = closer {
                closer.0.notify_one();
            }
            // The connection is closed before this would ever resolve.
            std::future::pending().await
        }
    }
}

/// Waits until the outcome's write is on disk; if it cannot be saved, the answer becomes a 500.
async fn durable(emulator: Arc<Emulator>, mut outcome: Outcome, api: Api) -> Outcome {
    let Some(seq) = outcome.commit else {
        return outcome;
    };
    let durable = tokio::task::spawn_blocking(move || emulator.wait_durable(seq)).await;
    if let Some(error) = match durable {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(e) => Some(e.to_string()),
    } {
        outcome.response = ApiError::new(
            500,
            format!("the emulator could not save its state: {error}"),
        )
        .into_response(api);
    }
    outcome
}

/// Serves `emulator` on `listener` until `shutdown` resolves.
pub async fn serve(
    emulator: Arc<Emulator>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let router = axum::Router::new()
        .fallback(handle)
        .with_state(AppState { emulator });
    tokio::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                // Out of file descriptors and the like: keep serving the connections we have.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        tokio::spawn(async move {
            let closer = ConnectionCloser(Arc::new(Notify::new()));
            let service = {
                let closer = closer.clone();
                hyper::service::service_fn(
                    move |mut request: http::Request<hyper::body::Incoming>| {
                        request.extensions_mut().insert(closer.clone());
                        let router = router.clone();
                        async move {
                            use tower::ServiceExt as _;
                            router.oneshot(request.map(Body::new)).await
                        }
                    },
                )
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                () = closer.0.notified() => {} // dropping the connection closes the socket
            }
        });
    }
}

/// A server running on a background task, for tests and embedding.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub emulator: Arc<Emulator>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves in the background.
    pub async fn start(emulator: Emulator, addr: SocketAddr) -> std::io::Result<RunningServer> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let emulator = Arc::new(emulator);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(Arc::clone(&emulator), listener, async move {
            let _ = stopped.await;
        }));
        Ok(RunningServer {
            addr,
            emulator,
            stop: Some(stop),
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections and waits for the accept loop to end.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.unwrap_or(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    const TOKEN: &str = "server-unit";

    /// Sends `method path` with a raw body; the status and the body as text.
    async fn send(
        http: &reqwest::Client,
        base: &str,
        method: reqwest::Method,
        path: &str,
        body: &'static str,
    ) -> (u16, String) {
        let response = http
            .request(method, format!("{base}{path}"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("answered");
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    #[tokio::test]
    async fn over_http_the_log_keeps_bodies_as_sent_once_turned_on() {
        let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
        let server = RunningServer::start(
            Emulator::new(Store::in_memory(), TOKEN),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let (base, http) = (server.base_url(), reqwest::Client::new());
        use reqwest::Method;

        assert_eq!(
            send(&http, &base, Method::GET, "/_emulator/log", "").await,
            (200, r#"{"bodies":false}"#.to_owned())
        );
        let (status, _) = send(
            &http,
            &base,
            Method::POST,
            "/integration",
            r#"{"name": "off"}"#,
        )
        .await;
        assert_eq!(status, 201);
        assert_eq!(
            send(
                &http,
                &base,
                Method::PUT,
                "/_emulator/log",
                r#"{"bodies": true}"#
            )
            .await,
            (200, r#"{"bodies":true}"#.to_owned())
        );
        assert!(server.emulator.log_bodies(), "the same setting in process");
        let (status, created) = send(
            &http,
            &base,
            Method::POST,
            "/integration",
            r#"{ "name" : "on", "config": {"timeout": 30, "base_url": "https://x.example"}, "category": "crm" }"#,
        )
        .await;
        assert_eq!(status, 201, "{created}");
        let (status, _) = send(
            &http,
            &base,
            Method::POST,
            "/api/v2/platform-integrations/",
            "not json",
        )
        .await;
        assert_eq!(status, 400);

        let (status, log) = send(&http, &base, Method::GET, "/_emulator/requests", "").await;
        assert_eq!(status, 200);
        let log: serde_json::Value = serde_json::from_str(&log).unwrap();
        let entries = log.as_array().unwrap();
        assert_eq!(entries.len(), 3, "{log}");
        assert!(entries[0].get("body").is_none(), "logged while off: {log}");
        assert_eq!(
            serde_json::to_string(&entries[1]["body"]).unwrap(),
            r#"{"name":"on","config":{"timeout":30,"base_url":"https://x.example"},"category":"crm"}"#,
            "the key order sent, through the log's own JSON"
        );
        assert!(
            entries[2]
                .get("body")
                .is_some_and(serde_json::Value::is_null),
            "`null` for a body that is not JSON: {log}"
        );
        assert!(!log.to_string().contains(TOKEN), "{log}");
        server.stop().await.unwrap();
    }
}
