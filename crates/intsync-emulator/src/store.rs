//! The emulator's state and its persistence.
//!
//! State lives in memory. With a state file, every change is also appended to a journal
//! (`<state>.journal`, one JSON line per change) and fsynced before the request that made it is
//! answered; concurrent requests share one fsync (group commit). Every so often, and on
//! [`Store::checkpoint`], the whole state is written to the state file atomically (temp file,
//! fsync, rename, fsync of the directory) and the journal is emptied.
//!
//! # Guarantees
//!
//! - A change whose request was answered survives a crash (SIGKILL, power loss after fsync).
//! - The state file always parses: it is only ever replaced by rename.
//! - A torn last journal line (a crash mid-append) was never acknowledged; it is dropped on open.
//! - Any other journal line that cannot be read stops the open ([`StoreError::Journal`]) with
//!   both files untouched: the writes after it were acknowledged, and skipping it would lose
//!   them for good.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One stored integration, in its vendor's wire shape (server-managed fields included).
pub type Record = Map<String, Value>;

/// Everything the emulator holds. Maps keep insertion order, which is the list order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub ada: IndexMap<String, Record>,
    pub truto: IndexMap<String, Record>,
}

/// One durable change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Change {
    PutAda { record: Record },
    PutTruto { record: Record },
    DeleteTruto { id: String },
    Reset,
}

impl State {
    fn apply(&mut self, change: &Change) {
        match change {
            Change::PutAda { record } => {
                if let Some(id) = record_id(record) {
                    self.ada.insert(id, record.clone());
                }
            }
            Change::PutTruto { record } => {
                if let Some(id) = record_id(record) {
                    self.truto.insert(id, record.clone());
                }
            }
            Change::DeleteTruto { id } => {
                self.truto.shift_remove(id);
            }
            Change::Reset => *self = State::default(),
        }
    }
}

fn record_id(record: &Record) -> Option<String> {
    record.get("id").and_then(Value::as_str).map(str::to_owned)
}

/// The state file's format.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    format: u32,
    /// The last change this snapshot includes; journal entries up to it are skipped on open.
    seq: u64,
    ada: Vec<Record>,
    truto: Vec<Record>,
}

#[derive(Serialize, Deserialize)]
struct JournalEntry {
    seq: u64,
    #[serde(flatten)]
    change: Change,
}

/// Why the state could not be opened or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot read or write the emulator state: {0}")]
    Io(#[from] std::io::Error),
    #[error("the state file `{path}` is not an intsync emulator state: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    /// A journal line other than the last cannot be read. The writes after it were acknowledged,
    /// so skipping it would lose them for good (the next checkpoint folds the journal away):
    /// the state is not opened, and neither file is touched.
    #[error(
        "line {line} of the journal `{path}` cannot be read ({reason}), and it is not the last line, so it is not a write cut short by a crash; the state was not opened and nothing was changed: restore the journal from a backup, or remove that line if you accept losing the writes after it"
    )]
    Journal {
        path: PathBuf,
        /// 1-based.
        line: u64,
        reason: String,
    },
    #[error("an earlier write of the emulator state failed, so nothing more is acknowledged: {0}")]
    Failed(String),
    #[error(
        "the state `{path}` is in use by another process (an `intsync watch`, or an `intsync emulator --state` on the same file?); stop it, or wait for it to finish, and try again"
    )]
    InUse { path: PathBuf },
}

/// Journal entries between automatic checkpoints.
const CHECKPOINT_EVERY: u64 = 20_000;

struct Journal {
    /// Holds the exclusive lock on `<state>.lock` (released when the store is dropped).
    _lock: File,
    state_path: PathBuf,
    inner: Mutex<JournalInner>,
    durable: Condvar,
}

struct JournalInner {
    file: File,
    /// Encoded entries not yet written.
    pending: Vec<u8>,
    pending_last: u64,
    durable_seq: u64,
    writing: bool,
    since_checkpoint: u64,
    failed: Option<String>,
}

