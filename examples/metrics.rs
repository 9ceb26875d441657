//! Metrics through the `metrics` facade, served for Prometheus: the API and its `/metrics`
//! endpoint, a few requests, then the bearer-guard lines of the scrape.
//!
//! ```text
//! cargo run --example metrics --features axum,metrics
//! ```
//!
//! In your own service, install any `metrics` exporter (Prometheus, StatsD, OpenTelemetry) at
//! start-up; bearer-guard's metric names are the constants of `bearer_guard::stats`.

use axum::{routing::get, Router};
use bearer_guard::{AuthLayer, JwtValidator};
use bearer_guard_testkit::TestServer;
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let issuer = TestServer::start().await;
    let validator = JwtValidator::builder(issuer.issuer())
        .audience(issuer.audience())
        .build()
        .await?;
    let app = Router::new()
        .route("/hello", get(|| async { "hello" }))
        .layer(AuthLayer::new(validator))
        .route("/metrics", get(move || async move { prometheus.render() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    let good = issuer.mint().sign();
    let expired = issuer.mint().expired().sign();
    for token in [&good, &good, &good, &expired] {
        let status = client
            .get(format!("{base}/hello"))
            .bearer_auth(token)
            .send()
            .await?
            .status();
        println!("GET /hello -> {status}");
    }
    let scrape = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    println!("\nGET /metrics (bearer_guard lines):");
    for line in scrape.lines().filter(|l| l.starts_with("bearer_guard")) {
        println!("  {line}");
    }
    Ok(())
}
