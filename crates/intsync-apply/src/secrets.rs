//! Client secrets on disk: `<dir>/<id>.json`, mode 0600, made durable the moment the answer
//! carrying one is read (design §8.5). Ada shows a secret once; a secret that is not on disk
//! before the run goes on can be lost to any later failure, signal or crash.
//!
//! # Guarantees
//!
//! - A secret file is created exclusively and never replaced: a second secret for the same file
//!   name (a repeated id) goes beside it (`<id>.2.json`, ...), never over it.
//! - Two ids never share a file: an id that is not already a safe file name (`a/b`, `a_b` would
//!   both become `a_b`) carries a short hash of the raw id (`a_b-1f2e3d4c.json`).
//! - The file is complete when it appears (written to a temporary file, `fsync`'d, then linked
//!   into place), and the directory is `fsync`'d before `save` returns.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use intsync_manifest::Kind;
use intsync_provider::Secret;
use sha2::{Digest as _, Sha256};

/// Why a secret could not be saved. Never contains the secret.
#[derive(Debug, thiserror::Error)]
#[error("cannot save it to `{}`: {source}", path.display())]
pub struct SecretError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// Where client secrets go.
#[derive(Debug, Clone)]
pub struct SecretStore {
    dir: PathBuf,
}

/// The longest sanitized id kept whole in a file name (names stay well under 255 bytes).
const MAX_STEM: usize = 100;
/// How many files one id may have (`<id>.json`, `<id>.2.json`, ...).
const MAX_COPIES: usize = 1000;

/// Temporary files of this process are told apart by this counter.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

