//! `intsync plan` for 10,000 manifests against 10,000 live integrations over loopback, against a
//! server that answers from memory (issue #4: under 2 s wall and 300 MB peak on 2 cores, with one
//! request per page; issue #16: the figure is the client's alone).
//!
//! The emulator (its own process, release build, state in memory) is seeded with 10,000 Ada
//! integrations, one in a hundred with a different description, so the plan has 100 updates and
//! 9,900 noops. Every list page is then read from it once, following the cursor exactly as the
//! client does (the provider's own `wire::page` finds the next page), and kept as bytes keyed by
//! request target; the emulator is stopped. Its random ids are then replaced, in the bytes, by
//! ids numbered by name (same length), so every bench run serves, and plans, the same state. The runs are served by a minimal HTTP/1.1 server in
//! this process, on its own thread (a single-threaded tokio runtime): keep-alive, the cached page
//! for a cached target, 404 for anything else, nothing computed per request. So the 2 cores are
//! not shared with a server serialising JSON, and the figure measures the CLI.
//!
//! Each run of the real CLI is timed with `/usr/bin/time` (wall time and peak RSS); the server's
//! request log is checked after each: only GETs, each with the bearer token, exactly
//! ceil(10,000 / 100) of them. The plan each run prints is compared with the first;
//! `target/bench-plan-output.json` keeps it, so a later change can be checked to print a
//! byte-identical plan (`cmp` it with the file a run before the change left).
//!
//! `PLAN_BENCH_BINARY=/path/to/an/older/intsync` times that binary instead (the emulator is
//! still this build's), and keeps its plan in `target/bench-plan-output-other.json`: the
//! before/after figures of `docs/performance.md` and the byte-identity check come from one
//! bench, on the same pages.
//!
//! Run: `cargo bench --bench plan`

#[path = "common/corpus.rs"]
mod corpus;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use intsync_manifest::Kind;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "bench-token";
const RUNS: usize = 5;
const PAGE_SIZE: usize = 100;
/// One live integration in this many has a different description.
const CHANGE_EVERY: usize = 100;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let manifests = corpus::ada_corpus();
    let binary = env!("CARGO_BIN_EXE_intsync");
    let timed = std::env::var("PLAN_BENCH_BINARY").unwrap_or_else(|_| binary.to_owned());
    let output = if timed == binary {
        "target/bench-plan-output.json"
    } else {
        "target/bench-plan-output-other.json"
    };
    let pages = cache_pages(binary, &manifests);
    let pages_per_run = corpus::MANIFESTS.div_ceil(PAGE_SIZE);
    assert_eq!(
        pages.len(),
        pages_per_run,
        "one page per {PAGE_SIZE} live integrations"
    );

    let server = CachedServer::start(pages);
    let base = format!("http://{}", server.addr);
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("intsync.toml"),
        format!("[targets.bench]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"BENCH_TOKEN\"\nrate_limit = \"off\"\npage_size = {PAGE_SIZE}\n"),
    )
    .unwrap();
    let mut walls = Vec::new();
    let mut peak = 0u64;
    let mut first_plan: Option<Vec<u8>> = None;
    for run in 0..RUNS {
        server.take_log();
        let timing = work.path().join("time.txt");
        let plan_path = work.path().join("plan.json");
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%e %M", "-o"])
            .arg(&timing)
            .arg(&timed)
            .args([
                "plan",
                "--target",
                "bench",
                "--format",
                "json",
                "--detailed-exitcode",
            ])
            .arg(&manifests)
            .current_dir(work.path())
            .env("BENCH_TOKEN", TOKEN)
            // A file, not a pipe: the bench reads nothing while the CLI runs.
            .stdout(std::fs::File::create(&plan_path).unwrap())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "changes present");
        let text = std::fs::read_to_string(&timing).unwrap();
        // GNU time writes "Command exited with non-zero status 2" first: the figures are last.
        let mut parts = text.lines().last().unwrap_or_default().split_whitespace();
        walls.push(parts.next().unwrap().parse::<f64>().unwrap());
        peak = peak.max(parts.next().unwrap().parse::<u64>().unwrap());

        let log = server.take_log();
        assert!(
            log.iter().all(|r| r.method == "GET"),
            "plan sends only GETs: {:?}",
            log.iter()
                .filter(|r| r.method != "GET")
                .map(|r| format!("{} {}", r.method, r.target))
                .collect::<Vec<_>>()
        );
        assert!(
            log.iter().all(|r| r.authorized),
            "every request carries `Authorization: Bearer {TOKEN}`"
        );
        assert!(
            log.iter().all(|r| r.found),
            "every request is for a cached page: {:?}",
            log.iter()
                .filter(|r| !r.found)
                .map(|r| &r.target)
                .collect::<Vec<_>>()
        );
        assert_eq!(log.len(), pages_per_run, "one request per page");

        let plan = std::fs::read(&plan_path).unwrap();
        match &first_plan {
            None => {
                std::fs::write(Path::new(env!("CARGO_MANIFEST_DIR")).join(output), &plan).unwrap();
                first_plan = Some(plan);
            }
            Some(first) => assert!(
                *first == plan,
                "run {} printed a plan different from run 1's",
                run + 1
            ),
        }
    }
    drop(server);
    let best_of_3 = walls[..3.min(RUNS)]
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    walls.sort_by(f64::total_cmp);
    println!(
        "{timed}: intsync plan, {} manifests vs {} live ({} changed) over loopback from memory, {RUNS} runs: median {:.2} s wall (fastest {:.2} s, best of first 3 {:.2} s), peak RSS {} MB, {} GET requests per run, plan {} bytes",
        corpus::MANIFESTS,
        corpus::MANIFESTS,
        corpus::MANIFESTS.div_ceil(CHANGE_EVERY),
        walls[RUNS / 2],
        walls[0],
        best_of_3,
        peak / 1024,
        pages_per_run,
        first_plan.map_or(0, |p| p.len()),
    );
}

