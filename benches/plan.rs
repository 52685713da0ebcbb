//! `intsync plan` for 10,000 manifests against 10,000 live integrations over loopback, against a
//! server in another process that answers from memory (issue #4: under 2 s wall and 300 MB peak
//! on 2 cores, with one request per page; issue #16: the figure is the client's alone; issue
//! #24: within 1.2× the limit measured in the same run).
//!
//! The emulator (its own process, release build, state in memory) is seeded with 10,000 Ada
//! integrations, one in a hundred with a different description, so the plan has 100 updates and
//! 9,900 noops. Every list page is then read from it once, following the cursor exactly as the
//! client does (the provider's own `wire::page` finds the next page), and kept as bytes keyed by
//! request target; the emulator is stopped. Its random ids are then replaced, in the bytes, by
//! ids numbered by name (same length), so every bench run serves, and plans, the same state.
//! The pages are written to `target/bench-pages/` and served by this bench's own executable
//! started as `--serve-pages` (`benches/common/pages.rs`): another process, blocking std
//! code, keep-alive, the cached answer for a cached target, 404 for anything else, nothing
//! computed per request.
//!
//! Each round times, with `/usr/bin/time` (wall time and peak RSS), three processes in turn:
//! the plainest client of the same pages (this executable as `--fetch-pages`: one connection,
//! each next request sent as soon as the cursor is found in the bytes), `intsync validate` of
//! the same manifests, and `intsync plan`. The limit is the larger of the first two; the
//! figure is plan's best of the first 3 rounds against the limit's, from the same run. The
//! page server's request log is checked after each plan: only GETs, each with the bearer token,
//! exactly ceil(10,000 / 100) of them. The plan each run prints is compared with the first;
//! `target/bench-plan-output.json` keeps it, so a later change can be checked to print a
//! byte-identical plan (`cmp` it with the file a run before the change left).
//!
//! `PLAN_BENCH_BINARY=/path/to/an/older/intsync` times that binary instead (for `validate`
//! and `plan`; the emulator is still this build's), and keeps its plan in
//! `target/bench-plan-output-other.json`: the before/after figures of `docs/performance.md`
//! and the byte-identity check come from one bench, on the same pages.
//!
//! Run: `cargo bench --bench plan`

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/pages.rs"]
mod pages;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use intsync_manifest::Kind;
use serde_json::Value;

