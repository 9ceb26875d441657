//! RFC 8707 resource indicators at the authorization and token endpoints, and RFC 9207 `iss`
//! in every authorization response.

use crate::support;

use std::collections::HashMap;

use bearer_guard_testkit::TestServer;
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::flow::{self, authorize_query, pkce, DEMO, REDIRECT};
use support::jwt::decode;

const MCP: &str = "http://127.0.0.1:8080/mcp";
const OTHER: &str = "https://other.example/api";

async fn server() -> TestServer {
    TestServer::builder()
        .resources([MCP, OTHER])
        .auto_approve("alice")
        .start()
        .await
        .unwrap()
}

/// `GET /authorize` for `demo-client` (auto-approved) with `extra` parameters: the status and
/// the query of the redirect.
async fn authorize(
    server: &TestServer,
    extra: &[(&str, &str)],
) -> (StatusCode, HashMap<String, String>) {
    authorize_query(server.issuer(), DEMO.0, REDIRECT, extra).await
}

/// A token request as `demo-client`: the status and the JSON answer.
async fn token(server: &TestServer, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let (status, body) = flow::token(server.issuer(), DEMO, form).await;
    (StatusCode::from_u16(status).unwrap(), body)
}

/// The code of an approved authorization with `extra` parameters, exchanged with `resources`.
async fn code_flow(
    server: &TestServer,
    extra: &[(&str, &str)],
    resources: &[&str],
) -> (StatusCode, Value) {
    let (status, query) = authorize(server, extra).await;
    assert_eq!(status, 302);
    let code = query["code"].clone();
    let (verifier, _) = pkce();
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier.as_str()),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    token(server, &form).await
}

fn aud(tokens: &Value) -> Value {
    decode(tokens["access_token"].as_str().unwrap()).1["aud"].clone()
}

#[tokio::test]
async fn the_token_audience_is_the_requested_resource() {
    let server = server().await;
    // Named at authorize and at token.
    let (status, tokens) = code_flow(&server, &[("resource", MCP)], &[MCP]).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(aud(&tokens), MCP);
    // Named at authorize only: the token is for the authorized resource.
    let (_, tokens) = code_flow(&server, &[("resource", MCP)], &[]).await;
    assert_eq!(aud(&tokens), MCP);
    // Named at token only.
    let (_, tokens) = code_flow(&server, &[], &[OTHER]).await;
    assert_eq!(aud(&tokens), OTHER);
    // Never named: the default audience, as before.
    let (_, tokens) = code_flow(&server, &[], &[]).await;
    assert_eq!(aud(&tokens), "api");
    // Several: all of them; the token request may pick one.
    let both = [("resource", MCP), ("resource", OTHER)];
    let (_, tokens) = code_flow(&server, &both, &[]).await;
    assert_eq!(aud(&tokens), json!([MCP, OTHER]));
    let (_, tokens) = code_flow(&server, &both, &[OTHER]).await;
    assert_eq!(aud(&tokens), OTHER);
    // client_credentials too.
    let (_, tokens) = token(
        &server,
        &[("grant_type", "client_credentials"), ("resource", MCP)],
    )
    .await;
    assert_eq!(aud(&tokens), MCP);
}

#[tokio::test]
async fn unknown_or_malformed_resources_are_invalid_target() {
    let server = server().await;
    for bad in [
        "https://unknown.example/api",
        "http://127.0.0.1:8080/mcp/",
        "http://127.0.0.1:8080/mcp#frag",
        "api",
        "",
    ] {
        // At authorize: back to the client, with state and iss.
        let (status, query) = authorize(&server, &[("resource", bad)]).await;
        assert_eq!(status, 302, "{bad}");
        assert_eq!(query["error"], "invalid_target", "{bad}");
        assert_eq!(query["state"], "st");
        assert_eq!(query["iss"], server.issuer());
        assert!(!query.contains_key("code"));
        // At the token endpoint: a JSON 400.
        let (status, body) = token(
            &server,
            &[("grant_type", "client_credentials"), ("resource", bad)],
        )
        .await;
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::BAD_REQUEST, &json!("invalid_target")),
            "{bad}"
        );
        let (status, body) = code_flow(&server, &[], &[bad]).await;
        assert_eq!(
            (status, &body["error"]),
            (StatusCode::BAD_REQUEST, &json!("invalid_target")),
            "{bad}"
        );
    }
    // One good and one bad.
    let (_, query) = authorize(
        &server,
        &[("resource", MCP), ("resource", "https://x.example/")],
    )
    .await;
    assert_eq!(query["error"], "invalid_target");
}

