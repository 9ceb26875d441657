use std::time::Duration;

use super::JwtValidator;
use crate::jwks::KeySet;
use crate::BuildError;

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
