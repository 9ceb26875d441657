//! Per-route authorization: [`RequireScope`] lets a request through only if the verified
//! [`Claims`] that [`AuthLayer`](crate::AuthLayer) put into its extensions meet a
//! [`Requirement`] (all of some scopes, any of some scopes, or your own predicate).
//!
//! Put it *inside* the auth layer (closer to the handler), e.g. with axum's `route_layer`:
//!
//! ```no_run
//! # async fn demo(validator: bearer_guard::JwtValidator) {
//! use axum::{routing::{get, post}, Router};
//! use bearer_guard::{AuthLayer, RequireScope};
//!
//! let app: Router = Router::new()
//!     .route("/items", get(|| async { "list" }).route_layer(RequireScope::any(["items:read", "items:admin"])))
//!     .route("/items/new", post(|| async { "created" }).route_layer(RequireScope::all(["items:read", "items:write"])))
//!     .layer(AuthLayer::new(validator));
//! # }
//! ```
//!
//! # Answers
//!
//! | situation | error | answer |
//! |---|---|---|
//! | requirement not met | [`AuthError::InsufficientScope`] | 403, `WWW-Authenticate: Bearer error="insufficient_scope", error_description="…", scope="<required>"` |
//! | no claims, request let through anonymously by an [optional](crate::AuthLayer::optional) auth layer | [`BearerError::Missing`] | 401, `WWW-Authenticate: Bearer` (+ realm) |
//! | no claims and no auth layer in front | [`AuthError::Misconfigured`] | 500, logged at error level |
//!
//! The challenge uses the [`Challenge`] the auth layer left in the extensions, so realm and
//! `resource_metadata` match the auth layer's own answers. The answer is built by the layer's
//! [`ErrorHandler`] ([`DefaultErrorHandler`] unless set with [`RequireScope::error_handler`]),
//! so the same layer serves gRPC with the `tonic` feature's `GrpcErrors`.
//!
//! # gRPC: one requirement per method
//!
//! A tonic server has one layer stack for all its services; a [`ScopeMap`] picks the
//! requirement by request path (`/package.Service/Method`):
//!
//! ```
//! use bearer_guard::{Requirement, RequireScope, ScopeMap};
//!
//! let layer = RequireScope::map(
//!     ScopeMap::new()
//!         .route("/greeter.Greeter/SayHello", Requirement::all(["greet:read"]))
//!         .route("/greeter.Greeter/Reset", Requirement::all(["greet:admin"]))
//!         .service("/grpc.health.v1.Health", Requirement::authenticated()),
//! );
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Extensions, Request, Response};
use pin_project::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::bearer::BearerError;
use crate::error::{Challenge, DefaultErrorHandler, ErrorHandler};
use crate::layer::Anonymous;
use crate::{AuthError, Claims};

/// The verified claims of a request, or why there are none.
///
/// * [`Claims`] in the extensions → `Ok`.
/// * An [`Anonymous`] marker (an optional auth layer let the request through without a token)
///   → `Err(AuthError::Bearer(BearerError::Missing))`, answered 401 with a challenge.
/// * Neither → `Err(AuthError::Misconfigured(..))`: nothing authenticated the request, so the
///   check fails closed with 500.
///
/// ```
/// use bearer_guard::{scope::claims, AuthError};
/// let ext = http::Extensions::new();
/// assert!(matches!(claims(&ext), Err(AuthError::Misconfigured(_))));
/// ```
pub fn claims(extensions: &Extensions) -> Result<&Claims, AuthError> {
    match extensions.get::<Claims>() {
        Some(claims) => Ok(claims),
        None if extensions.get::<Anonymous>().is_some() => Err(BearerError::Missing.into()),
        None => Err(AuthError::Misconfigured(
            "claims required but no AuthLayer in front of this route",
        )),
    }
}

type Predicate = dyn Fn(&Claims) -> bool + Send + Sync;

/// What the claims of a request must satisfy. Cheap to clone.
#[derive(Clone)]
pub struct Requirement(Arc<Inner>);

struct Inner {
    rule: Rule,
    /// Space-separated text sent as the challenge's `scope` parameter.
    required: String,
}

enum Rule {
    All(Vec<String>),
    Any(Vec<String>),
    Predicate(Box<Predicate>),
    Authenticated,
}

