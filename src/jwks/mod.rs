//! Signing keys: a parsed JWK Set ([`KeySet`], RFC 7517) and the cache that fetches and
//! refreshes it from the issuer ([`JwksCache`]).
//!
//! Readers take an `Arc` snapshot of the current key set without locking; a refresh swaps in a
//! new one. Refreshes are single-flight (one fetch however many requests need it), an unknown
//! `kid` causes at most one re-fetch per cooldown, and when the issuer is down or sends garbage
//! the last good key set keeps serving, for at most [`JwksConfig::max_stale`] past its refresh
//! time.
//!
//! Key removal bites at once: a JWKS that parses replaces the last one even when it holds no
//! usable key (publishing `{"keys": []}` revokes every key; only a failed fetch or a document
//! that is not a key set keeps the last good keys, for at most `max_stale`, then 503 until a
//! refresh succeeds), and tokens in the verified-token cache are no longer served once the key
//! that verified them has left the set. `jku`, `x5u`, `jwk` and `x5c` in a token are never
//! followed.
//!
//! Weak or invalid keys are skipped with a warning naming their `kid`: RSA under 2048 bits,
//! even or ROCA (CVE-2017-15361) moduli, exponents even, under 3 or over 33 bits; EC points off
//! their curve; Ed25519 keys of small order (with which a forged signature verifies). Ed448 is
//! not supported; `Algorithm::EdDSA` admits both `alg: EdDSA` and RFC 9864's `alg: Ed25519`.
//!
//! ```
//! use bearer_guard::jwks::KeySet;
//! let set = KeySet::from_json(br#"{"keys":[
//!   {"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","use":"sig",
//!    "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
//!   {"kty":"XYZ","kid":"future-key-type"}
//! ]}"#).unwrap();
//! assert_eq!(set.len(), 1); // keys of unsupported types are skipped
//! ```

mod cache;
mod config;
mod key;
mod roca;
mod set;

pub use cache::JwksCache;
pub use config::JwksConfig;
pub use set::KeySet;

pub(crate) use cache::{Reason, Snapshot, WeakJwksCache};
pub(crate) use key::{parse_jwk, Key};
pub(crate) use set::Lookup;

#[cfg(test)]
mod tests;
