//! Local validation of JWT access tokens (RFC 7519, RFC 7515, RFC 9068, RFC 8725).
//!
//! What [`JwtValidator`] checks, in order, before any claim reaches a handler:
//! 1. size (default 8 KiB), then compact JWS shape: three base64url segments, no padding;
//!    five segments (JWE) are refused;
//! 2. header: JSON object without duplicate members; `alg` on the allow-list (never `none`, HS*
//!    only with a configured secret); no `crit`; `typ` is `at+jwt` (RFC 9068) unless disabled.
//!    `jku`, `x5u`, `jwk` and `x5c` are ignored: keys come only from the configured source;
//! 3. key: found by `kid` in the issuer's key set, and its own `kty`/`crv`/`alg`/`use`/`key_ops`
//!    agree with the token's `alg`;
//! 4. signature;
//! 5. claims: JSON object without duplicate members; `iss` equals the issuer; `aud` names a
//!    configured audience; `exp` required; `nbf` and `iat` honoured; all with leeway (each a
//!    JSON number from 0 to the end of year 9999); configured required claims present.
//!
//! Settings that would switch checks off are build errors ([`BuildError`](crate::BuildError)): a leeway over
//! five minutes, an introspection `cache_ttl` or `negative_ttl` over 24 hours,
//! `max_concurrent_calls(0)`, an HMAC secret shorter than its hash (32 bytes for HS256, 48 for
//! HS384, 64 for HS512; RFC 7518 §3.2: `hmac_secret` allows only the HMAC algorithms the
//! secret is long enough for), and no audience without an explicit `any_audience()`.
//!
//! A token seen before skips its signature (the verified-token cache, on by default: about
//! 0.14 µs a hit, no allocation), with `exp`/`nbf` checked again on every hit; once the cache
//! is full, only tokens seen twice are kept, so a stream of tokens that never repeat costs no
//! more than the cache turned off. Keys are parsed once per key set.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bearer_guard::BuildError> {
//! use std::time::Duration;
//! use bearer_guard::JwtValidator;
//!
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("https://api.example")
//!     .leeway(Duration::from_secs(30))
//!     .build()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! The JOSE rules themselves (compact form, header refusals, algorithm names, signature,
//! NumericDate, `iss`, `aud`, `exp`/`nbf`/`iat`) live in the crate's one JOSE core and are
//! shared with DPoP, introspection and multi-issuer routing.

mod builder;
mod cache;
mod header;
mod ready;
mod refresh;
mod validator;

pub use crate::jose::{DEFAULT_ALGORITHMS, MAX_LEEWAY};
pub use builder::JwtValidatorBuilder;
/// The JWS algorithm names (re-exported from `jsonwebtoken`).
pub use jsonwebtoken::Algorithm;
pub use ready::Prefetch;
pub use validator::JwtValidator;

#[cfg(test)]
mod tests;
