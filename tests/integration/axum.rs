//! The axum extractor `Authenticated<T>` over real HTTP: axum on loopback, tokens from the bundled
//! server.

use crate::support;

use axum::{routing::get, Router};
use bearer_guard::axum::Authenticated;
use bearer_guard::{AuthError, AuthLayer};
use bearer_guard_testkit::TestServer;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
struct Profile {
    sub: String,
    tenant: String,
    #[serde(default)]
    level: u32,
}

async fn me(Authenticated(claims): Authenticated) -> String {
    claims.subject().unwrap_or_default().to_owned()
}

async fn profile(Authenticated(p): Authenticated<Profile>) -> String {
    format!("{} {} {}", p.sub, p.tenant, p.level)
}

async fn hello(user: Option<Authenticated>) -> String {
    match user {
        Some(Authenticated(c)) => format!("hello {}", c.subject().unwrap_or("?")),
        None => "hello stranger".into(),
    }
}

async fn hello_profile(user: Option<Authenticated<Profile>>) -> String {
    match user {
        Some(Authenticated(p)) => format!("hello {} of {}", p.sub, p.tenant),
        None => "hello stranger".into(),
    }
}

async fn refuse() -> Result<&'static str, AuthError> {
    Err(AuthError::InsufficientScope {
        required: "x y".into(),
    })
}

struct Env {
    issuer: TestServer,
    base: String,
}

async fn setup() -> Env {
    let issuer = TestServer::start().await;
    let validator = support::validator(&issuer).await;
    let required = Router::new()
        .route("/me", get(me))
        .route("/profile", get(profile))
        .layer(AuthLayer::new(validator.clone()).realm("api"));
    let optional = Router::new()
        .route("/hello", get(hello))
        .route("/hello/profile", get(hello_profile))
        .route("/opt/me", get(me))
        .layer(AuthLayer::new(validator).realm("api").optional());
    let bare = Router::new()
        .route("/bare/me", get(me))
        .route("/bare/hello", get(hello))
        .route("/refuse", get(refuse));
    let base = support::serve(required.merge(optional).merge(bare)).await;
    Env { issuer, base }
}

impl Env {
    /// GET `path`, with `token` if given: (status, www-authenticate or "", body).
    async fn get(&self, path: &str, token: Option<&str>) -> (u16, String, String) {
        support::get_with(&format!("{}{path}", self.base), token).await
    }
}

fn invalid(description: &str) -> String {
    format!(r#"Bearer realm="api", error="invalid_token", error_description="{description}""#)
}

#[tokio::test]
async fn claims_extractor() {
    let env = setup().await;
    let token = env.issuer.mint().sub("carol").sign();
    assert_eq!(
        env.get("/me", Some(&token)).await,
        (200, String::new(), "carol".into())
    );
}

#[tokio::test]
async fn typed_claims() {
    let env = setup().await;
    let token = env
        .issuer
        .mint()
        .sub("dave")
        .claim("tenant", json!("acme"))
        .claim("level", json!(3))
        .sign();
    assert_eq!(
        env.get("/profile", Some(&token)).await,
        (200, String::new(), "dave acme 3".into())
    );
}

#[tokio::test]
async fn claims_that_do_not_fit_the_type_are_401_invalid_token() {
    let env = setup().await;
    // Valid token without the claim the handler needs.
    let token = env.issuer.mint().sub("dave").sign();
    assert_eq!(
        env.get("/profile", Some(&token)).await,
        (
            401,
            invalid("the token lacks a required claim"),
            String::new()
        )
    );
    // Valid token with the claim of the wrong type; the value is not echoed.
    let token = env
        .issuer
        .mint()
        .claim("tenant", json!("acme"))
        .claim("level", json!("secret-level-value"))
        .sign();
    let (status, challenge, body) = env.get("/profile", Some(&token)).await;
    assert_eq!(
        (status, challenge.as_str()),
        (401, invalid("the token has an invalid claim").as_str())
    );
    assert!(!body.contains("secret-level-value"));
}

#[tokio::test]
async fn optional_extractor_on_optional_route() {
    let env = setup().await;
    assert_eq!(
        env.get("/hello", None).await,
        (200, String::new(), "hello stranger".into())
    );
    let token = env.issuer.mint().sub("erin").sign();
    assert_eq!(
        env.get("/hello", Some(&token)).await,
        (200, String::new(), "hello erin".into())
    );
    // An invalid token is never downgraded to anonymous.
    let (status, challenge, _) = env.get("/hello", Some("garbage")).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
    let expired = env.issuer.mint().expired().sign();
    assert_eq!(
        env.get("/hello", Some(&expired)).await,
        (401, invalid("the token has expired"), String::new())
    );
}

#[tokio::test]
async fn optional_typed_extractor_rejects_unfit_claims_instead_of_none() {
    let env = setup().await;
    assert_eq!(
        env.get("/hello/profile", None).await.2,
        "hello stranger".to_owned()
    );
    let fit = env
        .issuer
        .mint()
        .sub("fay")
        .claim("tenant", json!("acme"))
        .sign();
    assert_eq!(
        env.get("/hello/profile", Some(&fit)).await.2,
        "hello fay of acme".to_owned()
    );
    let unfit = env.issuer.mint().sub("fay").sign();
    assert_eq!(
        env.get("/hello/profile", Some(&unfit)).await,
        (
            401,
            invalid("the token lacks a required claim"),
            String::new()
        )
    );
}

#[tokio::test]
async fn required_extractor_on_anonymous_request_is_401() {
    let env = setup().await;
    assert_eq!(
        env.get("/opt/me", None).await,
        (401, r#"Bearer realm="api""#.into(), String::new())
    );
}

#[tokio::test]
async fn extractor_without_auth_layer_fails_closed() {
    let env = setup().await;
    // A good token, but nothing verified it: the handler must not run.
    let token = env.issuer.mint().sub("mallory").sign();
    assert_eq!(
        env.get("/bare/me", Some(&token)).await,
        (500, String::new(), String::new())
    );
    // Option<Authenticated> does not turn a missing auth layer into "anonymous" either.
    assert_eq!(
        env.get("/bare/hello", None).await,
        (500, String::new(), String::new())
    );
}

#[tokio::test]
async fn auth_error_into_response() {
    let env = setup().await;
    assert_eq!(
        env.get("/refuse", None).await,
        (
            403,
            r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="x y""#.into(),
            String::new()
        )
    );
}
