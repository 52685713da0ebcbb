//! `pull` writes only what it read, where it belongs, whole (design §10, issue #21): a symbolic
//! link is written through only inside the repository (never replaced by a regular file), a
//! file changed since it was read is left alone, and Ctrl-C between files leaves every file
//! either as it was or as pulled.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Env, Terminal, ada_manifest, on_a_terminal};

/// `Linked` live with description "live", its manifest saying "git".
fn linked_env() -> Env {
    let env = Env::new(100);
    env.emulator.seed_ada("Linked", "live");
    env
}

/// `ada_manifest(name, "git")` once pull wrote the live description into it (a plain scalar,
/// the rest of the flow mapping byte for byte).
fn pulled_text(name: &str) -> String {
    ada_manifest(name, "git").replace("\"description\":\"git\"", "\"description\":live")
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .unwrap()
        .file_type()
        .is_symlink()
}

#[cfg(unix)]
#[test]
fn a_link_to_a_file_outside_the_repository_is_refused_and_left_a_link() {
    let env = linked_env();
    let outside = tempfile::tempdir().unwrap();
    let real = outside.path().join("linked.yaml");
    std::fs::write(&real, ada_manifest("Linked", "git")).unwrap();
    let link = env.dir.path().join("manifests/linked.yaml");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let (code, _, stderr) = env.run(&["pull", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("manifests/linked.yaml` leads (through a symbolic link) to")
            && stderr.contains("outside the repository")
            && stderr.contains("it was not written"),
        "{stderr}"
    );
    assert!(is_link(&link), "still a link");
    assert_eq!(
        std::fs::read_to_string(&real).unwrap(),
        ada_manifest("Linked", "git"),
        "the file outside is untouched"
    );
}

#[cfg(unix)]
#[test]
fn a_link_inside_the_repository_is_written_through_and_stays_a_link() {
    let env = linked_env();
    let shared = env.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::write(shared.join("linked.yaml"), ada_manifest("Linked", "git")).unwrap();
    let link = env.dir.path().join("manifests/linked.yaml");
    std::os::unix::fs::symlink("../shared/linked.yaml", &link).unwrap();
    let (code, _, stderr) = env.run(&["pull", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(is_link(&link), "still a link: {stderr}");
    let text = std::fs::read_to_string(shared.join("linked.yaml")).unwrap();
    assert_eq!(text, pulled_text("Linked"));
    let (code, _, stderr) = env.run(&["drift"]);
    assert_eq!(code, 0, "nothing left to pull: {stderr}");
}

/// The file is edited while pull waits for its `yes` on a terminal: that file is not written.
#[test]
fn a_file_changed_since_it_was_read_is_not_written() {
    let env = linked_env();
    let path = env.dir.path().join("manifests/linked.yaml");
    std::fs::write(&path, ada_manifest("Linked", "git")).unwrap();
    let mut pull = Terminal::start(&mut on_a_terminal(env.path(), "pull"));
    pull.wait_for("Only `yes` continues:", Duration::from_secs(20));
    let edited = ada_manifest("Linked", "git").replace("Cool Shop", "Cool Shop (edited)");
    std::fs::write(&path, &edited).unwrap();
    pull.answer("yes\n");
    let (_, transcript) = pull.finish();
    assert!(
        transcript.contains("manifests/linked.yaml` changed since it was read; it was not written"),
        "{transcript}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        edited,
        "the edit is kept"
    );
}

/// SIGINT while pull writes its files: it stops between two files, says which were not
/// written, exits 130; every file is whole (as it was, or as pulled), no temporary file stays,
/// and a second pull writes the rest.
#[test]
fn ctrl_c_during_the_writes_leaves_every_file_whole() {
    let mut interrupted = false;
    for files in [300, 1500] {
        let env = Env::new(100);
        let manifests = env.dir.path().join("manifests");
        for i in 0..files {
            let name = format!("Pulled {i:04}");
            env.emulator.seed_ada(&name, "live");
            env.manifest(&format!("p{i:04}.yaml"), &ada_manifest(&name, "git"));
        }
        let before = ada_manifest("Pulled 0000", "git");
        let first = manifests.join("p0000.yaml");
        let mut pull = env.spawn(&["pull", "--yes"]);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut running = true;
        while std::fs::read_to_string(&first).unwrap_or_default() == before {
            assert!(Instant::now() < deadline, "pull never wrote its first file");
            running = pull.still_running();
            if !running {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        if running {
            pull.signal("INT");
        }
        let (code, _, stderr) = pull.finish(Duration::from_secs(60));
        let stderr: Vec<&str> = stderr.lines().collect();
        let mut pulled = 0;
        for i in 0..files {
            let name = format!("Pulled {i:04}");
            let text = std::fs::read_to_string(manifests.join(format!("p{i:04}.yaml"))).unwrap();
            if text == pulled_text(&name) {
                pulled += 1;
            } else {
                assert_eq!(text, ada_manifest(&name, "git"), "{name} is whole");
            }
        }
        let leftovers: Vec<String> = std::fs::read_dir(&manifests)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| !n.ends_with(".yaml"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        if code == Some(0) {
            assert_eq!(pulled, files, "{stderr:#?}");
            continue; // every file was written before the signal came: try with more
        }
        assert_eq!(code, Some(130), "{stderr:#?}");
        assert!(
            pulled >= 1 && pulled < files,
            "{pulled} of {files}: {stderr:#?}"
        );
        let stopped = stderr
            .iter()
            .find(|l| l.starts_with("Stopped: "))
            .unwrap_or_else(|| panic!("{stderr:#?}"));
        assert!(
            stopped.starts_with(&format!("Stopped: {} files not written", files - pulled)),
            "{stopped}"
        );
        let (code, _, stderr) = env.run(&["pull", "--yes"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(
            stderr.contains(&format!("into {} files", files - pulled)),
            "the rest: {stderr}"
        );
        interrupted = true;
        break;
    }
    assert!(
        interrupted,
        "every pull finished before its SIGINT: nothing was tested"
    );
}
