//! [`RedisStore`]: the replay set and the introspection cache on Redis (feature `redis`).

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{hex, IntrospectionStore, ReplayStore, StoreError, StoreFuture, StoreKey};
use crate::jose::unix_now;

/// A [`ReplayStore`] and [`IntrospectionStore`] on Redis, for several instances behind a load
/// balancer. Made by [`RedisStore::builder`]; cheap to clone (clones share one multiplexed
/// connection).
///
/// - DPoP `jti`s: `SET <prefix>replay:<sha256 hex> 1 NX PX <ms until expiry>`, one atomic
///   round trip per proof.
/// - Introspection results: `GET`/`SET … PX`/`DEL` on `<prefix>introspection:<sha256 hex>`.
///
/// Every command is bounded by the [timeout](RedisStoreBuilder::timeout). The connection is
/// one multiplexed connection per store, kept by redis-rs' `ConnectionManager`, which
/// reconnects by itself after Redis went away; commands sent meanwhile fail (the layer then
/// fails closed or falls back, see the [module docs](crate::store)).
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use bearer_guard::store::RedisStore;
/// use bearer_guard::{DpopConfig, IntrospectionValidator};
///
/// let store = RedisStore::builder("redis://127.0.0.1:6379/")
///     .key_prefix("orders-api:")
///     .connect()
///     .await?;
/// let dpop = DpopConfig::new().replay_store(store.clone());
/// let validator = IntrospectionValidator::builder("https://issuer.example")
///     .client("orders-api", "secret")
///     .audience("orders-api")
///     .shared_cache(store)
///     .build()
///     .await?;
/// # let _ = (dpop, validator); Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    timeout: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Configures a [`RedisStore`]. Made by [`RedisStore::builder`].
#[derive(Debug, Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
}

impl RedisStore {
    /// Starts configuring a store on the Redis server at `url` (`redis://host:port/db`,
    /// `rediss://` for TLS is not built in). Defaults: key prefix `bearer-guard:`, timeout
    /// 250 ms.
    pub fn builder(url: impl Into<String>) -> RedisStoreBuilder {
        RedisStoreBuilder {
            url: url.into(),
            prefix: "bearer-guard:".to_owned(),
            timeout: Duration::from_millis(250),
        }
    }

    fn key(&self, kind: &str, key: &StoreKey) -> String {
        format!("{}{kind}:{}", self.prefix, hex(key))
    }

    /// Runs one command with the timeout; the error names the command, not its key.
    async fn run<T, F>(&self, what: &'static str, command: F) -> Result<T, StoreError>
    where
        F: Future<Output = redis::RedisResult<T>>,
    {
        match tokio::time::timeout(self.timeout, command).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(StoreError::new(format!(
                "redis {what} failed: {:?}",
                e.kind()
            ))),
            Err(_) => Err(StoreError::new(format!(
                "redis {what} timed out after {:?}",
                self.timeout
            ))),
        }
    }
}

impl RedisStoreBuilder {
    /// Prepended to every key (default `bearer-guard:`). Give each protected API (each set of
    /// audiences and validation settings) its own prefix: the cached outcome of a token is
    /// the decision of one validator's settings.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bound on every command, and on each attempt to connect (default 250 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects (within the timeout), so that a wrong URL or a Redis that is down shows at
    /// start-up. Later outages are survived: the connection is made again by itself.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let client = redis::Client::open(self.url.as_str())
            .map_err(|e| StoreError::new(format!("bad redis URL: {:?}", e.kind())))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(500));
        let connect = ConnectionManager::new_with_config(client, config);
        let connection = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => {
                return Err(StoreError::new(format!(
                    "cannot connect to redis: {:?}",
                    e.kind()
                )))
            }
            Err(_) => return Err(StoreError::new("cannot connect to redis: timed out")),
        };
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            timeout: self.timeout,
        })
    }
}

impl ReplayStore for RedisStore {
    fn insert_if_absent(&self, key: StoreKey, expires_at: u64) -> StoreFuture<'_, bool> {
        Box::pin(async move {
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
            self.run(
                "GET",
                redis::cmd("GET")
                    .arg(self.key("introspection", &key))
                    .query_async(&mut connection),
            )
            .await
        })
    }

    fn put(&self, key: StoreKey, value: Vec<u8>, ttl: Duration) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
            let mut connection = self.connection.clone();
            self.run(
                "SET",
                redis::cmd("SET")
                    .arg(self.key("introspection", &key))
                    .arg(value)
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
