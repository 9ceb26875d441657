//! DPoP (RFC 9449) at the resource server: sender-constrained access tokens.
//!
//! A DPoP-bound access token carries the SHA-256 thumbprint of the client's public key in
//! `cnf.jkt`. The client presents it as `Authorization: DPoP <token>` together with a `DPoP`
//! header: a fresh JWS over the request's method and URI, signed with that key. A stolen token
//! is then useless without the private key.
//!
//! DPoP is an opt-in of the layer, [`AuthLayer::dpop`](crate::AuthLayer::dpop): the
//! [`Validator`](crate::Validator) checks the token alone, as before, and the layer then checks
//! the binding against the request. With a [`DpopConfig`], for every request whose token has
//! `cnf.jkt` or is presented with the `DPoP` scheme, the layer requires exactly one `DPoP`
//! header and checks (RFC 9449 §4.3, §7.1):
//!
//! 1. the proof is a compact JWS of at most [`max_proof_bytes`](DpopConfig::max_proof_bytes),
//!    header and claims JSON objects without duplicate members, no `crit`;
//! 2. `typ` is `dpop+jwt`; `alg` is on the [allow-list](DpopConfig::algorithms) (asymmetric
//!    only: never `none` or HMAC);
//! 3. `jwk` is a public key (no private members such as `d`) that fits `alg`, and the
//!    signature verifies with it;
//! 4. `htm` equals the request method; `htu` equals the request URI without query and fragment
//!    (scheme, host, port and path compared after URL normalisation; see
//!    [`base_url`](DpopConfig::base_url) for how the request URI is known). Without
//!    `base_url`, the request's authority (`Host` header, or the authority of an absolute
//!    request URI) must be a plain `host[:port]`, else the proof is refused
//!    ([`DpopError::WrongUri`]): a value such as `api.example\admin` would otherwise be
//!    normalised into another path. Behind a proxy, [`base_url`](DpopConfig::base_url) is the
//!    safe setting: the request URI then does not depend on what the client sent;
//! 5. `iat` lies within the [window](DpopConfig::iat_window) (default 60 s either side);
//! 6. `ath` is the base64url SHA-256 of the access token;
//! 7. the RFC 7638 SHA-256 thumbprint of `jwk` equals the token's `cnf.jkt`;
//! 8. only with [`nonces`](DpopConfig::nonces) turned on: `nonce` is a string that this server
//!    (or another sharing its [secret](DpopConfig::nonce_secret)) issued at most the nonce
//!    lifetime ago (RFC 9449 §9). Otherwise the request is refused with
//!    `DPoP error="use_dpop_nonce"` and a fresh nonce in the `DPoP-Nonce` response header
//!    ([`DpopError::UseNonce`]); the client retries with a new proof carrying it;
//! 9. the `jti` was not seen before (replay cache, keyed by the SHA-256 of `jti`). An accepted
//!    `jti` is kept until its proof's `iat` is too old to pass the window again, and never
//!    dropped earlier: when the [cache](DpopConfig::replay_cache) is full of such entries, new
//!    proofs are refused with 503 ([`AuthError::Unavailable`], fail closed) rather than
//!    accepted and forgotten. A proof refused by an earlier step does not use up its `jti`.
//!
//! A token with `cnf.jkt` presented with the `Bearer` scheme is refused
//! ([`DpopError::BoundToken`], RFC 9449 §7.2), and so is a token without `cnf.jkt` presented
//! with the `DPoP` scheme ([`DpopError::NotBound`]).
//!
//! **Without** a `DpopConfig` the layer accepts only the `Bearer` scheme and still refuses
//! tokens with `cnf.jkt` (fail closed): such a token says it may only be used with a proof of
//! possession, which that layer cannot check.
//!
//! # Server-provided nonces
//!
//! Nonces (RFC 9449 §9) are off by default. With [`DpopConfig::nonces`], proofs must carry a
//! recent `nonce` issued by this server, which limits how far ahead of time a client (or an
//! attacker holding its key for a while) can make proofs. Nonces are stateless: the issue time
//! and an HMAC-SHA256 of it under a secret, so every instance that shares the
//! [secret](DpopConfig::nonce_secret) accepts the nonces of the others. When an accepted
//! proof's nonce is older than half its lifetime, the successful response carries a fresh one
//! in `DPoP-Nonce` so that clients can move on before theirs expires.
//!
//! ```
//! use std::time::Duration;
//! use bearer_guard::{Algorithm, DpopConfig};
//!
//! let dpop = DpopConfig::new()
//!     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
//!     .iat_window(Duration::from_secs(30), Duration::from_secs(5))
//!     // The URL clients use, as seen outside any proxy.
//!     .base_url(url::Url::parse("https://api.example").unwrap());
//! // AuthLayer::new(validator).dpop(dpop)
//! # let _ = dpop;
//! ```

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::header::HOST;
use http::{HeaderMap, HeaderValue, Method, Request};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::bearer::Scheme;
use crate::crypto::Backend;
use crate::jwt::{
    decode_object, numeric_date, parse_alg, split_compact, unix_now, DEFAULT_ALGORITHMS,
};
use crate::{AuthError, Claims, DpopError};

/// The `DPoP` request header.
pub const DPOP_HEADER: &str = "dpop";

/// The `DPoP-Nonce` response header that carries a server-provided nonce (RFC 9449 §8, §9).
///
/// ```
/// assert_eq!(bearer_guard::dpop::NONCE_HEADER, "dpop-nonce");
/// ```
pub const NONCE_HEADER: &str = "dpop-nonce";

