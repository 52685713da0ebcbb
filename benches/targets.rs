//! Many targets in one run (issue #24), against servers in other processes:
//!
//! 1. `plan` of 4 targets × 2,500 integrations, each target its own page server (its own token)
//!    answering every page 20 ms after it was asked, against the slowest of the four single
//!    target plans of the same manifests, measured in the same run (target: within 1.2×).
//! 2. `apply --all-targets` of 2 × 500 updates, two emulators (two tokens) each refusing more
//!    than 10 requests in any second with a 429: writes per second together (target: ≥ 19), and
//!    no 429.
//! 3. `apply --all-targets` of 2 × 100 updates on two targets that share one token (one
//!    emulator, 10 requests per second): requests per second together (target: ≤ 10), no 429.
//!
//! Each figure is the best of 3 rounds. The page servers are this executable started as
//! `--serve-pages` (`benches/common/pages.rs`), the emulators `intsync emulator`.
//!
//! Run: `cargo bench --bench targets`

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/pages.rs"]
mod pages;
#[path = "common/servers.rs"]
mod servers;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use servers::{Emulator, PageServer, cache_pages, timed_run};

const ROUNDS: usize = 3;
const PAGE_SIZE: usize = 100;
const PER_TARGET: usize = 2_500;
const TARGETS: usize = 4;
const LATENCY_MS: u64 = 20;
const UPDATES: usize = 500;
const SHARED_UPDATES: usize = 100;

