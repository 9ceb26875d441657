//! Per-route authorization: [`RequireScopeLayer`] (which makes [`RequireScope`] services) lets
//! a request through only if the verified [`Claims`] that [`AuthLayer`](crate::AuthLayer) put into its extensions meet a
//! [`Requirement`] (all of some scopes, any of some scopes, or your own predicate).
//!
//! Put it *inside* the auth layer (closer to the handler), e.g. with axum's `route_layer`:
//!
//! ```no_run
//! # async fn demo(validator: bearer_guard::JwtValidator) {
//! use axum::{routing::{get, post}, Router};
//! use bearer_guard::{AuthLayer, RequireScopeLayer};
//!
//! let app: Router = Router::new()
//!     .route("/items", get(|| async { "list" }).route_layer(RequireScopeLayer::any(["items:read", "items:admin"])))
//!     .route("/items/new", post(|| async { "created" }).route_layer(RequireScopeLayer::all(["items:read", "items:write"])))
//!     .layer(AuthLayer::new(validator));
//! # }
//! ```
//!
//! A token that does not meet the requirement gets 403 `insufficient_scope` naming the required
//! scopes (a step-up requirement: 401 `insufficient_user_authentication`); a request with no
//! claims (an [optional](crate::AuthLayer::optional) auth layer let it through) gets 401, and
//! one with no auth layer in front 500, logged: the whole table is in [`error`](crate::error).
//! The challenge uses the [`Challenge`](crate::error::Challenge) the auth layer left in the
//! extensions, so realm and `resource_metadata` match the auth layer's own answers. The answer
//! is built by the layer's [`ErrorHandler`](crate::error::ErrorHandler)
//! ([`DefaultErrorHandler`](crate::error::DefaultErrorHandler) unless set with
//! [`RequireScopeLayer::error_handler`]), so the same layer serves gRPC with the `tonic`
//! feature's `GrpcErrors`.
//!
//! # Where scopes come from; roles and nested claims
//!
//! Scopes come from the `scope` claim (space-delimited) or, when it is absent, `scp` (an array
//! or a string). Wherever a claim name is taken (`scope_claim` on the validator builders), an
//! RFC 6901 JSON Pointer reaches into nested claims, and [`Requirement::claim_all`] /
//! [`Requirement::claim_any`] check another claim (roles, groups, permissions) beside the
//! scopes. An element of an array claim is one value, kept whole (a group named `"not admin"`
//! never grants `admin`); a string claim is space-delimited. Recipes:
//!
//! | provider | scopes | roles / permissions |
//! |---|---|---|
//! | Keycloak | `scope` (default) | `Requirement::claim_all("/realm_access/roles", ["admin"])`; client roles: `"/resource_access/my-client/roles"` |
//! | Entra ID | `scp` string (read when `scope` is absent) | app roles: `Requirement::claim_any("roles", ["Reports.Read"])` |
//! | Auth0 | `scope` (default) | RBAC: `Requirement::claim_all("permissions", ["read:items"])` |
//! | Okta | `scp` array (default) | `Requirement::claim_any("groups", ["Sales Team"])` (with a groups claim configured) |
//!
//! [`RequireScopeLayer::predicate`] checks anything else (a tenant, `azp`), and
//! `Claims::pointer("/realm_access/roles")` reads any nested value in a handler.
//!
//! # Step-up authentication (RFC 9470)
//!
//! A route can also require how the user authenticated:
//! `Requirement::all(["pay"]).acr(["urn:example:mfa"]).max_age(Duration::from_secs(300))`
//! needs the scope, an `acr` claim naming one of the values, and an `auth_time` at most five
//! minutes old (a missing `auth_time` fails a `max_age` requirement). Otherwise the answer is
//! 401 with `WWW-Authenticate: Bearer error="insufficient_user_authentication", …,
//! acr_values="urn:example:mfa", max_age="300"` (gRPC: `UNAUTHENTICATED`), telling the client to
//! get a new token with a stronger or fresher sign-in. Use it with
//! [`RequireScopeLayer::new`] like any other requirement.
//!
//! # gRPC: one requirement per method
//!
//! A tonic server has one layer stack for all its services; a [`ScopeMap`] picks the
//! requirement by request path (`/package.Service/Method`):
//!
//! ```
//! use bearer_guard::{Requirement, RequireScopeLayer, scope::ScopeMap};
//!
//! let layer = RequireScopeLayer::map(
//!     ScopeMap::new()
//!         .route("/greeter.Greeter/SayHello", Requirement::all(["greet:read"]))
//!         .route("/greeter.Greeter/Reset", Requirement::all(["greet:admin"]))
//!         .service("/grpc.health.v1.Health", Requirement::authenticated()),
//! );
//! ```

use http::Extensions;

use crate::auth::Anonymous;
use crate::error::BearerError;
use crate::{AuthError, Claims};

pub mod future;
mod layer;
mod map;
mod requirement;
mod service;

pub use layer::RequireScopeLayer;
pub use map::ScopeMap;
pub use requirement::Requirement;
pub use service::RequireScope;

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

#[cfg(test)]
mod tests;
