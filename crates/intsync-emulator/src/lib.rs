//! A faithful local stand-in for Ada's platform-integrations API and Truto's integration API.
//!
//! One [`Emulator`] holds the state of both and answers requests with the vendors' documented
//! rules, envelopes and status codes (`docs/emulator.md` lists every choice made where the
//! vendors are silent). It is reached two ways: over HTTP ([`server`], `intsync emulator`), and
//! in-process through [`Emulator::call`], which is what the embedded `local` target uses.
//!
//! This crate is one of the two that know the vendors' wire JSON (with `intsync-provider`). It must
//! never answer a 5xx for bad input, never lose an acknowledged write ([`store`]), and never bind
//! to anything but what it is told (loopback by default in the CLI).

mod ada;
pub mod controls;
mod emulator;
mod fields;
pub mod ids;
pub mod server;
pub mod store;
mod truto;
mod wire;

pub use controls::{FaultAction, FaultRule, Faults, LogSettings, LoggedRequest};
pub use emulator::{Delivery, Dropped, Emulator, Held, MAX_BODY_BYTES, Outcome, RateLimitPreset};
pub use store::{Store, StoreError};
pub use truto::Owner;
pub use wire::{Api, ApiError, Request, Response};

/// The emulator's own copy of what each vendor accepts, kept apart from the manifest crate's on
/// purpose (a test checks both against Ada's OpenAPI file and Truto's documented fields).
pub mod vendor {
    pub use crate::ada::{DEVELOPMENT as ADA_EDITABLE_STATUS, FIELDS as ADA_FIELDS};
    pub use crate::controls::{ADA_DOCUMENTED, TRUTO_DOCUMENTED};
    pub use crate::fields::{Field, Format, Ty, is_web_url};
    pub use crate::truto::{
        CREATE_FIELDS as TRUTO_CREATE_FIELDS, UPDATE_FIELDS as TRUTO_UPDATE_FIELDS,
    };
}

/// The in-process emulator behind the `local` target: the state at `path`, and a token that only
/// this process knows.
pub fn local(path: &std::path::Path) -> Result<Emulator, StoreError> {
    Ok(Emulator::new(Store::open(path)?, ids::secret()))
}
