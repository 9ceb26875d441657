//! [`BindMcpSessionLayer`]: MCP sessions bound to the principal that opened them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use http::{HeaderName, Method, Request, Response};
use moka::policy::EvictionPolicy;
use moka::sync::Cache;
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::future::refuse;
use crate::error::{DefaultErrorHandler, ErrorHandler, RequestError};
use crate::{error::BearerError, AuthError, Claims};

/// The header that names an MCP session (streamable HTTP transport).
pub const MCP_SESSION_ID: HeaderName = HeaderName::from_static("mcp-session-id");

/// How many sessions are remembered by default.
pub const DEFAULT_SESSION_CAPACITY: u64 = 100_000;
/// How long a session is remembered without a request, by default: one hour.
pub const DEFAULT_SESSION_IDLE: Duration = Duration::from_secs(3600);

/// Who opened a session: the token's issuer and subject (its `client_id` when it has no
/// `sub`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Principal {
    issuer: Option<Box<str>>,
    subject: Option<Box<str>>,
}

impl Principal {
    fn of(claims: &Claims) -> Self {
        Principal {
            issuer: claims.issuer().map(Into::into),
            subject: claims.subject().or(claims.client_id()).map(Into::into),
        }
    }
}

type Sessions = Cache<Box<[u8]>, Arc<Principal>>;

/// Tower layer that binds each MCP session to the principal that opened it. See the
/// [module documentation](super#sessions-bound-to-their-principal).
#[derive(Debug, Clone)]
pub struct BindMcpSessionLayer<H = DefaultErrorHandler> {
    sessions: Sessions,
    capacity: u64,
    idle: Duration,
    handler: H,
}

fn session_cache(capacity: u64, idle: Duration) -> Sessions {
    // LRU, not TinyLFU: a new session is always recorded (admission could turn it away).
    Cache::builder()
        .max_capacity(capacity)
        .time_to_idle(idle)
        .eviction_policy(EvictionPolicy::lru())
        .build()
}

impl BindMcpSessionLayer {
    /// Remembers up to [`DEFAULT_SESSION_CAPACITY`] sessions, each until it has been idle for
    /// [`DEFAULT_SESSION_IDLE`].
    pub fn new() -> Self {
        BindMcpSessionLayer {
            sessions: session_cache(DEFAULT_SESSION_CAPACITY, DEFAULT_SESSION_IDLE),
            capacity: DEFAULT_SESSION_CAPACITY,
            idle: DEFAULT_SESSION_IDLE,
            handler: DefaultErrorHandler,
        }
    }
}

impl Default for BindMcpSessionLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl<H> BindMcpSessionLayer<H> {
    /// How many sessions are remembered at most. Keep it above the number of sessions the MCP
    /// server keeps alive: the least recently used record is forgotten first, and a forgotten
    /// session is no longer bound (it passes like an unknown one).
    pub fn capacity(mut self, sessions: u64) -> Self {
        self.capacity = sessions;
        self.sessions = session_cache(self.capacity, self.idle);
        self
    }

    /// How long a session is remembered after its last request. Keep it at least as long as
    /// the MCP server keeps an idle session.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self.sessions = session_cache(self.capacity, self.idle);
        self
    }

    /// Answers refused requests with `handler` instead of
    /// [`DefaultErrorHandler`](crate::error::DefaultErrorHandler).
    pub fn error_handler<H2>(self, handler: H2) -> BindMcpSessionLayer<H2> {
        BindMcpSessionLayer {
            sessions: self.sessions,
            capacity: self.capacity,
            idle: self.idle,
            handler,
        }
    }
}

impl<S, H: Clone> Layer<S> for BindMcpSessionLayer<H> {
    type Service = BindMcpSession<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        BindMcpSession {
            inner,
            sessions: self.sessions.clone(),
            handler: self.handler.clone(),
        }
    }
}

/// The service made by [`BindMcpSessionLayer`]: refuses a request whose `Mcp-Session-Id`
/// was opened by another principal, and records the sessions its inner service opens.
#[derive(Debug, Clone)]
pub struct BindMcpSession<S, H = DefaultErrorHandler> {
    inner: S,
    sessions: Sessions,
    handler: H,
}

impl<S, H> BindMcpSession<S, H> {
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

impl<S, H, ReqB, ResB> Service<Request<ReqB>> for BindMcpSession<S, H>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    H: ErrorHandler<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = SessionFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let principal = match crate::scope::claims(req.extensions()) {
            Ok(claims) => Some(Arc::new(Principal::of(claims))),
            // Let through anonymously by an optional auth layer: owns no session.
            Err(AuthError::Bearer(BearerError::Missing)) => None,
            Err(error) => {
                return SessionFuture::rejected(refuse(&error, req.extensions(), &self.handler))
            }
        };
        let presented: Option<Box<[u8]>> = req
            .headers()
            .get(MCP_SESSION_ID)
            .map(|id| id.as_bytes().into());
        if let Some(id) = &presented {
            if let Some(owner) = self.sessions.get(id) {
                if principal.as_deref() != Some(&*owner) {
                    let error = AuthError::from(RequestError::UnknownSession);
                    return SessionFuture::rejected(refuse(
                        &error,
                        req.extensions(),
                        &self.handler,
                    ));
                }
            }
        }
        let deleting = presented.filter(|_| req.method() == Method::DELETE);
        SessionFuture {
            state: State::Calling {
                future: self.inner.call(req),
                after: Some(After {
                    sessions: self.sessions.clone(),
                    principal,
                    deleting,
                }),
            },
        }
    }
}

/// What to record once the inner service has answered.
struct After {
    sessions: Sessions,
    principal: Option<Arc<Principal>>,
    /// The session a `DELETE` ends.
    deleting: Option<Box<[u8]>>,
}

impl After {
    fn record<B>(self, response: &Response<B>) {
        if !response.status().is_success() {
            return;
        }
        if let Some(id) = self.deleting {
            self.sessions.invalidate(&id);
            return;
        }
        if let (Some(principal), Some(id)) =
            (self.principal, response.headers().get(MCP_SESSION_ID))
        {
            // Never moves a session recorded for someone else.
            self.sessions
                .entry(id.as_bytes().into())
                .or_insert(principal);
        }
    }
}

/// Response future of [`BindMcpSession`].
#[pin_project]
pub struct SessionFuture<F, ResB> {
    #[pin]
    state: State<F, ResB>,
}

#[pin_project(project = StateProj)]
enum State<F, ResB> {
    Calling {
        #[pin]
        future: F,
        after: Option<After>,
    },
    Rejected {
        response: Option<Response<ResB>>,
    },
}

impl<F, ResB> SessionFuture<F, ResB> {
    fn rejected(response: Response<ResB>) -> Self {
        SessionFuture {
            state: State::Rejected {
                response: Some(response),
            },
        }
    }
}

impl<F, ResB, E> Future for SessionFuture<F, ResB>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            StateProj::Calling { future, after } => {
                let result = ready!(future.poll(cx));
                if let (Ok(response), Some(after)) = (&result, after.take()) {
                    after.record(response);
                }
                Poll::Ready(result)
            }
            StateProj::Rejected { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => panic!("SessionFuture polled after completion"),
            },
        }
    }
}
