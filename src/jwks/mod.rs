//! Signing keys: a parsed JWK Set ([`KeySet`], RFC 7517) and the cache that fetches and
//! refreshes it from the issuer ([`JwksCache`]).
//!
//! Readers take an `Arc` snapshot of the current key set without locking; a refresh swaps in a
//! new one. Refreshes are single-flight (one fetch however many requests need it), an unknown
//! `kid` causes at most one re-fetch per cooldown, and when the issuer is down or sends garbage
//! the last good key set keeps serving, for at most [`JwksConfig::max_stale`] past its refresh
//! time.
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
//!
//! | file | what |
//! |---|---|
//! | `key.rs` | one JWK as a verification key (`kty`, `crv`, `alg`, `use`, `key_ops`), and the vetting of weak or invalid public keys |
//! | `roca.rs` | the ROCA fingerprint (CVE-2017-15361) of RSA moduli |
//! | `set.rs` | [`KeySet`]: the parsed set, keys by `kid`, the look-up of the key for a token |
//! | `config.rs` | [`JwksConfig`]: refresh times, cooldown, timeout, size cap, `max_stale`, `max_wait` |
//! | `cache.rs` | [`JwksCache`]: fetch, single-flight refresh (in a task of its own; requests wait for it at most `max_wait`), cooldowns, bounded staleness |

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
