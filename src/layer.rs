//! The Tower layer: [`AuthLayer`] wraps any `Service<http::Request<B>>` in an [`AuthService`],
//! which lets a request through only with a valid bearer token and puts the verified
//! [`Claims`](crate::Claims) into its extensions.
//!
//! The layer does not know how tokens are checked: that is the [`Validator`]'s job.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Extension, Router};
//! use bearer_guard::{AuthLayer, Claims, JwtValidator};
//!
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("my-api")
//!     .build()
//!     .await?; // discovers the JWKS from the issuer
//! let app: Router = Router::new()
//!     .route("/me", get(|Extension(c): Extension<Claims>| async move { c.subject().unwrap_or("").to_owned() }))
//!     .layer(AuthLayer::new(validator));
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::{Request, Response};
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::{self, BearerError, Scheme};
use crate::dpop::{DpopConfig, DpopVerifier, Nonce, NONCE_HEADER};
use crate::error::{Challenge, DefaultErrorHandler, ErrorHandler};
use crate::validator::{Validation, Validator};
use crate::AuthError;

/// Marker put into the extensions of a request that an [optional](AuthLayer::optional) layer
/// let through without a token (together with the layer's [`Challenge`]).
///
/// It tells later checks ([`RequireScope`](crate::RequireScope), the axum extractor) that the
/// request was anonymous — answered with 401 and a challenge — rather than never authenticated
/// at all because no auth layer is in front of them (a server misconfiguration, answered 500).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Anonymous;

/// Requires a valid bearer token on every request of the wrapped service.
///
/// Tokens bound to a key with `cnf.jkt` (DPoP, RFC 9449) are refused unless DPoP is turned on
/// with [`AuthLayer::dpop`].
#[derive(Debug)]
pub struct AuthLayer<V, H = DefaultErrorHandler> {
    validator: Arc<V>,
    handler: H,
    challenge: Challenge,
    optional: bool,
    dpop: Option<Arc<DpopVerifier>>,
}

impl<V, H: Clone> Clone for AuthLayer<V, H> {
    fn clone(&self) -> Self {
        AuthLayer {
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            optional: self.optional,
            dpop: self.dpop.clone(),
        }
    }
}

impl<V: Validator> AuthLayer<V> {
    /// A layer that validates tokens with `validator` and answers failures with
    /// [`DefaultErrorHandler`].
    pub fn new(validator: V) -> Self {
        Self::from_arc(Arc::new(validator))
    }

    /// Like [`AuthLayer::new`], sharing a validator that is already in an `Arc`.
    pub fn from_arc(validator: Arc<V>) -> Self {
        AuthLayer {
            validator,
            handler: DefaultErrorHandler,
            challenge: Challenge::new(),
            optional: false,
            dpop: None,
        }
    }
}

impl<V: Validator, H> AuthLayer<V, H> {
    /// Lets requests without an `Authorization` header through anonymously (no [`Claims`](crate::Claims) in
    /// their extensions, an [`Anonymous`] marker instead). A request that does carry a token
    /// must still carry a valid one.
    pub fn optional(mut self) -> Self {
        self.optional = true;
        self
    }

