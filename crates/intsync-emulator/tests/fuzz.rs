//! Malformed and random requests never make the emulator panic or answer 5xx.

use bytes::Bytes;
use intsync_emulator::{Emulator, Owner, Request, Store};
use proptest::prelude::*;
use serde_json::Value;

const TOKEN: &str = "fuzz";

const KEYS: &[&str] = &[
    "name",
    "description",
    "author",
    "contact",
    "identifier_field_path",
    "uninstallation_url",
    "oauth_callback_url",
    "tags",
    "scopes",
    "configuration_fields",
    "icon_url",
    "call_to_action",
    "error_codes",
    "category",
    "is_beta",
    "config",
    "sharing",
    "version",
    "status",
    "id",
    "owner",
    "integration",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| serde_json::json!(n)),
        any::<f64>().prop_map(|n| serde_json::json!(n)),
        "\\PC{0,20}".prop_map(Value::String),
        Just(Value::String("https://example.com/x".into())),
        Just(Value::String("knowledge".into())),
        Just(Value::String("allow".into())),
        Just(Value::String("deny".into())),
        Just(Value::String("truto".into())),
        Just(Value::String("other".into())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..8).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

fn body() -> impl Strategy<Value = Bytes> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Bytes::from),
        "\\PC{0,200}".prop_map(Bytes::from),
        json_value().prop_map(|v| Bytes::from(serde_json::to_vec(&v).unwrap())),
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/api/v2/platform-integrations/".to_owned()),
        Just("/api/v2/platform-integrations".to_owned()),
        "[a-f0-9]{0,24}".prop_map(|id| format!("/api/v2/platform-integrations/{id}")),
        Just("/integration".to_owned()),
        Just("/environment".to_owned()),
        Just("/_emulator/truto/integrations".to_owned()),
        "[a-z0-9-]{0,36}".prop_map(|id| format!("/integration/{id}")),
        "[a-z0-9-]{0,36}".prop_map(|id| format!("/integrations/{id}")),
        "/[a-z/_%.]{0,30}",
    ]
}

fn method() -> impl Strategy<Value = http::Method> {
    prop::sample::select(vec![
        http::Method::GET,
        http::Method::POST,
        http::Method::PATCH,
        http::Method::DELETE,
        http::Method::PUT,
        http::Method::OPTIONS,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_requests_never_5xx(method in method(), path in path(), query in prop::option::of("[a-z_]{1,12}=[-a-zA-Z0-9%]{0,12}(&limit=-?[0-9a-z]{0,4})?"), body in body(), authorized in prop::bool::weighted(0.9)) {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        // Some state to hit: one integration of each kind.
        let seed_ada = Request::new(http::Method::POST, "/api/v2/platform-integrations/").bearer(TOKEN).json(&serde_json::json!({
            "name": "n", "description": "d", "author": "a", "contact": "c@example.com", "identifier_field_path": "a",
            "uninstallation_url": "https://example.com/u", "oauth_callback_url": "https://example.com/c",
            "tags": [], "scopes": [], "configuration_fields": {}
        }));
        prop_assert_eq!(emulator.call(seed_ada).unwrap().status, 200);
        let seed_truto = Request::new(http::Method::POST, "/integration").bearer(TOKEN).json(&serde_json::json!({"name": "t"}));
        prop_assert_eq!(emulator.call(seed_truto).unwrap().status, 201);
        // And integrations of other teams: Truto's, one shared, one not.
        for (owner, sharing) in [(Owner::Truto, "allow"), (Owner::Other, "allow"), (Owner::Other, "deny")] {
            let seeded = emulator.seed_truto(owner, serde_json::json!({"name": format!("t-{sharing}"), "sharing": sharing}));
            prop_assert!(seeded.is_ok(), "{:?}", seeded);
        }

        let mut request = Request::new(method, &path);
        request.query = query;
        request.body = body;
        if authorized {
            request = request.bearer(TOKEN);
        }
        let response = emulator.call(request).expect("no injected faults, so always answered");
        prop_assert!((200..500).contains(&response.status), "status {}", response.status);
        prop_assert!(serde_json::from_slice::<Value>(&response.body).is_ok(), "non-JSON body");
    }

    /// Any JSON body to create and update: 2xx or 4xx, and the state stays listable.
    #[test]
    fn random_json_writes(ada in json_value(), truto in json_value(), patch in json_value()) {
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        for (path, body) in [("/api/v2/platform-integrations/", &ada), ("/integration", &truto)] {
            let response = emulator.call(Request::new(http::Method::POST, path).bearer(TOKEN).json(body)).unwrap();
            prop_assert!(response.status < 500);
        }
        let created = emulator.call(Request::new(http::Method::POST, "/integration").bearer(TOKEN).json(&serde_json::json!({"name": "zz-fixed"}))).unwrap();
        let id = created.json_body()["id"].as_str().unwrap_or("none").to_owned();
        let response = emulator.call(Request::new(http::Method::PATCH, &format!("/integration/{id}")).bearer(TOKEN).json(&patch)).unwrap();
        prop_assert!(response.status < 500);
        // Another team's integration is refused before its body is even read.
        let theirs = emulator.seed_truto(Owner::Truto, serde_json::json!({"name": "theirs"})).unwrap();
        let path = format!("/integration/{}", theirs["id"].as_str().unwrap());
        let response = emulator.call(Request::new(http::Method::PATCH, &path).bearer(TOKEN).json(&patch)).unwrap();
        prop_assert_eq!(response.status, 403);
        for path in ["/api/v2/platform-integrations/", "/integration"] {
            let listed = emulator.call(Request::new(http::Method::GET, path).bearer(TOKEN)).unwrap();
            prop_assert_eq!(listed.status, 200);
        }
    }
}
