//! What a run shares with whoever may stop it (the binary's signal handler): the [`Stop`] it
//! asks, and whether writes are in flight, with the creates among them, which a stop that
//! cannot wait must name.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use intsync_apply::Intents;
use intsync_provider::Stop;

use crate::plural;

/// One run's stop and its writes in flight. Cloned, it is the same run's.
#[derive(Clone, Default)]
pub struct Control {
    stop: Stop,
    writing: Arc<AtomicBool>,
    /// The records of the creates this run has in flight.
    creates: Arc<Mutex<Option<Intents>>>,
}

/// Marks writes in flight until dropped.
pub struct Writing(Arc<AtomicBool>);

impl Drop for Writing {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Control {
    #[must_use]
    pub fn new() -> Control {
        Control::default()
    }

    /// The stop the run's writes obey.
    #[must_use]
    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// Whether writes are in flight now.
    #[must_use]
    pub fn is_writing(&self) -> bool {
        self.writing.load(Ordering::SeqCst)
    }

    /// Writes are in flight until the guard is dropped.
    #[must_use]
    pub fn writing(&self) -> Writing {
        self.writing.store(true, Ordering::SeqCst);
        Writing(Arc::clone(&self.writing))
    }

    /// Writes are in flight until the guard is dropped; the creates among them are recorded in
    /// `intents` ([`Control::in_flight_text`] names them).
    #[must_use]
    pub fn writing_creates(&self, intents: &Intents) -> Writing {
        *self.creates.lock().unwrap_or_else(PoisonError::into_inner) = Some(intents.clone());
        self.writing()
    }

    /// What an exit now would leave unknown: the creates in flight (they may land, and their
    /// client secrets would then be lost), and where they are recorded for the next run.
    /// Empty when none is in flight.
    #[must_use]
    pub fn in_flight_text(&self) -> String {
        let guard = self.creates.lock().unwrap_or_else(PoisonError::into_inner);
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
            plural(in_flight.len()),
            names.join(", "),
            intents.dir().display(),
            if in_flight.iter().any(|i| i.kind.issues_secret()) {
                " (a client secret of one that was created is lost: rotate it)"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writing_lasts_as_long_as_its_guard() {
        let control = Control::new();
        assert!(!control.is_writing());
        let guard = control.clone().writing();
        assert!(control.is_writing(), "a clone is the same run");
        drop(guard);
        assert!(!control.is_writing());
        assert_eq!(control.in_flight_text(), "", "no create recorded");
    }
}
