//! Tracing spans and counters of the validators: outcome, issuer, kid, cache use and latency
//! are recorded; the token never is.

use crate::support;

use bearer_guard::{IntrospectionValidator, Validator};
use bearer_guard_testkit::TestServer;
use serde_json::json;
use support::logs::capture;

#[tokio::test]
async fn jwt_validation_is_traced_and_counted_without_the_token() {
    let (logs, _guard) = capture();
    let server = TestServer::start().await;
    let validator = support::validator(&server).await;
    let good = server.mint().sign();
    let expired = server.mint().expired().sign();
    let forged_kid = server.mint().header("kid", json!("k".repeat(500))).sign();

    assert!(validator.validate(&good).await.is_ok());
    assert!(validator.validate(&good).await.is_ok()); // cache hit
    assert!(validator.validate(&expired).await.is_err());
    assert!(validator.validate(&forged_kid).await.is_err());

    let stats = validator.stats();
    assert_eq!(stats.accepted, 2);
    assert_eq!(stats.rejected, 2);
    assert_eq!(stats.unavailable, 0);
    assert_eq!(stats.cache_hits, 1);
    assert_eq!(
        stats.fetches, 2,
        "first fetch, then one for the unknown kid"
    );

    let text = logs.text();
    let kid = server.active_kid();
    assert!(
        text.contains(&format!("issuer=\"{}\"", server.issuer())),
        "{text}"
    );
    assert!(text.contains(&format!("kid=\"{kid}\"")), "{text}");
    assert!(text.contains("outcome=\"accepted\""), "{text}");
    assert!(text.contains("cache=\"hit\""), "{text}");
    assert!(text.contains("micros="), "{text}");
    assert!(text.contains("the token has expired"), "{text}");
    // The attacker-chosen kid is shortened to 64 characters.
    assert!(
        text.contains(&"k".repeat(64)) && !text.contains(&"k".repeat(65)),
        "{text}"
    );
    for token in [&good, &expired, &forged_kid] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(
            !text.contains(token.as_str()) && !text.contains(signature),
            "token in logs"
        );
    }
}

#[tokio::test]
async fn introspection_is_counted() {
    let (logs, _guard) = capture();
    let server = TestServer::start().await;
    let validator = IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .audience("api")
        .build()
        .await
        .unwrap();
    let token = server.mint().opaque();
    assert!(validator.validate(&token).await.is_ok());
    assert!(validator.validate(&token).await.is_ok());
    assert!(validator.validate("unknown-token").await.is_err());
    let stats = validator.stats();
    assert_eq!(
        (
            stats.accepted,
            stats.rejected,
            stats.cache_hits,
            stats.fetches
        ),
        (2, 1, 1, 2)
    );
    let text = logs.text();
    assert!(text.contains("validator=\"introspection\""), "{text}");
    assert!(!text.contains(&token) && !text.contains("api-secret"));
}
