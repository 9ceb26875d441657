//! [`DpopConfig`]: how the layer checks DPoP proofs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use url::Url;

use crate::crypto::Backend;
use crate::jose::{is_hmac, DEFAULT_ALGORITHMS};
use crate::store::ReplayStore;
use crate::BuildError;

/// The shortest [nonce secret](DpopConfig::nonce_secret) accepted, in bytes.
pub(super) const MIN_NONCE_SECRET: usize = 32;

/// The longest [`iat_window`](DpopConfig::iat_window) accepted on either side: 1 hour.
pub const MAX_IAT_WINDOW: Duration = Duration::from_secs(3600);

/// How the layer checks DPoP proofs. Made by [`DpopConfig::new`] and passed to
/// [`AuthLayer::dpop`](crate::AuthLayer::dpop), which refuses it (a [`BuildError`]) without
/// [`base_url`](Self::base_url) or [`allowed_hosts`](Self::allowed_hosts), or with a
/// [nonce secret](Self::nonce_secret) under 32 bytes. See the [module docs](crate::dpop) for
/// the rules.
#[derive(Debug, Clone)]
pub struct DpopConfig {
    pub(super) algorithms: Vec<Algorithm>,
    pub(super) max_age: Duration,
    pub(super) max_future: Duration,
    pub(super) base_url: Option<Url>,
    pub(super) allowed_hosts: Vec<String>,
    pub(super) default_scheme: http::uri::Scheme,
    pub(super) replay_capacity: u64,
    pub(super) max_proof_bytes: usize,
    pub(super) backend: Backend,
    pub(super) nonce_lifetime: Option<Duration>,
    pub(super) nonce_secret: Option<Secret>,
    pub(super) shared_store: Option<SharedReplay>,
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
            allowed_hosts: Vec::new(),
            default_scheme: http::uri::Scheme::HTTPS,
            replay_capacity: 100_000,
            max_proof_bytes: 8 * 1024,
            backend: Backend::default(),
            nonce_lifetime: None,
            nonce_secret: None,
            shared_store: None,
        }
    }
}

