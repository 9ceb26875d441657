//! End-to-end tests of the bundled test authorization server over real HTTP, by endpoint
//! and by what a test does to the server; the helpers the modules share.

use crate::support;

use std::time::Duration;

use bearer_guard_testkit::{Client, Endpoint, Fault, KeyAlg, TestServer, User};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::flow::{http, pkce, query_param, REDIRECT};
use support::json;
use support::jwt::{decode, unb64};

/// jsonwebtoken's aws-lc-rs backend, named explicitly (the testkit always has it).
fn provider() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
}

async fn fetch_jwks(server: &TestServer) -> JwkSet {
    json(http().get(server.jwks_uri())).await
}

/// Verifies the JWT signature against the server's JWKS with an explicit
/// provider; returns the claims.
async fn verify(server: &TestServer, token: &str) -> Value {
    let jwks = fetch_jwks(server).await;
    let (header, claims) = decode(token);
    let kid = header["kid"].as_str().unwrap();
    let jwk = jwks.find(kid).expect("kid published in JWKS");
    let alg: Algorithm = serde_json::from_value(header["alg"].clone()).unwrap();
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let verifier = (provider().verifier_factory)(&alg, &key).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = unb64(sig);
    verifier
        .verify(input.as_bytes(), &sig)
        .expect("signature verifies");
    claims
}

async fn token_req(
    server: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = http().post(server.token_endpoint()).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.unwrap()
}

async fn error_of(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert!(body["error_description"].is_string());
    (status, body["error"].as_str().unwrap().to_owned())
}

async fn introspect(server: &TestServer, token: &str) -> Value {
    let resp = http()
        .post(server.introspection_endpoint())
        .basic_auth("api", Some("api-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn authz_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    url::Url::parse_with_params(&server.authorization_endpoint(), params)
        .unwrap()
        .to_string()
}

/// Runs GET + POST /authorize and returns the authorization code.
async fn authorize(server: &TestServer, challenge: &str, scope: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", "demo-client"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let page = http().get(authz_url(server, &params)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("name=\"password\""));

    let mut form = params.to_vec();
    form.extend([("username", "alice"), ("password", "password")]);
    let resp = http()
        .post(server.authorization_endpoint())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(server.issuer())
    );
    query_param(&location, "code").unwrap()
}

/// Redeems refresh token `token` as `client`, asking for `scope` if given.
async fn refresh(
    server: &TestServer,
    client: (&str, &str),
    token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend(scope.map(|s| ("scope", s)));
    token_req(server, Some(client), &form).await
}

async fn redeem(server: &TestServer, code: &str, verifier: &str) -> reqwest::Response {
    token_req(
        server,
        Some(("demo-client", "demo-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

mod discovery;
mod introspection;
mod minting;
mod operations;
mod token;
