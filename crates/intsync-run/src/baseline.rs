//! `--baseline REV`: the manifests as they were at a git revision (design §10), read with the
//! `git` command line.
//!
//! Why the git CLI and not a Rust git library: CI checkouts are often shallow and partial, and
//! only `git` itself is sure to read every repository layout it made (alternates, partial
//! clones, `safe.directory`, worktrees, new index and pack formats); a library would add a large
//! dependency tree for two read-only calls (`ls-tree` and `cat-file --batch`, which reads every
//! file in one process). `git` is on every CI runner that checked the repository out.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use intsync_plan::DesiredIntegration;
use intsync_plan::inert::visible;

/// Refuses a `--baseline` value that cannot name a revision, before anything is read: an empty
/// one (an unset CI variable, `--baseline "$SHA"`), and one starting with `-`, which git would
/// read as an option.
pub fn check(rev: &str) -> anyhow::Result<()> {
    if rev.trim().is_empty() {
        bail!(
            "--baseline is empty: give the git revision last applied (a commit, tag or branch), or leave --baseline out to count every difference as drift"
        );
    }
    if rev.starts_with('-') {
        bail!(
            "--baseline `{}` is not a git revision (it starts with `-`, as an option does)",
            visible(rev)
        );
    }
    Ok(())
}

/// `text` for a POSIX shell command line a person may paste: in single quotes, each `'` as
/// `'\''`, so that nothing in it runs (`$(touch x)`, backticks, `;`). Hidden characters are shown
/// escaped first ([`visible`]): a git revision never holds one, and a terminal must not see it.
pub fn shell_quoted(text: &str) -> String {
    format!("'{}'", visible(text).replace('\'', "'\\''"))
}

fn git(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null());
    command
}

