//! Certificate-bound access tokens (RFC 8705 mutual TLS), end to end on loopback: an HTTPS API
//! that asks clients for certificates and accepts a token bound to a certificate only from the
//! client that holds it.
//!
//! ```text
//! cargo run --example mtls
//! ```
//!
//! The example starts the test authorization server (bearer-guard-testkit), makes a throwaway
//! certificate authority with a server and two client certificates, serves the API with
//! tokio-rustls + hyper (`serve_mtls` in `examples/shared/mtls.rs`: the TLS acceptor puts the
//! client's certificate into each request as a `ClientCertificate` extension, the
//! recommended way to hand it to the layer), mints a token bound to the first client's
//! certificate, and calls the API as each client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "shared/mtls.rs"]
mod shared;

use axum::{routing::get, Extension, Router};
use bearer_guard::{mtls::MtlsConfig, AuthLayer, Claims, JwtValidator};
use bearer_guard_testkit::TestServer;

#[tokio::main]
async fn main() -> Result<(), shared::BoxError> {
    let auth_server = TestServer::start().await;
    let validator = JwtValidator::builder(auth_server.issuer())
        .audience("api")
        .build()
        .await?;
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(claims): Extension<Claims>| async move {
                format!("hello {}", claims.subject().unwrap_or("?"))
            }),
        )
        // Tokens with cnf.x5t#S256 must come over a connection authenticated with that
        // certificate; other tokens are not affected.
        .layer(AuthLayer::new(validator).mtls(MtlsConfig::new()));

    let ca = shared::TestCa::new()?;
    let server = ca.issue("api")?;
    let alice = ca.issue("alice's client")?;
    let mallory = ca.issue("mallory's client")?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(shared::serve_mtls(
        listener,
        ca.server_config(&server)?,
        app,
    ));
    println!("API on https://localhost:{}/me (mutual TLS)", addr.port());

    // The authorization server binds the token to alice's certificate: cnf.x5t#S256.
    let token = auth_server
        .mint()
        .sub("alice")
        .bound_to_certificate(&alice.cert)
        .sign();
    for (who, client) in [
        ("alice's certificate", Some(&alice)),
        ("mallory's certificate", Some(&mallory)),
        ("no certificate", None),
    ] {
        let config = ca.client_config(client)?;
        let (status, challenge, body) = shared::get(addr, config, "/me", &token).await?;
        println!("bound token with {who}: {status} {body}{challenge}");
    }
    Ok(())
}
