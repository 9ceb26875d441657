//! The cached path allocates nothing: a token-cache hit in `JwtValidator::validate` makes no
//! heap allocation, counted by a thread-local counting allocator (allocation-counter). The whole
//! layer adds only what `http::Extensions` needs to carry the claims and the challenge.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard::{jwks::KeySet, AuthLayer, JwtValidator, Validator};
use http::{header::AUTHORIZATION, HeaderValue, Request, Response};
use tower::{Layer, Service};

const SECRET: &[u8] = b"allocation-test-secret-allocation!!";

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token() -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"at+jwt"}"#);
    let now = now_secs();
    let claims = serde_json::json!({
        "iss": "https://as.example", "aud": "api", "sub": "alice", "scope": "read write",
        "iat": now, "exp": now + 600, "jti": "allocation-test",
    });
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Polls a future that must be ready at once (the cached path is synchronous).
fn ready<F: Future>(f: F) -> F::Output {
    match pin!(f)
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the cached path must be ready at once"),
    }
}

#[test]
fn a_token_cache_hit_allocates_nothing() {
    let validator = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(
            JwtValidator::builder("https://as.example")
                .audience("api")
                .hmac_secret(SECRET.to_vec())
                .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap())
                .leeway(Duration::from_secs(5))
                .build(),
        )
        .unwrap();
    let token = token();
    ready(validator.validate(&token)).unwrap(); // verified and kept
    assert_eq!(validator.stats().cache_hits, 0);

    let hit = allocation_counter::measure(|| {
        let claims = ready(validator.validate(&token)).unwrap();
        assert_eq!(claims.subject(), Some("alice"));
        drop(claims);
    });
    assert_eq!(validator.stats().cache_hits, 1, "it was a hit");
    assert_eq!(hit.count_total, 0, "allocations on a cache hit: {hit:?}");

    // The whole layer: what it allocates is http's `Extensions` carrying the claims and the
    // challenge (a request without extensions yet: the map's box, its table, two boxed values).
    let noop =
        tower::service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
    let mut guarded = AuthLayer::new(validator.clone()).layer(noop);
    let header = HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    let mut request = Request::new(());
    request.headers_mut().insert(AUTHORIZATION, header);
    let layer = allocation_counter::measure(|| {
        let response = ready(guarded.call(request)).unwrap();
        assert_eq!(response.status(), 200);
    });
    println!(
        "allocations per request through AuthLayer (cache hit): {}",
        layer.count_total
    );
    assert!(
        layer.count_total <= 4,
        "the layer adds at most the extensions' map (box and table) and two boxed values: {layer:?}"
    );
}
