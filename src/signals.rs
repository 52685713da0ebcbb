//! SIGINT and SIGTERM for the commands that write (design §6, §8).
//!
//! While writes are in flight, the first signal asks the engine to stop ([`Stop`]): no new write
//! starts, those in flight finish and their outcomes (secrets included) are saved, and the
//! command reports what was and was not done. A second signal exits at once. Outside writes,
//! `apply` exits at once (nothing is in flight), and `watch` stops after the cycle in progress.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context as _;
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

/// The signal listener of one command run.
pub struct Signals {
    stop: Stop,
    writing: Arc<AtomicBool>,
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
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let _entered = runtime.enter();
            let mut interrupt =
                signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
            let mut terminate =
                signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
            let (stop, writing) = (stop.clone(), Arc::clone(&writing));
            runtime.spawn(async move {
                loop {
                    let reason = tokio::select! {
                        _ = interrupt.recv() => StopReason::Interrupt,
                        _ = terminate.recv() => StopReason::Terminate,
                    };
                    let in_flight = writing.load(Ordering::SeqCst);
                    if stop.reason().is_some() {
                        eprintln!("{} again: exiting now", name(reason));
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
        Ok(Signals { stop, writing })
    }

    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// Writes are in flight until the guard is dropped.
    pub fn writing(&self) -> Writing {
        self.writing.store(true, Ordering::SeqCst);
        Writing(Arc::clone(&self.writing))
    }
}
