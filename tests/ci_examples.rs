//! The CI recipes of `docs/ci.md` are real: this runs the steps of
//! `docs/examples/github-actions.yml` and the scripts of `docs/examples/gitlab-ci.yml`, as the CI
//! services would (bash, `-e -o pipefail`, the step's `env:`), against the emulator: a pull
//! request's plan is posted and kept, and the main branch applies exactly that plan.
//!
//! What only the CI service can do is stubbed on `PATH`: `gh` (GitHub's CLI) and `curl` (to
//! GitLab's API) answer as those APIs would and record what they were asked; artifacts are
//! directories. `intsync` is the binary under test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Env, TOKEN, ada_manifest};
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

/// `PATH` with the binary under test and the stubs first.
fn bin_dir(env: &Env, stubs: &[(&str, &str)]) -> String {
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        assert_cmd::cargo::cargo_bin!("intsync"),
        bin.join("intsync"),
    )
    .unwrap();
    for (name, script) in stubs {
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
    env.seed_ada("Keep", "old");
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

/// Runs one job of the GitHub workflow in `dir`; `artifacts` stands for GitHub's artifact store.
fn run_github_job(job: &Value, dir: &Path, path: &str, artifacts: &Path) -> Vec<String> {
    let mut log = Vec::new();
    for step in job["steps"].as_array().unwrap() {
        let name = step["name"].as_str().unwrap_or_default();
        if let Some(action) = step["uses"].as_str() {
            let with = &step["with"];
            match action.split('@').next().unwrap() {
                "actions/checkout" => {} // `dir` is the checkout
                "actions/upload-artifact" => {
                    let store = artifacts.join(with["name"].as_str().unwrap());
                    std::fs::create_dir_all(&store).unwrap();
                    let file = with["path"].as_str().unwrap();
                    std::fs::copy(dir.join(file), store.join(file)).unwrap();
                }
                other => panic!("a step uses `{other}`, which the test cannot stand in for"),
            }
            log.push(format!("uses {action}"));
            continue;
        }
        let script = step["run"].as_str().unwrap();
        assert!(
            !script.contains("${{"),
            "step `{name}`: expressions belong in `env:`, not in the script"
        );
        if name == "Install intsync" {
            assert!(script.contains("cargo install"), "{script}");
            continue; // the binary under test is on PATH
        }
        let env: BTreeMap<String, String> = step["env"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), github_expression(v.as_str().unwrap())))
                    .collect()
            })
            .unwrap_or_default();
        let (code, output) = bash(dir, path, &env, script);
        assert_eq!(code, 0, "step `{name}` failed:\n{output}");
        assert!(!output.contains(TOKEN), "step `{name}` printed the token");
        log.push(format!("{name}: {output}"));
    }
    log
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
    env.clear_requests();
    let pr = checkout(&env, "pr");
    // The stubs find their directory through each step's environment.
    let with_stubs = |job: &Value, dir: &Path| {
        let mut job = job.clone();
        for step in job["steps"].as_array_mut().unwrap() {
            if step.get("run").is_some() {
                let env = step
                    .as_object_mut()
                    .unwrap()
                    .entry("env")
                    .or_insert(Value::Object(Default::default()));
                env["STUB_LOG"] = Value::String(stubs.join("log").display().to_string());
                env["STUB_DIR"] = Value::String(stubs.display().to_string());
            }
        }
        run_github_job(&job, dir, &path, &stubs.join("artifacts"))
    };
    with_stubs(&jobs["plan"], &pr);
    let comment = std::fs::read_to_string(stubs.join("comment.md")).unwrap();
    assert!(comment.contains("1 to create, 1 to update"), "{comment}");
    assert!(stubs.join("artifacts/intsync-plan/plan.json").exists());
    assert!(
        env.requests().iter().all(|r| r["method"] == "GET"),
        "a pull request never writes"
    );

    // The merge: main applies the reviewed plan, then nothing is left to do.
    let main = checkout(&env, "main");
    let log = with_stubs(&jobs["apply"], &main);
    let applied = log
        .iter()
        .find(|l| l.starts_with("Apply the reviewed plan"))
        .unwrap();
    assert!(applied.contains("1 created, 1 updated"), "{applied}");
    let live = env.call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
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
    // GitLab runs before_script and script lines in one shell, stopping at the first failure.
    let run_job = |name: &str, dir: &Path, vars: &BTreeMap<String, String>| -> String {
        let job = &pipeline[name];
        let mut lines: Vec<String> = pipeline["default"]["before_script"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_owned())
            .collect();
        lines.extend(
            job["script"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap().to_owned()),
        );
        let (code, output) = bash(dir, &path, vars, &lines.join("\n"));
        assert_eq!(code, 0, "job {name} failed:\n{output}");
        assert!(!output.contains(TOKEN), "job {name} printed the token");
        output
    };

    env.clear_requests();
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
        env.requests().iter().all(|r| r["method"] == "GET"),
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
    let live = env.call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
    assert_eq!(live["data"].as_array().unwrap().len(), 2);
    assert_eq!(live["data"][0]["description"], "new");
}
