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
    // What validates must plan.
    let desired: Vec<_> = loaded
        .manifests
        .into_iter()
        .map(intsync_plan::DesiredIntegration::from_manifest)
        .collect();
    let observed = intsync_plan::Observed {
        kinds: vec![Kind::AdaPlatformIntegration, Kind::TrutoIntegration],
        integrations: Vec::new(),
    };
    let _ = intsync_plan::plan("fuzz", &desired, &observed);
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
    };
    if let Ok(plan) = intsync_plan::plan("fuzz", &[], &observed) {
        let _ = intsync_plan::render::json(&plan);
        let _ = intsync_plan::render::text(&plan, intsync_plan::render::Style { color: false });
        let _ = intsync_plan::render::markdown(&plan);
    }
}