#[tokio::test]
async fn the_token_request_stays_within_the_authorized_resources() {
    let server = server().await;
    let (status, body) = code_flow(&server, &[("resource", MCP)], &[OTHER]).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_target");
    let (status, body) = code_flow(&server, &[("resource", MCP)], &[MCP, OTHER]).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_target"))
    );
}

#[tokio::test]
async fn refresh_keeps_the_resources_of_the_grant() {
    let server = server().await;
    let both = [("resource", MCP), ("resource", OTHER)];
    let (_, tokens) = code_flow(&server, &both, &[MCP]).await;
    assert_eq!(aud(&tokens), MCP);
    let refresh = |token: String, resource: Option<&'static str>| {
        let server = &server;
        async move {
            let mut form = vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", token.as_str()),
            ];
            form.extend(resource.map(|r| ("resource", r)));
            token_owned(server, form).await
        }
    };
    // Without resource: the grant's resources.
    let (status, next) = refresh(tokens["refresh_token"].as_str().unwrap().into(), None).await;
    assert_eq!(status, 200, "{next}");
    assert_eq!(aud(&next), json!([MCP, OTHER]));
    // One of them.
    let (_, next) = refresh(next["refresh_token"].as_str().unwrap().into(), Some(OTHER)).await;
    assert_eq!(aud(&next), OTHER);
    // Not one of them: refused, and the refresh token is still good.
    let current = next["refresh_token"].as_str().unwrap().to_owned();
    let (status, body) = refresh(current.clone(), Some("https://unknown.example/")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_target"))
    );
    let (status, _) = refresh(current, Some(MCP)).await;
    assert_eq!(status, 200);

    // A grant whose first token named a resource (none at authorize) is pinned to it.
    let (_, tokens) = code_flow(&server, &[], &[MCP]).await;
    let (status, body) = refresh(
        tokens["refresh_token"].as_str().unwrap().into(),
        Some(OTHER),
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_target"))
    );
    let (_, next) = refresh(tokens["refresh_token"].as_str().unwrap().into(), None).await;
    assert_eq!(aud(&next), MCP);
}

async fn token_owned(server: &TestServer, form: Vec<(&str, &str)>) -> (StatusCode, Value) {
    token(server, &form).await
}

#[tokio::test]
async fn without_a_resource_list_the_audience_is_the_one_resource() {
    let server = TestServer::builder().audience(MCP).start().await.unwrap();
    let (status, tokens) = token(
        &server,
        &[("grant_type", "client_credentials"), ("resource", MCP)],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(aud(&tokens), MCP);
    let (_, body) = token(
        &server,
        &[("grant_type", "client_credentials"), ("resource", OTHER)],
    )
    .await;
    assert_eq!(body["error"], "invalid_target");
    // The default audience "api" is no absolute URI: no resource is served.
    let server = TestServer::start().await;
    let (_, body) = token(
        &server,
        &[("grant_type", "client_credentials"), ("resource", "api")],
    )
    .await;
    assert_eq!(body["error"], "invalid_target");
}

#[tokio::test]
async fn resources_must_be_absolute_uris_without_fragment() {
    for bad in [
        "relative/path",
        "http://127.0.0.1/mcp#x",
        " http://127.0.0.1/mcp",
    ] {
        let err = TestServer::builder()
            .resources([bad])
            .start()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad}");
    }
}

#[tokio::test]
async fn every_authorization_response_carries_iss() {
    let server = server().await;
    let (status, query) = authorize(&server, &[]).await;
    assert_eq!(status, 302);
    assert!(query.contains_key("code"));
    assert_eq!(query["iss"], server.issuer());
    assert_eq!(query["state"], "st");
    for bad in [("scope", "nope"), ("resource", "https://unknown.example/")] {
        let (_, query) = authorize(&server, &[bad]).await;
        assert!(query.contains_key("error"), "{bad:?}");
        assert_eq!(query["iss"], server.issuer(), "{bad:?}");
    }
}