impl Requirement {
    /// Every one of `scopes` must be granted (an empty list asks only for a valid token,
    /// like [`Requirement::authenticated`]).
    ///
    /// ```
    /// use bearer_guard::{Claims, Requirement};
    /// let c = Claims::from_value(serde_json::json!({"scope": "a b"})).unwrap();
    /// assert!(Requirement::all(["a", "b"]).check(&c).is_ok());
    /// assert!(Requirement::all(["a", "c"]).check(&c).is_err());
    /// ```
    pub fn all<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        Self::new(Rule::All(scopes.clone()), scopes.join(" "))
    }

    /// At least one of `scopes` must be granted. The challenge names all of them.
    ///
    /// An empty list is never satisfied (fail closed).
    pub fn any<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        Self::new(Rule::Any(scopes.clone()), scopes.join(" "))
    }

    /// Your own rule on the claims (a role in a nested claim, `azp`, a tenant, …).
    ///
    /// `required` is sent as the challenge's `scope` parameter when the rule fails, so make
    /// it a short scope-like text such as `"role:admin"`; it is configuration, never request
    /// data.
    ///
    /// ```
    /// use bearer_guard::{Claims, Requirement};
    /// let admin = Requirement::predicate(
    ///     |c: &Claims| c.get("realm_access").and_then(|r| r["roles"].as_array())
    ///         .is_some_and(|roles| roles.iter().any(|r| r == "admin")),
    ///     "role:admin",
    /// );
    /// let c = Claims::from_value(serde_json::json!({"realm_access": {"roles": ["admin"]}})).unwrap();
    /// assert!(admin.check(&c).is_ok());
    /// ```
    pub fn predicate<F>(f: F, required: impl Into<String>) -> Self
    where
        F: Fn(&Claims) -> bool + Send + Sync + 'static,
    {
        Self::new(Rule::Predicate(Box::new(f)), required.into())
    }

    /// Any verified claims will do (a valid token is enough).
    pub fn authenticated() -> Self {
        Self::new(Rule::Authenticated, String::new())
    }

    fn new(rule: Rule, required: String) -> Self {
        Requirement(Arc::new(Inner { rule, required }))
    }

    /// The text sent as the challenge's `scope` parameter.
    pub fn required(&self) -> &str {
        &self.0.required
    }

    /// Whether `claims` meet the requirement; if not, the
    /// [`AuthError::InsufficientScope`] to answer with.
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        let ok = match &self.0.rule {
            Rule::All(scopes) => claims.scopes().contains_all(scopes),
            Rule::Any(scopes) => claims.scopes().contains_any(scopes),
            Rule::Predicate(f) => f(claims),
            Rule::Authenticated => true,
        };
        if ok {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope {
                required: self.0.required.clone(),
            })
        }
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0.rule {
            Rule::All(_) => "all",
            Rule::Any(_) => "any",
            Rule::Predicate(_) => "predicate",
            Rule::Authenticated => "authenticated",
        };
        f.debug_struct("Requirement")
            .field("kind", &kind)
            .field("required", &self.0.required)
            .finish()
    }
}

/// Requirements chosen by request path, for gRPC methods (`/package.Service/Method`) or any
/// service where one layer covers many paths.
///
/// Lookup order: exact [`route`](ScopeMap::route), then [`service`](ScopeMap::service)
/// prefix, then the [`fallback`](ScopeMap::fallback). A path that matches nothing and has no
/// fallback is refused with [`AuthError::Misconfigured`] (500 / gRPC `INTERNAL`): a method
/// someone forgot to list is closed, not open.
#[derive(Debug, Clone, Default)]
pub struct ScopeMap {
    routes: Vec<(String, Requirement)>,
    services: Vec<(String, Requirement)>,
    fallback: Option<Requirement>,
}

impl ScopeMap {
    /// An empty map (refuses every path until entries are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// The requirement for exactly `path`, e.g. `/greeter.Greeter/SayHello`.
    pub fn route(mut self, path: impl Into<String>, requirement: Requirement) -> Self {
        self.routes.push((path.into(), requirement));
        self
    }

    /// The requirement for every method of a gRPC service, e.g. `/greeter.Greeter`
    /// (matches `/greeter.Greeter/<anything>`).
    pub fn service(mut self, service: impl Into<String>, requirement: Requirement) -> Self {
        let mut prefix: String = service.into();
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        self.services.push((prefix, requirement));
        self
    }

    /// The requirement for paths not listed otherwise.
    pub fn fallback(mut self, requirement: Requirement) -> Self {
        self.fallback = Some(requirement);
        self
    }

    /// The requirement for `path`, if any.
    pub fn get(&self, path: &str) -> Option<&Requirement> {
        self.routes
            .iter()
            .find(|(p, _)| p == path)
            .or_else(|| self.services.iter().find(|(p, _)| path.starts_with(p)))
            .map(|(_, r)| r)
            .or(self.fallback.as_ref())
    }
}

#[derive(Debug, Clone)]
enum Policy {
    One(Requirement),
    ByPath(Arc<ScopeMap>),
}

impl Policy {
    fn check<B>(&self, req: &Request<B>) -> Result<(), AuthError> {
        // Claims first: an unauthenticated request gets 401, whatever the path.
        let claims = claims(req.extensions())?;
        let requirement = match self {
            Policy::One(r) => r,
            Policy::ByPath(map) => map.get(req.uri().path()).ok_or(AuthError::Misconfigured(
                "no scope requirement configured for this path",
            ))?,
        };
        requirement.check(claims)
    }
}