/// Bytes of a nonce before encoding: the issue time (8) and the truncated MAC (16).
const NONCE_RAW: usize = 8 + NONCE_TAG;
/// Bytes of the MAC kept in a nonce.
const NONCE_TAG: usize = 16;
/// Characters of an encoded nonce (base64url of `NONCE_RAW` bytes, no padding).
const NONCE_LEN: usize = 32;

/// Members of a JWK that hold private key material (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// How the layer checks DPoP proofs. Made by [`DpopConfig::new`] and passed to
/// [`AuthLayer::dpop`](crate::AuthLayer::dpop). See the [module docs](self) for the rules.
#[derive(Debug, Clone)]
pub struct DpopConfig {
    algorithms: Vec<Algorithm>,
    max_age: Duration,
    max_future: Duration,
    base_url: Option<Url>,
    default_scheme: http::uri::Scheme,
    replay_capacity: u64,
    max_proof_bytes: usize,
    backend: Backend,
    nonce_lifetime: Option<Duration>,
    nonce_secret: Option<Secret>,
}

/// Key material that never shows in `Debug` output.
#[derive(Clone)]
struct Secret(Arc<[u8]>);

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
        self.algorithms = algorithms
            .into_iter()
            .filter(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            .collect();
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
    pub fn replay_cache(mut self, capacity: u64) -> Self {
        self.replay_capacity = capacity;
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

/// A server-provided DPoP nonce (RFC 9449 §9), as sent in the `DPoP-Nonce` header: 32
/// base64url characters.
///
/// It is carried by [`DpopError::UseNonce`]; [`AuthError::to_response`] and the gRPC mapping
/// send it, and a custom [`ErrorHandler`](crate::ErrorHandler) that builds its own response
/// must send it too.
///
/// ```
/// use bearer_guard::{AuthError, DpopError};
/// use bearer_guard::dpop::NONCE_HEADER;
///
/// fn nonce_header(error: &AuthError) -> Option<(&'static str, &str)> {
///     match error {
///         AuthError::Dpop(DpopError::UseNonce(nonce)) => Some((NONCE_HEADER, nonce.as_str())),
///         _ => None,
///     }
/// }
/// # assert!(nonce_header(&DpopError::Replayed.into()).is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; NONCE_LEN]);

impl Nonce {
    /// The nonce as text (base64url).
    ///
    /// ```
    /// # fn demo(nonce: bearer_guard::dpop::Nonce) {
    /// let header = ("DPoP-Nonce", nonce.as_str());
    /// # let _ = header; }
    /// ```
    pub fn as_str(&self) -> &str {
        // Always base64url characters (see `Nonces::mint`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The nonce as a header value.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(&self.0).ok()
    }
}

#[cfg(test)]
impl Nonce {
    /// A nonce with the given text (unit tests of the error mapping).
    pub(crate) fn test(text: &[u8]) -> Nonce {
        let mut nonce = [b'A'; NONCE_LEN];
        for (to, from) in nonce.iter_mut().zip(text) {
            *to = *from;
        }
        Nonce(nonce)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Nonce").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Makes and checks nonces: `base64url(issue time (u64 seconds, big-endian) ||
/// HMAC-SHA256(secret, issue time)[..16])`.
struct Nonces {
    /// `None` when no random secret could be made: every nonce is then refused.
    mac: Option<Hmac<Sha256>>,
    /// Seconds a nonce is accepted after it was issued.
    lifetime: u64,
}

impl Nonces {
    fn new(lifetime: Duration, secret: Option<&Secret>) -> Self {
        let mac = match secret {
            Some(secret) => {
                if secret.0.len() < 32 {
                    tracing::warn!(
                        bytes = secret.0.len(),
                        "the DPoP nonce secret is shorter than 32 bytes: nonces may be forged"
                    );
                }
                Hmac::<Sha256>::new_from_slice(&secret.0).ok()
            }
            None => {
                let mut random = [0u8; 32];
                match getrandom::fill(&mut random) {
                    Ok(()) => Hmac::<Sha256>::new_from_slice(&random).ok(),
                    Err(e) => {
                        tracing::error!(
                            error = %e,
                            "no random DPoP nonce secret: every DPoP nonce will be refused"
                        );
                        None
                    }
                }
            }
        };
        Nonces {
            mac,
            lifetime: lifetime.as_secs().max(1),
        }
    }

    /// A nonce issued at `time` (seconds since the Unix epoch).
    fn mint(&self, time: u64) -> Nonce {
        let mut raw = [0u8; NONCE_RAW];
        if let Some((issued, tag)) = raw.split_first_chunk_mut::<8>() {
            *issued = time.to_be_bytes();
            if let Some(mac) = &self.mac {
                let full = mac.clone().chain_update(*issued).finalize().into_bytes();
                // `tag` is NONCE_TAG bytes long: the MAC is truncated to its first ones.
                for (to, from) in tag.iter_mut().zip(full) {
                    *to = from;
                }
            }
        }
        // NONCE_RAW bytes encode to exactly NONCE_LEN characters, so this always fills it.
        let mut nonce = [b'A'; NONCE_LEN];
        let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut nonce);
        Nonce(nonce)
    }

    /// The age in seconds of `nonce` at `now`, if this server issued it (its MAC verifies),
    /// not after `now` and at most `lifetime` ago. `nonce` is untrusted input.
    fn age(&self, nonce: &str, now: u64) -> Option<u64> {
        let mac = self.mac.as_ref()?;
        if nonce.len() != NONCE_LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        let raw: [u8; NONCE_RAW] = raw.as_slice().try_into().ok()?;
        let (time, tag) = raw.split_first_chunk::<8>()?;
        mac.clone()
            .chain_update(time)
            .verify_truncated_left(tag)
            .ok()?;
        let age = now.checked_sub(u64::from_be_bytes(*time))?;
        (age <= self.lifetime).then_some(age)
    }
}

/// What a verified proof yields.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The RFC 7638 thumbprint of the proof key.
    pub(crate) jkt: String,
    /// A fresh nonce to send with the response: the proof's nonce is past half its lifetime.
    pub(crate) nonce: Option<Nonce>,
}

/// What [`ReplayCache::insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// Not seen before (or only expired): now remembered.
    Fresh,
    /// Seen before and not yet expired.
    Replayed,
    /// Not seen before, but the cache is full of unexpired entries: not remembered.
    Full,
}

/// The SHA-256 hashes of accepted `jti`s, each kept until an expiry time. Unlike a cache with
/// an admission policy, it never drops an entry before it expires: at capacity it refuses new
/// ones ([`Seen::Full`]). O(log n) per insertion; the lock is held for a few map operations.
struct ReplayCache {
    capacity: usize,
    entries: Mutex<ReplayEntries>,
}

#[derive(Default)]
struct ReplayEntries {
    /// `jti` hash → expiry (whole seconds since the Unix epoch; kept while the clock, rounded
    /// down, is at most this).
    expiry: HashMap<[u8; 32], u64>,
    /// The same entries ordered by expiry, to drop the expired ones first.
    by_expiry: BTreeSet<(u64, [u8; 32])>,
}

/// How many expired entries one insertion drops at most (bounds the time the lock is held;
/// at least one, so a full cache with an expired entry always makes room).
const PURGE_BATCH: usize = 64;

impl ReplayCache {
    fn new(capacity: u64) -> Self {
        ReplayCache {
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            entries: Mutex::default(),
        }
    }

    /// Remembers `key` until `expiry` unless it is remembered already, as of `now` (whole
    /// seconds since the Unix epoch).
    fn insert(&self, key: [u8; 32], expiry: u64, now: u64) -> Seen {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = &mut *entries;
        for _ in 0..PURGE_BATCH {
            match entries.by_expiry.first() {
                Some(&(old, old_key)) if old < now => {
                    entries.by_expiry.pop_first();
                    entries.expiry.remove(&old_key);
                }
                _ => break,
            }
        }
        if let Some(&old) = entries.expiry.get(&key) {
            if old >= now {
                return Seen::Replayed;
            }
            entries.by_expiry.remove(&(old, key));
            entries.expiry.remove(&key);
        }
        // Everything left is unexpired: either the purge stopped at an unexpired entry, or it
        // dropped at least one and there is room again.
        if entries.expiry.len() >= self.capacity {
            return Seen::Full;
        }
        entries.expiry.insert(key, expiry);
        entries.by_expiry.insert((expiry, key));
        Seen::Fresh
    }

    /// How many entries are remembered (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .expiry
            .len()
    }
}

