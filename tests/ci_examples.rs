//! The CI recipes of `docs/ci.md` are real: this runs the steps of
//! `docs/examples/github-actions.yml` and the scripts of `docs/examples/gitlab-ci.yml`, as the CI
//! services would (bash, `-e -o pipefail`, the step's `env:`), against the emulator: a pull
//! request's plan is posted and kept, and the main branch applies exactly that plan. The
//! scheduled drift checks (`docs/examples/github-drift.yml`, `docs/examples/gitlab-drift.yml`)
//! run in a git repository with a real `origin` and shallow clones: they find the last applied
//! commit, and open, update and close one issue.
//!
//! What only the CI service can do is stubbed on `PATH`: `gh` (GitHub's CLI) and `curl` (to
//! GitLab's API) answer as those APIs would and record what they were asked; artifacts are
//! directories. `intsync` and `git` are real. The jobs run as on a cache hit: the binary under
//! test is on `PATH` (as the CI cache restores it) and `cargo` fails if a job compiles it anyway;
//! the first job of a version (a cache miss) has a test of its own.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Env, GIT_ENV, TOKEN, ada_manifest, git, intsync, output, walk};
use serde_json::Value;

fn example(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/examples")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A working directory as a CI runner would check it out: the manifests and an `intsync.toml`
/// whose default target is the emulator, with the token in `ADA_API_TOKEN`.
fn checkout(env: &Env, name: &str) -> PathBuf {
    let dir = env.dir.path().join(name);
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    for entry in std::fs::read_dir(env.dir.path().join("manifests")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join("manifests").join(path.file_name().unwrap())).unwrap();
    }
    let config = std::fs::read_to_string(env.dir.path().join("intsync.toml")).unwrap();
    std::fs::write(
        dir.join("intsync.toml"),
        config.replace("TEST_ADA_TOKEN", "ADA_API_TOKEN"),
    )
    .unwrap();
    dir
}

/// `cargo` for jobs that find intsync on `PATH`, as restored from the CI cache: compiling it
/// again is what the cache is there to avoid.
const CARGO_CACHE_HIT_STUB: &str = r#"#!/usr/bin/env bash
echo "cargo stub: the job compiles intsync although the cache restored it: cargo $*" >&2
exit 101
"#;

/// `PATH` with the binary under test and the stubs first.
fn bin_dir(env: &Env, stubs: &[(&str, &str)]) -> String {
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        assert_cmd::cargo::cargo_bin!("intsync"),
        bin.join("intsync"),
    )
    .unwrap();
    for (name, script) in [("cargo", CARGO_CACHE_HIT_STUB)].iter().chain(stubs) {
        let path = bin.join(name);
        std::fs::write(&path, script).unwrap();
        let mut permissions = std::fs::metadata(&path).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&path, permissions).unwrap();
    }
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A repository whose pull request updates one integration and creates another, the emulator
/// behind it, and `PATH` with the binary and `stub`; the stubs keep their state in the
/// returned directory.
fn repository(stub: (&str, &str)) -> (Env, PathBuf, String) {
    let env = Env::new(100);
    env.emulator.seed_ada("Keep", "old");
    env.manifest("keep.yaml", &ada_manifest("Keep", "new"));
    env.manifest("fresh.yaml", &ada_manifest("Fresh", "brand new"));
    let stubs = env.dir.path().join("stubs");
    std::fs::create_dir_all(stubs.join("artifacts")).unwrap();
    let path = bin_dir(&env, &[stub]);
    (env, stubs, path)
}

