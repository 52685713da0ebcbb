//! The reconcile engine: one library for every command that writes (`apply`, `apply --plan`,
//! `watch --apply`), so that each safety rule is written once.
//!
//! A run is [`engine::recheck`] (a saved plan against live state) → [`engine::prepare`] (refuse
//! or set aside blocked changes) → [`engine::execute`] (the writes, each client secret saved
//! durably as its answer is read, a stop honoured between writes, then verification) → a typed
//! [`Report`]. The per-write rules (never re-send a create whose outcome is unknown, adopt by
//! listing over a grace window, Truto version conflicts as stale items) are in [`executor`].

pub mod engine;
pub mod executor;
pub mod intents;
pub mod lock;
pub mod secrets;

pub use engine::{
    Batch, Moved, Options, Refused, Report, RunProblem, Status, execute, prepare, recheck, verify,
};
pub use executor::{ItemError, Outcome, SecretSaved, Stores, holds};
pub use intents::{Intents, Leftover};
pub use lock::{Holder, LockError, TargetLock};
pub use secrets::{SecretError, SecretStore};
