//! Retries: which failures are worth another try, and how long to wait before it.
//!
//! Exponential backoff with jitter (Ada: "Implement retry logic with exponential backoff and
//! jitter"), `Retry-After` honoured when the server sends it.

use std::time::Duration;

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, the first included.
    pub attempts: u32,
    /// The first backoff; it doubles each retry.
    pub base_delay: Duration,
    /// No backoff is longer than this.
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is cut to it (a server asking for an hour is not waited on).
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

fn jitter_fraction() -> f64 {
    let mut bytes = [0u8; 4];
    if getrandom::fill(&mut bytes).is_err() {
        return 1.0;
    }
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry).
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max_retry_after);
        }
        let exponential = self
            .base_delay
            .saturating_mul(1u32 << retry.saturating_sub(1).min(20));
        let capped = exponential.min(self.max_delay);
        // "Equal jitter": half fixed, half random, so retries spread but still back off.
        capped.mul_f64(0.5 + 0.5 * jitter_fraction())
    }
}

/// The longest `Retry-After` read as it is; longer ones are read as this (and [`RetryPolicy`]
/// cuts it further, to `max_retry_after`).
const RETRY_AFTER_CEILING: Duration = Duration::from_secs(24 * 60 * 60);

/// `Retry-After` (RFC 9110 §10.2.3) at `now`: delay-seconds (a decimal fraction accepted), or an
/// HTTP-date (a date already past means "now"). `None` for anything else, a negative number
/// included (then the backoff decides). Never panics: huge values are cut to a day.
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        if !seconds.is_finite() || seconds < 0.0 {
            return None;
        }
        return Some(
            Duration::try_from_secs_f64(seconds.min(RETRY_AFTER_CEILING.as_secs_f64()))
                .unwrap_or(RETRY_AFTER_CEILING),
        );
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(now)
            .unwrap_or(Duration::ZERO)
            .min(RETRY_AFTER_CEILING),
    )
}

/// What every request to one API with one token shares when the server says "too many"
/// (issue #24): after a 429, no request of that API and token is sent before the wait the
/// retry was given (its `Retry-After`, or the backoff) has passed, whichever target it serves.
/// Without it, a target sharing the token with one that was just refused would go on sending
/// into the same exhausted quota. Shared like the [`RateLimiter`](crate::RateLimiter): one
/// per API and token, held by every provider of those (`intsync_run::config::Connections`).
/// The attempts of each request stay its own ([`RetryPolicy::attempts`]).
#[derive(Debug, Default)]
pub struct RetryBudget {
    resume_at: std::sync::Mutex<Option<tokio::time::Instant>>,
    holds: std::sync::atomic::AtomicU64,
}

impl RetryBudget {
    pub fn new() -> RetryBudget {
        RetryBudget::default()
    }

    /// A 429 was answered: nothing is sent for `wait` from now (a later end wins).
    pub fn hold_for(&self, wait: Duration) {
        let until = tokio::time::Instant::now() + wait;
        let mut resume_at = self
            .resume_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if resume_at.is_none_or(|at| at < until) {
            *resume_at = Some(until);
        }
        self.holds
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// When requests may be sent again, if a hold is running.
    pub fn resume_at(&self) -> Option<tokio::time::Instant> {
        let resume_at = *self
            .resume_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        resume_at.filter(|at| *at > tokio::time::Instant::now())
    }

    /// Waits until no hold is running.
    pub async fn wait(&self) {
        while let Some(at) = self.resume_at() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// How many 429s held the requests so far.
    pub fn holds(&self) -> u64 {
        self.holds.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy {
            attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
            max_retry_after: Duration::from_secs(5),
        };
        for retry in 1..=8 {
            let d = p.delay(retry, None);
            let full =
                Duration::from_millis(100 * (1 << (retry - 1))).min(Duration::from_millis(1000));
            assert!(d >= full / 2 && d <= full, "retry {retry}: {d:?}");
        }
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3600))),
            Duration::from_secs(5)
        );
    }

    #[test]
    fn retry_after_seconds_and_dates_never_panic() {
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // 2015-10-21 07:28:00
        let parse = |v| parse_retry_after(v, now);
        assert_eq!(parse("10"), Some(Duration::from_secs(10)));
        assert_eq!(parse(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(
            parse("1e20"),
            Some(RETRY_AFTER_CEILING),
            "huge: cut, no panic"
        );
        assert_eq!(parse("18446744073709551616"), Some(RETRY_AFTER_CEILING));
        assert_eq!(parse("-5"), None, "negative: the backoff decides");
        assert_eq!(parse("NaN"), None);
        assert_eq!(parse("inf"), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(parse(""), None);
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:28:30 GMT"),
            Some(Duration::from_secs(30)),
            "an HTTP-date 30 s ahead"
        );
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:27:00 GMT"),
            Some(Duration::ZERO),
            "a date already past"
        );
        assert_eq!(
            parse("Fri, 31 Dec 9999 23:59:59 GMT"),
            Some(RETRY_AFTER_CEILING)
        );
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.delay(1, parse("1e20")),
            policy.max_retry_after,
            "and the policy cuts it to its own ceiling"
        );
    }
}
