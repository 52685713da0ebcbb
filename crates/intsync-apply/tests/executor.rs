//! The engine against the emulator over HTTP (loopback): the per-write rules of
//! `executor.rs` and the run of `engine.rs`, fault by fault.

use std::sync::Arc;
use std::time::{Duration, Instant};

use intsync_apply::{
    Intents, ItemError, Options, Outcome, SecretSaved, SecretStore, Stores, engine,
};
use intsync_emulator::server::RunningServer;
use intsync_emulator::{Emulator, FaultAction, FaultRule, Faults, Request, Store};
use intsync_manifest::Kind;
use intsync_plan::{Action, DesiredIntegration, Plan};
use intsync_provider::{Provider, RetryPolicy, Secret, Stop, StopReason, Timeouts, Transport};
use serde_json::{Map, Value, json};

const TOKEN: &str = "engine-test-token";

struct Env {
    server: RunningServer,
    dir: tempfile::TempDir,
}

async fn env() -> Env {
    Env {
        server: RunningServer::start(
            Emulator::new(Store::in_memory(), TOKEN),
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap(),
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Env {
    fn provider(&self, kind: Kind, request_timeout: Duration) -> Arc<Provider> {
        let transport = Transport::http(
            &self.server.base_url(),
            Secret::new(TOKEN),
            Timeouts {
                connect: Duration::from_secs(2),
                request: request_timeout,
            },
        )
        .unwrap();
        let retry = RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_millis(50),
        };
        Arc::new(Provider::new("t", transport, vec![kind], 100, retry, ""))
    }

    /// The records of creates in flight left on disk.
    fn records(&self) -> Vec<intsync_apply::intents::Recorded> {
        Intents::new(self.dir.path().join("intents"))
            .recorded()
            .unwrap()
    }

    fn options(&self, stop: Stop) -> Options<'static> {
        Options {
            parallelism: 2,
            stores: Stores {
                secrets: SecretStore::new(self.dir.path().join("secrets")),
                intents: Intents::new(self.dir.path().join("intents")),
            },
            stop,
            desired: None,
            observed: None,
        }
    }

    fn fault(&self, method: &str, times: u32, action: FaultAction) {
        self.server.emulator.set_faults(Faults {
            latency_ms: 0,
            rules: vec![FaultRule {
                api: None,
                method: Some(method.into()),
                path_prefix: None,
                after: 0,
                times: Some(times),
                action,
                seen: 0,
                applied: 0,
            }],
        });
    }

    fn posts(&self) -> usize {
        let log = self.server.emulator.requests();
        log.iter().filter(|r| r.method == "POST").count()
    }

    fn call(&self, method: http::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = Request::new(method, path).bearer(TOKEN);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.server.emulator.call(request).unwrap().json_body()
    }

    fn ada_names(&self) -> Vec<String> {
        self.call(
            http::Method::GET,
            "/api/v2/platform-integrations/?limit=100",
            None,
        )["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect()
    }
}

fn ada_body(name: &str) -> Map<String, Value> {
    json!({
        "name": name, "description": "d", "author": "a", "contact": "c@example.com",
        "identifier_field_path": "account.name",
        "uninstallation_url": "https://example.com/u", "oauth_callback_url": "https://example.com/o",
        "tags": ["knowledge"], "scopes": ["articles:read"],
        "configuration_fields": {"type": "object", "required": ["account"], "properties": {"account": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}
    })
    .as_object()
    .unwrap()
    .clone()
}

/// These Ada integrations, as manifests would describe them.
fn desired_ada(names: &[&str]) -> Vec<DesiredIntegration> {
    names
        .iter()
        .map(|n| DesiredIntegration {
            kind: Kind::AdaPlatformIntegration,
            id: None,
            spec: ada_body(n).into(),
            manifest: format!("{n}.yaml"),
            origin: Default::default(),
            routing: Default::default(),
        })
        .collect()
}

/// A plan creating these Ada integrations against an empty target.
fn creates(names: &[&str]) -> Plan {
    let desired = desired_ada(names);
    let observed = intsync_plan::Observed {
        kinds: vec![Kind::AdaPlatformIntegration],
        integrations: Vec::new(),
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    intsync_plan::plan("t", &desired, &observed).unwrap()
}

async fn run(env: &Env, provider: Arc<Provider>, plan: &Plan, stop: Stop) -> intsync_apply::Report {
    let batch = engine::prepare(plan, false).unwrap();
    engine::execute(provider, batch, &env.options(stop), |_, _| {}).await
}

fn failure(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Failed(error) => error.to_string(),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_are_saved_and_verified() {
    let env = env().await;
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let report = run(&env, provider, &creates(&["A", "B"]), Stop::new()).await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    assert!(report.verified.is_some());
    for (_, outcome) in &report.items {
        let Outcome::Created {
            observed,
            secret: SecretSaved::At(path),
            adopted: false,
        } = outcome
        else {
            panic!("{outcome:?}")
        };
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(saved["id"], observed.id.as_str());
        assert_eq!(saved["client_secret"].as_str().unwrap().len(), 64);
    }
    assert!(env.records().is_empty(), "settled creates leave no record");
}

/// A create answered 200 with its secret but without a field: the secret is kept (saved), the
/// integration read from live state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_missing_a_field_keeps_its_secret() {
    let env = env().await;
    env.fault(
        "POST",
        1,
        FaultAction::DropField {
            field: "scopes".into(),
        },
    );
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let report = run(&env, provider, &creates(&["A"]), Stop::new()).await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    let Outcome::Created {
        observed,
        secret: SecretSaved::At(path),
        adopted: true,
    } = &report.items[0].1
    else {
        panic!("{:?}", report.items[0].1)
    };
    assert!(path.ends_with(format!("{}.json", observed.id)));
    assert_eq!(env.posts(), 1);
}

/// The answer to a committed create is lost: never sent again; found by listing; Ada's secret
/// went with the answer, so the item fails and says to rotate it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_is_never_re_sent_and_its_lost_secret_fails_the_item() {
    let env = env().await;
    env.fault("POST", 1, FaultAction::DropAfterCommit);
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let report = run(&env, provider, &creates(&["A"]), Stop::new()).await;
    let message = failure(&report.items[0].1);
    assert!(message.contains("its client secret was lost"), "{message}");
    assert!(
        message.contains("rotate it in Ada's dashboard"),
        "{message}"
    );
    assert_eq!(env.posts(), 1, "not re-sent");
    assert_eq!(env.ada_names(), ["A"]);
    assert!(
        env.records().is_empty(),
        "reported now: no record left for a later run"
    );
}

/// A create the server holds past the client's timeout, and commits later: listed for the grace
/// window, not found, never re-sent; the item fails; in the end exactly one exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_after_the_timeout_makes_exactly_one() {
    let env = env().await;
    env.fault("POST", 1, FaultAction::DelayCommit { ms: 2_000 });
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_millis(500));
    let report = run(&env, provider, &creates(&["Late"]), Stop::new()).await;
    let message = failure(&report.items[0].1);
    assert!(
        message.contains("outcome unknown; run `intsync plan` again in a minute"),
        "{message}"
    );
    assert!(matches!(
        report.items[0].1,
        Outcome::Failed(ItemError::OutcomeUnknown { .. })
    ));
    // Its outcome is still unknown: the record stays, for the next run to look for it.
    let records = env.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].intent.as_ref().unwrap().name, "Late");
    let deadline = Instant::now() + Duration::from_secs(15);
    while env.ada_names().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(env.ada_names(), ["Late"], "committed once, never re-sent");
}

