//! Reading a list page by page (issue #21): only pages of the list are followed. A
//! `meta.next_page_url` whose path is not the list's is an error naming it and the page it came
//! from, and is never asked for (the token would go with it); Truto's cursor only ever goes into
//! the query. An id listed twice is an error naming it, not an integration planned twice.
//!
//! The API here is a hand-written server (`common::tiny::Server`) answering what the emulator
//! never would.

mod common;

use std::sync::Arc;

use serde_json::{Value, json};

use common::tiny::{Answer, Request, Server};
use common::{Workdir, ada_manifest, ada_record};

const FIRST_PAGE: &str = "/api/v2/platform-integrations/?limit=100";

/// An Ada integration as the list answers it.
fn ada_item(id: &str, name: &str) -> Value {
    ada_record(id, name, "same")
}

fn ada_page(items: &[Value], next: Option<&str>) -> (u16, String) {
    (
        200,
        json!({"data": items, "meta": {"next_page_url": next}}).to_string(),
    )
}

/// An `Env` whose targets point at `server` (the Truto one with its team given, so only its
/// list is asked), with `manifests`.
fn env_at(server: &Server, manifests: &[(&str, String)]) -> Workdir {
    let env = common::tiny::env_at(server, manifests);
    env.set_truto_team("\"page-team\"");
    env
}

