//! Roles and scopes from nested claims (RFC 6901 JSON Pointers), as real providers put them:
//! Keycloak (`realm_access.roles`, `resource_access.<client>.roles`), Entra ID (`roles`, `scp`),
//! Auth0 (`permissions`), Okta (`scp` array, `groups`). Tokens from the test server, through
//! `AuthLayer` and `RequireScopeLayer`, in process.

use crate::support;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::Router;
use bearer_guard::{AuthLayer, JwtValidator, RequireScopeLayer, Requirement};
use bearer_guard_testkit::TestServer;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn status(app: &Router, server: &TestServer, claims: Value) -> StatusCode {
    let mut token = server.mint().remove("scope");
    for (name, value) in claims.as_object().unwrap() {
        token = token.claim(name.clone(), value.clone());
    }
    let req = Request::get("/r")
        .header(header::AUTHORIZATION, format!("Bearer {}", token.sign()))
        .body(Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap().status()
}

fn app(validator: JwtValidator, requirement: Requirement) -> Router {
    Router::new()
        .route(
            "/r",
            get(|| async { "ok" }).route_layer(RequireScopeLayer::new(requirement)),
        )
        .layer(AuthLayer::new(validator))
}

#[tokio::test]
async fn keycloak_roles_by_json_pointer() {
    let server = TestServer::start().await;
    let realm = app(
        support::validator(&server).await,
        Requirement::claim_all("/realm_access/roles", ["admin"]),
    );
    let client = app(
        support::validator(&server).await,
        Requirement::claim_any("/resource_access/my-api/roles", ["reader", "writer"]),
    );
    let token = json!({
        "realm_access": {"roles": ["admin", "user"]},
        "resource_access": {"my-api": {"roles": ["reader"]}, "other": {"roles": ["writer"]}},
    });
    assert_eq!(status(&realm, &server, token.clone()).await, 200);
    assert_eq!(status(&client, &server, token).await, 200);
    let weaker = json!({
        "realm_access": {"roles": ["user", "not admin"]},
        "resource_access": {"other": {"roles": ["writer"]}},
    });
    assert_eq!(status(&realm, &server, weaker.clone()).await, 403);
    assert_eq!(status(&client, &server, weaker).await, 403);
    assert_eq!(status(&realm, &server, json!({})).await, 403);
    assert_eq!(
        status(&realm, &server, json!({"realm_access": "admin"})).await,
        403
    );
    assert_eq!(
        status(&realm, &server, json!({"realm_access": {"roles": 7}})).await,
        403
    );
}

#[tokio::test]
async fn scope_claim_takes_a_json_pointer() {
    let server = TestServer::start().await;
    let validator = JwtValidator::builder(server.issuer())
        .audience("api")
        .scope_claim("/realm_access/roles")
        .build()
        .await
        .unwrap();
    let app = app(validator, Requirement::all(["admin"]));
    let roles = |r: Value| json!({"scope": "admin", "realm_access": {"roles": r}});
    assert_eq!(status(&app, &server, roles(json!(["admin"]))).await, 200);
    // Only the pointed-at claim counts, not `scope`.
    assert_eq!(status(&app, &server, roles(json!(["user"]))).await, 403);
}

#[tokio::test]
async fn entra_auth0_and_okta_shapes() {
    let server = TestServer::start().await;
    let v = || support::validator(&server);
    // Entra ID: delegated scopes in `scp` (a string), app roles in `roles`.
    let entra = app(v().await, Requirement::all(["Files.Read"]));
    assert_eq!(
        status(&entra, &server, json!({"scp": "Files.Read User.Read"})).await,
        200
    );
    let entra_roles = app(
        v().await,
        Requirement::claim_any("roles", ["Reports.Admin"]),
    );
    assert_eq!(
        status(&entra_roles, &server, json!({"roles": ["Reports.Admin"]})).await,
        200
    );
    assert_eq!(
        status(&entra_roles, &server, json!({"roles": ["Reports.Read"]})).await,
        403
    );
    // Auth0: RBAC permissions in `permissions`.
    let auth0 = app(
        v().await,
        Requirement::claim_all("permissions", ["read:items"]),
    );
    assert_eq!(
        status(&auth0, &server, json!({"permissions": ["read:items"]})).await,
        200
    );
    assert_eq!(
        status(&auth0, &server, json!({"scope": "read:items"})).await,
        403
    );
    // Okta: `scp` as an array, groups in `groups` (names may hold spaces: kept whole).
    let okta = app(v().await, Requirement::all(["items.read"]));
    assert_eq!(
        status(&okta, &server, json!({"scp": ["items.read"]})).await,
        200
    );
    let okta_groups = app(v().await, Requirement::claim_all("groups", ["Sales Team"]));
    assert_eq!(
        status(&okta_groups, &server, json!({"groups": ["Sales Team"]})).await,
        200
    );
    assert_eq!(
        status(&okta_groups, &server, json!({"groups": ["Sales", "Team"]})).await,
        403
    );
}
