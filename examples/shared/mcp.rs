//! An MCP server (rmcp, streamable HTTP) protected by bearer-guard the way the MCP
//! authorization spec asks, shared by `examples/mcp_server.rs` and `tests/integration/mcp.rs`; and the
//! client side: connecting with rmcp's own client and reading the HTTP challenge it hit.
//!
//! The server at `http://127.0.0.1:PORT/mcp` (its canonical URI, RFC 8707) is an OAuth 2.1
//! resource server:
//!
//! | MCP authorization spec | here |
//! |---|---|
//! | RFC 9728 protected resource metadata naming the authorization server | [`ResourceMetadata`] at `/.well-known/oauth-protected-resource/mcp`, outside the auth layer |
//! | 401 with `WWW-Authenticate: Bearer resource_metadata="…"` | [`AuthLayer`] with `metadata.challenge()` |
//! | tokens only for this server (audience = canonical URI) | [`JwtValidator`] with `audience(canonical URI)` |
//! | 403 `insufficient_scope` with `scope="…"` when an operation needs more | [`RequireMcpScopeLayer`] with [`McpRequirements`]: the base scope, and more per tool |
//!
//! # Per-tool scopes: why a layer in front of rmcp and not the tool handler
//!
//! Every MCP request is a `POST /mcp` with a JSON-RPC body, so a route layer cannot tell one
//! tool from another. A tool handler can see the verified [`Claims`] (rmcp hands it the HTTP
//! request's `http::request::Parts`, whose extensions hold what [`AuthLayer`] put there), but
//! it cannot answer with an HTTP status: rmcp has already committed the `200` (an SSE stream
//! or a JSON body) by the time a tool runs, and a tool error travels inside the JSON-RPC
//! answer. The spec wants an HTTP 403 with the scope challenge, which clients act on (rmcp's
//! client turns it into `InsufficientScopeError`). So bearer-guard's [`RequireMcpScopeLayer`]
//! runs in front of rmcp: it reads the body (at most [`MAX_BODY`] bytes), checks every
//! message in it (a JSON-RPC batch too) against the [`McpRequirements`], and answers the 403
//! itself, naming every scope the call needs, with the challenge the auth layer left in the
//! request extensions. rmcp then gets the very bytes that were checked. The tool handlers
//! check again from the claims (defence in depth; that answer can only be a JSON-RPC error).
#![allow(dead_code)] // the example and the test each use a part of the client helpers

use std::error::Error;
use std::sync::Arc;

use axum::Router;
use bearer_guard::{
    jsonrpc::BindMcpSessionLayer, jsonrpc::McpRequirements, jsonrpc::RequireMcpScopeLayer,
    AuthLayer, Claims, JwtValidator, Requirement, ResourceMetadata,
};
use bearer_guard_testkit::{Client, TestServer};
use http::request::Parts;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::model::{CallToolRequestParams, ClientConfig, ServerCapabilities, ServerConfig};
use rmcp::service::{ClientInitializeError, RunningService, ServiceError};
use rmcp::transport::streamable_http_client::{
    AuthRequiredError, InsufficientScopeError, StreamableHttpClientTransportConfig,
};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::{tool, tool_handler, tool_router, ErrorData, RoleClient, ServerHandler, ServiceExt};
use tokio::net::TcpListener;

/// Needed for every MCP request (initialize, `tools/list`, the open tool).
pub const BASE_SCOPE: &str = "mcp:tools";
/// Needed, with [`BASE_SCOPE`], for the `purge_cache` tool.
pub const ADMIN_SCOPE: &str = "mcp:admin";
/// The largest JSON-RPC body accepted (here and by rmcp): 1 MiB.
pub const MAX_BODY: usize = 1 << 20;

type BoxError = Box<dyn Error + Send + Sync>;

/// What this server's operations need: [`BASE_SCOPE`] for everything, and [`ADMIN_SCOPE`] as
/// well for the `purge_cache` tool. A refused call's challenge names both (the full set the
/// call needs, as the MCP spec recommends), so a client that asks the authorization server
/// for exactly that set keeps the base scope.
pub fn requirements() -> McpRequirements {
    McpRequirements::new()
        .base(Requirement::all([BASE_SCOPE]))
        .tool("purge_cache", Requirement::all([ADMIN_SCOPE]))
}

