use std::time::Duration;

use super::JwtValidator;
use crate::KeySet;

#[tokio::test]
async fn huge_token_cache_ttl_is_capped_not_a_panic() {
    let v = JwtValidator::builder("https://as.example")
        .audience("api")
        .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap())
        .token_cache(10, Duration::MAX)
        .build()
        .await;
    assert!(v.is_ok(), "{:?}", v.err());
}
