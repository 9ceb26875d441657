//! `RequireScopeLayer` over real HTTP: axum on loopback, tokens from the bundled server.
//! Also a plain tower `ServiceBuilder` stack without axum routing.

use crate::support;

use axum::{routing::get, Router};
use bearer_guard::{error::Challenge, AuthLayer, Claims, RequireScopeLayer};
use bearer_guard_testkit::TestServer;
use serde_json::json;
use tower::{ServiceBuilder, ServiceExt};

const RM: &str = "https://api.example/.well-known/oauth-protected-resource";

async fn ok() -> &'static str {
    "ok"
}

fn is_admin(c: &Claims) -> bool {
    c.get("realm_access")
        .and_then(|r| r.get("roles"))
        .and_then(|r| r.as_array())
        .is_some_and(|roles| roles.iter().any(|r| r == "admin"))
}

struct Env {
    issuer: TestServer,
    base: String,
}

async fn setup() -> Env {
    let issuer = TestServer::start().await;
    let validator = support::validator(&issuer).await;
    let challenge = Challenge::new().realm("api").resource_metadata(RM);
    let required = Router::new()
        .route(
            "/read",
            get(ok).route_layer(RequireScopeLayer::all(["items:read"])),
        )
        .route(
            "/write",
            get(ok).route_layer(RequireScopeLayer::all(["items:read", "items:write"])),
        )
        .route(
            "/any",
            get(ok).route_layer(RequireScopeLayer::any(["items:read", "items:admin"])),
        )
        .route(
            "/admin",
            get(ok).route_layer(RequireScopeLayer::predicate(is_admin, "role:admin")),
        )
        .route(
            "/acme",
            get(ok).route_layer(RequireScopeLayer::predicate(
                |c: &Claims| c.get("tenant").is_some_and(|t| t == "acme"),
                "tenant:acme",
            )),
        )
        .layer(AuthLayer::new(validator.clone()).challenge(challenge.clone()));
    let optional = Router::new()
        .route("/opt/open", get(ok))
        .route(
            "/opt/read",
            get(ok).route_layer(RequireScopeLayer::all(["items:read"])),
        )
        .layer(AuthLayer::new(validator).challenge(challenge).optional());
    // Misconfigured: a scope check with no auth layer in front of it.
    let bare = Router::new().route(
        "/bare",
        get(ok).route_layer(RequireScopeLayer::all(["items:read"])),
    );
    let base = support::serve(required.merge(optional).merge(bare)).await;
    Env { issuer, base }
}

impl Env {
    /// GET `path`, with `token` if given: (status, www-authenticate or "").
    async fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let (status, challenge, _) =
            support::get_with(&format!("{}{path}", self.base), token).await;
        (status, challenge)
    }

    fn scoped(&self, scope: &str) -> String {
        self.issuer.mint().scope(scope).sign()
    }

    fn scp(&self, scp: serde_json::Value) -> String {
        self.issuer.mint().remove("scope").claim("scp", scp).sign()
    }
}

fn insufficient(scope: &str) -> String {
    format!(
        r#"Bearer realm="api", error="insufficient_scope", error_description="the token lacks the required scope", scope="{scope}", resource_metadata="{RM}""#
    )
}

#[tokio::test]
async fn all_requires_every_scope() {
    let env = setup().await;
    let both = env.scoped("items:write items:read");
    assert_eq!(env.get("/write", Some(&both)).await, (200, String::new()));
    assert_eq!(env.get("/read", Some(&both)).await.0, 200);

    let read_only = env.scoped("items:read");
    assert_eq!(
        env.get("/write", Some(&read_only)).await,
        (403, insufficient("items:read items:write"))
    );
    let write_only = env.scoped("items:write");
    assert_eq!(
        env.get("/write", Some(&write_only)).await,
        (403, insufficient("items:read items:write"))
    );
    let none = env.issuer.mint().remove("scope").sign();
    assert_eq!(
        env.get("/read", Some(&none)).await,
        (403, insufficient("items:read"))
    );
}

#[tokio::test]
async fn all_with_scp_array_and_scp_string() {
    let env = setup().await;
    let arr = env.scp(json!(["items:read", "items:write"]));
    assert_eq!(env.get("/write", Some(&arr)).await.0, 200);
    let arr = env.scp(json!(["items:read"]));
    assert_eq!(
        env.get("/write", Some(&arr)).await,
        (403, insufficient("items:read items:write"))
    );
    let s = env.scp(json!("items:read items:write"));
    assert_eq!(env.get("/write", Some(&s)).await.0, 200);
}

