//! Client secrets on disk: `<dir>/<id>.json`, mode 0600, made durable the moment the answer
//! carrying one is read (design §8.5). Ada shows a secret once; a secret that is not on disk
//! before the run goes on can be lost to any later failure, signal or crash.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use intsync_manifest::Kind;
use intsync_provider::Secret;

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

impl SecretStore {
    pub fn new(dir: impl Into<PathBuf>) -> SecretStore {
        SecretStore { dir: dir.into() }
    }

    /// The file the secret of integration `id` goes to.
    fn path_for(&self, id: &str) -> PathBuf {
        let safe: String = id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        self.dir.join(format!("{safe}.json"))
    }

    /// Writes the secret durably: into a new 0600 file beside the target, `fsync`, rename into
    /// place, `fsync` the directory. Directories that do not exist are created 0700; the mode of
    /// a directory that already existed is left alone (it is the user's).
    pub fn save(
        &self,
        kind: Kind,
        id: &str,
        name: Option<&str>,
        secret: &Secret,
    ) -> Result<PathBuf, SecretError> {
        let path = self.path_for(id);
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
            ".{}.tmp-{}",
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            std::process::id()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let written = (|| {
            let mut file = options.open(&temp)?;
            // A leftover temporary file keeps its old mode through `open`: set it.
            #[cfg(unix)]
            file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&temp);
            return Err(at(&temp)(e));
        }
        if let Err(e) = std::fs::rename(&temp, &path) {
            let _ = std::fs::remove_file(&temp);
            return Err(at(&path)(e));
        }
        sync_dir(&self.dir).map_err(at(&self.dir))?;
        Ok(path)
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

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
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
        assert_eq!(path, root.path().join("a/b/id_1.json"));
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
        // Saving again replaces the file whole; no temporary file stays behind.
        store
            .save(
                Kind::AdaPlatformIntegration,
                "id/1",
                Some("A"),
                &Secret::new("second-value-456"),
            )
            .unwrap();
        let names: Vec<String> = std::fs::read_dir(root.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["id_1.json"]);
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("second-value-456")
        );
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
