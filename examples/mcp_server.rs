//! An MCP server protected as the MCP authorization spec asks, with the bundled authorization
//! server, in two modes:
//!
//! ```text
//! cargo run --example mcp_server --features axum,mcp
//! cargo run --example mcp_server --features axum,mcp -- --serve [--bind 127.0.0.1:8000]
//! ```
//!
//! - without arguments, a self-check: rmcp's own client connects with several tokens, each
//!   answer is printed and compared with the expected one, and the program exits (non-zero if
//!   any differs);
//! - with `--serve`, both servers run until Ctrl-C, and the MCP server URL (ending in `/mcp`)
//!   and the authorization server URL are printed: point any MCP client at the MCP server URL
//!   (the official TypeScript and Python SDKs, rmcp, an assistant). It finds everything else
//!   from the 401: the RFC 9728 document, the authorization server's metadata, dynamic client
//!   registration (RFC 7591), then the authorization-code flow with PKCE and the `resource`
//!   parameter (RFC 8707); the user `alice` is signed in at once, without a login form.
//!   `whoami` needs `mcp:tools`; `purge_cache` also needs `mcp:admin`, so calling it makes the
//!   client step up (403 `insufficient_scope`, a new authorization for both scopes).
//!
//! The server (`examples/shared/mcp.rs`) is an OAuth 2.1 resource server at its canonical URI
//! `http://127.0.0.1:PORT/mcp`:
//!
//! - its RFC 9728 metadata document (`/.well-known/oauth-protected-resource/mcp`) names the
//!   authorization server, and every 401 points at it with `resource_metadata="…"`;
//! - it accepts only tokens whose audience is that canonical URI (RFC 8707): the
//!   authorization server here issues its tokens for it (`TestServer::builder().audience(..)`);
//! - every request needs the scope `mcp:tools`; the `purge_cache` tool needs `mcp:admin` as
//!   well, and a call without it is answered HTTP 403 with
//!   `WWW-Authenticate: Bearer error="insufficient_scope", scope="mcp:tools mcp:admin",
//!   resource_metadata="…"`.
//!
//! Tool calls are all `POST /mcp` with a JSON-RPC body, and rmcp cannot turn a tool's error
//! into an HTTP status (the `200` is committed before the tool runs), so the per-tool check is
//! bearer-guard's `RequireMcpScopeLayer` in front of rmcp, which reads the JSON-RPC body: see
//! the docs of `examples/shared/mcp.rs`.

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use serde_json::Value;

#[path = "shared/mcp.rs"]
mod mcp;

type BoxError = Box<dyn Error + Send + Sync>;

