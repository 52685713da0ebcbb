pub mod apply;
pub mod docs;
pub mod emulator;
pub mod export;
pub mod plan;
pub mod schema;
pub mod validate;
pub mod watch;
