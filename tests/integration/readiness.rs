//! Readiness and the first key fetch, over loopback HTTP with the test authorization server:
//! a probe brings a lazy validator up; `Prefetch::FailFast` refuses to build without keys;
//! `Prefetch::Background` retries until the keys come; requests that arrive before the keys
//! wait for them or get 503, never 401; keys past `max_stale` and an introspection endpoint
//! that fails make the validator not ready, and it recovers by itself.

use crate::support;

use std::time::Duration;

use axum::{routing::get, Router};
use bearer_guard::{
    jwks::JwksConfig, jwt::JwtValidatorBuilder, jwt::Prefetch, validator::Readiness, AuthLayer,
    BuildError, HybridValidator, IntrospectionValidator, JwtValidator, Validator,
};
use bearer_guard_testkit::{Endpoint, Fault, TestServer};
use support::{call, get_with, serve};

fn builder(server: &TestServer) -> JwtValidatorBuilder {
    JwtValidator::builder(server.issuer())
        .audience("api")
        .jwks_uri(server.jwks_uri())
}

/// `/me` behind the layer and `/readyz` (the layer's probe) outside it; the base URL.
async fn app<V: Validator>(validator: V) -> String {
    let layer = AuthLayer::new(validator);
    let probe = layer.readiness_service();
    let app = Router::new()
        .route("/me", get(|| async { "ok" }))
        .layer(layer)
        .route_service("/readyz", probe);
    serve(app).await
}