/// Runs a script as the CI service would; returns its exit code and output.
fn bash(dir: &Path, path: &str, env: &BTreeMap<String, String>, script: &str) -> (i32, String) {
    let output = Command::new("bash")
        .args([
            "--noprofile",
            "--norc",
            "-e",
            "-o",
            "pipefail",
            "-c",
            script,
        ])
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .envs(env)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

/// GitHub expressions the examples use in `env:`.
fn github_expression(value: &str) -> String {
    match value.trim() {
        "${{ secrets.ADA_API_TOKEN }}" => TOKEN.to_owned(),
        "${{ github.token }}" => "github-token".to_owned(),
        "${{ github.event.pull_request.number }}" => "7".to_owned(),
        "${{ github.sha }}" => "mergesha".to_owned(),
        other => {
            assert!(
                !other.contains("${{"),
                "an expression the test does not know: {other}"
            );
            other.to_owned()
        }
    }
}

/// Values the runs must never print: the vendor's token and the CI services' tokens.
const SECRETS: [&str; 3] = [TOKEN, "github-token", "gitlab-token"];

/// What a run of a GitHub job did: each step's name and output, in order, and the step that
/// failed, if one did (GitHub skips the steps after it).
struct JobRun {
    steps: Vec<(String, String)>,
    failed: Option<String>,
}

impl JobRun {
    /// Asserts that every step passed.
    fn succeeded(self) -> JobRun {
        if let Some(step) = &self.failed {
            panic!("step `{step}` failed:\n{}", self.output(step));
        }
        self
    }

    /// The output of the step named `step` (empty when it did not run).
    fn output(&self, step: &str) -> &str {
        self.steps
            .iter()
            .find(|(name, _)| name == step)
            .map(|(_, output)| output.as_str())
            .unwrap_or_default()
    }
}

/// Runs one job of a GitHub workflow in `dir`, as a runner would: each `run:` step in bash with
/// the runner's variables, what earlier steps wrote to `GITHUB_ENV`, and the job's and the step's
/// `env:`; the job stops at the first failing step. `stubs` holds the stubs' state and log
/// (`STUB_DIR`, `STUB_LOG`), GitHub's artifact store (`artifacts/`) and the files behind
/// `GITHUB_ENV` and `GITHUB_STEP_SUMMARY`; `vars` are more of the runner's variables.
fn run_github_job(
    job: &Value,
    dir: &Path,
    path: &str,
    stubs: &Path,
    vars: &[(&str, &str)],
) -> JobRun {
    let github_env = stubs.join("github-env");
    std::fs::write(&github_env, "").unwrap();
    let runner: BTreeMap<String, String> = [
        ("CI", "true"),
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_SERVER_URL", "https://github.com"),
        ("GITHUB_REPOSITORY", "coolshop/integrations"),
        ("GITHUB_RUN_ID", "1001"),
        ("GITHUB_ENV", &github_env.display().to_string()),
        (
            "GITHUB_STEP_SUMMARY",
            &stubs.join("step-summary.md").display().to_string(),
        ),
        ("STUB_LOG", &stubs.join("log").display().to_string()),
        ("STUB_DIR", &stubs.display().to_string()),
    ]
    .into_iter()
    .chain(vars.iter().copied())
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let env_of = |value: &Value| -> BTreeMap<String, String> {
        value
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), github_expression(v.as_str().unwrap())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut run = JobRun {
        steps: Vec::new(),
        failed: None,
    };
    for step in job["steps"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap_or_default().to_owned();
        assert!(
            step.get("if").is_none(),
            "step `{name}`: the test does not evaluate `if:`"
        );
        if let Some(action) = step["uses"].as_str() {
            let with = &step["with"];
            match action.split('@').next().unwrap() {
                "actions/checkout" => {} // `dir` is the checkout
                // A hit: the binary is on `PATH` (see `bin_dir`), or, in the cache miss test,
                // where the install step puts it.
                "actions/cache" => {}
                "actions/upload-artifact" => {
                    let store = stubs.join("artifacts").join(with["name"].as_str().unwrap());
                    std::fs::create_dir_all(&store).unwrap();
                    let file = with["path"].as_str().unwrap();
                    std::fs::copy(dir.join(file), store.join(file)).unwrap();
                }
                other => panic!("a step uses `{other}`, which the test cannot stand in for"),
            }
            run.steps.push((format!("uses {action}"), String::new()));
            continue;
        }
        let script = step["run"].as_str().unwrap();
        assert!(
            !script.contains("${{"),
            "step `{name}`: expressions belong in `env:`, not in the script"
        );
        let mut env = runner.clone();
        let written = std::fs::read_to_string(&github_env).unwrap();
        for line in written.lines() {
            let (key, value) = line
                .split_once('=')
                .unwrap_or_else(|| panic!("a GITHUB_ENV line the test cannot read: {line}"));
            env.insert(key.to_owned(), value.to_owned());
        }
        env.extend(env_of(&job["env"]));
        env.extend(env_of(&step["env"]));
        let (code, output) = bash(dir, path, &env, script);
        for secret in SECRETS {
            assert!(
                !output.contains(secret),
                "step `{name}` printed a token:\n{output}"
            );
        }
        run.steps.push((name.clone(), output));
        if code != 0 {
            run.failed = Some(name);
            break;
        }
    }
    run
}

const GH_STUB: &str = r#"#!/usr/bin/env bash
# GitHub's CLI, as far as the example workflow uses it.
set -eu
echo "gh $*" >> "$STUB_LOG"
case "$1 $2" in
  "pr comment")
    while [ $# -gt 0 ]; do
      if [ "$1" = --body-file ]; then cp "$2" "$STUB_DIR/comment.md"; fi
      if [ "$1" = --edit-last ]; then echo "no comment to edit yet" >&2; exit 1; fi
      shift
    done ;;
  "api repos/{owner}/{repo}/commits/mergesha/pulls") echo "headsha" ;;
  "run list")
    case "$*" in *"--commit headsha"*) echo 4242 ;; *) echo "" ;; esac ;;
  "run download")
    [ "$3" = 4242 ] || { echo "no run $3" >&2; exit 1; }
    while [ $# -gt 0 ]; do
      case "$1" in --name) name=$2 ;; --dir) dir=$2 ;; esac
      shift
    done
    mkdir -p "$dir" && cp "$STUB_DIR/artifacts/$name/"* "$dir/" ;;
  *) echo "gh stub: unexpected: $*" >&2; exit 1 ;;
esac
"#;

#[test]
fn github_workflow_plans_on_pull_requests_and_applies_the_reviewed_plan_on_main() {
    let (env, stubs, path) = repository(("gh", GH_STUB));
    let workflow = example("github-actions.yml");
    let jobs = &workflow["jobs"];
    assert_eq!(jobs["plan"]["if"], "github.event_name == 'pull_request'");
    assert_eq!(jobs["apply"]["if"], "github.event_name == 'push'");

    // The pull request.
    env.emulator.clear_requests();
    let pr = checkout(&env, "pr");
    run_github_job(&jobs["plan"], &pr, &path, &stubs, &[]).succeeded();
    let comment = std::fs::read_to_string(stubs.join("comment.md")).unwrap();
    assert!(comment.contains("1 to create, 1 to update"), "{comment}");
    assert!(stubs.join("artifacts/intsync-plan/plan.json").exists());
    assert!(
        env.emulator.requests().iter().all(|r| r["method"] == "GET"),
        "a pull request never writes"
    );

    // The merge: main applies the reviewed plan, then nothing is left to do.
    let main = checkout(&env, "main");
    let run = run_github_job(&jobs["apply"], &main, &path, &stubs, &[]).succeeded();
    let applied = run.output("Apply the reviewed plan");
    assert!(applied.contains("1 created, 1 updated"), "{applied}");
    let live = env
        .emulator
        .call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
    let names: Vec<&str> = live["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Keep", "Fresh"]);
    assert_eq!(live["data"][0]["description"], "new");
    let calls = std::fs::read_to_string(stubs.join("log")).unwrap();
    assert!(
        calls.contains("gh run download 4242 --name intsync-plan --dir reviewed"),
        "{calls}"
    );
}

const CURL_STUB: &str = r#"#!/usr/bin/env bash
# GitLab's API, as far as the example pipeline uses it.
set -eu
echo "curl $*" >> "$STUB_LOG"
url="" output="" body=""
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output=$2; shift ;;
    --data-urlencode) body=${2#body@}; shift ;;
    --header|--request) shift ;;
    http*) url=$1 ;;
  esac
  shift
done
api="https://gitlab.example.com/api/v4/projects/42"
case "$url" in
  "$api/merge_requests/7/notes") cp "$body" "$STUB_DIR/note.md"; echo '{"id": 1}' ;;
  "$api/repository/commits/mergesha/merge_requests") echo '[{"iid": 7, "title": "Change Keep"}]' ;;
  "$api/merge_requests/7/pipelines") echo '[{"id": 99, "status": "success"}, {"id": 98}]' ;;
  "$api/pipelines/99/jobs?scope=success") echo '[{"id": 554, "name": "intsync-validate"}, {"id": 555, "name": "intsync-plan"}]' ;;
  "$api/jobs/555/artifacts/plan.json") cp "$STUB_DIR/artifacts/plan.json" "$output" ;;
  *) echo "curl stub: unexpected URL $url" >&2; exit 22 ;;
esac
"#;