/// An MCP server protected by bearer-guard, with the bundled authorization server.
#[derive(Parser)]
struct Args {
    /// Serve until stopped (for your own MCP client) instead of running the self-check.
    #[arg(long)]
    serve: bool,
    /// The MCP server's address in serve mode (a loopback address: the demo speaks plain
    /// HTTP); the authorization server listens on the same IP, another port.
    #[arg(long, default_value = "127.0.0.1:8000", requires = "serve")]
    bind: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let result = if args.serve {
        serve(args.bind).await.map(|()| true)
    } else {
        run().await
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("mcp_server: some answers were not as expected");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("mcp_server failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Serve mode: both servers, their URLs on stdout, until Ctrl-C.
async fn serve(bind: SocketAddr) -> Result<(), BoxError> {
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    let (server, issuer) = mcp::serve_with_authorization_server(listener).await?;
    println!("MCP server URL        {}", server.url);
    println!("authorization server  {}", issuer.issuer());
    println!("resource metadata     {}", server.metadata_url);
    println!(
        "\nPoint your MCP client at the MCP server URL: it finds the authorization server in the\n\
         401, registers itself, and the user {:?} is signed in without a login form. Tools:\n\
         `whoami` ({}) and `purge_cache` ({} {}: a step-up). Ctrl-C stops.",
        mcp::DEMO_USER,
        mcp::BASE_SCOPE,
        mcp::BASE_SCOPE,
        mcp::ADMIN_SCOPE
    );
    tokio::signal::ctrl_c().await?;
    Ok(())
}

/// Prints one outcome; `Ok(text)` for a success, `Err((status, challenge))` for an HTTP
/// challenge. Returns whether it was the expected one.
fn show(what: &str, expected: u16, outcome: &Result<String, (u16, String)>) -> bool {
    let (status, detail) = match outcome {
        Ok(text) => (200, text.clone()),
        Err((status, challenge)) => (*status, format!("WWW-Authenticate: {challenge}")),
    };
    let ok = status == expected;
    let mark = if ok { "ok " } else { "BAD" };
    println!("[{mark}] {what:<48} -> {status}\n      {detail}");
    ok
}

/// An rmcp client error as `(status, challenge)`, or the error itself if it was no HTTP
/// challenge.
fn challenged(e: &(dyn Error + 'static)) -> Result<(u16, String), BoxError> {
    mcp::http_challenge(e).ok_or_else(|| format!("unexpected error: {e}").into())
}

/// The self-check: tokens from the token endpoint, and what each gets.
async fn run() -> Result<bool, BoxError> {
    // 1. The MCP server and the authorization server, which issues tokens for the MCP
    //    server's canonical URI. Two pre-registered clients: an assistant that may ask for
    //    mcp:tools only, and an operator that may also ask for mcp:admin.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let (server, issuer) = mcp::serve_with_authorization_server(listener).await?;
    println!("authorization server  {}", issuer.issuer());
    println!("MCP server            {}", server.url);
    println!("resource metadata     {}\n", server.metadata_url);

    // 2. Tokens from the token endpoint (client credentials grant).
    let http = reqwest::Client::new();
    let token = |id: &'static str, secret: &'static str, scope: &'static str| {
        let (http, endpoint) = (http.clone(), issuer.token_endpoint());
        async move {
            let res: Value = http
                .post(endpoint)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", scope)])
                .send()
                .await?
                .json()
                .await?;
            res["access_token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| BoxError::from(format!("no access token: {res}")))
        }
    };
    let assistant = token("assistant", "assistant-secret", "mcp:tools").await?;
    let operator = token("operator", "operator-secret", "mcp:tools mcp:admin").await?;
    // A valid token of the same issuer, but for another resource.
    let elsewhere = issuer
        .mint()
        .aud("https://other.example/mcp")
        .scope("mcp:tools mcp:admin")
        .sign();

    let mut ok = true;

    // 3. No token: 401, pointing at the metadata, which names the authorization server.
    let outcome = match mcp::connect(&server.url, None).await {
        Ok(_) => Ok("connected".to_owned()),
        Err(e) => Err(challenged(&e)?),
    };
    ok &= show("connect without a token", 401, &outcome);
    if let Err((_, challenge)) = &outcome {
        let url = mcp::param(challenge, "resource_metadata").ok_or("no resource_metadata")?;
        let doc: Value = http.get(url).send().await?.json().await?;
        println!("      GET {url}\n      {doc}");
        ok &= doc["authorization_servers"][0] == issuer.issuer() && doc["resource"] == server.url;
    }

    // 4. A token for another resource: 401 invalid_token.
    let outcome = match mcp::connect(&server.url, Some(&elsewhere)).await {
        Ok(_) => Ok("connected".to_owned()),
        Err(e) => Err(challenged(&e)?),
    };
    ok &= show("connect with a token for another resource", 401, &outcome);

    // 5. The assistant (mcp:tools): lists the tools, calls the open one, not the admin one.
    let client = mcp::connect(&server.url, Some(&assistant)).await?;
    let tools: Vec<String> = client
        .list_all_tools()
        .await?
        .into_iter()
        .map(|t| t.name.into_owned())
        .collect();
    ok &= show(
        "assistant: tools/list",
        200,
        &Ok(format!("tools: {}", tools.join(", "))),
    );
    let outcome = mcp::call(&client, "whoami")
        .await
        .map_err(|e| (0, e.to_string()));
    ok &= show("assistant: tools/call whoami", 200, &outcome);
    let outcome = match mcp::call(&client, "purge_cache").await {
        Ok(text) => Ok(text),
        Err(e) => Err(challenged(&e)?),
    };
    ok &= show("assistant: tools/call purge_cache", 403, &outcome);
    client.cancel().await?;

    // 6. The operator (mcp:tools mcp:admin) may purge.
    let client = mcp::connect(&server.url, Some(&operator)).await?;
    let outcome = mcp::call(&client, "purge_cache")
        .await
        .map_err(|e| (0, e.to_string()));
    ok &= show("operator: tools/call purge_cache", 200, &outcome);
    client.cancel().await?;

    if ok {
        println!("\nall answers as expected");
    }
    Ok(ok)
}
