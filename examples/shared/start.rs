//! The start-up of `examples/hyper_server.rs` and `examples/websocket.rs`: the command line
//! (`--issuer`, `--audience`, `--bind`), the validator it configures, and the listener, with
//! `listening on ADDR` printed once it is bound.

use std::net::SocketAddr;

use bearer_guard::JwtValidator;
use clap::{CommandFactory, FromArgMatches, Parser};
use tokio::net::TcpListener;

#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The issuer identifier (discovery, and the expected `iss`).
    #[arg(long)]
    issuer: String,
    /// The audience tokens must be for.
    #[arg(long)]
    audience: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
}

/// Reads the command line (`about` is its `--help` summary), builds a `JwtValidator` for the
/// issuer and audience, and binds the listener.
pub async fn start(
    about: &'static str,
) -> Result<(JwtValidator, TcpListener), Box<dyn std::error::Error>> {
    let args = Args::from_arg_matches(&Args::command().about(about).get_matches())?;
    let validator = JwtValidator::builder(&args.issuer)
        .audience(&args.audience)
        .build()
        .await?;
    let listener = TcpListener::bind(args.bind).await?;
    println!("listening on {}", listener.local_addr()?);
    Ok((validator, listener))
}