/// Runs a job of a GitLab pipeline as a runner would: its `before_script` (or the default's) and
/// `script` lines in one bash, stopping at the first failure, with the job's `variables` under
/// the project's CI/CD variables `vars`. Returns the exit code and the job log, which never holds
/// a token.
fn run_gitlab_job(
    pipeline: &Value,
    name: &str,
    dir: &Path,
    path: &str,
    vars: &BTreeMap<String, String>,
) -> (i32, String) {
    let job = &pipeline[name];
    assert!(job.is_object(), "no job {name}");
    let lines = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .map(|a| a.iter().map(|l| l.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default()
    };
    let mut script = match job.get("before_script") {
        Some(before) => lines(before),
        None => lines(&pipeline["default"]["before_script"]),
    };
    script.extend(lines(&job["script"]));
    let mut env: BTreeMap<String, String> = job["variables"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    env.insert("CI_PROJECT_DIR".into(), dir.display().to_string());
    env.extend(vars.clone());
    let (code, output) = bash(dir, path, &env, &script.join("\n"));
    for secret in SECRETS {
        assert!(
            !output.contains(secret),
            "job {name} printed a token:\n{output}"
        );
    }
    (code, output)
}

#[test]
fn gitlab_pipeline_plans_merge_requests_and_applies_the_reviewed_plan_on_main() {
    assert!(
        Command::new("jq").arg("--version").output().is_ok(),
        "the GitLab example's scripts use jq; install it (`bash .ci/run` does)"
    );
    let (env, stubs, path) = repository(("curl", CURL_STUB));
    let pipeline = example("gitlab-ci.yml");
    let variables = |extra: &[(&str, &str)]| -> BTreeMap<String, String> {
        let mut vars: BTreeMap<String, String> = [
            ("ADA_API_TOKEN", TOKEN),
            ("GITLAB_API_TOKEN", "gitlab-token"),
            ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
            ("CI_PROJECT_ID", "42"),
            ("STUB_LOG", &stubs.join("log").display().to_string()),
            ("STUB_DIR", &stubs.display().to_string()),
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        vars.insert("CI_DEFAULT_BRANCH".into(), "main".into());
        vars
    };
    let run_job = |name: &str, dir: &Path, vars: &BTreeMap<String, String>| -> String {
        let (code, output) = run_gitlab_job(&pipeline, name, dir, &path, vars);
        assert_eq!(code, 0, "job {name} failed:\n{output}");
        output
    };

    env.emulator.clear_requests();
    let mr = checkout(&env, "mr");
    let mr_vars = variables(&[
        ("CI_PIPELINE_SOURCE", "merge_request_event"),
        ("CI_MERGE_REQUEST_IID", "7"),
    ]);
    run_job("intsync-validate", &mr, &mr_vars);
    run_job("intsync-plan", &mr, &mr_vars);
    let note = std::fs::read_to_string(stubs.join("note.md")).unwrap();
    assert!(note.contains("1 to create, 1 to update"), "{note}");
    assert!(
        env.emulator.requests().iter().all(|r| r["method"] == "GET"),
        "a merge request never writes"
    );
    for artifact in pipeline["intsync-plan"]["artifacts"]["paths"]
        .as_array()
        .unwrap()
    {
        let file = artifact.as_str().unwrap();
        std::fs::copy(mr.join(file), stubs.join("artifacts").join(file)).unwrap();
    }

    let main = checkout(&env, "main");
    let main_vars = variables(&[
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_COMMIT_SHA", "mergesha"),
    ]);
    let output = run_job("intsync-apply", &main, &main_vars);
    assert!(output.contains("1 created, 1 updated"), "{output}");
    let live = env
        .emulator
        .call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
    assert_eq!(live["data"].as_array().unwrap().len(), 2);
    assert_eq!(live["data"][0]["description"], "new");
}

// Installing intsync: once per version, then from the CI cache.

/// `cargo`, as far as the recipes use it: `cargo install [--root DIR] ... intsync` logs its
/// arguments to `$STUB_LOG` and "compiles" intsync by linking the binary under test where the
/// real one puts it: `DIR/bin`, by default `$HOME/.cargo/bin`.
const CARGO_INSTALL_STUB: &str = r#"#!/usr/bin/env bash
set -eu
echo "cargo $*" >> "$STUB_LOG"
[ "$1" = install ] || { echo "cargo stub: unexpected: $*" >&2; exit 1; }
root="$HOME/.cargo"
while [ $# -gt 0 ]; do
  case "$1" in --root) root=$2; shift ;; esac
  shift
done
mkdir -p "$root/bin"
ln -s "$INTSYNC_UNDER_TEST" "$root/bin/intsync"
echo "  Installed package \`intsync\` (executable \`intsync\`)" >&2
"#;

/// A directory with the `cargo` stub (and no intsync), and the stubs' log.
fn cargo_install_stub(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("cargo-stub");
    std::fs::create_dir_all(&bin).unwrap();
    let cargo = bin.join("cargo");
    std::fs::write(
        &cargo,
        CARGO_INSTALL_STUB.replace(
            "$INTSYNC_UNDER_TEST",
            &assert_cmd::cargo::cargo_bin!("intsync")
                .display()
                .to_string(),
        ),
    )
    .unwrap();
    let mut permissions = std::fs::metadata(&cargo).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&cargo, permissions).unwrap();
    (bin, dir.join("log"))
}

/// The first job after a version bump (a cache miss) compiles that version of intsync into the
/// path the cache saves; later jobs (a hit: that path restored) compile nothing.
#[test]
fn recipes_compile_intsync_once_per_version() {
    let dir = tempfile::tempdir().unwrap();
    let (stub_bin, log) = cargo_install_stub(dir.path());
    let calls = || {
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::write(&log, "").unwrap();
        calls
    };
    let git = "--git https://example.invalid/intsync";
    // What `intsync --version` prints after the install.
    let current = format!("intsync {}", env!("CARGO_PKG_VERSION"));

    // GitHub: the binary in ~/.cargo/bin (on the runners' PATH), cached per INTSYNC_VERSION.
    for file in ["github-actions.yml", "github-drift.yml"] {
        let workflow = example(file);
        let version = workflow["env"]["INTSYNC_VERSION"].as_str().unwrap();
        assert!(!version.is_empty(), "{file}");
        for (name, job) in workflow["jobs"].as_object().unwrap() {
            let steps = job["steps"].as_array().unwrap();
            let cache = steps
                .iter()
                .position(|s| {
                    s["uses"]
                        .as_str()
                        .is_some_and(|u| u.starts_with("actions/cache@"))
                })
                .unwrap_or_else(|| panic!("{file}: job {name} caches no intsync"));
            let install = steps
                .iter()
                .position(|s| {
                    s["run"]
                        .as_str()
                        .is_some_and(|r| r.contains("cargo install"))
                })
                .unwrap_or_else(|| panic!("{file}: job {name} installs no intsync"));
            assert!(
                cache < install,
                "{file}: job {name} restores after installing"
            );
            let with = &steps[cache]["with"];
            assert_eq!(with["path"], "~/.cargo/bin/intsync", "{file}: job {name}");
            let key = with["key"].as_str().unwrap();
            assert!(
                key.contains("${{ env.INTSYNC_VERSION }}"),
                "{file}: job {name}: {key}"
            );
            let job = serde_json::json!({"steps": [steps[cache], steps[install]]});

            let home = dir.path().join(format!("home-{file}-{name}"));
            let cached = home.join(".cargo/bin/intsync");
            let path = format!(
                "{}:{}:/usr/bin:/bin",
                stub_bin.display(),
                cached.parent().unwrap().display()
            );
            let stubs = dir.path().join(format!("stubs-{file}-{name}"));
            std::fs::create_dir_all(&stubs).unwrap();
            let vars = [
                ("HOME", home.to_str().unwrap()),
                ("INTSYNC_VERSION", version),
                ("STUB_LOG", log.to_str().unwrap()),
            ];
            // A miss: nothing restored, the job compiles the pinned version.
            let run = run_github_job(&job, dir.path(), &path, &stubs, &vars).succeeded();
            assert_eq!(
                calls(),
                format!("cargo install --locked {git} --tag {version} intsync\n"),
                "{file}: job {name}"
            );
            assert!(
                cached.exists(),
                "{file}: job {name}: nothing at the cached path"
            );
            let output = run.output("Install intsync");
            assert!(output.contains(&current), "{file}: job {name}: {output}");
            // A hit: the cached path restored, nothing compiled.
            let run = run_github_job(&job, dir.path(), &path, &stubs, &vars).succeeded();
            assert_eq!(calls(), "", "{file}: job {name}");
            let output = run.output("Install intsync");
            assert!(
                output.contains(&cached.display().to_string()),
                "{file}: job {name}: {output}"
            );
        }
    }

    // GitLab: the binary in the project directory (the only place GitLab caches), per
    // INTSYNC_VERSION; the drift job shares gitlab-ci.yml's variable and cache.
    let pipeline = example("gitlab-ci.yml");
    let version = pipeline["variables"]["INTSYNC_VERSION"].as_str().unwrap();
    assert!(!version.is_empty());
    let drift = example("gitlab-drift.yml");
    for (file, job) in [
        ("gitlab-ci.yml", &pipeline["default"]),
        ("gitlab-drift.yml", &drift["intsync-drift"]),
    ] {
        assert_eq!(job["cache"]["key"], "intsync-$INTSYNC_VERSION", "{file}");
        assert_eq!(
            job["cache"]["paths"],
            serde_json::json!([".intsync-bin/"]),
            "{file}"
        );
        let project = dir.path().join(format!("project-{file}"));
        std::fs::create_dir_all(&project).unwrap();
        let home = dir.path().join(format!("home-{file}"));
        let path = format!("{}:/usr/bin:/bin", stub_bin.display());
        let job = serde_json::json!({"job": {
            "before_script": job["before_script"],
            "script": ["intsync --version"],
        }});
        let vars: BTreeMap<String, String> = [
            ("HOME", home.to_str().unwrap()),
            ("INTSYNC_VERSION", version),
            ("STUB_LOG", log.to_str().unwrap()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        // A miss: the job compiles the pinned version into the cached directory.
        let (code, output) = run_gitlab_job(&job, "job", &project, &path, &vars);
        assert_eq!(code, 0, "{file}: {output}");
        let root = project.join(".intsync-bin");
        assert_eq!(
            calls(),
            format!(
                "cargo install --locked {git} --tag {version} --root {} intsync\n",
                root.display()
            ),
            "{file}"
        );
        assert!(root.join("bin/intsync").exists(), "{file}");
        assert!(output.contains(&current), "{file}: {output}");
        // A hit: the directory restored, nothing compiled.
        let (code, output) = run_gitlab_job(&job, "job", &project, &path, &vars);
        assert_eq!(code, 0, "{file}: {output}");
        assert_eq!(calls(), "", "{file}");
    }
}

// The scheduled drift check.

/// Whether the repository in `dir` holds `commit`.
fn has_commit(dir: &Path, commit: &str) -> bool {
    Command::new("git")
        .args(["cat-file", "-e", &format!("{commit}^{{commit}}")])
        .current_dir(dir)
        .envs(GIT_ENV)
        .output()
        .unwrap()
        .status
        .success()
}

/// The real binary in `dir`, with the token the checkouts' `intsync.toml` names.
fn intsync_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    output(
        intsync(dir)
            .env("ADA_API_TOKEN", TOKEN)
            .envs(GIT_ENV)
            .args(args),
    )
}

/// A commit that is in no repository here.
const MISSING_COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

/// The manifests' repository for the drift checks: `origin`, a bare repository that serves
/// commits by id (as GitHub and GitLab do), and a developer's clone that committed Keep and
/// Other, pushed, and applied them to the emulator (as main's apply job does); `PATH` with the
/// binary and `stub`, whose state and log are in `stubs`.
struct DriftRepo {
    env: Env,
    origin: PathBuf,
    work: PathBuf,
    stubs: PathBuf,
    path: String,
    /// The commit applied last.
    applied: String,
    /// Keep's live id.
    keep: String,
}

impl DriftRepo {
    fn new(stub: (&str, &str)) -> DriftRepo {
        let env = Env::new(100);
        env.manifest("keep.yaml", &ada_manifest("Keep", "one"));
        env.manifest("other.yaml", &ada_manifest("Other", "two"));
        let origin = env.dir.path().join("origin.git");
        git(
            env.dir.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                "origin.git",
            ],
        );
        git(
            &origin,
            &["config", "uploadpack.allowReachableSHA1InWant", "true"],
        );
        let work = checkout(&env, "work");
        git(&work, &["init", "--quiet", "--initial-branch=main"]);
        git(&work, &["add", "manifests", "intsync.toml"]);
        git(&work, &["commit", "--quiet", "-m", "Keep and Other"]);
        git(
            &work,
            &["remote", "add", "origin", origin.to_str().unwrap()],
        );
        git(&work, &["push", "--quiet", "origin", "main"]);
        let applied = git(&work, &["rev-parse", "HEAD"]);
        let (code, _, stderr) = intsync_in(&work, &["apply", "--auto-approve"]);
        assert_eq!(code, 0, "apply: {stderr}");
        let live = env.emulator.ada_live();
        assert_eq!(live.len(), 2, "{live:?}");
        let keep = live.iter().find(|i| i["name"] == "Keep").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let stubs = env.dir.path().join("stubs");
        std::fs::create_dir_all(&stubs).unwrap();
        let path = bin_dir(&env, &[stub]);
        DriftRepo {
            env,
            origin,
            work,
            stubs,
            path,
            applied,
            keep,
        }
    }

    /// A fresh shallow clone of main, as a CI job checks it out, and its commit.
    fn clone(&self, name: &str) -> (PathBuf, String) {
        let url = format!("file://{}", self.origin.display());
        git(
            self.env.dir.path(),
            &["clone", "--quiet", "--depth=1", "--branch=main", &url, name],
        );
        let dir = self.env.dir.path().join(name);
        let head = git(&dir, &["rev-parse", "HEAD"]);
        (dir, head)
    }

    /// Merges a manifest change that nobody applied: Other's description. Returns its commit.
    fn merge_pending_change(&self) -> String {
        std::fs::write(
            self.work.join("manifests/other.yaml"),
            ada_manifest("Other", "two, revised"),
        )
        .unwrap();
        git(&self.work, &["commit", "--quiet", "-am", "Revise Other"]);
        git(&self.work, &["push", "--quiet", "origin", "main"]);
        git(&self.work, &["rev-parse", "HEAD"])
    }

    /// Someone edits Keep's description in the vendor's dashboard.
    fn edit_keep_live(&self, description: &str) {
        self.env.emulator.call(
            reqwest::Method::PATCH,
            &format!("/api/v2/platform-integrations/{}", self.keep),
            Some(serde_json::json!({ "description": description })),
        );
    }

    /// Points the clone in `dir` at a port where nothing listens.
    fn make_unreachable(&self, dir: &Path) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = std::fs::read_to_string(dir.join("intsync.toml")).unwrap();
        let base = self.env.emulator.base_url();
        assert!(config.contains(base), "{config}");
        std::fs::write(
            dir.join("intsync.toml"),
            config.replace(base, &format!("http://127.0.0.1:{port}")),
        )
        .unwrap();
    }

    /// What the stubs were asked since the last call.
    fn take_calls(&self) -> String {
        let log = self.stubs.join("log");
        let calls = std::fs::read_to_string(&log).unwrap_or_default();
        std::fs::write(&log, "").unwrap();
        calls
    }

    /// Every file the stubs keep (issues, comments, notes): what the CI service would show.
    fn stub_state(&self) -> String {
        walk(&self.stubs)
            .into_iter()
            .filter(|p| p.file_name().is_some_and(|n| n != "log"))
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
            .collect()
    }
}

const GH_DRIFT_STUB: &str = r#"#!/usr/bin/env bash
# GitHub's CLI, as far as the drift workflow uses it: the apply workflow's runs (the one
# successful push run on main is the commit in $STUB_DIR/applied, if that file is there), labels,
# and issues (a directory each in $STUB_DIR/issues: state, title, labels, body, comments).
set -eu
echo "gh $*" >> "$STUB_LOG"
[ "${GH_TOKEN:-}" = github-token ] || { echo "gh stub: not logged in" >&2; exit 4; }
issues="$STUB_DIR/issues"
mkdir -p "$issues"
command="$1 $2"
shift 2
declare -A flag=()
number=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) flag[$1]=1 ;;
    --*) flag[$1]=$2; shift ;;
    *) number=$1 ;;
  esac
  shift
