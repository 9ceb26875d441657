//! Runs the bundled test authorization server standalone. **For testing only.**
//!
//! ```text
//! cargo run --example auth_server -- --bind 127.0.0.1:9000 [--config path.json] [--control-api] ...
//! ```
//!
//! A thin wrapper around the command line of the `bearer-guard-testkit` binary
//! (`testkit/src/bin/bearer-guard-testkit/`), with the same flags (`--help` lists them),
//! except that it prints `issuer http://127.0.0.1:9000` (the binary prints the URL alone)
//! once listening, then serves until Ctrl-C.

#[path = "../testkit/src/bin/bearer-guard-testkit/cli.rs"]
mod cli;

fn main() -> std::process::ExitCode {
    cli::main("auth_server", cli::Banner::Prefixed)
}
