//! Nothing this crate logs may carry a token: not on rejection, not on success, not when the
//! JWKS cannot be fetched. Everything is captured at TRACE level and searched for the token,
//! each of its segments and a claim value unique to it.

use crate::support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard_testkit::{Endpoint, Fault, TestServer};
use support::jwt::b64;
use support::logs::capture;
use support::{call, me_url};

/// Asserts that `logs` contain neither `token`, nor any of its segments, nor its `jti`.
fn assert_not_logged(logs: &str, token: &str, what: &str) {
    assert!(!logs.contains(token), "{what}: the token was logged");
    for segment in token.split('.').filter(|s| s.len() >= 16) {
        assert!(
            !logs.contains(segment),
            "{what}: a token segment was logged"
        );
    }
    if let Some(payload) = token.split('.').nth(1) {
        if let Ok(bytes) = URL_SAFE_NO_PAD.decode(payload) {
            if let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                if let Some(jti) = claims["jti"].as_str() {
                    assert!(
                        !logs.contains(jti),
                        "{what}: a claim of the token was logged"
                    );
                }
            }
        }
    }
}

// The current-thread runtime runs the test, the API, the client and the authorization server
// on this thread, so the thread-local subscriber sees every event.
#[tokio::test(flavor = "current_thread")]
async fn tokens_never_reach_the_logs() {
    let (sink, _guard) = capture();

    let server = TestServer::start().await;
    let url = me_url(support::validator(&server).await).await;

    // Accepted.
    let good = server.mint().jti("jti-accepted-0b1c2d3e4f").sign();
    assert_eq!(call(&url, &good).await.0, 200);

    // Rejected for several reasons.
    let expired = server.mint().jti("jti-expired-5a6b7c8d9e").expired().sign();
    let (head, _) = good.rsplit_once('.').unwrap();
    let forged = format!("{head}.{}", b64([7u8; 256]));
    let unknown = server
        .mint()
        .jti("jti-unknown-kid-1f2e3d4c")
        .kid("no-such-key")
        .sign();
    let garbage = "not-a-jwt-but-a-long-enough-secret-looking-string";
    for token in [&expired, &forged, &unknown, &garbage.to_owned()] {
        assert_eq!(call(&url, token).await.0, 401);
    }

    // JWKS unavailable from the start: 503.
    let down = TestServer::start().await;
    down.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let down_url = me_url(support::validator(&down).await).await;
    let stranded = down.mint().jti("jti-jwks-down-9f8e7d6c").sign();
    assert_eq!(call(&down_url, &stranded).await.0, 503);

    let logs = sink.text();
    // The capture works and the interesting paths did log.
    assert!(logs.contains("request rejected"), "{logs}");
    assert!(logs.contains("fetched JWKS"), "{logs}");
    assert!(logs.contains("JWKS fetch failed"), "{logs}");
    assert!(logs.contains("token validation unavailable"), "{logs}");
    for (token, what) in [
        (&good, "accepted"),
        (&expired, "expired"),
        (&forged, "forged"),
        (&unknown, "unknown kid"),
        (&garbage.to_owned(), "garbage"),
        (&stranded, "JWKS down"),
    ] {
        assert_not_logged(&logs, token, what);
    }
}

/// Each refusal leaves one DEBUG event that names the check and, for fields that are not
/// secret, what was expected and what was found; the token itself is never in it.
#[tokio::test(flavor = "current_thread")]
async fn refusals_say_which_check_failed_and_what_was_found() {
    let (logs, _guard) = capture();
    let server = TestServer::start().await;
    let url = me_url(support::validator(&server).await).await;
    let cases = [
        (
            server.mint().aud("api://y").sign(),
            [
                r#"check="aud""#,
                r#"expected=["api"]"#,
                r#"found="api://y""#,
            ],
        ),
        (
            server.mint().issuer("https://evil.example").sign(),
            [
                r#"check="iss""#,
                "expected=",
                r#"found="https://evil.example""#,
            ],
        ),
        (
            server.mint().typ(Some("JWT")).sign(),
            [r#"check="typ""#, r#"expected="at+jwt""#, r#"found="JWT""#],
        ),
        (
            server.mint().expired().sign(),
            [r#"check="exp""#, "now=", "leeway="],
        ),
        (
            "an-opaque-token-from-some-issuer".to_owned(),
            [r#"check="format""#, "not a JWT", "IntrospectionValidator"],
        ),
    ];
    for (token, wanted) in cases {
        let before = logs.text().len();
        assert_eq!(call(&url, &token).await.0, 401);
        let new = logs.text().split_off(before);
        for w in wanted {
            assert!(new.contains(w), "{w} missing in:\n{new}");
        }
        assert_not_logged(&new, &token, "refusal");
    }
}
