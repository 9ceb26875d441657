//! The seam between the layer and the ways of validating a token.
//!
//! [`AuthLayer`](crate::AuthLayer) hands the bearer token to a [`Validator`] and gets back a
//! [`ValidationFuture`]: a future of [`Claims`](crate::Claims) or an [`AuthError`](crate::AuthError). A validation that can decide at
//! once (keys cached, token cached) returns [`ValidationFuture::ready`], which costs no allocation;
//! one that must wait for the network returns [`ValidationFuture::pending`].
//!
//! ```
//! use bearer_guard::{AuthError, Claims, error::TokenError, validator::ValidationFuture, Validator};
//!
//! /// Accepts exactly one fixed token (for a demo; never do this in production).
//! struct Fixed;
//!
//! impl Validator for Fixed {
//!     fn validate(&self, token: &str) -> ValidationFuture {
//!         if token == "let-me-in" {
//!             ValidationFuture::ready(Ok(Claims::from_value(serde_json::json!({"sub": "demo"})).unwrap()))
//!         } else {
//!             ValidationFuture::ready(Err(TokenError::InvalidSignature.into()))
//!         }
//!     }
//! }
//! ```
//!
//! # Readiness
//!
//! Readiness for load balancers and Kubernetes probes, and when the first keys are fetched.
//!
//! Every [`Validator`] answers [`Validator::readiness`]: whether it can decide tokens now.
//! A [`JwtValidator`](crate::JwtValidator) that fetches keys is ready once a key set was
//! fetched and is not past [`max_stale`](crate::jwks::JwksConfig::max_stale); asking it starts a
//! fetch in the background when none was made yet (or the last one failed and its cooldown is
//! over), so a readiness probe alone brings a lazily built validator up. An
//! [`IntrospectionValidator`](crate::IntrospectionValidator) is ready unless its last call to
//! the endpoint failed (unreachable, timed out, an error status, an answer it cannot read).
//! [`HybridValidator`] and [`MultiIssuer`] are
//! ready when every validator in them is.
//!
//! [`ReadinessService`] answers a probe: `200 ready`, or `503 not ready: <reason>` (one line,
//! a fixed text and at most an issuer URL: never a token, secret or key).
//!
//! ```
//! use bearer_guard::validator::{Readiness, ReadinessService};
//! use bearer_guard::{JwtValidator, jwks::KeySet};
//! use http::{Request, StatusCode};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("api")
//!     .key_set(KeySet::from_json(br#"{"keys":[]}"#)?) // fixed keys: ready at once
//!     .build()
//!     .await?;
//! assert_eq!(bearer_guard::Validator::readiness(&validator), Readiness::Ready);
//!
//! // axum: Router::new().route_service("/readyz", ReadinessService::new(validator))
//! let probe = ReadinessService::new(validator);
//! let res = probe.oneshot(Request::get("/readyz").body(())?).await?;
//! assert_eq!(res.status(), StatusCode::OK);
//! assert_eq!(res.body(), "ready\n");
//! # Ok(()) }
//! ```
//!
//! When the first keys are fetched is a choice made on the builder with [`Prefetch`](crate::jwt::Prefetch). Whatever
//! the choice, a request that arrives before keys are there waits for the fetch under way (one
//! fetch for all of them) and is answered with the keys, or 503 if there are none: never a 401
//! for want of keys.
//!
//! # JWTs and opaque tokens: `HybridValidator`
//!
//! One layer for both kinds of token: JWTs validated locally, everything else introspected.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bearer_guard::BuildError> {
//! use bearer_guard::{AuthLayer, HybridValidator, IntrospectionValidator, JwtValidator};
//!
//! let jwt = JwtValidator::builder("https://issuer.example").audience("my-api").build().await?;
//! let remote = IntrospectionValidator::builder("https://issuer.example")
//!     .client("my-api", "my-api-secret")
//!     .audience("my-api")
//!     .build()
//!     .await?;
//! let layer = AuthLayer::new(HybridValidator::new(jwt, remote));
//! # let _ = layer; Ok(()) }
//! ```
//!
//! # Several issuers: `MultiIssuer`
//!
//! Several issuers (tenants) behind one layer: each token goes to the validator of the issuer
//! it names, and only to a configured one.
//!
//! [`MultiIssuer`] reads `iss` from the token's payload **before** the signature is checked, and
//! uses it for one thing only: to pick one of the validators it was configured with. The
//! choice is an exact string comparison against the configured issuers, then, for a
//! [`JwtValidator`](crate::JwtValidator) with an issuer template (one issuer per tenant, as
//! Entra ID multi-tenant apps see them; [`tenant_claim`](crate::jwt::JwtValidatorBuilder::tenant_claim)),
//! the template's shape with a tenant name in place of its placeholder (templates in the order
//! configured); a token naming any other issuer is refused at once (`401 invalid_token`, [`TokenError::WrongIssuer`](crate::error::TokenError::WrongIssuer)) and
//! causes no network request: keys or metadata are never fetched from an issuer that a token
//! names. The chosen validator then validates the token in full, including `iss` again, so a
//! token signed by one tenant's keys but naming another tenant fails that tenant's signature
//! check.
//!
//! Reading `iss` is bounded like the JWT validator's own parsing: the token must be at most
//! [`max_token_bytes`](MultiIssuerBuilder::max_token_bytes) long (default 8 KiB), a compact
//! JWS of three segments, and its payload a base64url JSON object without duplicate members
//! (so no two readers can disagree on which `iss` it names).
//!
//! Each issuer keeps its own settings (audience, algorithms, leeway, caches...): they are
//! separate validators.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bearer_guard::BuildError> {
//! use bearer_guard::{AuthLayer, JwtValidator, MultiIssuer};
//!
//! let tenant_a = JwtValidator::builder("https://a.issuer.example").audience("api-a").build().await?;
//! let tenant_b = JwtValidator::builder("https://b.issuer.example").audience("api-b").build().await?;
//! let validator = MultiIssuer::builder().issuer(tenant_a).issuer(tenant_b).build()?;
//! let layer = AuthLayer::new(validator);
//! # let _ = layer; Ok(()) }
//! ```

mod build;
mod hybrid;
mod multi;
mod probe;
mod readiness;
mod seam;

pub use build::MAX_CACHE_TTL;
pub(crate) use build::{audiences, check_cache_ttl};
pub use hybrid::{looks_like_jwt, HybridValidator};
pub use multi::{MultiIssuer, MultiIssuerBuilder};
pub use probe::ReadinessService;
pub use readiness::Readiness;
pub use seam::{ValidationFuture, Validator};
