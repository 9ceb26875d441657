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

#[path = "shared/hyper_app.rs"]
mod hyper_app;

#[path = "shared/start.rs"]
mod start;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (validator, listener) =
        start::start("A hyper 1 server answering `hello <sub>` to requests with a valid token.")
            .await?;
    hyper_app::serve(listener, validator).await;
    Ok(())
}
