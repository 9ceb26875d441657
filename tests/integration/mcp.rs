//! An MCP server (rmcp, streamable HTTP) behind bearer-guard, called over loopback with rmcp's
//! own client, against the MCP authorization spec: 401 pointing at RFC 9728 metadata that
//! names the authorization server, audience bound to the server's canonical URI, and the 403
//! scope challenge for a tool that needs more. The server is the one of
//! `examples/mcp_server.rs` (`examples/shared/mcp.rs`).

#[path = "../../examples/shared/mcp.rs"]
mod example;
mod sign_in;
use crate::support;

use bearer_guard_testkit::TestServer;
use example::{call, connect, http_challenge, param, McpServer, ADMIN_SCOPE, BASE_SCOPE};
use rmcp::transport::streamable_http_client::InsufficientScopeError;
use serde_json::{json, Value};

/// The authorization server (issuing tokens for the MCP server's canonical URI) and the MCP
/// server.
async fn setup() -> (TestServer, McpServer) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = example::canonical_uri(&listener).unwrap();
    let issuer = TestServer::builder().audience(url).start().await.unwrap();
    let server = example::serve(listener, issuer.issuer()).await.unwrap();
    (issuer, server)
}

/// A token of `issuer` for the MCP server (the default audience) with `scope`.
fn token(issuer: &TestServer, scope: &str) -> String {
    issuer.mint().sub("alice").scope(scope).sign()
}

/// The HTTP status and challenge an rmcp client error came from.
fn challenge_of(error: &(dyn std::error::Error + 'static)) -> (u16, String) {
    http_challenge(error).unwrap_or_else(|| panic!("no HTTP challenge behind: {error}"))
}

#[tokio::test]
async fn without_a_token_401_points_at_metadata_naming_the_authorization_server() {
    let (issuer, server) = setup().await;
    let Err(error) = connect(&server.url, None).await else {
        panic!("connected without a token");
    };
    let (status, challenge) = challenge_of(&error);
    assert_eq!(status, 401);
    assert_eq!(
        challenge,
        format!(
            r#"Bearer scope="{BASE_SCOPE}", resource_metadata="{}""#,
            server.metadata_url
        )
    );
    assert_eq!(
        server.metadata_url,
        server
            .url
            .replace("/mcp", "/.well-known/oauth-protected-resource/mcp")
    );

    // The document, fetched from where the challenge points, without a token.
    let url = param(&challenge, "resource_metadata").unwrap();
    let res = reqwest::get(url).await.unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["resource"], server.url.as_str());
    assert_eq!(doc["authorization_servers"], json!([issuer.issuer()]));
    assert_eq!(doc["scopes_supported"], json!([BASE_SCOPE, ADMIN_SCOPE]));
}

#[tokio::test]
async fn a_token_for_another_resource_is_invalid() {
    let (issuer, server) = setup().await;
    // Same issuer, same keys, all scopes; the audience is another MCP server's canonical URI.
    for aud in ["http://127.0.0.1:1/mcp", "api"] {
        let other = issuer
            .mint()
            .aud(aud)
            .scope(format!("{BASE_SCOPE} {ADMIN_SCOPE}"))
            .sign();
        let Err(error) = connect(&server.url, Some(&other)).await else {
            panic!("connected with a token for {aud}");
        };
        let (status, challenge) = challenge_of(&error);
        assert_eq!(status, 401, "{aud}");
        assert_eq!(
            challenge,
            format!(
                r#"Bearer error="invalid_token", error_description="the token audience is not accepted", scope="{BASE_SCOPE}", resource_metadata="{}""#,
                server.metadata_url
            )
        );
    }
    // An expired token for the right audience: 401 invalid_token too.
    let expired = issuer.mint().scope(BASE_SCOPE).expired().sign();
    let Err(error) = connect(&server.url, Some(&expired)).await else {
        panic!("connected with an expired token");
    };
    let (status, challenge) = challenge_of(&error);
    assert_eq!(
        (status, param(&challenge, "error")),
        (401, Some("invalid_token"))
    );
}

