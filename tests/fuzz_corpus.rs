//! Replays the fuzz targets' committed inputs — the seed corpus and every regression (a crash a
//! fuzzing run found, kept once fixed) — through the same checks the fuzz targets run
//! (`fuzz/checks.rs`), so they hold on every `cargo test`, not only under `cargo fuzz`.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz")
            .join(dir)
            .join(target);
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect();
        entries.sort();
        for path in entries {
            let data = std::fs::read(&path).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&data));
            assert!(outcome.is_ok(), "{} fails its fuzz check", path.display());
            count += 1;
        }
    }
    count
}

#[test]
fn manifest_inputs_pass() {
    assert!(
        replay("manifest", checks::manifest) >= 30,
        "the seed corpus is there"
    );
}

#[test]
fn response_inputs_pass() {
    assert!(
        replay("response", checks::response) >= 10,
        "the seed corpus is there"
    );
}