/// The file name (without `.json`) of integration `id`'s secret: the id itself when it is a
/// safe file name, else its safe characters and a short hash of the raw id, so that two ids
/// never share a name.
pub fn file_stem(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(MAX_STEM)
        .collect();
    if safe == id && !safe.is_empty() {
        return safe;
    }
    let hash = Sha256::digest(id.as_bytes());
    let short: String = hash[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{safe}-{short}")
}

impl SecretStore {
    pub fn new(dir: impl Into<PathBuf>) -> SecretStore {
        SecretStore { dir: dir.into() }
    }

    /// The names a secret of `id` may have, in the order they are taken.
    fn candidates(&self, id: &str) -> impl Iterator<Item = PathBuf> + '_ {
        let stem = file_stem(id);
        (1..=MAX_COPIES).map(move |n| {
            self.dir.join(if n == 1 {
                format!("{stem}.json")
            } else {
                format!("{stem}.{n}.json")
            })
        })
    }

    /// The file holding a saved secret of integration `id`, if there is one.
    pub fn saved(&self, id: &str) -> Option<PathBuf> {
        for path in self.candidates(id) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                return None;
            };
            let holds_id = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .is_some_and(|saved| saved.get("id").and_then(|v| v.as_str()) == Some(id));
            if holds_id {
                return Some(path);
            }
        }
        None
    }

    /// Writes the secret durably into a file of its own: a new 0600 temporary file, `fsync`,
    /// linked to the first free name (never over an existing file), the directory `fsync`'d.
    /// Directories that do not exist are created 0700; the mode of a directory that already
    /// existed is left alone (it is the user's).
    pub fn save(
        &self,
        kind: Kind,
        id: &str,
        name: Option<&str>,
        secret: &Secret,
    ) -> Result<PathBuf, SecretError> {
        let at = |path: &Path| {
            let path = path.to_owned();
            move |source| SecretError { path, source }
        };
        create_private_dirs(&self.dir).map_err(|(dir, e)| SecretError {
            path: dir,
            source: e,
        })?;
        let body = serde_json::json!({
            "id": id,
            "name": name,
            "kind": kind.as_str(),
            "client_secret": secret.expose(),
        });
        let text = serde_json::to_string_pretty(&body).unwrap_or_default();
        let temp = self.dir.join(format!(
            ".{}.tmp-{}-{}",
            file_stem(id),
            std::process::id(),
            TEMPORARY.fetch_add(1, Ordering::Relaxed)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = (|| {
            let mut file = options.open(&temp)?;
            // The umask may have taken bits away; make it exactly 0600.
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(at(&temp)(e));
        }
        let placed = self.place(&temp, id);
        let _ = std::fs::remove_file(&temp);
        let path = placed?;
        sync_dir(&self.dir).map_err(at(&self.dir))?;
        Ok(path)
    }

    /// Links the complete temporary file `temp` to the first name of `id` that does not exist:
    /// a link never replaces a file, so no earlier secret can be lost.
    fn place(&self, temp: &Path, id: &str) -> Result<PathBuf, SecretError> {
        let mut last = None;
        for path in self.candidates(id) {
            match std::fs::hard_link(temp, &path) {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(path),
                Err(source) => return Err(SecretError { path, source }),
            }
        }
        Err(SecretError {
            path: last.unwrap_or_else(|| self.dir.clone()),
            source: std::io::Error::other(format!(
                "{MAX_COPIES} secret files of this id exist already; move them somewhere safe"
            )),
        })
    }
}

/// Creates `dir` and its missing parents, each new one 0700. Returns the directory that failed.
fn create_private_dirs(dir: &Path) -> Result<(), (PathBuf, std::io::Error)> {
    let missing: Vec<&Path> = dir
        .ancestors()
        .filter(|d| !d.as_os_str().is_empty())
        .take_while(|d| !d.is_dir())
        .collect();
    for d in missing.into_iter().rev() {
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(d) {
            Ok(()) => {
                // The umask may have taken bits away; never added any. Set exactly 0700.
                #[cfg(unix)]
                std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                    .map_err(|e| (d.to_owned(), e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err((d.to_owned(), e)),
        }
    }
    Ok(())
}

/// Makes a rename (or link) in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn saved_0600_in_new_0700_directories_and_existing_ones_are_left_alone() {
        let root = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        std::fs::set_permissions(
            root.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        let store = SecretStore::new(root.path().join("a/b"));
        let secret = Secret::new("client-secret-value-123");
        let path = store
            .save(Kind::AdaPlatformIntegration, "id/1", Some("A"), &secret)
            .unwrap();
        assert_eq!(
            path,
            root.path().join(format!("a/b/{}.json", file_stem("id/1")))
        );
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved["client_secret"], "client-secret-value-123");
        assert_eq!(saved["id"], "id/1");
        #[cfg(unix)]
        {
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&root.path().join("a")), 0o700, "made here");
            assert_eq!(mode(&root.path().join("a/b")), 0o700, "made here");
            assert_eq!(mode(root.path()), 0o755, "the user's: untouched");
        }
        assert_eq!(store.saved("id/1"), Some(path));
        assert_eq!(store.saved("id_1"), None);
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    fn secret_in(path: &Path) -> String {
        let saved: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        saved["client_secret"].as_str().unwrap().to_owned()
    }

    /// Issue #21: `a/b` and `a_b` sanitize alike, and a repeated id wrote over the first
    /// secret. Every secret now keeps a file of its own.
    #[test]
    fn a_secret_file_is_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        let store = SecretStore::new(root.path());
        let ada = Kind::AdaPlatformIntegration;
        let slash = store
            .save(ada, "a/b", None, &Secret::new("secret-of-a-slash-b"))
            .unwrap();
        let underscore = store
            .save(ada, "a_b", None, &Secret::new("secret-of-a-underscore-b"))
            .unwrap();
        let again = store
            .save(ada, "a_b", None, &Secret::new("second-secret-of-a_b"))
            .unwrap();
        assert_ne!(slash, underscore);
        assert_eq!(
            underscore,
            root.path().join("a_b.json"),
            "a safe id is its own name"
        );
        assert_eq!(again, root.path().join("a_b.2.json"));
        assert_eq!(secret_in(&slash), "secret-of-a-slash-b");
        assert_eq!(secret_in(&underscore), "secret-of-a-underscore-b");
        assert_eq!(secret_in(&again), "second-secret-of-a_b");
        assert_eq!(
            names(root.path()),
            [
                format!("{}.json", file_stem("a/b")),
                "a_b.2.json".into(),
                "a_b.json".into()
            ],
            "no temporary file stays behind"
        );
        assert_eq!(store.saved("a/b"), Some(slash));
    }

    #[test]
    fn file_stems_are_safe_and_distinct() {
        let ids = [
            "a/b",
            "a_b",
            "a.b",
            "../x",
            "",
            "é",
            &"x".repeat(300),
            &"x".repeat(301),
        ];
        let stems: Vec<String> = ids.iter().map(|id| file_stem(id)).collect();
        for stem in &stems {
            assert!(!stem.is_empty() && stem.len() <= MAX_STEM + 9, "{stem}");
            assert!(
                stem.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
                "{stem}"
            );
        }
        let distinct: std::collections::HashSet<&String> = stems.iter().collect();
        assert_eq!(distinct.len(), stems.len(), "{stems:?}");
    }

    #[test]
    fn an_unwritable_place_is_an_error_that_names_it_and_not_the_secret() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("not-a-dir");
        std::fs::write(&file, "x").unwrap();
        let store = SecretStore::new(file.join("secrets"));
        let error = store
            .save(
                Kind::AdaPlatformIntegration,
                "i1",
                None,
                &Secret::new("never-shown-789"),
            )
            .unwrap_err();
        let text = format!("{error} {error:?}");
        assert!(text.contains("not-a-dir"), "{text}");
        assert!(!text.contains("never-shown-789"), "{text}");
    }
}
