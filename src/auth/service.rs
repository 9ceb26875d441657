//! [`Auth`]: the service an [`AuthLayer`](super::AuthLayer) makes.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use super::constraint::{is_preflight, SenderConstraint};
use super::future::{Pending, ResponseFuture, State};
use crate::bearer::{self, Scheme};
use crate::dpop::{Checked, DpopVerifier, Nonce};
use crate::error::BearerError;
use crate::error::{Challenge, DefaultErrorHandler, ErrorHandler};
use crate::mtls::MtlsConfig;
use crate::source::{TokenSource, TokenSources};
use crate::validator::Validator;
use crate::AuthError;

/// Marker put into the extensions of a request that an [optional](super::AuthLayer::optional) layer
/// let through without a token (together with the layer's [`Challenge`]).
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
    pub(super) handler: H,
    /// For `Bearer` requests (and those without credentials).
    pub(super) challenge: Challenge,
    /// For requests that used the `DPoP` scheme.
    pub(super) dpop_challenge: Challenge,
    pub(super) optional: bool,
    pub(super) dpop: Option<Arc<DpopVerifier>>,
    pub(super) mtls: Option<Arc<MtlsConfig>>,
    pub(super) sources: TokenSources,
    pub(super) required: Option<SenderConstraint>,
    pub(super) allow_preflight: bool,
}

impl<S: Clone, V, H: Clone> Clone for Auth<S, V, H> {
    fn clone(&self) -> Self {
        Auth {
            inner: self.inner.clone(),
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            dpop_challenge: self.dpop_challenge.clone(),
            optional: self.optional,
            dpop: self.dpop.clone(),
            mtls: self.mtls.clone(),
            sources: self.sources.clone(),
            required: self.required,
            allow_preflight: self.allow_preflight,
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
        if self.allow_preflight && is_preflight(&req) {
            // Untouched: no token looked for, no claims, no marker (see `allow_preflight`).
            return ResponseFuture::inner(self.inner.call(req), None);
        }
        let (scheme, source, validation) = match self.sources.find(&req, self.dpop.is_some()) {
            Ok(found) => (
                found.scheme,
                found.source,
                self.validator.validate(&found.token),
            ),
            Err(BearerError::Missing) if self.optional => {
                req.extensions_mut().insert(Anonymous);
                req.extensions_mut().insert(self.challenge.clone());
                return ResponseFuture::inner(self.inner.call(req), None);
            }
            Err(e) => return self.reject(e.into(), Scheme::Bearer),
        };
        if !matches!(source, TokenSource::Header) {
            // Whatever the outcome: the token goes no further than this layer.
            self.sources.scrub(&mut req, source);
        }
        match validation.into_ready() {
            Ok(Ok(claims)) => {
                let nonce = match check_binding(
                    self.dpop.as_deref(),
                    self.mtls.as_deref(),
                    self.required,
                    &req,
                    scheme,
                    &claims,
                ) {
                    Ok(Checked::Done(nonce)) => nonce,
                    Ok(Checked::Pending(check)) => {
                        // A shared replay store: wait for it before calling the inner service.
                        let clone = self.inner.clone();
                        let inner = std::mem::replace(&mut self.inner, clone);
                        return ResponseFuture {
                            state: State::Replaying {
                                check,
                                parts: Some(Box::new((
                                    Pending {
                                        req,
                                        inner,
                                        handler: self.handler.clone(),
                                        challenge: self.challenge_for(scheme).clone(),
                                        scheme,
                                        dpop: None,
                                        mtls: None,
                                        required: None,
                                    },
                                    claims,
                                ))),
                            },
                        };
                    }
                    Err(error) => return self.reject(error, scheme),
                };
                let challenge = self.challenge_for(scheme).clone();
                ResponseFuture {
                    state: State::accept(&mut self.inner, req, claims, challenge, nonce),
                }
            }
            Ok(Err(error)) => self.reject(error, scheme),
            Err(pending) => {
                // The inner service was driven to readiness; take that instance and leave a
                // clone in its place (the usual Tower pattern for calling later).
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                ResponseFuture {
                    state: State::Validating {
                        validation: pending,
                        // Boxed: only the slow path (keys being fetched) pays for it.
                        parts: Some(Box::new(Pending {
                            req,
                            inner,
                            handler: self.handler.clone(),
                            challenge: self.challenge_for(scheme).clone(),
                            scheme,
                            dpop: self.dpop.clone(),
                            mtls: self.mtls.clone(),
                            required: self.required,
                        })),
                    },
                }
            }
        }
    }
}

/// After the validator accepted the token: checks its bindings (`cnf`, RFC 7800) against the
/// request. The client certificate first (`cnf.x5t#S256`, see [`crate::mtls`]), then the DPoP
/// proof (`cnf.jkt`), so that a request refused for its certificate does not use up its proof;
/// a token bound both ways must pass both. Without DPoP support, tokens bound to a key are
/// refused (fail closed), and so are certificate-bound tokens without certificate support.
/// A [required](super::AuthLayer::require_sender_constraint) sender constraint is checked
/// first, so that a plain bearer token refused for it uses up no proof.
/// Returns the fresh DPoP nonce to send with the response, if any, or the check that must
/// still ask the shared replay store for it.
pub(super) fn check_binding<B>(
    dpop: Option<&DpopVerifier>,
    mtls: Option<&MtlsConfig>,
    required: Option<SenderConstraint>,
    req: &Request<B>,
    scheme: Scheme,
    claims: &crate::Claims,
) -> Result<Checked<Option<Nonce>>, AuthError> {
    let confirmation = claims.confirmation()?;
    if let Some(required) = required {
        required.check(&confirmation)?;
    }
    crate::mtls::check_binding(mtls, req, confirmation.x5t_s256)?;
    match dpop {
        None => crate::dpop::refuse_bound(confirmation.jkt).map(|()| Checked::Done(None)),
        // Only the `DPoP` scheme needs the token (the proof's `ath`), and that scheme is only
        // ever taken from the `Authorization` header, where it was found before. A token from
        // any other place is a `Bearer` one: bound with `cnf.jkt`, it is refused
        // (`DpopError::BoundToken`), so DPoP-bound tokens stay header-only.
        Some(dpop) => match scheme {
            Scheme::DPoP => {
                let (_, token) = bearer::extract_any(req.headers())?;
                dpop.check_request(req, scheme, token, confirmation.jkt)
            }
            Scheme::Bearer => dpop.check_request(req, scheme, "", confirmation.jkt),
        },
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

    fn challenge_for(&self, scheme: Scheme) -> &Challenge {
        match scheme {
            Scheme::Bearer => &self.challenge,
            Scheme::DPoP => &self.dpop_challenge,
        }
    }

    fn reject<ReqB, ResB>(&self, error: AuthError, scheme: Scheme) -> ResponseFuture<S, ReqB, H>
    where
        S: Service<Request<ReqB>, Response = Response<ResB>>,
        H: ErrorHandler<ResB>,
    {
        ResponseFuture {
            state: State::reject(&self.handler, &error, self.challenge_for(scheme)),
        }
    }
}