/// The state and, optionally, its files.
pub struct Store {
    state: Mutex<(State, u64)>,
    journal: Option<Journal>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the data half-changed (changes are applied
    // whole), so a poisoned lock is still usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Store {
    /// State in memory only.
    pub fn in_memory() -> Store {
        Store {
            state: Mutex::new((State::default(), 0)),
            journal: None,
        }
    }

    /// Opens (or creates) the state at `path`, replaying its journal.
    ///
    /// One process at a time: an exclusive lock on `<path>.lock` is held while the store lives,
    /// so a second opener gets [`StoreError::InUse`] instead of overwriting the first's writes.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs_err::create_dir_all(parent)?;
        }
        let lock_path = sibling(path, ".lock");
        let lock_file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| naming(&lock_path, e))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::InUse {
                    path: path.to_owned(),
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(naming(&lock_path, e).into()),
        }
        let (mut state, mut seq) = match fs_err::read(path) {
            Ok(bytes) => {
                let snapshot: Snapshot =
                    serde_json::from_slice(&bytes).map_err(|e| StoreError::Corrupt {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    })?;
                if snapshot.format != 1 {
                    return Err(StoreError::Corrupt {
                        path: path.to_owned(),
                        reason: format!("unknown format {}", snapshot.format),
                    });
                }
                let mut state = State::default();
                for record in snapshot.ada {
                    state.apply(&Change::PutAda { record });
                }
                for record in snapshot.truto {
                    state.apply(&Change::PutTruto { record });
                }
                (state, snapshot.seq)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (State::default(), 0),
            Err(e) => return Err(e.into()),
        };
        let journal_path = sibling(path, ".journal");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&journal_path)
            .map_err(|e| naming(&journal_path, e))?;
        let replay = replay(&mut file, &journal_path, &mut state, &mut seq)?;
        let replayed = replay.replayed;
        // Drop the torn last line, if any: it was never acknowledged.
        if file.metadata()?.len() != replay.good_len {
            file.set_len(replay.good_len)?;
            file.sync_all()?;
        }
        let fresh = !path.exists();
        let store = Store {
            state: Mutex::new((state, seq)),
            journal: Some(Journal {
                _lock: lock_file,
                state_path: path.to_owned(),
                inner: Mutex::new(JournalInner {
                    file,
                    pending: Vec::new(),
                    pending_last: seq,
                    durable_seq: seq,
                    writing: false,
                    since_checkpoint: replayed,
                    failed: None,
                }),
                durable: Condvar::new(),
            }),
        };
        // Fold the replayed journal into the state file, so that while the store is open the
        // state file exists and holds everything acknowledged before.
        if fresh || replayed > 0 {
            store.checkpoint()?;
        }
        Ok(store)
    }

    /// Reads the state.
    pub fn read<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&lock(&self.state).0)
    }

    /// Runs `f` on the state; the changes it returns are applied and journaled atomically.
    /// Returns `f`'s value and the sequence number to pass to [`Store::wait_durable`].
    pub fn change<T, E>(
        &self,
        f: impl FnOnce(&State) -> Result<(T, Vec<Change>), E>,
    ) -> Result<(T, u64), E> {
        let mut guard = lock(&self.state);
        let (value, changes) = f(&guard.0)?;
        let (state, seq) = &mut *guard;
        for change in &changes {
            state.apply(change);
            *seq += 1;
            if let Some(journal) = &self.journal {
                let mut inner = lock(&journal.inner);
                let entry = JournalEntry {
                    seq: *seq,
                    change: change.clone(),
                };
                // Serializing a map of JSON values cannot fail.
                if serde_json::to_writer(&mut inner.pending, &entry).is_ok() {
                    inner.pending.push(b'\n');
                    inner.pending_last = *seq;
                }
            }
        }
        Ok((value, *seq))
    }

    /// Blocks until every change up to `seq` is on disk (no-op in memory). Concurrent callers
    /// share one write and one fsync.
    pub fn wait_durable(&self, seq: u64) -> Result<(), StoreError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        let mut inner = lock(&journal.inner);
        loop {
            if let Some(failed) = &inner.failed {
                return Err(StoreError::Failed(failed.clone()));
            }
            if inner.durable_seq >= seq {
                break;
            }
            if inner.writing || inner.pending.is_empty() {
                inner = journal
                    .durable
                    .wait(inner)
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                continue;
            }
            // Become the leader: write everything pending with one fsync.
            let batch = std::mem::take(&mut inner.pending);
            let last = inner.pending_last;
            let mut file = inner.file.try_clone()?;
            inner.writing = true;
            drop(inner);
            let result = file.write_all(&batch).and_then(|()| file.sync_data());
            inner = lock(&journal.inner);
            inner.writing = false;
            match result {
                Ok(()) => {
                    inner.durable_seq = inner.durable_seq.max(last);
                    inner.since_checkpoint += batch.iter().filter(|b| **b == b'\n').count() as u64;
                }
                Err(e) => inner.failed = Some(e.to_string()),
            }
            journal.durable.notify_all();
        }
        let due = inner.since_checkpoint >= CHECKPOINT_EVERY;
        drop(inner);
        if due {
            self.checkpoint()?;
        }
        Ok(())
    }

    /// Writes the whole state to the state file atomically and empties the journal.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        let Some(journal) = &self.journal else {
            return Ok(());
        };
        // Holding the state lock stops new changes; waiting for `writing` to clear stops a
        // leader from appending to the journal we are about to empty.
        let guard = lock(&self.state);
        let (state, seq) = &*guard;
        let mut inner = lock(&journal.inner);
        while inner.writing {
            inner = journal
                .durable
                .wait(inner)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        if let Some(failed) = &inner.failed {
            return Err(StoreError::Failed(failed.clone()));
        }
        let snapshot = Snapshot {
            format: 1,
            seq: *seq,
            ada: state.ada.values().cloned().collect(),
            truto: state.truto.values().cloned().collect(),
        };
        let bytes =
            serde_json::to_vec_pretty(&snapshot).map_err(|e| StoreError::Failed(e.to_string()))?;
        let result = write_atomically(&journal.state_path, &bytes).and_then(|()| {
            inner.file.set_len(0)?;
            inner.file.sync_all()
        });
        if let Err(e) = result {
            inner.failed = Some(e.to_string());
            journal.durable.notify_all();
            return Err(e.into());
        }
        inner.pending.clear();
        inner.durable_seq = *seq;
        inner.pending_last = *seq;
        inner.since_checkpoint = 0;
        journal.durable.notify_all();
        Ok(())
    }
}