/// Checks DPoP proofs; holds the replay cache. Shared by all services of a layer.
pub(crate) struct DpopVerifier {
    config: DpopConfig,
    algs: String,
    seen: ReplayCache,
    nonces: Option<Nonces>,
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DpopVerifier {
    pub(crate) fn new(config: DpopConfig) -> Self {
        let algs = config
            .algorithms
            .iter()
            .filter_map(|a| alg_name(*a))
            .collect::<Vec<_>>()
            .join(" ");
        let seen = ReplayCache::new(config.replay_capacity);
        let nonces = config
            .nonce_lifetime
            .map(|lifetime| Nonces::new(lifetime, config.nonce_secret.as_ref()));
        DpopVerifier {
            config,
            algs,
            seen,
            nonces,
        }
    }

    /// The accepted algorithms, space-separated (the `algs` challenge parameter).
    pub(crate) fn algs(&self) -> &str {
        &self.algs
    }

    /// Checks the DPoP binding of a request whose token, presented with `scheme`, was
    /// validated into `claims`. Returns the fresh nonce to send with the response, if any.
    pub(crate) fn check_request<B>(
        &self,
        req: &Request<B>,
        scheme: Scheme,
        token: &str,
        claims: &Claims,
    ) -> Result<Option<Nonce>, AuthError> {
        let jkt = bound_key(claims)?;
        match (scheme, jkt) {
            (Scheme::Bearer, None) => Ok(None),
            (Scheme::Bearer, Some(_)) => Err(DpopError::BoundToken.into()),
            (Scheme::DPoP, jkt) => {
                let uri = self.request_uri(req).ok_or(DpopError::WrongUri)?;
                let accepted = self.verify(req.headers(), req.method(), &uri, Some(token), jkt)?;
                if jkt.is_none() {
                    return Err(DpopError::NotBound.into());
                }
                Ok(accepted.nonce)
            }
        }
    }

    /// The absolute URI the request was sent to, as far as `htu` is concerned.
    fn request_uri<B>(&self, req: &Request<B>) -> Option<Url> {
        let path = req.uri().path();
        let text = if let Some(base) = &self.config.base_url {
            let mut base = base.clone();
            base.set_query(None);
            base.set_fragment(None);
            format!("{}{}", base.as_str().trim_end_matches('/'), path)
        } else if let (Some(scheme), Some(authority)) = (req.uri().scheme(), req.uri().authority())
        {
            if !plain_authority(authority.as_str()) {
                return None;
            }
            format!("{scheme}://{authority}{path}")
        } else {
            let mut hosts = req.headers().get_all(HOST).iter();
            let host = hosts.next()?.to_str().ok()?;
            if hosts.next().is_some() || !plain_authority(host) {
                return None;
            }
            format!("{}://{host}{path}", self.config.default_scheme)
        };
        Url::parse(&text).ok()
    }

    /// Verifies the one `DPoP` proof in `headers` for a request `method` to `uri`; with
    /// `token`, `ath` must be its hash; with `jkt`, the proof key must have that thumbprint.
    /// With nonces on, the proof must carry a valid `nonce`. Records the proof's `jti` once
    /// everything else holds; a refusal is an [`AuthError::Dpop`], or
    /// [`AuthError::Unavailable`] when the replay cache is full.
    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
        token: Option<&str>,
        jkt: Option<&str>,
    ) -> Result<Accepted, AuthError> {
        self.verify_at(headers, method, uri, token, jkt, unix_now())
    }

