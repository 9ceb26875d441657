//! [`RequireScope`]: the service a [`RequireScopeLayer`](super::RequireScopeLayer) makes.

use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::future::{ResponseFuture, State};
use super::map::Policy;
use crate::error::{Challenge, DefaultErrorHandler, ErrorHandler};

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
