//! [`RedisStoreBuilder`]: where the store connects, with which secret, and what it checks of
//! the server at connect.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{run, RedisStore};
use crate::error::StoreError;
use crate::store::seal::Sealer;

/// The environment variable [`RedisStoreBuilder::connect`] reads the store secret from when
/// [`RedisStoreBuilder::secret`] was not called: its bytes, as they are (at least 32).
pub const SECRET_ENV: &str = "BEARER_GUARD_REDIS_SECRET";

/// Configures a [`RedisStore`]. Made by [`RedisStore::builder`].
#[derive(Clone)]
pub struct RedisStoreBuilder {
    url: String,
    prefix: String,
    timeout: Duration,
    secret: Option<Arc<[u8]>>,
    root_certificate: Option<Vec<u8>>,
    allow_eviction: bool,
}

impl fmt::Debug for RedisStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: only its scheme is shown.
        let scheme = self.url.split_once("://").map_or("?", |(s, _)| s);
        f.debug_struct("RedisStoreBuilder")
            .field("scheme", &scheme)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .field("secret", &self.secret.as_ref().map(|_| ".."))
            .field("root_certificate", &self.root_certificate.is_some())
            .field("allow_eviction", &self.allow_eviction)
            .finish()
    }
}

impl RedisStoreBuilder {
    pub(super) fn new(url: String) -> Self {
        RedisStoreBuilder {
            url,
            prefix: "bearer-guard:".to_owned(),
            timeout: Duration::from_millis(250),
            secret: None,
            root_certificate: None,
            allow_eviction: false,
        }
    }

    /// The store secret: the HMAC-SHA256 key that authenticates every value this store reads
    /// back (see [`RedisStore`]). At least 32 bytes, random, the same on every instance that
    /// shares the store, and never stored in Redis. Without it, [`connect`](Self::connect)
    /// reads [`SECRET_ENV`]; with neither, or a shorter one, `connect` fails. Never shown in
    /// `Debug` output.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secret = Some(Arc::from(secret.as_ref()));
        self
    }

    /// Prepended to every key (default `bearer-guard:`). Entries of different validators do
    /// not mix even under one prefix (their keys hash the validator's settings), but a prefix
    /// per application keeps them apart for whoever reads Redis.
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Bound on every command, and on each attempt to connect (default 250 ms).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Trusts this certificate authority (PEM) for a `rediss://` URL, instead of the
    /// platform's trust store: for a Redis server with a certificate of a private CA.
    pub fn root_certificate(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.root_certificate = Some(pem.into());
        self
    }

    /// Lets the store record DPoP proofs even though Redis' `maxmemory-policy` may evict keys
    /// (default `false`: such a store refuses every proof with 503; see [`RedisStore`]). Only
    /// for a Redis whose memory you know will never fill up, or where CONFIG and INFO are not
    /// available to check: an evicted replay key lets its proof be replayed.
    pub fn allow_eviction(mut self, allow: bool) -> Self {
        self.allow_eviction = allow;
        self
    }

    /// Connects (within the timeout), so that a wrong URL, a missing secret or a Redis that is
    /// down shows at start-up, and reads the server's `maxmemory-policy`. Later outages are
    /// survived: the connection is made again by itself.
    pub async fn connect(self) -> Result<RedisStore, StoreError> {
        let secret = match &self.secret {
            Some(secret) => secret.clone(),
            None => std::env::var_os(SECRET_ENV)
                .map(|v| Arc::from(v.as_encoded_bytes()))
                .ok_or_else(|| StoreError::new(NO_SECRET))?,
        };
        let sealer = Sealer::new(&secret).ok_or_else(|| StoreError::new(SHORT_SECRET))?;
        let client = self.client()?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(10))
            .set_max_delay(Duration::from_millis(500));
        let connect = ConnectionManager::new_with_config(client, config);
        let mut connection = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => {
                return Err(StoreError::new(format!(
                    "cannot connect to redis: {:?}",
                    e.kind()
                )))
            }
            Err(_) => return Err(StoreError::new("cannot connect to redis: timed out")),
        };
        let replay_refusal = if self.allow_eviction {
            None
        } else {
            let info: Result<String, StoreError> = run(
                self.timeout,
                "INFO memory",
                redis::cmd("INFO")
                    .arg("memory")
                    .query_async(&mut connection),
            )
            .await;
            let refusal = match info {
                Ok(info) => match eviction_policy(&info) {
                    Some("noeviction") => None,
                    Some(policy) => Some(format!(
                        "redis maxmemory-policy is {policy}, which may evict DPoP replay keys \
                         before they expire; set it to noeviction, or allow_eviction(true)"
                    )),
                    None => Some(UNKNOWN_POLICY.to_owned()),
                },
                Err(e) => Some(format!("{UNKNOWN_POLICY} ({e})")),
            };
            if let Some(why) = &refusal {
                tracing::error!(reason = %why, "this RedisStore refuses to record DPoP proofs");
            }
            refusal.map(Arc::from)
        };
        Ok(RedisStore {
            connection,
            prefix: self.prefix,
            timeout: self.timeout,
            sealer,
            replay_refusal,
        })
    }

    /// The redis client for the URL, with the configured root certificate for `rediss://`.
    fn client(&self) -> Result<redis::Client, StoreError> {
        let bad_url =
            |e: redis::RedisError| StoreError::new(format!("bad redis URL: {:?}", e.kind()));
        #[cfg(any(feature = "tls-aws-lc", feature = "tls-ring", feature = "tls-native"))]
        if let Some(pem) = &self.root_certificate {
            #[cfg(any(feature = "tls-aws-lc", feature = "tls-ring"))]
            ensure_crypto_provider();
            let certificates = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(pem.clone()),
            };
            return redis::Client::build_with_tls(self.url.as_str(), certificates).map_err(bad_url);
        }
        #[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring", feature = "tls-native")))]
        if self.root_certificate.is_some() {
            return Err(StoreError::new(
                "root_certificate needs one of the features tls-aws-lc, tls-ring, tls-native",
            ));
        }
        #[cfg(any(feature = "tls-aws-lc", feature = "tls-ring"))]
        if self.url.starts_with("rediss://") {
            ensure_crypto_provider();
        }
        redis::Client::open(self.url.as_str()).map_err(bad_url)
    }
}