    /// Sets the `realm` of the `WWW-Authenticate` challenge.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.challenge = self.challenge.realm(realm);
        self
    }

    /// Sets the challenge parameters (realm, RFC 9728 `resource_metadata`).
    pub fn challenge(mut self, challenge: Challenge) -> Self {
        self.challenge = challenge;
        self
    }

    /// Accepts DPoP-bound tokens (RFC 9449): the `DPoP` authorization scheme next to `Bearer`,
    /// and a `DPoP` proof required and checked for every token bound with `cnf.jkt` or
    /// presented with the `DPoP` scheme. See the [`dpop`](crate::dpop) module for the rules.
    ///
    /// The validator checks the token as before; the layer checks the proof afterwards, against
    /// the request's method, URI and headers. Challenges then name the accepted proof
    /// algorithms (`algs`), and requests without credentials are offered both schemes.
    ///
    /// ```
    /// use bearer_guard::{AuthLayer, DpopConfig, Validator, Validation, TokenError};
    /// # struct Never;
    /// # impl Validator for Never {
    /// #     fn validate(&self, _: &str) -> Validation { Validation::ready(Err(TokenError::Malformed.into())) }
    /// # }
    /// let layer = AuthLayer::new(Never).dpop(DpopConfig::new());
    /// # let _ = layer;
    /// ```
    pub fn dpop(mut self, config: DpopConfig) -> Self {
        self.dpop = Some(Arc::new(DpopVerifier::new(config)));
        self
    }

    /// Answers rejected requests with `handler` instead of [`DefaultErrorHandler`].
    pub fn error_handler<H2>(self, handler: H2) -> AuthLayer<V, H2> {
        AuthLayer {
            validator: self.validator,
            handler,
            challenge: self.challenge,
            optional: self.optional,
            dpop: self.dpop,
        }
    }

    /// The validator this layer uses.
    pub fn validator(&self) -> &Arc<V> {
        &self.validator
    }
}

impl<S, V, H: Clone> Layer<S> for AuthLayer<V, H> {
    type Service = AuthService<S, V, H>;

    fn layer(&self, inner: S) -> Self::Service {
        let challenge = match &self.dpop {
            Some(dpop) => self
                .challenge
                .clone()
                .with_dpop_algs(dpop.algs().to_owned()),
            None => self.challenge.clone(),
        };
        AuthService {
            inner,
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            dpop_challenge: challenge.clone().with_scheme(Scheme::DPoP),
            challenge,
            optional: self.optional,
            dpop: self.dpop.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug)]
pub struct AuthService<S, V, H = DefaultErrorHandler> {
    inner: S,
    validator: Arc<V>,
    handler: H,
    /// For `Bearer` requests (and those without credentials).
    challenge: Challenge,
    /// For requests that used the `DPoP` scheme.
    dpop_challenge: Challenge,
    optional: bool,
    dpop: Option<Arc<DpopVerifier>>,
}

impl<S: Clone, V, H: Clone> Clone for AuthService<S, V, H> {
    fn clone(&self) -> Self {
        AuthService {
            inner: self.inner.clone(),
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            dpop_challenge: self.dpop_challenge.clone(),
            optional: self.optional,
            dpop: self.dpop.clone(),
        }
    }
}

impl<S, V, H, ReqB, ResB> Service<Request<ReqB>> for AuthService<S, V, H>
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
        let (scheme, validation) = match extract(req.headers(), self.dpop.is_some()) {
            Ok((scheme, token)) => (scheme, self.validator.validate(token)),
            Err(BearerError::Missing) if self.optional => {
                req.extensions_mut().insert(Anonymous);
                req.extensions_mut().insert(self.challenge.clone());
                return ResponseFuture::inner(self.inner.call(req), None);
            }
            Err(e) => return self.reject(e.into(), Scheme::Bearer),
        };
        match validation.into_ready() {
            Ok(Ok(claims)) => {
                let nonce = match check_binding(self.dpop.as_deref(), &req, scheme, &claims) {
                    Ok(nonce) => nonce,
                    Err(error) => return self.reject(error, scheme),
                };
                req.extensions_mut().insert(claims);
                req.extensions_mut()
                    .insert(self.challenge_for(scheme).clone());
                ResponseFuture::inner(self.inner.call(req), nonce)
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
                        })),
                    },
                }
            }
        }
    }
}

/// Takes the token and its scheme; `DPoP` is accepted only when the layer checks proofs.
fn extract(headers: &http::HeaderMap, dpop: bool) -> Result<(Scheme, &str), BearerError> {
    if dpop {
        bearer::extract_any(headers)
    } else {
        bearer::extract(headers).map(|token| (Scheme::Bearer, token))
    }
}

