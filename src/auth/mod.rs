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
//! The same layer in process, with a validator that needs no network (an HMAC secret shared
//! with the issuer), called with `tower::ServiceExt::oneshot`:
//!
//! ```
//! use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
//! use bearer_guard::{AuthLayer, Claims, JwtValidator};
//! use hmac::{Hmac, Mac};
//! use http::{header, Request, Response, StatusCode};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let secret = b"a shared secret of at least 32 bytes!!";
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("my-api")
//!     .algorithms([]) // HMAC only: no keys to fetch
//!     .hmac_secret(secret.to_vec())
//!     .build()
//!     .await?;
//! let api = AuthLayer::new(validator).layer(service_fn(|req: Request<String>| async move {
//!     let claims = req.extensions().get::<Claims>().expect("the layer put them there");
//!     Ok::<_, std::convert::Infallible>(Response::new(format!("hello {}", claims.subject().unwrap_or("?"))))
//! }));
//!
//! // An RFC 9068 access token, signed with HS256 by hand.
//! let part = |json: &str| URL_SAFE_NO_PAD.encode(json);
//! let input = format!(
//!     "{}.{}",
//!     part(r#"{"alg":"HS256","typ":"at+jwt"}"#),
//!     part(r#"{"iss":"https://issuer.example","aud":"my-api","sub":"alice","exp":4102444800}"#)
//! );
//! let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret)?;
//! mac.update(input.as_bytes());
//! let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()));
//!
//! let ok = api.clone().oneshot(
//!     Request::get("/me").header(header::AUTHORIZATION, format!("Bearer {token}")).body(String::new())?,
//! ).await?;
//! assert_eq!(ok.status(), StatusCode::OK);
//! assert_eq!(ok.body(), "hello alice");
//!
//! let refused = api.oneshot(Request::get("/me").body(String::new())?).await?;
//! assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
//! assert_eq!(refused.headers()[header::WWW_AUTHENTICATE], "Bearer");
//! # Ok(()) }
//! ```
//!
//! # Requiring sender-constrained tokens
//!
//! A bearer token works for whoever holds it. To accept only tokens bound to the client,
//! DPoP-bound ([RFC 9449](crate::dpop)), certificate-bound ([RFC 8705](crate::mtls)) or either,
//! require it on the layer and advertise it in the RFC 9728 metadata:
//!
//! ```no_run
//! # fn run(validator: bearer_guard::JwtValidator) -> Result<(), Box<dyn std::error::Error>> {
//! use bearer_guard::auth::SenderConstraint;
//! use bearer_guard::{dpop::DpopConfig, mtls::MtlsConfig, AuthLayer, ResourceMetadata};
//! let layer = AuthLayer::new(validator)
//!     .dpop(DpopConfig::new().base_url(url::Url::parse("https://api.example")?))?
//!     .mtls(MtlsConfig::new())
//!     .require_sender_constraint(SenderConstraint::Either); // or ::Dpop, ::Mtls
//! let mut metadata = ResourceMetadata::new("https://api.example")?;
//! metadata.set_sender_constraint(SenderConstraint::Either); // the matching RFC 9728 flags
//! # let _ = (layer, metadata); Ok(()) }
//! ```
//!
//! A plain bearer token is then 401 `invalid_token`: "a DPoP-bound token is required" with a
//! `DPoP` challenge (and requests without credentials are offered `DPoP` only), "a
//! certificate-bound token is required" with a `Bearer` challenge (RFC 8705 §3), or "a
//! sender-constrained token is required" with both. The binding itself is checked as always,
//! so turn on [`AuthLayer::dpop`] / [`AuthLayer::mtls`] for the modes you require.
//!
//! # CORS
//!
//! Browsers send a preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//! without credentials before a cross-origin request with an `Authorization` header. Through
//! the auth layer it would get 401 and the browser would give up. Put tower-http's `CorsLayer`
//! **outside** the auth layer (in axum, add it after: the last `.layer` is the outermost), so
//! that it answers preflights and adds its headers to the 401s too:
//!
//! ```ignore
//! let app = Router::new()
//!     .route("/me", get(me))
//!     .layer(AuthLayer::new(validator))
//!     .layer(CorsLayer::new().allow_origin(origin).allow_headers([AUTHORIZATION]));
//! ```
//!
//! When the CORS layer must sit inside, [`AuthLayer::allow_preflight`] lets preflights (only
//! those: other `OPTIONS` requests still need a token) through untouched to it.

mod config;
mod constraint;
pub mod future;
mod layer;
mod service;

pub use constraint::SenderConstraint;
pub use layer::AuthLayer;
pub use service::{Anonymous, Auth};

#[cfg(test)]
mod tests;
