//! Cold-key storm: N concurrent requests carrying tokens signed with a key rotated in just
//! before, against one resource server. Expects exactly one JWKS fetch and every request to
//! succeed (counted at the bundled authorization server).
//!
//! `storm [--mode bg|bg-nocache|jwta] [--requests 1000]`
//!
//! Everything runs in this process on 127.0.0.1 ephemeral ports. To make the storm truly
//! concurrent, the JWKS endpoint is held (`Fault::Hang`) until all N requests have entered the
//! resource server, then released; the count is read at the auth server afterwards.

use std::sync::atomic::{AtomicUsize, Ordering};

use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::{self, Next};
use bearer_guard_load::{app, arg, Mode};
use bearer_guard_testkit::{Endpoint, Fault, KeyAlg, TestServer};

static ARRIVED: AtomicUsize = AtomicUsize::new(0);

async fn count_arrivals(req: Request, next: Next) -> axum::response::Response {
    ARRIVED.fetch_add(1, Ordering::SeqCst);
    next.run(req).await
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run().await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(e) => {
            eprintln!("storm: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<bool, String> {
    let mode_s = arg("--mode").unwrap_or_else(|| "bg".into());
    let mode = Mode::parse(&mode_s)
        .filter(|m| *m != Mode::Plain)
        .ok_or("--mode bg|bg-nocache|jwta")?;
    let n: usize = arg("--requests")
        .unwrap_or_else(|| "1000".into())
        .parse()
        .map_err(|e| format!("--requests: {e}"))?;

    let auth = TestServer::builder()
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let router = app(mode, auth.issuer())
        .await?
        .layer(middleware::from_fn(count_arrivals));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let url = format!("http://{addr}/");
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(n)
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| e.to_string())?;

    // Warm up with the initial key: the resource server now has keys (1 fetch, not counted).
    let warm = auth.mint().sign();
    let status = client
        .get(&url)
        .bearer_auth(&warm)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .status();
    if !status.is_success() {
        return Err(format!("warm-up request failed: {status}"));
    }
    auth.reset_counts();
    ARRIVED.store(0, Ordering::SeqCst);

    // Rotate: a new key, published and used for signing; N distinct tokens with its kid.
    let kid = auth.add_key(KeyAlg::Rs256);
    auth.use_key(&kid);
    let tokens: Vec<String> = (0..n)
        .map(|i| auth.mint().sub(format!("storm-{i}")).sign())
        .collect();

    auth.set_fault(Endpoint::Jwks, Fault::Hang);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for token in tokens {
        let client = client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            match client.get(&url).bearer_auth(token).send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            }
        }));
    }
    // Hold the JWKS until every request is inside the resource server (or 20 s pass).
    let deadline = Instant::now() + Duration::from_secs(20);
    while ARRIVED.load(Ordering::SeqCst) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let arrived = ARRIVED.load(Ordering::SeqCst);
    let fetches_while_held = auth.count(Endpoint::Jwks);
    auth.set_fault(Endpoint::Jwks, Fault::None);

    let mut ok = 0usize;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for t in tasks {
        let s = t.await.unwrap_or(0);
        if s == 200 {
            ok += 1;
        }
        *statuses.entry(s).or_default() += 1;
    }
    let elapsed = started.elapsed();
    let fetches = auth.count(Endpoint::Jwks);
    let pass = ok == n && fetches == 1;
    println!(
        "STORM mode={mode_s} requests={n} in_flight_when_released={arrived} \
         jwks_fetches_while_held={fetches_while_held} jwks_fetches_total={fetches} \
         ok={ok} statuses={statuses:?} elapsed_ms={} result={}",
        elapsed.as_millis(),
        if pass { "PASS" } else { "FAIL" }
    );
    Ok(pass)
}