/// What replaying a journal found.
struct Replay {
    /// The length of the journal up to the end of its last readable line.
    good_len: u64,
    /// Entries applied (newer than the state file).
    replayed: u64,
}

/// Applies the entries of the journal `file` newer than `seq` to `state`. Only the last line may
/// be unreadable (torn: cut short without its newline, or garbled, by a crash mid-append; it
/// was never acknowledged, so it is left out). Any other unreadable line is
/// [`StoreError::Journal`], before anything is changed on disk.
fn replay(
    file: &mut File,
    path: &Path,
    state: &mut State,
    seq: &mut u64,
) -> Result<Replay, StoreError> {
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(0))?;
    let mut result = Replay {
        good_len: 0,
        replayed: 0,
    };
    // The unreadable line held back until it is known whether it is the last one.
    let mut unreadable: Option<(u64, String)> = None;
    let mut number = 0u64;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        number += 1;
        if let Some((line, reason)) = unreadable.take() {
            return Err(StoreError::Journal {
                path: path.to_owned(),
                line,
                reason,
            });
        }
        if line.last() != Some(&b'\n') {
            break; // the last line, torn before its newline
        }
        match serde_json::from_slice::<JournalEntry>(&line) {
            Ok(entry) => {
                result.good_len += n as u64;
                if entry.seq > *seq {
                    state.apply(&entry.change);
                    *seq = entry.seq;
                    result.replayed += 1;
                }
            }
            Err(e) => unreadable = Some((number, e.to_string())),
        }
    }
    Ok(result)
}

/// `e`, with the path it is about.
fn naming(path: &Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

/// `state` with `suffix` appended to its file name.
fn sibling(state: &Path, suffix: &str) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    state.with_file_name(name)
}

