//! `intsync emulator` as a process: the base URL on stdout, a generated token on stderr,
//! loopback by default, and a clean stop on SIGTERM that leaves the state in its file.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn generated_token_state_file_and_sigterm() {
    let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("intsync"))
        .args(["emulator", "--listen", "127.0.0.1:0", "--state"])
        .arg(&state)
        .env_remove("INTSYNC_EMULATOR_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Never hang the suite: whatever happens below, the emulator is gone within a minute.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(60));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    let mut base = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut base)
        .unwrap();
    let base = base.trim().to_owned();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut token = None;
    // The start-up talk is three lines: where, the token, the state.
    for _ in 0..3 {
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        if let Some(t) = line
            .trim()
            .strip_prefix("token (send `Authorization: Bearer <token>`): ")
        {
            token = Some(t.to_owned());
        }
    }
    let token = token.expect("a generated token is printed");
    assert_eq!(token.len(), 64);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::new();
        let created = http
            .post(format!("{base}/integration"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"name": "crm"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status().as_u16(), 201);
        let anonymous = http
            .get(format!("{base}/integration"))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status().as_u16(), 401);
    });

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["truto"][0]["name"], "crm");
}
