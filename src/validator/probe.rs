//! [`ReadinessService`]: a Tower service answering readiness probes from a validator.

use std::convert::Infallible;
use std::fmt;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use tower_service::Service;

use super::Validator;

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
#[path = "tests/readiness.rs"]
mod tests;
