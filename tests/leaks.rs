//! Tokens and client secrets never print, even at `RUST_LOG=trace` (every crate's trace logs:
//! hyper, reqwest, rustls, ours): every command that talks to a target — `plan`, `apply`,
//! `export`, `drift`, `pull --yes`, `watch --apply` (planned once, then stopped with SIGINT) —
//! on both vendors, on success, through retries (503 and 429 with `Retry-After`, on reads and
//! writes), on failed writes (a refused POST, a PATCH failing every attempt), on a persistent
//! fault, and with a wrong token. stdout, stderr and exported files must hold no piece of the
//! token (nor of the wrong one) nor of any client secret the runs created (read back from
//! `.intsync/secrets/*.json`): no 8 characters in a row of one, and none of its base64 forms
//! ([`Needles`]).

mod common;

use std::collections::HashSet;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{Env, Running, TOKEN, ada_manifest, output, truto_manifest, walk};
use serde_json::{Value, json};

const WRONG_TOKEN: &str = "wrong-token-value-5e6f7a";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Success,
    /// 503 then 429 (`Retry-After: 1`) on the first reads, 429 on the first POST, 503 on the
    /// first PATCH: all retried, all succeed.
    Retries,
    /// Every POST refused (400), every PATCH 500: the writes fail, reads work.
    WritesFail,
    /// Every request 500.
    Persistent,
    /// The token variable holds another token: 401.
    WrongToken,
}

impl Scenario {
    fn faults(self, api: &str) -> Value {
        let status = |status: u16, retry_after: Option<&str>| match retry_after {
            Some(r) => json!({"type": "status", "status": status, "retry_after": r}),
            None => json!({"type": "status", "status": status}),
        };
        let rules = match self {
            Scenario::Success | Scenario::WrongToken => json!([]),
            Scenario::Retries => json!([
                {"api": api, "method": "GET", "times": 1, "action": status(503, None)},
                {"api": api, "method": "GET", "after": 1, "times": 1, "action": status(429, Some("1"))},
                {"api": api, "method": "POST", "times": 1, "action": status(429, Some("1"))},
                {"api": api, "method": "PATCH", "times": 1, "action": status(503, None)},
            ]),
            Scenario::WritesFail => json!([
                {"api": api, "method": "POST", "action": status(400, None)},
                {"api": api, "method": "PATCH", "action": status(500, None)},
            ]),
            Scenario::Persistent => json!([{"api": api, "action": status(500, None)}]),
        };
        json!({ "rules": rules })
    }

    /// Whether the commands succeed (watch then runs until stopped).
    fn reads_work(self) -> bool {
        matches!(
            self,
            Scenario::Success | Scenario::Retries | Scenario::WritesFail
        )
    }
}

struct Run {
    label: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

struct Leaks {
    env: Env,
    runs: Vec<Run>,
    /// Bumped before every writing run, so that each has a create and (from the second on) an
    /// update to send.
    generation: usize,
}

impl Leaks {
    fn new() -> Leaks {
        let env = Env::new(100);
        env.write_config(
            env.emulator.base_url(),
            100,
            "retry = { attempts = 4, base_delay_ms = 10, max_delay_ms = 50, max_retry_after_ms = 50 }",
        );
        Leaks {
            env,
            runs: Vec::new(),
            generation: 0,
        }
    }

    /// New manifests for `target`: a create, and a change to the integration its first
    /// writing run created.
    fn new_changes(&mut self, target: &str) {
        self.generation += 1;
        let g = self.generation;
        let env = &self.env;
        if target == "ada" {
            env.manifest("kept-ada.yaml", &ada_manifest("Kept", &format!("d{g}")));
            env.manifest(
                &format!("ada-{g}.yaml"),
                &ada_manifest(&format!("Leak {g}"), "x"),
            );
        } else {
            env.manifest("kept-truto.yaml", &truto_manifest("kept", &format!("c{g}")));
            env.manifest(
                &format!("truto-{g}.yaml"),
                &truto_manifest(&format!("leak-{g}"), "crm"),
            );
        }
    }

    /// Makes the manifest of the integration every writing run changes differ from live state,
    /// so that `drift` finds drift and `pull` has a value to write.
    fn drift_locally(&self, target: &str) {
        let env = &self.env;
        let g = self.generation;
        if target == "ada" {
            env.manifest(
                "kept-ada.yaml",
                &ada_manifest("Kept", &format!("drifted {g}")),
            );
        } else {
            env.manifest(
                "kept-truto.yaml",
                &truto_manifest("kept", &format!("drifted{g}")),
            );
        }
    }

    fn command(&self, scenario: Scenario, target: &str) -> Command {
        let mut cmd = self.env.command();
        let (ada, truto) = match (scenario, target) {
            (Scenario::WrongToken, "ada") => (WRONG_TOKEN, TOKEN),
            (Scenario::WrongToken, _) => (TOKEN, WRONG_TOKEN),
            _ => (TOKEN, TOKEN),
        };
        cmd.env("TEST_ADA_TOKEN", ada)
            .env("TEST_TRUTO_TOKEN", truto)
            .env("RUST_LOG", "trace")
            .env_remove("NO_COLOR");
        cmd
    }

