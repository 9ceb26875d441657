//! Bounded waiting while the issuer is slow (`JwksConfig::max_wait`,
//! `IntrospectionValidatorBuilder::max_wait`): a request that needs a key fetch or an
//! introspection call under way waits for it at most the bound, then gets 503 with
//! `Retry-After`; the fetch goes on and serves the requests that follow.

use crate::support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bearer_guard::{
    introspection::IntrospectionValidatorBuilder, jwks::JwksConfig, IntrospectionValidator,
};
use bearer_guard_testkit::{Endpoint, Fault, KeyAlg, TestServer};
use support::{jwt_api, me_url};

/// The bound the tests set, and how late an answer may come on a busy machine.
const BOUND: Duration = Duration::from_millis(300);
const SLACK: Duration = Duration::from_millis(1200);

/// GETs `url` with `token`: status, whether `Retry-After` came, and how long it took. Fails if
/// no answer comes within 15 s (the fetch timeouts are longer than any bound tested). One
/// client for every call, made before the clock starts: making a client (its TLS roots) costs
/// CPU that twenty concurrent callers would otherwise count against their bound. It keeps no
/// idle connections, since it outlives each test's runtime.
async fn timed(url: &str, token: &str) -> (u16, bool, Duration) {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap()
    });
    let started = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(15),
        client.get(url).bearer_auth(token).send(),
    )
    .await
    .expect("an answer within 15 s")
    .unwrap();
    let retry_after = res.headers().contains_key("retry-after");
    (res.status().as_u16(), retry_after, started.elapsed())
}

/// Asserts a 503 with `Retry-After` that came within `bound` (plus slack).
async fn assert_503_within(url: &str, token: &str, bound: Duration) {
    let (status, retry_after, took) = timed(url, token).await;
    assert_eq!(status, 503);
    assert!(retry_after, "503 without Retry-After");
    assert!(took < bound + SLACK, "answered after {took:?}");
}

/// A JWT API with keys from `server`'s JWKS URL: fetch timeout 10 s, `max_wait` as given.
async fn jwt(server: &TestServer, max_wait: Option<Duration>) -> String {
    let mut config = JwksConfig::default().timeout(Duration::from_secs(10));
    if let Some(wait) = max_wait {
        config = config.max_wait(wait);
    }
    jwt_api(server.issuer(), |b| {
        b.jwks_uri(server.jwks_uri()).jwks_config(config)
    })
    .await
}

