//! The in-process emulator behind the `local` target: same rules, state in a file, no server.

use intsync_emulator::{Request, local};
use serde_json::json;

#[test]
fn state_survives_between_runs_and_ends_as_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".intsync/local-state.json");
    let id = {
        let emulator = local(&path).unwrap();
        let token = emulator.token().to_owned();
        let created = emulator
            .call(
                Request::new(http::Method::POST, "/integration")
                    .bearer(&token)
                    .json(&json!({"name": "crm"})),
            )
            .unwrap();
        assert_eq!(created.status, 201);
        let refused = emulator
            .call(
                Request::new(
                    http::Method::PATCH,
                    &format!(
                        "/integration/{}",
                        created.json_body()["id"].as_str().unwrap()
                    ),
                )
                .bearer(&token)
                .json(&json!({"category": "x"})),
            )
            .unwrap();
        assert_eq!(
            refused.status, 400,
            "the same rules as over HTTP: version required"
        );
        emulator.checkpoint().unwrap();
        created.json_body()["id"].as_str().unwrap().to_owned()
    };
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(on_disk["truto"][0]["id"], id.as_str());
    assert_eq!(
        std::fs::metadata(dir.path().join(".intsync/local-state.json.journal"))
            .unwrap()
            .len(),
        0
    );

    let emulator = local(&path).unwrap();
    let token = emulator.token().to_owned();
    let listed = emulator
        .call(Request::new(http::Method::GET, "/integration").bearer(&token))
        .unwrap();
    assert_eq!(listed.json_body()["result"][0]["id"], id.as_str());
    // Without the process's token, nothing.
    assert_eq!(
        emulator
            .call(Request::new(http::Method::GET, "/integration"))
            .unwrap()
            .status,
        401
    );
}
