//! Step-up authentication (RFC 9470) end to end, over bearer-guard's own layers: an API that
//! requires `acr` and `max_age` answers 401 `insufficient_user_authentication`; the client
//! re-authorizes with the challenge's `acr_values` / `max_age`; the new token passes.

use crate::support;

use std::time::{Duration, SystemTime};

use axum::routing::get;
use axum::Router;
use bearer_guard::{AuthLayer, JwtValidator, RequireScopeLayer, Requirement};
use bearer_guard_testkit::{TestServer, User};
use support::flow::{authorize_redirect, http, pkce, query_param, sign_in};
use support::jwt::decode;

const PWD: &str = "urn:example:pwd";
const MFA: &str = "urn:example:mfa";

async fn setup() -> (TestServer, String) {
    let server = TestServer::builder()
        .user(User::new("alice", "password").acr_values([PWD, MFA]))
        .auto_approve("alice")
        .start()
        .await
        .unwrap();
    let validator = JwtValidator::builder(server.issuer())
        .audience("api")
        .build()
        .await
        .unwrap();
    let requirement = Requirement::all(["read"])
        .acr([MFA])
        .max_age(Duration::from_secs(300));
    let app = Router::new()
        .route("/me", get(|| async { "ok" }))
        .layer(RequireScopeLayer::new(requirement))
        .layer(AuthLayer::new(validator));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/me", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (server, url)
}

/// Status and `WWW-Authenticate` of a call to the API with `token`.
async fn call(url: &str, token: &str) -> (u16, String) {
    let resp = http().get(url).bearer_auth(token).send().await.unwrap();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), challenge)
}

/// The value of `name="..."` in a challenge.
fn param(challenge: &str, name: &str) -> Option<String> {
    let start = challenge.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = challenge.get(start..)?;
    Some(rest.get(..rest.find('"')?)?.to_owned())
}

fn access(answer: &serde_json::Value) -> String {
    answer["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn acr_step_up_round_trip() {
    let (server, url) = setup().await;
    // Signed in with a password: refused, with the level to reach.
    let first = sign_in(server.issuer(), &[("scope", "read")]).await;
    assert_eq!(decode(&access(&first)).1["acr"], PWD);
    let (status, challenge) = call(&url, &access(&first)).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="insufficient_user_authentication""#),
        "{challenge}"
    );
    let acr_values = param(&challenge, "acr_values").unwrap();
    let max_age = param(&challenge, "max_age").unwrap();
    assert_eq!((acr_values.as_str(), max_age.as_str()), (MFA, "300"));

    // Re-authorization with the challenge's parameters: a new sign-in at that level.
    let second = sign_in(
        server.issuer(),
        &[
            ("scope", "read"),
            ("acr_values", &acr_values),
            ("max_age", &max_age),
        ],
    )
    .await;
    let claims = decode(&access(&second)).1;
    assert_eq!(claims["acr"], MFA);
    assert_eq!(call(&url, &access(&second)).await.0, 200);

    // The sign-in is remembered: a later authorization without parameters reuses it.
    let third = sign_in(server.issuer(), &[("scope", "read")]).await;
    assert_eq!(decode(&access(&third)).1["auth_time"], claims["auth_time"]);
    assert_eq!(call(&url, &access(&third)).await.0, 200);
}

#[tokio::test]
async fn max_age_step_up_round_trip() {
    let (server, url) = setup().await;
    // An hour-old sign-in at the right level.
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    assert!(server.set_sign_in("alice", hour_ago, Some(MFA)));
    assert!(!server.set_sign_in("nobody", hour_ago, None));
    let old = sign_in(server.issuer(), &[("scope", "read")]).await;
    let old_time = decode(&access(&old)).1["auth_time"].as_u64().unwrap();
    assert!(old_time <= support::now() - 3599);
    let (status, challenge) = call(&url, &access(&old)).await;
    assert_eq!(status, 401, "{challenge}");
    let max_age = param(&challenge, "max_age").unwrap();

    let fresh = sign_in(
        server.issuer(),
        &[
            ("scope", "read"),
            ("max_age", &max_age),
            ("acr_values", MFA),
        ],
    )
    .await;
    let claims = decode(&access(&fresh)).1;
    assert!(claims["auth_time"].as_u64().unwrap() >= support::now() - 5);
    assert_eq!(call(&url, &access(&fresh)).await.0, 200);
}

#[tokio::test]
async fn prompt_login_and_prompt_none() {
    let (server, _) = setup().await;
    let recent = SystemTime::now() - Duration::from_secs(100);
    server.set_sign_in("alice", recent, Some(MFA));
    // prompt=login: a new sign-in although the last one is recent.
    let answer = sign_in(server.issuer(), &[("scope", "read"), ("prompt", "login")]).await;
    let claims = decode(&access(&answer)).1;
    assert!(claims["auth_time"].as_u64().unwrap() >= support::now() - 5);
    // The user signs in at the default level when no acr_values are asked for.
    assert_eq!(claims["acr"], PWD);

    // prompt=none when a new sign-in is needed: login_required, no code.
    let (_, challenge) = pkce();
    let location = authorize_redirect(
        server.issuer(),
        &challenge,
        &[("prompt", "none"), ("acr_values", MFA)],
    )
    .await;
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );
    assert!(query_param(&location, "code").is_none());
    // prompt=none when the sign-in still answers: a code.
    let location = authorize_redirect(server.issuer(), &challenge, &[("prompt", "none")]).await;
    assert!(query_param(&location, "code").is_some(), "{location}");
    // Bad values: invalid_request.
    for (name, value) in [
        ("prompt", "none login"),
        ("prompt", "bogus"),
        ("max_age", "-1"),
    ] {
        let location = authorize_redirect(server.issuer(), &challenge, &[(name, value)]).await;
        assert_eq!(
            query_param(&location, "error").as_deref(),
            Some("invalid_request"),
            "{name}={value}"
        );
    }
}
