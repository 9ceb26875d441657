//! [`RedisStore`]: the replay set and the introspection cache on Redis (feature `redis`).
//!
//! Built on the `redis` crate (redis-rs: one multiplexed connection per store, kept by its
//! `ConnectionManager`, which reconnects by itself), chosen over `fred` as the most widely used,
//! actively maintained client whose `ConnectionManager` already gives the multiplexed,
//! self-reconnecting connection this needs.
//!
//! - Keys are `<prefix>replay:<sha256 of jti>` (`SET … NX PX`, one atomic round trip per
//!   proof) and `<prefix>introspection:<sha256 of the validator's settings and the token>`:
//!   tokens are never stored, logged or used as keys in clear. Values are the decided outcome
//!   (claims JSON or the refusal reason), kept never past `exp` and at most `cache_ttl`
//!   (`negative_ttl` for refusals).
//! - **Values are authenticated**: each carries an HMAC-SHA256 over its key and itself, under
//!   the store secret ([`secret`](RedisStoreBuilder::secret) or the environment variable
//!   `BEARER_GUARD_REDIS_SECRET`; required, at least 32 bytes). Whoever can write to Redis
//!   without the secret cannot make a token accepted: a value whose tag fails is a miss (the
//!   authorization server is asked) and a warning. A `SET NX` answer carries no tag, so use
//!   `rediss://` (the TLS stack of the crate's `tls-*` feature;
//!   [`root_certificate`](RedisStoreBuilder::root_certificate) for a private CA) wherever the
//!   network to Redis is not trusted.
//! - **Replay keys must not be evicted**: `connect` reads `maxmemory-policy` (`INFO memory`).
//!   Any policy but `noeviction` may drop replay keys early (they carry a TTL, so `volatile-*`
//!   too), and a proof could then be replayed: such a store refuses every DPoP proof with 503
//!   (and `connect` logs why) unless [`allow_eviction`](RedisStoreBuilder::allow_eviction)`(true)`.
//!   The introspection cache works on any policy.
//! - Redis down or slow (every command has the timeout): DPoP proofs are refused with 503 and
//!   a warning (a proof is never accepted without being remembered); introspection asks the
//!   authorization server (a read error is a miss, never "active"; a write error is logged).
//!   Service recovers by itself when Redis is back. Redis without persistence forgets the
//!   replay set on restart: the proofs accepted in the last `iat` window could then be replayed
//!   once; turn on persistence where that matters.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManager;

use super::{hex, IntrospectionStore, ReplayStore, StoreFuture, StoreKey};
use crate::error::StoreError;
use crate::jose::unix_now;
use crate::store::seal::Sealer;

mod builder;

pub use builder::{RedisStoreBuilder, SECRET_ENV};

/// A [`ReplayStore`] and [`IntrospectionStore`] on Redis, for several instances behind a load
/// balancer. Made by [`RedisStore::builder`]; cheap to clone (clones share one multiplexed
/// connection).
///
/// - DPoP `jti`s: `SET <prefix>replay:<sha256 hex> 1 NX PX <ms until expiry>`, one atomic
///   round trip per proof.
/// - Introspection results: `GET`/`SET … PX`/`DEL` on `<prefix>introspection:<hex>`, where the
///   hex names a SHA-256 of the validator's settings and the token (never the token itself).
///
/// # Trust in what Redis answers
///
/// - **Values are authenticated.** Every introspection result is stored with an HMAC-SHA256,
///   under the [store secret](RedisStoreBuilder::secret), over its key and itself. Whoever can
///   write to Redis but does not hold the secret cannot make a token accepted: a value whose
///   tag does not verify is a miss (the authorization server is asked) and a warning. The
///   secret is required: from [`RedisStoreBuilder::secret`] or the environment variable
///   [`SECRET_ENV`], at least 32 bytes, the same on every instance.
/// - **Replay answers are only as good as the connection.** A `SET NX` answer carries no tag:
///   someone on the path could answer "not seen" to every replay. Use TLS (`rediss://`)
///   wherever the network between the instances and Redis is not trusted.
/// - **Replay keys must not be evicted.** A Redis whose `maxmemory-policy` is anything but
///   `noeviction` may drop replay keys before they expire (they carry a TTL, so the
///   `volatile-*` policies drop them too), and a proof could then be replayed. The policy is
///   read at [connect](RedisStoreBuilder::connect) (`INFO memory`); unless it is `noeviction`,
///   or you [allow eviction](RedisStoreBuilder::allow_eviction), the store refuses to act as a
///   replay set (every DPoP proof it would record gets 503, and `connect` logs why). The
///   introspection cache is not affected: an evicted result is a miss.
///
/// Every command is bounded by the [timeout](RedisStoreBuilder::timeout). The connection is
/// one multiplexed connection per store, kept by redis-rs' `ConnectionManager`, which
/// reconnects by itself after Redis went away; commands sent meanwhile fail (the layer then
/// fails closed or falls back, see the [module docs](crate::store)).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use bearer_guard::store::RedisStore;
/// use bearer_guard::{dpop::DpopConfig, IntrospectionValidator};
///
/// # let secret_from_your_vault = [7u8; 32];
/// let store = RedisStore::builder("rediss://redis.internal:6380/")
///     .secret(secret_from_your_vault)
///     .key_prefix("orders-api:")
///     .connect()
///     .await?;
/// let dpop = DpopConfig::new()
///     .base_url(url::Url::parse("https://orders.example")?)
///     .shared_store(store.clone());
/// let validator = IntrospectionValidator::builder("https://issuer.example")
///     .client("orders-api", "secret")
///     .audience("orders-api")
///     .shared_store(store)
///     .build()
///     .await?;
/// # let _ = (dpop, validator); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
    sealer: Sealer,
    /// Why this store may not be a replay set (an evicting `maxmemory-policy`), if so.
    replay_refusal: Option<Arc<str>>,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("replay_set", &self.replay_refusal.is_none())
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Starts configuring a store on the Redis server at `url`: `redis://host:port/db`, or
    /// `rediss://host:port/db` for TLS (with one of the crate's TLS features, the same TLS
    /// stack as the HTTP client). Defaults: key prefix `bearer-guard:`, timeout 250 ms; the
    /// secret must be given (see [`RedisStoreBuilder::secret`]).
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder::new(url.into())
    }

    /// Whether this store records DPoP proofs: `false` when Redis' `maxmemory-policy` may
    /// evict replay keys and eviction was not [allowed](RedisStoreBuilder::allow_eviction).
    pub fn is_replay_safe(&self) -> bool {
        self.replay_refusal.is_none()
    }

    fn key(&self, kind: &str, key: &StoreKey) -> String {
        format!("{}{kind}:{}", self.prefix, hex(key))
    }

    /// Runs one command with the timeout; the error names the command, not its key.
    async fn run<T, F>(&self, what: &'static str, command: F) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        run(self.timeout, what, command).await
    }
}

