//! Starts the bundled test authorization server on a fixed loopback address, writes N valid
//! RS256 access tokens (one a line, distinct `sub` and `jti`, 1 h lifetime) to a file, prints
//! `ready ISSUER` and serves (JWKS for the resource servers) until killed.
//!
//! `issuer --bind 127.0.0.1:18080 --tokens 1000 --out tokens.txt`

use std::io::Write as _;
use std::time::Duration;

use bearer_guard_load::arg;
use bearer_guard_testkit::TestServer;

#[tokio::main]
async fn main() -> Result<(), String> {
    let bind = arg("--bind").unwrap_or_else(|| "127.0.0.1:18080".into());
    let n: usize = arg("--tokens")
        .unwrap_or_else(|| "1000".into())
        .parse()
        .map_err(|e| format!("--tokens: {e}"))?;
    let out = arg("--out").unwrap_or_else(|| "tokens.txt".into());
    let addr: std::net::SocketAddr = bind.parse().map_err(|e| format!("--bind: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err("--bind must be a loopback address".into());
    }
    let server = TestServer::builder()
        .bind(addr)
        .token_lifetime(Duration::from_secs(3600))
        .start()
        .await
        .map_err(|e| format!("cannot bind {bind}: {e}"))?;
    let mut file = std::fs::File::create(&out).map_err(|e| format!("{out}: {e}"))?;
    for i in 0..n {
        let token = server
            .mint()
            .sub(format!("user-{i}"))
            .lifetime(Duration::from_secs(3600))
            .sign();
        writeln!(file, "{token}").map_err(|e| format!("{out}: {e}"))?;
    }
    drop(file);
    println!("ready {}", server.issuer());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    Ok(())
}
