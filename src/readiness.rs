//! Readiness for load balancers and Kubernetes probes, and when the first keys are fetched.
//!
//! Every [`Validator`] answers [`Validator::readiness`]: whether it can decide tokens now.
//! A [`JwtValidator`](crate::JwtValidator) that fetches keys is ready once a key set was
//! fetched and is not past [`max_stale`](crate::JwksConfig::max_stale); asking it starts a
//! fetch in the background when none was made yet (or the last one failed and its cooldown is
//! over), so a readiness probe alone brings a lazily built validator up. An
//! [`IntrospectionValidator`](crate::IntrospectionValidator) is ready unless its last call to
//! the endpoint failed (unreachable, timed out, an error status, an answer it cannot read).
//! [`HybridValidator`](crate::HybridValidator) and [`MultiIssuer`](crate::MultiIssuer) are
//! ready when every validator in them is.
//!
//! [`ReadinessService`] answers a probe: `200 ready`, or `503 not ready: <reason>` (one line,
//! a fixed text and at most an issuer URL: never a token, secret or key).
//!
//! ```
//! use bearer_guard::readiness::{Readiness, ReadinessService};
//! use bearer_guard::{JwtValidator, KeySet};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("api")
//!     .key_set(KeySet::from_json(br#"{"keys":[]}"#)?) // fixed keys: ready at once
//!     .build()
//!     .await?;
//! assert_eq!(bearer_guard::Validator::readiness(&validator), Readiness::Ready);
//!
//! // axum: Router::new().route_service("/readyz", ReadinessService::new(validator))
//! let probe = ReadinessService::new(validator);
//! let res = probe.oneshot(Request::get("/readyz").body(())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.body(), "ready\n");
//! # Ok(()) }
//! ```
//!
//! When the first keys are fetched is a choice made on the builder with [`Prefetch`]. Whatever
//! the choice, a request that arrives before keys are there waits for the fetch under way (one
//! fetch for all of them) and is answered with the keys, or 503 if there are none: never a 401
//! for want of keys.

use std::borrow::Cow;
use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use tower_service::Service;

use crate::validator::Validator;

/// Whether a validator can decide tokens now. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// It can.
    Ready,
    /// It cannot, for this reason: one line, no token, secret or key in it.
    NotReady(Cow<'static, str>),
}

impl Readiness {
    /// Not ready, for a fixed reason.
    pub const fn not_ready(reason: &'static str) -> Self {
        Readiness::NotReady(Cow::Borrowed(reason))
    }

    /// Whether it is [`Readiness::Ready`].
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready)
    }

    /// Why it is not ready, if it is not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Readiness::Ready => None,
            Readiness::NotReady(reason) => Some(reason),
        }
    }

    /// Ready only if both are; otherwise the first reason.
    ///
    /// ```
    /// use bearer_guard::readiness::Readiness;
    /// let down = Readiness::not_ready("down");
    /// assert_eq!(Readiness::Ready.and(down.clone()), down);
    /// assert!(Readiness::Ready.and(Readiness::Ready).is_ready());
    /// ```
    pub fn and(self, other: Readiness) -> Readiness {
        match self {
            Readiness::Ready => other,
            not_ready => not_ready,
        }
    }

    /// The same readiness, its reason prefixed with `context` (an issuer, say).
    pub(crate) fn context(self, context: &str) -> Readiness {
        match self {
            Readiness::Ready => Readiness::Ready,
            Readiness::NotReady(reason) => {
                Readiness::NotReady(format!("{context}: {reason}").into())
            }
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readiness::Ready => f.write_str("ready"),
            Readiness::NotReady(reason) => write!(f, "not ready: {reason}"),
        }
    }
}

/// When a [`JwtValidator`](crate::JwtValidator) that fetches keys fetches them first; set with
/// [`JwtValidatorBuilder::prefetch`](crate::JwtValidatorBuilder::prefetch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Prefetch {
    /// When first needed: by the first request, or the first [readiness](Validator::readiness)
    /// check, whichever comes first (the default).
    #[default]
    Lazy,
    /// While building: [`build`](crate::JwtValidatorBuilder::build) fails with
    /// [`BuildError::Prefetch`](crate::BuildError::Prefetch) when the keys cannot be had. For
    /// a process that should not start without its issuer.
    FailFast,
    /// In the background: `build` returns at once; a task fetches the keys and, while that
    /// fails, tries again each [`cooldown`](crate::JwksConfig::cooldown) until it succeeds
    /// (or the validator is dropped). The validator reports not ready meanwhile; requests
    /// wait for the fetch under way, or get 503.
    Background,
}

/// A Tower service that answers readiness probes from a validator's
/// [`readiness`](Validator::readiness): `GET`/`HEAD` get `200` with `ready`, or `503` with
/// `not ready: <reason>` (`text/plain`, `Cache-Control: no-store`); other methods `405`.
/// Answers any request it is given (routing is the framework's job). Cheap to clone.
///
/// Made by [`ReadinessService::new`] or [`AuthLayer::readiness_service`](crate::AuthLayer::readiness_service).
pub struct ReadinessService<V: ?Sized> {
    validator: Arc<V>,
}

impl<V: ?Sized> Clone for ReadinessService<V> {
    fn clone(&self) -> Self {
        ReadinessService {
            validator: self.validator.clone(),
        }
    }
}

impl<V: ?Sized> fmt::Debug for ReadinessService<V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadinessService").finish_non_exhaustive()
    }
}

impl<V: Validator> ReadinessService<V> {
    /// A probe answered from `validator`.
    pub fn new(validator: V) -> Self {
        Self::from_arc(Arc::new(validator))
    }
}

impl<V: Validator + ?Sized> ReadinessService<V> {
    /// A probe answered from a validator shared in an `Arc` (the layer's, say).
    pub fn from_arc(validator: Arc<V>) -> Self {
        ReadinessService { validator }
    }

    /// The answer to one probe.
    pub fn respond(&self, method: &Method) -> Response<String> {
        let mut res = Response::new(String::new());
        if method != Method::GET && method != Method::HEAD {
            res.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            return res;
        }
        let readiness = self.validator.readiness();
        if !readiness.is_ready() {
            *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        }
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if method == Method::GET {
            // One line: a reason never holds a line break, but make sure of it.
            let line: String = readiness
                .to_string()
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            *res.body_mut() = format!("{line}\n");
        }
        res
    }
}

impl<V: Validator + ?Sized, B> Service<Request<B>> for ReadinessService<V> {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        ready(Ok(self.respond(req.method())))
    }
}

#[cfg(test)]
mod tests;