/// Asked to stop before the run: nothing is sent, every write is not done, nothing verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_starts_no_new_write_and_lets_those_in_flight_finish() {
    let env = env().await;
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(10));
    let stop = Stop::new();
    stop.request(StopReason::Interrupt);
    let report = run(&env, Arc::clone(&provider), &creates(&["A", "B"]), stop).await;
    assert_eq!(
        report.status(),
        intsync_apply::Status::Stopped(StopReason::Interrupt)
    );
    assert!(
        report
            .items
            .iter()
            .all(|(_, o)| matches!(o, Outcome::NotDone))
    );
    assert_eq!(env.posts(), 0);

    // Mid-run: the two in flight (parallelism 2) finish with their secrets; the rest wait.
    env.fault("POST", 2, FaultAction::Latency { ms: 600 });
    let stop = Stop::new();
    let asked = stop.clone();
    let names = ["C", "D", "E", "F", "G"];
    let plan = creates(&names);
    let options = env.options(stop);
    let running = tokio::spawn({
        let provider = Arc::clone(&provider);
        async move {
            let batch = engine::prepare(&plan, false).unwrap();
            engine::execute(provider, batch, &options, |_, _| {}).await
        }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while env.posts() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    asked.request(StopReason::Terminate);
    let report = running.await.unwrap();
    let done = report.count(Outcome::is_done);
    assert_eq!(done, 2, "{report:?}");
    assert_eq!(report.count(|o| matches!(o, Outcome::NotDone)), 3);
    assert!(report.verified.is_none(), "not verified when stopped");
    for (_, outcome) in report.items.iter().filter(|(_, o)| o.is_done()) {
        assert!(matches!(
            outcome,
            Outcome::Created {
                secret: SecretSaved::At(_),
                ..
            }
        ));
    }
    assert_eq!(
        env.ada_names().len(),
        2,
        "A and B were never sent, C and D were"
    );
}

/// A secret that cannot be written fails its item, never prints it, and the rest go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_cannot_be_saved_fails_its_item() {
    let env = env().await;
    let blocker = env.dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let options = Options {
        parallelism: 1,
        stores: Stores {
            secrets: SecretStore::new(blocker.join("secrets")),
            intents: Intents::new(env.dir.path().join("intents")),
        },
        stop: Stop::new(),
        desired: None,
        observed: None,
    };
    let batch = engine::prepare(&creates(&["A"]), false).unwrap();
    let report = engine::execute(provider, batch, &options, |_, _| {}).await;
    let message = failure(&report.items[0].1);
    assert!(
        message.contains("could not be saved") || message.contains("cannot save it"),
        "{message}"
    );
    assert!(message.contains("rotate it"), "{message}");
    assert_eq!(report.status(), intsync_apply::Status::Failed);
    assert_eq!(env.ada_names(), ["A"]);
}