/// Seeds an emulator with the corpus (one in a hundred with a changed description), reads every
/// list page once as the client will ask for it, stops the emulator, and returns the pages'
/// bodies keyed by request target (path and query).
fn cache_pages(binary: &str, manifests: &Path) -> HashMap<String, Vec<u8>> {
    let mut emulator = KillOnDrop(
        Command::new(binary)
            .args(["emulator", "--listen", "127.0.0.1:0", "--token", TOKEN])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut base = String::new();
    BufReader::new(emulator.0.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    let base = base.trim().to_owned();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let http = reqwest::Client::new();
    let loaded = intsync_manifest::load(std::slice::from_ref(&manifests.to_path_buf()));
    assert!(!loaded.has_errors());
    let pages = runtime.block_on(async {
        let bodies: Vec<Value> = loaded
            .manifests
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut spec = Value::Object(m.spec.to_map());
                if i % CHANGE_EVERY == 0 {
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
            "{}?limit={PAGE_SIZE}",
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
            let (_, next) = intsync_provider::wire::page(kind, body, PAGE_SIZE).unwrap();
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
    drop(http);
    drop(runtime);
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

/// One request the cached server answered.
struct Logged {
    method: String,
    target: String,
    /// `Authorization: Bearer bench-token` was sent.
    authorized: bool,
    /// The target was a cached page (answered 200, not 404).
    found: bool,
}

/// A minimal HTTP/1.1 server answering cached pages from memory, on its own thread with a
/// single-threaded tokio runtime. Stopped (and its thread joined) on drop.
struct CachedServer {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Logged>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CachedServer {
    fn start(pages: HashMap<String, Vec<u8>>) -> CachedServer {
        // Whole answers, head and body, built once: a request costs a lookup and a write.
        let answers: HashMap<String, Vec<u8>> = pages
            .into_iter()
            .map(|(target, body)| (target, answer("200 OK", &body)))
            .collect();
        let answers = Arc::new(answers);
        let log = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, bound) = std::sync::mpsc::channel();
        let thread = {
            let log = Arc::clone(&log);
            std::thread::Builder::new()
                .name("cached-server".into())
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_io()
                        .build()
                        .unwrap();
                    runtime.block_on(async move {
                        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                        ready.send(listener.local_addr().unwrap()).unwrap();
                        tokio::pin!(stopped);
                        loop {
                            tokio::select! {
                                _ = &mut stopped => break,
                                accepted = listener.accept() => {
                                    let Ok((stream, _)) = accepted else { continue };
                                    tokio::spawn(serve(stream, Arc::clone(&answers), Arc::clone(&log)));
                                }
                            }
                        }
                    });
                })
                .unwrap()
        };
        CachedServer {
            addr: bound.recv().unwrap(),
            log,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// The requests answered since the last call.
    fn take_log(&self) -> Vec<Logged> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for CachedServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A complete answer: status line, `Content-Type`, `Content-Length`, body.
fn answer(status: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// Requests on one connection, in order, until the client closes it (or asks to).
async fn serve(
    mut stream: tokio::net::TcpStream,
    answers: Arc<HashMap<String, Vec<u8>>>,
    log: Arc<Mutex<Vec<Logged>>>,
) {
    const MAX_HEAD: usize = 64 * 1024;
    let not_found = answer(
        "404 Not Found",
        br#"{"errors":[{"message":"not a cached page"}]}"#,
    );
    let bad_request = answer(
        "400 Bad Request",
        br#"{"errors":[{"message":"unreadable request"}]}"#,
    );
    let _ = stream.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut scanned = 0;
    loop {
        // The head: everything up to the first blank line.
        let head_end = loop {
            if let Some(at) = buf[scanned..].windows(4).position(|w| w == b"\r\n\r\n") {
                break scanned + at + 4;
            }
            scanned = buf.len().saturating_sub(3);
            if buf.len() > MAX_HEAD {
                let _ = stream.write_all(&bad_request).await;
                return;
            }
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        };
        let Ok(head) = std::str::from_utf8(&buf[..head_end]) else {
            let _ = stream.write_all(&bad_request).await;
            return;
        };
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let (Some(method), Some(target), Some(version)) = (
            request_line.next(),
            request_line.next(),
            request_line.next(),
        ) else {
            let _ = stream.write_all(&bad_request).await;
            return;
        };
        let mut authorized = false;
        let mut body_len = 0usize;
        let mut close = version != "HTTP/1.1";
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("authorization") {
                authorized = value == format!("Bearer {TOKEN}");
            } else if name.eq_ignore_ascii_case("content-length") {
                body_len = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let reply = answers.get(target);
        log.lock().unwrap().push(Logged {
            method: method.to_owned(),
            target: target.to_owned(),
            authorized,
            found: reply.is_some(),
        });
        let reply = match reply {
            Some(reply) if method == "GET" => reply,
            _ => &not_found,
        };
        if stream.write_all(reply).await.is_err() {
            return;
        }
        if close {
            let _ = stream.shutdown().await;
            return;
        }
        // The body (GETs have none) is skipped, not read; what follows is the next request.
        let mut discard = head_end + body_len;
        while buf.len() < discard {
            discard -= buf.len();
            buf.clear();
            match stream.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
        buf.drain(..discard);
        scanned = 0;
    }
}

/// Stops the emulator however the benchmark ends.
struct KillOnDrop(std::process::Child);

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
