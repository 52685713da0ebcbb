//! `intsync apply` of 1,000 updates against the emulator with 20 ms injected latency (issues #5
//! and #16: best of three runs against `pages × latency + writes × latency ÷ parallelism`),
//! against the ideal and against a naive sequential sync; then, with Ada's rate limit on at both
//! ends, the achieved request rate against the 10/s ceiling.
//!
//! Run: `cargo bench --bench apply`

#[path = "common/corpus.rs"]
mod corpus;
#[path = "common/servers.rs"]
mod servers;

use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::{Value, json};
use servers::{Emulator, TOKEN};

const UPDATES: usize = 1_000;
const LATENCY_MS: u64 = 20;
const RATE_LIMITED: usize = 90;

/// The emulator the runs write to, and the binary that runs.
struct Bench {
    emulator: Emulator,
    binary: &'static str,
}

impl std::ops::Deref for Bench {
    type Target = Emulator;

    fn deref(&self) -> &Emulator {
        &self.emulator
    }
}

impl Bench {
    /// Creates `n` integrations as the corpus describes them, but with a stale description.
    fn seed(&self, n: usize) -> Vec<(String, Value)> {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..n {
            std::fs::write(
                dir.path().join(format!("m{i:04}.yaml")),
                corpus::ada_manifest(i),
            )
            .unwrap();
        }
        let loaded = intsync_manifest::load(&[dir.path().to_path_buf()]);
        let specs: Vec<Value> = loaded
            .manifests
            .iter()
            .map(|m| Value::Object(m.spec.to_map()))
            .collect();
        self.runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for spec in specs {
                let (http, base) = (self.http.clone(), self.base.clone());
                tasks.spawn(async move {
                    let mut stale = spec.clone();
                    stale["description"] = json!("stale");
                    let r: Value = http
                        .post(format!("{base}/api/v2/platform-integrations/"))
                        .bearer_auth(TOKEN)
                        .json(&stale)
                        .send()
                        .await
                        .unwrap()
                        .json()
                        .await
                        .unwrap();
                    (r["id"].as_str().unwrap().to_owned(), spec)
                });
            }
            let mut out = Vec::new();
            while let Some(r) = tasks.join_next().await {
                out.push(r.unwrap());
            }
            out
        })
    }

    fn restale(&self, seeded: &[(String, Value)]) {
        self.runtime.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for (id, _) in seeded {
                let (http, base, id) = (self.http.clone(), self.base.clone(), id.clone());
                tasks.spawn(async move {
                    http.patch(format!("{base}/api/v2/platform-integrations/{id}"))
                        .bearer_auth(TOKEN)
                        .json(&json!({"description": "stale"}))
                        .send()
                        .await
                        .unwrap();
                });
            }
            while tasks.join_next().await.is_some() {}
        });
    }

    fn apply(&self, dir: &std::path::Path, parallelism: usize) -> (f64, usize) {
        self.call(reqwest::Method::DELETE, "/_emulator/requests", None);
        let started = Instant::now();
        let status = Command::new(self.binary)
            .args([
                "apply",
                "--auto-approve",
                "--target",
                "bench",
                "--parallelism",
                &parallelism.to_string(),
            ])
            .current_dir(dir)
            .env("BENCH_TOKEN", TOKEN)
            .env("RUST_LOG", "intsync::http=debug")
            .stdout(Stdio::null())
            .stderr(
                // `APPLY_BENCH_LOG=DIR` keeps each run's request log (timestamped, one line per
                // request) to see where the time goes.
                match std::env::var_os("APPLY_BENCH_LOG") {
                    Some(dir) => Stdio::from(
                        std::fs::File::create(
                            std::path::Path::new(&dir).join(format!("apply-p{parallelism}.log")),
                        )
                        .unwrap(),
                    ),
                    None => Stdio::null(),
                },
            )
            .status()
            .unwrap();
        let wall = started.elapsed().as_secs_f64();
        assert!(status.success());
        let requests = self
            .call(reqwest::Method::GET, "/_emulator/requests", None)
            .as_array()
            .unwrap()
            .len();
        (wall, requests)
    }
}