    /// [`verify`](Self::verify) with the clock read as `now` (seconds since the Unix epoch),
    /// for the `iat` window, nonce ages and replay-cache expiry; the fuzz target fixes it to
    /// stay deterministic.
    pub(crate) fn verify_at(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
        token: Option<&str>,
        jkt: Option<&str>,
        now: f64,
    ) -> Result<Accepted, AuthError> {
        let (accepted, key, iat) = self.check_proof(headers, method, uri, token, jkt, now)?;
        // The proof passes the window while `iat >= now - max_age`: keep its jti until then
        // (rounded up; `as` saturates, and `iat` is a finite date before the year 10000).
        let expiry = (iat + self.config.max_age.as_secs_f64()).ceil() as u64;
        match self.seen.insert(key, expiry, now as u64) {
            Seen::Fresh => Ok(accepted),
            Seen::Replayed => Err(DpopError::Replayed.into()),
            Seen::Full => Err(AuthError::Unavailable(format!(
                "the DPoP replay cache is full ({} proofs within the iat window): \
                 proof refused; raise DpopConfig::replay_cache",
                self.seen.capacity
            ))),
        }
    }

    /// Every check of [`verify_at`](Self::verify_at) but the replay cache; returns what an
    /// accepted proof yields, the SHA-256 of its `jti` and its `iat`.
    fn check_proof(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
        token: Option<&str>,
        jkt: Option<&str>,
        now: f64,
    ) -> Result<(Accepted, [u8; 32], f64), DpopError> {
        let mut proofs = headers.get_all(DPOP_HEADER).iter();
        let proof = proofs.next().ok_or(DpopError::Missing)?;
        if proofs.next().is_some() {
            return Err(DpopError::Multiple);
        }
        let proof = proof.to_str().map_err(|_| DpopError::Malformed)?;
        let (thumbprint, claims) = self.verify_jws(proof)?;

        let string = |name: &str| match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
            _ => Err(DpopError::MissingClaim),
        };
        let jti = string("jti")?;
        let htm = string("htm")?;
        let htu = string("htu")?;
        let iat = numeric_date(&claims, "iat")
            .map_err(|_| DpopError::MissingClaim)?
            .ok_or(DpopError::MissingClaim)?;

        if htm != method.as_str() {
            return Err(DpopError::WrongMethod);
        }
        if !same_target(htu, uri) {
            return Err(DpopError::WrongUri);
        }
        if iat < now - self.config.max_age.as_secs_f64()
            || iat > now + self.config.max_future.as_secs_f64()
        {
            return Err(DpopError::OutsideWindow);
        }
        if let Some(token) = token {
            let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
            if string("ath")? != expected {
                return Err(DpopError::WrongTokenHash);
            }
        }
        if jkt.is_some_and(|jkt| jkt != thumbprint) {
            return Err(DpopError::KeyMismatch);
        }
        let mut fresh = None;
        if let Some(nonces) = &self.nonces {
            // Whole seconds; `as` saturates (and the clock is after 1970).
            let now = now as u64;
            let age = match claims.get("nonce") {
                Some(Value::String(nonce)) => nonces.age(nonce, now),
                _ => None,
            };
            match age {
                None => return Err(DpopError::UseNonce(nonces.mint(now))),
                Some(age) if age.saturating_mul(2) > nonces.lifetime => {
                    fresh = Some(nonces.mint(now));
                }
                Some(_) => {}
            }
        }
        let accepted = Accepted {
            jkt: thumbprint,
            nonce: fresh,
        };
        Ok((accepted, Sha256::digest(jti.as_bytes()).into(), iat))
    }

    /// Checks the proof's shape, header, key and signature; returns the key's thumbprint and
    /// the (now authenticated) claims.
    fn verify_jws(&self, proof: &str) -> Result<(String, Map<String, Value>), DpopError> {
        let [header, payload, signature] =
            split_compact(proof, self.config.max_proof_bytes).map_err(|_| DpopError::Malformed)?;
        let signing_input = proof
            .get(..header.len() + 1 + payload.len())
            .ok_or(DpopError::Malformed)?;
        let header = decode_object(header).map_err(|_| DpopError::Malformed)?;
        if header.contains_key("crit") {
            return Err(DpopError::Malformed);
        }
        match header.get("typ") {
            Some(Value::String(t)) if t.eq_ignore_ascii_case("dpop+jwt") => {}
            _ => return Err(DpopError::WrongType),
        }
        let alg = match header.get("alg") {
            Some(Value::String(name)) => parse_alg(name)
                .filter(|a| self.config.algorithms.contains(a))
                .ok_or(DpopError::AlgorithmNotAllowed)?,
            _ => return Err(DpopError::Malformed),
        };
        let jwk = match header.get("jwk") {
            Some(Value::Object(jwk)) => jwk,
            _ => return Err(DpopError::InvalidKey),
        };
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(DpopError::PrivateKey);
        }
        let thumbprint = thumbprint(jwk).ok_or(DpopError::InvalidKey)?;
        let (_, key) = crate::jwks::parse_jwk(Value::Object(jwk.clone()))
            .filter(|(_, key)| key.accepts(alg))
            .ok_or(DpopError::InvalidKey)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| DpopError::Malformed)?;
        match self
            .config
            .backend
            .verify(alg, &key.decoding, signing_input.as_bytes(), &signature)
        {
            Ok(true) => {}
            Ok(false) => return Err(DpopError::InvalidSignature),
            Err(()) => return Err(DpopError::InvalidKey),
        }
        let claims = decode_object(payload).map_err(|_| DpopError::Malformed)?;
        Ok((thumbprint, claims))
    }
}