#[tokio::test]
async fn the_base_scope_lists_the_tools_and_calls_the_open_one() {
    let (issuer, server) = setup().await;
    let client = connect(&server.url, Some(&token(&issuer, BASE_SCOPE)))
        .await
        .unwrap();
    let mut tools: Vec<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.into_owned())
        .collect();
    tools.sort();
    assert_eq!(tools, ["purge_cache", "whoami"]);
    // The tool sees the verified claims of the HTTP request.
    assert_eq!(
        call(&client, "whoami").await.unwrap(),
        "subject alice, client demo-client, scopes mcp:tools"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_tool_needing_more_gets_the_403_scope_challenge() {
    let (issuer, server) = setup().await;
    let client = connect(&server.url, Some(&token(&issuer, BASE_SCOPE)))
        .await
        .unwrap();
    let error = call(&client, "purge_cache").await.unwrap_err();
    let (status, challenge) = challenge_of(&error);
    assert_eq!(status, 403);
    assert_eq!(
        challenge,
        format!(
            r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="mcp:tools mcp:admin", resource_metadata="{}""#,
            server.metadata_url
        )
    );
    // rmcp's client read the scope to ask for (its scope step-up input).
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    let mut required = None;
    while let Some(e) = source {
        if let Some(e) = e.downcast_ref::<InsufficientScopeError>() {
            required = e.get_required_scope().map(str::to_owned);
        }
        source = e.source();
    }
    assert_eq!(required.as_deref(), Some("mcp:tools mcp:admin"));
    // The refusal costs nothing else: the open tool still answers on the same session.
    assert!(call(&client, "whoami").await.is_ok());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn both_scopes_call_the_admin_tool() {
    let (issuer, server) = setup().await;
    let client = connect(
        &server.url,
        Some(&token(&issuer, &format!("{BASE_SCOPE} {ADMIN_SCOPE}"))),
    )
    .await
    .unwrap();
    assert_eq!(
        call(&client, "purge_cache").await.unwrap(),
        "cache purged by alice"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn without_the_base_scope_nothing_is_served() {
    let (issuer, server) = setup().await;
    // mcp:admin alone is not enough either.
    for scope in ["read write", ADMIN_SCOPE] {
        let Err(error) = connect(&server.url, Some(&token(&issuer, scope))).await else {
            panic!("connected with scope {scope}");
        };
        let (status, challenge) = challenge_of(&error);
        assert_eq!(status, 403, "{scope}");
        assert_eq!(param(&challenge, "error"), Some("insufficient_scope"));
        assert_eq!(param(&challenge, "scope"), Some(BASE_SCOPE));
        assert_eq!(
            param(&challenge, "resource_metadata"),
            Some(server.metadata_url.as_str())
        );
    }
}

/// The per-tool check reads raw JSON-RPC: batches are checked call by call, and what it
/// cannot read is refused rather than passed on.
#[tokio::test]
async fn the_tool_check_fails_closed_on_raw_requests() {
    let (issuer, server) = setup().await;
    let base = token(&issuer, BASE_SCOPE);
    let post = |body: Vec<u8>| {
        reqwest::Client::new()
            .post(&server.url)
            .bearer_auth(&base)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body)
            .send()
    };
    let call = |id: u32, name: &str| json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name}});
    // A batch hiding the admin call behind an open one.
    let batch = json!([call(1, "whoami"), call(2, "purge_cache")]);
    let res = post(serde_json::to_vec(&batch).unwrap()).await.unwrap();
    assert_eq!(res.status(), 403);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap();
    assert_eq!(param(challenge, "scope"), Some("mcp:tools mcp:admin"));
    // Not JSON: 400, never handed on.
    assert_eq!(
        post(b"{\"method\": \"tools/call\"".to_vec())
            .await
            .unwrap()
            .status(),
        400
    );
    // Over the size limit: 413.
    let mut big = serde_json::to_vec(&call(3, "whoami")).unwrap();
    big.resize(example::MAX_BODY + 1, b' ');
    assert_eq!(post(big).await.unwrap().status(), 413);
}
