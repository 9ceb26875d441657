//! Several issuers behind one protected API, over loopback HTTP with real authorization
//! servers: each tenant's tokens pass, tokens crossing tenants do not, and an issuer the API
//! was not configured with is never contacted.

use crate::support;

use bearer_guard::{IntrospectionValidator, JwtValidator, MultiIssuer};
use bearer_guard_testkit::{Endpoint, TestServer};
use serde_json::Value;
use support::{assert_invalid, call, client_credentials, me_url, now};

struct Setup {
    a: TestServer,
    b: TestServer,
    url: String,
}

async fn server(audience: &str) -> TestServer {
    TestServer::builder()
        .audience(audience)
        .start()
        .await
        .unwrap()
}

async fn validator(server: &TestServer) -> JwtValidator {
    JwtValidator::builder(server.issuer())
        .audience(server.audience())
        .build()
        .await
        .unwrap()
}

/// Issuer A (audience `api-a`) and issuer B (audience `api-b`) behind one API.
async fn setup() -> Setup {
    let a = server("api-a").await;
    let b = server("api-b").await;
    let multi = MultiIssuer::builder()
        .issuer(validator(&a).await)
        .issuer(validator(&b).await)
        .build()
        .unwrap();
    let url = me_url(multi).await;
    Setup { a, b, url }
}

async fn accepted(url: &str, token: &str) -> Value {
    let (status, challenge, body) = call(url, token).await;
    assert_eq!(status, 200, "{challenge}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn each_issuers_tokens_are_accepted() {
    let s = setup().await;
    let claims = accepted(&s.url, &s.a.mint().sub("alice").sign()).await;
    assert_eq!(claims["iss"], s.a.issuer());
    assert_eq!(claims["sub"], "alice");
    let claims = accepted(&s.url, &s.b.mint().sub("bob").sign()).await;
    assert_eq!(claims["iss"], s.b.issuer());
    assert_eq!(claims["sub"], "bob");
    // Tokens actually obtained from each token endpoint, too.
    for server in [&s.a, &s.b] {
        let token = client_credentials(
            &server.token_endpoint(),
            "demo-client",
            "demo-secret",
            "read",
        )
        .await;
        let claims = accepted(&s.url, &token).await;
        assert_eq!(claims["iss"], server.issuer());
    }
}

#[tokio::test]
async fn a_token_claiming_another_tenant_fails_that_tenants_checks() {
    let s = setup().await;
    // Signed with A's key, claims B as issuer and B's audience: routed to B, whose keys do not
    // include A's key.
    let forged = s.a.mint().issuer(s.b.issuer()).aud("api-b").sign();
    assert_invalid(&s.url, &forged, "the signing key is unknown").await;
    // Signed with A's key under the kid of B's key: B finds its key, and the signature fails.
    let header = format!(
        r#"{{"alg":"RS256","typ":"at+jwt","kid":"{}"}}"#,
        s.b.active_kid()
    );
    let claims = format!(
        r#"{{"iss":"{}","aud":"api-b","sub":"mallory","exp":{}}}"#,
        s.b.issuer(),
        now() + 60
    );
    let forged = s.a.sign_raw(&s.a.active_kid(), &header, &claims);
    assert_invalid(&s.url, &forged, "the signature is invalid").await;
}

#[tokio::test]
async fn audiences_stay_with_their_issuer() {
    let s = setup().await;
    assert_invalid(
        &s.url,
        &s.b.mint().aud("api-a").sign(),
        "the token audience is not accepted",
    )
    .await;
    assert_invalid(
        &s.url,
        &s.a.mint().aud("api-b").sign(),
        "the token audience is not accepted",
    )
    .await;
    // Both audiences at once are fine for either (the token names each tenant's API).
    let both = s.a.mint().audiences(["api-a", "api-b"]).sign();
    accepted(&s.url, &both).await;
}

#[tokio::test]
async fn an_unknown_issuer_is_refused_without_contacting_it() {
    let s = setup().await;
    let c = server("api-a").await;
    for token in [
        c.mint().sign(),
        c.mint().aud("api-b").sub("mallory").sign(),
        // A's own key, but naming C: refused by the issuer check, not by fetching C's keys.
        s.a.mint().issuer(c.issuer()).sign(),
        // Near-misses of configured issuers.
        s.a.mint().issuer(format!("{}/", s.a.issuer())).sign(),
        s.a.mint()
            .issuer(s.a.issuer().replace("http", "HTTP"))
            .sign(),
    ] {
        assert_invalid(&s.url, &token, "the token issuer is not accepted").await;
    }
    assert_eq!(c.count(Endpoint::Discovery), 0);
    assert_eq!(c.count(Endpoint::Jwks), 0);
    assert_eq!(c.count(Endpoint::Introspection), 0);
}

#[tokio::test]
async fn a_token_without_a_readable_issuer_is_refused() {
    let s = setup().await;
    let kid = s.a.active_kid();
    let header = r#"{"alg":"RS256","typ":"at+jwt","kid":"KID"}"#.replace("KID", &kid);
    let now = now();
    let iss = s.a.issuer();
    let duplicate = format!(
        r#"{{"iss":"{iss}","iss":"{iss}","aud":"api-a","exp":{}}}"#,
        now + 60
    );
    assert_invalid(
        &s.url,
        &s.a.sign_raw(&kid, &header, &duplicate),
        "the token has duplicate members",
    )
    .await;
    let missing = format!(r#"{{"aud":"api-a","exp":{}}}"#, now + 60);
    assert_invalid(
        &s.url,
        &s.a.sign_raw(&kid, &header, &missing),
        "the token lacks a required claim",
    )
    .await;
    assert_invalid(&s.url, "not-a-jwt", "the token is malformed").await;
}

#[tokio::test]
async fn an_issuer_can_be_served_by_introspection() {
    let a = server("api-a").await;
    let b = server("api-b").await;
    let introspect_b = IntrospectionValidator::builder(b.issuer())
        .client("api", "api-secret")
        .audience("api-b")
        .build()
        .await
        .unwrap();
    let multi = MultiIssuer::builder()
        .issuer(validator(&a).await)
        .validator(b.issuer(), introspect_b)
        .build()
        .unwrap();
    let url = me_url(multi).await;
    accepted(&url, &a.mint().sign()).await;
    accepted(&url, &b.mint().sub("bob").sign()).await;
    assert_eq!(b.count(Endpoint::Introspection), 1);
    // A's key, naming B: B's authorization server did not issue it.
    let forged = a.mint().issuer(b.issuer()).aud("api-b").sign();
    assert_invalid(&url, &forged, "the token is not active").await;
    assert_eq!(b.count(Endpoint::Introspection), 2);
    // A's tokens never reach B's introspection endpoint.
    accepted(&url, &a.mint().sub("carol").sign()).await;
    assert_eq!(b.count(Endpoint::Introspection), 2);
}