/// Checks DPoP proofs on their own, outside [`AuthLayer`](crate::AuthLayer): for instance at an
/// authorization server's token endpoint (RFC 9449 §5), which binds the tokens it issues to the
/// key of the proof (`cnf.jkt`, see [`VerifiedProof::jkt`]).
///
/// A proof is checked by the rules 1–5, 8 and 9 of the [module docs](self), with the same
/// [`DpopConfig`] settings as the layer (algorithms, `iat` window, nonces, replay cache, size
/// limit): there is no access token here, so no `ath` and no `cnf.jkt` comparison. The replay
/// cache lives in the verifier: share one verifier (e.g. in an `Arc`) between all requests.
///
/// ```
/// use bearer_guard::dpop::{ProofVerifier, DPOP_HEADER};
/// use bearer_guard::{AuthError, DpopConfig, DpopError};
/// use http::{HeaderMap, HeaderValue, Method};
/// use url::Url;
///
/// /// The thumbprint to bind a new token to, if the token request carries a proof.
/// fn binding(
///     verifier: &ProofVerifier,
///     headers: &HeaderMap,
///     token_endpoint: &Url,
/// ) -> Result<Option<String>, AuthError> {
///     if !headers.contains_key(DPOP_HEADER) {
///         return Ok(None);
///     }
///     let proof = verifier.verify_proof(headers, &Method::POST, token_endpoint)?;
///     Ok(Some(proof.jkt().to_owned()))
/// }
///
/// let verifier = ProofVerifier::new(DpopConfig::new());
/// let endpoint = Url::parse("https://as.example/token").unwrap();
/// assert_eq!(binding(&verifier, &HeaderMap::new(), &endpoint), Ok(None));
///
/// let mut headers = HeaderMap::new();
/// headers.insert(DPOP_HEADER, HeaderValue::from_static("not.a.proof"));
/// assert_eq!(
///     binding(&verifier, &headers, &endpoint),
///     Err(AuthError::Dpop(DpopError::Malformed))
/// );
/// ```
#[derive(Debug)]
pub struct ProofVerifier {
    inner: DpopVerifier,
}

impl ProofVerifier {
    /// A verifier with the rules of `config` and an empty replay cache.
    pub fn new(config: DpopConfig) -> Self {
        ProofVerifier {
            inner: DpopVerifier::new(config),
        }
    }

    /// Verifies the one `DPoP` header in `headers` as a proof for a `method` request to `uri`
    /// (compared with `htu` without query and fragment), now. Records its `jti` once
    /// everything else holds, so the same proof is refused the next time
    /// ([`DpopError::Replayed`]).
    ///
    /// # Errors
    ///
    /// [`AuthError::Dpop`] with the [`DpopError`] of the first rule the proof breaks:
    /// [`DpopError::Missing`] without a `DPoP` header, [`DpopError::Multiple`] with more than
    /// one, and with nonces on [`DpopError::UseNonce`] carrying a fresh nonce for the client to
    /// retry with. [`AuthError::Unavailable`] when the replay cache is full of proofs that are
    /// still inside the `iat` window (fail closed; answer 503).
    pub fn verify_proof(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
    ) -> Result<VerifiedProof, AuthError> {
        let accepted = self.inner.verify(headers, method, uri, None, None)?;
        Ok(VerifiedProof {
            jkt: accepted.jkt,
            nonce: accepted.nonce,
        })
    }
}

/// A DPoP proof that [`ProofVerifier::verify_proof`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    jkt: String,
    nonce: Option<Nonce>,
}

impl VerifiedProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url-encoded: the `cnf.jkt` of
    /// a token bound to that key (see [`jwk_thumbprint`]).
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// A fresh nonce to send back in the [`DPoP-Nonce`](NONCE_HEADER) response header: only
    /// with [nonces](DpopConfig::nonces) on, when the proof's nonce is past half its lifetime.
    pub fn fresh_nonce(&self) -> Option<Nonce> {
        self.nonce
    }
}

/// The token's `cnf.jkt`, if it has one; see [`Claims::bound_jkt`] for what is refused.
fn bound_key(claims: &Claims) -> Result<Option<&str>, AuthError> {
    Ok(claims.bound_jkt()?)
}

/// The check of a layer without DPoP support: tokens bound with `cnf.jkt` are refused.
pub(crate) fn refuse_bound(claims: &Claims) -> Result<(), AuthError> {
    match bound_key(claims)? {
        None => Ok(()),
        Some(_) => Err(DpopError::BoundToken.into()),
    }
}

