//! bearer-guard on plain hyper 1, without axum or tonic: `AuthLayer` wraps a `tower::service_fn`,
//! and `hyper_util`'s `TowerToHyperService` adapts it for hyper's connection builder. Any Tower
//! service of `http::Request` works the same way.
//!
//! ```text
//! cargo run --example hyper_server -- --issuer https://issuer.example --audience api
//! curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/
//! ```
//!
//! Prints `listening on ADDR` once ready.

use std::net::SocketAddr;

use bearer_guard::JwtValidator;
use clap::Parser;

#[path = "shared/hyper_app.rs"]
mod hyper_app;

/// A hyper 1 server answering `hello <sub>` to requests with a valid token.
#[derive(Parser, Debug)]
#[command(version, about)]
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

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let validator = JwtValidator::builder(&args.issuer)
        .audience(&args.audience)
        .build()
        .await?;
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    println!("listening on {}", listener.local_addr()?);
    hyper_app::serve(listener, validator).await;
    Ok(())
}
