//! Shared test plumbing of the `integration`, `attacks` and `fuzz_corpus` binaries: serve an
//! axum app on loopback and protect it, call it and read the answer; validators and keys of the
//! test server (`bearer-guard-testkit`). Tokens taken apart and put together by hand are the
//! testkit's [`jwt`], log capture is in [`logs`].
#![allow(dead_code)]

pub mod dpop;
pub mod interop;
pub mod logs;
pub mod node;
pub mod python;
pub mod redis;

use std::time::{SystemTime, UNIX_EPOCH};

pub use bearer_guard_testkit::jwt;

use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{jwt::JwtValidatorBuilder, AuthLayer, Claims, JwtValidator, Validator};
use bearer_guard_testkit::TestServer;
use serde::de::DeserializeOwned;
use tokio::net::TcpListener;

/// Binds 127.0.0.1:0; returns the listener and its base URL, for apps that must know their
/// address before they are built.
pub async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, format!("http://{addr}"))
}

/// Serves `app` on `listener` until the test's runtime ends.
pub fn serve_on(listener: TcpListener, app: Router) {
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
}

/// Serves `app` on 127.0.0.1:0 and returns its base URL. The server lives until the test's
/// runtime ends.
pub async fn serve(app: Router) -> String {
    let (listener, base) = bind().await;
    serve_on(listener, app);
    base
}

/// An API whose `/me` answers the verified claims as JSON, behind `AuthLayer` (realm "test").
pub async fn protected<V: Validator>(validator: V) -> String {
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(AuthLayer::new(validator).realm("test"));
    serve(app).await
}

/// The URL of `/me` of a [`protected`] API.
pub async fn me_url<V: Validator>(validator: V) -> String {
    format!("{}/me", protected(validator).await)
}

/// The `/me` URL of a [`protected`] API whose `JwtValidator` takes the keys of `issuer` and
/// wants audience "api", configured further by `configure` (leeway, algorithms, ...).
pub async fn jwt_api(
    issuer: &str,
    configure: impl FnOnce(JwtValidatorBuilder) -> JwtValidatorBuilder,
) -> String {
    let builder = configure(JwtValidator::builder(issuer).audience("api"));
    me_url(builder.build().await.unwrap()).await
}

/// The `www-authenticate` header of `res`, or "" without one.
pub fn challenge(res: &reqwest::Response) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

/// Status, challenge (or "") and body of `res`.
pub async fn answer(res: reqwest::Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let challenge = challenge(&res);
    (status, challenge, res.text().await.unwrap())
}

/// GETs `url`, with `Authorization: Bearer {token}` if a token is given; returns status,
/// challenge, body.
pub async fn get_with(url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    answer(req.send().await.unwrap()).await
}

/// GETs `url` with `Authorization: Bearer {token}`; returns status, challenge, body.
pub async fn call(url: &str, token: &str) -> (u16, String, String) {
    get_with(url, Some(token)).await
}

/// Asserts a 401 `invalid_token` answer with the given description, which must not echo the
/// token.
pub async fn assert_invalid(url: &str, token: &str, description: &str) {
    let (status, challenge, body) = call(url, token).await;
    assert_eq!(status, 401, "body: {body}");
    assert_eq!(
        challenge,
        format!(r#"Bearer realm="test", error="invalid_token", error_description="{description}""#)
    );
    assert!(!challenge.contains(token) && !body.contains(token));
}

/// GETs `url` with `token` `n` times at once; every answer must be 200.
pub async fn concurrent_ok(url: &str, token: &str, n: usize) {
    let client = reqwest::Client::new();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (client, url, token) = (client.clone(), url.to_owned(), token.to_owned());
        set.spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        });
    }
    while let Some(s) = set.join_next().await {
        assert_eq!(s.unwrap(), 200);
    }
}

/// Sends `req` and reads its answer as JSON, whatever the status.
pub async fn json<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> T {
    req.send().await.unwrap().json().await.unwrap()
}

/// A client-credentials grant at `token_endpoint` (client secret in Basic auth); returns the
/// access token.
pub async fn client_credentials(
    token_endpoint: &str,
    client: &str,
    secret: &str,
    scope: &str,
) -> String {
    let res: serde_json::Value = json(
        reqwest::Client::new()
            .post(token_endpoint)
            .basic_auth(client, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)]),
    )
    .await;
    res["access_token"].as_str().unwrap().to_owned()
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A `JwtValidator` for `server`'s tokens with audience "api", endpoints found by discovery.
pub async fn validator(server: &TestServer) -> JwtValidator {
    JwtValidator::builder(server.issuer())
        .audience("api")
        .build()
        .await
        .unwrap()
}

/// The JWKS `server` publishes.
pub async fn jwks(server: &TestServer) -> serde_json::Value {
    json(reqwest::Client::new().get(server.jwks_uri())).await
}
