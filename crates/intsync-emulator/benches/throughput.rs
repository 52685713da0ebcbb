//! Emulator throughput on loopback (issue #3: at least 5,000 PATCH/s on 2 cores).
//!
//! The server and the load generator share the machine: one process, one tokio runtime with two
//! worker threads, `CONNECTIONS` keep-alive connections each sending requests back to back for
//! `SECONDS`. Measured with the state in memory and with a state file (every PATCH journaled and
//! fsynced before it is answered, fsyncs shared by concurrent requests).
//!
//! Run: `cargo bench -p intsync-emulator --bench throughput`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use intsync_emulator::server::RunningServer;
use intsync_emulator::{Emulator, Store};
use serde_json::json;

const TOKEN: &str = "bench";
const CONNECTIONS: usize = 32;
const SECONDS: u64 = 5;
const INTEGRATIONS: usize = 1_000;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        println!("| state | operation | requests/s | errors |");
        println!("|---|---|---|---|");
        for with_file in [false, true] {
            let dir = tempfile::tempdir().unwrap();
            let store = if with_file {
                Store::open(&dir.path().join("state.json")).unwrap()
            } else {
                Store::in_memory()
            };
            let server =
                RunningServer::start(Emulator::new(store, TOKEN), "127.0.0.1:0".parse().unwrap())
                    .await
                    .unwrap();
            let base = server.base_url();
            let ids = seed(&base).await;
            let label = if with_file {
                "state file (fsync per write)"
            } else {
                "in memory"
            };
            let (rate, errors) = load(&base, &ids, Op::Patch).await;
            println!("| {label} | PATCH | {rate:.0} | {errors} |");
            let (rate, errors) = load(&base, &ids, Op::List).await;
            println!("| {label} | GET list (100 per page) | {rate:.0} | {errors} |");
            server.stop().await.unwrap();
        }
    });
}

async fn seed(base: &str) -> Arc<Vec<String>> {
    let http = reqwest::Client::new();
    let mut ids = Vec::with_capacity(INTEGRATIONS);
    for i in 0..INTEGRATIONS {
        let body = json!({
            "name": format!("bench {i}"), "description": "d", "author": "a", "contact": "c@example.com",
            "identifier_field_path": "a", "uninstallation_url": "https://example.com/u",
            "oauth_callback_url": "https://example.com/c", "tags": ["knowledge"], "scopes": ["articles:read"],
            "configuration_fields": {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
        });
        let created: serde_json::Value = http
            .post(format!("{base}/api/v2/platform-integrations/"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    Arc::new(ids)
}

#[derive(Clone, Copy)]
enum Op {
    Patch,
    List,
}

async fn load(base: &str, ids: &Arc<Vec<String>>, op: Op) -> (f64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(SECONDS);
    let started = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (base, ids, done, errors) = (
                base.to_owned(),
                Arc::clone(ids),
                Arc::clone(&done),
                Arc::clone(&errors),
            );
            tokio::spawn(async move {
                // One client per task: one keep-alive connection each.
                let http = reqwest::Client::builder()
                    .pool_max_idle_per_host(1)
                    .build()
                    .unwrap();
                let mut n = c;
                while Instant::now() < deadline {
                    n += CONNECTIONS;
                    let request = match op {
                        Op::Patch => http
                            .patch(format!(
                                "{base}/api/v2/platform-integrations/{}",
                                ids[n % ids.len()]
                            ))
                            .json(&json!({"description": format!("v{n}")})),
                        Op::List => {
                            let cursor = &ids[(n * 100) % (ids.len() - 100)];
                            http.get(format!(
                                "{base}/api/v2/platform-integrations/?limit=100&cursor={cursor}"
                            ))
                        }
                    };
                    match request.bearer_auth(TOKEN).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    (
        done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64(),
        errors.load(Ordering::Relaxed),
    )
}
