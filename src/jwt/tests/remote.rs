//! Keys fetched from the issuer (its JWKS over loopback HTTP, the testkit as the issuer): when
//! they are first fetched ([`Prefetch`]), refreshed in the background once stale, refused past
//! `max_stale` even for cached tokens, and what an unknown `kid` gets while the issuer is down.

use std::time::{Duration, Instant};

use bearer_guard_testkit::{Endpoint, Fault, KeyAlg, TestServer};

use crate::error::{TokenError, UnavailableError};
use crate::jwks::JwksConfig;
use crate::jwt::{JwtValidatorBuilder, Prefetch};
use crate::{AuthError, BuildError, JwtValidator, Validator};

fn builder(server: &TestServer) -> JwtValidatorBuilder {
    JwtValidator::builder(server.issuer())
        .audience(server.audience())
        .jwks_uri(server.jwks_uri())
}

/// Waits (up to 10 s) until `done` holds.
async fn until(what: &str, done: impl Fn() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("still not {what} after 10 s");
}

fn has_usable_keys(v: &JwtValidator) -> bool {
    let cache = v.jwks().expect("keys fetched from the issuer");
    cache.snapshot().usable_keys(Instant::now()).is_some()
}

fn is_unavailable(result: &Result<crate::Claims, AuthError>) -> bool {
    matches!(
        result,
        Err(AuthError::Unavailable(UnavailableError::Keys(_)))
    )
}

#[tokio::test]
async fn fail_fast_fetches_while_building_and_fails_without_keys() {
    let server = TestServer::start().await;
    let v = builder(&server)
        .prefetch(Prefetch::FailFast)
        .build()
        .await
        .unwrap();
    assert_eq!(server.count(Endpoint::Jwks), 1);
    assert!(has_usable_keys(&v));
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let failed = builder(&server).prefetch(Prefetch::FailFast).build().await;
    assert!(matches!(failed, Err(BuildError::Prefetch(_))), "{failed:?}");
    // Lazy (the default) fetches nothing while building.
    server.reset_counts();
    let lazy = builder(&server).build().await.unwrap();
    assert_eq!(server.count(Endpoint::Jwks), 0);
    assert!(!has_usable_keys(&lazy));
}

#[tokio::test]
async fn background_prefetch_retries_until_the_keys_come_then_stops() {
    let server = TestServer::start().await;
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let v = builder(&server)
        .prefetch(Prefetch::Background)
        .jwks_config(JwksConfig::default().cooldown(Duration::from_millis(20)))
        .build()
        .await
        .unwrap();
    // With no request and no readiness probe: the task keeps trying ...
    until("retried", || server.count(Endpoint::Jwks) >= 2).await;
    server.set_fault(Endpoint::Jwks, Fault::None);
    // ... until the keys come, and then stops.
    until("fetched", || has_usable_keys(&v)).await;
    let fetches = server.count(Endpoint::Jwks);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.count(Endpoint::Jwks), fetches);
}

#[tokio::test]
async fn stale_keys_serve_while_a_background_refresh_runs() {
    let server = TestServer::start().await;
    // Stale as soon as fetched, usable for max_stale (a day) meanwhile.
    let config = JwksConfig::default()
        .min_refresh(Duration::ZERO)
        .max_refresh(Duration::ZERO);
    let v = builder(&server)
        .jwks_config(config)
        .prefetch(Prefetch::FailFast)
        .no_cache()
        .build()
        .await
        .unwrap();
    assert_eq!(server.count(Endpoint::Jwks), 1);
    // Answered at once with the keys at hand; the refresh runs in the background.
    let call = v.validate(&server.mint().sign());
    assert!(call.into_ready().expect("answered at once").is_ok());
    until("refreshed", || server.count(Endpoint::Jwks) >= 2).await;
}

#[tokio::test]
async fn keys_past_max_stale_serve_no_token_not_even_a_cached_one() {
    let server = TestServer::start().await;
    let config = JwksConfig::default()
        .min_refresh(Duration::ZERO)
        .max_refresh(Duration::ZERO)
        .max_stale(Duration::from_millis(100))
        .cooldown(Duration::ZERO);
    let v = builder(&server).jwks_config(config).build().await.unwrap();
    let token = server.mint().sign();
    // Lazy: this first call fetches the keys, and the accepted token is then cached.
    assert!(v.validate(&token).await.is_ok());
    assert!(v.inner.cache.as_ref().unwrap().contains(&token));
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    tokio::time::sleep(Duration::from_millis(150)).await;
    let refused = v.validate(&token).await;
    assert!(is_unavailable(&refused), "{refused:?}");
    server.set_fault(Endpoint::Jwks, Fault::None);
    assert!(v.validate(&token).await.is_ok());
}

#[tokio::test]
async fn an_unknown_kid_is_a_503_while_the_issuer_is_down_and_a_401_when_it_answers() {
    let server = TestServer::start().await;
    let v = builder(&server)
        .jwks_config(JwksConfig::default().cooldown(Duration::ZERO))
        .prefetch(Prefetch::FailFast)
        .build()
        .await
        .unwrap();
    // A key published after the validator fetched its keys, while the issuer is down: the
    // validator cannot tell it from a forged one.
    let kid = server.add_key(KeyAlg::Es256);
    server.use_key(&kid);
    let rotated = server.mint().sign();
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let refused = v.validate(&rotated).await;
    assert!(is_unavailable(&refused), "{refused:?}");
    // Once the issuer answers, the refresh finds the new key.
    server.set_fault(Endpoint::Jwks, Fault::None);
    assert!(v.validate(&rotated).await.is_ok());
    // A kid the issuer does not publish is refused as such.
    let unknown = v.validate(&server.mint().kid("not-published").sign()).await;
    assert_eq!(unknown.unwrap_err(), TokenError::UnknownKey.into());
}

#[tokio::test]
async fn a_fixed_key_set_verifies_without_fetching() {
    let server = TestServer::start().await;
    let v = super::with_keys_of(&server).await.build().await.unwrap();
    assert!(v.jwks().is_none());
    assert_eq!(v.issuer(), server.issuer());
    assert!(v.validate(&server.mint().sign()).await.is_ok());
    assert_eq!(server.count(Endpoint::Jwks), 1, "only the test's own fetch");
}
