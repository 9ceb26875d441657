//! The cache's behaviour seen through [`JwtValidator`]: what is kept, what is served, and that
//! time bounds are checked on every hit.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

use super::MIN_CAPACITY;
use crate::jose::unix_now;
use crate::{error::TokenError, jwks::KeySet, AuthError, JwtValidator, Validator};

const SECRET: &[u8] = b"cache-test-secret-cache-test-secret!";

/// An HS256 access token for `https://as.example` / `api` expiring `exp_in` seconds from now.
fn token(jti: &str, exp_in: f64) -> String {
    sign(r#"{"alg":"HS256","typ":"at+jwt"}"#, jti, exp_in)
}

/// A token with header `header` (signed HS256 with the test secret whatever it says) and the
/// claims of [`token`].
pub(in crate::jwt) fn sign(header: &str, jti: &str, exp_in: f64) -> String {
    let now = unix_now().floor();
    let header = URL_SAFE_NO_PAD.encode(header);
    let claims = json!({
        "iss": "https://as.example", "aud": "api", "sub": "alice",
        "iat": now, "exp": now + exp_in, "jti": jti,
    });
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(input.as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{input}.{sig}")
}

pub(in crate::jwt) async fn validator(capacity: u64, ttl: Duration) -> JwtValidator {
    JwtValidator::builder("https://as.example")
        .audience("api")
        .hmac_secret(SECRET.to_vec())
        .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap())
        .leeway(Duration::ZERO)
        .cache_capacity(capacity)
        .cache_ttl(ttl)
        .build()
        .await
        .unwrap()
}

fn kept(v: &JwtValidator, token: &str) -> bool {
    v.inner.cache.as_ref().unwrap().contains(token)
}

#[tokio::test]
async fn once_full_a_one_time_token_is_not_kept_and_a_repeating_one_is() {
    let v = validator(MIN_CAPACITY, Duration::from_secs(60)).await;
    for i in 0..MIN_CAPACITY {
        let early = token(&format!("early-{i}"), 600.0);
        v.validate(&early).await.unwrap();
        assert!(kept(&v, &early), "kept while the cache has room");
    }

    let once = token("once", 600.0);
    v.validate(&once).await.unwrap();
    assert!(
        !kept(&v, &once),
        "a token seen once is not kept once the cache is full"
    );
    assert_eq!(v.stats().cache_hits, 0);

    v.validate(&once).await.unwrap();
    assert!(kept(&v, &once), "kept on its second sighting");
    assert_eq!(
        v.stats().cache_hits,
        0,
        "the second sighting was verified in full"
    );
    v.validate(&once).await.unwrap();
    assert_eq!(v.stats().cache_hits, 1, "the third is a hit");
}

#[tokio::test]
async fn a_refused_token_is_never_kept() {
    let v = validator(10, Duration::from_secs(60)).await;
    // A signature character in the middle changed (every bit there is significant).
    let valid = token("x", 600.0);
    let at = valid.len() - 10;
    let swapped = if &valid[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{swapped}{}", &valid[..at], &valid[at + 1..]);
    for _ in 0..3 {
        assert!(v.validate(&forged).await.is_err());
    }
    assert!(!kept(&v, &forged));
    assert_eq!(v.stats().cache_hits, 0);
}

#[tokio::test]
async fn exp_is_checked_on_every_hit_and_entries_end_with_the_ttl() {
    let short_lived = token("short", 1.0);
    let long_lived = token("long", 600.0);
    let v = validator(10, Duration::from_secs(60)).await;
    let brief = validator(10, Duration::from_secs(1)).await;
    for _ in 0..2 {
        v.validate(&short_lived).await.unwrap();
        brief.validate(&long_lived).await.unwrap();
    }
    assert_eq!((v.stats().cache_hits, brief.stats().cache_hits), (1, 1));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Past its `exp`: refused, and the refusal came from the cache entry.
    match v.validate(&short_lived).await {
        Err(AuthError::InvalidToken(TokenError::Expired)) => {}
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(
        v.stats().cache_hits,
        2,
        "answered from the entry, exp re-checked"
    );
    // Past the cache TTL: verified in full again (accepted, not a hit).
    brief.validate(&long_lived).await.unwrap();
    assert_eq!(brief.stats().cache_hits, 1, "the entry ended with the TTL");
}
