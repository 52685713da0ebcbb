//! SIGINT and SIGTERM for the commands that write (design §6, §8).
//!
//! While writes are in flight, the first signal asks the engine to stop ([`intsync_provider::Stop`]): no new write
//! starts, those in flight finish and their outcomes (secrets included) are saved, and the
//! command reports what was and was not done. A second signal exits at once. Outside writes,
//! `apply` exits at once (nothing is in flight), and `watch` stops after the cycle in progress.

use anyhow::Context as _;
use intsync_provider::StopReason;
use intsync_run::Verdict;
use intsync_run::control::Control;

/// What the first signal does when no write is in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    /// Exit at once (`apply`: planning or asking, nothing written yet).
    Exit,
    /// Ask to stop, and let the command wind down (`watch`).
    Stop,
}

fn name(reason: StopReason) -> &'static str {
    match reason {
        StopReason::Interrupt => "interrupted (SIGINT)",
        StopReason::Terminate => "terminated (SIGTERM)",
    }
}

fn exit_now(reason: StopReason) -> ! {
    std::process::exit(i32::from(crate::exit_code(Verdict::Stopped(reason))))
}

/// Listens for SIGINT and SIGTERM from now on, on `runtime`, for the run `control` is of.
pub fn listen(runtime: &tokio::runtime::Runtime, idle: Idle) -> anyhow::Result<Control> {
    let control = Control::new();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let _entered = runtime.enter();
        let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let control = control.clone();
        runtime.spawn(async move {
            let stop = control.stop();
            loop {
                let reason = tokio::select! {
                    _ = interrupt.recv() => StopReason::Interrupt,
                    _ = terminate.recv() => StopReason::Terminate,
                };
                let in_flight = control.is_writing();
                if stop.reason().is_some() {
                    eprintln!("{} again: exiting now{}", name(reason), control.in_flight_text());
                    exit_now(reason);
                }
                if !in_flight && idle == Idle::Exit {
                    eprintln!("{}: nothing was written", name(reason));
                    exit_now(reason);
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
        let stop = control.stop();
        runtime.spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            stop.request(StopReason::Interrupt);
            let _ = tokio::signal::ctrl_c().await;
            exit_now(StopReason::Interrupt);
        });
        let _ = idle;
    }
    Ok(control)
}