fn main() {
    if pages::serve_if_asked() {
        return;
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let binary = env!("CARGO_BIN_EXE_intsync");
    plan_of_four_targets(binary);
    apply_on_two_tokens(binary);
    apply_on_one_shared_token(binary);
}

fn best(times: &[f64]) -> f64 {
    times.iter().copied().fold(f64::INFINITY, f64::min)
}

/// Part 1: `plan --target t0,t1,t2,t3` against `plan --target tN` alone.
fn plan_of_four_targets(binary: &str) {
    let manifests = corpus::ada_corpus_of(PER_TARGET);
    let cached = cache_pages(binary, &manifests, PAGE_SIZE, 100);
    let pages_per_target = PER_TARGET.div_ceil(PAGE_SIZE);
    assert_eq!(cached.len(), pages_per_target);
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-pages-{PER_TARGET}"));
    pages::write(&dir, &cached);
    drop(cached);

    // Every target its own server and token: four accounts holding the same integrations.
    let tokens: Vec<String> = (0..TARGETS).map(|n| format!("bench-token-{n}")).collect();
    let servers: Vec<PageServer> = tokens
        .iter()
        .map(|token| PageServer::start(&dir, token, LATENCY_MS))
        .collect();
    let work = tempfile::tempdir().unwrap();
    let mut config = String::new();
    for (n, server) in servers.iter().enumerate() {
        config.push_str(&format!(
            "[targets.t{n}]\nprovider = \"ada\"\nbase_url = \"{}\"\ntoken_env = \"BENCH_TOKEN_{n}\"\nrate_limit = \"off\"\npage_size = {PAGE_SIZE}\n\n",
            server.base
        ));
    }
    std::fs::write(work.path().join("intsync.toml"), config).unwrap();
    let plan = |targets: &str| {
        let out = work.path().join("plan.json");
        let (wall, _) = timed_run(
            work.path(),
            Path::new(binary),
            |c| {
                c.args(["plan", "--target", targets, "--format", "json"])
                    .arg("--detailed-exitcode")
                    .arg(&manifests);
                for (n, token) in tokens.iter().enumerate() {
                    c.env(format!("BENCH_TOKEN_{n}"), token);
                }
            },
            std::fs::File::create(&out).unwrap().into(),
            2,
        );
        let text = std::fs::read_to_string(&out).unwrap();
        (wall, serde_json::from_str::<Value>(&text).unwrap())
    };
    let check_logs = |targets: &[usize]| {
        for (n, server) in servers.iter().enumerate() {
            let log = pages::take_log(&server.base);
            let expected = if targets.contains(&n) {
                pages_per_target
            } else {
                0
            };
            assert_eq!(log.len(), expected, "target t{n}: one GET per page");
            assert!(
                log.iter()
                    .all(|r| r.method == "GET" && r.authorized && r.found)
            );
        }
    };
    let all = (0..TARGETS)
        .map(|n| format!("t{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut singles = vec![Vec::new(); TARGETS];
    let mut together = Vec::new();
    for _ in 0..ROUNDS {
        for (n, single) in singles.iter_mut().enumerate() {
            let (wall, plan) = plan(&format!("t{n}"));
            assert_eq!(plan["actions"].as_array().unwrap().len(), PER_TARGET);
            check_logs(&[n]);
            single.push(wall);
        }
        let (wall, plans) = plan(&all);
        assert_eq!(plans["kind"], "intsync-plans");
        let plans = plans["plans"].as_array().unwrap();
        assert_eq!(plans.len(), TARGETS);
        for plan in plans {
            assert_eq!(plan["actions"].as_array().unwrap().len(), PER_TARGET);
        }
        check_logs(&(0..TARGETS).collect::<Vec<_>>());
        together.push(wall);
    }
    drop(servers);
    let slowest = singles.iter().map(|s| best(s)).fold(0.0, f64::max);
    println!(
        "plan of {TARGETS} targets × {PER_TARGET} integrations, pages answered after {LATENCY_MS} ms, best of {ROUNDS}:"
    );
    for (n, single) in singles.iter().enumerate() {
        println!("  plan --target t{n}: {:.3} s", best(single));
    }
    println!("  plan --target {all}: {:.3} s", best(&together));
    println!(
        "  together / slowest single = {:.3} / {slowest:.3} = {:.2}x (target: 1.2x)",
        best(&together),
        best(&together) / slowest
    );
}

/// What these benches do to an emulator.
impl Emulator {
    /// Lets through at most `per_second` requests in any second (`None`: no limit).
    fn limit(&self, per_second: Option<u32>) {
        let ada = match per_second {
            Some(limit) => json!([{ "window_ms": 1000, "limit": limit }]),
            None => json!("off"),
        };
        self.call(
            reqwest::Method::PUT,
            "/_emulator/rate-limit",
            Some(json!({ "ada": ada })),
        );
    }

    /// Creates one integration per manifest under `manifests`, with a stale description.
    fn seed(&self, manifests: &Path) -> Vec<String> {
        let loaded = intsync_manifest::load(&[manifests.to_path_buf()]);
        assert!(!loaded.has_errors());
        loaded
            .manifests
            .iter()
            .map(|m| {
                let mut spec = Value::Object(m.spec.to_map());
                spec["description"] = json!("stale");
                let created = self.call(
                    reqwest::Method::POST,
                    "/api/v2/platform-integrations/",
                    Some(spec),
                );
                created["id"].as_str().unwrap().to_owned()
            })
            .collect()
    }

    /// Makes every integration of `ids` stale again, with no limit on, then turns the limit
    /// back on and waits for its window to empty; clears the request log.
    fn restale(&self, ids: &[String], per_second: u32) {
        self.limit(None);
        for id in ids {
            self.call(
                reqwest::Method::PATCH,
                &format!("/api/v2/platform-integrations/{id}"),
                Some(json!({ "description": "stale" })),
            );
        }
        self.limit(Some(per_second));
        std::thread::sleep(Duration::from_millis(1_100));
        self.call(reqwest::Method::DELETE, "/_emulator/requests", None);
    }

    /// The requests logged since the last restale: (all, PATCHes answered 200, 429s).
    fn counts(&self) -> (usize, usize, usize) {
        let log = self.call(reqwest::Method::GET, "/_emulator/requests", None);
        let log = log.as_array().unwrap();
        let writes = log
            .iter()
            .filter(|r| r["method"] == "PATCH" && r["status"] == 200)
            .count();
        let limited = log.iter().filter(|r| r["status"] == 429).count();
        (log.len(), writes, limited)
    }
}

/// Writes `n` manifests into `dir/manifests`, each given to `targets` when set.
fn manifests(dir: &Path, n: usize, offset: usize, targets: Option<&str>) {
    let manifests = dir.join("manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    for i in offset..offset + n {
        let mut text = corpus::ada_manifest(i);
        if let Some(targets) = targets {
            text = text.replacen(
                "kind: AdaPlatformIntegration\n",
                &format!("kind: AdaPlatformIntegration\nmetadata:\n  targets: [{targets}]\n"),
                1,
            );
        }
        std::fs::write(manifests.join(format!("m{i:04}.yaml")), text).unwrap();
    }
}

fn target(name: &str, base: &str, token_env: &str) -> String {
    format!(
        "[targets.{name}]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"{token_env}\"\nrate_limit = {{ per_second = 10, per_minute = 600 }}\npage_size = {PAGE_SIZE}\n\n"
    )
}

/// Runs `apply --all-targets --auto-approve` in `dir`; its wall time.
fn apply_all(binary: &str, dir: &Path, tokens: &[(&str, &str)]) -> f64 {
    let started = Instant::now();
    let mut command = Command::new(binary);
    command
        .args([
            "apply",
            "--all-targets",
            "--auto-approve",
            "--parallelism",
            "8",
        ])
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in tokens {
        command.env(name, value);
    }
    let status = command.status().unwrap();
    let wall = started.elapsed().as_secs_f64();
    assert!(status.success(), "apply --all-targets: {status}");
    wall
}

/// Part 2: 2 × 500 updates, each target its own token limited to 10 requests per second.
fn apply_on_two_tokens(binary: &str) {
    let a = Emulator::start(binary, "bench-token-a");
    let b = Emulator::start(binary, "bench-token-b");
    let work = tempfile::tempdir().unwrap();
    manifests(work.path(), UPDATES, 0, None);
    let seeded_a = a.seed(&work.path().join("manifests"));
    let seeded_b = b.seed(&work.path().join("manifests"));
    std::fs::write(
        work.path().join("intsync.toml"),
        target("a", &a.base, "TOKEN_A") + &target("b", &b.base, "TOKEN_B"),
    )
    .unwrap();
    let mut rates = Vec::new();
    let mut figures = Vec::new();
    for _ in 0..ROUNDS {
        a.restale(&seeded_a, 10);
        b.restale(&seeded_b, 10);
        let wall = apply_all(
            binary,
            work.path(),
            &[("TOKEN_A", "bench-token-a"), ("TOKEN_B", "bench-token-b")],
        );
        let (requests_a, writes_a, limited_a) = a.counts();
        let (requests_b, writes_b, limited_b) = b.counts();
        assert_eq!(
            (writes_a, writes_b),
            (UPDATES, UPDATES),
            "every update written once"
        );
        assert_eq!(limited_a + limited_b, 0, "no request answered 429");
        let rate = (writes_a + writes_b) as f64 / wall;
        rates.push(rate);
        figures.push(format!(
            "{wall:.2} s, {} requests, {rate:.2} writes/s",
            requests_a + requests_b
        ));
    }
    println!();
    println!(
        "apply --all-targets of 2 × {UPDATES} updates, two tokens each limited to 10 requests/s by its server:"
    );
    for figure in &figures {
        println!("  {figure}, 0 × 429");
    }
    println!(
        "  best: {:.2} writes/s together (target: ≥ 19)",
        rates.iter().copied().fold(0.0, f64::max)
    );
}

/// Part 3: two targets on one token (one account), 10 requests per second between them.
fn apply_on_one_shared_token(binary: &str) {
    let emulator = Emulator::start(binary, "bench-token-shared");
    let work = tempfile::tempdir().unwrap();
    manifests(work.path(), SHARED_UPDATES, 0, Some("s1"));
    manifests(work.path(), SHARED_UPDATES, SHARED_UPDATES, Some("s2"));
    let seeded = emulator.seed(&work.path().join("manifests"));
    std::fs::write(
        work.path().join("intsync.toml"),
        target("s1", &emulator.base, "TOKEN_S") + &target("s2", &emulator.base, "TOKEN_S"),
    )
    .unwrap();
    let mut figures = Vec::new();
    let mut fastest: f64 = 0.0;
    for _ in 0..ROUNDS {
        emulator.restale(&seeded, 10);
        let wall = apply_all(binary, work.path(), &[("TOKEN_S", "bench-token-shared")]);
        let (requests, writes, limited) = emulator.counts();
        assert_eq!(writes, 2 * SHARED_UPDATES, "every update written once");
        assert_eq!(limited, 0, "no request answered 429");
        let rate = requests as f64 / wall;
        fastest = fastest.max(rate);
        figures.push(format!(
            "{wall:.2} s, {requests} requests, {rate:.2} requests/s"
        ));
    }
    println!();
    println!(
        "apply --all-targets of 2 × {SHARED_UPDATES} updates, two targets sharing one token limited to 10 requests/s:"
    );
    for figure in &figures {
        println!("  {figure}, 0 × 429");
    }
    println!("  fastest: {fastest:.2} requests/s together (target: ≤ 10, 0 × 429)");
}
