//! Requests go only to `base_url`: intsync follows no redirect. A vendor answering 3xx is an
//! error that names the status and the `Location` and says to update `base_url`; the place it
//! points to never receives a request (nor the token), and the request is not sent again.
//!
//! The servers here are tiny HTTP/1.1 servers on loopback (one connection per request) that
//! count what they receive: "the API" at `base_url`, and "elsewhere", which answers every list
//! with an empty page — so a client that followed the redirect would plan from it a create of
//! everything (what reqwest's default policy did).

mod common;

use std::sync::{Arc, Mutex};

use common::tiny::{Answer, Request, Server};
use common::{Workdir, ada_manifest, truto_manifest};

/// An empty list page in the envelope of the API `target` belongs to.
fn empty_page(target: &str) -> Answer {
    let body = if target.starts_with("/api/v2/platform-integrations") {
        r#"{"data":[],"meta":{"next_page_url":null}}"#
    } else {
        r#"{"result":[],"next_cursor":null,"limit":100}"#
    };
    Answer {
        status: 200,
        location: None,
        body: body.to_owned(),
    }
}

/// Elsewhere: every GET is an empty list; anything else a 404.
fn elsewhere() -> Server {
    Server::start(|request| {
        if request.method == "GET" {
            empty_page(&request.target)
        } else {
            Answer {
                status: 404,
                location: None,
                body: r#"{"message":"not here"}"#.to_owned(),
            }
        }
    })
}

/// A redirect to `to` + the request's own path and query.
fn redirect(status: u16, to: &str, request: &Request) -> Answer {
    Answer {
        status,
        location: Some(format!("{to}{}", request.target)),
        body: String::new(),
    }
}

/// An `Env` whose targets `ada` and `truto` point at `base` (one of the servers above), with a
/// manifest of each vendor that does not exist there (so a plan from an empty list is a create).
fn env_at(base: &str) -> Workdir {
    let env = Workdir::new();
    env.write_config(
        base,
        100,
        "retry = { attempts = 6, base_delay_ms = 10, max_delay_ms = 100 }",
    );
    // The team given, so the Truto target asks these servers only for its integrations.
    env.set_truto_team("\"redirect-team\"");
    env.manifest("a.yaml", &ada_manifest("Redirected", "x"));
    env.manifest("t.yaml", &truto_manifest("redirected", "crm"));
    env
}

fn collection(target: &str) -> &'static str {
    if target == "ada" {
        "/api/v2/platform-integrations/"
    } else {
        "/integration"
    }
}

/// Every redirect status, for plan and apply, on both vendors: exit 1 with a message naming
/// the status, the `Location` and `base_url`; one request each (not retried), none elsewhere.
#[test]
fn a_redirect_to_another_server_is_an_error_and_is_not_followed() {
    let elsewhere = elsewhere();
    let to = format!("http://localhost:{}", elsewhere.port);
    let status = Arc::new(Mutex::new(307));
    let api = Server::start({
        let status = Arc::clone(&status);
        move |request| redirect(*status.lock().unwrap(), &to, request)
    });
    let env = env_at(&format!("http://127.0.0.1:{}", api.port));

    let mut runs = Vec::new();
    for target in ["ada", "truto"] {
        for code in [301, 302, 303, 307, 308] {
            runs.push((target, code, vec!["plan", "--target", target]));
        }
        runs.push((
            target,
            307,
            vec!["apply", "--target", target, "--auto-approve"],
        ));
    }
    for (target, code, args) in runs {
        *status.lock().unwrap() = code;
        let before = api.count();
        let (exit, stdout, stderr) = env.run(&args);
        assert_eq!(exit, 1, "{args:?} answered {code}: {stdout}{stderr}");
        let location = format!(
            "http://localhost:{}{}?limit=100",
            elsewhere.port,
            collection(target)
        );
        for needle in [
            format!("answered {code}"),
            format!("points to `{location}`"),
            "intsync follows no redirect".to_owned(),
            "update `base_url`".to_owned(),
            "intsync.toml".to_owned(),
        ] {
            assert!(
                stderr.contains(&needle),
                "{args:?} {code}: no {needle:?} in {stderr}"
            );
        }
        assert!(!stdout.contains("will be created"), "{args:?}: {stdout}");
        assert_eq!(
            api.count() - before,
            1,
            "{args:?} {code}: one request, not retried: {:?}",
            api.requests()
        );
    }
    assert!(
        api.requests()
            .iter()
            .all(|r| r.method == "GET" && r.authorized),
        "{:?}",
        api.requests()
    );
    assert_eq!(
        elsewhere.requests().len(),
        0,
        "the place a redirect points to received a request: {:?}",
        elsewhere.requests()
    );
}

/// A relative `Location` (same host, another path) is not followed either.
#[test]
fn a_redirect_on_the_same_host_is_not_followed() {
    let api = Server::start(|request| {
        if request.target.starts_with("/v3") {
            empty_page("/api/v2/platform-integrations/")
        } else {
            redirect(308, "/v3", request)
        }
    });
    let env = env_at(&format!("http://127.0.0.1:{}", api.port));
    let (exit, stdout, stderr) = env.run(&["plan"]);
    assert_eq!(exit, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("answered 308 and points to `/v3/api/v2/platform-integrations/?limit=100`"),
        "{stderr}"
    );
    assert!(stderr.contains("update `base_url`"), "{stderr}");
    let requests = api.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(
        requests[0].target,
        "/api/v2/platform-integrations/?limit=100"
    );
}

/// A create answered with a redirect did not create (a 3xx is not success): that item fails
/// with the redirect's message at once. It is not re-sent, not sent where the redirect points,
/// and not looked for in live state as an unknown outcome would be.
#[test]
fn a_create_answered_with_a_redirect_fails_and_is_neither_resent_nor_looked_for() {
    let elsewhere = elsewhere();
    let to = format!("http://localhost:{}", elsewhere.port);
    let api = Server::start(move |request| {
        if request.method == "GET" {
            empty_page(&request.target)
        } else {
            redirect(307, &to, request)
        }
    });
    let env = env_at(&format!("http://127.0.0.1:{}", api.port));
    for target in ["ada", "truto"] {
        let before = api.requests().len();
        let started = std::time::Instant::now();
        let (exit, stdout, stderr) = env.run(&["apply", "--target", target, "--auto-approve"]);
        assert_eq!(exit, 1, "{target}: {stdout}{stderr}");
        let path = collection(target);
        let location = format!("http://localhost:{}{path}", elsewhere.port);
        for needle in [
            format!("POST http://127.0.0.1:{}{path} answered 307", api.port),
            format!("points to `{location}`"),
            "update `base_url`".to_owned(),
        ] {
            assert!(
                stderr.contains(&needle),
                "{target}: no {needle:?} in {stderr}"
            );
        }
        assert!(!stderr.contains("outcome unknown"), "{target}: {stderr}");
        let requests = api.requests()[before..].to_vec();
        let posts = requests.iter().filter(|r| r.method == "POST").count();
        assert_eq!(posts, 1, "{target}: sent once: {requests:?}");
        let gets = requests.iter().filter(|r| r.method == "GET").count();
        assert!(
            gets <= 2,
            "{target}: the plan's list (and the verifying one), no search: {requests:?}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{target}: no grace window waited out"
        );
    }
    assert_eq!(elsewhere.requests().len(), 0, "{:?}", elsewhere.requests());
}