fn truto_update(id: &str, patch: Value, expected_version: u64) -> Plan {
    Plan {
        format_version: 1,
        target: "t".into(),
        has_changes: true,
        summary: intsync_plan::Summary {
            update: 1,
            ..Default::default()
        },
        actions: vec![Action::Update {
            kind: Kind::TrutoIntegration,
            id: id.into(),
            name: Some("crm".into()),
            manifest: "crm.yaml".into(),
            live_status: None,
            patch: patch.as_object().unwrap().clone(),
            live: Map::new(),
            expected_version: Some(expected_version),
            fingerprint: String::new(),
            drift: None,
        }],
        unmanaged: Vec::new(),
        skipped: Vec::new(),
        ignored: 0,
        unreadable: Vec::new(),
        sensitive: Vec::new(),
    }
}

/// Someone else's change between plan and apply: the update is stale (exit 4's status), not
/// retried with the fresher version; the same conflict when the change had in fact landed is
/// success.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truto_version_conflicts_are_stale_unless_the_change_landed() {
    let env = env().await;
    let created = env.call(
        http::Method::POST,
        "/integration",
        Some(json!({"name": "crm", "category": "crm"})),
    );
    let id = created["id"].as_str().unwrap().to_owned();
    env.call(
        http::Method::PATCH,
        &format!("/integration/{id}"),
        Some(json!({"category": "sales", "version": 1})),
    );
    let provider = env.provider(Kind::TrutoIntegration, Duration::from_secs(5));
    let plan = truto_update(&id, json!({"category": "helpdesk"}), 1);
    let report = run(&env, Arc::clone(&provider), &plan, Stop::new()).await;
    assert_eq!(report.status(), intsync_apply::Status::Stale, "{report:?}");
    assert!(!report.items[0].1.is_done());
    let live = env.call(http::Method::GET, &format!("/integration/{id}"), None);
    assert_eq!(live["category"], "sales", "not overwritten");
    assert_eq!(live["version"], 2);

    let landed = truto_update(&id, json!({"category": "sales"}), 1);
    let report = run(&env, provider, &landed, Stop::new()).await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
}