impl DpopConfig {
    /// The defaults: every asymmetric algorithm of [`DEFAULT_ALGORITHMS`], `iat` within 60 s
    /// either side, replay cache of 100,000 proofs, proofs of at most 8 KiB. No request URI
    /// source: [`AuthLayer::dpop`](crate::AuthLayer::dpop) needs
    /// [`base_url`](Self::base_url) or [`allowed_hosts`](Self::allowed_hosts) as well.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the proof algorithm allow-list (sent as `algs` in challenges). A proof is
    /// signed with a private key: an HMAC algorithm, or an empty list, is a
    /// [`BuildError::Invalid`] when the layer or verifier is built.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self.algorithms.dedup();
        self
    }

    /// Accepts proofs whose `iat` is at most `past` old and at most `future` ahead of this
    /// server's clock (default 60 s each; each at most [`MAX_IAT_WINDOW`], 1 hour, since a
    /// proof is meant to be fresh: a longer one is a [`BuildError::Invalid`] when the layer or
    /// verifier is built). An accepted proof's `jti` is kept until its `iat` is more than
    /// `past` old: at most `past + future`.
    pub fn iat_window(mut self, past: Duration, future: Duration) -> Self {
        self.max_age = past;
        self.max_future = future;
        self
    }

    /// The external URL of this service, as clients see it (behind a proxy that rewrites
    /// scheme, host or port). The URI a proof's `htu` must match is then this URL's scheme,
    /// host and port, its path (without trailing `/`) followed by the request path: it
    /// depends on configuration only, not on anything the client sent. This is the safe
    /// setting, and the one to use behind a proxy or load balancer.
    ///
    /// [`AuthLayer::dpop`](crate::AuthLayer::dpop) needs either `base_url` or
    /// [`allowed_hosts`](Self::allowed_hosts); with both, `base_url` is used and the list is
    /// not consulted.
    pub fn base_url(mut self, url: Url) -> Self {
        self.base_url = Some(url);
        self
    }

    /// The authorities this service answers to, when no [`base_url`](Self::base_url) is set
    /// (replaces any list given before). The URI a proof's `htu` must match is then taken from
    /// the request: its absolute URI if it has one (HTTP/2, proxies), else the
    /// [default scheme](Self::default_scheme) with the `Host` header and the request path. Its
    /// authority must be one of these, else the proof is refused ([`DpopError::WrongUri`]):
    /// without such a list, a proof and token made for another resource server (whose
    /// audience also covers this one) could be replayed here with that server's name in
    /// `Host`.
    ///
    /// Each entry is `host` or `host:port`: a host of ASCII letters, digits, `-`, `.` and `_`
    /// (a DNS name or IPv4 address) or an IPv6 address in brackets, and a port of 1 to 5
    /// digits up to 65535. An entry that is not is refused when the layer is built
    /// ([`BuildError::Invalid`]). A request's authority is accepted only as such a plain
    /// `host[:port]` too (no userinfo, `\`, `/`, `%`, spaces or control characters), and then
    /// matches an entry when
    ///
    /// - the hosts are equal after URL host parsing: compared without ASCII case
    ///   (`API.Example` is `api.example`), IPv4 and IPv6 addresses as addresses, a trailing `.`
    ///   significant (`api.example.` is another host); and
    /// - the ports are equal, a missing port meaning the default port of the request's scheme:
    ///   the entry `api.example` matches `api.example` and `api.example:443` on `https`
    ///   requests (`:80` on `http`), but not `api.example:8443`; the entry `api.example:8443`
    ///   matches that port only.
    ///
    /// ```
    /// use bearer_guard::dpop::DpopConfig;
    ///
    /// let dpop = DpopConfig::new().allowed_hosts(["api.example", "api.example:8443"]);
    /// // AuthLayer::new(validator).dpop(dpop)?
    /// # let _ = dpop;
    /// ```
    ///
    /// [`DpopError::WrongUri`]: crate::error::DpopError::WrongUri
    pub fn allowed_hosts(mut self, hosts: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.allowed_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// The scheme assumed for requests whose URI is not absolute and no
    /// [`base_url`](Self::base_url) is set (default `https`); it also gives the default port
    /// that [`allowed_hosts`](Self::allowed_hosts) entries without a port stand for.
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
    pub fn cache_capacity(mut self, capacity: u64) -> Self {
        self.replay_capacity = capacity;
        self
    }

    /// Keeps the `jti`s of accepted proofs in `store` instead of this layer's own replay
    /// cache, so that instances sharing it refuse each other's proofs as replays (several
    /// instances behind a load balancer; see [`store`](crate::store) and, with the `redis`
    /// feature, `RedisStore`). [`cache_capacity`](Self::cache_capacity) is then unused.
    ///
    /// Each proof then costs one round trip to the store, awaited by the layer after the
    /// token is validated. When the store cannot answer (down, timed out, full), the proof is
    /// refused with 503 ([`AuthError::Unavailable`], logged as a warning): fail closed.
    ///
    /// ```
    /// use bearer_guard::{store::MemoryStore, dpop::DpopConfig};
    ///
    /// let dpop = DpopConfig::new().shared_store(MemoryStore::new(100_000));
    /// # let _ = dpop;
    /// ```
    ///
    /// [`AuthError::Unavailable`]: crate::AuthError::Unavailable
    pub fn shared_store(mut self, store: impl ReplayStore) -> Self {
        self.shared_store = Some(SharedReplay(Arc::new(store)));
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
    /// accepted for `lifetime` after it was issued (whole seconds; under 1 s is a
    /// [`BuildError::Invalid`] when the layer or verifier is built).
    ///
    /// A proof without a valid, unexpired `nonce` is refused with 401,
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a fresh nonce in the `DPoP-Nonce`
    /// header ([`NONCE_HEADER`]); the client signs a new proof with it and retries. Nonces are
    /// made with the [`nonce_secret`](Self::nonce_secret), or a random secret per layer.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bearer_guard::dpop::DpopConfig;
    ///
    /// let dpop = DpopConfig::new().nonces(Duration::from_secs(300));
    /// // AuthLayer::new(validator).dpop(dpop.base_url(..))?
    /// # let _ = dpop;
    /// ```
    ///
    /// [`NONCE_HEADER`]: crate::dpop::NONCE_HEADER
    pub fn nonces(mut self, lifetime: Duration) -> Self {
        self.nonce_lifetime = Some(lifetime);
        self
    }

    /// The secret nonces are made and checked with (HMAC-SHA256 key): at least 32 random
    /// bytes, else building the layer or [`ProofVerifier`](crate::dpop::ProofVerifier) fails
    /// ([`BuildError::Invalid`]), whether or not nonces are on. Give every instance behind a
    /// load balancer the same secret so that they accept each other's nonces. Without it, a
    /// random 32-byte secret is made when the layer is built. Takes effect only with
    /// [`nonces`](Self::nonces); never shown in `Debug` output.
    ///
    /// ```
    /// use std::time::Duration;
    /// use bearer_guard::dpop::DpopConfig;
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

    /// The settings every verifier needs, checked when it is built: asymmetric algorithms
    /// only (at least one), an `iat` window of at most [`MAX_IAT_WINDOW`] each side, a nonce
    /// lifetime of at least a second, a nonce secret of at least [`MIN_NONCE_SECRET`] bytes.
    pub(super) fn check(&self) -> Result<(), BuildError> {
        if self.algorithms.iter().any(|a| is_hmac(*a)) {
            return Err(BuildError::Invalid(
                "DpopConfig::algorithms: a DPoP proof is signed with a private key, HMAC \
                 algorithms are refused",
            ));
        }
        if self.algorithms.is_empty() {
            return Err(BuildError::Invalid(
                "DpopConfig::algorithms is empty: no proof could be accepted",
            ));
        }
        if self.max_age > MAX_IAT_WINDOW || self.max_future > MAX_IAT_WINDOW {
            return Err(BuildError::Invalid(
                "DpopConfig::iat_window: each side must be at most 1 hour",
            ));
        }
        if self
            .nonce_lifetime
            .is_some_and(|lifetime| lifetime < Duration::from_secs(1))
        {
            return Err(BuildError::Invalid(
                "DpopConfig::nonces: the nonce lifetime must be at least 1 second",
            ));
        }
        match &self.nonce_secret {
            Some(secret) if secret.0.len() < MIN_NONCE_SECRET => Err(BuildError::Invalid(
                "the DPoP nonce secret must be at least 32 bytes (DpopConfig::nonce_secret)",
            )),
            _ => Ok(()),
        }
    }

    /// What the layer needs besides [`check`](Self::check): a request URI that does not depend
    /// on the client alone, from `base_url` or checked against `allowed_hosts`.
    pub(super) fn check_request_uri(&self) -> Result<(), BuildError> {
        if self.base_url.is_none() && self.allowed_hosts.is_empty() {
            return Err(BuildError::Invalid(
                "DPoP needs DpopConfig::base_url or DpopConfig::allowed_hosts: without them \
                 the htu authority would be whatever Host header the client sends",
            ));
        }
        Ok(())
    }
}
