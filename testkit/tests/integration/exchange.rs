//! Token exchange (RFC 8693): an API trades its user's token for one to call another API, with
//! the same or a narrower scope; refusals for inactive subject tokens, wider scopes and
//! unknown audiences.

use crate::support;

use bearer_guard_testkit::{Client, TestServer};
use serde_json::Value;
use support::flow::{sign_in, token};
use support::jwt::decode;

const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const ORDERS: &str = "https://orders.example/api";
const API: (&str, &str) = ("api", "api-secret");

async fn server() -> TestServer {
    TestServer::builder()
        .resources([ORDERS])
        .client(Client::public("spa").redirect_uri("http://127.0.0.1/cb"))
        .auto_approve("alice")
        .start()
        .await
        .unwrap()
}

/// The user's token for the first API (`aud` "api", scope "read write").
async fn user_token(server: &TestServer) -> String {
    let answer = sign_in(server.issuer(), &[("scope", "read write")]).await;
    answer["access_token"].as_str().unwrap().to_owned()
}

async fn exchange(server: &TestServer, subject: &str, extra: &[(&str, &str)]) -> (u16, Value) {
    let mut form = vec![
        ("grant_type", GRANT),
        ("subject_token", subject),
        ("subject_token_type", ACCESS),
    ];
    form.extend_from_slice(extra);
    token(server.issuer(), API, &form).await
}

fn error(answer: &(u16, Value)) -> (u16, &str) {
    (answer.0, answer.1["error"].as_str().unwrap_or("none"))
}

#[tokio::test]
async fn an_api_calls_another_on_its_users_behalf() {
    let server = server().await;
    let subject = user_token(&server).await;
    let (_, subject_claims) = decode(&subject);
    for target in [("audience", ORDERS), ("resource", ORDERS)] {
        let (status, answer) = exchange(&server, &subject, &[target, ("scope", "read")]).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["issued_token_type"], ACCESS);
        assert_eq!(answer["token_type"], "Bearer");
        assert_eq!(answer["scope"], "read");
        assert!(answer.get("refresh_token").is_none());
        let token = answer["access_token"].as_str().unwrap();
        assert!(server.is_active(token));
        let (_, claims) = decode(token);
        assert_eq!(claims["iss"], server.issuer());
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], ORDERS);
        assert_eq!(claims["scope"], "read");
        assert_eq!(claims["client_id"], "api");
        assert_eq!(claims["auth_time"], subject_claims["auth_time"]);
        assert!(claims["exp"].as_u64() <= subject_claims["exp"].as_u64());
        assert_ne!(claims["jti"], subject_claims["jti"]);
    }
    // Without scope: the subject token's; without a target: the default audience.
    let (status, answer) = exchange(&server, &subject, &[]).await;
    assert_eq!(status, 200);
    let (_, claims) = decode(answer["access_token"].as_str().unwrap());
    assert_eq!(
        (claims["scope"].as_str(), claims["aud"].as_str()),
        (Some("read write"), Some("api"))
    );
}

#[tokio::test]
async fn inactive_subject_tokens_are_refused() {
    let server = server().await;
    let other = TestServer::start().await;
    let revoked = user_token(&server).await;
    server.revoke(&revoked);
    let expired = server.mint().expired().sign();
    let foreign = other.mint().sign();
    let answer = sign_in(server.issuer(), &[("scope", "read")]).await;
    let refresh = answer["refresh_token"].as_str().unwrap();
    for subject in [
        revoked.as_str(),
        expired.as_str(),
        foreign.as_str(),
        refresh,
        "garbage",
    ] {
        let answer = exchange(&server, subject, &[("audience", ORDERS)]).await;
        assert_eq!(error(&answer), (400, "invalid_request"), "{subject}");
    }
}

#[tokio::test]
async fn scope_may_only_narrow() {
    let server = server().await;
    let subject = user_token(&server).await;
    for scope in ["read admin", "admin", "read write admin"] {
        let answer = exchange(&server, &subject, &[("scope", scope), ("audience", ORDERS)]).await;
        assert_eq!(error(&answer), (400, "invalid_scope"), "{scope}");
    }
}

#[tokio::test]
async fn unknown_audiences_and_other_refusals() {
    let server = server().await;
    let subject = user_token(&server).await;
    for target in [
        ("audience", "https://elsewhere.example"),
        ("audience", "other-api"),
        ("resource", "https://elsewhere.example"),
    ] {
        let answer = exchange(&server, &subject, &[target]).await;
        assert_eq!(error(&answer), (400, "invalid_target"), "{target:?}");
    }
    // An actor token (delegation), another token type, a missing type.
    let answer = exchange(
        &server,
        &subject,
        &[("actor_token", &subject), ("actor_token_type", ACCESS)],
    )
    .await;
    assert_eq!(error(&answer), (400, "invalid_request"));
    let answer = exchange(
        &server,
        &subject,
        &[(
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:refresh_token",
        )],
    )
    .await;
    assert_eq!(error(&answer), (400, "invalid_request"));
    let answer = token(
        server.issuer(),
        API,
        &[("grant_type", GRANT), ("subject_token", &subject)],
    )
    .await;
    assert_eq!(error(&answer), (400, "invalid_request"));
    // A public client may not exchange.
    let resp = support::flow::http()
        .post(server.token_endpoint())
        .form(&[
            ("grant_type", GRANT),
            ("client_id", "spa"),
            ("subject_token", subject.as_str()),
            ("subject_token_type", ACCESS),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized_client");
}
