//! `intsync emulator` as a process: the base URL on stdout, a generated token on stderr,
//! loopback by default, and a clean stop on SIGTERM that leaves the state in its file.

mod common;

use common::Emulator;
use reqwest::Method;

#[test]
fn generated_token_state_file_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    // No `--token` (and no INTSYNC_EMULATOR_TOKEN): it makes one up and says it.
    let emulator = Emulator::launch(Some(&state), None);
    // The start-up talk is three lines: where, the token, the state.
    assert_eq!(emulator.startup.len(), 3, "{:#?}", emulator.startup);
    let token = emulator.token().to_owned();
    assert_eq!(token.len(), 64);

    let (status, _) = emulator.send(
        Method::POST,
        "/integration",
        Some(&token),
        Some(r#"{"name":"crm"}"#),
    );
    assert_eq!(status, 201);
    let (status, _) = emulator.send(Method::GET, "/integration", None, None);
    assert_eq!(status, 401);

    let (code, rest) = emulator.terminate();
    assert_eq!(code, Some(0));
    assert!(rest.contains("stopped"), "{rest}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["truto"][0]["name"], "crm");
}