/// The MCP server: two tools, both reading the verified claims of the HTTP request.
#[derive(Clone)]
pub struct Tools {
    tool_router: ToolRouter<Self>,
    requirements: Arc<McpRequirements>,
}

/// The claims [`AuthLayer`] verified, from the HTTP request parts rmcp passes to tools.
fn claims_of(parts: &Parts) -> Result<&Claims, ErrorData> {
    bearer_guard::scope::claims(&parts.extensions)
        .map_err(|_| ErrorData::internal_error("no verified claims", None))
}

#[tool_router]
impl Tools {
    fn new(requirements: Arc<McpRequirements>) -> Self {
        Tools {
            tool_router: Self::tool_router(),
            requirements,
        }
    }

    #[tool(description = "Who the caller is, from the verified access token (scope mcp:tools)")]
    async fn whoami(&self, Extension(parts): Extension<Parts>) -> Result<String, ErrorData> {
        let claims = claims_of(&parts)?;
        let scopes: Vec<&str> = claims.scopes().iter().collect();
        Ok(format!(
            "subject {}, client {}, scopes {}",
            claims.subject().unwrap_or("?"),
            claims.client_id().unwrap_or("?"),
            scopes.join(" ")
        ))
    }

    #[tool(description = "Empties the server's cache (scopes mcp:tools and mcp:admin)")]
    async fn purge_cache(&self, Extension(parts): Extension<Parts>) -> Result<String, ErrorData> {
        let claims = claims_of(&parts)?;
        // Already checked in front of rmcp; checked again in case this server is ever mounted
        // without that layer.
        self.requirements
            .check_tool("purge_cache", claims)
            .map_err(|e| ErrorData::invalid_request(e.description(), None))?;
        Ok(format!(
            "cache purged by {}",
            claims.subject().unwrap_or("?")
        ))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// The canonical URI of the MCP server that will listen on `listener`.
pub fn canonical_uri(listener: &TcpListener) -> std::io::Result<String> {
    Ok(format!("http://{}/mcp", listener.local_addr()?))
}

/// The running server's addresses.
#[derive(Debug, Clone)]
pub struct McpServer {
    /// The canonical URI, `http://127.0.0.1:PORT/mcp`: the MCP endpoint and the tokens'
    /// audience.
    pub url: String,
    /// Where the RFC 9728 document is served.
    pub metadata_url: String,
}

/// Serves the protected MCP server on `listener` (until the runtime ends), accepting tokens
/// of `issuer` whose audience is the server's canonical URI.
pub async fn serve(listener: TcpListener, issuer: &str) -> Result<McpServer, BoxError> {
    let url = canonical_uri(&listener)?;
    let mut metadata = ResourceMetadata::new(&url)?;
    metadata.authorization_servers.push(issuer.to_owned());
    metadata.scopes_supported = vec![BASE_SCOPE.to_owned(), ADMIN_SCOPE.to_owned()];
    metadata.resource_name = Some("bearer-guard MCP example".to_owned());
    let validator = JwtValidator::builder(issuer).audience(&url).build().await?;

    let requirements = Arc::new(requirements());
    let mut config = StreamableHttpServerConfig::default();
    config.max_request_body_bytes = MAX_BODY;
    let tools = requirements.clone();
    let mcp = StreamableHttpService::new(
        move || Ok(Tools::new(tools.clone())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    // Inside out: rmcp, the scopes (base and per tool), the session's owner, the token. A
    // 401 names the base scope, so that a client asks for it the first time.
    let app = Router::new()
        .route_service("/mcp", mcp)
        .route_layer(RequireMcpScopeLayer::from_arc(requirements).max_body_bytes(MAX_BODY))
        .route_layer(BindMcpSessionLayer::new())
        .layer(AuthLayer::new(validator).challenge(metadata.challenge().scope(BASE_SCOPE)))
        // Outside the auth layer: the document needs no token.
        .merge(metadata.router());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(McpServer {
        metadata_url: metadata.well_known_url(),
        url,
    })
}

/// The user the demo authorization server signs in at once, without a login form.
pub const DEMO_USER: &str = "alice";

/// The MCP server on `listener` together with the bundled authorization server (on the same
/// IP address, another port), set up so that an MCP client given nothing but the MCP server's
/// URL can sign in: dynamic client registration (RFC 7591) on, tokens for the MCP server's
/// canonical URI as the RFC 8707 `resource`, [`DEMO_USER`] approved at once (the
/// authorization URL answers with the redirect, no login form), both scopes advertised, and
/// the control API on (`/_testkit/`, loopback only).
pub async fn serve_with_authorization_server(
    listener: TcpListener,
) -> Result<(McpServer, TestServer), BoxError> {
    let url = canonical_uri(&listener)?;
    let ip = listener.local_addr()?.ip();
    if !ip.is_loopback() {
        return Err(format!(
            "{ip} is not a loopback address: this demo speaks plain HTTP, which MCP clients \
             and this crate accept on loopback only"
        )
        .into());
    }
    let issuer = TestServer::builder()
        .bind((ip, 0).into())
        .clear_clients()
        .audience(&url)
        .resources([url.as_str()])
        .dynamic_registration(true)
        .auto_approve(DEMO_USER)
        .control_api(true)
        // Pre-registered clients, for the client-credentials grant; their scopes are the
        // ones the server advertises (registered clients may ask for any of them).
        .client(Client::new("assistant", "assistant-secret").scopes([BASE_SCOPE]))
        .client(Client::new("operator", "operator-secret").scopes([BASE_SCOPE, ADMIN_SCOPE]))
        .start()
        .await?;
    let server = serve(listener, issuer.issuer()).await?;
    Ok((server, issuer))
}

/// An rmcp client session.
pub type McpClient = RunningService<RoleClient, ClientConfig>;

/// Connects to the MCP server at `url` with rmcp's streamable HTTP client, sending
/// `Authorization: Bearer {token}` if a token is given, and initializes the session.
pub async fn connect(url: &str, token: Option<&str>) -> Result<McpClient, ClientInitializeError> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url);
    if let Some(token) = token {
        config = config.auth_header(token);
    }
    let transport = StreamableHttpClientTransport::from_config(config);
    ClientConfig::default().serve(transport).await
}

/// The HTTP status (401 or 403) and `WWW-Authenticate` value behind an rmcp client error,
/// if an authorization challenge is why it failed: rmcp's client reports a 401 as
/// [`AuthRequiredError`] and a 403 as [`InsufficientScopeError`].
pub fn http_challenge(error: &(dyn Error + 'static)) -> Option<(u16, String)> {
    if let Some(init) = error.downcast_ref::<ClientInitializeError>() {
        // Its transport error is a field, not a `source`.
        return match init {
            ClientInitializeError::TransportError { error, .. } => {
                http_challenge(error.error.as_ref())
            }
            ClientInitializeError::LegacyFallbackFailed { discover, fallback } => {
                http_challenge(fallback.as_ref()).or_else(|| http_challenge(discover.as_ref()))
            }
            _ => None,
        };
    }
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(e) = e.downcast_ref::<AuthRequiredError>() {
            return Some((401, e.www_authenticate_header.clone()));
        }
        if let Some(e) = e.downcast_ref::<InsufficientScopeError>() {
            return Some((403, e.www_authenticate_header.clone()));
        }
        current = e.source();
    }
    None
}

/// Calls tool `name` without arguments; returns the text it answered.
pub async fn call(client: &McpClient, name: &str) -> Result<String, ServiceError> {
    let result = client
        .call_tool(CallToolRequestParams::new(name.to_owned()))
        .await?;
    let texts: Vec<&str> = result
        .content
        .iter()
        .filter_map(|c| c.as_text())
        .map(|t| t.text.as_str())
        .collect();
    Ok(texts.join("\n"))
}

/// The value of parameter `name` in a `WWW-Authenticate` challenge (values without escapes).
pub fn param<'a>(challenge: &'a str, name: &str) -> Option<&'a str> {
    let start = challenge.find(&format!(" {name}=\""))? + name.len() + 3;
    let len = challenge[start..].find('"')?;
    Some(&challenge[start..start + len])
}
