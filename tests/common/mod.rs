//! The end-to-end harness every file of `tests/` shares:
//!
//! - [`Workdir`]: a temporary directory for the binary under test, run to its end by
//!   [`Workdir::run`] (exit code, stdout, stderr) or started in the background by
//!   [`Workdir::spawn`] ([`Running`]), with a known environment ([`intsync`]: the test tokens,
//!   `NO_COLOR=1`, no `RUST_LOG`); on a pseudo-terminal with [`on_a_terminal`] ([`Terminal`]).
//! - [`Emulator`]: `intsync emulator` as a process, its port and state, the faults it injects,
//!   its request log, and its APIs called from the test.
//! - [`Env`]: a [`Workdir`] whose `intsync.toml` targets (`ada`, the default, and `truto`) point
//!   at an [`Emulator`] of its own.
//! - [`wait_until`]: a wait on a condition, with a deadline.
//! - [`tiny`]: hand-written vendors answering what the emulator never would.
//! - Manifests and specs of both vendors, and the files, git repositories and secrets tests
//!   look at.

#![allow(dead_code, unused_imports)] // reason: each test file uses part of it

mod emulator;
mod process;
pub mod tiny;
mod workdir;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

pub use emulator::{Emulator, LoggedWrite};
pub use process::{Running, Terminal, lines, on_a_terminal, signal, wait_until};
pub use workdir::{Env, Workdir, intsync, output};

/// The token of the test emulators, in `TEST_ADA_TOKEN` and `TEST_TRUTO_TOKEN`.
pub const TOKEN: &str = "plan-test-token-4b1d";

pub fn ada_spec(name: &str, description: &str) -> Value {
    json!({
        "name": name, "description": description, "author": "Cool Shop", "contact": "help@coolshop.support",
        "identifier_field_path": "account.name",
        "uninstallation_url": "https://coolshop.example.com/uninstall",
        "oauth_callback_url": "https://coolshop.example.com/oauth/callback",
        "tags": ["knowledge"], "scopes": ["articles:read", "knowledge_sources:write"],
        "configuration_fields": {"type": "object", "required": ["account"], "properties": {"account": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}}}
    })
}

/// An Ada integration as the API lists it: [`ada_spec`] with its `id`, `status` and `created`.
pub fn ada_record(id: &str, name: &str, description: &str) -> Value {
    let mut item = ada_spec(name, description);
    item["id"] = json!(id);
    item["status"] = json!("development");
    item["created"] = json!("2026-12-01T10:00:00+00:00");
    item
}

pub fn ada_manifest(name: &str, description: &str) -> String {
    let spec = ada_spec(name, description);
    format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {spec}\n")
}

pub fn truto_manifest(name: &str, category: &str) -> String {
    format!(
        "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec:\n  name: {name}\n  category: {category}\n  config: {{base_url: \"https://api.example.com\", timeout: 30}}\n"
    )
}

/// The spec `truto_manifest(name, category)` writes, as JSON (to seed or compare live state).
pub fn truto_spec(name: &str, category: &str) -> Value {
    json!({"name": name, "category": category, "config": {"base_url": "https://api.example.com", "timeout": 30}})
}

/// Every file directly in `dir` and its bytes, by name.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let entry = entry.unwrap();
            (
                entry.file_name().to_string_lossy().into_owned(),
                std::fs::read(entry.path()).unwrap(),
            )
        })
        .collect()
}

/// The names of the files directly in `dir`, sorted.
pub fn file_names(dir: &Path) -> Vec<String> {
    files(dir).into_keys().collect()
}

/// Files under `dir`, recursively (none when it does not exist).
pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// git without the machine's configuration, with an identity.
pub const GIT_ENV: [(&str, &str); 6] = [
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
    ("GIT_AUTHOR_NAME", "Cool Shop"),
    ("GIT_AUTHOR_EMAIL", "dev@coolshop.example.com"),
    ("GIT_COMMITTER_NAME", "Cool Shop"),
    ("GIT_COMMITTER_EMAIL", "dev@coolshop.example.com"),
];

/// `git ARGS` in `dir` (see [`GIT_ENV`]), which must succeed: its stdout, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .envs(GIT_ENV)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}
