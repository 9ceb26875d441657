//! [`RequireScopeLayer`]: the requirement (or map of requirements) a route is checked with.

use std::sync::Arc;

use tower_layer::Layer;

use super::map::Policy;
use super::{RequireScope, Requirement, ScopeMap};
use crate::error::DefaultErrorHandler;
use crate::Claims;

/// Tower layer that lets a request through only if its verified claims meet a
/// [`Requirement`]. See the [module documentation](super).
#[derive(Debug, Clone)]
pub struct RequireScopeLayer<H = DefaultErrorHandler> {
    policy: Policy,
    handler: H,
}

impl RequireScopeLayer {
    /// Requires every one of `scopes` ([`Requirement::all`]).
    pub fn all<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Requirement::all(scopes))
    }

    /// Requires at least one of `scopes` ([`Requirement::any`]).
    pub fn any<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Requirement::any(scopes))
    }

    /// Requires your own rule on the claims ([`Requirement::predicate`]); `required` is sent
    /// as the challenge's `scope` parameter on failure.
    pub fn predicate<F>(f: F, required: impl Into<String>) -> Self
    where
        F: Fn(&Claims) -> bool + Send + Sync + 'static,
    {
        Self::new(Requirement::predicate(f, required))
    }

    /// Requires `requirement` on every request.
    pub fn new(requirement: Requirement) -> Self {
        RequireScopeLayer {
            policy: Policy::One(requirement),
            handler: DefaultErrorHandler,
        }
    }

    /// Picks the requirement by request path (see [`ScopeMap`]).
    pub fn map(map: ScopeMap) -> Self {
        RequireScopeLayer {
            policy: Policy::ByPath(Arc::new(map)),
            handler: DefaultErrorHandler,
        }
    }
}

impl<H> RequireScopeLayer<H> {
    /// Answers refused requests with `handler` instead of [`DefaultErrorHandler`] (e.g.
    /// `GrpcErrors` for tonic).
    pub fn error_handler<H2>(self, handler: H2) -> RequireScopeLayer<H2> {
        RequireScopeLayer {
            policy: self.policy,
            handler,
        }
    }
}

impl<S, H: Clone> Layer<S> for RequireScopeLayer<H> {
    type Service = RequireScope<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScope {
            inner,
            policy: self.policy.clone(),
            handler: self.handler.clone(),
        }
    }
}
