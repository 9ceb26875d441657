//! Token introspection (RFC 7662) end to end: a real axum app behind `AuthLayer`, the bundled
//! authorization server, reqwest over loopback.

use crate::support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::routing::get;
use axum::{Extension, Json, Router};
use bearer_guard::{
    introspection::ClientAuth, introspection::IntrospectionValidatorBuilder, AuthLayer, Claims,
    HybridValidator, IntrospectionValidator, Validator,
};
use bearer_guard_testkit::{Endpoint, Fault, TestServer};
use reqwest::StatusCode;
use serde_json::Value;
use support::{challenge, concurrent_ok};

/// Serves `GET /me` (answers the claims as JSON) behind `AuthLayer::new(validator)`.
async fn app(validator: impl Validator) -> String {
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(AuthLayer::new(validator));
    format!("{}/me", support::serve(app).await)
}

fn builder(server: &TestServer) -> IntrospectionValidatorBuilder {
    IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .introspection_endpoint(server.introspection_endpoint())
        .audience("api")
}

async fn serve(b: IntrospectionValidatorBuilder) -> String {
    app(b.build().await.unwrap()).await
}

async fn call(url: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn status(url: &str, token: &str) -> StatusCode {
    call(url, token).await.status()
}

fn count(server: &TestServer) -> u64 {
    server.count(Endpoint::Introspection)
}

#[tokio::test]
async fn active_token_passes_with_claims() {
    let server = TestServer::start().await;
    // Endpoint discovered from the issuer metadata.
    let v = IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .audience("api")
        .build()
        .await
        .unwrap();
    assert_eq!(v.endpoint(), server.introspection_endpoint());
    let url = app(v).await;
    let token = server.mint().sub("alice").scope("read write").opaque();
    let res = call(&url, &token).await;
    assert_eq!(res.status(), 200);
    let claims: Value = res.json().await.unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["scope"], "read write");
    assert_eq!(claims["active"], true);
    assert_eq!(count(&server), 1);
}

#[tokio::test]
async fn scopes_from_introspection_work_with_claims() {
    let server = TestServer::start().await;
    let v = builder(&server).build().await.unwrap();
    let token = server.mint().scope("read write").opaque();
    let claims = v.validate(&token).await.unwrap();
    assert!(claims.scopes().contains_all(["read", "write"]));
    assert!(!claims.scopes().contains("admin"));
}

#[tokio::test]
async fn unknown_and_inactive_tokens_get_401() {
    let server = TestServer::start().await;
    let url = serve(builder(&server)).await;
    let res = call(&url, "no-such-token").await;
    assert_eq!(res.status(), 401);
    let c = challenge(&res);
    assert!(c.contains(r#"error="invalid_token""#), "{c}");
    assert!(c.contains("not active"), "{c}");
    assert_eq!(count(&server), 1);
}

#[tokio::test]
async fn expired_token_gets_401() {
    let server = TestServer::start().await;
    let url = serve(builder(&server)).await;
    let token = server.mint().expired().opaque();
    assert_eq!(status(&url, &token).await, 401);
}

#[tokio::test]
async fn wrong_audience_is_refused_although_active() {
    let server = TestServer::start().await;
    let url = serve(builder(&server)).await;
    let token = server.mint().aud("other-api").opaque();
    assert!(server.is_active(&token));
    let res = call(&url, &token).await;
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).contains("audience"));
}

#[tokio::test]
async fn revocation_bites_when_the_cache_entry_ends() {
    let server = TestServer::start().await;
    let url = serve(builder(&server).cache_ttl(Duration::from_secs(1))).await;
    let token = server.mint().opaque();
    assert_eq!(status(&url, &token).await, 200);
    server.revoke(&token);
    // Still cached: accepted without asking (the documented staleness).
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(count(&server), 1);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert_eq!(status(&url, &token).await, 401);
    assert_eq!(count(&server), 2);
}

#[tokio::test]
async fn cache_entry_ends_at_token_expiry() {
    let server = TestServer::start().await;
    let url = serve(
        builder(&server)
            .cache_ttl(Duration::from_secs(600))
            .leeway(Duration::ZERO),
    )
    .await;
    let token = server.mint().lifetime(Duration::from_secs(2)).opaque();
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(count(&server), 1);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    // The entry ended with `exp`: the server is asked again and says inactive.
    assert_eq!(status(&url, &token).await, 401);
    assert_eq!(count(&server), 2);
}

