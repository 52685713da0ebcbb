//! The servers the benches run in processes of their own (issue #24): the emulator seeded with
//! Ada manifests, and the page server of `pages.rs` with the pages it served, cached; and
//! [`timed_run`], the wall time and peak RSS of one command.

#![allow(dead_code)] // reason: each bench uses part of it

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use intsync_manifest::Kind;
use serde_json::Value;

/// The token every bench server expects.
pub const TOKEN: &str = "bench-token";

/// Runs `program` with what `args` adds (arguments, environment) in `dir` under
/// `/usr/bin/time`, its stdout to `stdout`, checks its exit code, and returns its wall time (s)
/// and peak RSS (KB).
pub fn timed_run(
    dir: &Path,
    program: &Path,
    args: impl FnOnce(&mut Command),
    stdout: Stdio,
    code: i32,
) -> (f64, u64) {
    let timing = dir.join("time.txt");
    let mut command = Command::new("/usr/bin/time");
    command
        .args(["-f", "%e %M", "-o"])
        .arg(&timing)
        .arg(program)
        .current_dir(dir)
        .stdout(stdout)
        .stderr(Stdio::null());
    args(&mut command);
    let status = command.status().unwrap();
    assert_eq!(status.code(), Some(code), "{command:?}");
    let text = std::fs::read_to_string(&timing).unwrap();
    // GNU time writes "Command exited with non-zero status 2" first: the figures are last.
    let mut parts = text.lines().last().unwrap_or_default().split_whitespace();
    (
        parts.next().unwrap().parse::<f64>().unwrap(),
        parts.next().unwrap().parse::<u64>().unwrap(),
    )
}

/// The page server (`--serve-pages`), a process of its own; stopped on drop.
pub struct PageServer {
    pub base: String,
    child: KillOnDrop,
}

/// Starts `command`, a server that prints its base URL as its first line, and reads that line.
fn announcing(command: &mut Command) -> (KillOnDrop, String) {
    let mut child = KillOnDrop(command.stdout(Stdio::piped()).spawn().unwrap());
    let mut base = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    (child, base.trim().to_owned())
}

impl PageServer {
    pub fn start(dir: &Path, token: &str, latency_ms: u64) -> PageServer {
        let (child, base) = announcing(
            Command::new(std::env::current_exe().unwrap())
                .arg("--serve-pages")
                .arg(dir)
                .arg(token)
                .arg(latency_ms.to_string())
                .stdin(Stdio::piped())
                .stderr(Stdio::inherit()),
        );
        PageServer { base, child }
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        // Closing its stdin ends it; the kill of `KillOnDrop` is the fallback.
        drop(self.child.0.stdin.take());
        let _ = self.child.0.wait();
    }
}

/// `intsync emulator` (the release `binary`) on a free loopback port, taking `token`, in a
/// process of its own (stopped on drop), with a client and runtime to call it.
pub struct Emulator {
    pub base: String,
    pub token: String,
    pub http: reqwest::Client,
    pub runtime: tokio::runtime::Runtime,
    _child: KillOnDrop,
}

impl Emulator {
    pub fn start(binary: &str, token: &str) -> Emulator {
        let (child, base) = announcing(
            Command::new(binary)
                .args(["emulator", "--listen", "127.0.0.1:0", "--token", token])
                .stderr(Stdio::null()),
        );
        Emulator {
            base,
            token: token.to_owned(),
            http: reqwest::Client::new(),
            runtime: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap(),
            _child: child,
        }
    }

