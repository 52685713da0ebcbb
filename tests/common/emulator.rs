//! `intsync emulator` as a process: its base URL and port, its state file, the faults it
//! injects, its request log, and the Ada and Truto APIs it serves, called from the test.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{TOKEN, ada_spec, lines};

/// How long the emulator may take to start, or to stop once told to.
const PATIENCE: Duration = Duration::from_secs(30);

pub struct Emulator {
    child: Child,
    base_url: String,
    token: String,
    /// What it said on stderr at start-up: where, the token if it made one, the state.
    pub startup: Vec<String>,
    stderr: Receiver<String>,
    /// Built on first use, so that a test on an async runtime of its own can start and stop
    /// emulators without one.
    client: OnceLock<Client>,
}

struct Client {
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

/// A write (any request but a `GET`) as the emulator logged it, with its body serialized in the
/// key order the client sent (see [`Emulator::log_bodies`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoggedWrite {
    pub method: String,
    pub path: String,
    pub status: Option<u64>,
    /// `serde_json::to_string` of the logged body: compare it with the exact body expected.
    pub body: String,
}

impl Emulator {
    /// In memory, on a free port of 127.0.0.1, with the test token.
    pub fn start() -> Emulator {
        Emulator::launch(None, Some(TOKEN))
    }

    /// `intsync emulator --listen 127.0.0.1:0`, keeping its state in `state` when given, and
    /// taking `token` (without one it makes one up and says it: [`Emulator::token`] has it).
    /// Returns once it listens; panics, with what it said, if it exits first.
    pub fn launch(state: Option<&Path>, token: Option<&str>) -> Emulator {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("intsync"));
        cmd.args(["emulator", "--listen", "127.0.0.1:0"])
            .env_remove("INTSYNC_EMULATOR_TOKEN")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(token) = token {
            cmd.args(["--token", token]);
        }
        if let Some(state) = state {
            cmd.arg("--state").arg(state);
        }
        let mut child = cmd.spawn().unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let Ok(base_url) = stdout.recv_timeout(PATIENCE) else {
            let _ = child.kill();
            let said: Vec<String> = stderr.try_iter().collect();
            panic!("the emulator did not start: {:?}: {said:#?}", child.wait());
        };
        assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
        // The start-up talk ends with the line about the state.
        let mut startup = Vec::new();
        while !startup
            .last()
            .is_some_and(|l: &String| l.starts_with("state: "))
        {
            let line = stderr.recv_timeout(PATIENCE).unwrap_or_else(|e| {
                panic!("the emulator's start-up talk ended ({e}): {startup:#?}")
            });
            startup.push(line);
        }
        let token = match token {
            Some(token) => token.to_owned(),
            None => startup
                .iter()
                .find_map(|l| l.strip_prefix("token (send `Authorization: Bearer <token>`): "))
                .unwrap_or_else(|| panic!("no generated token in {startup:#?}"))
                .to_owned(),
        };
        Emulator {
            child,
            base_url,
            token,
            startup,
            stderr,
            client: OnceLock::new(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn port(&self) -> u16 {
        self.base_url.rsplit(':').next().unwrap().parse().unwrap()
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Kills it (SIGKILL): what it acknowledged is in its state file, nothing else is done.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// Stops it with SIGTERM: its exit code and what it said on stderr after start-up.
    pub fn terminate(mut self) -> (Option<i32>, String) {
        super::signal(self.child.id(), "TERM");
        let status = super::wait_until("the emulator to stop on SIGTERM", PATIENCE, || {
            self.child.try_wait().unwrap()
        });
        let said: Vec<String> = self.stderr.iter().collect();
        (status.code(), said.join("\n"))
    }

    fn client(&self) -> &Client {
        self.client.get_or_init(|| {
            // reqwest needs a TLS provider, even for http://
            let _ = rustls::crypto::ring::default_provider().install_default();
            Client {
                runtime: tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap(),
                http: reqwest::Client::new(),
            }
        })
    }

    /// Sends `method path` with `body` (its bytes as given, as JSON) and `token` as the Bearer
    /// token (none: no `Authorization`): the answer's status and text, whatever they are.
    pub fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> (u16, String) {
        let client = self.client();
        client.runtime.block_on(async {
            let mut request = client
                .http
                .request(method, format!("{}{path}", self.base_url));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_owned());
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        })
    }

    /// Calls the API or a control with the token: the answer, which must be a success, as JSON.
    pub fn call(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string());
        let (status, text) = self.send(method, path, Some(&self.token), body.as_deref());
        assert!((200..300).contains(&status), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"))
    }

    // The Ada and Truto APIs.

    /// Creates an Ada integration ([`ada_spec`]); its id.
    pub fn seed_ada(&self, name: &str, description: &str) -> String {
        let created = self.call(
            Method::POST,
            "/api/v2/platform-integrations/",
            Some(ada_spec(name, description)),
        );
        created["id"].as_str().unwrap().to_owned()
    }

    /// Creates a Truto integration of the token's team; the record answered.
    pub fn seed_truto(&self, spec: Value) -> Value {
        self.call(Method::POST, "/integration", Some(spec))
    }

    /// Stores a Truto integration owned by `owner` (`own`, `truto` or `other`), whatever the
    /// create would refuse (`sharing`); the whole record stored.
    pub fn seed_truto_owned(&self, owner: &str, integration: Value) -> Value {
        self.call(
            Method::POST,
            "/_emulator/truto/integrations",
            Some(json!({ "owner": owner, "integration": integration })),
        )
    }

    /// Sets an Ada integration's `status` (the public API cannot).
    pub fn set_status(&self, id: &str, status: &str) {
        self.call(
            Method::POST,
            &format!("/_emulator/ada/{id}/status"),
            Some(json!({ "status": status })),
        );
    }

    /// Ada's live integrations (one page of up to 100), as the API answers them.
    pub fn ada_live(&self) -> Vec<Value> {
        self.call(
            Method::GET,
            "/api/v2/platform-integrations/?limit=100",
            None,
        )["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Truto's live integrations (one page of up to 100), as the API answers them.
    pub fn truto_live(&self) -> Vec<Value> {
        self.call(Method::GET, "/integration?limit=100", None)["result"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// Every live Ada integration, all pages.
    pub fn all_ada(&self) -> Vec<Value> {
        self.all_pages("/api/v2/platform-integrations/?limit=100", "data", |page| {
            let next = page["meta"]["next_page_url"].as_str()?;
            Some(next.trim_start_matches(&self.base_url).to_owned())
        })
    }

    /// Every live Truto integration, all pages.
    pub fn all_truto(&self) -> Vec<Value> {
        self.all_pages("/integration?limit=100", "result", |page| {
            let cursor = page["next_cursor"].as_str()?;
            Some(format!("/integration?limit=100&next_cursor={cursor}"))
        })
    }

    /// The `items` of every page of a list, from `first` on, `next` giving the path of the
    /// page after each.
    fn all_pages(
        &self,
        first: &str,
        items: &str,
        next: impl Fn(&Value) -> Option<String>,
    ) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = first.to_owned();
        loop {
            let page = self.call(Method::GET, &path, None);
            all.extend(page[items].as_array().unwrap().iter().cloned());
            match next(&page) {
                Some(next) => path = next,
                None => return all,
            }
        }
    }

    // Faults.

    /// Replaces the injected faults (`{"latency_ms": n, "rules": [...]}`).
    pub fn set_faults(&self, faults: Value) {
        self.call(Method::PUT, "/_emulator/faults", Some(faults));
    }

    /// The faults in force, each rule with how many requests it `seen` and `applied` to.
    pub fn faults(&self) -> Value {
        self.call(Method::GET, "/_emulator/faults", None)
    }

    pub fn clear_faults(&self) {
        self.call(Method::DELETE, "/_emulator/faults", None);
    }

    /// Sets the rate limits (`{"ada": ..., "truto": ...}`).
    pub fn set_rate_limit(&self, limits: Value) {
        self.call(Method::PUT, "/_emulator/rate-limit", Some(limits));
    }

    // The request log.

    /// Every API request logged, in the order handled.
    pub fn requests(&self) -> Vec<Value> {
        self.call(Method::GET, "/_emulator/requests", None)
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn clear_requests(&self) {
        self.call(Method::DELETE, "/_emulator/requests", None);
    }

    /// The status of every logged request, in order (`null` for a dropped connection).
    pub fn statuses(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .map(|r| r["status"].clone())
            .collect()
    }

    /// The logged requests of `method`.
    pub fn logged(&self, method: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["method"] == method)
            .collect()
    }

    /// The logged writes: every request but a `GET`.
    pub fn writes(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r["method"] != "GET")
            .collect()
    }

    /// Turns on the logging of request bodies (off by default), for the requests that follow.
    pub fn log_bodies(&self) {
        let set = self.call(Method::PUT, "/_emulator/log", Some(json!({"bodies": true})));
        assert_eq!(set, json!({"bodies": true}));
    }

    /// Every logged write (POST, PATCH, DELETE), in the order handled, with its body. Needs
    /// [`Emulator::log_bodies`] on before the writes were sent.
    pub fn logged_writes(&self) -> Vec<LoggedWrite> {
        self.writes()
            .into_iter()
            .map(|r| LoggedWrite {
                method: r["method"].as_str().unwrap().to_owned(),
                path: r["path"].as_str().unwrap().to_owned(),
                status: r["status"].as_u64(),
                body: serde_json::to_string(
                    r.get("body")
                        .unwrap_or_else(|| panic!("no body logged (is log_bodies on?): {r}")),
                )
                .unwrap(),
            })
            .collect()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
