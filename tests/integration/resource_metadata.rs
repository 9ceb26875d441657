//! RFC 9728 protected resource metadata served next to a protected API over loopback HTTP:
//! the document is public, and every 401 of the API points at it.

use crate::support;

use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{AuthLayer, Claims, ResourceMetadata};
use bearer_guard_testkit::TestServer;
use support::{bind, call, serve_on};

struct Setup {
    server: TestServer,
    base: String,
    metadata_url: String,
    metadata: ResourceMetadata,
}

/// A protected `/mcp` route behind `AuthLayer` with the metadata challenge, and the metadata
/// document merged outside the layer.
async fn setup() -> Setup {
    let server = TestServer::start().await;
    let (listener, base) = bind().await;
    let mut metadata = ResourceMetadata::new(format!("{base}/mcp")).unwrap();
    metadata
        .authorization_servers
        .push(server.issuer().to_owned());
    metadata.scopes_supported = vec!["read".to_owned(), "write".to_owned()];
    metadata.resource_name = Some("Test MCP server".to_owned());
    metadata.resource_documentation = Some("https://docs.example/mcp".to_owned());
    let validator = support::validator(&server).await;
    let app = Router::new()
        .route(
            "/mcp",
            get(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(AuthLayer::new(validator).challenge(metadata.challenge().realm("test")))
        .merge(metadata.router());
    serve_on(listener, app);
    Setup {
        metadata_url: format!("{base}/.well-known/oauth-protected-resource/mcp"),
        server,
        base,
        metadata,
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_token() {
    let s = setup().await;
    assert_eq!(s.metadata.well_known_url(), s.metadata_url);
    let res = reqwest::get(&s.metadata_url).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body = res.text().await.unwrap();
    assert_eq!(
        body,
        format!(
            concat!(
                r#"{{"resource":"{base}/mcp","authorization_servers":["{issuer}"],"#,
                r#""scopes_supported":["read","write"],"bearer_methods_supported":["header"],"#,
                r#""resource_name":"Test MCP server","resource_documentation":"https://docs.example/mcp"}}"#
            ),
            base = s.base,
            issuer = s.server.issuer()
        )
    );
    // A token, even a bad one, changes nothing: the document is outside the layer.
    let (status, challenge, again) = call(&s.metadata_url, "garbage").await;
    assert_eq!(
        (status, challenge.as_str(), again.as_str()),
        (200, "", body.as_str())
    );
    // Only GET and HEAD.
    let res = reqwest::Client::new()
        .post(&s.metadata_url)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
}

#[tokio::test]
async fn every_401_points_at_the_document() {
    let s = setup().await;
    let url = format!("{}/mcp", s.base);
    let res = reqwest::get(&url).await.unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()["www-authenticate"],
        format!(
            r#"Bearer realm="test", resource_metadata="{}""#,
            s.metadata_url
        )
        .as_str()
    );
    let (status, challenge, _) = call(&url, &s.server.mint().expired().sign()).await;
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        format!(
            r#"Bearer realm="test", error="invalid_token", error_description="the token has expired", resource_metadata="{}""#,
            s.metadata_url
        )
    );
    let (status, _, body) = call(&url, &s.server.mint().sub("alice").sign()).await;
    assert_eq!(status, 200, "{body}");
}
