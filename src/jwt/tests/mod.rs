//! The builder's rules; the claims checked after the signature (`claims`); the keys fetched
//! from an issuer (`remote`); issuer templates behind `MultiIssuer` (`tenants`).

mod claims;
mod remote;
mod tenants;

use std::time::Duration;

use super::JwtValidator;
use crate::jwks::KeySet;
use crate::BuildError;

/// `server`'s key set, fetched once by the test.
async fn key_set_of(server: &bearer_guard_testkit::TestServer) -> KeySet {
    let jwks = reqwest::get(server.jwks_uri())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    KeySet::from_json(&jwks).unwrap()
}

/// A validator for `server`'s tokens with its key set fetched once, by the test, and fixed.
async fn with_keys_of(server: &bearer_guard_testkit::TestServer) -> super::JwtValidatorBuilder {
    JwtValidator::builder(server.issuer())
        .audience(server.audience())
        .key_set(key_set_of(server).await)
}

fn builder() -> super::JwtValidatorBuilder {
    JwtValidator::builder("https://as.example")
        .audience("api")
        .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap())
}

#[tokio::test]
async fn a_cache_ttl_over_24_hours_is_refused() {
    for ttl in [Duration::MAX, Duration::from_secs(86_401)] {
        match builder().cache_ttl(ttl).build().await {
            Err(BuildError::Invalid(why)) => assert!(why.contains("cache_ttl"), "{why}"),
            other => panic!("{ttl:?}: {other:?}"),
        }
    }
    let v = builder()
        .cache_ttl(Duration::from_secs(86_400))
        .cache_capacity(5)
        .build()
        .await
        .unwrap();
    assert!(v.inner.cache.is_some());
}

#[tokio::test]
async fn a_cache_capacity_of_zero_turns_the_cache_off() {
    assert!(builder()
        .cache_capacity(0)
        .build()
        .await
        .unwrap()
        .inner
        .cache
        .is_none());
    assert!(builder()
        .cache_capacity(1)
        .build()
        .await
        .unwrap()
        .inner
        .cache
        .is_some());
}

#[tokio::test]
async fn no_cache_turns_the_cache_off() {
    assert!(builder().build().await.unwrap().inner.cache.is_some());
    let off = builder().no_cache().build().await.unwrap();
    assert!(off.inner.cache.is_none());
}

/// The builder's own rules (the settings checked in `build`, before any network call).
#[tokio::test]
async fn the_hmac_secret_decides_which_hmac_algorithms_are_allowed() {
    use crate::jwt::Algorithm::{HS256, HS384, HS512};
    let hmac_algs = |secret_len: usize| async move {
        let v = builder()
            .hmac_secret(vec![7u8; secret_len])
            .build()
            .await
            .unwrap();
        [HS256, HS384, HS512].map(|a| v.inner.algorithms.contains(&a))
    };
    // RFC 7518 §3.2: each HMAC algorithm the secret is as long as the hash of.
    assert_eq!(hmac_algs(32).await, [true, false, false]);
    assert_eq!(hmac_algs(48).await, [true, true, false]);
    assert_eq!(hmac_algs(64).await, [true, true, true]);
    let refused = |b: super::JwtValidatorBuilder| async move {
        match b.build().await {
            Err(BuildError::Invalid(why)) => why,
            other => panic!("{other:?}"),
        }
    };
    assert!(refused(builder().hmac_secret(vec![7u8; 31]))
        .await
        .contains("shorter than 32 bytes"));
    // An HMAC algorithm on the list that the secret is too short for.
    let listed = |len: usize, alg| builder().algorithms([alg]).hmac_secret(vec![7u8; len]);
    assert!(refused(listed(47, HS384)).await.contains("HS384 needs 48"));
    assert!(refused(listed(63, HS512)).await.contains("HS384 needs 48"));
    assert!(listed(48, HS384).build().await.is_ok());
    assert!(listed(64, HS512).build().await.is_ok());
    assert!(refused(builder().algorithms([]))
        .await
        .contains("allow-list is empty"));
}

#[tokio::test]
async fn hmac_only_validators_need_no_key_source_and_others_do() {
    use crate::jwt::Algorithm::{HS256, RS256};
    // No key_set: with only HMAC allowed nothing is fetched; with RS256 too, the keys must
    // come from the issuer, which (plain http off loopback) cannot be fetched from.
    let secret = vec![7u8; 32];
    let from = |algs: Vec<_>| {
        JwtValidator::builder("http://as.example")
            .audience("api")
            .algorithms(algs)
            .hmac_secret(secret.clone())
            .build()
    };
    assert!(from(vec![HS256]).await.is_ok());
    assert!(from(vec![HS256, RS256]).await.is_err());
}

#[tokio::test]
async fn claim_values_tenants_and_templates_are_checked() {
    let why = |r: Result<JwtValidator, BuildError>| match r {
        Err(BuildError::Invalid(why)) => why,
        other => panic!("{other:?}"),
    };
    assert!(why(builder()
        .claim_values("tier", Vec::<String>::new())
        .build()
        .await)
    .contains("claim_values list is empty"));
    // A second list for the same claim replaces the first.
    let v = builder()
        .claim_values("tier", ["gold"])
        .claim_values("tier", ["silver"])
        .claim_values("region", ["eu"])
        .build()
        .await
        .unwrap();
    let names: Vec<_> = v
        .inner
        .claim_values
        .iter()
        .map(|(n, v)| (n.as_str(), v.len()))
        .collect();
    assert_eq!(names, [("tier", 1), ("region", 1)]);
    assert_eq!(v.inner.claim_values[0].1, [serde_json::json!("silver")]);
    assert!(why(builder().tenants(["t1"]).build().await).contains("tenants without tenant_claim"));
    // An issuer template fetches its keys from a configured place only.
    let template = JwtValidator::builder("https://login.example/{tenant}/v2.0")
        .audience("api")
        .tenant_claim("tid");
    assert!(why(template.build().await).contains("needs metadata_url or jwks_uri"));
}

#[tokio::test]
async fn tokens_over_8_kib_are_refused_by_default() {
    let v = builder().build().await.unwrap();
    assert_eq!(v.inner.max_token_bytes, 8 * 1024);
}