/// A `next_page_url` that is not a page of the list: the plan fails naming
/// `meta.next_page_url`, its value (quoted, escaped, cut) and the page it came from, and
/// nothing but the list's own path is ever asked for.
#[test]
fn a_next_page_url_outside_the_list_is_named_and_never_asked() {
    let hostile = format!("/x\u{1b}[31m\u{202e}{}", "y".repeat(500));
    let cases: [(&str, &str); 5] = [
        ("aute aliquip", r#""aute aliquip""#),
        ("/api/v2/end-users/", r#""/api/v2/end-users/""#),
        (
            "https://elsewhere.example/api/v2/end-users/?cursor=c2&limit=100",
            r#""https://elsewhere.example/api/v2/end-users/?cursor=c2&limit=100""#,
        ),
        (
            "/api/v2/platform-integrations-v3/?cursor=c2",
            r#""/api/v2/platform-integrations-v3/?cursor=c2""#,
        ),
        (&hostile, r#""/x\u{1b}[31m\u{202e}yyyy"#),
    ];
    for (next, shown) in cases {
        let next = Arc::new(next.to_owned());
        let server = {
            let next = Arc::clone(&next);
            server(move |request| {
                if request.target.starts_with("/api/v2/platform-integrations/") {
                    ada_page(&[ada_item("a1", "Page one")], Some(&next))
                } else {
                    // Somewhere else: an empty list, so following it would go unnoticed.
                    ada_page(&[], None)
                }
            })
        };
        let env = env_at(&server, &[("a.yaml", ada_manifest("Page one", "same"))]);
        let (code, stdout, stderr) = env.run(&["plan"]);
        assert_eq!(code, 1, "{next}: {stdout}{stderr}");
        assert!(stderr.contains("`meta.next_page_url` is "), "{stderr}");
        assert!(stderr.contains(shown), "{next}: {stderr}");
        assert!(
            stderr.contains(&format!("{}{FIRST_PAGE} answered 200", server.base_url())),
            "the page it came from: {stderr}"
        );
        assert!(
            !stderr.contains('\u{1b}') && !stderr.contains('\u{202e}'),
            "{stderr:?}"
        );
        if next.len() > 300 {
            assert!(stderr.contains("yyyy\"…"), "cut: {stderr}");
            assert!(stderr.len() < 2000, "cut: {stderr}");
        }
        let asked: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
        assert!(
            !asked.is_empty() && asked.iter().all(|t| t == FIRST_PAGE),
            "{next}: only the list's own page is asked for: {asked:?}"
        );
    }
}

/// A page of the list is followed, with or without the collection's trailing slash, on
/// whatever host the answer names (the request goes to `base_url`).
#[test]
fn pages_of_the_list_are_followed_with_or_without_the_slash() {
    let server = server(|request| match request.target.as_str() {
        FIRST_PAGE => ada_page(
            &[ada_item("a1", "Page one")],
            Some("https://elsewhere.example/api/v2/platform-integrations?cursor=a2&limit=100"),
        ),
        "/api/v2/platform-integrations?cursor=a2&limit=100" => ada_page(
            &[ada_item("a2", "Page two")],
            Some("/api/v2/platform-integrations/?cursor=a3&limit=100"),
        ),
        "/api/v2/platform-integrations/?cursor=a3&limit=100" => {
            ada_page(&[ada_item("a3", "Page three")], None)
        }
        _ => (
            404,
            r#"{"errors":[{"type":"not_found","message":"no"}]}"#.to_owned(),
        ),
    });
    let env = env_at(&server, &[("a.yaml", ada_manifest("Page one", "same"))]);
    let (code, stdout, stderr) = env.run(&["plan", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["summary"]["noop"], 1);
    assert_eq!(plan["summary"]["unmanaged"], 2);
    assert_eq!(server.requests().len(), 3);
}

/// The same id on two pages, or twice on one: an error naming the id (quoted) and the pages,
/// not one integration planned as managed and as unmanaged.
#[test]
fn an_id_listed_twice_is_an_error_naming_it_and_its_pages() {
    let second = "/api/v2/platform-integrations/?cursor=c2&limit=100";
    let across = server(move |request| {
        if request.target == FIRST_PAGE {
            ada_page(
                &[ada_item("a1", "Page one"), ada_item("dup\"1", "Page two")],
                Some(second),
            )
        } else {
            ada_page(&[ada_item("dup\"1", "Page two again")], None)
        }
    });
    let within = server(|_| {
        ada_page(
            &[
                ada_item("dup\"1", "Page two"),
                ada_item("dup\"1", "Page two"),
            ],
            None,
        )
    });
    let manifest = "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata: {id: 'dup\"1'}\nspec: {description: same}\n".to_owned();
    for (server, place) in [
        (
            &across,
            format!("listed on the page `{FIRST_PAGE}` and again on the page `{second}`"),
        ),
        (&within, format!("listed twice on the page `{FIRST_PAGE}`")),
    ] {
        let env = env_at(server, &[("dup.yaml", manifest.clone())]);
        let (code, stdout, stderr) = env.run(&["plan"]);
        assert_eq!(code, 1, "{stdout}{stderr}");
        assert!(
            stderr.contains(&format!(r#"the integration id "dup\"1" is {place}"#)),
            "{stderr}"
        );
    }
}

/// Truto's `next_cursor` is the vendor's text: it goes into the query, encoded, never into the
/// path, whatever it holds.
#[test]
fn a_truto_cursor_stays_in_the_query() {
    let cursor = "../../environment?x=1#y/z &";
    let server = server(move |request| {
        if request.target == "/integration?limit=100" {
            let item = json!({"id": "t1", "name": "paged", "team_id": "page-team", "version": 1, "config": {}});
            (
                200,
                json!({"result": [item], "next_cursor": cursor, "limit": 100}).to_string(),
            )
        } else {
            (
                200,
                json!({"result": [], "next_cursor": null, "limit": 100}).to_string(),
            )
        }
    });
    let env = env_at(
        &server,
        &[("t.yaml", common::truto_manifest("paged", "crm"))],
    );
    let (code, _, stderr) = env.run(&["plan", "--target", "truto"]);
    assert_eq!(code, 0, "{stderr}");
    let asked: Vec<String> = server.requests().into_iter().map(|r| r.target).collect();
    assert_eq!(
        asked,
        [
            "/integration?limit=100",
            "/integration?limit=100&next_cursor=..%2F..%2Fenvironment%3Fx%3D1%23y%2Fz+%26",
        ]
    );
}

/// A server answering each request with the `(status, JSON body)` of `answer`.
fn server(answer: impl Fn(&Request) -> (u16, String) + Send + Sync + 'static) -> Server {
    Server::start(move |request| {
        let (status, body) = answer(request);
        Answer::json(status, body)
    })
}