/// Runs `command`, returning its stdout; a failure says what git said.
fn output(mut command: Command, what: &str) -> anyhow::Result<Vec<u8>> {
    let out = command
        .output()
        .with_context(|| format!("cannot run `git` to {what} (is git installed?)"))?;
    if !out.status.success() {
        bail!(
            "git could not {what}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out.stdout)
}

/// The desired integrations at `rev`: the manifest files under `paths` (the same paths as the
/// working tree's, in the repository that holds them) as they were committed at `rev`. A
/// manifest that did not load at `rev` is left out: its fields then count as pending.
pub fn desired_at(
    rev: &str,
    paths: &[PathBuf],
    receivers: &intsync_manifest::Receivers,
) -> anyhow::Result<Vec<DesiredIntegration>> {
    let first = paths.first().map_or(Path::new("."), PathBuf::as_path);
    let anchor = if first.is_dir() {
        first.to_path_buf()
    } else {
        first
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    let root = output(
        {
            let mut c = git(&anchor);
            c.args(["rev-parse", "--show-toplevel"]);
            c
        },
        "find the repository",
    )
    .with_context(|| {
        format!(
            "--baseline reads the manifests from git, but `{}` is not in a git repository",
            anchor.display()
        )
    })?;
    let root = PathBuf::from(String::from_utf8_lossy(&root).trim());
    let commit = resolve(&root, rev)?;

    // Each path, relative to the repository's root (git's pathspecs are).
    let root_abs = std::fs::canonicalize(&root).unwrap_or(root.clone());
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let mut specs = Vec::new();
    for path in paths {
        let absolute = cwd.join(path);
        let absolute = std::fs::canonicalize(&absolute).unwrap_or(absolute);
        let Ok(relative) = absolute.strip_prefix(&root_abs) else {
            bail!(
                "`{}` is outside the git repository `{}` that --baseline reads",
                path.display(),
                root.display()
            );
        };
        specs.push((path.clone(), relative.to_path_buf()));
    }

    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (given, relative) in &specs {
        let mut command = git(&root);
        command.args(["ls-tree", "-r", "-z", "--name-only", &commit, "--"]);
        // `.` for the root itself: an empty pathspec is refused.
        command.arg(if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative.as_path()
        });
        let listed = output(command, &format!("list the files of `{}`", visible(rev)))?;
        for name in listed.split(|b| *b == 0).filter(|n| !n.is_empty()) {
            let name = String::from_utf8_lossy(name).into_owned();
            let in_repo = Path::new(&name);
            if !intsync_manifest::is_manifest_file(in_repo) {
                continue;
            }
            // Shown as the working tree would show it: under the path the user gave.
            let shown = match in_repo.strip_prefix(relative) {
                Ok(rest) if !rest.as_os_str().is_empty() => given.join(rest),
                _ => given.clone(),
            };
            files.push((shown, name));
        }
    }
    let texts = read_blobs(&root, &commit, files.iter().map(|(_, name)| name.as_str()))?;
    let mut desired = Vec::new();
    for ((shown, _), text) in files.into_iter().zip(texts) {
        let loaded = intsync_manifest::load_source_for(shown, &text, receivers);
        desired.extend(
            loaded
                .manifests
                .into_iter()
                .map(DesiredIntegration::from_manifest),
        );
    }
    Ok(desired)
}

/// The commit `rev` names, or an error: in a shallow clone, how to fetch it; in a full one, that
/// there is no such revision.
fn resolve(root: &Path, rev: &str) -> anyhow::Result<String> {
    check(rev)?;
    let mut command = git(root);
    command.args(["rev-parse", "--verify", "--quiet", "--end-of-options"]);
    command.arg(format!("{rev}^{{commit}}"));
    let out = command
        .output()
        .context("cannot run `git` to read the baseline (is git installed?)")?;
    if !out.status.success() {
        let shallow = root.join(".git/shallow").exists()
            || output(
                {
                    let mut c = git(root);
                    c.args(["rev-parse", "--is-shallow-repository"]);
                    c
                },
                "check for a shallow clone",
            )
            .is_ok_and(|o| o.starts_with(b"true"));
        let shown = visible(rev);
        if shallow {
            let quoted = shell_quoted(rev);
            bail!(
                "the baseline `{shown}` is not in this clone, which is shallow: fetch it first, e.g. `git fetch --depth=1 origin {quoted}` (a tag: `git fetch --depth=1 origin tag {quoted}`), then run again"
            );
        }
        bail!(
            "no such revision `{shown}` in the repository `{}`: give a commit, tag or branch of it (the commit last applied)",
            visible(&root.display().to_string())
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The contents of `names` at `commit`, in order, read by one `git cat-file --batch`.
fn read_blobs<'n>(
    root: &Path,
    commit: &str,
    names: impl Iterator<Item = &'n str>,
) -> anyhow::Result<Vec<String>> {
    let requests: Vec<String> = names.map(|n| format!("{commit}:{n}\n")).collect();
    if requests.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = git(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `git cat-file` (is git installed?)")?;
    let mut stdin = child.stdin.take().context("git's standard input")?;
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for request in &requests {
            stdin.write_all(request.as_bytes())?;
        }
        Ok(())
    });
    let mut raw = Vec::new();
    child
        .stdout
        .take()
        .context("git's standard output")?
        .read_to_end(&mut raw)
        .context("cannot read from `git cat-file`")?;
    let status = child.wait().context("git cat-file")?;
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writing to `git cat-file` failed"))?
        .context("cannot write to `git cat-file`")?;
    if !status.success() {
        bail!("git cat-file failed ({status})");
    }
    parse_batch(&raw)
}

/// `git cat-file --batch` output: per object `<oid> <type> <size>\n<content>\n`.
fn parse_batch(mut raw: &[u8]) -> anyhow::Result<Vec<String>> {
    let mut texts = Vec::new();
    while !raw.is_empty() {
        let end = raw
            .iter()
            .position(|b| *b == b'\n')
            .context("git cat-file: a header without an end")?;
        let header = String::from_utf8_lossy(&raw[..end]).into_owned();
        raw = &raw[end + 1..];
        let size: usize = match header.rsplit(' ').next().map(str::parse) {
            Some(Ok(size)) if header.split(' ').nth(1) == Some("blob") => size,
            _ => bail!("git cat-file: unexpected `{header}`"),
        };
        if raw.len() < size + 1 {
            bail!("git cat-file: an object was cut short");
        }
        texts.push(String::from_utf8_lossy(&raw[..size]).into_owned());
        raw = &raw[size + 1..];
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::{check, parse_batch, shell_quoted};

    #[test]
    fn hints_quote_the_revision_for_a_shell() {
        assert_eq!(shell_quoted("v1.2.3"), "'v1.2.3'");
        assert_eq!(shell_quoted("$(touch x)"), "'$(touch x)'");
        assert_eq!(shell_quoted("it's`id`"), r"'it'\''s`id`'");
        assert_eq!(shell_quoted("a\nb\u{1b}"), r"'a\nb\u{1b}'");
    }

    #[test]
    fn empty_and_option_like_baselines_are_refused() {
        assert!(check("").is_err());
        assert!(check("  ").is_err());
        assert!(check("--upload-pack=x").is_err());
        assert!(check("-").is_err());
        assert!(check("HEAD~1").is_ok());
    }

    #[test]
    fn batch_output_is_split_per_object() {
        let raw = b"abc blob 3\nkey\ndef blob 0\n\n";
        assert_eq!(parse_batch(raw).unwrap(), ["key", ""]);
        assert!(parse_batch(b"abc missing\n").is_err());
        assert!(parse_batch(b"abc blob 10\nshort\n").is_err());
    }
}
