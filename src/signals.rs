//! SIGINT and SIGTERM for the commands that write (design §6, §8).
//!
//! While writes are in flight, the first signal asks the engine to stop ([`Stop`]): no new write
//! starts, those in flight finish and their outcomes (secrets included) are saved, and the
//! command reports what was and was not done. A second signal exits at once. Outside writes,
//! `apply` exits at once (nothing is in flight), and `watch` stops after the cycle in progress.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use intsync_apply::Intents;
use intsync_provider::{Stop, StopReason};

use crate::Exit;

/// What the first signal does when no write is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Exit at once (`apply`: planning or asking, nothing written yet).
    Exit,
    /// Ask to stop, and let the command wind down (`watch`).
    Stop,
}

pub fn exit_code(reason: StopReason) -> Exit {
    match reason {
        StopReason::Interrupt => Exit::Interrupted,
        StopReason::Terminate => Exit::Terminated,
    }
}

fn name(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Interrupt => "interrupted (SIGINT)",
        StopReason::Terminate => "terminated (SIGTERM)",
    }
}

/// What the exit of a second signal leaves unknown: the creates in flight (they may land, and
/// their client secrets would then be lost), and where they are recorded for the next run.
fn in_flight_text(creates: &Mutex<Option<Intents>>) -> String {
    let guard = creates
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let Some(intents) = guard.as_ref() else {
        return String::new();
    };
    let in_flight = intents.in_flight();
    if in_flight.is_empty() {
        return String::new();
    }
    let names: Vec<String> = in_flight
        .iter()
        .map(|i| format!("{} {:?}", i.kind, i.name))
        .collect();
    format!(
        "; {} create{} in flight, outcome unknown: {}. They are recorded in {}: the next `intsync plan` or `apply` on this target looks for them{}",
        in_flight.len(),
        crate::output::plural(in_flight.len()),
        names.join(", "),
        intents.dir().display(),
        if in_flight.iter().any(|i| i.kind.issues_secret()) {
            " (a client secret of one that was created is lost: rotate it)"
        } else {
            ""
        }
    )
}

/// The signal listener of one command run.
pub struct Signals {
    stop: Stop,
    writing: Arc<AtomicBool>,
    /// The records of the creates this run has in flight, named by a second signal.
    creates: Arc<Mutex<Option<Intents>>>,
}

/// Marks writes in flight until dropped.
pub struct Writing(Arc<AtomicBool>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Signals {
    /// Listens for SIGINT and SIGTERM from now on, on `runtime`.
    pub fn listen(runtime: &tokio::runtime::Runtime, idle: Idle) -> anyhow::Result<Signals> {
        let stop = Stop::new();
        let writing = Arc::new(AtomicBool::new(false));
        let creates: Arc<Mutex<Option<Intents>>> = Arc::default();
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let _entered = runtime.enter();
            let mut interrupt =
                signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
            let mut terminate =
                signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
            let (stop, writing, creates) =
                (stop.clone(), Arc::clone(&writing), Arc::clone(&creates));
            runtime.spawn(async move {
                loop {
                    let reason = tokio::select! {
                        _ = interrupt.recv() => StopReason::Interrupt,
                        _ = terminate.recv() => StopReason::Terminate,
                    };
                    let in_flight = writing.load(Ordering::SeqCst);
                    if stop.reason().is_some() {
                        eprintln!("{} again: exiting now{}", name(reason), in_flight_text(&creates));
                        std::process::exit(exit_code(reason) as i32);
                    }
                    if !in_flight && idle == Idle::Exit {
                        eprintln!("{}: nothing was written", name(reason));
                        std::process::exit(exit_code(reason) as i32);
                    }
                    stop.request(reason);
                    if in_flight {
                        eprintln!(
                            "{}: no new write starts; waiting for the writes in flight to finish (again to exit at once)",
                            name(reason)
                        );
                    }
                }
            });
        }
        #[cfg(not(unix))]
        {
            let stop = stop.clone();
            runtime.spawn(async move {
                let _ = tokio::signal::ctrl_c().await;
                stop.request(StopReason::Interrupt);
                let _ = tokio::signal::ctrl_c().await;
                std::process::exit(Exit::Interrupted as i32);
            });
            let _ = idle;
        }
        Ok(Signals {
            stop,
            writing,
            creates,
        })
    }

    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// Writes are in flight until the guard is dropped.
    pub fn writing(&self) -> Writing {
        self.writing.store(true, Ordering::SeqCst);
        Writing(Arc::clone(&self.writing))
    }

    /// Writes are in flight until the guard is dropped; the creates among them are recorded in
    /// `intents` (a second signal names them as it exits).
    pub fn writing_creates(&self, intents: &Intents) -> Writing {
        *self
            .creates
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(intents.clone());
        self.writing.store(true, Ordering::SeqCst);
        Writing(Arc::clone(&self.writing))
    }
}