    fn arm(&self, scenario: Scenario, target: &str) {
        self.env.emulator.set_faults(scenario.faults(target));
    }

    fn run(&mut self, scenario: Scenario, target: &str, args: &[&str]) {
        self.arm(scenario, target);
        let (code, stdout, stderr) = output(
            self.command(scenario, target)
                .args(args)
                .args(["--target", target]),
        );
        self.runs.push(Run {
            label: format!("{scenario:?} {target} {args:?}"),
            code: Some(code),
            stdout,
            stderr,
        });
    }

    /// `watch --apply`: when reads work, saves new changes once it started (it writes nothing
    /// at start), waits for that save's cycle to end (`applied ...`), then SIGINT; otherwise it
    /// stops by itself on the failed first read.
    fn watch(&mut self, scenario: Scenario, target: &str) {
        self.arm(scenario, target);
        let mut watch = Running::start(
            self.command(scenario, target)
                .args(["watch", "--apply", "--target", target]),
        );
        let within = Duration::from_secs(20);
        if scenario.reads_work() {
            // It writes only what a save changes (never at start): save some, then wait for
            // that save's cycle to end.
            watch.wait_line(false, "saying the save was applied", within, |line| {
                if line.contains("nothing is written at start") {
                    self.new_changes(target);
                }
                line.contains("] applied ")
            });
            watch.signal("INT");
        }
        // Otherwise it stops by itself on the failed first read.
        let (code, stdout, stderr) = watch.finish(within);
        self.runs.push(Run {
            label: format!("{scenario:?} {target} watch --apply"),
            code,
            stdout,
            stderr,
        });
    }
}

#[test]
fn no_token_and_no_client_secret_in_any_output_at_trace_level() {
    let started = Instant::now();
    let mut leaks = Leaks::new();
    let scenarios = [
        Scenario::Success,
        Scenario::Retries,
        Scenario::WritesFail,
        Scenario::Persistent,
        Scenario::WrongToken,
    ];
    let mut exports = Vec::new();
    for scenario in scenarios {
        for target in ["ada", "truto"] {
            leaks.run(scenario, target, &["plan"]);
            let dir = format!("exported-{scenario:?}-{target}");
            leaks.run(scenario, target, &["export", "--dir", &dir]);
            exports.push(leaks.env.dir.path().join(dir));
            leaks.new_changes(target);
            leaks.run(scenario, target, &["apply", "--auto-approve"]);
            leaks.drift_locally(target);
            leaks.run(scenario, target, &["drift"]);
            leaks.run(scenario, target, &["pull", "--yes"]);
            leaks.new_changes(target);
            leaks.watch(scenario, target);
        }
    }
    leaks.arm(Scenario::Success, "ada");

    // The runs did what each scenario says (so the output checked is that of the path meant).
    for run in &leaks.runs {
        let reads_work = ["Success", "Retries", "WritesFail"]
            .iter()
            .any(|s| run.label.starts_with(s));
        let want = if !reads_work {
            1
        } else if run.label.contains("\"drift\"") {
            // The kept manifest was made to differ.
            2
        } else if run.label.starts_with("WritesFail") && run.label.contains("\"apply\"") {
            // Reads work: plan, export, drift, pull and (stopped) watch do; apply fails its
            // writes.
            1
        } else {
            0
        };
        assert_eq!(
            run.code,
            Some(want),
            "{}: {}{}",
            run.label,
            run.stdout,
            run.stderr
        );
        assert!(
            run.stderr.contains("intsync::http"),
            "{}: trace logging was on: {}",
            run.label,
            run.stderr
        );
    }
    let wanted_paths = [
        ("Retries", "retrying"),
        ("WritesFail", "answered 400"),
        ("WritesFail", "failed 4 times; last: 500"),
        ("Persistent", "failed 4 times; last: 500"),
        ("WrongToken", "answered 401"),
    ];
    for (scenario, needle) in wanted_paths {
        assert!(
            leaks
                .runs
                .iter()
                .any(|r| r.label.starts_with(scenario) && r.stderr.contains(needle)),
            "no {scenario} run shows {needle:?}"
        );
    }

    assert!(
        leaks.runs.iter().any(|r| r.label.contains("\"pull\"")
            && r.stderr.contains("Pulled 1 live value into 1 file")),
        "a pull wrote a value"
    );

    let secrets: Vec<String> = leaks
        .env
        .saved_secrets()
        .into_iter()
        .map(|(_, saved)| saved["client_secret"].as_str().unwrap().to_owned())
        .collect();
    // Ada creates, in the Success and Retries scenarios: "Kept", one per apply and watch save,
    // and in Retries' apply also the create watch left pending at its start in Success (it
    // writes only what a save changed).
    assert_eq!(secrets.len(), 6, "{secrets:?}");
    let mut needles = Needles::default();
    needles.add("the token", TOKEN);
    needles.add("the wrong token", WRONG_TOKEN);
    for secret in &secrets {
        needles.add("a client secret", secret);
    }
    let mut texts: Vec<(String, String)> = Vec::new();
    for run in &leaks.runs {
        texts.push((format!("{} stdout", run.label), run.stdout.clone()));
        texts.push((format!("{} stderr", run.label), run.stderr.clone()));
    }
    for dir in &exports {
        for entry in walk(dir) {
            texts.push((
                entry.display().to_string(),
                std::fs::read_to_string(&entry).unwrap(),
            ));
        }
    }
    for (what, text) in &texts {
        if let Some(found) = needles.find(text) {
            panic!("{what} holds {found}");
        }
    }
    eprintln!(
        "{} runs, {} texts checked in {:?}",
        leaks.runs.len(),
        texts.len(),
        started.elapsed()
    );
}

/// Every piece of a secret that must not be printed, as 8-byte windows: any 8 characters in a
/// row of it (so any longer substring, a prefix, a suffix or a middle, is caught by its first
/// 8), and any 8 characters in a row of its base64 encodings (standard and URL-safe) at each of
/// the three alignments it can have inside a longer encoded text. Padding is never part of a
/// window, so padded and unpadded forms are both caught; a base64 form of any 6 bytes or more
/// of the secret holds a whole window. Checking a text is one hash lookup per byte.
#[derive(Default)]
struct Needles {
    windows: HashSet<[u8; WINDOW]>,
    /// What each window belongs to, for the message.
    names: std::collections::HashMap<[u8; WINDOW], String>,
}

/// The length of a piece that counts as a leak.
const WINDOW: usize = 8;

impl Needles {
    fn add(&mut self, name: &str, secret: &str) {
        let bytes = secret.as_bytes();
        assert!(bytes.len() >= WINDOW, "{name} is too short to check");
        let mut forms = vec![(format!("{name} (a piece of it)"), bytes.to_vec())];
        for skip in 0..3 {
            // The encoding of `bytes[skip..]`: its whole groups are what any text encoding the
            // secret at this alignment holds, whatever comes before and after.
            let standard = base64(&bytes[skip..], STANDARD);
            let whole = standard.len() / 4 * 4;
            let standard = &standard[..whole];
            let url_safe = base64(&bytes[skip..], URL_SAFE);
            forms.push((format!("{name} in base64"), standard.as_bytes().to_vec()));
            forms.push((
                format!("{name} in URL-safe base64"),
                url_safe.as_bytes()[..whole].to_vec(),
            ));
        }
        for (what, form) in forms {
            for window in form.windows(WINDOW) {
                let window: [u8; WINDOW] = window.try_into().unwrap();
                self.windows.insert(window);
                self.names.entry(window).or_insert_with(|| what.clone());
            }
        }
    }

