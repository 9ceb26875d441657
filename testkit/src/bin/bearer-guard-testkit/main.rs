//! `bearer-guard-testkit`: the test authorization server as a program, for test suites in
//! any language. **For testing only.**
//!
//! ```text
//! bearer-guard-testkit --bind 127.0.0.1:0 --control-api \
//!     --client shop:shop-secret:"read write" --user bob:hunter2 --auto-approve bob
//! ```
//!
//! Prints the issuer URL alone on the first line of standard output once listening, then
//! serves until Ctrl-C or SIGTERM. `--help` lists every flag.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
