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
#[path = "common/servers.rs"]
mod servers;

use std::path::Path;
use std::process::Stdio;

use intsync_manifest::Kind;
use servers::{PageServer, TOKEN, cache_pages, timed_run};

const RUNS: usize = 5;
const PAGE_SIZE: usize = 100;
/// One live integration in this many has a different description.
const CHANGE_EVERY: usize = 100;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The helpers this bench runs as processes of their own (`benches/common/pages.rs`).
    if pages::serve_if_asked() {
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
    let cached = cache_pages(binary, &manifests, PAGE_SIZE, CHANGE_EVERY);
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