done
f() { printf '%s' "${flag[$1]:-}"; }
case "$command" in
  "run list")
    # Newest first; answers as `--json headSha --jq '.[0].headSha // empty'` would.
    [ "$(f --json)" = headSha ] || { echo "gh stub: run list without --json headSha" >&2; exit 1; }
    if [ "$(f --workflow)" = intsync.yml ] && [ "$(f --branch)" = main ] && [ "$(f --event)" = push ] \
      && [ "$(f --status)" = success ] && [ -s "$STUB_DIR/applied" ]; then
      cat "$STUB_DIR/applied"
    fi ;;
  "issue list")
    # Newest first; answers as `--json number --jq '.[0].number // empty'` would.
    [ "$(f --json)" = number ] && [ "$(f --state)" = open ] || { echo "gh stub: unexpected issue list" >&2; exit 1; }
    for n in $(ls "$issues" | sort -rn); do
      if [ "$(cat "$issues/$n/state")" = open ] && grep -qx -- "$(f --label)" "$issues/$n/labels"; then
        echo "$n"
        break
      fi
    done ;;
  "label create") echo "$number" >> "$STUB_DIR/labels" ;;
  "issue create")
    label=$(f --label)
    grep -qx -- "$label" "$STUB_DIR/labels" 2> /dev/null || { echo "could not add label: '$label' not found" >&2; exit 1; }
    n=$(( $(ls "$issues" | wc -l) + 1 ))
    mkdir "$issues/$n"
    echo open > "$issues/$n/state"
    f --title > "$issues/$n/title"
    echo "$label" > "$issues/$n/labels"
    cp "$(f --body-file)" "$issues/$n/body"
    echo "https://github.com/coolshop/integrations/issues/$n" ;;
  "issue edit")
    [ -d "$issues/$number" ] || { echo "gh stub: no issue $number" >&2; exit 1; }
    cp "$(f --body-file)" "$issues/$number/body"
    echo "https://github.com/coolshop/integrations/issues/$number" ;;
  "issue close")
    [ "$(cat "$issues/$number/state" 2> /dev/null)" = open ] || { echo "gh stub: issue $number is not open" >&2; exit 1; }
    echo closed > "$issues/$number/state"
    { f --comment; echo; } >> "$issues/$number/comments"
    echo "Closed issue coolshop/integrations#$number" ;;
  *) echo "gh stub: unexpected: $command" >&2; exit 1 ;;
