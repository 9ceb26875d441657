//! Shared state for several instances behind a load balancer: the seam between the layer and
//! where the DPoP replay set and the introspection result cache live.
//!
//! By default both live in the process ([`DpopConfig`](crate::dpop::DpopConfig) keeps its own replay
//! cache, [`IntrospectionValidator`](crate::IntrospectionValidator) its own result cache), which
//! is the fastest and needs nothing else. Behind a load balancer that is not enough:
//!
//! - a DPoP proof accepted by one instance could be replayed against another, since each only
//!   knows the `jti`s it has seen itself;
//! - each instance introspects each token once, so N instances cost the authorization server
//!   N calls per token.
//!
//! A [`ReplayStore`] (given to [`DpopConfig::shared_store`](crate::dpop::DpopConfig::shared_store))
//! and an [`IntrospectionStore`] (given to
//! [`IntrospectionValidatorBuilder::shared_store`](crate::introspection::IntrospectionValidatorBuilder::shared_store))
//! move that state out of the process. With the `redis` feature, [`RedisStore`] implements
//! both on Redis; [`MemoryStore`] implements both in the process (tests, or to compare).
//!
//! Keys are always SHA-256 hashes (of a proof's `jti`; of the validator's settings and an
//! access token): no token is ever stored or used as a key in clear. An introspection key
//! hashes the settings the result was decided under (issuer, endpoint, client id, audiences,
//! scope claim, cache lifetimes) with the token, so validators that share a store never read
//! each other's entries; and every result read back is checked again against the reading
//! validator's rules (`iss`, `aud`, token kind, `exp`/`nbf`) before it is used.
//!
//! Failures fail closed: a replay store that cannot answer makes the proof refused with 503
//! ([`AuthError::Unavailable`](crate::AuthError::Unavailable)); an introspection store that
//! cannot answer is a cache miss (the authorization server is asked), and one that cannot
//! store is logged.
//!
//! Server-provided DPoP nonces need no store: they are stateless, and every instance given the
//! same [`nonce_secret`](crate::dpop::DpopConfig::nonce_secret) accepts the others'.
//!
//! # What is per process, and what can be shared
//!
//! | state | default | shared how |
//! |---|---|---|
//! | JWKS and verified-JWT caches | per process | no need: each instance fetches the issuer's keys itself |
//! | DPoP nonces | stateless | the same [`nonce_secret`](crate::dpop::DpopConfig::nonce_secret) on every instance |
//! | DPoP `jti` replay set | per process: a proof accepted by one instance could be replayed at another | [`DpopConfig::shared_store`](crate::dpop::DpopConfig::shared_store) |
//! | introspection results | per process: N instances, N calls per token | [`IntrospectionValidatorBuilder::shared_store`](crate::introspection::IntrospectionValidatorBuilder::shared_store) |
//! | coalescing of identical concurrent introspection calls | per process | stays per process; the shared cache removes the calls for tokens any instance already decided |
//!
//! With a shared cache the validator keeps no introspection result in the process, so that
//! [`IntrospectionValidator::forget`](crate::IntrospectionValidator::forget) works everywhere at
//! once; a hit costs a round trip. The in-memory defaults stay the fastest (`BENCHMARKS.md` has
//! the cost of each on loopback Redis).
//!
//! ```no_run
//! # #[cfg(feature = "redis")]
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use bearer_guard::store::RedisStore;
//! use bearer_guard::{dpop::DpopConfig, AuthLayer, IntrospectionValidator};
//!
//! let store = RedisStore::builder("rediss://redis.internal:6380/") // TLS; redis:// without
//!     .secret(std::env::var("STORE_SECRET")?)   // 32+ random bytes, the same on every instance
//!     .key_prefix("orders-api:")
//!     .timeout(Duration::from_millis(250))     // every command, and connecting
//!     .connect()
//!     .await?;
//! let validator = IntrospectionValidator::builder("https://issuer.example")
//!     .client("orders-api", "secret")
//!     .audience("orders-api")
//!     .shared_store(store.clone())
//!     .build()
//!     .await?;
//! let layer = AuthLayer::new(validator.clone()).dpop(
//!     DpopConfig::new()
//!         .base_url(url::Url::parse("https://api.example")?)
//!         .nonces(Duration::from_secs(300))
//!         .nonce_secret(b"the same 32+ random bytes on every instance......")
//!         .shared_store(store),
//! )?;
//! // On a revocation event: drop the token's cached result on every instance at once.
//! validator.forget("the-revoked-token").await?;
//! # let _ = layer; Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::error::StoreError;

mod memory;
#[cfg(feature = "redis")]
mod redis;
pub(crate) mod replay;
#[cfg(any(feature = "redis", feature = "fuzzing"))]
pub(crate) mod seal;

pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::{RedisStore, RedisStoreBuilder, SECRET_ENV};

/// The future a store method returns: boxed, so that the traits stay object-safe.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A key of a store: the SHA-256 of a DPoP proof's `jti`, or of a validator's settings and an
/// access token.
pub type StoreKey = [u8; 32];

/// The set of DPoP proof `jti`s (their SHA-256) seen by every instance, each kept until an
/// expiry time.
pub trait ReplayStore: Send + Sync + 'static {
    /// Remembers `key` until `expires_at` (whole seconds since the Unix epoch) unless it is
    /// remembered already, atomically. `Ok(true)`: it was not there and now is; `Ok(false)`:
    /// it was there (a replay). An error, or a store that cannot remember it (full), is
    /// `Err`: the proof is then refused (fail closed).
    fn insert_if_absent(&self, key: StoreKey, expires_at: u64) -> StoreFuture<'_, bool>;
}

/// The introspection results decided by every instance: opaque values (the encoded outcome)
/// under a SHA-256 of the deciding validator's settings and the token, each kept for a time.
///
/// What a store returns is not trusted blindly: the validator decodes it, and re-checks an
/// accepted outcome against its own rules before using it. A store that other parties can
/// write to should authenticate its values as [`RedisStore`] does.
pub trait IntrospectionStore: Send + Sync + 'static {
    /// The value stored under `key`, if any and not expired.
    fn get(&self, key: StoreKey) -> StoreFuture<'_, Option<Vec<u8>>>;
    /// Stores `value` under `key` for `ttl` (more than zero), replacing any value there.
    fn put(&self, key: StoreKey, value: Vec<u8>, ttl: Duration) -> StoreFuture<'_, ()>;
    /// Forgets the value under `key`, if any.
    fn remove(&self, key: StoreKey) -> StoreFuture<'_, ()>;
}

impl<S: ReplayStore + ?Sized> ReplayStore for std::sync::Arc<S> {
    fn insert_if_absent(&self, key: StoreKey, expires_at: u64) -> StoreFuture<'_, bool> {
        (**self).insert_if_absent(key, expires_at)
    }
}

impl<S: IntrospectionStore + ?Sized> IntrospectionStore for std::sync::Arc<S> {
    fn get(&self, key: StoreKey) -> StoreFuture<'_, Option<Vec<u8>>> {
        (**self).get(key)
    }
    fn put(&self, key: StoreKey, value: Vec<u8>, ttl: Duration) -> StoreFuture<'_, ()> {
        (**self).put(key, value, ttl)
    }
    fn remove(&self, key: StoreKey) -> StoreFuture<'_, ()> {
        (**self).remove(key)
    }
}

/// Lowercase hex of a key, for the store's own key names.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn hex(key: &StoreKey) -> String {
    use fmt::Write as _;
    let mut s = String::with_capacity(64);
    for b in key {
        let _ = write!(s, "{b:02x}");
    }
    s
}
