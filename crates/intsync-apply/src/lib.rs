//! Providers: how intsync reads and writes live integrations on Ada, Truto, or the embedded
//! emulator (`local`). Listing follows every page; requests are retried on 429, 5xx and
//! connection failures with exponential backoff and jitter, honouring `Retry-After`.
//!
//! This crate and `intsync-emulator` are the only ones that know the vendors' wire JSON
//! ([`wire`]); everything above speaks `intsync-plan`'s types. Tokens and client secrets are
//! [`Secret`]s: no `Debug`, `Display`, log line or error message contains them.

pub mod executor;
pub mod limiter;
pub mod provider;
pub mod retry;
pub mod secret;
pub mod transport;
pub mod wire;

pub use executor::{Applied, Done, apply, holds};
pub use limiter::RateLimiter;
pub use provider::{Created, Provider, ProviderError};
pub use retry::RetryPolicy;
pub use secret::{Secret, redact};
pub use transport::{Timeouts, Transport, TransportError, install_crypto_provider};