const NO_SECRET: &str = "a RedisStore needs a secret of at least 32 bytes: RedisStoreBuilder::secret, or the environment variable BEARER_GUARD_REDIS_SECRET";
const SHORT_SECRET: &str = "the RedisStore secret is shorter than 32 bytes";
const UNKNOWN_POLICY: &str =
    "redis maxmemory-policy could not be read (INFO memory); allow_eviction(true) if you know it is safe";

/// The `maxmemory_policy` of an `INFO memory` answer.
fn eviction_policy(info: &str) -> Option<&str> {
    info.lines()
        .find_map(|line| line.trim().strip_prefix("maxmemory_policy:"))
        .map(str::trim)
}

/// redis-rs builds its rustls configuration with the process-wide crypto provider; install the
/// one of this crate's TLS feature if the application has not chosen one.
#[cfg(any(feature = "tls-aws-lc", feature = "tls-ring"))]
fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_some() {
        return;
    }
    #[cfg(feature = "tls-aws-lc")]
    let provider = rustls::crypto::aws_lc_rs::default_provider();
    #[cfg(not(feature = "tls-aws-lc"))]
    let provider = rustls::crypto::ring::default_provider();
    // Another thread may have installed one meanwhile; either will do.
    let _ = provider.install_default();
}

#[cfg(test)]
mod tests {
    use super::eviction_policy;

    #[test]
    fn the_policy_is_read_from_info_memory() {
        let info = "# Memory\r\nused_memory:1\r\nmaxmemory_policy:allkeys-lru\r\nother:2\r\n";
        assert_eq!(eviction_policy(info), Some("allkeys-lru"));
        assert_eq!(eviction_policy("# Memory\r\nused_memory:1\r\n"), None);
    }
}
