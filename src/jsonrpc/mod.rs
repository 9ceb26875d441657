//! MCP servers (feature `mcp`): requirements per JSON-RPC method, tool, prompt and resource,
//! read from the request body; and MCP sessions bound to the principal that opened them.
//!
//! Every MCP request is a `POST` of a JSON-RPC body to one endpoint, so a route layer
//! ([`RequireScopeLayer`](crate::RequireScopeLayer)) cannot tell one tool from another, and a
//! tool handler cannot answer with an HTTP status (the MCP server has committed its `200` by
//! the time a tool runs). The MCP authorization spec wants an HTTP 403 with the scope
//! challenge, which MCP clients act on (they step up: ask the authorization server for the
//! scopes named). [`RequireMcpScopeLayer`] gives it: put it *inside* [`AuthLayer`](crate::AuthLayer),
//! in front of the MCP server.
//!
//! # What it checks
//!
//! * A `POST` body is read up to a limit ([`DEFAULT_MAX_BODY`], 1 MiB, set with
//!   [`max_body_bytes`](RequireMcpScopeLayer::max_body_bytes)). A `Content-Length` over the limit is
//!   refused before anything is read; a body that grows past it while read, too.
//! * The body is parsed once — one JSON-RPC message or a batch — refusing duplicate JSON
//!   members at every depth. Requests and notifications must have a string `method`;
//!   responses (an `id` with `result` or `error`, which clients post to answer the server's
//!   own requests) carry no method and need the base requirement only.
//! * Each message needs the [`McpRequirements`] base, its method's requirement, and that of
//!   the tool (`tools/call` `params.name`), prompt (`prompts/get` `params.name`) or resource
//!   (`resources/read` `params.uri`) it names. A batch needs everything all its messages need.
//!   A checked call without its string parameter is not JSON-RPC the server could run: refused.
//! * The inner service receives exactly the bytes that were checked (rebuilt into the same
//!   body type), so no difference between two parsers can slip a call past the check.
//! * `GET` (the SSE stream) and `DELETE` (end of a session) have no JSON-RPC body: they need
//!   the base requirement only. So does every other method.
//!
//! # Answers
//!
//! Built by the layer's [`ErrorHandler`](crate::error::ErrorHandler) with the
//! [`Challenge`](crate::error::Challenge) the auth layer left in the extensions, like those of
//! [`RequireScopeLayer`](crate::RequireScopeLayer):
//!
//! | situation | error |
//! |---|---|
//! | a scope missing | [`AuthError::InsufficientScope`](crate::AuthError::InsufficientScope), naming the base and specific scopes together |
//! | step-up needed ([`Requirement::acr`](crate::Requirement::acr), [`max_age`](crate::Requirement::max_age)) | [`AuthError::InsufficientUserAuthentication`](crate::AuthError::InsufficientUserAuthentication) |
//! | body over the limit; not JSON, not JSON-RPC, empty batch, duplicate member, unreadable | [`RequestError`](crate::error::RequestError) |
//! | no claims (anonymous, or no auth layer) | as [`scope::claims`](crate::scope::claims) |
//!
//! Each error's status and challenge are in the table of [`error`](crate::error).
//!
//! The refusals of the body carry no challenge (a new token would not help) and, with the
//! [`DefaultErrorHandler`](crate::error::DefaultErrorHandler), an empty body, like every answer of
//! this crate; an error handler can write a JSON-RPC error body from the error's fixed
//! [`description`](crate::AuthError::description). Nothing that was refused reaches the
//! inner service.
//!
//! ```
//! use bearer_guard::{Claims, jsonrpc::McpRequirements, jsonrpc::RequireMcpScopeLayer, Requirement};
//! use bytes::Bytes;
//! use http::{Request, Response, StatusCode};
//! use http_body_util::{BodyExt, Full};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
//! let mcp = RequireMcpScopeLayer::new(
//!     McpRequirements::new()
//!         .base(Requirement::all(["mcp:tools"]))
//!         .tool("purge_cache", Requirement::all(["mcp:admin"])),
//! )
//! .layer(service_fn(|req: Request<Full<Bytes>>| async move {
//!     // The MCP server would run the call; this one echoes what it received.
//!     let body = req.into_body().collect().await?.to_bytes();
//!     Ok::<_, std::convert::Infallible>(Response::new(Full::new(body)))
//! }));
//!
//! // AuthLayer puts the verified claims into the extensions; here they are put by hand.
//! let post = |body: &'static str| {
//!     let mut req = Request::post("/mcp").body(Full::from(body)).unwrap();
//!     let claims = serde_json::json!({"sub": "alice", "scope": "mcp:tools"});
//!     req.extensions_mut().insert(Claims::from_value(claims).unwrap());
//!     req
//! };
//!
//! let whoami = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}"#;
//! let ok = mcp.clone().oneshot(post(whoami)).await?;
//! assert_eq!(ok.status(), StatusCode::OK);
//! assert_eq!(ok.into_body().collect().await?.to_bytes(), whoami);
//!
//! let purge = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"purge_cache"}}"#;
//! let refused = mcp.clone().oneshot(post(purge)).await?;
//! assert_eq!(refused.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     refused.headers()["www-authenticate"],
//!     r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="mcp:tools mcp:admin""#
//! );
//!
//! assert_eq!(mcp.oneshot(post("{not json")).await?.status(), StatusCode::BAD_REQUEST);
//! # Ok(()) }
//! ```
//!
//! With axum, the layer goes on the MCP route, inside the auth layer:
//!
//! ```no_run
//! # async fn demo(validator: bearer_guard::JwtValidator, mcp: axum::routing::MethodRouter) {
//! use axum::Router;
//! use bearer_guard::{AuthLayer, jsonrpc::BindMcpSessionLayer, jsonrpc::McpRequirements, jsonrpc::RequireMcpScopeLayer, Requirement, ResourceMetadata};
//!
//! let mut metadata = ResourceMetadata::new("https://mcp.example/mcp").unwrap();
//! metadata.authorization_servers.push("https://issuer.example".into());
//! metadata.scopes_supported = vec!["mcp:tools".into(), "mcp:admin".into()];
//! let requirements = McpRequirements::new()
//!     .base(Requirement::all(["mcp:tools"]))
//!     .tool("purge_cache", Requirement::all(["mcp:admin"]));
//! let app: Router = Router::new()
//!     .route("/mcp", mcp) // e.g. rmcp's StreamableHttpService
//!     .route_layer(RequireMcpScopeLayer::new(requirements))
//!     .route_layer(BindMcpSessionLayer::new())
//!     .layer(AuthLayer::new(validator).challenge(metadata.challenge().scope("mcp:tools")))
//!     .merge(metadata.router());
//! # }
//! ```
//!
//! # Sessions bound to their principal
//!
//! An MCP server over streamable HTTP names a session in the `Mcp-Session-Id` header of its
//! answer to `initialize`; the client sends it with every later request. The session id is
//! not a credential: every request still carries its token, and [`BindMcpSessionLayer`]
//! (inside [`AuthLayer`](crate::AuthLayer)) makes sure it is a token of the same principal
//! that opened the session:
//!
//! * A successful answer that names a session records it under the request's principal: the
//!   token's `iss` and `sub` (its `client_id` when it has no `sub`). A session opened
//!   anonymously (optional auth layer) is not recorded.
//! * A request naming a session recorded under another principal (or sent anonymously) is
//!   answered **404**, [`RequestError::UnknownSession`](crate::error::RequestError::UnknownSession),
//!   without reaching the MCP server: what the MCP spec says a server answers for a session
//!   it does not know, so that the client starts a new session of its own, and nothing
//!   tells the caller that the session exists. A 403 challenge would send the client to the
//!   authorization server for a token that could not help.
//! * A session id that is not recorded passes: the MCP server answers it (404 if it does not
//!   know it either).
//! * A successful `DELETE` by the session's owner forgets the record.
//! * Records are kept in a bounded cache ([`capacity`](BindMcpSessionLayer::capacity),
//!   least recently used first out) and forgotten after an idle time
//!   ([`idle_timeout`](BindMcpSessionLayer::idle_timeout)); size both at least as large as
//!   the MCP server's own session limits, since a forgotten session is no longer bound. The
//!   record lives in this process: behind a load balancer, keep each session on one instance
//!   (as MCP servers that keep sessions in memory need anyway).
//!
//! # No token passthrough
//!
//! The MCP authorization spec forbids an MCP server to pass the client's token on to the APIs
//! it calls: the token's audience is this server (check it with
//! [`audience`](crate::jwt::JwtValidatorBuilder::audience) set to the server's canonical URI),
//! and an upstream API that accepted it would be trusting a token not meant for it (a
//! confused deputy). When a tool calls another API, it uses a token of its own for that API
//! (client credentials, or a token exchange), never the `Authorization` header it received.
//! Nothing in this module forwards a token.

mod body;
pub mod future;
mod layer;
pub(crate) mod peek;
mod requirements;
mod service;
mod session;

pub use body::DEFAULT_MAX_BODY;
pub use layer::RequireMcpScopeLayer;
pub use peek::{PROMPTS_GET, RESOURCES_READ, TOOLS_CALL};
pub use requirements::McpRequirements;
pub use service::RequireMcpScope;
pub use session::{
    BindMcpSession, BindMcpSessionLayer, SessionFuture, DEFAULT_SESSION_CAPACITY,
    DEFAULT_SESSION_IDLE, MCP_SESSION_ID,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[cfg(test)]
mod tests;