/// Runs one command within `timeout`; the error names the command, not its key.
async fn run<T, F>(timeout: Duration, what: &'static str, command: F) -> Result<T, StoreError>
where
    F: Future<Output = redis::RedisResult<T>>,
{
    match tokio::time::timeout(timeout, command).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(StoreError::new(format!(
            "redis {what} failed: {:?}",
            e.kind()
        ))),
        Err(_) => Err(StoreError::new(format!(
            "redis {what} timed out after {timeout:?}"
        ))),
    }
}

impl ReplayStore for RedisStore {
    fn insert_if_absent(&self, key: StoreKey, expires_at: u64) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            if let Some(why) = &self.replay_refusal {
                return Err(StoreError::new(why.to_string()));
            }
            // Relative expiry, so that Redis' clock does not matter; at least 1 ms (PX 0 is an
            // error). `as` saturates.
            let ms = ((expires_at as f64 - unix_now()) * 1000.0).ceil().max(1.0) as u64;
            let mut connection = self.connection.clone();
            let set: Option<String> = self
                .run(
                    "SET NX",
                    redis::cmd("SET")
                        .arg(self.key("replay", &key))
                        .arg(1)
                        .arg("NX")
                        .arg("PX")
                        .arg(ms)
                        .query_async(&mut connection),
                )
                .await?;
            Ok(set.is_some())
        })
    }
}

impl IntrospectionStore for RedisStore {
    fn get(&self, key: StoreKey) -> StoreFuture<'_, Option<Vec<u8>>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let name = self.key("introspection", &key);
            let sealed: Option<Vec<u8>> = self
                .run(
                    "GET",
                    redis::cmd("GET").arg(&name).query_async(&mut connection),
                )
                .await?;
            let Some(sealed) = sealed else {
                return Ok(None);
            };
            let opened = self.sealer.open(&name, &sealed);
            if opened.is_none() {
                tracing::warn!(
                    prefix = %self.prefix,
                    "a value in redis failed its HMAC check (written without the store secret, \
                     or altered); ignored"
                );
            }
            Ok(opened)
        })
    }

    fn put(&self, key: StoreKey, value: Vec<u8>, ttl: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut connection = self.connection.clone();
            let name = self.key("introspection", &key);
            let sealed = self.sealer.seal(&name, &value);
            self.run(
                "SET",
                redis::cmd("SET")
                    .arg(&name)
                    .arg(sealed)
                    .arg("PX")
                    .arg(ms)
                    .query_async::<()>(&mut connection),
            )
            .await
        })
    }

    fn remove(&self, key: StoreKey) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            self.run(
                "DEL",
                redis::cmd("DEL")
                    .arg(self.key("introspection", &key))
                    .query_async::<()>(&mut connection),
            )
            .await
        })
    }
}
