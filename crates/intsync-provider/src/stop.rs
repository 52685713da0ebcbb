//! Asking a run to stop (SIGINT, SIGTERM): no new write starts, writes in flight finish.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::Notify;

/// Why a run was asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM (CI's cancel).
    Terminate,
}

/// A request to stop, shared by whoever asks (a signal handler) and whoever must honour it
/// (the provider before it sends a write, the engine before it starts one). Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// 0: not asked; otherwise a [`StopReason`] code. The first request wins.
    reason: AtomicU8,
    notify: Notify,
}

impl Stop {
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks to stop. Only the first request's reason is kept.
    pub fn request(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Interrupt => 1,
            StopReason::Terminate => 2,
        };
        let _ = self
            .0
            .reason
            .compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// Why a stop was asked for, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        match self.0.reason.load(Ordering::SeqCst) {
            0 => None,
            1 => Some(StopReason::Interrupt),
            _ => Some(StopReason::Terminate),
        }
    }

    /// Resolves once a stop is asked for (at once if it already was).
    pub async fn requested(&self) -> StopReason {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(reason) = self.reason() {
                return reason;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_reason_wins_and_waiters_wake() {
        let stop = Stop::new();
        assert_eq!(stop.reason(), None);
        let waiter = tokio::spawn({
            let stop = stop.clone();
            async move { stop.requested().await }
        });
        tokio::task::yield_now().await;
        stop.request(StopReason::Terminate);
        stop.request(StopReason::Interrupt);
        assert_eq!(waiter.await.unwrap(), StopReason::Terminate);
        assert_eq!(
            stop.requested().await,
            StopReason::Terminate,
            "already asked"
        );
    }
}
