//! [`DpopConfig`]: how the layer checks DPoP proofs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;

use crate::crypto::Backend;
use crate::jose::{is_hmac, DEFAULT_ALGORITHMS};
use crate::store::ReplayStore;

/// How the layer checks DPoP proofs. Made by [`DpopConfig::new`] and passed to
/// [`AuthLayer::dpop`](crate::AuthLayer::dpop). See the [module docs](crate::dpop) for the rules.
#[derive(Debug, Clone)]
pub struct DpopConfig {
    pub(super) algorithms: Vec<Algorithm>,
    pub(super) max_age: Duration,
    pub(super) max_future: Duration,
    pub(super) base_url: Option<Url>,
    pub(super) default_scheme: http::uri::Scheme,
    pub(super) replay_capacity: u64,
    pub(super) max_proof_bytes: usize,
    pub(super) backend: Backend,
    pub(super) nonce_lifetime: Option<Duration>,
    pub(super) nonce_secret: Option<Secret>,
    pub(super) replay_store: Option<SharedReplay>,
}

/// A shared [`ReplayStore`]; not shown in `Debug` output beyond its presence.
#[derive(Clone)]
pub(super) struct SharedReplay(pub(super) Arc<dyn ReplayStore>);

impl fmt::Debug for SharedReplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReplayStore(..)")
    }
}

