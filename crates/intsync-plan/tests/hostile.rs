//! Names and values from manifests and live state are hostile in every rendering (design §12,
//! docs/plan.md "Hostile names"). The Markdown of `plan` and `drift` (PR comments, the drift
//! issue) is parsed back with a CommonMark parser: hostile text only ever appears inside code
//! (a code span, a code block, or `<code>` in the HTML of a `<details>` summary), and none of it
//! makes a heading, a link, an image, HTML, a mention, an issue reference, a table or a closed
//! `<details>`. The text rendering holds no control or invisible character (no terminal escape).

use intsync_manifest::Kind;
use intsync_plan::render::{self, MARKDOWN_LIMIT, Style};

mod inert_check;

use inert_check::{HOSTILE, assert_inert_markdown, assert_inert_text, markdown_problems};
use intsync_plan::{
    DesiredIntegration, Observed, ObservedIntegration, Plan, Unreadable, drift, plan,
};
use serde_json::{Value, json};

fn live(id: &str, status: &str, fields: Value) -> ObservedIntegration {
    ObservedIntegration::new(
        Kind::AdaPlatformIntegration,
        id.to_owned(),
        Some(status.to_owned()),
        None,
        fields.as_object().unwrap().clone(),
    )
}

fn desired(manifest: String, id: Option<String>, spec: Value) -> DesiredIntegration {
    DesiredIntegration {
        kind: Kind::AdaPlatformIntegration,
        id,
        spec: spec.as_object().unwrap().into(),
        manifest,
        origin: Default::default(),
        routing: Default::default(),
    }
}

/// Every hostile string as a live name, id and status, a manifest's path and name, a value, a
/// key deep in a form, and a member of a set; an update, a blocked change, a create, an
/// unmanaged integration and an unreadable one (its id, name, page and reason hostile, and a
/// manifest set aside because of it) each.
fn hostile_plan() -> (Vec<DesiredIntegration>, Plan) {
    let mut want = Vec::new();
    let mut have = Vec::new();
    let mut broken = Vec::new();
    for (i, h) in HOSTILE.iter().enumerate() {
        let form = json!({"type": "object", "properties": {*h: {"type": "string", "title": h}}});
        want.push(desired(
            format!("manifests/{i}-{h}.yaml"),
            Some(format!("u{i}-{h}")),
            json!({"description": format!("new {h}"), "configuration_fields": form, "scopes": [h]}),
        ));
        have.push(live(
            &format!("u{i}-{h}"),
            "development",
            json!({"name": h, "description": format!("old {h}"), "configuration_fields": {"type": "object"}, "scopes": []}),
        ));
        want.push(desired(
            format!("manifests/blocked-{i}-{h}.yaml"),
            Some(format!("b{i}-{h}")),
            json!({"description": h}),
        ));
        have.push(live(
            &format!("b{i}-{h}"),
            h,
            json!({"name": h, "description": "x"}),
        ));
        want.push(desired(
            format!("manifests/new-{i}-{h}.yaml"),
            None,
            intsync_plan::testing::creatable(
                Kind::AdaPlatformIntegration,
                json!({"name": format!("new {i} {h}"), "description": h, "error_codes": {*h: h}}),
            ),
        ));
        have.push(live(&format!("s{i}-{h}"), "approved", json!({"name": h})));
        want.push(desired(
            format!("manifests/unreadable-{i}-{h}.yaml"),
            Some(format!("r{i}-{h}")),
            json!({"description": h}),
        ));
        broken.push(Unreadable {
            kind: Kind::AdaPlatformIntegration,
            id: Some(format!("r{i}-{h}")),
            name: Some(h.to_string()),
            page: format!("/api/v2/platform-integrations/?cursor={h}"),
            reason: format!("has no `{h}`"),
            set_aside: Vec::new(),
        });
    }
    let observed = Observed {
        kinds: vec![Kind::AdaPlatformIntegration],
        integrations: have,
        ignored: Vec::new(),
        unreadable: broken,
    };
    let mut planned = plan("ada-dev", &want, &observed).unwrap();
    planned.target = "t`x\n\n# ZQ target".to_owned();
    (want, planned)
}

