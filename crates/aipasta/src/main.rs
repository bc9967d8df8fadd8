//! The `aipasta` command. All behaviour lives in the library; this only starts it.

use std::process::ExitCode;

fn main() -> ExitCode {
    aipasta::main()
}
