//! A damaged journal (issue #21): only a torn last line (a crash mid-append, never
//! acknowledged) is dropped. Any other unreadable line stops `intsync emulator --state` and the
//! `local` target at start-up, naming the file and the line and saying what to do, with the
//! journal and the state file left byte for byte as they were: skipping the line would lose
//! every acknowledged write after it, for good, at the next checkpoint.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Emulator, Running, TOKEN, intsync};
use intsync_emulator::Store;
use intsync_emulator::store::Change;
use serde_json::{Value, json};

/// A state at `dir/state.json` whose journal holds four Ada integrations, `a` to `d` (the state
/// file holds none of them); the journal's path.
fn state_with_journal(dir: &Path) -> (PathBuf, PathBuf) {
    let state = dir.join("state.json");
    let store = Store::open(&state).unwrap();
    for id in ["a", "b", "c", "d"] {
        let mut record = common::ada_spec(&format!("Journaled {id}"), "same");
        record["id"] = json!(id);
        record["status"] = json!("development");
        let record = record.as_object().unwrap().clone();
        let ((), seq) = store
            .change(|_| Ok::<_, ()>(((), vec![Change::PutAda { record }])))
            .unwrap();
        store.wait_durable(seq).unwrap();
    }
    drop(store);
    let journal = dir.join("state.json.journal");
    assert_eq!(
        std::fs::read_to_string(&journal).unwrap().lines().count(),
        4
    );
    (state, journal)
}

/// The journal with its line `number` (1-based) replaced by `with`.
fn damage(journal: &Path, number: usize, with: &str) {
    let text = std::fs::read_to_string(journal).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[number - 1] = with;
    std::fs::write(journal, format!("{}\n", lines.join("\n"))).unwrap();
}

const GARBAGE: &str = "{\"seq\":3,\"op\":\"put_ada\",\"record\":{\"id\":\"c\",\"na";

#[test]
fn the_emulator_refuses_a_journal_damaged_before_its_last_line() {
    let dir = tempfile::tempdir().unwrap();
    let (state, journal) = state_with_journal(dir.path());
    damage(&journal, 2, GARBAGE);
    let (journal_before, state_before) = (
        std::fs::read(&journal).unwrap(),
        std::fs::read(&state).unwrap(),
    );

    // Killed after 30 s if it started (as it did before issue #21, without the lost writes).
    let (code, stdout, stderr) = Running::start(
        intsync(dir.path())
            .args([
                "emulator",
                "--listen",
                "127.0.0.1:0",
                "--token",
                TOKEN,
                "--state",
            ])
            .arg(&state),
    )
    .finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stdout.is_empty(), "it never listened");
    assert!(
        stderr.contains(&format!(
            "line 2 of the journal `{}` cannot be read",
            journal.display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert!(
        stderr.contains("restore the journal from a backup, or remove that line if you accept losing the writes after it"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&journal).unwrap(), journal_before);
    assert_eq!(std::fs::read(&state).unwrap(), state_before);
}

#[test]
fn the_emulator_drops_only_a_torn_last_line() {
    for torn in [GARBAGE.to_owned(), format!("{GARBAGE}\n")] {
        let dir = tempfile::tempdir().unwrap();
        let (state, journal) = state_with_journal(dir.path());
        let text = std::fs::read_to_string(&journal).unwrap();
        let kept: Vec<&str> = text.lines().take(3).collect();
        // The fourth line torn: cut short without its newline, or garbled with it.
        std::fs::write(&journal, format!("{}\n{torn}", kept.join("\n"))).unwrap();

        let emulator = Emulator::launch(Some(&state), Some(TOKEN));
        let names: Vec<Value> = emulator
            .ada_live()
            .iter()
            .map(|r| r["name"].clone())
            .collect();
        emulator.kill();
        assert_eq!(
            names,
            [
                json!("Journaled a"),
                json!("Journaled b"),
                json!("Journaled c")
            ],
            "{torn:?}"
        );
    }
}

/// The `local` target opens the same store: the same refusal, through `intsync plan`.
#[test]
fn the_local_target_refuses_a_journal_damaged_before_its_last_line() {
    let env = common::Workdir::new();
    let (state, journal) = state_with_journal(env.dir.path());
    std::fs::write(
        env.dir.path().join("intsync.toml"),
        "default_target = \"local\"\n[targets.local]\nprovider = \"local\"\nstate = \"state.json\"\n",
    )
    .unwrap();
    env.manifest("a.yaml", &common::ada_manifest("Journaled a", "same"));
    damage(&journal, 3, "not json");
    let (journal_before, state_before) = (
        std::fs::read(&journal).unwrap(),
        std::fs::read(&state).unwrap(),
    );
    let (code, stdout, stderr) = env.run(&["plan"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("cannot open the local target's state"),
        "{stderr}"
    );
    assert!(stderr.contains("line 3 of the journal `"), "{stderr}");
    assert!(
        stderr.contains("state.json.journal` cannot be read"),
        "{stderr}"
    );
    assert!(
        stderr.contains("restore the journal from a backup"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&journal).unwrap(), journal_before);
    assert_eq!(std::fs::read(&state).unwrap(), state_before);

    // With the damaged line last (the lines after it gone), it is a torn append: dropped.
    let text = String::from_utf8(journal_before).unwrap();
    let lines: Vec<&str> = text.lines().take(3).collect();
    std::fs::write(&journal, format!("{}\n", lines.join("\n"))).unwrap();
    let (code, stdout, stderr) = env.run(&["plan", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["summary"]["noop"], 1, "{plan}");
    assert_eq!(plan["unmanaged"][0]["name"], "Journaled b", "{plan}");
    assert_eq!(plan["summary"]["unmanaged"], 1, "{plan}");
}
