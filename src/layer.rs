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
use std::task::{Context, Poll};

use http::{Request, Response};
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::{self, BearerError};
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
#[derive(Debug)]
pub struct AuthLayer<V, H = DefaultErrorHandler> {
    validator: Arc<V>,
    handler: H,
    challenge: Challenge,
    optional: bool,
}

impl<V, H: Clone> Clone for AuthLayer<V, H> {
    fn clone(&self) -> Self {
        AuthLayer {
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            optional: self.optional,
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

    /// Answers rejected requests with `handler` instead of [`DefaultErrorHandler`].
    pub fn error_handler<H2>(self, handler: H2) -> AuthLayer<V, H2> {
        AuthLayer {
            validator: self.validator,
            handler,
            challenge: self.challenge,
            optional: self.optional,
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
        AuthService {
            inner,
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            optional: self.optional,
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug)]
pub struct AuthService<S, V, H = DefaultErrorHandler> {
    inner: S,
    validator: Arc<V>,
    handler: H,
    challenge: Challenge,
    optional: bool,
}

impl<S: Clone, V, H: Clone> Clone for AuthService<S, V, H> {
    fn clone(&self) -> Self {
        AuthService {
            inner: self.inner.clone(),
            validator: self.validator.clone(),
            handler: self.handler.clone(),
            challenge: self.challenge.clone(),
            optional: self.optional,
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
        let validation = match bearer::extract(req.headers()) {
            Ok(token) => self.validator.validate(token),
            Err(BearerError::Missing) if self.optional => {
                req.extensions_mut().insert(Anonymous);
                req.extensions_mut().insert(self.challenge.clone());
                return ResponseFuture::inner(self.inner.call(req));
            }
            Err(e) => return self.reject(e.into()),
        };
        match validation.into_ready() {
            Ok(Ok(claims)) => {
                req.extensions_mut().insert(claims);
                req.extensions_mut().insert(self.challenge.clone());
                ResponseFuture::inner(self.inner.call(req))
            }
            Ok(Err(error)) => self.reject(error),
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
                            challenge: self.challenge.clone(),
                        })),
                    },
                }
            }
        }
    }
}

impl<S, V, H> AuthService<S, V, H> {
    fn reject<ReqB, ResB>(&self, error: AuthError) -> ResponseFuture<S, ReqB, H>
    where
        S: Service<Request<ReqB>, Response = Response<ResB>>,
        H: ErrorHandler<ResB>,
    {
        error.log();
        ResponseFuture {
            state: State::Rejected {
                response: Some(self.handler.respond(&error, &self.challenge)),
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
    },
    Rejected {
        response: Option<S::Response>,
    },
}

impl<S, ReqB, H> ResponseFuture<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    fn inner(future: S::Future) -> Self {
        ResponseFuture {
            state: State::Calling { future },
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
                StateProj::Calling { future } => return future.poll(cx),
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
                    } = *pending;
                    match result {
                        Ok(claims) => {
                            req.extensions_mut().insert(claims);
                            req.extensions_mut().insert(challenge);
                            State::Calling {
                                future: inner.call(req),
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
