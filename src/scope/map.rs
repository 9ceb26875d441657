//! [`ScopeMap`]: one [`Requirement`] per request path, and the policy a layer applies.

use std::sync::Arc;

use http::Request;

use super::{claims, Requirement};
use crate::AuthError;

/// Requirements chosen by request path, for gRPC methods (`/package.Service/Method`) or any
/// service where one layer covers many paths.
///
/// Lookup order: exact [`route`](ScopeMap::route), then [`service`](ScopeMap::service)
/// prefix, then the [`fallback`](ScopeMap::fallback). A path that matches nothing and has no
/// fallback is refused with [`AuthError::Misconfigured`] (500 / gRPC `INTERNAL`): a method
/// someone forgot to list is closed, not open.
#[derive(Debug, Clone, Default)]
pub struct ScopeMap {
    routes: Vec<(String, Requirement)>,
    services: Vec<(String, Requirement)>,
    fallback: Option<Requirement>,
}

impl ScopeMap {
    /// An empty map (refuses every path until entries are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// The requirement for exactly `path`, e.g. `/greeter.Greeter/SayHello`.
    pub fn route(mut self, path: impl Into<String>, requirement: Requirement) -> Self {
        self.routes.push((path.into(), requirement));
        self
    }

    /// The requirement for every method of a gRPC service, e.g. `/greeter.Greeter`
    /// (matches `/greeter.Greeter/<anything>`).
    pub fn service(mut self, service: impl Into<String>, requirement: Requirement) -> Self {
        let mut prefix: String = service.into();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        self.services.push((prefix, requirement));
        self
    }

    /// The requirement for paths not listed otherwise.
    pub fn fallback(mut self, requirement: Requirement) -> Self {
        self.fallback = Some(requirement);
        self
    }

    /// The requirement for `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Requirement> {
        self.routes
            .iter()
            .find(|(p, _)| p == path)
            .or_else(|| self.services.iter().find(|(p, _)| path.starts_with(p)))
            .map(|(_, r)| r)
            .or(self.fallback.as_ref())
    }
}

#[derive(Debug, Clone)]
pub(super) enum Policy {
    One(Requirement),
    ByPath(Arc<ScopeMap>),
}

impl Policy {
    pub(super) fn check<B>(&self, req: &Request<B>) -> Result<(), AuthError> {
        // Claims first: an unauthenticated request gets 401, whatever the path.
        let claims = claims(req.extensions())?;
        let requirement = match self {
            Policy::One(r) => r,
            Policy::ByPath(map) => map.get(req.uri().path()).ok_or(AuthError::Misconfigured(
                "no scope requirement configured for this path",
            ))?,
        };
        requirement.check(claims)
    }
}
