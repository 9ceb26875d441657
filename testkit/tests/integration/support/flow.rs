//! The authorization-code flow with auto-approval: one GET /authorize (extra parameters
//! allowed), then the token request; the default client, its redirect URI and PKCE.

use std::collections::HashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::jwt::b64;

/// The default client's redirect URI.
pub const REDIRECT: &str = "http://127.0.0.1/callback";

/// The default confidential client: id and secret.
pub const DEMO: (&str, &str) = ("demo-client", "demo-secret");

/// A client without redirects followed.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A PKCE verifier and its S256 challenge (always the same pair).
pub fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}", "y".repeat(50));
    let challenge = b64(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The query parameter `name` of a URL.
pub fn query_param(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// GET `{issuer}/authorize` for `client_id` and `redirect_uri` with PKCE (`challenge`),
/// `state=st` and `extra` parameters (scope, nonce, prompt, resource...).
async fn authorize_get(
    issuer: &str,
    client_id: &str,
    redirect_uri: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect_uri),
        ("state", "st"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let url = url::Url::parse_with_params(&format!("{issuer}/authorize"), &params).unwrap();
    http().get(url).send().await.unwrap()
}

/// GET `{issuer}/authorize` for `demo-client` with PKCE and `extra` parameters (scope,
/// nonce, prompt...); the `Location` of the redirect (auto-approval must be on).
pub async fn authorize_redirect(issuer: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let resp = authorize_get(issuer, "demo-client", REDIRECT, challenge, extra).await;
    assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
    resp.headers()["location"].to_str().unwrap().to_owned()
}

/// GET `{issuer}/authorize` (auto-approved) for `client_id` and `redirect_uri` with the
/// [`pkce`] challenge and `extra` parameters: the status and the query of the redirect (empty
/// without one).
pub async fn authorize_query(
    issuer: &str,
    client_id: &str,
    redirect_uri: &str,
    extra: &[(&str, &str)],
) -> (reqwest::StatusCode, HashMap<String, String>) {
    let (_, challenge) = pkce();
    let resp = authorize_get(issuer, client_id, redirect_uri, &challenge, extra).await;
    let query = resp
        .headers()
        .get("location")
        .map(|l| url::Url::parse(l.to_str().unwrap()).unwrap())
        .map(|l| l.query_pairs().into_owned().collect())
        .unwrap_or_default();
    (resp.status(), query)
}

/// The token answer of an auto-approved authorization with `extra` parameters.
pub async fn sign_in(issuer: &str, extra: &[(&str, &str)]) -> Value {
    let (verifier, challenge) = pkce();
    let location = authorize_redirect(issuer, &challenge, extra).await;
    let code = query_param(&location, "code").unwrap_or_else(|| panic!("no code: {location}"));
    let resp = http()
        .post(format!("{issuer}/token"))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// POST `{issuer}/token` as `client` with `form`: status and JSON body.
pub async fn token(issuer: &str, client: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let resp = http()
        .post(format!("{issuer}/token"))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}
