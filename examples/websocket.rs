//! A WebSocket and a server-sent-events route (axum) behind bearer-guard, for browser clients:
//! they cannot set an `Authorization` header on a WebSocket handshake or an `EventSource`, so
//! the layer also takes the token from a `Sec-WebSocket-Protocol` entry and from a cookie.
//!
//! ```text
//! cargo run --example websocket --features axum -- --issuer https://issuer.example --audience api
//! ```
//!
//! In the browser:
//!
//! ```text
//! const ws = new WebSocket("ws://127.0.0.1:8080/ws", ["chat.v1", "bearer-token." + token]);
//! // the server answers with the protocol "chat.v1" (never the token), then "hello <sub>"
//! document.cookie = "access_token=" + token;  // or set by your login flow, HttpOnly
//! const events = new EventSource("/events", { withCredentials: true });
//! ```
//!
//! Prints `listening on ADDR` once ready. `RUST_LOG=bearer_guard=debug` says why a token was
//! refused.

use std::net::SocketAddr;

use bearer_guard::JwtValidator;
use clap::Parser;

#[path = "shared/realtime.rs"]
mod realtime;

/// WebSocket (`GET /ws`) and server-sent events (`GET /events`) behind bearer-guard.
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
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = Args::parse();
    let validator = JwtValidator::builder(&args.issuer)
        .audience(&args.audience)
        .build()
        .await?;
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, realtime::app(validator)).await?;
    Ok(())
}