#[tokio::test]
async fn any_requires_one_scope() {
    let env = setup().await;
    assert_eq!(
        env.get("/any", Some(&env.scoped("items:admin"))).await.0,
        200
    );
    assert_eq!(
        env.get("/any", Some(&env.scoped("items:read"))).await.0,
        200
    );
    assert_eq!(
        env.get("/any", Some(&env.scp(json!(["x", "items:admin"]))))
            .await
            .0,
        200
    );
    assert_eq!(
        env.get("/any", Some(&env.scoped("items:write other")))
            .await,
        (403, insufficient("items:read items:admin"))
    );
    // Scope names are matched exactly, not by prefix.
    assert_eq!(
        env.get("/any", Some(&env.scoped("items:reader"))).await.0,
        403
    );
}

#[tokio::test]
async fn predicate_on_nested_and_custom_claims() {
    let env = setup().await;
    let admin = env
        .issuer
        .mint()
        .claim("realm_access", json!({"roles": ["user", "admin"]}))
        .sign();
    assert_eq!(env.get("/admin", Some(&admin)).await.0, 200);
    let user = env
        .issuer
        .mint()
        .claim("realm_access", json!({"roles": ["user"]}))
        .sign();
    assert_eq!(
        env.get("/admin", Some(&user)).await,
        (403, insufficient("role:admin"))
    );
    // A scope named like the role is not the role.
    assert_eq!(
        env.get("/admin", Some(&env.scoped("admin role:admin")))
            .await
            .0,
        403
    );

    let acme = env.issuer.mint().claim("tenant", json!("acme")).sign();
    assert_eq!(env.get("/acme", Some(&acme)).await.0, 200);
    let other = env.issuer.mint().claim("tenant", json!("evil")).sign();
    assert_eq!(
        env.get("/acme", Some(&other)).await,
        (403, insufficient("tenant:acme"))
    );
}

#[tokio::test]
async fn authentication_comes_before_scope() {
    let env = setup().await;
    // No token on a required route: the auth layer answers 401 before any scope check.
    assert_eq!(
        env.get("/read", None).await,
        (
            401,
            format!(r#"Bearer realm="api", resource_metadata="{RM}""#)
        )
    );
    let expired = env.issuer.mint().scope("items:read").expired().sign();
    let (status, challenge) = env.get("/read", Some(&expired)).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn optional_auth_anonymous_gets_401_at_the_scope_check() {
    let env = setup().await;
    // Anonymous passes where no scope is required...
    assert_eq!(env.get("/opt/open", None).await, (200, String::new()));
    // ...but a scope check refuses it with a plain challenge, not 500, not 200.
    assert_eq!(
        env.get("/opt/read", None).await,
        (
            401,
            format!(r#"Bearer realm="api", resource_metadata="{RM}""#)
        )
    );
    // A token, when present, must be valid and have the scope.
    assert_eq!(
        env.get("/opt/read", Some(&env.scoped("items:read")))
            .await
            .0,
        200
    );
    assert_eq!(
        env.get("/opt/read", Some(&env.scoped("other"))).await,
        (403, insufficient("items:read"))
    );
    let (status, challenge) = env.get("/opt/open", Some("not-a-jwt")).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn scope_check_without_auth_layer_fails_closed() {
    let env = setup().await;
    // Even a perfectly good token: nothing verified it, so nothing is let through.
    let token = env.scoped("items:read");
    assert_eq!(env.get("/bare", Some(&token)).await, (500, String::new()));
    assert_eq!(env.get("/bare", None).await, (500, String::new()));
}

#[tokio::test]
async fn plain_tower_service_builder() {
    let issuer = TestServer::start().await;
    let validator = support::validator(&issuer).await;
    let svc = ServiceBuilder::new()
        .layer(AuthLayer::new(validator).realm("tower"))
        .layer(RequireScopeLayer::any(["a", "b"]))
        .service_fn(|req: http::Request<String>| async move {
            let sub = req.extensions().get::<Claims>().unwrap().subject().unwrap();
            Ok::<_, std::convert::Infallible>(http::Response::new(sub.to_owned()))
        });
    let call = |token: String| {
        let svc = svc.clone();
        async move {
            let req = http::Request::builder()
                .header("authorization", format!("Bearer {token}"))
                .body(String::new())
                .unwrap();
            svc.oneshot(req).await.unwrap()
        }
    };
    let res = call(issuer.mint().sub("bob").scope("b").sign()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.body(), "bob");
    let res = call(issuer.mint().scope("c").sign()).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        res.headers()["www-authenticate"],
        r#"Bearer realm="tower", error="insufficient_scope", error_description="the token lacks the required scope", scope="a b""#
    );

    // Without the auth layer: 500, even though the request carries a token.
    let bare = ServiceBuilder::new()
        .layer(RequireScopeLayer::all(["a"]))
        .service_fn(|_req: http::Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::from("leak")))
        });
    let req = http::Request::builder()
        .header(
            "authorization",
            format!("Bearer {}", issuer.mint().scope("a").sign()),
        )
        .body(String::new())
        .unwrap();
    let res = bare.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 500);
    assert!(res.body().is_empty());
}
