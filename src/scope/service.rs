//! [`RequireScope`]: the service a [`RequireScopeLayer`](super::RequireScopeLayer) makes.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::future::{ResponseFuture, State};
use super::map::Policy;
use super::{RequireScopeLayer, Requirement, ScopeMap};
use crate::error::{Challenge, DefaultErrorHandler, ErrorHandler};
use crate::Claims;

/// The service made by [`RequireScopeLayer`](super::RequireScopeLayer): lets a request through
/// only if its verified claims meet the layer's requirement.
#[derive(Debug, Clone)]
pub struct RequireScope<S, H = DefaultErrorHandler> {
    pub(super) inner: S,
    pub(super) policy: Policy,
    pub(super) handler: H,
}

impl<S, H, ReqB, ResB> Service<Request<ReqB>> for RequireScope<S, H>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    H: ErrorHandler<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        match self.policy.check(&req) {
            Ok(()) => ResponseFuture {
                state: State::Calling {
                    future: self.inner.call(req),
                },
            },
            Err(error) => {
                error.log();
                let challenge = req
                    .extensions()
                    .get::<Challenge>()
                    .cloned()
                    .unwrap_or_default();
                ResponseFuture {
                    state: State::Rejected {
                        response: Some(self.handler.respond(&error, &challenge)),
                    },
                }
            }
        }
    }
}

impl<S, H> RequireScope<S, H> {
    /// The inner service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Consumes the service, returning the inner one.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The constructors of the layer under its former name, so that code written for 0.1 keeps
/// compiling (with a deprecation warning): `RequireScope::all(..)` was the layer.
impl RequireScope<()> {
    /// Use [`RequireScopeLayer::all`].
    #[deprecated(since = "0.2.0", note = "the layer is now `RequireScopeLayer::all`")]
    pub fn all<I, T>(scopes: I) -> RequireScopeLayer
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        RequireScopeLayer::all(scopes)
    }

    /// Use [`RequireScopeLayer::any`].
    #[deprecated(since = "0.2.0", note = "the layer is now `RequireScopeLayer::any`")]
    pub fn any<I, T>(scopes: I) -> RequireScopeLayer
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        RequireScopeLayer::any(scopes)
    }

    /// Use [`RequireScopeLayer::predicate`].
    #[deprecated(
        since = "0.2.0",
        note = "the layer is now `RequireScopeLayer::predicate`"
    )]
    pub fn predicate<F>(f: F, required: impl Into<String>) -> RequireScopeLayer
    where
        F: Fn(&Claims) -> bool + Send + Sync + 'static,
    {
        RequireScopeLayer::predicate(f, required)
    }

    /// Use [`RequireScopeLayer::new`].
    #[deprecated(since = "0.2.0", note = "the layer is now `RequireScopeLayer::new`")]
    #[allow(clippy::new_ret_no_self)]
    pub fn new(requirement: Requirement) -> RequireScopeLayer {
        RequireScopeLayer::new(requirement)
    }

    /// Use [`RequireScopeLayer::map`].
    #[deprecated(since = "0.2.0", note = "the layer is now `RequireScopeLayer::map`")]
    pub fn map(map: ScopeMap) -> RequireScopeLayer {
        RequireScopeLayer::map(map)
    }
}
