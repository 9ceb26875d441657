//! axum integration (feature `axum`): the [`Authenticated`] extractor and `IntoResponse` for
//! [`AuthError`].
//!
//! [`AuthLayer`](crate::AuthLayer) verifies the token and stores the [`Claims`]; `Authenticated<T>`
//! hands them to the handler, as [`Claims`] (an `Arc` clone) or as your own
//! `serde::Deserialize` type. `Option<Authenticated<T>>` is for routes behind an
//! [optional](crate::AuthLayer::optional) auth layer.
//!
//! ```no_run
//! # async fn demo(validator: bearer_guard::JwtValidator) {
//! use axum::{routing::get, Router};
//! use bearer_guard::{axum::Authenticated, AuthLayer, Claims};
//!
//! #[derive(serde::Deserialize)]
//! struct User { sub: String, tenant: String }
//!
//! async fn me(Authenticated(claims): Authenticated) -> String {
//!     claims.subject().unwrap_or_default().to_owned()
//! }
//! async fn tenant(Authenticated(user): Authenticated<User>) -> String {
//!     format!("{} @ {}", user.sub, user.tenant)
//! }
//! async fn hello(user: Option<Authenticated>) -> String {
//!     match user {
//!         Some(Authenticated(c)) => format!("hello {}", c.subject().unwrap_or("?")),
//!         None => "hello stranger".into(),
//!     }
//! }
//!
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .route("/tenant", get(tenant))
//!     .layer(AuthLayer::new(validator.clone()))
//!     .merge(Router::new().route("/hello", get(hello)).layer(AuthLayer::new(validator).optional()));
//! # }
//! ```
//!
//! # Rejections
//!
//! | situation | answer |
//! |---|---|
//! | no claims; request let through anonymously by an optional auth layer | 401, `WWW-Authenticate: Bearer` (+ realm) |
//! | no claims and no auth layer in front of the route | 500 (server misconfiguration, logged) |
//! | the claims do not deserialize into `T` | 401 `invalid_token` ("the token lacks a required claim" / "the token has an invalid claim") |
//!
//! A claim set that does not fit `T` is treated as a token problem, not a server error: the
//! token was genuine but does not carry what this route needs (a client-credentials token
//! without the user claims, say), and only a different token can fix that. `Option<Authenticated<T>>`
//! gives `None` only for anonymous requests; a token whose claims do not fit `T` is still
//! rejected, never silently treated as anonymous.

use ::axum::extract::{FromRequestParts, OptionalFromRequestParts};
use ::axum::response::{IntoResponse, Response};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::Challenge;
use crate::{error::TokenError, AuthError, Claims};

/// Extracts the verified claims of the request, as [`Claims`] (the default) or as any type
/// that implements [`FromClaims`] — every `serde::de::DeserializeOwned` type does.
///
/// See the [module documentation](self) for the rejections.
#[derive(Debug, Clone)]
pub struct Authenticated<T = Claims>(pub T);

impl<T> std::ops::Deref for Authenticated<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// How [`Authenticated<T>`] builds a `T` from the verified claims.
///
/// Implemented for [`Claims`] (a cheap `Arc` clone) and for every `DeserializeOwned` type
/// (deserialized from the claim set).
pub trait FromClaims: Sized {
    /// Builds `Self` from `claims`, or says why the token does not fit.
    fn from_claims(claims: &Claims) -> Result<Self, AuthError>;
}

impl FromClaims for Claims {
    fn from_claims(claims: &Claims) -> Result<Self, AuthError> {
        Ok(claims.clone())
    }
}

impl<T: DeserializeOwned> FromClaims for T {
    fn from_claims(claims: &Claims) -> Result<Self, AuthError> {
        claims.deserialize().map_err(|e| {
            // The serde message may quote claim values: keep it out of logs and answers.
            let missing = e.to_string().starts_with("missing field");
            tracing::debug!(
                target_type = std::any::type_name::<T>(),
                missing,
                "claims do not fit the extractor type"
            );
            if missing {
                TokenError::MissingClaim.into()
            } else {
                TokenError::InvalidClaim.into()
            }
        })
    }
}

/// Why [`Authenticated`] refused a request; answers with the RFC 6750 response of its
/// [`AuthError`], using the auth layer's [`Challenge`] so the realm matches.
#[derive(Debug, Clone)]
pub struct AuthenticatedRejection {
    error: AuthError,
    challenge: Challenge,
}

impl AuthenticatedRejection {
    /// The underlying error.
    pub fn error(&self) -> &AuthError {
        &self.error
    }

    /// The underlying error, by value.
    pub fn into_error(self) -> AuthError {
        self.error
    }
}

impl std::fmt::Display for AuthenticatedRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for AuthenticatedRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl IntoResponse for AuthenticatedRejection {
    fn into_response(self) -> Response {
        self.error.log();
        self.error.to_response(&self.challenge)
    }
}

/// Answers with [`AuthError::to_response`] and a challenge without realm. Inside a handler
/// behind [`AuthLayer`](crate::AuthLayer), prefer [`AuthenticatedRejection`] (via [`Authenticated`]), which
/// keeps the layer's realm.
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        self.log();
        self.to_response(&Challenge::default())
    }
}

fn reject(parts: &Parts, error: AuthError) -> AuthenticatedRejection {
    AuthenticatedRejection {
        error,
        challenge: parts
            .extensions
            .get::<Challenge>()
            .cloned()
            .unwrap_or_default(),
    }
}

impl<S: Send + Sync, T: FromClaims> FromRequestParts<S> for Authenticated<T> {
    type Rejection = AuthenticatedRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let result = crate::scope::claims(&parts.extensions).and_then(T::from_claims);
        result.map(Authenticated).map_err(|e| reject(parts, e))
    }
}

impl<S: Send + Sync, T: FromClaims> OptionalFromRequestParts<S> for Authenticated<T> {
    type Rejection = AuthenticatedRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let result = match crate::scope::claims(&parts.extensions) {
            Ok(claims) => T::from_claims(claims).map(|t| Some(Authenticated(t))),
            Err(AuthError::Bearer(_)) => Ok(None),
            Err(e) => Err(e),
        };
        result.map_err(|e| reject(parts, e))
    }
}
