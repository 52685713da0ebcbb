//! What the fuzz targets check, shared with `tests/fuzz_corpus.rs`, which replays the committed
//! seed corpus and every regression input through these same functions on each `cargo test`.

use intsync_manifest::Kind;

/// Manifest loading and validation: any bytes, as the loader gets them from a file.
pub fn manifest(data: &[u8]) {
    // Files that are not UTF-8 are refused before parsing; fuzz the parser with what passes.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let loaded = intsync_manifest::load_source("fuzz.yaml", text);
    // Every diagnostic must point inside the text, and rendering must not panic.
    for d in &loaded.diagnostics {
        assert!(d.span.line >= 1 && d.span.column >= 1, "{d:?}");
        assert!(d.span.offset + d.span.len <= text.len(), "{d:?}");
    }
    let _ = intsync_manifest::render::json(&loaded.diagnostics);
    let style = intsync_manifest::render::HumanStyle {
        color: false,
        width: 100,
    };
    let _ = intsync_manifest::render::human(&loaded.diagnostics, style);
    // What validates must plan: against an empty target, and against live state made from the
    // manifests themselves — each one unchanged (noop), changed (update), or changed and no
    // longer in development (blocked, on Ada) — with the plan saying exactly that.
    let valid = !loaded.has_errors();
    // Valid, but without every field a create needs: it plans only once matched by name.
    let partial = loaded
        .diagnostics
        .iter()
        .any(|d| d.code == intsync_manifest::Code::MissingCreateField);
    let desired: Vec<_> = loaded
        .manifests
        .into_iter()
        .map(intsync_plan::DesiredIntegration::from_manifest)
        .collect();
    let kinds = vec![Kind::AdaPlatformIntegration, Kind::TrutoIntegration];
    let empty = intsync_plan::Observed {
        kinds: kinds.clone(),
        integrations: Vec::new(),
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    let planned = intsync_plan::plan("fuzz", &desired, &empty);
    let refused_create = |errors: &[intsync_plan::PlanError]| {
        partial
            && errors
                .iter()
                .all(|e| matches!(e.problem, intsync_plan::Problem::CreateLacks { .. }))
    };
    assert!(
        planned.is_ok() || !valid || planned.as_ref().is_err_and(|e| refused_create(e)),
        "input that validated does not plan: {planned:?}"
    );
    // Three rotations, so that even a file of one manifest meets all three.
    for rotation in 0..3 {
        let (integrations, expected): (Vec<_>, Vec<_>) = desired
            .iter()
            .enumerate()
            .map(|(i, want)| live_twin(i + rotation, want))
            .unzip();
        let observed = intsync_plan::Observed {
            kinds: kinds.clone(),
            integrations,
            ignored: Vec::new(),
            unreadable: Vec::new(),
        };
        match intsync_plan::plan("fuzz", &desired, &observed) {
            Ok(plan) => {
                let got: Vec<&str> = plan.actions.iter().map(action_name).collect();
                assert_eq!(got, expected, "the plan against live twins");
                render_and_read_back(&plan);
            }
            Err(errors) => assert!(!valid, "input that validated does not plan: {errors:?}"),
        }
    }
}

/// A live integration made from manifest `i`, and the action the plan must then have for it:
/// unchanged (`noop`), one managed string field changed (`update`), or changed on an Ada
/// integration that is no longer in development (`blocked`).
fn live_twin(
    i: usize,
    want: &intsync_plan::DesiredIntegration,
) -> (intsync_plan::ObservedIntegration, &'static str) {
    let mut fields = want.spec.to_map();
    let ada = want.kind == Kind::AdaPlatformIntegration;
    let variant = i % 3;
    // A managed string field other than the name (identity), changed live.
    let changed = (variant > 0)
        .then(|| {
            fields
                .iter_mut()
                .find(|(k, v)| k.as_str() != "name" && v.is_string())
                .map(|(_, v)| {
                    *v = serde_json::Value::String(format!(
                        "{}-live",
                        v.as_str().unwrap_or_default()
                    ))
                })
        })
        .flatten()
        .is_some();
    let frozen = ada && variant == 2;
    let live = intsync_plan::ObservedIntegration::new(
        want.kind,
        want.id.clone().unwrap_or_else(|| format!("live-{i}")),
        ada.then(|| if frozen { "approved" } else { "development" }.to_owned()),
        (!ada).then_some(1),
        fields,
    );
    let expected = match (changed, frozen) {
        (false, _) => "noop",
        (true, true) => "blocked",
        (true, false) => "update",
    };
    (live, expected)
}

fn action_name(action: &intsync_plan::Action) -> &'static str {
    match action {
        intsync_plan::Action::Create { .. } => "create",
        intsync_plan::Action::Update { .. } => "update",
        intsync_plan::Action::Blocked { .. } => "blocked",
        intsync_plan::Action::Noop { .. } => "noop",
    }
}

/// Every rendering works, and the plan document reads back as the same plan (`apply --plan`).
fn render_and_read_back(plan: &intsync_plan::Plan) {
    let json = intsync_plan::render::json(plan);
    let _ = intsync_plan::render::text(plan, intsync_plan::render::Style { color: false });
    let _ = intsync_plan::render::markdown(plan);
    let back: intsync_plan::Plan = serde_json::from_str(&json).expect("the plan document parses");
    assert_eq!(&back, plan, "the plan document reads back as the plan");
}

/// A provider's answer: any bytes as a list page (Ada or Truto, by the first byte), the way
/// `Provider::list` reads it, then planned against; and as an error body and a create answer.
pub fn response(data: &[u8]) {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let kind = if selector % 2 == 0 {
        Kind::AdaPlatformIntegration
    } else {
        Kind::TrutoIntegration
    };
    let _ = intsync_provider::wire::error_message(body);
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return;
    };
    let _ = intsync_provider::wire::client_secret(&value);
    let _ = intsync_provider::wire::observed(kind, value.clone());
    let Ok((items, _next)) = intsync_provider::wire::page(kind, value, 100) else {
        return;
    };
    let integrations: Vec<_> = items
        .into_iter()
        .filter_map(|item| intsync_provider::wire::observed(kind, item).ok())
        .collect();
    let observed = intsync_plan::Observed {
        kinds: vec![kind],
        integrations,
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    if let Ok(plan) = intsync_plan::plan("fuzz", &[], &observed) {
        render_and_read_back(&plan);
    }
}