#[tokio::test]
async fn a_hanging_jwks_fetch_holds_a_request_for_max_wait_and_then_serves_the_next() {
    let server = TestServer::start().await;
    let url = jwt(&server, Some(BOUND)).await;
    server.set_fault(Endpoint::Jwks, Fault::Hang);
    let token = server.mint().sign();
    assert_503_within(&url, &token, BOUND).await;
    // The issuer answers at last (the hanging request is released): the fetch the first
    // request started completes although nobody waits for it any more ...
    server.clear_faults();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // ... and the next request is served with its keys, without another fetch.
    assert_eq!(timed(&url, &token).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn a_slow_jwks_fetch_goes_on_after_the_request_stops_waiting() {
    let server = TestServer::start().await;
    let url = jwt(&server, Some(BOUND)).await;
    server.set_fault(Endpoint::Jwks, Fault::Delay(Duration::from_millis(2500)));
    let token = server.mint().sign();
    assert_503_within(&url, &token, BOUND).await;
    tokio::time::sleep(Duration::from_millis(2700)).await;
    assert_eq!(timed(&url, &token).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn an_unknown_kid_waits_for_the_slow_refetch_at_most_max_wait() {
    let server = TestServer::start().await;
    let url = jwt(&server, Some(BOUND)).await;
    assert_eq!(timed(&url, &server.mint().sign()).await.0, 200);
    // The issuer rotates to a key we have not fetched, and is slow to publish it.
    let new = server.add_key(KeyAlg::Es256);
    server.use_key(&new);
    server.set_fault(Endpoint::Jwks, Fault::Hang);
    let token = server.mint().sign();
    assert_503_within(&url, &token, BOUND).await;
    server.clear_faults();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(timed(&url, &token).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_waiters_all_answer_within_the_bound_and_share_one_fetch() {
    let server = TestServer::start().await;
    let url = jwt(&server, Some(BOUND)).await;
    server.set_fault(Endpoint::Jwks, Fault::Hang);
    let token = server.mint().sign();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, token) = (url.clone(), token.clone());
        set.spawn(async move { assert_503_within(&url, &token, BOUND).await });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    assert_eq!(server.count(Endpoint::Jwks), 1);
    server.clear_faults();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(timed(&url, &token).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn the_default_jwks_wait_is_two_seconds_not_the_fetch_timeout() {
    let server = TestServer::start().await;
    let url = jwt(&server, None).await;
    server.set_fault(Endpoint::Jwks, Fault::Hang);
    let (status, _, took) = timed(&url, &server.mint().sign()).await;
    assert_eq!(status, 503);
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(2) + SLACK,
        "answered after {took:?}"
    );
    server.clear_faults();
}

// ----- introspection -------------------------------------------------------------------------

fn introspection(server: &TestServer) -> IntrospectionValidatorBuilder {
    IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .introspection_endpoint(server.introspection_endpoint())
        .audience("api")
        .timeout(Duration::from_secs(10))
}

#[tokio::test]
async fn a_hanging_introspection_call_holds_a_request_for_max_wait_and_its_answer_is_kept() {
    let server = TestServer::start().await;
    let url = me_url(
        introspection(&server)
            .max_wait(BOUND)
            .build()
            .await
            .unwrap(),
    )
    .await;
    server.set_fault(Endpoint::Introspection, Fault::Hang);
    let token = server.mint().opaque();
    assert_503_within(&url, &token, BOUND).await;
    server.clear_faults();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The call went on and its answer was cached: no second call.
    assert_eq!(timed(&url, &token).await.0, 200);
    assert_eq!(server.count(Endpoint::Introspection), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_introspection_call_is_shared_and_bounded_for_every_waiter() {
    let server = TestServer::start().await;
    let url = me_url(
        introspection(&server)
            .max_wait(BOUND)
            .build()
            .await
            .unwrap(),
    )
    .await;
    server.set_fault(
        Endpoint::Introspection,
        Fault::Delay(Duration::from_millis(2500)),
    );
    let token = server.mint().opaque();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (url, token) = (url.clone(), token.clone());
        set.spawn(async move { assert_503_within(&url, &token, BOUND).await });
    }
    while let Some(done) = set.join_next().await {
        done.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(2700)).await;
    assert_eq!(timed(&url, &token).await.0, 200);
    assert_eq!(server.count(Endpoint::Introspection), 1);
}

#[tokio::test]
async fn the_default_introspection_wait_is_two_seconds_not_the_call_timeout() {
    let server = TestServer::start().await;
    let url = me_url(introspection(&server).build().await.unwrap()).await;
    server.set_fault(Endpoint::Introspection, Fault::Hang);
    let (status, _, took) = timed(&url, &server.mint().opaque()).await;
    assert_eq!(status, 503);
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(2) + SLACK,
        "answered after {took:?}"
    );
    server.clear_faults();
}

#[tokio::test]
async fn a_quick_issuer_is_not_affected_by_the_bound() {
    // A fetch within the bound answers the request that caused it, as before.
    let server = TestServer::start().await;
    let url = jwt(&server, Some(Duration::from_secs(3))).await;
    server.set_fault(Endpoint::Jwks, Fault::Delay(Duration::from_millis(200)));
    assert_eq!(timed(&url, &server.mint().sign()).await.0, 200);
    let url = me_url(
        introspection(&server)
            .max_wait(Duration::from_secs(3))
            .build()
            .await
            .unwrap(),
    )
    .await;
    server.set_fault(
        Endpoint::Introspection,
        Fault::Delay(Duration::from_millis(200)),
    );
    assert_eq!(timed(&url, &server.mint().opaque()).await.0, 200);
}
