//! Issue #24, design §11: targets sharing `base_url` and token share one rate limiter and one
//! retry budget; targets of different tokens run in parallel. Against the emulator over HTTP,
//! enforcing Ada's documented limits (10 requests per second, 100 per minute) per token.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use intsync_emulator::{Emulator, RateLimitPreset, Store, server::RunningServer};
use intsync_manifest::Kind;
use intsync_provider::Provider;
use intsync_run::config::{Config, Connections, Target};

/// Requests each target sends, all at once.
const EACH: usize = 15;

async fn emulator(token: &str) -> RunningServer {
    let emulator = Emulator::new(Store::in_memory(), token);
    emulator.set_rate_limits(RateLimitPreset::Documented);
    RunningServer::start(emulator, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

/// Two Ada targets (`a` on `base_a` with `TOKEN_A`, `b` on `base_b` with `TOKEN_B`), each with
/// Ada's documented limit (the default), connected together.
fn connect(base_a: &str, base_b: &str, tokens: (&str, &str)) -> (Provider, Provider) {
    let config = Config::parse(
        &format!(
            "[targets.a]\nprovider = \"ada\"\nbase_url = \"{base_a}\"\ntoken_env = \"TOKEN_A\"\n\
             [targets.b]\nprovider = \"ada\"\nbase_url = \"{base_b}\"\ntoken_env = \"TOKEN_B\"\n"
        ),
        Path::new("intsync.toml"),
    )
    .unwrap();
    let targets: Vec<&Target> = ["a", "b"]
        .iter()
        .map(|n| config.target(Some(n)).unwrap())
        .collect();
    let env = |name: &str| match name {
        "TOKEN_A" => Some(tokens.0.to_owned()),
        "TOKEN_B" => Some(tokens.1.to_owned()),
        _ => None,
    };
    let connections = Connections::reading(&targets, &env).unwrap();
    (
        connections.provider(targets[0]).unwrap(),
        connections.provider(targets[1]).unwrap(),
    )
}

/// `EACH` list requests from each provider, all at once; how long they took.
async fn list_together(a: Provider, b: Provider) -> Duration {
    let (a, b) = (Arc::new(a), Arc::new(b));
    let started = Instant::now();
    let tasks: Vec<_> = (0..EACH)
        .flat_map(|_| [Arc::clone(&a), Arc::clone(&b)])
        .map(|p| tokio::spawn(async move { p.list(Kind::AdaPlatformIntegration).await }))
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    started.elapsed()
}

fn refused(server: &RunningServer) -> usize {
    server
        .emulator
        .requests()
        .iter()
        .filter(|r| r.status == Some(429))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_targets_on_one_token_stay_under_its_limit_together() {
    let server = emulator("shared-token").await;
    let base = server.base_url();
    // The same API, spelled with and without a trailing slash: one origin.
    let (a, b) = connect(&base, &format!("{base}/"), ("shared-token", "shared-token"));
    let took = list_together(a, b).await;
    assert_eq!(
        refused(&server),
        0,
        "no 429: the two targets share one limiter"
    );
    assert_eq!(server.emulator.requests().len(), 2 * EACH);
    // 30 requests at 10 per second: the first 10 at once, then 10 a second later, then 10.
    assert!(
        took >= Duration::from_secs(2),
        "the two targets were limited together: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tokens_each_limited_run_in_parallel() {
    let (one, two) = (emulator("token-one").await, emulator("token-two").await);
    let (a, b) = connect(&one.base_url(), &two.base_url(), ("token-one", "token-two"));
    let took = list_together(a, b).await;
    assert_eq!(refused(&one) + refused(&two), 0, "no 429");
    assert_eq!(one.emulator.requests().len(), EACH);
    assert_eq!(two.emulator.requests().len(), EACH);
    // 15 requests each at 10 per second: 10 at once and 5 a second later, on both at once.
    assert!(
        took < Duration::from_millis(1900),
        "the two tokens were not limited together: {took:?}"
    );
}
