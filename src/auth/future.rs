//! The response future of [`Auth`](super::Auth).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use http::header::CACHE_CONTROL;
use http::{HeaderValue, Request, Response};
use pin_project::pin_project;
use tower_service::Service;

use super::config::Config;
use crate::bearer::AuthScheme;
use crate::claims::Claims;
use crate::dpop::{Checked, Nonce, PendingCheck, NONCE_HEADER};
use crate::error::{AuthError, Challenge, ErrorHandler};
use crate::validator::ValidationFuture;

/// What a request waiting for validation keeps until it can go on.
pub(super) struct Pending<S, ReqB, H> {
    pub(super) req: Request<ReqB>,
    pub(super) inner: S,
    pub(super) config: Arc<Config<H>>,
    pub(super) scheme: AuthScheme,
    /// The token came in the query string (see [`State::accept`]).
    pub(super) private: bool,
}

impl<S, ReqB, H> Pending<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    /// Goes on to the inner service with the claims and nonce, or answers the error.
    fn finish<ResB>(self, result: Result<(Claims, Option<Nonce>), AuthError>) -> State<S, ReqB, H>
    where
        S: Service<Request<ReqB>, Response = Response<ResB>>,
        H: ErrorHandler<ResB>,
    {
        let Pending {
            req,
            mut inner,
            config,
            scheme,
            private,
        } = self;
        match result {
            Ok((claims, nonce)) => {
                let challenge = config.challenge_for(scheme).clone();
                State::accept(&mut inner, req, claims, challenge, nonce, private)
            }
            Err(error) => State::reject(&config, &error, scheme),
        }
    }
}

/// A request whose token was accepted, with its claims, waiting for the shared replay store.
pub(super) type Accepted<S, ReqB, H> = (Pending<S, ReqB, H>, Claims);

/// Response future of [`Auth`](super::Auth).
#[pin_project]
pub struct ResponseFuture<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    #[pin]
    pub(super) state: State<S, ReqB, H>,
}

#[pin_project(project = StateProj)]
pub(super) enum State<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    Validating {
        validation: ValidationFuture,
        parts: Option<Box<Pending<S, ReqB, H>>>,
    },
    Calling {
        #[pin]
        future: S::Future,
        /// A fresh DPoP nonce for the `DPoP-Nonce` header of the response.
        nonce: Option<Nonce>,
        /// `Cache-Control: private` on a success, unless the service set its own.
        private: bool,
    },
    /// The token and proof are accepted; the shared replay store is asked about the proof.
    Replaying {
        check: PendingCheck<Option<Nonce>>,
        parts: Option<Box<Accepted<S, ReqB, H>>>,
    },
    Rejected {
        response: Option<S::Response>,
    },
}

impl<S, ReqB, H> ResponseFuture<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    pub(super) fn inner(future: S::Future, nonce: Option<Nonce>) -> Self {
        ResponseFuture {
            state: State::Calling {
                future,
                nonce,
                private: false,
            },
        }
    }
}

impl<S, ReqB, H> State<S, ReqB, H>
where
    S: Service<Request<ReqB>>,
{
    /// An accepted request goes on to `inner`, with its claims and challenge in its
    /// extensions. `private`: the token came in the query string, so a success answer gets
    /// `Cache-Control: private` (RFC 6750 §2.3) unless the service set its own.
    pub(super) fn accept(
        inner: &mut S,
        mut req: Request<ReqB>,
        claims: Claims,
        challenge: Challenge,
        nonce: Option<Nonce>,
        private: bool,
    ) -> Self {
        req.extensions_mut().insert(claims);
        req.extensions_mut().insert(challenge);
        State::Calling {
            future: inner.call(req),
            nonce,
            private,
        }
    }

    /// A refused request is answered by the error handler (the error is logged and counted
    /// first).
    pub(super) fn reject<ResB>(config: &Config<H>, error: &AuthError, scheme: AuthScheme) -> Self
    where
        S: Service<Request<ReqB>, Response = Response<ResB>>,
        H: ErrorHandler<ResB>,
    {
        error.log();
        crate::telemetry::refused(error);
        State::Rejected {
            response: Some(config.handler.respond(error, config.challenge_for(scheme))),
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
                StateProj::Calling {
                    future,
                    nonce,
                    private,
                } => {
                    let mut result = ready!(future.poll(cx));
                    if let (Ok(response), Some(nonce)) = (&mut result, nonce.take()) {
                        // RFC 9449 §9: a new nonce may come with any response; one the
                        // service set itself is kept.
                        if let Some(value) = nonce.header_value() {
                            response.headers_mut().entry(NONCE_HEADER).or_insert(value);
                        }
                    }
                    if let Ok(response) = &mut result {
                        if *private && response.status().is_success() {
                            let value = HeaderValue::from_static("private");
                            response.headers_mut().entry(CACHE_CONTROL).or_insert(value);
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
                StateProj::Replaying { check, parts } => {
                    let result = ready!(check.as_mut().poll(cx));
                    let Some(parts) = parts.take() else {
                        panic!("ResponseFuture polled after completion");
                    };
                    let (pending, claims) = *parts;
                    pending.finish(result.map(|nonce| (claims, nonce)))
                }
                StateProj::Validating { validation, parts } => {
                    let result = match Pin::new(validation).poll(cx) {
                        Poll::Ready(r) => r,
                        Poll::Pending => return Poll::Pending,
                    };
                    let Some(pending) = parts.take() else {
                        panic!("ResponseFuture polled after completion");
                    };
                    let result = result.and_then(|claims| {
                        pending
                            .config
                            .check_binding(&pending.req, pending.scheme, &claims)
                            .map(|checked| (claims, checked))
                    });
                    match result {
                        Ok((claims, Checked::Pending(check))) => State::Replaying {
                            check,
                            parts: Some(Box::new((*pending, claims))),
                        },
                        Ok((claims, Checked::Done(nonce))) => pending.finish(Ok((claims, nonce))),
                        Err(error) => pending.finish(Err(error)),
                    }
                }
            };
            this.state.set(next);
        }
    }
}
