//! Providers: how intsync reads and writes live integrations on Ada, Truto, or an API served in
//! the same process (the `local` target's emulator, through [`InProcessApi`]). Listing follows
//! every page; requests are retried on 429, 5xx and connection failures with exponential backoff
//! and jitter, honouring `Retry-After`; a write is re-sent only when it certainly did not reach
//! the server.
//!
//! This crate and `intsync-emulator` are the only ones that know the vendors' wire JSON
//! ([`wire`]); everything above speaks `intsync-plan`'s types. It depends on no server: the
//! in-process API is a trait the binary implements. Tokens and client secrets are [`Secret`]s:
//! no `Debug`, `Display`, log line or error message contains them.

pub mod limiter;
pub mod provider;
pub mod retry;
pub mod secret;
pub mod stop;
pub mod transport;
pub mod wire;

pub use limiter::RateLimiter;
pub use provider::{Created, Listing, Provider, ProviderError};
pub use retry::{RetryBudget, RetryPolicy};
pub use secret::{Secret, redact, without_userinfo};
pub use stop::{Stop, StopReason};
pub use transport::{
    BoxError, InProcessAnswer, InProcessApi, Timeouts, Transport, TransportError,
    install_crypto_provider,
};
pub use wire::ClientSecret;
