//! The planner: desired state (manifests) and observed state (live objects) in one vocabulary,
//! and the pure function between them, `plan(desired, observed) -> Plan`.
//!
//! Nothing here does IO, reads a clock or draws a random number: given the same inputs, the plan
//! is the same, byte for byte once rendered. The planner does not know the vendors' wire JSON
//! either: providers (`intsync-provider`) turn responses into [`ObservedIntegration`]s first.

pub mod compact;
pub mod decimal;
mod diff;
pub mod drift;
mod index;
pub mod inert;
mod model;
pub mod normalize;
mod planner;
pub mod render;
pub mod saves;
#[doc(hidden)]
pub mod testing;

pub use model::{
    Action, Candidate, Claim, DesiredIntegration, Drift, Ignored, MASK, Observed,
    ObservedIntegration, Plan, PlanError, Problem, Sensitive, SetAside, Skipped, Summary,
    Unmanaged, Unreadable, pointer_mut,
};
pub use planner::{fingerprint, minimal_patch, plan};