/// Polls `v.readiness()` until it is ready (or fails the test after 10 s).
async fn until_ready(v: &impl Validator) {
    for _ in 0..1000 {
        if v.readiness().is_ready() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("not ready: {}", v.readiness());
}

#[tokio::test]
async fn a_probe_alone_brings_a_lazy_validator_up() {
    let server = TestServer::start().await;
    let v = builder(&server).build().await.unwrap();
    assert_eq!(server.count(Endpoint::Jwks), 0, "lazy: nothing fetched yet");
    let base = app(v.clone()).await;
    let (status, _, body) = get_with(&format!("{base}/readyz"), None).await;
    assert_eq!(status, 503);
    assert_eq!(body, "not ready: signing keys not fetched yet\n");
    // No request reaches a pod that is not ready: the probe itself started the fetch.
    until_ready(&v).await;
    let (status, _, body) = get_with(&format!("{base}/readyz"), None).await;
    assert_eq!((status, body.as_str()), (200, "ready\n"));
    assert_eq!(server.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn fail_fast_refuses_to_build_without_keys() {
    let server = TestServer::start().await;
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let err = builder(&server)
        .prefetch(Prefetch::FailFast)
        .build()
        .await
        .unwrap_err();
    assert!(matches!(err, BuildError::Prefetch(_)), "{err}");
    // Lazy builds all the same, and fetches nothing.
    let fetched = server.count(Endpoint::Jwks);
    builder(&server).build().await.unwrap();
    assert_eq!(server.count(Endpoint::Jwks), fetched);

    server.set_fault(Endpoint::Jwks, Fault::None);
    let v = builder(&server)
        .prefetch(Prefetch::FailFast)
        .build()
        .await
        .unwrap();
    assert_eq!(v.readiness(), Readiness::Ready, "keys are there once built");
}

#[tokio::test]
async fn background_prefetch_retries_until_the_keys_come() {
    let server = TestServer::start().await;
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let v = builder(&server)
        .jwks_config(JwksConfig::default().cooldown(Duration::from_millis(50)))
        .prefetch(Prefetch::Background)
        .build()
        .await
        .unwrap();
    let url = format!("{}/me", app(v.clone()).await);
    let token = server.mint().sub("alice").sign();
    // While the issuer is down: not ready, and requests get 503, not 401.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        v.readiness().reason(),
        Some("signing keys could not be fetched")
    );
    let (status, challenge, _) = call(&url, &token).await;
    assert_eq!(status, 503);
    assert_eq!(challenge, "");
    let retries = server.count(Endpoint::Jwks);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(server.count(Endpoint::Jwks) > retries, "it keeps trying");

    server.set_fault(Endpoint::Jwks, Fault::None);
    until_ready(&v).await;
    assert_eq!(call(&url, &token).await.0, 200);
    let fetched = server.count(Endpoint::Jwks);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        server.count(Endpoint::Jwks),
        fetched,
        "and stops once it has them"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_requests_wait_for_the_first_fetch() {
    for prefetch in [Prefetch::Lazy, Prefetch::Background] {
        let server = TestServer::start().await;
        server.set_fault(Endpoint::Jwks, Fault::Delay(Duration::from_millis(300)));
        let v = builder(&server).prefetch(prefetch).build().await.unwrap();
        let url = format!("{}/me", app(v).await);
        let token = server.mint().sub("alice").sign();
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (url, token) = (url.clone(), token.clone());
            calls.spawn(async move { call(&url, &token).await.0 });
        }
        while let Some(status) = calls.join_next().await {
            assert_eq!(status.unwrap(), 200, "{prefetch:?}");
        }
        assert_eq!(server.count(Endpoint::Jwks), 1, "{prefetch:?}: one fetch");
    }
}

#[tokio::test]
async fn without_keys_requests_get_503_not_401() {
    let server = TestServer::start().await;
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let url = format!("{}/me", app(builder(&server).build().await.unwrap()).await);
    let (status, challenge, _) = call(&url, &server.mint().sign()).await;
    assert_eq!((status, challenge.as_str()), (503, ""));
}

#[tokio::test]
async fn keys_past_max_stale_are_not_ready() {
    let server = TestServer::start().await;
    let config = JwksConfig::default()
        .min_refresh(Duration::ZERO)
        .max_refresh(Duration::ZERO)
        .max_stale(Duration::from_millis(100))
        .cooldown(Duration::from_millis(50));
    let v = builder(&server)
        .jwks_config(config)
        .prefetch(Prefetch::FailFast)
        .build()
        .await
        .unwrap();
    assert!(v.readiness().is_ready());
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        v.readiness().reason(),
        Some("signing keys are past max_stale and cannot be refreshed")
    );
    server.set_fault(Endpoint::Jwks, Fault::None);
    until_ready(&v).await;
}

fn introspection(
    server: &TestServer,
) -> bearer_guard::introspection::IntrospectionValidatorBuilder {
    IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .introspection_endpoint(server.introspection_endpoint())
        .audience("api")
}

#[tokio::test]
async fn an_introspection_endpoint_that_fails_is_not_ready_until_it_answers_again() {
    let server = TestServer::start().await;
    let v = introspection(&server).build().await.unwrap();
    assert!(v.readiness().is_ready(), "nothing known against it");
    let url = format!("{}/me", app(v.clone()).await);
    server.set_fault(Endpoint::Introspection, Fault::Unavailable);
    assert_eq!(call(&url, &server.mint().opaque()).await.0, 503);
    assert_eq!(
        v.readiness().reason(),
        Some("the last call to the introspection endpoint failed")
    );
    // No request comes to a server that is not ready: the probe asks the endpoint again.
    server.set_fault(Endpoint::Introspection, Fault::None);
    until_ready(&v).await;
    assert_eq!(call(&url, &server.mint().opaque()).await.0, 200);
}

#[tokio::test]
async fn a_hybrid_validator_is_ready_when_both_are() {
    let server = TestServer::start().await;
    let jwt = builder(&server).build().await.unwrap();
    let remote = introspection(&server).build().await.unwrap();
    let hybrid = HybridValidator::new(jwt, remote);
    assert_eq!(
        hybrid.readiness().reason(),
        Some("signing keys not fetched yet")
    );
    until_ready(&hybrid).await;
}
