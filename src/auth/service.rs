//! [`Auth`]: the service an [`AuthLayer`](super::AuthLayer) makes.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::config::Config;
use super::constraint::is_preflight;
use super::future::{Pending, ResponseFuture, State};
use crate::bearer::AuthScheme;
use crate::dpop::Checked;
use crate::error::{AuthError, BearerError, DefaultErrorHandler, ErrorHandler};
use crate::source::TokenSource;
use crate::validator::Validator;

/// Marker put into the extensions of a request that an [optional](super::AuthLayer::optional) layer
/// let through without a token (together with the layer's [`Challenge`](crate::error::Challenge)).
///
/// It tells later checks ([`RequireScopeLayer`](crate::RequireScopeLayer), the axum extractor) that the
/// request was anonymous — answered with 401 and a challenge — rather than never authenticated
/// at all because no auth layer is in front of them (a server misconfiguration, answered 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Anonymous;

/// The service made by [`AuthLayer`](super::AuthLayer): lets a request through to the inner
/// service only with a valid token, and puts the verified [`Claims`](crate::Claims) into its
/// extensions.
#[derive(Debug)]
pub struct Auth<S, V, H = DefaultErrorHandler> {
    pub(super) inner: S,
    pub(super) validator: Arc<V>,
    /// Shared with every clone and every request waiting for its validation.
    pub(super) config: Arc<Config<H>>,
}

impl<S: Clone, V, H> Clone for Auth<S, V, H> {
    fn clone(&self) -> Self {
        Auth {
            inner: self.inner.clone(),
            validator: self.validator.clone(),
            config: self.config.clone(),
        }
    }
}

impl<S, V, H, ReqB, ResB> Service<Request<ReqB>> for Auth<S, V, H>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone,
    V: Validator,
    H: ErrorHandler<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqB, H>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqB>) -> Self::Future {
        let config = &self.config;
        if config.allow_preflight && is_preflight(&req) {
            // Untouched: no token looked for, no claims, no marker (see `allow_preflight`).
            return ResponseFuture::inner(self.inner.call(req), None);
        }
        let (scheme, source, validation) = match config.sources.find(&req, config.dpop.is_some()) {
            Ok(found) => (
                found.scheme,
                found.source,
                self.validator.validate(&found.token),
            ),
            Err(BearerError::Missing) if config.optional => {
                req.extensions_mut().insert(Anonymous);
                req.extensions_mut().insert(config.challenge.clone());
                return ResponseFuture::inner(self.inner.call(req), None);
            }
            Err(e) => return self.reject(e.into(), AuthScheme::Bearer),
        };
        let private = matches!(source, TokenSource::Query);
        if !matches!(source, TokenSource::Header) {
            // Whatever the outcome: the token goes no further than this layer.
            config.sources.scrub(&mut req, source);
        }
        match validation.into_ready() {
            Ok(Ok(claims)) => match config.check_binding(&req, scheme, &claims) {
                Ok(Checked::Done(nonce)) => {
                    let challenge = config.challenge_for(scheme).clone();
                    ResponseFuture {
                        state: State::accept(
                            &mut self.inner,
                            req,
                            claims,
                            challenge,
                            nonce,
                            private,
                        ),
                    }
                }
                Ok(Checked::Pending(check)) => {
                    // A shared replay store: wait for it before calling the inner service.
                    let pending = self.pending(req, scheme, private);
                    ResponseFuture {
                        state: State::Replaying {
                            check,
                            parts: Some(Box::new((pending, claims))),
                        },
                    }
                }
                Err(error) => self.reject(error, scheme),
            },
            Ok(Err(error)) => self.reject(error, scheme),
            Err(validation) => ResponseFuture {
                state: State::Validating {
                    validation,
                    // Boxed: only the slow path (keys being fetched) pays for it.
                    parts: Some(Box::new(self.pending(req, scheme, private))),
                },
            },
        }
    }
}

impl<S, V, H> Auth<S, V, H> {
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

    /// The validator every request is checked with.
    pub fn validator(&self) -> &Arc<V> {
        &self.validator
    }

    /// A request that waits: the inner service, driven to readiness, is taken with it and a
    /// clone left in its place (the usual Tower pattern for calling later).
    fn pending<ReqB>(
        &mut self,
        req: Request<ReqB>,
        scheme: AuthScheme,
        private: bool,
    ) -> Pending<S, ReqB, H>
    where
        S: Clone,
    {
        let clone = self.inner.clone();
        Pending {
            req,
            inner: std::mem::replace(&mut self.inner, clone),
            config: self.config.clone(),
            scheme,
            private,
        }
    }

    fn reject<ReqB, ResB>(&self, error: AuthError, scheme: AuthScheme) -> ResponseFuture<S, ReqB, H>
    where
        S: Service<Request<ReqB>, Response = Response<ResB>>,
        H: ErrorHandler<ResB>,
    {
        ResponseFuture {
            state: State::reject(&self.config, &error, scheme),
        }
    }
}
