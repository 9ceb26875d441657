//! [`RequestError`]: why a request was refused before its token mattered, one fixed text per
//! reason.

super::fixed_texts! {
/// Why a request was refused for what it carries rather than for its token: the body that a
/// per-method check (`jsonrpc::RequireMcpScope`, feature `mcp`) must read, or a session that
/// is not the caller's (`jsonrpc::BindMcpSession`).
/// Answered without a `WWW-Authenticate` challenge: a new token would not help.
///
/// ```
/// use bearer_guard::error::RequestError;
/// assert_eq!(RequestError::BodyTooLarge.status(), 413);
/// assert_eq!(RequestError::NotJson.status(), 400);
/// assert_eq!(RequestError::UnknownSession.status(), 404);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is larger than the configured limit (by its `Content-Length` or as read). 413.
    BodyTooLarge => (PAYLOAD_TOO_LARGE, None) "the request body is too large",
    /// The body could not be read to its end. 400.
    BodyUnreadable => (BAD_REQUEST, None) "the request body could not be read",
    /// The body is not JSON (or not UTF-8). 400.
    NotJson => (BAD_REQUEST, None) "the request body is not JSON",
    /// The body is JSON but not a JSON-RPC message or batch: not an object or array, a
    /// request without a string `method`, or a call without the string parameter its
    /// method is checked by (`tools/call` and `prompts/get` `name`, `resources/read` `uri`).
    /// 400.
    NotJsonRpc => (BAD_REQUEST, None) "the request body is not a JSON-RPC message",
    /// The body is an empty JSON-RPC batch (`[]`). 400.
    EmptyBatch => (BAD_REQUEST, None) "the JSON-RPC batch is empty",
    /// A JSON object of the body has the same member twice (two readers could see two
    /// different methods or tools). 400.
    DuplicateMember => (BAD_REQUEST, None) "the request body has a duplicate JSON member",
    /// The `Mcp-Session-Id` names a session of another principal: answered like a session
    /// that does not exist. 404.
    UnknownSession => (NOT_FOUND, None) "the MCP session does not exist",
}
}