#[test]
fn hostile_names_and_values_stay_inert_in_markdown() {
    let (want, mut planned) = hostile_plan();
    assert_eq!(planned.summary.update, HOSTILE.len());
    assert_eq!(planned.summary.blocked, HOSTILE.len());
    assert_eq!(planned.summary.create, HOSTILE.len());
    assert_eq!(planned.summary.unmanaged, HOSTILE.len());
    assert_eq!(planned.unreadable.len(), HOSTILE.len());
    assert!(planned.unreadable.iter().all(|u| u.set_aside.len() == 1));
    let markdown = render::markdown(&planned);
    assert_inert_markdown(&markdown, "intsync plan for ");
    // What was hidden is shown, escaped.
    for shown in [
        r"\n\n## ✅ no changes",
        r"\u{202e}ZQ\u{202c}",
        r"\u{1b}[2J",
        r"\u{9b}31mZQ",
        r"nul\u{0}ZQ",
        r"cr\rZQ",
        r"tag\u{e0041}ZQ",
    ] {
        assert!(markdown.contains(shown), "{shown} not shown: {markdown}");
    }

    drift::classify(&mut planned, &want, None);
    let drifted = drift::only_drift(planned.clone());
    assert_inert_markdown(
        &render::markdown_titled(&drifted, "drift"),
        "intsync drift for ",
    );
    assert_inert_markdown(&render::markdown(&planned), "intsync plan for ");
}

/// The checker itself: each thing it must catch, it catches.
#[test]
fn the_markdown_checker_catches_what_it_must() {
    for (bad, title) in [
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\n## no changes\n",
            "heading",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\n@team\n",
            "`@`",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\nsee #123\n",
            "`#`",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\n[a](https://e)\n",
            "link",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\n<img src=x>\n",
            "<img",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\n</details>\n",
            "</details>",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\n`a\u{202e}`\n",
            "raw",
        ),
        (
            "### intsync plan for x\n\n| a |\n|---|\n| 1 |\n\nx ZQ\n",
            "ZQ",
        ),
    ] {
        assert!(
            !markdown_problems(bad, "intsync plan for ").is_empty(),
            "missed the {title}"
        );
    }
}

/// A terminal shows the text rendering: no escape sequence, carriage return or bidi override of
/// a name or value reaches it; with colour, only intsync's own colour codes.
#[test]
fn hostile_names_and_values_stay_inert_in_text() {
    let (want, mut planned) = hostile_plan();
    drift::classify(&mut planned, &want, None);
    for color in [false, true] {
        let text = render::text(&planned, Style { color });
        assert_inert_text(&text);
        assert!(text.contains(r"\u{1b}[2J"), "{text}");
        assert!(text.contains(r"\u{202e}ZQ"), "{text}");
    }
    // What stderr says of the unreadable ones (the target's name from the configuration).
    let report =
        render::unreadable_report(&planned.target, &planned.unreadable, "the rest").join("\n");
    assert_inert_text(&report);
    assert!(report.contains(r"\u{1b}[2J"), "{report}");
}

/// Escaping makes names longer (a bidi override is 8 characters once shown): the comment still
/// fits GitHub's limit, cut at whole blocks.
#[test]
fn the_budget_holds_with_escaped_names() {
    let mut want = Vec::new();
    let mut have = Vec::new();
    for i in 0..400 {
        let name = format!("{i:03}{}", "\u{202e}".repeat(150));
        want.push(desired(
            format!("manifests/{i}.yaml"),
            Some(format!("id{i}")),
            json!({"description": "\u{1b}".repeat(100)}),
        ));
        have.push(live(
            &format!("id{i}"),
            "development",
            json!({"name": name, "description": "x"}),
        ));
    }
    let observed = Observed {
        kinds: vec![Kind::AdaPlatformIntegration],
        integrations: have,
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    let planned = plan("ada-dev", &want, &observed).unwrap();
    let markdown = render::markdown(&planned);
    assert!(markdown.chars().count() <= MARKDOWN_LIMIT);
    assert!(markdown.contains("**Left out: "), "{markdown}");
    assert_inert_markdown(&markdown, "intsync plan for ");

    // As many unreadable integrations, as long once escaped: their list is cut, counted, and
    // the comment still fits.
    let mut observed = observed;
    observed.unreadable = (0..400)
        .map(|i| Unreadable {
            kind: Kind::AdaPlatformIntegration,
            id: Some(format!("r{i}")),
            name: Some(format!("{i:03}{}", "\u{202e}".repeat(150))),
            page: "/api/v2/platform-integrations/?limit=100".to_owned(),
            reason: "has no `status`".to_owned(),
            set_aside: Vec::new(),
        })
        .collect();
    let planned = plan("ada-dev", &want, &observed).unwrap();
    let markdown = render::markdown(&planned);
    assert!(markdown.chars().count() <= MARKDOWN_LIMIT);
    assert!(
        markdown.contains("**✗ 400 live integrations cannot be read**"),
        "{markdown}"
    );
    assert!(
        markdown.contains(" more (the JSON plan lists every one)"),
        "{markdown}"
    );
    assert_inert_markdown(&markdown, "intsync plan for ");
}
