//! The in-process emulator behind the `local` target: same rules, state in a file, no server.

use intsync_emulator::{Owner, Request, local};
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

#[test]
fn seeded_foreign_integrations_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.json");
    {
        let emulator = local(&path).unwrap();
        let seeded = emulator
            .seed_truto(
                Owner::Truto,
                json!({"name": "hubspot", "config": {"base_url": "https://api.hubapi.com"}}),
            )
            .unwrap();
        assert_eq!(seeded["team_id"], Owner::Truto.team_id());
        assert_eq!(seeded["config"]["base_url"], "https://api.hubapi.com");
        emulator
            .seed_truto(Owner::Other, json!({"name": "hidden", "sharing": "deny"}))
            .unwrap();
        let duplicate = emulator
            .seed_truto(Owner::Truto, json!({"name": "hubspot"}))
            .unwrap_err();
        assert_eq!(duplicate.status, 409);
        let invalid = emulator
            .seed_truto(Owner::Own, json!({"name": "x", "id": "mine"}))
            .unwrap_err();
        assert_eq!(invalid.status, 400);
        // No checkpoint: the seeds are in the journal only, as after a crash.
    }
    let emulator = local(&path).unwrap();
    let token = emulator.token().to_owned();
    let listed = emulator
        .call(Request::new(http::Method::GET, "/integration").bearer(&token))
        .unwrap()
        .json_body();
    let result = listed["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{listed}");
    assert_eq!(result[0]["name"], "hubspot");
    assert_eq!(result[0]["team"]["name"], "Truto");
    assert!(result[0].get("config").is_none(), "{listed}");
    // Still Truto's after the restart: ours to read, not to change.
    let refused = emulator
        .call(
            Request::new(
                http::Method::DELETE,
                &format!("/integration/{}", result[0]["id"].as_str().unwrap()),
            )
            .bearer(&token),
        )
        .unwrap();
    assert_eq!(refused.status, 403);
}
