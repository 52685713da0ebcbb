//! The loader over the YAML project's conformance suite (intsync-yaml's
//! `tests/yaml-test-suite`, whose reader tests run the same cases): it never panics, and an
//! invalid case loads with an error and no manifest.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[test]
fn the_loader_refuses_every_invalid_case_and_never_panics() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../intsync-yaml/tests/yaml-test-suite");
    let mut dirs: Vec<_> = walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name() == "in.yaml")
        .map(|e| e.path().parent().unwrap().to_path_buf())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() > 400,
        "only {} cases in {}",
        dirs.len(),
        root.display()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.strip_prefix(&root).unwrap().display().to_string();
        let yaml = std::fs::read_to_string(dir.join("in.yaml")).unwrap();
        let Ok(loaded) = catch_unwind(AssertUnwindSafe(|| {
            intsync_manifest::load_source("in.yaml", &yaml)
        })) else {
            failures.push(format!("{name}: the loader panicked"));
            continue;
        };
        if dir.join("error").exists() && (!loaded.manifests.is_empty() || !loaded.has_errors()) {
            failures.push(format!("{name}: invalid YAML, loaded without an error"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