#[tokio::test]
async fn second_request_is_a_cache_hit() {
    let server = TestServer::start().await;
    let url = serve(builder(&server)).await;
    let token = server.mint().opaque();
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(count(&server), 1);
    // Inactive results are cached too (briefly).
    assert_eq!(status(&url, "junk").await, 401);
    assert_eq!(status(&url, "junk").await, 401);
    assert_eq!(count(&server), 2);
}

#[tokio::test]
async fn cache_hit_is_decided_without_waiting() {
    let server = TestServer::start().await;
    let v = builder(&server).build().await.unwrap();
    let token = server.mint().opaque();
    assert!(
        v.validate(&token).into_ready().is_err(),
        "first call must ask"
    );
    assert!(v.validate(&token).await.is_ok());
    let hit = v
        .validate(&token)
        .into_ready()
        .expect("a cache hit is ready");
    assert!(hit.is_ok());
    assert_eq!(count(&server), 1);
}

#[tokio::test]
async fn cache_off_asks_every_time() {
    let server = TestServer::start().await;
    let url = serve(builder(&server).no_cache()).await;
    let token = server.mint().opaque();
    for _ in 0..3 {
        assert_eq!(status(&url, &token).await, 200);
    }
    assert_eq!(count(&server), 3);
    server.revoke(&token);
    assert_eq!(status(&url, &token).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_coalesced() {
    let server = TestServer::start().await;
    let url = serve(builder(&server)).await;
    concurrent_ok(&url, &server.mint().opaque(), 500).await;
    assert_eq!(count(&server), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_coalesced_without_cache() {
    let server = TestServer::start().await;
    let v = builder(&server).no_cache().build().await.unwrap();
    // Hold the endpoint until every call has joined (or started) the flight, then release it.
    server.set_fault(Endpoint::Introspection, Fault::Hang);
    let token = server.mint().opaque();
    let joined = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let (v, token, joined) = (v.clone(), token.clone(), joined.clone());
        set.spawn(async move {
            let mut call = std::pin::pin!(v.validate(&token));
            let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
            joined.fetch_add(1, Ordering::SeqCst);
            match first {
                Poll::Ready(result) => result,
                Poll::Pending => call.await,
            }
        });
    }
    tokio::time::timeout(Duration::from_secs(30), async {
        while joined.load(Ordering::SeqCst) < 50 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("every call was polled");
    server.clear_faults();
    while let Some(r) = set.join_next().await {
        let _ = r.unwrap();
    }
    assert_eq!(count(&server), 1);
}

#[tokio::test]
async fn a_call_that_missed_the_cache_uses_a_flight_that_finished_meanwhile() {
    let server = TestServer::start().await;
    let v = builder(&server).build().await.unwrap();
    let token = server.mint().opaque();
    // `late` looked in the cache (a miss) but has not run yet ...
    let late = v.validate(&token);
    // ... while another call goes through the whole flight and caches the answer.
    assert!(v.validate(&token).await.is_ok());
    assert!(late.await.is_ok());
    assert_eq!(count(&server), 1);
}

#[tokio::test]
async fn wrong_client_secret_is_503_not_401() {
    let server = TestServer::start().await;
    let url = serve(builder(&server).client("api", "not-the-secret")).await;
    let token = server.mint().opaque();
    let res = call(&url, &token).await;
    assert_eq!(res.status(), 503);
    assert!(res.headers().get("www-authenticate").is_none());
}

#[tokio::test]
async fn client_secret_post_works() {
    let server = TestServer::start().await;
    let url = serve(builder(&server).auth_method(ClientAuth::Post)).await;
    let token = server.mint().opaque();
    assert_eq!(status(&url, &token).await, 200);
    let url = serve(
        builder(&server)
            .auth_method(ClientAuth::Post)
            .client("api", "wrong"),
    )
    .await;
    assert_eq!(status(&url, &token).await, 503);
}

#[tokio::test]
async fn endpoint_failures_are_503_and_not_cached() {
    let server = TestServer::start().await;
    let url = serve(builder(&server).timeout(Duration::from_millis(300))).await;
    let token = server.mint().opaque();
    for fault in [
        Fault::Unavailable,
        Fault::Hang,
        Fault::Garbage,
        Fault::Huge(100_000),
        Fault::Status(500),
        Fault::Status(400),
    ] {
        server.set_fault(Endpoint::Introspection, fault);
        let res = call(&url, &token).await;
        assert_eq!(res.status(), 503, "{fault:?}");
        assert!(res.headers().get("retry-after").is_some());
    }
    server.clear_faults();
    assert_eq!(status(&url, &token).await, 200);
}

#[tokio::test]
async fn oversized_response_limit_is_configurable() {
    let server = TestServer::start().await;
    let url = serve(builder(&server).max_response_bytes(1000)).await;
    server.set_fault(Endpoint::Introspection, Fault::Huge(2000));
    assert_eq!(status(&url, &server.mint().opaque()).await, 503);
}

#[tokio::test]
async fn endpoint_down_is_503() {
    let server = TestServer::start().await;
    let v = builder(&server).build().await.unwrap();
    let token = server.mint().opaque();
    server.shutdown().await;
    let url = app(v).await;
    assert_eq!(status(&url, &token).await, 503);
}

#[tokio::test]
async fn hybrid_routes_jwts_locally_and_opaque_remotely() {
    let server = TestServer::start().await;
    let jwt = support::validator(&server).await;
    let remote = builder(&server).build().await.unwrap();
    let url = app(HybridValidator::new(jwt, remote)).await;

    let signed = server.mint().scope("read").sign();
    assert_eq!(status(&url, &signed).await, 200);
    assert_eq!(count(&server), 0);
    // A JWT that fails locally is refused, not introspected.
    let mut forged = signed.clone();
    forged.push('A');
    assert_eq!(status(&url, &forged).await, 401);
    assert_eq!(count(&server), 0);

    let opaque = server.mint().scope("read").opaque();
    assert_eq!(status(&url, &opaque).await, 200);
    assert_eq!(count(&server), 1);
}

#[tokio::test]
async fn token_and_secret_never_appear_in_logs() {
    let (capture, _guard) = support::logs::capture();

    let secret = "s3cr3t-Zq9";
    let server = TestServer::builder()
        .client(bearer_guard_testkit::Client::new("rs", secret))
        .start()
        .await
        .unwrap();
    let good = builder(&server).client("rs", secret);
    let bad = builder(&server).client("rs", "wr0ng-Yx7");
    let url_good = serve(good.timeout(Duration::from_millis(300))).await;
    let url_bad = serve(bad).await;
    let token = server.mint().opaque();

    assert_eq!(status(&url_good, &token).await, 200);
    assert_eq!(status(&url_bad, &token).await, 503);
    for fault in [Fault::Status(500), Fault::Garbage, Fault::Hang] {
        server.set_fault(Endpoint::Introspection, fault);
        assert_eq!(status(&url_good, "another-token-Qw8").await, 503);
    }
    server.clear_faults();

    let logs = capture.text();
    assert!(
        logs.contains("refused our client credentials"),
        "no warn line for the rejected credentials:\n{logs}"
    );
    assert!(logs.contains(&server.introspection_endpoint()));
    for needle in [token.as_str(), secret, "wr0ng-Yx7", "another-token-Qw8"] {
        assert!(!logs.contains(needle), "{needle:?} leaked into logs");
    }
}

// ----- a shared store: outcomes bound to the validator that decided them -------------------

#[tokio::test]
async fn validators_sharing_a_store_keep_their_own_outcomes() {
    let server = TestServer::start().await;
    let store = bearer_guard::store::MemoryStore::new(1000);
    let orders = serve(
        IntrospectionValidator::builder(server.issuer())
            .client("api", "api-secret")
            .introspection_endpoint(server.introspection_endpoint())
            .audience("orders")
            .shared_store(store.clone()),
    )
    .await;
    let billing = serve(
        IntrospectionValidator::builder(server.issuer())
            .client("api", "api-secret")
            .introspection_endpoint(server.introspection_endpoint())
            .audience("billing")
            .shared_store(store.clone()),
    )
    .await;
    let for_orders = server.mint().aud("orders").opaque();
    assert_eq!(status(&orders, &for_orders).await, StatusCode::OK);
    assert_eq!(
        status(&billing, &for_orders).await,
        StatusCode::UNAUTHORIZED,
        "accepted for orders, it must not pass at billing through the shared store"
    );
    let for_billing = server.mint().aud("billing").opaque();
    assert_eq!(
        status(&orders, &for_billing).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&billing, &for_billing).await,
        StatusCode::OK,
        "a refusal at orders is not a refusal at billing"
    );
    // Every outcome was decided once, by the validator it belongs to, and is then served.
    assert_eq!(count(&server), 4);
    assert_eq!(status(&orders, &for_orders).await, StatusCode::OK);
    assert_eq!(
        status(&billing, &for_orders).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(count(&server), 4);
}
