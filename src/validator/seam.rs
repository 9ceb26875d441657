//! [`Validator`] and its outcome, [`ValidationFuture`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::Readiness;
use crate::{AuthError, Claims};

/// Checks a bearer token and returns its verified claims.
pub trait Validator: Send + Sync + 'static {
    /// Validates `token`. The returned future must not borrow `token`.
    fn validate(&self, token: &str) -> ValidationFuture;

    /// Whether this validator can decide tokens now (keys fetched and not past `max_stale`,
    /// introspection endpoint answering): what a readiness probe reports (see
    /// [readiness](super#readiness)). Must be quick and must not wait; it may start work
    /// in the background (a first key fetch, say). The default says ready.
    fn readiness(&self) -> Readiness {
        Readiness::Ready
    }
}

impl<V: Validator + ?Sized> Validator for Arc<V> {
    fn validate(&self, token: &str) -> ValidationFuture {
        (**self).validate(token)
    }

    fn readiness(&self) -> Readiness {
        (**self).readiness()
    }
}

impl<V: Validator + ?Sized> Validator for Box<V> {
    fn validate(&self, token: &str) -> ValidationFuture {
        (**self).validate(token)
    }

    fn readiness(&self) -> Readiness {
        (**self).readiness()
    }
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Claims, AuthError>> + Send + 'static>>;

/// The outcome of [`Validator::validate`]: either decided already, or a future.
#[must_use = "a validation does nothing unless awaited or inspected"]
pub struct ValidationFuture(State);

enum State {
    Ready(Option<Result<Claims, AuthError>>),
    Pending(BoxFuture),
}

impl ValidationFuture {
    /// An outcome known at once (no allocation).
    pub fn ready(result: Result<Claims, AuthError>) -> Self {
        ValidationFuture(State::Ready(Some(result)))
    }

    /// An outcome that needs to wait (boxes the future).
    pub fn pending<F>(future: F) -> Self
    where
        F: Future<Output = Result<Claims, AuthError>> + Send + 'static,
    {
        ValidationFuture(State::Pending(Box::pin(future)))
    }

    /// The outcome if it is known already, or the validation back if it must be awaited.
    pub fn into_ready(self) -> Result<Result<Claims, AuthError>, Self> {
        match self.0 {
            State::Ready(Some(result)) => Ok(result),
            other => Err(ValidationFuture(other)),
        }
    }
}

impl Future for ValidationFuture {
    type Output = Result<Claims, AuthError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            State::Ready(result) => Poll::Ready(result.take().unwrap_or(Err(
                AuthError::Misconfigured("validation polled after completion"),
            ))),
            State::Pending(fut) => fut.as_mut().poll(cx),
        }
    }
}

impl std::fmt::Debug for ValidationFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            State::Ready(_) => f.write_str("ValidationFuture::Ready"),
            State::Pending(_) => f.write_str("ValidationFuture::Pending"),
        }
    }
}