esac
"#;

/// An issue of the gh stub: one of `state`, `title`, `labels`, `body`, `comments`.
fn gh_issue(stubs: &Path, number: u32, file: &str) -> String {
    std::fs::read_to_string(stubs.join(format!("issues/{number}/{file}"))).unwrap_or_default()
}

#[test]
fn github_drift_check_opens_updates_and_closes_one_issue() {
    let repo = DriftRepo::new(("gh", GH_DRIFT_STUB));
    let workflow = example("github-drift.yml");
    // A YAML 1.1 reader takes the key `on` for `true`.
    let on = workflow
        .get("on")
        .or_else(|| workflow.get("true"))
        .expect("on:");
    assert!(on["schedule"][0]["cron"].is_string(), "{on}");
    assert!(on.get("workflow_dispatch").is_some(), "{on}");
    let permissions = &workflow["permissions"];
    assert_eq!(permissions["actions"], "read");
    assert_eq!(permissions["issues"], "write");
    assert_eq!(permissions["contents"], "read");
    let job = &workflow["jobs"]["drift"];
    let stubs = &repo.stubs;
    let applied = stubs.join("applied");
    std::fs::write(&applied, &repo.applied).unwrap();
    let run = |dir: &Path| -> (JobRun, String) {
        let head = git(dir, &["rev-parse", "HEAD"]);
        let vars: Vec<(&str, &str)> = GIT_ENV
            .into_iter()
            .chain([("GITHUB_SHA", head.as_str())])
            .collect();
        let run = run_github_job(job, dir, &repo.path, stubs, &vars);
        (run, repo.take_calls())
    };
    const ISSUE: &str = "Open, update or close the drift issue";
    let touched = |calls: &str| {
        [
            "gh label",
            "gh issue create",
            "gh issue edit",
            "gh issue close",
        ]
        .into_iter()
        .any(|c| calls.contains(c))
    };

    // Live state is what was applied: nothing to say, no issue.
    let (dir, _) = repo.clone("no-drift");
    let (ran, calls) = run(&dir);
    let ran = ran.succeeded();
    assert!(
        calls.contains(
            "gh run list --workflow intsync.yml --branch main --event push --status success --limit 1 --json headSha"
        ),
        "{calls}"
    );
    assert!(ran.output("Check for drift").contains("exit code: 0"));
    assert!(
        calls.contains("gh issue list --label intsync-drift --state open"),
        "{calls}"
    );
    assert!(!touched(&calls), "{calls}");
    assert!(!stubs.join("issues/1").exists());

    // A merged change nobody applied yet is pending, not drift. The shallow checkout lacks the
    // applied commit: the job fetches it.
    let pending = repo.merge_pending_change();
    let (dir, head) = repo.clone("pending");
    assert_eq!(head, pending);
    assert!(!has_commit(&dir, &repo.applied));
    assert_eq!(
        intsync_in(&dir, &["plan", "--detailed-exitcode"]).0,
        2,
        "there is a change to apply"
    );
    let (ran, calls) = run(&dir);
    let ran = ran.succeeded();
    assert!(has_commit(&dir, &repo.applied));
    assert!(
        ran.output("Find the last applied commit")
            .contains(&format!("last applied commit: {}", repo.applied))
    );
    assert!(ran.output("Check for drift").contains("exit code: 0"));
    assert!(!touched(&calls), "{calls}");

    // Someone edits Keep in the dashboard: one issue, with the drifted field and only that.
    repo.edit_keep_live("edited in the dashboard");
    let (dir, _) = repo.clone("drift");
    let (ran, calls) = run(&dir);
    let ran = ran.succeeded();
    assert!(ran.output("Check for drift").contains("exit code: 2"));
    assert!(
        calls.contains("gh label create intsync-drift"),
        "the label exists before the issue uses it: {calls}"
    );
    assert!(
        calls.contains(
            "gh issue create --title intsync: live integrations drifted from the manifests --label intsync-drift --body-file issue.md"
        ),
        "{calls}"
    );
    assert_eq!(gh_issue(stubs, 1, "state"), "open\n");
    let body = gh_issue(stubs, 1, "body");
    assert!(body.starts_with('#'), "a heading first: {body}");
    assert!(body.contains("Keep"), "{body}");
    assert!(body.contains("description"), "{body}");
    assert!(body.contains("edited in the dashboard"), "{body}");
    assert!(
        !body.contains("two, revised"),
        "pending is not drift: {body}"
    );
    assert!(
        body.contains(&format!("`intsync pull --baseline {}`", repo.applied)),
        "{body}"
    );
    assert!(
        body.contains("https://github.com/coolshop/integrations/actions/runs/1001"),
        "{body}"
    );
    let summary = std::fs::read_to_string(stubs.join("step-summary.md")).unwrap();
    assert!(summary.contains("edited in the dashboard"), "{summary}");

    // The next check finds the same drift: the issue is updated, not duplicated.
    repo.edit_keep_live("edited in the dashboard, twice");
    let (dir, _) = repo.clone("drift-again");
    let (_, calls) = run(&dir);
    assert!(
        calls.contains("gh issue edit 1 --body-file issue.md"),
        "{calls}"
    );
    assert!(!calls.contains("gh issue create"), "{calls}");
    assert!(!stubs.join("issues/2").exists());
    let body = gh_issue(stubs, 1, "body");
    assert!(body.contains("edited in the dashboard, twice"), "{body}");

    // Errors fail the job and leave the issue alone: a baseline that cannot be fetched...
    std::fs::write(&applied, MISSING_COMMIT).unwrap();
    let (dir, _) = repo.clone("missing-baseline");
    let (ran, calls) = run(&dir);
    assert_eq!(
        ran.failed.as_deref(),
        Some("Find the last applied commit"),
        "{:?}",
        ran.steps
    );
    assert!(!calls.contains("gh issue"), "{calls}");
    // ... and a target that does not answer.
    std::fs::write(&applied, &repo.applied).unwrap();
    let (dir, _) = repo.clone("unreachable");
    repo.make_unreachable(&dir);
    let (ran, calls) = run(&dir);
    assert_eq!(
        ran.failed.as_deref(),
        Some("Check for drift"),
        "{:?}",
        ran.steps
    );
    assert!(ran.output("Check for drift").contains("exit code: 1"));
    assert!(!calls.contains("gh issue"), "{calls}");
    assert_eq!(gh_issue(stubs, 1, "state"), "open\n");
    assert_eq!(gh_issue(stubs, 1, "body"), body);

    // The drift is undone: the issue is closed, with a comment.
    repo.edit_keep_live("one");
    let (dir, _) = repo.clone("undone");
    let (ran, calls) = run(&dir);
    let ran = ran.succeeded();
    assert!(
        calls.contains("gh issue close 1 --comment No drift any more"),
        "{calls}"
    );
    assert!(ran.output(ISSUE).contains("Closed issue"));
    assert_eq!(gh_issue(stubs, 1, "state"), "closed\n");
    assert!(gh_issue(stubs, 1, "comments").contains("actions/runs/1001"));

    // No apply run at all: without a baseline every difference is drift, and the issue says so.
    std::fs::remove_file(&applied).unwrap();
    let (dir, _) = repo.clone("no-baseline");
    let (ran, _) = run(&dir);
    let ran = ran.succeeded();
    assert!(
        ran.output("Find the last applied commit")
            .contains("::warning::no successful run of intsync.yml on main"),
        "{:?}",
        ran.steps
    );
    let body = gh_issue(stubs, 2, "body");
    assert!(body.contains("two, revised"), "{body}");
    assert!(body.contains("No successful apply run was found"), "{body}");
    assert_eq!(gh_issue(stubs, 1, "state"), "closed\n");

    let state = repo.stub_state();
    for secret in SECRETS {
        assert!(!state.contains(secret), "a token reached GitHub: {state}");
    }
}