/// After the validator accepted the token: checks its DPoP binding against the request, or,
/// without DPoP support, refuses tokens bound to a key (fail closed). Returns the fresh DPoP
/// nonce to send with the response, if any.
fn check_binding<B>(
    dpop: Option<&DpopVerifier>,
    req: &Request<B>,
    scheme: Scheme,
    claims: &crate::Claims,
) -> Result<Option<Nonce>, AuthError> {
    match dpop {
        None => crate::dpop::refuse_bound(claims).map(|()| None),
        Some(dpop) => {
            // The token was extracted from these very headers before.
            let (_, token) = extract(req.headers(), true)?;
            dpop.check_request(req, scheme, token, claims)
        }
    }
}

impl<S, V, H> AuthService<S, V, H> {
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
        error.log();
        ResponseFuture {
            state: State::Rejected {
                response: Some(self.handler.respond(&error, self.challenge_for(scheme))),
            },
        }
    }
}

/// What a request waiting for validation keeps until it can go on.
struct Pending<S, ReqB, H> {
    req: Request<ReqB>,
    inner: S,
    handler: H,
    challenge: Challenge,
    scheme: Scheme,
    dpop: Option<Arc<DpopVerifier>>,
}

/// Response future of [`AuthService`].
#[pin_project]
pub struct ResponseFuture<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    #[pin]
    state: State<S, ReqB, H>,
}

#[pin_project(project = StateProj)]
enum State<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    Validating {
        validation: Validation,
        parts: Option<Box<Pending<S, ReqB, H>>>,
    },
    Calling {
        #[pin]
        future: S::Future,
        /// A fresh DPoP nonce for the `DPoP-Nonce` header of the response.
        nonce: Option<Nonce>,
    },
    Rejected {
        response: Option<S::Response>,
    },
}

impl<S, ReqB, H> ResponseFuture<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    fn inner(future: S::Future, nonce: Option<Nonce>) -> Self {
        ResponseFuture {
            state: State::Calling { future, nonce },
        }
    }
}

impl<S, ReqB, H, ResB> Future for ResponseFuture<S, ReqB, H>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    H: ErrorHandler<ResB>,
{
    type Output = Result<Response<ResB>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Calling { future, nonce } => {
                    let mut result = ready!(future.poll(cx));
                    if let (Ok(response), Some(nonce)) = (&mut result, nonce.take()) {
                        // RFC 9449 §9: a new nonce may come with any response; one the
                        // service set itself is kept.
                        if let Some(value) = nonce.header_value() {
                            response.headers_mut().entry(NONCE_HEADER).or_insert(value);
                        }
                    }
                    return Poll::Ready(result);
                }
                StateProj::Rejected { response } => {
                    return match response.take() {
                        Some(r) => Poll::Ready(Ok(r)),
                        None => panic!("ResponseFuture polled after completion"),
                    };
                }
                StateProj::Validating { validation, parts } => {
                    let result = match Pin::new(validation).poll(cx) {
                        Poll::Ready(r) => r,
                        Poll::Pending => return Poll::Pending,
                    };
                    let Some(pending) = parts.take() else {
                        panic!("ResponseFuture polled after completion");
                    };
                    let Pending {
                        mut req,
                        mut inner,
                        handler,
                        challenge,
                        scheme,
                        dpop,
                    } = *pending;
                    let result = result.and_then(|claims| {
                        check_binding(dpop.as_deref(), &req, scheme, &claims)
                            .map(|nonce| (claims, nonce))
                    });
                    match result {
                        Ok((claims, nonce)) => {
                            req.extensions_mut().insert(claims);
                            req.extensions_mut().insert(challenge);
                            State::Calling {
                                future: inner.call(req),
                                nonce,
                            }
                        }
                        Err(error) => {
                            error.log();
                            State::Rejected {
                                response: Some(handler.respond(&error, &challenge)),
                            }
                        }
                    }
                }
            };
            this.state.set(next);
        }
    }
}