    /// Calls the API or a control with the token: the answer, which must be a success, as JSON.
    pub fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.runtime.block_on(async {
            let mut request = self
                .http
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(&self.token);
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
}

/// Seeds an emulator with the Ada manifests under `manifests` (one in `change_every` with a
/// changed description), reads every list page of `page_size` once as the client will ask for
/// it, stops the emulator, and returns the pages' bodies keyed by request target (path and
/// query).
pub fn cache_pages(
    binary: &str,
    manifests: &Path,
    page_size: usize,
    change_every: usize,
) -> HashMap<String, Vec<u8>> {
    let emulator = Emulator::start(binary, TOKEN);
    let (base, http) = (&emulator.base, &emulator.http);
    let loaded = intsync_manifest::load(std::slice::from_ref(&manifests.to_path_buf()));
    assert!(!loaded.has_errors());
    let pages = emulator.runtime.block_on(async {
        let bodies: Vec<Value> = loaded
            .manifests
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut spec = Value::Object(m.spec.to_map());
                if i % change_every == 0 {
                    spec["description"] = Value::String("changed live".into());
                }
                spec
            })
            .collect();
        for chunk in bodies.chunks(500) {
            let sends = chunk.iter().map(|body| {
                http.post(format!("{base}/api/v2/platform-integrations/"))
                    .bearer_auth(TOKEN)
                    .json(body)
                    .send()
            });
            for response in futures_join(sends).await {
                assert_eq!(response.unwrap().status().as_u16(), 200);
            }
        }

        // The targets the client asks for: its first page (`Provider::listing`), then each
        // `next_page_url` as the provider's own `wire::page` reads it (path and query, host
        // dropped), so the cached keys are byte for byte the client's request targets.
        let kind = Kind::AdaPlatformIntegration;
        let mut pages = HashMap::new();
        let mut path = format!(
            "{}?limit={page_size}",
            intsync_provider::wire::collection_path(kind)
        );
        loop {
            let response = http
                .get(format!("{base}{path}"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200, "GET {path}");
            let bytes = response.bytes().await.unwrap().to_vec();
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            let (_, next) = intsync_provider::wire::page(kind, body, page_size).unwrap();
            assert!(
                pages.insert(path.clone(), bytes).is_none(),
                "pagination loop at {path}"
            );
            match next {
                Some(next) => path = next,
                None => break pages,
            }
        }
    });
    drop(emulator);
    deterministic_ids(pages)
}

/// The pages with the emulator's random ids replaced by ids that are the same in every bench
/// run: the n-th integration by name gets n as 24 hex digits (Ada's id format, same length, so
/// the JSON and the cursors stay as the emulator wrote them otherwise). The plan prints ids and
/// fingerprints of them: without this, no two bench runs could print the same plan.
fn deterministic_ids(pages: HashMap<String, Vec<u8>>) -> HashMap<String, Vec<u8>> {
    let mut named: Vec<(String, String)> = pages
        .values()
        .flat_map(|bytes| {
            let page: Value = serde_json::from_slice(bytes).unwrap();
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_owned(),
                        r["id"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    named.sort();
    let renamed: HashMap<Vec<u8>, Vec<u8>> = named
        .into_iter()
        .enumerate()
        .map(|(n, (_, id))| {
            assert_eq!(id.len(), 24, "an Ada id is 24 hex digits: {id}");
            (id.into_bytes(), format!("{:024x}", n + 1).into_bytes())
        })
        .collect();
    // One pass per text: each run of exactly 24 hex digits that is a known id is replaced.
    let rewrite = |mut text: Vec<u8>| {
        let mut i = 0;
        while i < text.len() {
            if !text[i].is_ascii_hexdigit() {
                i += 1;
                continue;
            }
            let end = text[i..]
                .iter()
                .position(|b| !b.is_ascii_hexdigit())
                .map_or(text.len(), |n| i + n);
            if let Some(new) = renamed.get(&text[i..end]) {
                text[i..end].copy_from_slice(new);
            }
            i = end;
        }
        text
    };
    let pages: HashMap<String, Vec<u8>> = pages
        .into_iter()
        .map(|(target, body)| {
            (
                String::from_utf8(rewrite(target.into_bytes())).unwrap(),
                rewrite(body),
            )
        })
        .collect();
    let ids: std::collections::HashSet<Vec<u8>> = pages
        .values()
        .flat_map(|b| {
            let page: Value = serde_json::from_slice(b).unwrap();
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().as_bytes().to_vec())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(
        ids.len() == renamed.len() && renamed.values().all(|new| ids.contains(new)),
        "every id renamed, the JSON intact"
    );
    pages
}

/// Stops a child process however the benchmark ends.
pub struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Awaits all futures concurrently (no extra dependency for `join_all`).
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