const CURL_DRIFT_STUB: &str = r#"#!/usr/bin/env bash
# GitLab's API, as far as the drift job uses it: the default branch's successful push pipelines
# and their successful jobs (the JSON the test writes in $STUB_DIR/pipelines.json and
# $STUB_DIR/jobs-<id>.json) and the project's issues ($STUB_DIR/issues.json).
set -eu
method="" url="" auth="" data=()
while [ $# -gt 0 ]; do
  case "$1" in
    --request) method=$2; shift ;;
    --header) auth=$2; shift ;;
    --data|--data-urlencode) data+=("$2"); shift ;;
    --fail|--silent|--show-error) ;;
    http*) url=$1 ;;
    *) echo "curl stub: unexpected argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$method" ]; then
  if [ ${#data[@]} -gt 0 ]; then method=POST; else method=GET; fi
fi
echo "curl $method $url ${data[*]:-}" >> "$STUB_LOG"
[ "$auth" = "PRIVATE-TOKEN: gitlab-token" ] || { echo "curl: (22) 401 Unauthorized" >&2; exit 22; }
# The form: name=value, or name@file for the file's content.
params='{}'
for d in ${data[@]+"${data[@]}"}; do
  if [[ "$d" =~ ^([a-z_]+)@(.*)$ ]]; then
    params=$(jq --arg k "${BASH_REMATCH[1]}" --rawfile v "${BASH_REMATCH[2]}" '. + {($k): $v}' <<< "$params")
  else
    params=$(jq --arg k "${d%%=*}" --arg v "${d#*=}" '. + {($k): $v}' <<< "$params")
  fi
done
api="https://gitlab.example.com/api/v4/projects/42"
issues="$STUB_DIR/issues.json"
[ -f "$issues" ] || echo '[]' > "$issues"
update() { jq "$@" "$issues" > "$issues.new"; mv "$issues.new" "$issues"; }
show() {
  jq -e --argjson iid "$1" '.[] | select(.iid == $iid)
    | . + {web_url: "https://gitlab.example.com/coolshop/integrations/-/issues/\(.iid)"}' "$issues" \
    || { echo "curl: (22) 404 issue $1" >&2; exit 22; }
}
case "$method $url" in
  "GET $api/pipelines?ref=main&source=push&status=success&per_page=20") cat "$STUB_DIR/pipelines.json" ;;
  "GET $api/pipelines/"*"/jobs?scope=success")
    id=${url#"$api/pipelines/"}
    id=${id%%/*}
    [ -f "$STUB_DIR/jobs-$id.json" ] || { echo "curl: (22) 404 pipeline $id" >&2; exit 22; }
    cat "$STUB_DIR/jobs-$id.json" ;;
  "GET $api/issues?labels=intsync-drift&state=opened&per_page=1")
    jq '[.[] | select(.state == "opened" and any(.labels[]; . == "intsync-drift"))] | sort_by(-.iid) | .[:1]' "$issues" ;;
  "POST $api/issues")
    iid=$(jq 'length + 1' "$issues")
    update --argjson iid "$iid" --argjson p "$params" \
      '. + [{iid: $iid, state: "opened", title: $p.title, labels: ($p.labels | split(",")), description: $p.description, notes: []}]'
    show "$iid" ;;
  "PUT $api/issues/"*)
    iid=${url#"$api/issues/"}
    show "$iid" > /dev/null
    update --argjson iid "$iid" --argjson p "$params" 'map(if .iid == $iid then
      (if $p.description then .description = $p.description else . end)
      | (if $p.state_event == "close" then .state = "closed" else . end) else . end)'
    show "$iid" ;;
  "POST $api/issues/"*"/notes")
    iid=${url#"$api/issues/"}
    iid=${iid%/notes}
    show "$iid" > /dev/null
    update --argjson iid "$iid" --argjson p "$params" 'map(if .iid == $iid then .notes += [$p.body] else . end)'
    echo '{"id": 1}' ;;
  *) echo "curl: (22) unexpected $method $url" >&2; exit 22 ;;
esac
"#;

#[test]
fn gitlab_drift_check_opens_updates_and_closes_one_issue() {
    assert!(
        Command::new("jq").arg("--version").output().is_ok(),
        "the GitLab example's scripts use jq; install it (`bash .ci/run` does)"
    );
    let repo = DriftRepo::new(("curl", CURL_DRIFT_STUB));
    let pipeline = example("gitlab-drift.yml");
    let job = &pipeline["intsync-drift"];
    assert_eq!(job["rules"][0]["if"], "$CI_PIPELINE_SOURCE == \"schedule\"");
    let stages = example("gitlab-ci.yml")["stages"].clone();
    assert!(
        stages.as_array().unwrap().contains(&job["stage"]),
        "merged into gitlab-ci.yml, the job's stage exists: {stages}"
    );
    let stubs = &repo.stubs;
    // GitLab's answers: the default branch's successful push pipelines, newest first, and the
    // successful jobs of each.
    let pipelines = |list: &[(u32, &str, &[&str])]| {
        let summary: Vec<Value> = list
            .iter()
            .map(|(id, sha, _)| serde_json::json!({"id": id, "sha": sha, "ref": "main", "status": "success", "source": "push"}))
            .collect();
        std::fs::write(
            stubs.join("pipelines.json"),
            Value::Array(summary).to_string(),
        )
        .unwrap();
        for (id, _, jobs) in list {
            let jobs: Vec<Value> = jobs
                .iter()
                .enumerate()
                .map(|(i, name)| serde_json::json!({"id": id * 10 + i as u32, "name": name, "status": "success"}))
                .collect();
            std::fs::write(
                stubs.join(format!("jobs-{id}.json")),
                Value::Array(jobs).to_string(),
            )
            .unwrap();
        }
    };
    let applied_pipeline = (11, repo.applied.as_str(), &["intsync-apply"][..]);
    pipelines(&[applied_pipeline]);
    let run = |dir: &Path| -> (i32, String, String) {
        let head = git(dir, &["rev-parse", "HEAD"]);
        let vars: BTreeMap<String, String> = [
            ("ADA_API_TOKEN", TOKEN),
            ("GITLAB_API_TOKEN", "gitlab-token"),
            ("CI_API_V4_URL", "https://gitlab.example.com/api/v4"),
            ("CI_PROJECT_ID", "42"),
            ("CI_DEFAULT_BRANCH", "main"),
            ("CI_COMMIT_BRANCH", "main"),
            ("CI_COMMIT_SHA", &head),
            ("CI_PIPELINE_SOURCE", "schedule"),
            (
                "CI_PIPELINE_URL",
                "https://gitlab.example.com/coolshop/integrations/-/pipelines/500",
            ),
            ("STUB_LOG", &stubs.join("log").display().to_string()),
            ("STUB_DIR", &stubs.display().to_string()),
        ]
        .into_iter()
        .chain(GIT_ENV)
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let (code, output) = run_gitlab_job(&pipeline, "intsync-drift", dir, &repo.path, &vars);
        (code, output, repo.take_calls())
    };
    let issues = || -> Vec<Value> {
        std::fs::read_to_string(stubs.join("issues.json"))
            .map(|t| serde_json::from_str::<Value>(&t).unwrap())
            .unwrap_or(Value::Array(Vec::new()))
            .as_array()
            .unwrap()
            .clone()
    };
    let touched = |calls: &str| {
        ["curl POST", "curl PUT"]
            .into_iter()
            .any(|c| calls.contains(c))
    };
    let api = "https://gitlab.example.com/api/v4/projects/42";

    // Live state is what was applied: nothing to say, no issue.
    let (dir, _) = repo.clone("no-drift");
    let (code, output, calls) = run(&dir);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("exit code 0"), "{output}");
    assert!(
        calls.contains(&format!(
            "curl GET {api}/pipelines?ref=main&source=push&status=success&per_page=20"
        )),
        "{calls}"
    );
    assert!(
        calls.contains(&format!(
            "curl GET {api}/issues?labels=intsync-drift&state=opened&per_page=1"
        )),
        "{calls}"
    );
    assert!(!touched(&calls), "{calls}");

    // A merged change nobody applied yet is pending, not drift, even when a newer pipeline
    // succeeded without applying it (say, a manual apply job nobody ran). The shallow clone
    // lacks the applied commit: the job fetches it.
    let pending = repo.merge_pending_change();
    pipelines(&[
        (12, pending.as_str(), &["intsync-validate"][..]),
        applied_pipeline,
    ]);
    let (dir, _) = repo.clone("pending");
    assert!(!has_commit(&dir, &repo.applied));
    let (code, output, calls) = run(&dir);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains(&format!(
            "last applied commit: {} (pipeline 11)",
            repo.applied
        )),
        "{output}"
    );
    assert!(output.contains("exit code 0"), "{output}");
    assert!(has_commit(&dir, &repo.applied));
    assert!(!touched(&calls), "{calls}");

    // Someone edits Keep in the dashboard: one issue, with the drifted field and only that.
    repo.edit_keep_live("edited in the dashboard");
    let (dir, _) = repo.clone("drift");
    let (code, output, calls) = run(&dir);
    assert_eq!(code, 0, "{output}");
    assert!(output.contains("exit code 2"), "{output}");
    assert!(
        output.contains("opened https://gitlab.example.com/coolshop/integrations/-/issues/1"),
        "{output}"
    );
    assert!(
        calls.contains(&format!("curl POST {api}/issues ")),
        "{calls}"
    );
    let opened = issues();
    assert_eq!(opened.len(), 1);
    assert_eq!(opened[0]["state"], "opened");
    assert_eq!(opened[0]["labels"], serde_json::json!(["intsync-drift"]));
    assert_eq!(
        opened[0]["title"],
        "intsync: live integrations drifted from the manifests"
    );
    let body = opened[0]["description"].as_str().unwrap().to_owned();
    assert!(body.starts_with('#'), "a heading first: {body}");
    assert!(body.contains("Keep"), "{body}");
    assert!(body.contains("description"), "{body}");
    assert!(body.contains("edited in the dashboard"), "{body}");
    assert!(
        !body.contains("two, revised"),
        "pending is not drift: {body}"
    );
    assert!(
        body.contains(&format!("`intsync pull --baseline {}`", repo.applied)),
        "{body}"
    );
    assert!(body.contains("/-/pipelines/500"), "{body}");

    // The next check finds the same drift: the issue is updated, not duplicated.
    repo.edit_keep_live("edited in the dashboard, twice");
    let (dir, _) = repo.clone("drift-again");
    let (code, output, calls) = run(&dir);
    assert_eq!(code, 0, "{output}");
    assert!(
        calls.contains(&format!("curl PUT {api}/issues/1 description@issue.md")),
        "{calls}"
    );
    assert!(
        !calls.contains(&format!("curl POST {api}/issues ")),
        "{calls}"
    );
    let updated = issues();
    assert_eq!(updated.len(), 1);
    let body = updated[0]["description"].as_str().unwrap().to_owned();
    assert!(body.contains("edited in the dashboard, twice"), "{body}");

    // Errors fail the job and leave the issue alone: a baseline that cannot be fetched...
    pipelines(&[(13, MISSING_COMMIT, &["intsync-apply"][..])]);
    let (dir, _) = repo.clone("missing-baseline");
    let (code, output, calls) = run(&dir);
    assert_ne!(code, 0, "{output}");
    assert!(!calls.contains("/issues"), "{calls}");
    // ... and a target that does not answer.
    pipelines(&[
        (12, pending.as_str(), &["intsync-validate"][..]),
        applied_pipeline,
    ]);
    let (dir, _) = repo.clone("unreachable");
    repo.make_unreachable(&dir);
    let (code, output, calls) = run(&dir);
    assert_ne!(code, 0, "{output}");
    assert!(output.contains("exit code 1"), "{output}");
    assert!(!calls.contains("/issues"), "{calls}");
    assert_eq!(issues(), updated);

    // The drift is undone: the issue is closed, with a note.
    repo.edit_keep_live("one");
    let (dir, _) = repo.clone("undone");
    let (code, output, calls) = run(&dir);
    assert_eq!(code, 0, "{output}");
    assert!(
        calls.contains(&format!("curl PUT {api}/issues/1 state_event=close")),
        "{calls}"
    );
    assert!(
        output.contains("closed https://gitlab.example.com/coolshop/integrations/-/issues/1"),
        "{output}"
    );
    let closed = issues();
    assert_eq!(closed[0]["state"], "closed");
    assert!(
        closed[0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("No drift any more"),
        "{closed:?}"
    );

    // No apply job at all: without a baseline every difference is drift, and the issue says so.
    pipelines(&[(12, pending.as_str(), &["intsync-validate"][..])]);
    let (dir, _) = repo.clone("no-baseline");
    let (code, output, _) = run(&dir);
    assert_eq!(code, 0, "{output}");
    assert!(
        output.contains("WARNING: no successful intsync-apply job on main"),
        "{output}"
    );
    let all = issues();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["state"], "closed");
    let body = all[1]["description"].as_str().unwrap();
    assert!(body.contains("two, revised"), "{body}");
    assert!(body.contains("No successful apply job was found"), "{body}");

    let state = repo.stub_state();
    for secret in SECRETS {
        assert!(!state.contains(secret), "a token reached GitLab: {state}");
    }
}
