//! Signing in as the official MCP clients do, given nothing but the MCP server's URL, against
//! the example's serve mode (`mcp::serve_with_authorization_server`): the TypeScript SDK (a
//! Node.js script, `tests/interop/mcp/client.mjs`), the Python SDK (a Python script,
//! `tests/interop/mcp-python/client.py`) and rmcp's OAuth client. Each finds the RFC 9728
//! document from the 401, the authorization server's metadata from it, registers itself
//! (RFC 7591), runs the authorization-code flow with PKCE and the RFC 8707 `resource`, calls
//! the open tool, and steps up for the tool that needs more scope. And a session hijack:
//! another principal's valid token with the first one's session id.

use std::process::Stdio;
use std::time::Duration;

use rmcp::model::ClientConfig;
use rmcp::transport::auth::{AuthClient, AuthorizationCallback, AuthorizationRequest, OAuthState};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::Value;

use super::example::{self as mcp, call, ADMIN_SCOPE, BASE_SCOPE, DEMO_USER};

/// Where the clients say they want to be sent back; never listened on: the tests follow the
/// authorization URL themselves and read the code from the redirect.
const REDIRECT: &str = "http://127.0.0.1:9/callback";

/// The demo: both servers, as `cargo run --example mcp_server -- --serve` starts them.
async fn demo() -> (mcp::McpServer, bearer_guard_testkit::TestServer) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    mcp::serve_with_authorization_server(listener)
        .await
        .unwrap()
}

/// Plays the user's browser: follows an authorization URL (the demo approves at once) and
/// returns the redirect it answers with.
async fn follow(authorization_url: &str) -> String {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = http.get(authorization_url).send().await.unwrap();
    assert_eq!(res.status(), 302, "{:?}", res.text().await);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    location
}

