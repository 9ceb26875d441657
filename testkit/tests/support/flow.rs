//! The authorization-code flow with auto-approval, for OpenID, step-up, exchange and
//! several-issuer tests: one GET /authorize (extra parameters allowed), then the token request.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::jwt::b64;

/// The default client's redirect URI.
pub const REDIRECT: &str = "http://127.0.0.1/callback";

/// A client without redirects followed.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A PKCE verifier and its S256 challenge.
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

/// GET `{issuer}/authorize` for `demo-client` with PKCE and `extra` parameters (scope,
/// nonce, prompt...); the `Location` of the redirect (auto-approval must be on).
pub async fn authorize_redirect(issuer: &str, challenge: &str, extra: &[(&str, &str)]) -> String {
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", "demo-client"),
        ("redirect_uri", REDIRECT),
        ("state", "st"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let url = url::Url::parse_with_params(&format!("{issuer}/authorize"), &params).unwrap();
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302, "{}", resp.text().await.unwrap());
    resp.headers()["location"].to_str().unwrap().to_owned()
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
