//! The response future of [`RequireMcpScope`](super::RequireMcpScope): reads the body, checks
//! it, then calls the inner service with exactly the bytes it checked.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::request::Parts;
use http::{Request, Response};
use http_body::Body;
use http_body_util::combinators::Collect;
use http_body_util::Limited;
use pin_project::pin_project;
use tower_service::Service;

use super::body::read_error;
use super::{BoxError, McpRequirements};
use crate::error::{Challenge, ErrorHandler};
use crate::AuthError;

/// Response future of [`RequireMcpScope`](super::RequireMcpScope).
#[pin_project]
pub struct ResponseFuture<S, B, H>
where
    S: Service<Request<B>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    #[pin]
    state: State<S, B, H>,
}

#[pin_project(project = StateProj)]
enum State<S, B, H>
where
    S: Service<Request<B>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Reading the body (at most the limit), with the inner service made ready for it.
    Reading {
        #[pin]
        body: Collect<Limited<B>>,
        /// Boxed: the head of the request is large and only this state holds it.
        parts: Option<Box<Parts>>,
        inner: S,
        requirements: Arc<McpRequirements>,
        handler: H,
    },
    Calling {
        #[pin]
        future: S::Future,
    },
    Rejected {
        response: Option<S::Response>,
    },
}

impl<S, B, H> ResponseFuture<S, B, H>
where
    S: Service<Request<B>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    pub(super) fn calling(future: S::Future) -> Self {
        ResponseFuture {
            state: State::Calling { future },
        }
    }

    pub(super) fn rejected(response: S::Response) -> Self {
        ResponseFuture {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }

    pub(super) fn reading(
        body: Collect<Limited<B>>,
        parts: Parts,
        inner: S,
        requirements: Arc<McpRequirements>,
        handler: H,
    ) -> Self {
        ResponseFuture {
            state: State::Reading {
                body,
                parts: Some(Box::new(parts)),
                inner,
                requirements,
                handler,
            },
        }
    }
}

/// The answer to a refused request, through the layer's error handler and with the challenge
/// the auth layer left in the extensions.
pub(super) fn refuse<ResB, H: ErrorHandler<ResB>>(
    error: &AuthError,
    extensions: &http::Extensions,
    handler: &H,
) -> Response<ResB> {
    error.log();
    let challenge = extensions.get::<Challenge>().cloned().unwrap_or_default();
    handler.respond(error, &challenge)
}

impl<S, B, H, ResB> Future for ResponseFuture<S, B, H>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    B: Body + From<Bytes>,
    B::Error: Into<BoxError>,
    H: ErrorHandler<ResB>,
{
    type Output = Result<Response<ResB>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            let next = match this.state.as_mut().project() {
                StateProj::Calling { future } => return future.poll(cx),
                StateProj::Rejected { response } => {
                    return match response.take() {
                        Some(r) => Poll::Ready(Ok(r)),
                        None => panic!("ResponseFuture polled after completion"),
                    }
                }
                StateProj::Reading {
                    body,
                    parts,
                    inner,
                    requirements,
                    handler,
                } => {
                    let read = ready!(body.poll(cx));
                    let Some(parts) = parts.take() else {
                        panic!("ResponseFuture polled after completion")
                    };
                    let checked = read
                        .map(|collected| collected.to_bytes())
                        .map_err(|e| AuthError::from(read_error(e.as_ref())))
                        .and_then(|bytes| {
                            let claims = crate::scope::claims(&parts.extensions)?;
                            requirements.check_body(&bytes, claims)?;
                            Ok(bytes)
                        });
                    match checked {
                        // The inner service gets the very bytes that were checked.
                        Ok(bytes) => State::Calling {
                            future: inner.call(Request::from_parts(*parts, B::from(bytes))),
                        },
                        Err(error) => State::Rejected {
                            response: Some(refuse(&error, &parts.extensions, handler)),
                        },
                    }
                }
            };
            this.state.set(next);
        }
    }
}