/// Whether `authority` (untrusted: a `Host` header or a request URI's authority) is a plain
/// `host[:port]` that URL parsing takes as it is (RFC 3986 §3.2.2, §3.2.3, without userinfo):
/// a host of ASCII letters, digits, `-`, `.` and `_` (DNS names, IPv4 addresses) or an IPv6
/// address in brackets, and an optional port of 1 to 5 digits, at most 65535. Everything else is
/// refused: `\` (a `/` to URL parsing), `/`, `?`, `#`, `@`, `%`, spaces and control characters
/// (dropped by URL parsing), an empty host or port.
fn plain_authority(authority: &str) -> bool {
    /// Longest DNS name (253) with room for a trailing dot and some slack.
    const MAX_HOST: usize = 255;
    let (host_ok, port) = match authority.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((ip, rest)) => (ip.parse::<std::net::Ipv6Addr>().is_ok(), rest),
            None => return false,
        },
        None => {
            let end = authority.find(':').unwrap_or(authority.len());
            let (host, port) = (
                authority.get(..end).unwrap_or_default(),
                authority.get(end..).unwrap_or_default(),
            );
            let ok = !host.is_empty()
                && host.len() <= MAX_HOST
                && host
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'));
            (ok, port)
        }
    };
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(digits) => {
            (1..=5).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && digits.parse::<u16>().is_ok()
        }
    };
    host_ok && port_ok
}

/// Whether `htu` names `uri` (RFC 9449 §4.3 point 9): both parsed and normalised as URLs, then
/// scheme, host, port and path compared; query and fragment ignored.
fn same_target(htu: &str, uri: &Url) -> bool {
    let Ok(htu) = Url::parse(htu) else {
        return false;
    };
    htu.scheme() == uri.scheme()
        && htu.host_str().is_some()
        && htu.host_str() == uri.host_str()
        && htu.port_or_known_default() == uri.port_or_known_default()
        && htu.path() == uri.path()
        && htu.username() == uri.username()
        && htu.password() == uri.password()
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded: the required members in
/// lexicographic order, as JSON without whitespace. `None` for other key types or when a
/// required member is not a string.
///
/// ```
/// # use serde_json::json;
/// // The example of RFC 7638 §3.1.
/// let jwk = json!({
///     "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
/// });
/// assert_eq!(
///     bearer_guard::dpop::jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
///     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/// );
/// ```
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    thumbprint(jwk)
}

fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The JOSE name of an algorithm.
fn alg_name(alg: Algorithm) -> Option<&'static str> {
    Some(match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn htu_comparison_normalises() {
        let uri = Url::parse("https://api.example/a/b").unwrap();
        assert!(same_target("https://api.example/a/b", &uri));
        assert!(same_target("HTTPS://API.example:443/a/b?x=1#f", &uri));
        assert!(!same_target("https://api.example/a/b/", &uri));
        assert!(!same_target("http://api.example/a/b", &uri));
        assert!(!same_target("https://api.example:8443/a/b", &uri));
        assert!(!same_target("https://other.example/a/b", &uri));
        assert!(!same_target("/a/b", &uri));
    }

    #[test]
    fn thumbprints_of_ec_and_okp() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "ignored"});
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(
            br#"{"crv":"P-256","kty":"EC","x":"a","y":"b"}"#,
        ));
        assert_eq!(thumbprint(ec.as_object().unwrap()), Some(expected));
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "a"});
        let expected =
            URL_SAFE_NO_PAD.encode(Sha256::digest(br#"{"crv":"Ed25519","kty":"OKP","x":"a"}"#));
        assert_eq!(thumbprint(okp.as_object().unwrap()), Some(expected));
        assert_eq!(
            thumbprint(json!({"kty": "oct", "k": "a"}).as_object().unwrap()),
            None
        );
        assert_eq!(
            thumbprint(
                json!({"kty": "EC", "crv": "P-256", "x": "a"})
                    .as_object()
                    .unwrap()
            ),
            None
        );
    }

    #[test]
    fn huge_iat_window_is_capped_not_a_panic() {
        let config = DpopConfig::new().iat_window(Duration::MAX, Duration::MAX);
        assert_eq!(config.max_age, Duration::from_secs(3600));
        assert_eq!(config.max_future, Duration::from_secs(3600));
        let _ = DpopVerifier::new(config);
    }

    fn nonces(secret: &[u8]) -> Nonces {
        Nonces::new(Duration::from_secs(60), Some(&Secret(Arc::from(secret))))
    }

    #[test]
    fn nonces_round_trip_and_expire() {
        let n = nonces(b"secret");
        let nonce = n.mint(1_000);
        assert_eq!(nonce.as_str().len(), NONCE_LEN);
        assert_eq!(n.age(nonce.as_str(), 1_000), Some(0));
        assert_eq!(n.age(nonce.as_str(), 1_060), Some(60));
        assert_eq!(n.age(nonce.as_str(), 1_061), None, "expired");
        assert_eq!(n.age(nonce.as_str(), 999), None, "issued in the future");
        assert_eq!(nonces(b"other").age(nonce.as_str(), 1_000), None);
        // The layout: big-endian issue time, then the first 16 bytes of the HMAC.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
        mac.update(&1_000u64.to_be_bytes());
        let mut raw = 1_000u64.to_be_bytes().to_vec();
        raw.extend_from_slice(&mac.finalize().into_bytes()[..16]);
        assert_eq!(nonce.as_str(), URL_SAFE_NO_PAD.encode(raw));
    }

    #[test]
    fn forged_and_garbage_nonces_are_refused() {
        let n = nonces(b"secret");
        let nonce = n.mint(1_000).as_str().to_owned();
        for i in 0..nonce.len() {
            let mut bytes = nonce.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).unwrap();
            assert_eq!(n.age(&forged, 1_000), None, "{forged}");
        }
        // A later issue time with the old MAC.
        let mut raw = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        raw[7] += 1;
        assert_eq!(n.age(&URL_SAFE_NO_PAD.encode(&raw), 1_001), None);
        for garbage in [
            "",
            "!",
            &"A".repeat(NONCE_LEN),
            &"!".repeat(NONCE_LEN),
            &"é".repeat(NONCE_LEN / 2),
            &format!("{nonce}="),
            &format!("{nonce}{nonce}"),
            &nonce[..NONCE_LEN - 1],
            &"A".repeat(1 << 20),
        ] {
            assert_eq!(n.age(garbage, 1_000), None, "{garbage}");
        }
    }

    #[test]
    fn a_short_nonce_secret_is_warned_about() {
        use std::sync::Mutex;
        let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = logs.clone();
        let dispatch = tracing::Dispatch::new(
            tracing_subscriber::fmt()
                .with_ansi(false)
                .with_writer(move || SharedSink(sink.clone()))
                .finish(),
        );
        let warned = |secret: &[u8]| {
            logs.lock().unwrap().clear();
            tracing::dispatcher::with_default(&dispatch, || {
                nonces(secret);
            });
            String::from_utf8_lossy(&logs.lock().unwrap()).contains("shorter than 32 bytes")
        };
        assert!(warned(b"short"));
        assert!(warned(b""));
        assert!(!warned(&[7; 32]));

        struct SharedSink(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for SharedSink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
    }

    #[test]
    fn random_secrets_differ_and_secrets_stay_out_of_debug() {
        let a = Nonces::new(Duration::from_secs(60), None);
        let b = Nonces::new(Duration::from_secs(60), None);
        let nonce = a.mint(1_000);
        assert_eq!(a.age(nonce.as_str(), 1_000), Some(0));
        assert_eq!(b.age(nonce.as_str(), 1_000), None);
        let config = DpopConfig::new()
            .nonces(Duration::from_secs(60))
            .nonce_secret("hunter2-hunter2");
        let verifier = DpopVerifier::new(config.clone());
        for debug in [format!("{config:?}"), format!("{verifier:?}")] {
            assert!(!debug.contains("hunter2"), "{debug}");
            assert!(!debug.contains("104, 117"), "{debug}");
        }
    }

    #[test]
    fn nonce_lifetime_is_at_least_a_second() {
        let config = DpopConfig::new().nonces(Duration::ZERO);
        assert_eq!(config.nonce_lifetime, Some(Duration::from_secs(1)));
        assert!(DpopConfig::new().nonce_lifetime.is_none());
    }

    #[test]
    fn the_replay_cache_refuses_when_full_and_forgets_only_expired_entries() {
        let cache = ReplayCache::new(2);
        let (a, b, c) = ([1; 32], [2; 32], [3; 32]);
        assert_eq!(cache.insert(a, 1_060, 1_000), Seen::Fresh);
        assert_eq!(cache.insert(b, 1_070, 1_000), Seen::Fresh);
        assert_eq!(cache.insert(a, 1_060, 1_000), Seen::Replayed);
        // Full of unexpired entries: refused, not remembered, and nothing forgotten.
        assert_eq!(cache.insert(c, 1_060, 1_000), Seen::Full);
        assert_eq!(cache.insert(c, 1_060, 1_060), Seen::Full);
        assert_eq!(
            cache.insert(a, 1_060, 1_060),
            Seen::Replayed,
            "kept up to its expiry"
        );
        assert_eq!(cache.insert(b, 1_070, 1_060), Seen::Replayed);
        assert_eq!(cache.len(), 2);
        // Once `a` has expired there is room again; `b` is still known.
        assert_eq!(cache.insert(c, 1_120, 1_061), Seen::Fresh);
        assert_eq!(cache.insert(b, 1_070, 1_061), Seen::Replayed);
        assert_eq!(cache.insert(c, 1_120, 1_061), Seen::Replayed);
        assert_eq!(cache.len(), 2);
        // An expired entry still stored is not a replay.
        let cache = ReplayCache::new(2);
        assert_eq!(cache.insert(a, 1_000, 1_000), Seen::Fresh);
        assert_eq!(cache.insert(a, 1_100, 1_001), Seen::Fresh);
        assert_eq!(cache.insert(a, 1_100, 1_100), Seen::Replayed);
        assert_eq!(cache.len(), 1);
        // Capacity 0 refuses everything.
        assert_eq!(ReplayCache::new(0).insert(a, 1_060, 1_000), Seen::Full);
    }

    #[test]
    fn the_replay_cache_purges_in_bounded_batches_and_stays_exact() {
        let n = 3 * PURGE_BATCH as u8;
        let cache = ReplayCache::new(u64::from(n));
        for i in 0..n {
            assert_eq!(cache.insert([i; 32], 100, 0), Seen::Fresh);
        }
        assert_eq!(cache.insert([n; 32], 200, 100), Seen::Full);
        // All expired: one insertion drops at most a batch, and that makes room.
        assert_eq!(cache.insert([n; 32], 200, 101), Seen::Fresh);
        assert_eq!(cache.len(), usize::from(n) - PURGE_BATCH + 1);
        // Expired entries left over are not replays, and are not counted as such.
        assert_eq!(cache.insert([n - 1; 32], 200, 101), Seen::Fresh);
        assert_eq!(cache.insert([n; 32], 200, 101), Seen::Replayed);
    }

    /// Through the verifier, with its clock: `jti`s are kept for the `iat` window, a full cache
    /// refuses with 503, and room comes back when proofs leave the window.
    #[cfg(feature = "fuzzing")]
    #[test]
    fn a_full_replay_cache_refuses_proofs_until_accepted_ones_leave_the_window() {
        use crate::fuzzing::{dpop_signed_proof, DPOP_NOW};
        let verifier = DpopVerifier::new(
            DpopConfig::new()
                .iat_window(Duration::from_secs(60), Duration::from_secs(5))
                .replay_cache(2),
        );
        let uri = Url::parse("https://api.example/r").unwrap();
        let proof = |jti: &str, iat: u64| {
            let claims = json!({"jti": jti, "htm": "GET", "htu": uri.as_str(), "iat": iat});
            let mut headers = HeaderMap::new();
            headers.insert(
                DPOP_HEADER,
                HeaderValue::from_str(&dpop_signed_proof(claims.to_string().as_bytes())).unwrap(),
            );
            headers
        };
        let verify = |headers: &HeaderMap, now: u64| {
            verifier
                .verify_at(headers, &Method::GET, &uri, None, None, now as f64)
                .map(|_| ())
        };
        let now = DPOP_NOW;
        let (a, b, c) = (proof("a", now), proof("b", now + 5), proof("c", now));
        assert_eq!(verify(&a, now), Ok(()));
        assert_eq!(verify(&b, now), Ok(()));
        let full = verify(&c, now).unwrap_err();
        assert_eq!(full.status(), 503);
        assert!(full.to_string().contains("replay cache is full"), "{full}");
        assert_eq!(verify(&a, now), Err(DpopError::Replayed.into()));
        assert_eq!(verify(&b, now), Err(DpopError::Replayed.into()));
        // `a` can pass the window up to iat + 60 s, and is kept that long.
        assert_eq!(verify(&a, now + 60), Err(DpopError::Replayed.into()));
        assert_eq!(
            verify(&c, now + 60).map_err(|e| e.status().as_u16()),
            Err(503)
        );
        // Then it is out of the window (and of the cache): `c`, made now, takes its place.
        assert_eq!(verify(&a, now + 61), Err(DpopError::OutsideWindow.into()));
        let c = proof("c", now + 61);
        assert_eq!(verify(&c, now + 61), Ok(()));
        assert_eq!(verify(&c, now + 61), Err(DpopError::Replayed.into()));
        assert_eq!(verify(&b, now + 61), Err(DpopError::Replayed.into()));
    }

    #[test]
    fn request_uri_sources() {
        let v = DpopVerifier::new(DpopConfig::new());
        let req = Request::get("/p?q=1")
            .header(HOST, "api.example:8443")
            .body(())
            .unwrap();
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://api.example:8443/p"
        );
        let req = Request::get("http://h.example/p").body(()).unwrap();
        assert_eq!(v.request_uri(&req).unwrap().as_str(), "http://h.example/p");
        let v = DpopVerifier::new(
            DpopConfig::new().base_url(Url::parse("https://ext.example/api/").unwrap()),
        );
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://ext.example/api/p"
        );
        let v = DpopVerifier::new(DpopConfig::new());
        let req = Request::get("/p").header(HOST, "evil/x").body(()).unwrap();
        assert!(v.request_uri(&req).is_none());
        for host in [
            r"api.example\admin",
            "",
            "api.example:99999",
            "u@api.example",
        ] {
            let req = Request::get("/p").header(HOST, host).body(()).unwrap();
            assert!(v.request_uri(&req).is_none(), "{host:?}");
        }
        // The authority of an absolute request URI is held to the same rule.
        for uri in [
            "https://u@api.example/p",
            "https://api.example:x/p",
            "https://h:/p",
        ] {
            let req = Request::get(uri).body(()).unwrap();
            assert!(req.uri().authority().is_some(), "{uri}");
            assert!(v.request_uri(&req).is_none(), "{uri}");
        }
        let req = Request::get("https://[::1]:8443/p").body(()).unwrap();
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://[::1]:8443/p"
        );
    }

    #[test]
    fn only_plain_authorities_make_a_request_uri() {
        for good in [
            "api.example",
            "API.Example:443",
            "api.example.",
            "my_service:8080",
            "127.0.0.1",
            "10.0.0.1:65535",
            "localhost:1",
            "[::1]",
            "[2001:db8::1]:8443",
            "a:00080",
        ] {
            assert!(plain_authority(good), "{good:?}");
        }
        for bad in [
            "",
            ":443",
            r"api.example\admin",
            r"api.example:443\admin",
            "api.example/admin",
            "api.example?x",
            "api.example#x",
            "user@api.example",
            "user:pw@api.example",
            "api.example%2Fadmin",
            "api%2eexample",
            "api example",
            " api.example",
            "api.example\t",
            "api.example\0",
            "api.example\r\nX-Evil: 1",
            "api.example\u{7f}",
            "api.exämple",
            "api.example:",
            "api.example:65536",
            "api.example:99999",
            "api.example:123456",
            "api.example:-1",
            "api.example:+80",
            "api.example:8a",
            "api.example: 80",
            "api.example:80:80",
            "[::1",
            "[::1]x",
            "[::1]:",
            "[::1]:99999",
            "[v1.x]",
            "[fe80::1%25eth0]",
            "[127.0.0.1]",
            "::1",
            &"a".repeat(256),
        ] {
            assert!(!plain_authority(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_http_crate_authority_parser_is_not_strict_enough() {
        // Why `plain_authority` exists: `http::uri::Authority` takes these.
        for lax in ["u@h", "h:99999", "h:abc", "h:", "[v1.x]"] {
            assert!(lax.parse::<http::uri::Authority>().is_ok(), "{lax}");
            assert!(!plain_authority(lax), "{lax}");
        }
    }
}