/// Key material that never shows in `Debug` output.
#[derive(Clone)]
pub(super) struct Secret(pub(super) Arc<[u8]>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Default for DpopConfig {
    fn default() -> Self {
        DpopConfig {
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            max_age: Duration::from_secs(60),
            max_future: Duration::from_secs(60),
            base_url: None,
            default_scheme: http::uri::Scheme::HTTPS,
            replay_capacity: 100_000,
            max_proof_bytes: 8 * 1024,
            backend: Backend::default(),
            nonce_lifetime: None,
            nonce_secret: None,
            replay_store: None,
        }
    }
}

impl DpopConfig {
    /// The defaults: every asymmetric algorithm of
    /// [`DEFAULT_ALGORITHMS`], `iat` within 60 s either side,
    /// request URI from the request (or `https://` + `Host`), replay cache of 100,000 proofs,
    /// proofs of at most 8 KiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the proof algorithm allow-list (sent as `algs` in challenges). HMAC algorithms
    /// are dropped: a proof must be signed with a private key.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().filter(|a| !is_hmac(*a)).collect();
        self.algorithms.dedup();
        self
    }

    /// Accepts proofs whose `iat` is at most `past` old and at most `future` ahead of this
    /// server's clock (default 60 s each, each capped at 1 hour: a proof is meant to be
    /// fresh). An accepted proof's `jti` is kept until its `iat` is more than `past` old: at
    /// most `past + future`.
    pub fn iat_window(mut self, past: Duration, future: Duration) -> Self {
        const MAX: Duration = Duration::from_secs(3600);
        self.max_age = past.min(MAX);
        self.max_future = future.min(MAX);
        self
    }

    /// The external URL of this service, as clients see it (behind a proxy that rewrites
    /// scheme, host or port). When set, the URI a proof's `htu` must match is this URL's
    /// scheme, host and port, its path (without trailing `/`) followed by the request path.
    ///
    /// When not set, the URI is taken from the request: its absolute URI if it has one
    /// (HTTP/2, proxies), else the [default scheme](Self::default_scheme) with the `Host`
    /// header and the request path. That authority is chosen by the client, so it is accepted
    /// only as a plain `host[:port]`: a host of ASCII letters, digits, `-`, `.` and `_`, or an
    /// IPv6 address in brackets, and a port of at most 5 digits up to 65535; no userinfo, no
    /// `\`, `/`, `%`, spaces or control characters. Otherwise the proof is refused
    /// ([`DpopError::WrongUri`]).
    ///
    /// Behind a proxy or load balancer, set `base_url`: it is the safe setting, since the
    /// request URI then depends on configuration only, not on a `Host` header that the client
    /// chose and the proxy may pass on or rewrite.
    ///
    /// [`DpopError::WrongUri`]: crate::DpopError::WrongUri
    pub fn base_url(mut self, url: Url) -> Self {
        self.base_url = Some(url);
        self
    }

    /// The scheme assumed for requests whose URI is not absolute and no
    /// [`base_url`](Self::base_url) is set (default `https`).
    pub fn default_scheme(mut self, scheme: http::uri::Scheme) -> Self {
        self.default_scheme = scheme;
        self
    }

    /// How many proof `jti`s the replay cache keeps (default 100,000). Size it above the number
    /// of DPoP requests expected within the `iat` [window](Self::iat_window).
    ///
    /// An accepted `jti` is never evicted before its proof has left the `iat` window. When the
    /// cache holds `capacity` such entries, every new proof is refused with 503 and
    /// `Retry-After` ([`AuthError::Unavailable`], logged as a warning) until entries expire:
    /// fail closed, since accepting a proof without remembering it would let it be replayed. A
    /// capacity of 0 refuses every proof.
    ///
    /// [`AuthError::Unavailable`]: crate::AuthError::Unavailable
    pub fn replay_cache(mut self, capacity: u64) -> Self {
        self.replay_capacity = capacity;
        self
    }

    /// Keeps the `jti`s of accepted proofs in `store` instead of this layer's own replay
    /// cache, so that instances sharing it refuse each other's proofs as replays (several
    /// instances behind a load balancer; see [`store`](crate::store) and, with the `redis`
    /// feature, `RedisStore`). [`replay_cache`](Self::replay_cache) is then unused.
    ///
    /// Each proof then costs one round trip to the store, awaited by the layer after the
    /// token is validated. When the store cannot answer (down, timed out, full), the proof is
    /// refused with 503 ([`AuthError::Unavailable`], logged as a warning): fail closed.
    ///
    /// ```
    /// use bearer_guard::{store::MemoryStore, DpopConfig};
    ///
    /// let dpop = DpopConfig::new().replay_store(MemoryStore::new(100_000));
    /// # let _ = dpop;
    /// ```
    ///
    /// [`AuthError::Unavailable`]: crate::AuthError::Unavailable
    pub fn replay_store(mut self, store: impl ReplayStore) -> Self {
        self.replay_store = Some(SharedReplay(Arc::new(store)));
        self
    }

    /// The largest proof accepted, in bytes (default 8 KiB).
    pub fn max_proof_bytes(mut self, n: usize) -> Self {
        self.max_proof_bytes = n;
        self
    }

    /// The signature-verification backend (default [`Backend::default`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Requires a server-provided nonce in every proof (RFC 9449 §9; off by default), each
    /// accepted for `lifetime` after it was issued (whole seconds, at least 1 s).
    ///
    /// A proof without a valid, unexpired `nonce` is refused with 401,
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a fresh nonce in the `DPoP-Nonce`
    /// header ([`NONCE_HEADER`]); the client signs a new proof with it and retries. Nonces are
    /// made with the [`nonce_secret`](Self::nonce_secret), or a random secret per layer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bearer_guard::DpopConfig;
    ///
    /// let dpop = DpopConfig::new().nonces(Duration::from_secs(300));
    /// // AuthLayer::new(validator).dpop(dpop)
    /// # let _ = dpop;
    /// ```
    ///
    /// [`NONCE_HEADER`]: crate::dpop::NONCE_HEADER
    pub fn nonces(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = Some(lifetime.max(Duration::from_secs(1)));
        self
    }

    /// The secret nonces are made and checked with (HMAC-SHA256 key; use at least 32 random
    /// bytes; a shorter one is logged as a warning). Give every instance behind a load
    /// balancer the same secret so that they accept each other's nonces. Without it, a random
    /// 32-byte secret is made when the layer is built. Takes effect only with
    /// [`nonces`](Self::nonces); never shown in `Debug` output.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bearer_guard::DpopConfig;
    ///
    /// # let secret_from_your_vault = [7u8; 32];
    /// let dpop = DpopConfig::new()
    ///     .nonces(Duration::from_secs(300))
    ///     .nonce_secret(secret_from_your_vault);
    /// assert!(!format!("{dpop:?}").contains("7, 7"));
    /// ```
    pub fn nonce_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.nonce_secret = Some(Secret(Arc::from(secret.as_ref())));
        self
    }
}
