//! One writer per target (design §12): `apply`, `apply --plan`, `watch --apply` and `pull` hold
//! an exclusive lock on `<target dir>/lock` while they read the live state they write from and
//! write it. Two appliers planning from the same reading would each create what the other
//! creates (Ada has no delete).
//!
//! # Guarantees
//!
//! - The lock is the operating system's (`flock`), not the file's existence: it ends with its
//!   process however that process ends (SIGKILL included), so there is never a stale lock to
//!   remove by hand.
//! - A writer that cannot have the lock is told who holds it (pid, host, command, since when),
//!   from what the holder wrote into the lock file once it held it.
//!
//! # Assumptions
//!
//! Appliers share the directory (one checkout, or one mounted volume): the lock does not reach
//! across machines that each have their own copy of `.intsync/`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The process that holds (or asks for) a target's lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    pub pid: u32,
    pub host: String,
    /// The command, as a user would recognise it (`apply`, `watch --apply`, `pull`).
    pub command: String,
    /// When it started holding the lock, in milliseconds since the Unix epoch.
    pub since_ms: u64,
}

impl Holder {
    /// This process, running `command`, as of now.
    pub fn this_process(command: &str) -> Holder {
        Holder {
            pid: std::process::id(),
            host: host_name(),
            command: command.to_owned(),
            since_ms: unix_ms(SystemTime::now()),
        }
    }
}

/// Milliseconds since the Unix epoch (0 before it).
pub fn unix_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// This machine's name, as far as it can be told without a system call crate.
pub fn host_name() -> String {
    let from_file = ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|f| std::fs::read_to_string(f).ok());
    from_file
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unknown host".to_owned())
}

/// Why a target's lock could not be had.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it (and kept it for as long as this one was willing to wait).
    #[error("another intsync is writing to target `{target}`")]
    Held {
        target: String,
        /// What the holder wrote of itself (`None` when it had not written it yet).
        holder: Option<Holder>,
        waited: Duration,
    },
    /// The lock file cannot be opened or locked.
    #[error("cannot lock target `{target}` with `{}`: {source}", path.display())]
    Io {
        target: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A held lock; released when dropped (or when the process ends, however it ends).
#[derive(Debug)]
pub struct TargetLock {
    file: std::fs::File,
    path: PathBuf,
}

impl TargetLock {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TargetLock {
    fn drop(&mut self) {
        // Not needed for correctness (closing the file releases it); said for clarity.
        let _ = self.file.unlock();
    }
}

/// The lock file of the target whose directory is `dir`.
pub fn lock_path(dir: &Path) -> PathBuf {
    dir.join("lock")
}

fn open(dir: &Path, target: &str) -> Result<std::fs::File, LockError> {
    let path = lock_path(dir);
    let io = |source| LockError::Io {
        target: target.to_owned(),
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)
}

/// Who the lock file says holds the lock (whatever it last wrote; meaningful while it is held).
fn written_holder(dir: &Path) -> Option<Holder> {
    let text = std::fs::read_to_string(lock_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The holder of the lock of the target at `dir` right now, if any process holds it; the lock
/// is not kept (for read-only commands that want to know whether a writer runs).
pub fn current_holder(dir: &Path) -> Option<Holder> {
    let file = std::fs::File::open(lock_path(dir)).ok()?;
    match file.try_lock() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(std::fs::TryLockError::WouldBlock) => Some(written_holder(dir).unwrap_or(Holder {
            pid: 0,
            host: "an unknown host".to_owned(),
            command: "intsync".to_owned(),
            since_ms: 0,
        })),
        Err(std::fs::TryLockError::Error(_)) => None,
    }
}

/// Takes the lock of target `target` (directory `dir`), waiting up to `timeout` for another
/// holder to finish; `waiting` is told once, with the holder, when it has to wait at all.
pub async fn acquire(
    dir: &Path,
    target: &str,
    me: &Holder,
    timeout: Duration,
    waiting: impl FnOnce(Option<&Holder>),
) -> Result<TargetLock, LockError> {
    let file = open(dir, target)?;
    let path = lock_path(dir);
    let started = Instant::now();
    let mut waiting = Some(waiting);
    let mut pause = Duration::from_millis(50);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                let waited = started.elapsed();
                if waited >= timeout {
                    return Err(LockError::Held {
                        target: target.to_owned(),
                        holder: written_holder(dir),
                        waited,
                    });
                }
                if let Some(tell) = waiting.take() {
                    tell(written_holder(dir).as_ref());
                }
                tokio::time::sleep(pause.min(timeout - waited)).await;
                pause = (pause * 2).min(Duration::from_millis(500));
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(LockError::Io {
                    target: target.to_owned(),
                    path,
                    source,
                });
            }
        }
    }
    // Held: say who holds it, for whoever has to wait.
    let text = serde_json::to_string(me).unwrap_or_default();
    let written = (|| {
        file.set_len(0)?;
        (&file).write_all(text.as_bytes())?;
        (&file).flush()
    })();
    if let Err(source) = written {
        return Err(LockError::Io {
            target: target.to_owned(),
            path,
            source,
        });
    }
    Ok(TargetLock { file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me(command: &str) -> Holder {
        Holder::this_process(command)
    }

    #[tokio::test]
    async fn one_holder_at_a_time_and_the_other_is_told_who() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "t", &me("apply"), Duration::ZERO, |_| {})
            .await
            .unwrap();
        assert_eq!(current_holder(dir.path()).unwrap().command, "apply");
        let mut told = None;
        let refused = acquire(
            dir.path(),
            "t",
            &me("watch --apply"),
            Duration::from_millis(120),
            |holder| told = holder.cloned(),
        )
        .await
        .unwrap_err();
        let LockError::Held { holder, waited, .. } = refused else {
            panic!("{refused:?}")
        };
        assert_eq!(holder.unwrap().command, "apply");
        assert_eq!(told.unwrap().pid, std::process::id());
        assert!(waited >= Duration::from_millis(120), "{waited:?}");
        drop(first);
        assert_eq!(current_holder(dir.path()), None);
        let second = acquire(dir.path(), "t", &me("pull"), Duration::ZERO, |_| {})
            .await
            .unwrap();
        assert_eq!(current_holder(dir.path()).unwrap().command, "pull");
        drop(second);
    }

    #[tokio::test]
    async fn a_waiting_writer_gets_the_lock_when_it_is_released() {
        let dir = tempfile::tempdir().unwrap();
        let first = acquire(dir.path(), "t", &me("apply"), Duration::ZERO, |_| {})
            .await
            .unwrap();
        let release = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            drop(first);
        });
        let second = acquire(
            dir.path(),
            "t",
            &me("apply"),
            Duration::from_secs(20),
            |_| {},
        )
        .await
        .unwrap();
        release.await.unwrap();
        drop(second);
    }
}
