//! A test environment: the emulator on 127.0.0.1:0 in this process, a working directory with an
//! `intsync.toml` pointing at it (targets `ada` and `truto`), and the real binary.

#![allow(dead_code)] // reason: each test file uses part of it

pub mod tiny;

use assert_cmd::Command;
use intsync_emulator::server::RunningServer;
use intsync_emulator::{Emulator, Store};
use serde_json::{Value, json};

pub const TOKEN: &str = "plan-test-token-4b1d";

pub struct Env {
    pub dir: tempfile::TempDir,
    pub server: RunningServer,
    pub runtime: tokio::runtime::Runtime,
    pub http: reqwest::Client,
}

/// Writes `dir/intsync.toml`: targets `ada` (the default) and `truto` at `base`, tokens from
/// `TEST_ADA_TOKEN` / `TEST_TRUTO_TOKEN`, no client-side rate limit, and `settings` (TOML lines,
/// e.g. a `retry` table) on both.
pub fn write_config(dir: &std::path::Path, base: &str, page_size: usize, settings: &str) {
    std::fs::write(
        dir.join("intsync.toml"),
        format!(
            "default_target = \"ada\"\n\
             [targets.ada]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"TEST_ADA_TOKEN\"\npage_size = {page_size}\nrate_limit = \"off\"\n{settings}\n\
             [targets.truto]\nprovider = \"truto\"\nbase_url = \"{base}\"\ntoken_env = \"TEST_TRUTO_TOKEN\"\npage_size = {page_size}\nrate_limit = \"off\"\n{settings}\n"
        ),
    )
    .unwrap();
}

impl Env {
    pub fn new(page_size: usize) -> Env {
        let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime
            .block_on(RunningServer::start(
                Emulator::new(Store::in_memory(), TOKEN),
                "127.0.0.1:0".parse().unwrap(),
            ))
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        write_config(
            dir.path(),
            &server.base_url(),
            page_size,
            "retry = { attempts = 6, base_delay_ms = 10, max_delay_ms = 100 }",
        );
        std::fs::create_dir(dir.path().join("manifests")).unwrap();
        Env {
            dir,
            server,
            runtime,
            http: reqwest::Client::new(),
        }
    }

    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.server.base_url()))
                .bearer_auth(TOKEN);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.json().await.unwrap()
        })
    }

    pub fn seed_ada(&self, name: &str, description: &str) -> String {
        let body = ada_spec(name, description);
        self.call(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(body),
        )["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn manifest(&self, file: &str, text: &str) {
        std::fs::write(self.dir.path().join("manifests").join(file), text).unwrap();
    }

    pub fn requests(&self) -> Vec<Value> {
        self.call(reqwest::Method::GET, "/_emulator/requests", None)
            .as_array()
            .unwrap()
            .clone()
    }

    /// Ada's live integrations (one page of up to 100), as the API answers them.
    pub fn ada_live(&self) -> Vec<Value> {
        self.call(
            reqwest::Method::GET,
            "/api/v2/platform-integrations/?limit=100",
            None,
        )["data"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn clear_requests(&self) {
        self.call(reqwest::Method::DELETE, "/_emulator/requests", None);
    }

    /// The real binary, started in the background in the test directory (both tokens set, no
    /// colour, no `RUST_LOG`, no standard input), and its stdout and stderr a line at a time.
    pub fn spawn(
        &self,
        args: &[&str],
    ) -> (
        std::process::Child,
        std::sync::mpsc::Receiver<String>,
        std::sync::mpsc::Receiver<String>,
    ) {
        use std::process::Stdio;
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("intsync"))
            .args(args)
            .current_dir(self.dir.path())
            .env("TEST_ADA_TOKEN", TOKEN)
            .env("TEST_TRUTO_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        (child, stdout, stderr)
    }

    /// Runs the binary in the test directory to its end, without colour: its exit code, stdout
    /// and stderr.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self
            .intsync()
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn intsync(&self) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("intsync"));
        cmd.current_dir(self.dir.path())
            .env("TEST_ADA_TOKEN", TOKEN)
            .env("TEST_TRUTO_TOKEN", TOKEN)
            .env_remove("RUST_LOG")
            .env_remove("NO_COLOR");
        cmd
    }
}

pub fn ada_spec(name: &str, description: &str) -> Value {
    json!({
        "name": name, "description": description, "author": "Cool Shop", "contact": "help@coolshop.support",
        "identifier_field_path": "account.name",
        "uninstallation_url": "https://coolshop.example.com/uninstall",
        "oauth_callback_url": "https://coolshop.example.com/oauth/callback",
        "tags": ["knowledge"], "scopes": ["articles:read", "knowledge_sources:write"],
        "configuration_fields": {"type": "object", "required": ["account"], "properties": {"account": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}
    })
}

pub fn ada_manifest(name: &str, description: &str) -> String {
    let spec = ada_spec(name, description);
    format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {spec}\n")
}

pub fn truto_manifest(name: &str, category: &str) -> String {
    format!(
        "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec:\n  name: {name}\n  category: {category}\n  config: {{base_url: \"https://api.example.com\", timeout: 30}}\n"
    )
}

/// A child process's output stream, a line at a time, as it is read (on a thread of its own).
pub fn lines(stream: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The spec `truto_manifest(name, category)` writes, as JSON (to seed or compare live state).
pub fn truto_spec(name: &str, category: &str) -> Value {
    json!({"name": name, "category": category, "config": {"base_url": "https://api.example.com", "timeout": 30}})
}

impl Env {
    /// Truto's live integrations (one page of up to 100), as the API answers them.
    pub fn truto_live(&self) -> Vec<Value> {
        self.call(reqwest::Method::GET, "/integration?limit=100", None)["result"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// A write (any request but a `GET`) as the emulator logged it, with its body serialized in the
/// key order the client sent (see [`Env::log_bodies`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LoggedWrite {
    pub method: String,
    pub path: String,
    pub status: Option<u64>,
    /// `serde_json::to_string` of the logged body: compare it with the exact body expected.
    pub body: String,
}

impl Env {
    /// Turns on the emulator's logging of request bodies (off by default), for the requests
    /// that follow.
    pub fn log_bodies(&self) {
        let set = self.call(
            reqwest::Method::PUT,
            "/_emulator/log",
            Some(json!({"bodies": true})),
        );
        assert_eq!(set, json!({"bodies": true}));
    }

    /// Every logged write (POST, PATCH, DELETE), in the order handled, with its body. Needs
    /// [`Env::log_bodies`] on before the writes were sent.
    pub fn logged_writes(&self) -> Vec<LoggedWrite> {
        self.requests()
            .into_iter()
            .filter(|r| r["method"] != "GET")
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

/// Polls `check` until it gives a value, at most `timeout`; panics naming `what` when it never
/// does. A wait on a condition, for where a test would otherwise sleep and hope.
pub fn wait_until<T>(
    what: &str,
    timeout: std::time::Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gave up after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}
