pub mod apply;
pub mod emulator;
pub mod plan;
pub mod schema;
pub mod validate;