fn workdir(base: &str, seeded: &[(String, Value)], rate_limit: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("manifests")).unwrap();
    for (i, (_, spec)) in seeded.iter().enumerate() {
        std::fs::write(
            dir.path().join(format!("manifests/m{i:04}.yaml")),
            format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {spec}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        dir.path().join("intsync.toml"),
        format!("[targets.bench]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"BENCH_TOKEN\"\nrate_limit = {rate_limit}\npage_size = 100\n"),
    )
    .unwrap();
    dir
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let binary = env!("CARGO_BIN_EXE_intsync");
    let bench = Bench {
        emulator: Emulator::start(binary, TOKEN),
        binary,
    };

    // Part 1: 1,000 updates with 20 ms latency.
    let seeded = bench.seed(UPDATES);
    let dir = workdir(&bench.base, &seeded, "\"off\"");
    // Issue #16's limit: list pages follow a cursor, so they are sequential; the writes go
    // `parallelism` at a time. Best of three runs, as the issue measures.
    let pages = UPDATES.div_ceil(100);
    println!(
        "| run | wall, 3 runs | best | requests | limit (pages × latency + writes × latency ÷ parallelism) | best ÷ limit |"
    );
    println!("|---|---|---|---|---|---|");
    for parallelism in [4, 16] {
        let mut walls = Vec::new();
        let mut requests = 0;
        for _ in 0..3 {
            bench.restale(&seeded);
            bench.call(
                reqwest::Method::PUT,
                "/_emulator/faults",
                Some(json!({"latency_ms": LATENCY_MS})),
            );
            let (wall, sent) = bench.apply(dir.path(), parallelism);
            bench.call(reqwest::Method::DELETE, "/_emulator/faults", None);
            walls.push(wall);
            requests = sent;
        }
        let best = walls.iter().copied().fold(f64::INFINITY, f64::min);
        let latency = LATENCY_MS as f64 / 1000.0;
        let limit = pages as f64 * latency + UPDATES as f64 * latency / parallelism as f64;
        println!(
            "| intsync apply --parallelism {parallelism} | {} | {best:.2} s | {requests} | {limit:.2} s | {:.3} |",
            walls
                .iter()
                .map(|w| format!("{w:.2} s"))
                .collect::<Vec<_>>()
                .join(", "),
            best / limit
        );
    }

    // The naive sync: PATCH every manifest's full body, one at a time.
    bench.restale(&seeded);
    bench.call(
        reqwest::Method::PUT,
        "/_emulator/faults",
        Some(json!({"latency_ms": LATENCY_MS})),
    );
    let started = Instant::now();
    bench.runtime.block_on(async {
        for (id, spec) in &seeded {
            let r = bench
                .http
                .patch(format!("{}/api/v2/platform-integrations/{id}", bench.base))
                .bearer_auth(TOKEN)
                .json(spec)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success());
        }
    });
    let naive = started.elapsed().as_secs_f64();
    bench.call(reqwest::Method::DELETE, "/_emulator/faults", None);
    println!(
        "| naive sequential full-body PATCH | {naive:.2} s | {naive:.2} s | {UPDATES} | {:.2} s | {:.3} |",
        UPDATES as f64 * LATENCY_MS as f64 / 1000.0,
        naive / (UPDATES as f64 * LATENCY_MS as f64 / 1000.0)
    );

    // Part 2: Ada's documented rate limit at both ends.
    bench.call(reqwest::Method::POST, "/_emulator/reset", Some(json!({})));
    let seeded = bench.seed(RATE_LIMITED);
    let dir = workdir(
        &bench.base,
        &seeded,
        "{ per_second = 10, per_minute = 100 }",
    );
    bench.call(
        reqwest::Method::PUT,
        "/_emulator/rate-limit",
        Some(json!({"ada": "documented"})),
    );
    let (wall, requests) = bench.apply(dir.path(), 8);
    let log = bench.call(reqwest::Method::GET, "/_emulator/requests", None);
    let limited = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == 429)
        .count();
    println!();
    println!(
        "rate-limited apply ({RATE_LIMITED} updates, --parallelism 8): {requests} requests in {wall:.2} s = {:.2} requests/s against a 10/s ceiling, {limited} answered 429",
        requests as f64 / wall
    );
    drop(bench);
}
