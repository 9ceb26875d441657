//! Authentication of every request: [`AuthLayer`] wraps any `Service<http::Request<B>>` in an
//! [`Auth`] service,
//! which lets a request through only with a valid bearer token and puts the verified
//! [`Claims`](crate::Claims) into its extensions.
//!
//! The layer does not know how tokens are checked: that is the [`Validator`](crate::Validator)'s job.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Extension, Router};
//! use bearer_guard::{AuthLayer, Claims, JwtValidator};
//!
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("my-api")
//!     .build()
//!     .await?; // discovers the JWKS from the issuer
//! let app: Router = Router::new()
//!     .route("/me", get(|Extension(c): Extension<Claims>| async move { c.subject().unwrap_or("").to_owned() }))
//!     .layer(AuthLayer::new(validator));
//! # Ok(()) }
//! ```
//!
//! | file | what |
//! |---|---|
//! | `layer.rs` | [`AuthLayer`]: the configuration (validator, error handler, challenge, DPoP) |
//! | `service.rs` | [`Auth`]: takes the token, asks the validator, checks the binding |
//! | `future.rs` | [`future::ResponseFuture`]: waits for a pending validation, then calls the inner service |

pub mod future;
mod layer;
mod service;

pub use layer::AuthLayer;
pub use service::{Anonymous, Auth};

/// The former name of [`Auth`].
#[deprecated(
    since = "0.2.0",
    note = "renamed to `Auth` (Tower naming: `AuthLayer` makes `Auth`)"
)]
pub type AuthService<S, V, H = crate::DefaultErrorHandler> = Auth<S, V, H>;

#[cfg(test)]
mod tests;
