//! `intsync plan` for 10,000 manifests against 10,000 live integrations served by the emulator
//! over loopback (issue #4: under 2 s wall and 300 MB peak on 2 cores, with one request per page).
//!
//! The emulator runs as its own process (release build, state in memory); one in ten live
//! integrations has a different description, so the plan has 1,000 updates and 9,000 noops.
//! Each run of the real CLI is timed with `/usr/bin/time` (wall time and peak RSS), and the
//! emulator's request log is checked: only GETs, exactly ceil(10,000 / 100) of them.
//!
//! Run: `cargo bench --bench plan`

#[path = "common/corpus.rs"]
mod corpus;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

const TOKEN: &str = "bench-token";
const RUNS: usize = 5;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let manifests = corpus::ada_corpus();
    let binary = env!("CARGO_BIN_EXE_intsync");
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
    let loaded = intsync_manifest::load(std::slice::from_ref(&manifests));
    assert!(!loaded.has_errors());
    runtime.block_on(async {
        let bodies: Vec<Value> = loaded
            .manifests
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let mut spec = Value::Object(m.spec.clone());
                if i % 10 == 0 {
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
    });

    let work = tempfile::tempdir().unwrap();
    std::fs::write(
        work.path().join("intsync.toml"),
        format!("[targets.bench]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"BENCH_TOKEN\"\nrate_limit = \"off\"\npage_size = 100\n"),
    )
    .unwrap();
    let mut walls = Vec::new();
    let mut peak = 0u64;
    for _ in 0..RUNS {
        runtime
            .block_on(
                http.delete(format!("{base}/_emulator/requests"))
                    .bearer_auth(TOKEN)
                    .send(),
            )
            .unwrap();
        let timing = work.path().join("time.txt");
        let status = Command::new("/usr/bin/time")
            .args(["-f", "%e %M", "-o"])
            .arg(&timing)
            .arg(binary)
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
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(2), "changes present");
        let text = std::fs::read_to_string(&timing).unwrap();
        // GNU time writes "Command exited with non-zero status 2" first: the figures are last.
        let mut parts = text.lines().last().unwrap_or_default().split_whitespace();
        walls.push(parts.next().unwrap().parse::<f64>().unwrap());
        peak = peak.max(parts.next().unwrap().parse::<u64>().unwrap());
        let log: Value = runtime
            .block_on(async {
                http.get(format!("{base}/_emulator/requests"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await?
                    .json()
                    .await
            })
            .unwrap();
        let log = log.as_array().unwrap();
        assert!(
            log.iter().all(|r| r["method"] == "GET"),
            "plan sends only GETs"
        );
        assert_eq!(
            log.len(),
            corpus::MANIFESTS.div_ceil(100),
            "one request per page"
        );
    }
    drop(emulator);
    walls.sort_by(f64::total_cmp);
    println!(
        "intsync plan, {} manifests vs {} live over loopback, {RUNS} runs: median {:.2} s wall (fastest {:.2} s), peak RSS {} MB, {} GET requests per run",
        corpus::MANIFESTS,
        corpus::MANIFESTS,
        walls[RUNS / 2],
        walls[0],
        peak / 1024,
        corpus::MANIFESTS.div_ceil(100)
    );
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