/// Tower layer that lets a request through only if its verified claims meet a
/// [`Requirement`]. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct RequireScope<H = DefaultErrorHandler> {
    policy: Policy,
    handler: H,
}

impl RequireScope {
    /// Requires every one of `scopes` ([`Requirement::all`]).
    pub fn all<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Requirement::all(scopes))
    }

    /// Requires at least one of `scopes` ([`Requirement::any`]).
    pub fn any<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::new(Requirement::any(scopes))
    }

    /// Requires your own rule on the claims ([`Requirement::predicate`]); `required` is sent
    /// as the challenge's `scope` parameter on failure.
    pub fn predicate<F>(f: F, required: impl Into<String>) -> Self
    where
        F: Fn(&Claims) -> bool + Send + Sync + 'static,
    {
        Self::new(Requirement::predicate(f, required))
    }

    /// Requires `requirement` on every request.
    pub fn new(requirement: Requirement) -> Self {
        RequireScope {
            policy: Policy::One(requirement),
            handler: DefaultErrorHandler,
        }
    }

    /// Picks the requirement by request path (see [`ScopeMap`]).
    pub fn map(map: ScopeMap) -> Self {
        RequireScope {
            policy: Policy::ByPath(Arc::new(map)),
            handler: DefaultErrorHandler,
        }
    }
}

impl<H> RequireScope<H> {
    /// Answers refused requests with `handler` instead of [`DefaultErrorHandler`] (e.g.
    /// `GrpcErrors` for tonic).
    pub fn error_handler<H2>(self, handler: H2) -> RequireScope<H2> {
        RequireScope {
            policy: self.policy,
            handler,
        }
    }
}

impl<S, H: Clone> Layer<S> for RequireScope<H> {
    type Service = ScopeService<S, H>;

    fn layer(&self, inner: S) -> Self::Service {
        ScopeService {
            inner,
            policy: self.policy.clone(),
            handler: self.handler.clone(),
        }
    }
}

/// The service made by [`RequireScope`].
#[derive(Debug, Clone)]
pub struct ScopeService<S, H = DefaultErrorHandler> {
    inner: S,
    policy: Policy,
    handler: H,
}

impl<S, H, ReqB, ResB> Service<Request<ReqB>> for ScopeService<S, H>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    H: ErrorHandler<ResB>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ScopeFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        match self.policy.check(&req) {
            Ok(()) => ScopeFuture {
                state: ScopeState::Calling {
                    future: self.inner.call(req),
                },
            },
            Err(error) => {
                error.log();
                let challenge = req
                    .extensions()
                    .get::<Challenge>()
                    .cloned()
                    .unwrap_or_default();
                ScopeFuture {
                    state: ScopeState::Rejected {
                        response: Some(self.handler.respond(&error, &challenge)),
                    },
                }
            }
        }
    }
}

/// Response future of [`ScopeService`].
#[pin_project]
pub struct ScopeFuture<F, ResB> {
    #[pin]
    state: ScopeState<F, ResB>,
}

#[pin_project(project = ScopeStateProj)]
enum ScopeState<F, ResB> {
    Calling {
        #[pin]
        future: F,
    },
    Rejected {
        response: Option<Response<ResB>>,
    },
}

impl<F, ResB, E> Future for ScopeFuture<F, ResB>
where
    F: Future<Output = Result<Response<ResB>, E>>,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().state.project() {
            ScopeStateProj::Calling { future } => future.poll(cx),
            ScopeStateProj::Rejected { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                None => panic!("ScopeFuture polled after completion"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(v: serde_json::Value) -> Claims {
        Claims::from_value(v).unwrap()
    }

    #[test]
    fn any_with_no_scopes_fails_closed() {
        assert!(Requirement::any(Vec::<String>::new())
            .check(&c(json!({"scope": "a"})))
            .is_err());
    }

    #[test]
    fn map_lookup_order() {
        let m = ScopeMap::new()
            .route("/p.S/A", Requirement::all(["a"]))
            .service("/p.S", Requirement::all(["s"]));
        assert_eq!(m.get("/p.S/A").unwrap().required(), "a");
        assert_eq!(m.get("/p.S/B").unwrap().required(), "s");
        assert!(m.get("/p.SX/B").is_none());
        assert!(m.get("/other").is_none());
        let m = m.fallback(Requirement::all(["f"]));
        assert_eq!(m.get("/other").unwrap().required(), "f");
    }

    #[test]
    fn anonymous_is_401_no_layer_is_500() {
        let mut ext = Extensions::new();
        assert_eq!(claims(&ext).unwrap_err().status(), 500);
        ext.insert(Anonymous);
        assert_eq!(claims(&ext).unwrap_err().status(), 401);
    }
}
