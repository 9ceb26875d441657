//! Shared test plumbing: serve an axum app on loopback and protect it.
#![allow(dead_code)]

use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{AuthLayer, Claims, Validator};

/// Serves `app` on 127.0.0.1:0 and returns its base URL. The server lives until the test's
/// runtime ends.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
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

/// GETs `url` with `Authorization: Bearer {token}`; returns status, challenge, body.
pub async fn call(url: &str, token: &str) -> (u16, String, String) {
    let res = reqwest::Client::new()
        .get(url)
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, res.text().await.unwrap())
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
