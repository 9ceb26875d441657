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

#[path = "shared/realtime.rs"]
mod realtime;

#[path = "shared/start.rs"]
mod start;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let (validator, listener) = start::start(
        "WebSocket (`GET /ws`) and server-sent events (`GET /events`) behind bearer-guard.",
    )
    .await?;
    axum::serve(listener, realtime::app(validator)).await?;
    Ok(())
}
