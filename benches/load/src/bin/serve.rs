//! Serves the trivial handler one way: `serve --mode plain|bg|bg-nocache|jwta --bind ADDR
//! --issuer http://127.0.0.1:18080`. Prints `ready MODE ADDR` once listening.

use bearer_guard_load::{app, arg, Mode};

#[tokio::main]
async fn main() -> Result<(), String> {
    let mode_s = arg("--mode").ok_or("--mode plain|bg|bg-nocache|jwta")?;
    let mode = Mode::parse(&mode_s).ok_or("--mode plain|bg|bg-nocache|jwta")?;
    let bind = arg("--bind").ok_or("--bind ADDR")?;
    let issuer = arg("--issuer").unwrap_or_else(|| "http://127.0.0.1:18080".into());
    let addr: std::net::SocketAddr = bind.parse().map_err(|e| format!("--bind: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err("--bind must be a loopback address".into());
    }
    let router = app(mode, &issuer).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot bind {bind}: {e}"))?;
    println!("ready {mode_s} {addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
}
