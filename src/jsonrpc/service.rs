//! [`RequireMcpScope`]: the service a [`RequireMcpScopeLayer`](super::RequireMcpScopeLayer)
//! makes.

use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Limited};
use tower_service::Service;

use super::body::declared_too_large;
use super::future::{refuse, ResponseFuture};
use super::{BoxError, McpRequirements};
use crate::error::{DefaultErrorHandler, ErrorHandler, RequestError};

/// The service made by [`RequireMcpScopeLayer`](super::RequireMcpScopeLayer): reads a `POST`
/// body (up to the limit), lets it through only if the claims meet the requirements of every
/// JSON-RPC message in it, and hands the inner service the bytes it checked. Other methods
/// are checked against the base requirement only.
///
/// The request body type `B` must be buildable from [`Bytes`] (`axum::body::Body`,
/// `http_body_util::Full<Bytes>`); the inner service receives the same type. With hyper's
/// `Incoming`, map the body into one of those first.
#[derive(Debug, Clone)]
pub struct RequireMcpScope<S, H = DefaultErrorHandler> {
    pub(super) inner: S,
    pub(super) requirements: Arc<McpRequirements>,
    pub(super) max_body: usize,
    pub(super) handler: H,
}

impl<S, H, B, ResB> Service<Request<B>> for RequireMcpScope<S, H>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
    H: ErrorHandler<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, B, H>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let post = req.method() == Method::POST;
        // Claims first: an unauthenticated request gets its 401 whatever its body.
        let checked = crate::scope::claims(req.extensions()).and_then(|claims| {
            if !post {
                self.requirements.check_base(claims)
            } else if declared_too_large(req.headers(), req.body(), self.max_body) {
                Err(RequestError::BodyTooLarge.into())
            } else {
                Ok(())
            }
        });
        if let Err(error) = checked {
            return ResponseFuture::rejected(refuse(&error, req.extensions(), &self.handler));
        }
        if !post {
            return ResponseFuture::calling(self.inner.call(req));
        }
        // The service that was made ready goes with the request; this one keeps a clone.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let (parts, body) = req.into_parts();
        ResponseFuture::reading(
            Limited::new(body, self.max_body).collect(),
            parts,
            inner,
            self.requirements.clone(),
            self.handler.clone(),
        )
    }
}

impl<S, H> RequireMcpScope<S, H> {
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
