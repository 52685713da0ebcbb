//! `intsync validate` on 10,000 generated manifests (issue #2: under 1 s on 2 cores; issue #16:
//! under 0.25 s and 100 MB).
//!
//! The corpus is written once to `target/bench-manifests/` (3 Ada manifests with nested forms,
//! each form different, for every Truto one, ~1.8 KB each), so `scripts/bench-validate.sh` can
//! also measure the CLI's peak memory on the very same files.
//!
//! Run: `cargo bench --bench validate`

fn main() {
    divan::main();
}

#[path = "common/corpus.rs"]
mod corpus;

use corpus::{MANIFESTS, corpus};

/// What `intsync validate` runs: every check, no manifest kept.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn validate_10k(bencher: divan::Bencher) {
    let dir = corpus();
    bencher.bench(|| {
        let validated = intsync_manifest::validate(std::slice::from_ref(&dir));
        assert_eq!(
            validated.manifests,
            MANIFESTS,
            "{:?}",
            validated.diagnostics.first().map(|d| &d.message)
        );
        assert!(validated.diagnostics.is_empty());
        validated
    });
}

/// What `plan` and the other commands run first: the same checks, keeping every manifest.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn load_and_validate_10k(bencher: divan::Bencher) {
    let dir = corpus();
    bencher.bench(|| {
        let loaded = intsync_manifest::load(std::slice::from_ref(&dir));
        assert_eq!(
            loaded.manifests.len(),
            MANIFESTS,
            "{:?}",
            loaded.diagnostics.first().map(|d| &d.message)
        );
        assert!(loaded.diagnostics.is_empty());
        loaded
    });
}