/// A plan creating one Truto integration with `sharing` (which Truto's create does not take).
fn truto_create(name: &str, sharing: &str) -> Plan {
    let desired = [DesiredIntegration {
        kind: Kind::TrutoIntegration,
        id: None,
        spec: json!({"name": name, "category": "crm", "sharing": sharing, "config": {"base_url": "https://x"}})
            .as_object()
            .unwrap()
            .into(),
        manifest: format!("{name}.yaml"),
        origin: Default::default(),
        routing: Default::default(),
    }];
    let observed = intsync_plan::Observed {
        kinds: vec![Kind::TrutoIntegration],
        integrations: Vec::new(),
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    intsync_plan::plan("t", &desired, &observed).unwrap()
}

impl Env {
    fn truto(&self, name: &str) -> Vec<Value> {
        self.call(
            http::Method::GET,
            &format!("/integration?name={name}"),
            None,
        )["result"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// `sharing` is set by a PATCH right after the create — also when the create's answer was lost
/// and the integration adopted from live state — and the run verifies it. When that PATCH is
/// refused, the item fails saying the integration was created and how to finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truto_sharing_is_set_right_after_the_create() {
    let env = env().await;
    let provider = env.provider(Kind::TrutoIntegration, Duration::from_secs(5));
    let report = run(
        &env,
        Arc::clone(&provider),
        &truto_create("a", "deny"),
        Stop::new(),
    )
    .await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    assert_eq!(env.truto("a")[0]["sharing"], "deny");

    env.fault("POST", 1, FaultAction::DropAfterCommit);
    let report = run(
        &env,
        Arc::clone(&provider),
        &truto_create("b", "ask"),
        Stop::new(),
    )
    .await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    assert!(matches!(
        report.items[0].1,
        Outcome::Created { adopted: true, .. }
    ));
    assert_eq!(env.truto("b")[0]["sharing"], "ask");

    env.fault(
        "PATCH",
        1,
        FaultAction::Status {
            status: 403,
            retry_after: None,
        },
    );
    let report = run(&env, provider, &truto_create("c", "ask"), Stop::new()).await;
    let message = failure(&report.items[0].1);
    let id = env.truto("c")[0]["id"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(&format!(
            "created \"c\" ({id}), but setting `sharing` right after it failed: PATCH"
        )),
        "{message}"
    );
    assert!(
        message.ends_with("run `intsync apply` again to set it"),
        "{message}"
    );
    assert_eq!(
        env.truto("c")[0]["sharing"],
        "allow",
        "Truto's default stays"
    );
}

/// An empty Ada target's state, as a plan made against it saw it.
fn empty_ada() -> intsync_plan::Observed {
    intsync_plan::Observed {
        kinds: vec![Kind::AdaPlatformIntegration],
        integrations: Vec::new(),
        ignored: Vec::new(),
        unreadable: Vec::new(),
    }
}

fn gets(env: &Env) -> usize {
    let log = env.server.emulator.requests();
    log.iter().filter(|r| r.method == "GET").count()
}

/// Given the state the plan was made from, verification reads the writes' answers (each
/// POST/PATCH answers the integration as it left it) instead of listing again, and re-plans
/// against them: a run costs no second `pages × latency`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_reads_the_write_answers_when_they_confirm_every_write() {
    let env = env().await;
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let names = ["A", "B", "C"];
    let options = Options {
        desired: Some(&desired_ada(&names)),
        observed: Some(&empty_ada()),
        ..env.options(Stop::new())
    };
    let batch = engine::prepare(&creates(&names), false).unwrap();
    let report = engine::execute(provider, batch, &options, |_, _| {}).await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    assert_eq!(gets(&env), 0, "no second listing");
    let verified = report.verified.as_ref().unwrap();
    assert_eq!(verified.integrations.len(), 3, "the answers, folded in");
}

/// When the answers leave a doubt (here: every PATCH answer lacks `description`, the field it
/// changed), live state is listed again and decides, as before: the writes landed, so they
/// verify; a write that did not land would fail (`verify_fails_writes_that_live_state_does_not_show`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_doubtful_answer_makes_verification_list_live_state() {
    let env = env().await;
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let report = run(&env, Arc::clone(&provider), &creates(&["A"]), Stop::new()).await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    let before = provider.observe().await.unwrap();
    let mut spec = ada_body("A");
    spec.insert("description".into(), json!("changed"));
    let desired = vec![DesiredIntegration {
        kind: Kind::AdaPlatformIntegration,
        id: None,
        spec: spec.into(),
        manifest: "A.yaml".into(),
        origin: Default::default(),
        routing: Default::default(),
    }];
    let plan = intsync_plan::plan("t", &desired, &before).unwrap();
    env.fault(
        "PATCH",
        1,
        FaultAction::DropField {
            field: "description".into(),
        },
    );
    let listed = gets(&env);
    let options = Options {
        desired: Some(&desired),
        observed: Some(&before),
        ..env.options(Stop::new())
    };
    let batch = engine::prepare(&plan, false).unwrap();
    let report = engine::execute(provider, batch, &options, |_, _| {}).await;
    assert_eq!(report.status(), intsync_apply::Status::Ok, "{report:?}");
    assert_eq!(gets(&env), listed + 1, "one listing decided");
    let live = &report.verified.as_ref().unwrap().integrations[0];
    assert_eq!(live.fields.get("description").unwrap(), "changed");
}

/// A create whose record cannot be written is never sent: a create not on disk before it leaves
/// could be lost, secret and all, to a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_that_cannot_be_recorded_is_not_sent() {
    let env = env().await;
    let blocker = env.dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let provider = env.provider(Kind::AdaPlatformIntegration, Duration::from_secs(5));
    let options = Options {
        stores: Stores {
            secrets: SecretStore::new(env.dir.path().join("secrets")),
            intents: Intents::new(blocker.join("intents")),
        },
        ..env.options(Stop::new())
    };
    let batch = engine::prepare(&creates(&["A"]), false).unwrap();
    let report = engine::execute(provider, batch, &options, |_, _| {}).await;
    let message = failure(&report.items[0].1);
    assert!(
        message.contains("cannot record the create") && message.contains("nothing was sent"),
        "{message}"
    );
    assert_eq!(env.posts(), 0);
    assert!(env.ada_names().is_empty());
}
