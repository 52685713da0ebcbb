pub mod emulator;
pub mod schema;
pub mod validate;
