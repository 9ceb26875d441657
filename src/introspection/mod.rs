//! Remote validation of opaque (or any) access tokens by OAuth 2.0 token introspection
//! (RFC 7662), cached and coalesced.
//!
//! [`IntrospectionValidator`] POSTs `token=…&token_type_hint=access_token` to the authorization
//! server's introspection endpoint, authenticating as a confidential client, and reads the
//! answer with [`parse_response`]:
//! - `active` must be the JSON boolean `true`; anything else (missing, a string, a number) is a
//!   failure, never "active". `active: false` is refused with `401 invalid_token`
//!   ([`TokenError::Inactive`]);
//! - when active, `exp`, `nbf`, `iss` and `aud` are still checked locally if present (with
//!   leeway): `iss` must equal the configured issuer, and `aud` is required and must name a
//!   configured audience (unless [`any_audience`](IntrospectionValidatorBuilder::any_audience)
//!   was chosen explicitly);
//! - an active answer must be about an access token: a `token_type` other than `Bearer` or
//!   `DPoP` (compared without case), or a `token_use` other than `access_token`, is refused
//!   with `401 invalid_token`, so that an authorization server that also answers `active: true`
//!   for refresh tokens does not make them access tokens here;
//! - the response's members (`scope`, `client_id`, `sub`, `username`, `token_type`, extensions)
//!   become the request's [`Claims`], so scope checks and extractors work as with JWTs.
//!
//! An answer about the token rather than the server, `400` with `"error":
//! "unsupported_token_type"` or `"invalid_token"` (as certified providers answer for a token
//! kind they do not introspect, such as a JWT), is a `401 invalid_token`, cached like an
//! inactive token: a client cannot turn its own bad token into a 503 or into load on the
//! authorization server.
//!
//! The endpoint being down, slow, redirecting, answering anything else than 200 (or the `400`s
//! above), sending something that is not a JSON object, sending too much, or refusing our own
//! client credentials makes the request fail closed with `503` ([`AuthError::Unavailable`])
//! and a `warn` log line naming the URL and the status. The token and the client secret never
//! appear in logs or errors.
//!
//! # Bounded load on the authorization server
//!
//! Every distinct uncached token costs one call. At most
//! [`max_concurrent_calls`](IntrospectionValidatorBuilder::max_concurrent_calls) (default 64)
//! calls are under way at once per validator; a request that would need one more waits for a
//! free slot for at most [`max_call_wait`](IntrospectionValidatorBuilder::max_call_wait)
//! (default 1 s), then fails with `503`. A flood of junk tokens can thus neither pile up
//! waiting requests for long nor multiply the calls to the authorization server, and it delays
//! legitimate uncached tokens by at most the wait instead of refusing them at once.
//!
//! A request waits for the call of its token (its own, or the one it joined) for at most
//! [`max_wait`](IntrospectionValidatorBuilder::max_wait) (default 2 s), then fails with `503`
//! and `Retry-After`; the call runs in a task of its own and goes on, bounded by the
//! [`timeout`](IntrospectionValidatorBuilder::timeout), so that its answer is cached for the
//! requests that follow. A hanging authorization server thus holds requests for the bound, not
//! for the whole timeout.
//!
//! # Cache and revocation
//!
//! Results are cached under a SHA-256 of the validator's settings and the token (the token
//! itself is never stored). An
//! active result is kept at most until the token's `exp` and at most
//! [`cache_ttl`](IntrospectionValidatorBuilder::cache_ttl) (default 60 s); an inactive or
//! refused one for [`negative_ttl`](IntrospectionValidatorBuilder::negative_ttl) (default 10 s),
//! which blunts floods of junk tokens. Failures are not cached.
//!
//! **Trade-off:** a token revoked at the authorization server keeps being accepted here until
//! its cache entry ends, i.e. for up to the cache TTL. Lower the TTL where revocation must bite
//! sooner, or turn the cache off with [`no_cache()`](IntrospectionValidatorBuilder::no_cache) (one
//! introspection call per request).
//!
//! Several instances can share one cache
//! ([`shared_store`](IntrospectionValidatorBuilder::shared_store), see [`store`](crate::store)),
//! and [`IntrospectionValidator::forget`] drops a revoked token's result on all of them at once.
//!
//! Concurrent requests carrying the same uncached token cause a single introspection call, with
//! the cache on or off.
//! A cache hit is decided synchronously ([`ValidationFuture::ready`]): no allocation, no await.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bearer_guard::BuildError> {
//! use std::time::Duration;
//! use bearer_guard::{AuthLayer, IntrospectionValidator};
//!
//! let validator = IntrospectionValidator::builder("https://issuer.example")
//!     .client("my-api", "my-api-secret")
//!     .audience("my-api")
//!     .cache_ttl(Duration::from_secs(30))
//!     .build() // discovers the introspection endpoint
//!     .await?;
//! let layer = AuthLayer::new(validator);
//! # let _ = layer; Ok(()) }
//! ```
//!
//! [`AuthError::Unavailable`]: crate::AuthError::Unavailable
//! [`Claims`]: crate::Claims
//! [`TokenError::Inactive`]: crate::error::TokenError::Inactive
//! [`ValidationFuture::ready`]: crate::validator::ValidationFuture::ready

mod builder;
mod cache;
mod client;
mod flight;
mod response;
mod validator;

pub use builder::IntrospectionValidatorBuilder;
#[cfg(feature = "fuzzing")]
pub(crate) use cache::{decode as decode_entry, encode as encode_entry};
pub use client::ClientAuth;
pub use response::parse_response;
pub use validator::IntrospectionValidator;

#[cfg(test)]
mod tests;
