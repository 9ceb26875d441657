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
//! # Answers
//!
//! | situation | error | answer |
//! |---|---|---|
//! | requirement not met | [`AuthError::InsufficientScope`] | 403, `WWW-Authenticate: Bearer error="insufficient_scope", error_description="…", scope="<required>"` |
//! | no claims, request let through anonymously by an [optional](crate::AuthLayer::optional) auth layer | [`BearerError::Missing`] | 401, `WWW-Authenticate: Bearer` (+ realm) |
//! | no claims and no auth layer in front | [`AuthError::Misconfigured`] | 500, logged at error level |
//!
//! The challenge uses the [`Challenge`](crate::error::Challenge) the auth layer left in the extensions, so realm and
//! `resource_metadata` match the auth layer's own answers. The answer is built by the layer's
//! [`ErrorHandler`](crate::error::ErrorHandler) ([`DefaultErrorHandler`](crate::error::DefaultErrorHandler) unless set with [`RequireScopeLayer::error_handler`]),
//! so the same layer serves gRPC with the `tonic` feature's `GrpcErrors`.
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
//!
//! | file | what |
//! |---|---|
//! | `requirement.rs` | [`Requirement`]: what the claims must satisfy |
//! | `map.rs` | [`ScopeMap`]: one requirement per request path (gRPC method) |
//! | `layer.rs` | [`RequireScopeLayer`] |
//! | `service.rs` | [`RequireScope`]: checks the claims, answers 401/403/500 |
//! | `future.rs` | [`future::ResponseFuture`] |

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