const TOKEN: &str = "bench-token";
const RUNS: usize = 5;
const PAGE_SIZE: usize = 100;
/// One live integration in this many has a different description.
const CHANGE_EVERY: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The helpers this bench runs as processes of their own (`benches/common/pages.rs`).
    if let Some(at) = args.iter().position(|a| a == "--serve-pages") {
        let latency = args.get(at + 3).map_or(0, |ms| ms.parse().unwrap());
        pages::serve(
            Path::new(&args[at + 1]),
            &args[at + 2],
            Duration::from_millis(latency),
        );
        return;
    }
    if let Some(at) = args.iter().position(|a| a == "--fetch-pages") {
        pages::fetch(&args[at + 1], &args[at + 2], &args[at + 3]);
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let manifests = corpus::ada_corpus();
    let binary = env!("CARGO_BIN_EXE_intsync");
    let timed = std::env::var("PLAN_BENCH_BINARY").unwrap_or_else(|_| binary.to_owned());
    let output = if timed == binary {
        "target/bench-plan-output.json"
    } else {
        "target/bench-plan-output-other.json"
    };
    let cached = cache_pages(binary, &manifests);
    let pages_per_run = corpus::MANIFESTS.div_ceil(PAGE_SIZE);
    assert_eq!(
        cached.len(),
        pages_per_run,
        "one page per {PAGE_SIZE} live integrations"
    );
    let page_bytes: usize = cached.values().map(Vec::len).sum();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-pages");
    pages::write(&dir, &cached);
    drop(cached);

    let server = PageServer::start(&dir, TOKEN, 0);
    let base = server.base.clone();
    let first = format!(
        "{}?limit={PAGE_SIZE}",
        intsync_provider::wire::collection_path(Kind::AdaPlatformIntegration)
    );
    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("intsync.toml"),
        format!("[targets.bench]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"BENCH_TOKEN\"\nrate_limit = \"off\"\npage_size = {PAGE_SIZE}\n"),
    )
    .unwrap();
    let this = std::env::current_exe().unwrap();
    let mut fetches = Vec::new();
    let mut validates = Vec::new();
    let mut walls = Vec::new();
    let mut peak = 0u64;
    let mut first_plan: Option<Vec<u8>> = None;
    for run in 0..RUNS {
        // The limit, measured in the same round: the plainest client of the same pages...
        let _ = pages::take_log(&base);
        let fetch = timed_run(
            work.path(),
            &this,
            |c| {
                c.args(["--fetch-pages", &base, &first, TOKEN]);
            },
            Stdio::null(),
            0,
        );
        fetches.push(fetch.0);
        assert_eq!(
            pages::take_log(&base).len(),
            pages_per_run,
            "the plain client reads every page once"
        );
        // ... and `validate` of the same manifests.
        let validate = timed_run(
            work.path(),
            Path::new(&timed),
            |c| {
                c.args(["validate", "--format", "json"]).arg(&manifests);
            },
            Stdio::null(),
            0,
        );
        validates.push(validate.0);

        let plan_path = work.path().join("plan.json");
        let (wall, rss) = timed_run(
            work.path(),
            Path::new(&timed),
            |c| {
                c.args([
                    "plan",
                    "--target",
                    "bench",
                    "--format",
                    "json",
                    "--detailed-exitcode",
                ])
                .arg(&manifests)
                .env("BENCH_TOKEN", TOKEN);
            },
            // A file, not a pipe: the bench reads nothing while the CLI runs.
            std::fs::File::create(&plan_path).unwrap().into(),
            2,
        );
        walls.push(wall);
        peak = peak.max(rss);

        let log = pages::take_log(&base);
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
    let best = |times: &[f64]| {
        times[..3.min(RUNS)]
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    };
    let median = |times: &[f64]| {
        let mut sorted = times.to_vec();
        sorted.sort_by(f64::total_cmp);
        sorted[RUNS / 2]
    };
    let limit = best(&fetches).max(best(&validates));
    println!(
        "pages: {pages_per_run} pages, {page_bytes} bytes, served by another process; each figure best of the first 3 rounds (median of {RUNS})"
    );
    println!(
        "plain client, following the cursor: {:.3} s ({:.3} s)",
        best(&fetches),
        median(&fetches)
    );
    println!(
        "intsync validate, the same manifests: {:.3} s ({:.3} s)",
        best(&validates),
        median(&validates)
    );
    println!(
        "{timed}: intsync plan, {} manifests vs {} live ({} changed): {:.3} s ({:.3} s), peak RSS {} MB, {} GET requests per run, plan {} bytes",
        corpus::MANIFESTS,
        corpus::MANIFESTS,
        corpus::MANIFESTS.div_ceil(CHANGE_EVERY),
        best(&walls),
        median(&walls),
        peak / 1024,
        pages_per_run,
        first_plan.map_or(0, |p| p.len()),
    );
    println!(
        "plan / max(plain client, validate) = {:.3} / {:.3} = {:.2}x (target: 1.2x)",
        best(&walls),
        limit,
        best(&walls) / limit
    );
}

/// Runs `program` with what `args` adds (arguments, environment) in `dir` under
/// `/usr/bin/time`, its stdout to `stdout`, checks its exit code, and returns its wall time (s)
/// and peak RSS (KB).
fn timed_run(
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
struct PageServer {
    base: String,
    child: KillOnDrop,
}

impl PageServer {
    fn start(dir: &Path, token: &str, latency_ms: u64) -> PageServer {
        let mut child = KillOnDrop(
            Command::new(std::env::current_exe().unwrap())
                .arg("--serve-pages")
                .arg(dir)
                .arg(token)
                .arg(latency_ms.to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap(),
        );
        let mut base = String::new();
        BufReader::new(child.0.stdout.take().unwrap())
            .read_line(&mut base)
            .unwrap();
        PageServer {
            base: base.trim().to_owned(),
            child,
        }
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        // Closing its stdin ends it; the kill of `KillOnDrop` is the fallback.
        drop(self.child.0.stdin.take());
        let _ = self.child.0.wait();
    }
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
