//! [`McpRequirements`]: which [`Requirement`] each JSON-RPC method, tool, prompt and resource
//! needs, on top of a base requirement for every request.

use std::collections::HashMap;

use super::peek::{self, Message, Target};
use crate::{AuthError, Claims, Requirement};

/// The requirements of an MCP server's operations: a [`base`](McpRequirements::base) for
/// every request, and more for a JSON-RPC [`method`](McpRequirements::method), a
/// [`tool`](McpRequirements::tool) (`tools/call` by `params.name`), a
/// [`prompt`](McpRequirements::prompt) (`prompts/get` by `params.name`) or a
/// [`resource`](McpRequirements::resource) (`resources/read` by `params.uri`). What is not
/// listed needs the base requirement only.
///
/// An operation needs *all* the requirements that apply to it (base, method, tool …), and a
/// batch all those of all its messages. When a scope is missing, the 403 challenge names the
/// whole set (base first), so that a client stepping up asks for every scope it needs and does
/// not lose the base scope (MCP authorization spec, scope challenge handling).
///
/// ```
/// use bearer_guard::{Claims, jsonrpc::McpRequirements, Requirement};
/// let requirements = McpRequirements::new()
///     .base(Requirement::all(["mcp:tools"]))
///     .tool("purge_cache", Requirement::all(["mcp:admin"]));
/// let claims = Claims::from_value(serde_json::json!({"scope": "mcp:tools"})).unwrap();
/// assert!(requirements.check_tool("whoami", &claims).is_ok());
/// let refused = requirements.check_tool("purge_cache", &claims).unwrap_err();
/// assert_eq!(refused.to_string(), "insufficient scope: mcp:tools mcp:admin");
/// ```
#[derive(Debug, Clone, Default)]
pub struct McpRequirements {
    base: Option<Requirement>,
    methods: HashMap<String, Requirement>,
    tools: HashMap<String, Requirement>,
    prompts: HashMap<String, Requirement>,
    resources: HashMap<String, Requirement>,
}

impl McpRequirements {
    /// Only a valid token for every request ([`Requirement::authenticated`]), until entries
    /// are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// What every request needs, whatever its method (e.g. the MCP server's base scope); also
    /// the only check of requests without a JSON-RPC body (`GET` for the SSE stream,
    /// `DELETE` of a session).
    pub fn base(mut self, requirement: Requirement) -> Self {
        self.base = Some(requirement);
        self
    }

    /// What a JSON-RPC `method` (e.g. `"resources/list"`) needs besides the base. Replaces an
    /// earlier requirement of the same method.
    pub fn method(mut self, method: impl Into<String>, requirement: Requirement) -> Self {
        self.methods.insert(method.into(), requirement);
        self
    }

    /// What a `tools/call` of tool `name` needs besides the base (and the `tools/call`
    /// [method](McpRequirements::method) requirement, if any).
    pub fn tool(mut self, name: impl Into<String>, requirement: Requirement) -> Self {
        self.tools.insert(name.into(), requirement);
        self
    }

    /// What a `prompts/get` of prompt `name` needs besides the base.
    pub fn prompt(mut self, name: impl Into<String>, requirement: Requirement) -> Self {
        self.prompts.insert(name.into(), requirement);
        self
    }

    /// What a `resources/read` of exactly `uri` needs besides the base.
    pub fn resource(mut self, uri: impl Into<String>, requirement: Requirement) -> Self {
        self.resources.insert(uri.into(), requirement);
        self
    }

    /// Checks a `tools/call` of `name` against `claims` (base, `tools/call`, the tool), e.g.
    /// once more inside the tool handler.
    pub fn check_tool(&self, name: &str, claims: &Claims) -> Result<(), AuthError> {
        self.check_messages(
            &[Message::Call {
                method: peek::TOOLS_CALL.to_owned(),
                target: Some(Target::Tool(name.to_owned())),
            }],
            claims,
        )
    }

    /// Checks a JSON-RPC body (one message or a batch) against `claims`, the way
    /// [`RequireMcpScope`](super::RequireMcpScope) does: a body that is not JSON-RPC is
    /// refused with [`AuthError::Request`], one whose operations need more with
    /// [`AuthError::InsufficientScope`] naming every scope they need (or a step-up error).
    ///
    /// ```
    /// use bearer_guard::{AuthError, Claims, jsonrpc::McpRequirements, Requirement, error::RequestError};
    /// let requirements = McpRequirements::new().prompt("secrets", Requirement::all(["prompts:secret"]));
    /// let claims = Claims::from_value(serde_json::json!({"scope": "mcp"})).unwrap();
    /// let get = br#"{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"secrets"}}"#;
    /// assert!(matches!(requirements.check_body(get, &claims), Err(AuthError::InsufficientScope { .. })));
    /// assert_eq!(requirements.check_body(b"[]", &claims), Err(RequestError::EmptyBatch.into()));
    /// ```
    pub fn check_body(&self, body: &[u8], claims: &Claims) -> Result<(), AuthError> {
        self.check_messages(&peek::peek(body)?, claims)
    }

    /// Checks the base requirement only (requests without a JSON-RPC body).
    pub(crate) fn check_base(&self, claims: &Claims) -> Result<(), AuthError> {
        self.check_messages(&[], claims)
    }

    /// Every requirement that applies to `messages`, base first, each once.
    fn applicable<'a>(&'a self, messages: &[Message]) -> Vec<&'a Requirement> {
        let mut found: Vec<&Requirement> = self.base.iter().collect();
        for message in messages {
            let Message::Call { method, target } = message else {
                continue;
            };
            let specific = match target {
                Some(Target::Tool(name)) => self.tools.get(name),
                Some(Target::Prompt(name)) => self.prompts.get(name),
                Some(Target::Resource(uri)) => self.resources.get(uri),
                None => None,
            };
            for r in [self.methods.get(method), specific].into_iter().flatten() {
                if !found.iter().any(|f| f.same(r)) {
                    found.push(r);
                }
            }
        }
        found
    }

    /// All requirements of `messages` against `claims`: a missing scope anywhere is answered
    /// with the union of what they require; otherwise the first step-up refusal.
    pub(crate) fn check_messages(
        &self,
        messages: &[Message],
        claims: &Claims,
    ) -> Result<(), AuthError> {
        let applicable = self.applicable(messages);
        let mut step_up = None;
        let mut missing_scope = false;
        for requirement in &applicable {
            match requirement.check(claims) {
                Ok(()) => {}
                Err(AuthError::InsufficientScope { .. }) => missing_scope = true,
                Err(other) => {
                    step_up.get_or_insert(other);
                }
            }
        }
        if missing_scope {
            let mut scopes: Vec<&str> = Vec::new();
            for scope in applicable.iter().flat_map(|r| r.required().split(' ')) {
                if !scope.is_empty() && !scopes.contains(&scope) {
                    scopes.push(scope);
                }
            }
            return Err(AuthError::InsufficientScope {
                required: scopes.join(" "),
            });
        }
        step_up.map_or(Ok(()), Err)
    }
}
