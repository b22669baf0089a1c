//! The `lossy` command line: a thin layer over the library. Parses
//! arguments (clap), calls the library, prints results, and maps errors to
//! exit codes: 0 success, 2 invalid study / input / usage, 1 failure while
//! running.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
