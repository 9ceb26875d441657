use std::time::Duration;

use serde_json::{json, Map, Value};

use super::response::token_refusal;
use super::validator::form_encode;
use super::{parse_response, IntrospectionValidator, IntrospectionValidatorBuilder};
use crate::error::IntrospectionResponseError as ResponseError;
use crate::jose::unix_now;
use crate::{error::TokenError, validator::ValidationFuture, BuildError, Validator};

async fn validator(b: IntrospectionValidatorBuilder) -> IntrospectionValidator {
    b.client("api", "secret")
        .introspection_endpoint("http://127.0.0.1:1/introspect")
        .build()
        .await
        .unwrap()
}

fn members(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn active_must_be_a_boolean() {
    for bad in [
        &br#"{"active":"true"}"#[..],
        br#"{"active":1}"#,
        br#"{"active":null}"#,
        br#"{"active":[true]}"#,
        br#"{"scope":"read"}"#,
    ] {
        assert_eq!(parse_response(bad), Err(ResponseError::BadActive));
    }
    assert_eq!(parse_response(br#"{"active":false,"sub":"x"}"#), Ok(None));
    assert!(parse_response(br#"{"active":true}"#).unwrap().is_some());
}

#[test]
fn duplicates_and_garbage_are_refused() {
    assert_eq!(
        parse_response(br#"{"active":false,"active":true}"#),
        Err(ResponseError::DuplicateMember)
    );
    assert_eq!(
        parse_response(br#"{"active":true,"scope":"a","scope":"admin"}"#),
        Err(ResponseError::DuplicateMember)
    );
    for bad in [
        &b""[..],
        b"<html>",
        b"true",
        b"[{\"active\":true}]",
        b"{\"active\":true",
        b"\xff\xfe",
    ] {
        assert_eq!(parse_response(bad), Err(ResponseError::Malformed));
    }
}

#[tokio::test]
async fn local_checks_on_active_responses() {
    let v = validator(IntrospectionValidator::builder("https://as.example").audience("api")).await;
    let now = unix_now() as i64;
    let ok =
        json!({"active": true, "iss": "https://as.example", "aud": ["x", "api"], "exp": now + 100});
    assert!(v.check_members(&members(ok)).is_ok());
    let cases = [
        (
            json!({"active": true, "aud": "api", "exp": now - 1000}),
            TokenError::Expired,
        ),
        (
            json!({"active": true, "aud": "api", "nbf": now + 1000}),
            TokenError::NotYetValid,
        ),
        (
            json!({"active": true, "aud": "api", "iss": "https://evil.example"}),
            TokenError::WrongIssuer,
        ),
        (
            json!({"active": true, "aud": "api", "iss": 5}),
            TokenError::WrongIssuer,
        ),
        (
            json!({"active": true, "aud": "other"}),
            TokenError::WrongAudience,
        ),
        (json!({"active": true}), TokenError::MissingClaim),
        (
            json!({"active": true, "aud": "api", "exp": "soon"}),
            TokenError::InvalidClaim,
        ),
    ];
    for (m, expected) in cases {
        assert_eq!(v.check_members(&members(m.clone())), Err(expected), "{m}");
    }
}

#[tokio::test]
async fn an_active_answer_must_be_about_an_access_token() {
    let v = validator(IntrospectionValidator::builder("https://as.example").audience("api")).await;
    let with = |extra: Value| {
        let mut m = members(json!({"active": true, "aud": "api"}));
        m.extend(members(extra));
        v.check_members(&m).map(|_| ())
    };
    for good in [
        json!({}),
        json!({"token_type": "Bearer"}),
        json!({"token_type": "bearer"}),
        json!({"token_type": "DPoP"}),
        json!({"token_type": "dpop"}),
        json!({"token_use": "access_token"}),
        json!({"token_type": "Bearer", "token_use": "access_token"}),
    ] {
        assert_eq!(with(good.clone()), Ok(()), "{good}");
    }
    for bad in [
        json!({"token_type": "refresh_token"}),
        json!({"token_type": "Bearer2"}),
        json!({"token_type": 1}),
        json!({"token_type": null}),
        json!({"token_use": "refresh_token"}),
        json!({"token_use": "Access_Token"}),
        json!({"token_use": true}),
        json!({"token_type": "DPoP", "token_use": "id_token"}),
    ] {
        assert_eq!(with(bad.clone()), Err(TokenError::WrongType), "{bad}");
    }
}

#[test]
fn only_two_error_codes_of_a_400_are_about_the_token() {
    assert_eq!(
        token_refusal(br#"{"error":"invalid_token"}"#),
        Some("invalid_token")
    );
    assert_eq!(
        token_refusal(br#"{"error":"unsupported_token_type","error_description":"x"}"#),
        Some("unsupported_token_type")
    );
    // About our request or the server: a 503, never a cached refusal of the token.
    for other in [
        &br#"{"error":"invalid_client"}"#[..],
        br#"{"error":"invalid_request"}"#,
        br#"{"error":"server_error"}"#,
        br#"{"error":"INVALID_TOKEN"}"#,
        br#"{"error":["invalid_token"]}"#,
        br#"{"error":"invalid_token","error":"invalid_client"}"#,
        br#"{}"#,
        b"invalid_token",
    ] {
        assert_eq!(
            token_refusal(other),
            None,
            "{}",
            String::from_utf8_lossy(other)
        );
    }
}

#[tokio::test]
async fn flights_outlive_their_callers_and_leave_when_the_call_ends() {
    use std::future::Future;
    use std::task::Poll;
    /// Polls once, so that the call has joined (or started) its flight.
    async fn start(call: &mut ValidationFuture) {
        std::future::poll_fn(|cx| {
            assert!(std::pin::Pin::new(&mut *call).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    }
    // An endpoint that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let v = IntrospectionValidator::builder("https://as.example")
        .client("api", "secret")
        .audience("api")
        .timeout(Duration::from_millis(400))
        .introspection_endpoint(format!(
            "http://{}/introspect",
            silent.local_addr().unwrap()
        ))
        .build()
        .await
        .unwrap();
    // Callers waiting on each flight.
    let waiters = || {
        let mut n: Vec<usize> = v
            .inner
            .flights
            .lock()
            .values()
            .map(|f| f.receiver_count())
            .collect();
        n.sort_unstable();
        n
    };
    let (mut lonely, mut a, mut b) = (v.validate("x"), v.validate("y"), v.validate("y"));
    for call in [&mut lonely, &mut a, &mut b] {
        start(call).await;
    }
    assert_eq!(waiters(), [1, 2]);
    // A caller that goes away leaves the call running, for the requests that follow ...
    drop(lonely);
    assert_eq!(waiters(), [0, 2]);
    drop(a);
    assert_eq!(waiters(), [0, 1]);
    // ... and a new caller joins it rather than starting another.
    let mut c = v.validate("y");
    start(&mut c).await;
    assert_eq!(waiters(), [0, 2]);
    drop((b, c));
    assert_eq!(waiters(), [0, 0]);
    // When the calls end (here by their timeout), nothing is left behind.
    tokio::time::timeout(Duration::from_secs(5), async {
        while !waiters().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the flights left the map when their calls timed out");
    assert_eq!(v.stats().fetches, 2, "one call per token");
}

#[tokio::test]
async fn no_audience_configured_means_aud_unchecked() {
    let v = validator(IntrospectionValidator::builder("https://as.example").any_audience()).await;
    assert!(v
        .check_members(&members(json!({"active": true, "aud": "other"})))
        .is_ok());
}

#[tokio::test]
async fn cache_lifetime_is_bounded_by_exp_and_ttl() {
    let v = validator(
        IntrospectionValidator::builder("https://as.example")
            .any_audience()
            .cache_ttl(Duration::from_secs(60)),
    )
    .await;
    let now = unix_now();
    let e = v.check(members(json!({"active": true, "exp": now + 5.0})));
    assert!(e.result.is_ok());
    assert!(e.ttl <= Duration::from_secs(5), "{:?}", e.ttl);
    let e = v.check(members(json!({"active": true, "exp": now + 5000.0})));
    assert_eq!(e.ttl, Duration::from_secs(60));
    let e = v.check(members(json!({"active": true})));
    assert_eq!(e.ttl, Duration::from_secs(60));
    // Absurd but finite `exp` values must neither panic nor extend the TTL: they are
    // refused as claims (no real date lies past year 9999).
    let e = v.check(members(json!({"active": true, "exp": 1e300})));
    assert!(matches!(e.result, Err(TokenError::InvalidClaim)));
    assert!(e.ttl <= Duration::from_secs(60));
    let e = v.check(members(json!({"active": true, "exp": now - 30.0})));
    assert!(e.result.is_ok(), "within leeway");
    assert_eq!(e.ttl, Duration::ZERO);
}

#[tokio::test]
async fn secret_is_redacted_in_debug() {
    let b = IntrospectionValidator::builder("https://as.example")
        .client("api", "hunter2")
        .audience("api");
    assert!(!format!("{b:?}").contains("hunter2"));
    let v = b
        .introspection_endpoint("http://127.0.0.1:1/introspect")
        .build()
        .await
        .unwrap();
    assert!(!format!("{v:?}").contains("hunter2"));
}

#[tokio::test]
async fn credentials_are_required_and_urls_checked() {
    let b = IntrospectionValidator::builder("https://as.example")
        .audience("api")
        .introspection_endpoint("http://127.0.0.1:1/introspect");
    assert!(matches!(
        b.clone().build().await,
        Err(BuildError::Invalid(_))
    ));
    let b = b
        .client("a", "b")
        .introspection_endpoint("http://as.example/introspect");
    assert!(matches!(b.build().await, Err(BuildError::BadUrl(_))));
}

#[test]
fn basic_credentials_are_form_encoded() {
    assert_eq!(form_encode("a b:c%/é"), "a+b%3Ac%25%2F%C3%A9");
}

#[test]
fn shared_cache_values_round_trip_and_anything_else_is_a_miss() {
    use super::cache::{decode, encode};
    let claims = crate::Claims::from_value(json!({"sub": "a", "perms": "x y"})).unwrap();
    let bytes = encode(&Ok(claims)).unwrap();
    let back = decode(&bytes, Some("perms")).unwrap().unwrap();
    assert_eq!(back.subject(), Some("a"));
    assert!(
        back.scopes().contains("y"),
        "scopes read with the configured claim"
    );
    for refusal in [
        TokenError::Inactive,
        TokenError::WrongAudience,
        TokenError::Expired,
    ] {
        let bytes = encode(&Err(refusal)).unwrap();
        assert!(matches!(decode(&bytes, None), Some(Err(e)) if e == refusal));
    }
    for junk in [
        &b""[..],
        b"1",
        b"{}",
        br#"{"refused":"Active"}"#,
        br#"{"claims":[]}"#,
        br#"{"claims":{},"refused":"Inactive"}"#,
    ] {
        assert!(decode(junk, None).is_none(), "{junk:?}");
    }
}

#[tokio::test]
async fn forget_drops_the_local_entry() {
    let v = validator(IntrospectionValidator::builder("https://as.example").any_audience()).await;
    let key = v.key("t");
    let cache = v.inner.cache.as_ref().unwrap();
    cache.insert(key, v.negative(TokenError::Inactive));
    assert!(cache.get(&key).is_some());
    v.forget("t").await.unwrap();
    assert!(cache.get(&key).is_none());
}

#[tokio::test]
async fn an_accepted_outcome_read_from_the_shared_store_is_checked_again() {
    use super::cache::encode;
    use crate::store::{IntrospectionStore, MemoryStore};
    let store = MemoryStore::new(100);
    let v = validator(
        IntrospectionValidator::builder("https://as.example")
            .audience("api")
            .shared_store(store.clone()),
    )
    .await;
    let now = crate::jose::unix_now();
    let cases = [
        (
            json!({"aud": "other", "exp": now + 60.0}),
            TokenError::WrongAudience,
        ),
        (
            json!({"aud": "api", "exp": now - 600.0}),
            TokenError::Expired,
        ),
        (
            json!({"aud": "api", "nbf": now + 600.0}),
            TokenError::NotYetValid,
        ),
        (
            json!({"aud": "api", "iss": "https://evil.example"}),
            TokenError::WrongIssuer,
        ),
        (
            json!({"aud": "api", "token_type": "refresh_token"}),
            TokenError::WrongType,
        ),
    ];
    for (i, (members, refusal)) in cases.into_iter().enumerate() {
        // Whatever wrote this entry (another version, another validator, a bug, an
        // attacker), it is not taken on trust: the endpoint is unreachable, so only the
        // stored value can decide.
        let token = format!("token-{i}");
        let claims = crate::Claims::from_value(members).unwrap();
        let value = encode(&Ok(claims)).unwrap();
        store
            .put(v.key(&token), value, Duration::from_secs(60))
            .await
            .unwrap();
        match v.validate(&token).await {
            Err(crate::AuthError::InvalidToken(e)) => assert_eq!(e, refusal),
            other => panic!("{refusal:?}: {other:?}"),
        }
    }
    // A stored outcome that passes the rules is served without a call.
    let claims = crate::Claims::from_value(json!({"aud": "api", "exp": now + 60.0})).unwrap();
    store
        .put(
            v.key("good"),
            encode(&Ok(claims)).unwrap(),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(v.validate("good").await.is_ok());
}

#[tokio::test]
async fn the_cache_is_on_by_default_and_no_cache_turns_it_off() {
    let v = validator(IntrospectionValidator::builder("https://as.example").any_audience()).await;
    assert!(v.inner.cache.is_some(), "on by default");
    let v = validator(
        IntrospectionValidator::builder("https://as.example")
            .any_audience()
            .no_cache(),
    )
    .await;
    assert!(v.inner.cache.is_none());
}
