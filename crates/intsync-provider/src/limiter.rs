//! A client-side rate limiter: at most `limit` requests in any `window`, for every window at
//! once (Ada: 10 per second *and* 100 per minute). Callers wait their turn; nobody gets a 429.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The least extra time each window is kept (see [`RateLimiter::new`]).
const MARGIN: Duration = Duration::from_millis(25);

#[derive(Debug)]
pub struct RateLimiter {
    stated: Vec<(Duration, u32)>,
    windows: Vec<(Duration, u32)>,
    sent: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// `windows`: `(window, limit)` pairs. Empty means unlimited.
    ///
    /// Each window is kept a little longer than stated (1 %, at least 25 ms): requests reach the
    /// server with varying delays, so two requests sent exactly one window apart can arrive less
    /// than one window apart, and the server would count both.
    pub fn new(windows: Vec<(Duration, u32)>) -> RateLimiter {
        let stated: Vec<(Duration, u32)> = windows
            .into_iter()
            .filter(|(w, l)| !w.is_zero() && *l > 0)
            .collect();
        RateLimiter {
            windows: stated
                .iter()
                .map(|(w, l)| (*w + (*w / 100).max(MARGIN), *l))
                .collect(),
            stated,
            sent: Mutex::new(VecDeque::new()),
        }
    }

    /// The `(window, limit)` pairs as stated (without the margin), in the order given.
    pub fn stated_windows(&self) -> &[(Duration, u32)] {
        &self.stated
    }

    /// How long to wait before a request may go at `now`, or `None` if it may go (and is counted).
    fn try_acquire(&self, now: Instant) -> Option<Duration> {
        let mut sent = self
            .sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let longest = self
            .windows
            .iter()
            .map(|(w, _)| *w)
            .max()
            .unwrap_or_default();
        while sent
            .front()
            .is_some_and(|t| now.duration_since(*t) >= longest)
        {
            sent.pop_front();
        }
        let mut wait = Duration::ZERO;
        for (window, limit) in &self.windows {
            let in_window: Vec<&Instant> = sent
                .iter()
                .rev()
                .take_while(|t| now.duration_since(**t) < *window)
                .collect();
            if in_window.len() >= *limit as usize {
                // The oldest request in the window that must leave it first.
                let oldest = in_window[*limit as usize - 1];
                wait = wait.max(*window - now.duration_since(*oldest));
            }
        }
        if wait.is_zero() {
            sent.push_back(now);
            None
        } else {
            Some(wait)
        }
    }

    /// Waits until a request may be sent.
    pub async fn acquire(&self) {
        if self.windows.is_empty() {
            return;
        }
        while let Some(wait) = self.try_acquire(Instant::now()) {
            tokio::time::sleep(wait + Duration::from_millis(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_is_respected() {
        let limiter = RateLimiter::new(vec![
            (Duration::from_secs(1), 10),
            (Duration::from_secs(60), 100),
        ]);
        let t0 = Instant::now();
        assert_eq!(
            (0..15)
                .filter(|_| limiter.try_acquire(t0).is_none())
                .count(),
            10
        );
        let wait = limiter.try_acquire(t0).unwrap();
        assert_eq!(
            wait,
            Duration::from_millis(1025),
            "one window and its margin"
        );
        assert!(
            limiter
                .try_acquire(t0 + Duration::from_millis(1010))
                .is_some(),
            "still inside the margin"
        );
        let mut sent = 10;
        for s in 1..30 {
            let at = t0 + Duration::from_millis(1030 * s);
            sent += (0..15)
                .filter(|_| limiter.try_acquire(at).is_none())
                .count();
        }
        assert_eq!(sent, 100, "the minute window caps the total");
    }
}