    /// What `text` leaks, if anything.
    fn find(&self, text: &str) -> Option<String> {
        text.as_bytes().windows(WINDOW).find_map(|window| {
            let window: [u8; WINDOW] = window.try_into().unwrap();
            self.windows.contains(&window).then(|| {
                format!(
                    "{}: {:?}",
                    self.names[&window],
                    String::from_utf8_lossy(&window)
                )
            })
        })
    }
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// `bytes` in base64 with `alphabet`, without padding (written here: the test needs no crate).
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// The needles catch what they must, and the encoder is base64.
#[test]
fn needles_catch_pieces_and_encodings_of_a_secret() {
    assert_eq!(base64(b"Man", STANDARD), "TWFu");
    assert_eq!(base64(b"Ma", STANDARD), "TWE");
    assert_eq!(base64(b"\xfb\xff", URL_SAFE), "-_8");
    let mut needles = Needles::default();
    needles.add("the token", TOKEN);
    let standard = |text: &[u8]| base64(text, STANDARD);
    let leaks = [
        TOKEN[..10].to_owned(),
        TOKEN[TOKEN.len() - 8..].to_owned(),
        format!("x{}y", &TOKEN[5..14]),
        standard(TOKEN.as_bytes()),
        format!("{}==", standard(&TOKEN.as_bytes()[..10])),
        standard(format!("Authorization: Bearer {TOKEN}").as_bytes()),
        standard(format!("a{TOKEN}").as_bytes()),
        standard(format!("ab{}", &TOKEN[3..15]).as_bytes()),
        base64(format!("user:{TOKEN}").as_bytes(), URL_SAFE),
    ];
    for leak in &leaks {
        assert!(needles.find(leak).is_some(), "missed {leak:?}");
    }
    for harmless in [
        &TOKEN[..7],
        "token",
        "Bearer (sensitive)",
        "plan --target ada",
    ] {
        assert!(needles.find(harmless).is_none(), "{harmless:?}");
    }
}
