//! [`RequireMcpScopeLayer`]: the requirements and the body limit a JSON-RPC endpoint is
//! checked with.

use std::sync::Arc;

use tower_layer::Layer;

use super::body::DEFAULT_MAX_BODY;
use super::{McpRequirements, RequireMcpScope};
use crate::error::DefaultErrorHandler;

/// Tower layer that lets a JSON-RPC request through only if its verified claims meet the
/// [`McpRequirements`] of every message in its body. See the [module documentation](super).
#[derive(Debug, Clone)]
pub struct RequireMcpScopeLayer<H = DefaultErrorHandler> {
    requirements: Arc<McpRequirements>,
    max_body: usize,
    handler: H,
}

impl RequireMcpScopeLayer {
    /// Checks requests with `requirements`, reading at most
    /// [`DEFAULT_MAX_BODY`](super::DEFAULT_MAX_BODY) (1 MiB) of a body.
    pub fn new(requirements: McpRequirements) -> Self {
        Self::from_arc(Arc::new(requirements))
    }

    /// Like [`RequireMcpScopeLayer::new`], sharing requirements that are already in an `Arc`
    /// (e.g. with the tool handlers, which may check them again).
    pub fn from_arc(requirements: Arc<McpRequirements>) -> Self {
        RequireMcpScopeLayer {
            requirements,
            max_body: DEFAULT_MAX_BODY,
            handler: DefaultErrorHandler,
        }
    }
}

impl<H> RequireMcpScopeLayer<H> {
    /// The largest body read, in bytes; a larger one is answered 413 (before it is read when
    /// its `Content-Length` says so). Set the MCP server's own limit to the same value.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Answers refused requests with `handler` instead of
    /// [`DefaultErrorHandler`](crate::error::DefaultErrorHandler) (e.g. to add a JSON-RPC error body).
    pub fn error_handler<H2>(self, handler: H2) -> RequireMcpScopeLayer<H2> {
        RequireMcpScopeLayer {
            requirements: self.requirements,
            max_body: self.max_body,
            handler,
        }
    }

    /// The requirements this layer checks.
    pub fn requirements(&self) -> &Arc<McpRequirements> {
        &self.requirements
    }
}

impl<S, H: Clone> Layer<S> for RequireMcpScopeLayer<H> {
    type Service = RequireMcpScope<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireMcpScope {
            inner,
            requirements: self.requirements.clone(),
            max_body: self.max_body,
            handler: self.handler.clone(),
        }
    }
}
