//! What recording a create before it is sent costs (issue #21), against the physical limit
//! measured in the same run on the same disk: writing a record of the same size, `fsync`ing it,
//! renaming it into place, `fsync`ing the directory and unlinking it, by hand.
//!
//! Run: `cargo bench -p intsync-apply --bench intents` (the records go to a temporary directory
//! under `target/`, so on the disk the project lives on, not on a tmpfs).

use std::io::Write as _;
use std::time::{Duration, Instant};

use intsync_apply::intents::Intents;
use intsync_manifest::Kind;

const RECORDS: usize = 500;
const ROUNDS: usize = 5;

fn main() {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&base).unwrap();
    let dir = tempfile::tempdir_in(&base).unwrap();
    let intents = Intents::new(dir.path().join("intents"));
    let limit_dir = dir.path().join("limit");
    std::fs::create_dir_all(&limit_dir).unwrap();
    let record = br#"{"kind":"ada","name":"integration-0000","manifest":"manifests/integration-0000.yaml","pid":12345,"host":"runner","sent_ms":1764700000000}"#;

    println!(
        "| round | intsync: begin + settled | by hand: write, fsync, rename, fsync dir, unlink | ratio |"
    );
    println!("|---|---|---|---|");
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        let started = Instant::now();
        for i in 0..RECORDS {
            let name = format!("integration-{i:04}");
            let manifest = format!("manifests/{name}.yaml");
            intents
                .begin(Kind::AdaPlatformIntegration, &name, Some(&manifest))
                .unwrap()
                .settled();
        }
        let ours = started.elapsed() / RECORDS as u32;

        let started = Instant::now();
        for i in 0..RECORDS {
            let temp = limit_dir.join(format!(".{i}.tmp"));
            let path = limit_dir.join(format!("{i}.json"));
            let mut file = std::fs::File::create_new(&temp).unwrap();
            file.write_all(record).unwrap();
            file.sync_all().unwrap();
            std::fs::rename(&temp, &path).unwrap();
            std::fs::File::open(&limit_dir).unwrap().sync_all().unwrap();
            std::fs::remove_file(&path).unwrap();
        }
        let limit = started.elapsed() / RECORDS as u32;
        let ratio = ours.as_secs_f64() / limit.as_secs_f64();
        ratios.push(ratio);
        println!(
            "| {round} | {} | {} | {ratio:.2} |",
            micros(ours),
            micros(limit)
        );
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nmedian ratio over {ROUNDS} rounds of {RECORDS} records: {:.2}",
        ratios[ROUNDS / 2]
    );
}

fn micros(d: Duration) -> String {
    format!("{} µs", d.as_micros())
}
