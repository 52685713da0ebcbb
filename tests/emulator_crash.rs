//! Killing the emulator (SIGKILL) in the middle of a stream of writes loses no acknowledged
//! write, and the state file still parses.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Emulator, TOKEN, wait_until};
use serde_json::{Value, json};

fn ada(name: &str) -> Value {
    json!({
        "name": name, "description": "0", "author": "a", "contact": "c@example.com",
        "identifier_field_path": "a", "uninstallation_url": "https://example.com/u",
        "oauth_callback_url": "https://example.com/c", "tags": ["knowledge"], "scopes": [],
        "configuration_fields": {}
    })
}

/// What the writers were told succeeded: Ada ids with the last acknowledged `description`
/// counter, and Truto ids.
#[derive(Default)]
struct Acked {
    ada: Vec<(String, u64)>,
    truto: Vec<String>,
}

async fn writer(base: String, worker: usize, acked: Arc<Mutex<Acked>>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    for i in 0.. {
        let name = format!("w{worker}-{i}");
        let Ok(response) = http
            .post(format!("{base}/api/v2/platform-integrations/"))
            .bearer_auth(TOKEN)
            .json(&ada(&name))
            .send()
            .await
        else {
            return;
        };
        if response.status() != 200 {
            return;
        }
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        let id = body["id"].as_str().unwrap().to_owned();
        let slot = {
            let mut acked = acked.lock().unwrap();
            acked.ada.push((id.clone(), 0));
            acked.ada.len() - 1
        };
        for n in 1..=3u64 {
            let Ok(response) = http
                .patch(format!("{base}/api/v2/platform-integrations/{id}"))
                .bearer_auth(TOKEN)
                .json(&json!({"description": n.to_string()}))
                .send()
                .await
            else {
                return;
            };
            if response.status() != 200 {
                return;
            }
            acked.lock().unwrap().ada[slot].1 = n;
        }
        let Ok(response) = http
            .post(format!("{base}/integration"))
            .bearer_auth(TOKEN)
            .json(&json!({"name": name}))
            .send()
            .await
        else {
            return;
        };
        if response.status() != 201 {
            return;
        }
        let Ok(body) = response.json::<Value>().await else {
            return;
        };
        acked
            .lock()
            .unwrap()
            .truto
            .push(body["id"].as_str().unwrap().to_owned());
    }
}

#[test]
fn sigkill_mid_stream_loses_no_acknowledged_write() {
    let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let acked = Arc::new(Mutex::new(Acked::default()));
    for round in 0..3 {
        let emulator = Emulator::launch(Some(&state), Some(TOKEN));
        let writers: Vec<_> = (0..6)
            .map(|w| {
                let base = emulator.base_url().to_owned();
                runtime.spawn(writer(base, round * 10 + w, Arc::clone(&acked)))
            })
            .collect();
        // Kill at a moment that depends on the round, while every writer is mid-stream: once
        // this round has had a number of creates acknowledged (a condition, not a sleep).
        let before = acked.lock().unwrap().ada.len();
        let wanted = before + 12 + 9 * round;
        wait_until(
            &format!("round {round}: the writers to get going"),
            Duration::from_secs(30),
            || (acked.lock().unwrap().ada.len() >= wanted).then_some(()),
        );
        emulator.kill();
        for w in writers {
            runtime.block_on(w).unwrap();
        }
    }

    let parsed: Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).expect("the state file parses");
    assert_eq!(parsed["format"], 1);

    let emulator = Emulator::launch(Some(&state), Some(TOKEN));
    let (ada, truto) = (emulator.all_ada(), emulator.all_truto());
    emulator.kill();

    let acked = acked.lock().unwrap();
    assert!(
        acked.ada.len() > 20,
        "the writers did too little to test anything: {}",
        acked.ada.len()
    );
    for (id, counter) in &acked.ada {
        let live = ada
            .iter()
            .find(|r| r["id"] == id.as_str())
            .unwrap_or_else(|| panic!("acknowledged Ada create {id} lost"));
        let live_counter: u64 = live["description"].as_str().unwrap().parse().unwrap();
        assert!(
            live_counter >= *counter,
            "acknowledged PATCH of {id} lost: {live_counter} < {counter}"
        );
    }
    for id in &acked.truto {
        assert!(
            truto.iter().any(|r| r["id"] == id.as_str()),
            "acknowledged Truto create {id} lost"
        );
    }
    eprintln!(
        "{} Ada creates, {} Truto creates acknowledged and all present",
        acked.ada.len(),
        acked.truto.len()
    );
}
