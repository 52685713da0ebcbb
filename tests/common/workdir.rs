//! The binary under test, run in a directory of the test's own: its exit code, stdout and
//! stderr, with a known environment.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use super::{Running, TOKEN};

/// `intsync` in `dir`, with the environment every test starts from: both test tokens
/// (`TEST_ADA_TOKEN`, `TEST_TRUTO_TOKEN`), `NO_COLOR=1`, no `RUST_LOG` and no `COLUMNS` (so
/// nothing of the machine's shows in the output), and no standard input. Adjust it with
/// [`Command::env`] and the like before running it with [`output`] or [`Running::start`].
pub fn intsync(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("intsync"));
    cmd.current_dir(dir)
        .env("TEST_ADA_TOKEN", TOKEN)
        .env("TEST_TRUTO_TOKEN", TOKEN)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .env_remove("COLUMNS")
        .stdin(Stdio::null());
    cmd
}

/// Runs `cmd` to its end: its exit code (-1 when a signal ended it), stdout and stderr, which
/// must be UTF-8.
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    let text = |bytes: Vec<u8>, stream: &str| {
        String::from_utf8(bytes).unwrap_or_else(|e| panic!("{stream} is not UTF-8: {e}"))
    };
    (
        out.status.code().unwrap_or(-1),
        text(out.stdout, "stdout"),
        text(out.stderr, "stderr"),
    )
}

/// A temporary directory for one test: `manifests/` (empty), and whatever the test writes.
/// Without an `intsync.toml`, the binary uses the embedded `local` target.
pub struct Workdir {
    pub dir: tempfile::TempDir,
}

impl Default for Workdir {
    fn default() -> Workdir {
        Workdir::new()
    }
}

impl Workdir {
    pub fn new() -> Workdir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("manifests")).unwrap();
        Workdir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `manifests/FILE`.
    pub fn manifest(&self, file: &str, text: &str) {
        std::fs::write(self.path().join("manifests").join(file), text).unwrap();
    }

    /// Writes `intsync.toml`: targets `ada` (the default) and `truto` at `base`, tokens from
    /// `TEST_ADA_TOKEN` / `TEST_TRUTO_TOKEN`, no client-side rate limit, and `settings` (TOML
    /// lines, e.g. a `retry` table) on both.
    pub fn write_config(&self, base: &str, page_size: usize, settings: &str) {
        std::fs::write(
            self.path().join("intsync.toml"),
            format!(
                "default_target = \"ada\"\n\
                 [targets.ada]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"TEST_ADA_TOKEN\"\npage_size = {page_size}\nrate_limit = \"off\"\n{settings}\n\
                 [targets.truto]\nprovider = \"truto\"\nbase_url = \"{base}\"\ntoken_env = \"TEST_TRUTO_TOKEN\"\npage_size = {page_size}\nrate_limit = \"off\"\n{settings}\n"
            ),
        )
        .unwrap();
    }

    /// Rewrites `intsync.toml`: the first `from` (which must be there) becomes `to`. The first
    /// target written by [`Workdir::write_config`] is `ada`.
    pub fn edit_config(&self, from: &str, to: &str) {
        let path = self.path().join("intsync.toml");
        let config = std::fs::read_to_string(&path).unwrap();
        assert!(config.contains(from), "no {from:?} in {config}");
        std::fs::write(&path, config.replacen(from, to, 1)).unwrap();
    }

    /// Gives the `truto` target the team `team` (a TOML value), so it never asks the vendor
    /// for its token's team.
    pub fn set_truto_team(&self, team: &str) {
        self.edit_config(
            "token_env = \"TEST_TRUTO_TOKEN\"",
            &format!("token_env = \"TEST_TRUTO_TOKEN\"\nteam_id = {team}"),
        );
    }

    /// The binary in this directory (see [`intsync`]).
    pub fn command(&self) -> Command {
        intsync(self.path())
    }

    /// Runs the binary in this directory to its end: exit code, stdout, stderr.
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        output(self.command().args(args))
    }

    /// `plan --format json ARGS`: the exit code, the plan (stdout, which must be JSON) and
    /// stderr.
    pub fn plan_json(&self, args: &[&str]) -> (i32, Value, String) {
        let (code, stdout, stderr) = self.run(&[&["plan", "--format", "json"], args].concat());
        let plan = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
        (code, plan, stderr)
    }

    /// The binary started in the background in this directory.
    pub fn spawn(&self, args: &[&str]) -> Running {
        Running::start(self.command().args(args))
    }

    /// `.intsync/secrets/`, where apply saves client secrets by default.
    pub fn secrets_dir(&self) -> PathBuf {
        self.path().join(".intsync/secrets")
    }

    /// The saved client secret of integration `id`: its file holds `id`, `name`, `kind` and a
    /// non-empty `client_secret`, readable by its owner only.
    pub fn assert_secret_saved(&self, id: &str, name: &str) {
        let path = self.secrets_dir().join(format!("{id}.json"));
        let text = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("the secret of {name:?} ({id}) at {path:?}: {e}"));
        let saved: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(saved["id"], id, "{saved:#}");
        assert_eq!(saved["name"], name, "{saved:#}");
        assert_eq!(saved["kind"], "AdaPlatformIntegration", "{saved:#}");
        let secret = saved["client_secret"].as_str().unwrap_or_default();
        assert!(
            !secret.is_empty(),
            "an empty secret for {name:?}: {saved:#}"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600,
                "{path:?}"
            );
        }
    }

    /// Every saved client secret file (none when the directory does not exist), by file name,
    /// parsed.
    pub fn saved_secrets(&self) -> Vec<(String, Value)> {
        let Ok(entries) = std::fs::read_dir(self.secrets_dir()) else {
            return Vec::new();
        };
        let mut files: Vec<(String, Value)> = entries
            .map(|entry| {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                let saved = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}: {text}", path.display()));
                (
                    path.file_name().unwrap().to_string_lossy().into_owned(),
                    saved,
                )
            })
            .collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        files
    }
}

/// A test directory whose `intsync.toml` targets a running emulator (see [`Env::new`]).
pub struct Env {
    work: Workdir,
    pub emulator: super::Emulator,
}

impl Env {
    /// The emulator started as a process (in memory, the test token), and a [`Workdir`] whose
    /// targets `ada` and `truto` point at it, listing `page_size` integrations a page, with
    /// few, quick retries.
    pub fn new(page_size: usize) -> Env {
        let emulator = super::Emulator::start();
        let work = Workdir::new();
        work.write_config(
            emulator.base_url(),
            page_size,
            "retry = { attempts = 6, base_delay_ms = 10, max_delay_ms = 100 }",
        );
        Env { work, emulator }
    }
}

impl std::ops::Deref for Env {
    type Target = Workdir;

    fn deref(&self) -> &Workdir {
        &self.work
    }
}