/// Temp file in the same directory, fsync, rename over `path`, fsync the directory.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp-{}", std::process::id()));
    let tmp = dir.join(name);
    let result = (|| {
        let mut file = fs_err::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs_err::rename(&tmp, path)?;
        // The rename is durable only once the directory entry is.
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, name: &str) -> Record {
        serde_json::json!({"id": id, "name": name})
            .as_object()
            .unwrap()
            .clone()
    }

    fn put(store: &Store, id: &str, name: &str) -> u64 {
        let ((), seq) = store
            .change(|_| {
                Ok::<_, ()>((
                    (),
                    vec![Change::PutAda {
                        record: record(id, name),
                    }],
                ))
            })
            .unwrap();
        store.wait_durable(seq).unwrap();
        seq
    }

    #[test]
    fn journal_survives_reopen_and_checkpoint_empties_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        {
            let store = Store::open(&path).unwrap();
            put(&store, "a", "one");
            put(&store, "b", "two");
            put(&store, "a", "one again");
        }
        let store = Store::open(&path).unwrap();
        let names: Vec<String> = store.read(|s| {
            s.ada
                .values()
                .map(|r| r["name"].as_str().unwrap().to_owned())
                .collect()
        });
        assert_eq!(names, ["one again", "two"]);
        store.checkpoint().unwrap();
        assert_eq!(
            std::fs::metadata(sibling(&path, ".journal")).unwrap().len(),
            0
        );
        let parsed: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(parsed["seq"], 3);
        put(&store, "c", "three");
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.read(|s| s.ada.len()), 3);
    }

    #[test]
    fn torn_last_journal_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        {
            let store = Store::open(&path).unwrap();
            put(&store, "a", "one");
        }
        let mut file = OpenOptions::new()
            .append(true)
            .open(sibling(&path, ".journal"))
            .unwrap();
        file.write_all(br#"{"seq":2,"op":"put_ada","record":{"id":"b","na"#)
            .unwrap();
        drop(file);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.read(|s| s.ada.len()), 1);
        put(&store, "c", "three");
        drop(store);
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.read(|s| s.ada.keys().cloned().collect::<Vec<_>>()),
            ["a", "c"]
        );
    }

    /// A garbled last line, newline and all, is a torn append too (a crash can leave a line's
    /// bytes without their content): dropped, and the writes before it kept.
    #[test]
    fn garbled_last_journal_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        {
            let store = Store::open(&path).unwrap();
            put(&store, "a", "one");
        }
        let journal = sibling(&path, ".journal");
        let mut file = OpenOptions::new().append(true).open(&journal).unwrap();
        file.write_all(b"\0\0\0\0\n").unwrap();
        drop(file);
        let store = Store::open(&path).unwrap();
        assert_eq!(store.read(|s| s.ada.len()), 1);
        put(&store, "b", "two");
        drop(store);
        assert_eq!(Store::open(&path).unwrap().read(|s| s.ada.len()), 2);
    }

    /// An unreadable line with lines after it: those were acknowledged, so the open fails,
    /// naming the file and the line, and neither file changes (issue #21).
    #[test]
    fn unreadable_line_before_the_last_is_an_error_and_nothing_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        {
            let store = Store::open(&path).unwrap();
            put(&store, "a", "one");
            store.checkpoint().unwrap();
            put(&store, "b", "two");
            put(&store, "c", "three");
            put(&store, "d", "four");
        }
        let journal = sibling(&path, ".journal");
        let text = std::fs::read_to_string(&journal).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for garbage in ["{\"seq\":3,\"op\":\"put_ada\",\"rec", "", "not json at all"] {
            lines[1] = garbage;
            let damaged = format!("{}\n", lines.join("\n"));
            std::fs::write(&journal, &damaged).unwrap();
            let snapshot = std::fs::read(&path).unwrap();
            let error = match Store::open(&path) {
                Err(error) => error,
                Ok(_) => panic!("a damaged journal must not open"),
            };
            assert!(
                matches!(&error, StoreError::Journal { line: 2, path, .. } if *path == journal),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains("line 2 of the journal"), "{message}");
            assert!(
                message.contains(&journal.display().to_string()),
                "{message}"
            );
            assert!(
                message.contains("restore the journal from a backup"),
                "{message}"
            );
            assert_eq!(std::fs::read_to_string(&journal).unwrap(), damaged);
            assert_eq!(std::fs::read(&path).unwrap(), snapshot);
        }
    }

    /// Numbers are stored as written, past f64 too, through the journal's replay (an internally
    /// tagged, flattened entry) and the snapshot alike (issue #21).
    #[test]
    fn numbers_survive_the_journal_and_the_snapshot_as_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let form = r#"{"maximum":1e999999,"minimum":-0.0,"big":9007199254740993,"float":9007199254740992.0,"tiny":1.0e-999999}"#;
        let mut record = record("a", "numbers");
        record.insert("form".into(), serde_json::from_str(form).unwrap());
        let written = serde_json::to_string(&record["form"]).unwrap();
        assert!(written.contains("1e+999999"), "{written}");
        {
            let store = Store::open(&path).unwrap();
            let ((), seq) = store
                .change(|_| Ok::<_, ()>(((), vec![Change::PutAda { record }])))
                .unwrap();
            store.wait_durable(seq).unwrap();
        }
        let replayed = Store::open(&path).unwrap();
        let form_of =
            |store: &Store| store.read(|s| serde_json::to_string(&s.ada["a"]["form"]).unwrap());
        assert_eq!(form_of(&replayed), written, "replayed from the journal");
        replayed.checkpoint().unwrap();
        drop(replayed);
        assert_eq!(
            form_of(&Store::open(&path).unwrap()),
            written,
            "read from the snapshot"
        );
    }

    #[test]
    fn a_second_opener_is_refused_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let first = Store::open(&path).unwrap();
        put(&first, "a", "one");
        let second = Store::open(&path);
        let Err(error @ StoreError::InUse { .. }) = second else {
            panic!("a second opener must be refused");
        };
        assert!(
            error.to_string().contains("in use by another process"),
            "{error}"
        );
        drop(first);
        let again = Store::open(&path).unwrap();
        assert_eq!(again.read(|s| s.ada.len()), 1);
    }

    #[test]
    fn corrupt_state_file_is_an_error_not_a_reset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{ not json").unwrap();
        assert!(matches!(
            Store::open(&path),
            Err(StoreError::Corrupt { .. })
        ));
    }

    #[test]
    fn concurrent_writers_share_fsyncs_and_all_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        let store = std::sync::Arc::new(Store::open(&path).unwrap());
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let store = std::sync::Arc::clone(&store);
                std::thread::spawn(move || {
                    for i in 0..50 {
                        put(&store, &format!("{t}-{i}"), "x");
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        drop(store);
        assert_eq!(Store::open(&path).unwrap().read(|s| s.ada.len()), 400);
    }
}
