//! Domain types shared by every AI Pasta crate. Nothing here performs I/O.

pub mod account;
pub mod catalog;
pub mod clock;
pub mod id;
pub mod media;
pub mod money;
pub mod params;
pub mod secret_box;

/// The version of AI Pasta, as built.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
