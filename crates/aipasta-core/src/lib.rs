//! Domain types shared by every AI Pasta crate. Nothing here performs I/O.

pub mod clock;
pub mod id;

/// The version of AI Pasta, as built.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