/// Runs an SDK's client script (`client.mjs`, `client.py`) against a new demo with the open
/// tool, the one that needs more scope and then `more` arguments, and checks the steps it
/// printed (one JSON object a line): one registration as a public client; two authorizations,
/// both with PKCE and the MCP server as the RFC 8707 `resource`, the first for the 401's scope
/// and the step-up for both scopes (the 403's); both tools answering as the demo user. Returns
/// the steps.
async fn signs_in(mut script: tokio::process::Command, more: &[&str]) -> Vec<Value> {
    let (server, issuer) = demo().await;
    let run = script
        .args([&server.url, "whoami", "purge_cache"])
        .args(more)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("the SDK client did not finish in 2 minutes")
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the SDK client failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let steps: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a step: {l}")))
        .collect();
    let named =
        |name: &str| -> Vec<&Value> { steps.iter().filter(|s| s["step"] == name).collect() };
    // It registered itself, as a public client.
    let registered = named("registered");
    assert_eq!(registered.len(), 1, "{stdout}");
    assert_eq!(registered[0]["auth_method"], "none");
    assert_eq!(issuer.registered_clients().len(), 1);
    // Two authorizations: the first for the scope of the 401, the step-up for the scope of
    // the 403; both with PKCE and the MCP server as the resource.
    let authorizations = named("authorize");
    assert_eq!(authorizations.len(), 2, "{stdout}");
    for a in &authorizations {
        assert_eq!(a["resource"], server.url.as_str(), "{stdout}");
        assert_eq!(a["code_challenge_method"], "S256");
    }
    assert_eq!(authorizations[0]["scope"], BASE_SCOPE);
    let step_up: Vec<&str> = authorizations[1]["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .collect();
    assert!(
        step_up.contains(&BASE_SCOPE) && step_up.contains(&ADMIN_SCOPE),
        "{stdout}"
    );
    // Both tools answered, as the demo user.
    let called = named("called");
    assert_eq!(called.len(), 2, "{stdout}");
    assert!(called[0]["text"].as_str().unwrap().contains(DEMO_USER));
    assert_eq!(
        called[1]["text"],
        format!("cache purged by {DEMO_USER}").as_str()
    );
    assert_eq!(steps.last().unwrap()["step"], "done");
    steps
}

#[tokio::test(flavor = "multi_thread")]
async fn the_typescript_sdk_signs_in_with_nothing_but_the_url() {
    let Some(dir) = super::support::node::project(
        "the_typescript_sdk_signs_in_with_nothing_but_the_url",
        "mcp",
        &["client.mjs"],
        "@modelcontextprotocol/sdk",
    ) else {
        return;
    };
    let mut node = tokio::process::Command::new("node");
    node.arg("client.mjs").current_dir(&dir);
    signs_in(node, &[]).await;
}

/// The Python SDK (PyPI `mcp`, pinned in `tests/interop/mcp-python/requirements.txt`), whose
/// `OAuthClientProvider` steps up by itself: on the 403 it authorizes again and retries the
/// refused request. Twice: as the SDK connects by default (`mode="auto"`: it probes
/// `server/discover` and takes the protocol era the server answers with), and with the
/// `initialize` handshake of the earlier protocol versions (`mode="legacy"`), whose session
/// the step-up token must keep.
#[tokio::test(flavor = "multi_thread")]
async fn the_python_sdk_signs_in_with_nothing_but_the_url() {
    let Some(project) = super::support::python::project(
        "the_python_sdk_signs_in_with_nothing_but_the_url",
        "mcp-python",
        &["client.py"],
    ) else {
        return;
    };
    let client = || {
        let mut python = tokio::process::Command::new(&project.python);
        python.arg("client.py").current_dir(&project.dir);
        python
    };
    signs_in(client(), &[]).await;
    let steps = signs_in(client(), &["legacy"]).await;
    let connected = steps.iter().find(|s| s["step"] == "connected").unwrap();
    assert_eq!(connected["session"], "yes", "{steps:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rmcps_oauth_client_signs_in_with_nothing_but_the_url() {
    let (server, issuer) = demo().await;
    // What the client learns first: the 401 of an unauthenticated request.
    let res = reqwest::Client::new()
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();

    // Discovery, registration and the authorization URL: rmcp's OAuth client.
    let mut oauth = OAuthState::new(server.url.as_str(), None).await.unwrap();
    oauth
        .start_authorization(
            AuthorizationRequest::new(REDIRECT)
                .with_client_name("bearer-guard interop (rmcp)")
                .with_challenge(challenge)
                // The scope of the challenge, as the MCP spec's scope selection says (by
                // default rmcp asks for every scope the resource advertises).
                .with_initial_scope_selection(),
        )
        .await
        .unwrap();
    let url = oauth.get_authorization_url().await.unwrap();
    let parsed = url::Url::parse(&url).unwrap();
    let query = |name: &str| {
        parsed
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(query("resource").as_deref(), Some(server.url.as_str()));
    assert_eq!(query("scope").as_deref(), Some(BASE_SCOPE));
    assert_eq!(query("code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(issuer.registered_clients().len(), 1, "registered itself");
    oauth
        .handle_callback_url(&follow(&url).await)
        .await
        .unwrap();
    let manager = oauth.into_authorization_manager().unwrap();

    let auth = AuthClient::new(reqwest::Client::new(), manager);
    let transport = StreamableHttpClientTransport::with_client(
        auth.clone(),
        StreamableHttpClientTransportConfig::with_uri(server.url.as_str()),
    );
    let client = ClientConfig::default().serve(transport).await.unwrap();
    let whoami = call(&client, "whoami").await.unwrap();
    assert!(whoami.contains(DEMO_USER), "{whoami}");

    // The tool that needs more: 403 with the full scope set, a new authorization for it.
    let refused = call(&client, "purge_cache").await.unwrap_err();
    let (status, header) = mcp::http_challenge(&refused).expect("a 403 challenge");
    assert_eq!(status, 403);
    let needed = mcp::param(&header, "scope").unwrap().to_owned();
    assert_eq!(needed, format!("{BASE_SCOPE} {ADMIN_SCOPE}"));
    let upgrade_url = auth
        .auth_manager
        .lock()
        .await
        .request_scope_upgrade(&needed)
        .await
        .unwrap();
    let callback = AuthorizationCallback::from_redirect_url(&follow(&upgrade_url).await).unwrap();
    auth.auth_manager
        .lock()
        .await
        .exchange_code_for_token_with_issuer(
            &callback.code,
            &callback.csrf_token,
            callback.issuer.as_deref(),
        )
        .await
        .unwrap();
    let purged = call(&client, "purge_cache").await.unwrap();
    assert_eq!(purged, format!("cache purged by {DEMO_USER}"));
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_answers_only_the_principal_that_opened_it() {
    let (server, issuer) = demo().await;
    let token = |sub: &str| issuer.mint().sub(sub).scope(BASE_SCOPE).sign();
    let (alice, bob) = (token("alice"), token("bob"));
    let http = reqwest::Client::new();
    let post = |token: &str, session: Option<&str>, body: &'static str| {
        let mut req = http
            .post(&server.url)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(body);
        if let Some(id) = session {
            req = req.header("mcp-session-id", id);
        }
        req.send()
    };
    let opened = post(
        &alice,
        None,
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#,
    )
    .await
    .unwrap();
    assert_eq!(opened.status(), 200);
    let id = opened.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    // Bob's token is valid, but the session is Alice's: refused, as if it did not exist.
    let hijack = post(&bob, Some(&id), INITIALIZED).await.unwrap();
    assert_eq!(hijack.status(), 404);
    // Alice carries on.
    let own = post(&alice, Some(&id), INITIALIZED).await.unwrap();
    assert_eq!(own.status(), 202);
}
