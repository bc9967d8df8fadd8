//! The `aipasta` command. All behaviour lives in the library; this only starts it.

use std::process::ExitCode;

/// See the dependency's note in Cargo.toml: a fifth more gateway requests per core than glibc's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    aipasta::main()
}
