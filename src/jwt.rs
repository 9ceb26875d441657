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

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::crypto::Backend;
use crate::discovery::{self, DiscoveryError, Metadata};
use crate::jwks::{JwksCache, JwksConfig, Key, KeySet, Lookup, Reason, Snapshot};
use crate::stats::{Counters, Observation, Source, Stats};
use crate::{AuthError, Claims, TokenError, Validation, Validator};

/// The algorithms accepted by default: every asymmetric algorithm jsonwebtoken supports.
/// [`Algorithm::EdDSA`] stands for both header names of EdDSA with Ed25519: `EdDSA` and `Ed25519`
/// (RFC 9864). Ed448 is not supported.
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Why a validator could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Discovery of the issuer's metadata failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// No audience was configured (and [`JwtValidatorBuilder::any_audience`] was not called).
    #[error("no audience configured: set one, or call any_audience() explicitly")]
    NoAudience,
    /// A URL in the configuration is not acceptable (https, or http on loopback only).
    #[error("the URL {0:?} is not acceptable (https, or http on a loopback host)")]
    BadUrl(String),
    /// The HTTP client could not be created.
    #[error("the HTTP client could not be created: {0}")]
    Http(String),
    /// Another setting is inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
}

/// Configures a [`JwtValidator`]. Made by [`JwtValidator::builder`].
#[derive(Clone)]
pub struct JwtValidatorBuilder {
    issuer: String,
    audiences: Vec<String>,
    any_audience: bool,
    algorithms: Vec<Algorithm>,
    leeway: Duration,
    require_typ: bool,
    required_claims: Vec<String>,
    max_token_bytes: usize,
    hmac_secret: Option<Vec<u8>>,
    jwks_uri: Option<String>,
    key_set: Option<Arc<KeySet>>,
    jwks_config: JwksConfig,
    client: Option<reqwest::Client>,
    scope_claim: Option<String>,
    backend: Backend,
    cache: Option<(u64, Duration)>,
}

impl fmt::Debug for JwtValidatorBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidatorBuilder")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("algorithms", &self.algorithms)
            .field("leeway", &self.leeway)
            .field("require_typ", &self.require_typ)
            .field(
                "hmac_secret",
                &self.hmac_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("jwks_uri", &self.jwks_uri)
            .finish_non_exhaustive()
    }
}

impl JwtValidatorBuilder {
    /// Accepts tokens whose `aud` contains `audience` (may be called several times).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts tokens for any audience. RFC 9068 requires resource servers to check `aud`; use
    /// this only where the issuer mints tokens for you alone.
    pub fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Replaces the algorithm allow-list (default [`DEFAULT_ALGORITHMS`]). HS256/384/512 are
    /// only honoured together with [`JwtValidatorBuilder::hmac_secret`]. [`Algorithm::EdDSA`]
    /// allows both `alg: EdDSA` and `alg: Ed25519` (RFC 9864's name for the same algorithm);
    /// leaving it out refuses both.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Clock skew allowed on `exp`, `nbf` and `iat` (default 60 s, at most [`MAX_LEEWAY`]:
    /// a larger one is a [`BuildError`], since it would all but switch these checks off).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Whether the header must say `typ: at+jwt` (RFC 9068; default `true`). Turn off for
    /// issuers that do not set it; ID tokens can then pass as access tokens, so keep `aud`
    /// checks strict.
    pub fn require_typ(mut self, required: bool) -> Self {
        self.require_typ = required;
        self
    }

    /// Claims that must be present (besides `iss`, `exp` and, with audiences, `aud`).
    pub fn required_claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.required_claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// Largest token accepted, in bytes (default 8 KiB). Longer tokens are refused before any
    /// parsing.
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// Verifies HS256/384/512 tokens with this shared secret, and adds to the allow-list each
    /// of those algorithms the secret is long enough for. RFC 7518 §3.2 wants a key at least as
    /// long as the hash: 32 bytes for HS256, 48 for HS384, 64 for HS512. A shorter secret, or
    /// an HMAC algorithm on the allow-list that the secret is too short for, is a
    /// [`BuildError`]. The secret is never logged.
    pub fn hmac_secret(mut self, secret: impl Into<Vec<u8>>) -> Self {
        let secret = secret.into();
        for alg in [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512] {
            if secret.len() >= hmac_min_len(alg) && !self.algorithms.contains(&alg) {
                self.algorithms.push(alg);
            }
        }
        self.hmac_secret = Some(secret);
        self
    }

    /// Fetches keys from this URL instead of discovering it from the issuer.
    pub fn jwks_uri(mut self, uri: impl Into<String>) -> Self {
        self.jwks_uri = Some(uri.into());
        self
    }

    /// Uses this fixed key set and never fetches keys.
    pub fn key_set(mut self, keys: KeySet) -> Self {
        self.key_set = Some(Arc::new(keys));
        self
    }

    /// Cache timing and size limits for the JWKS.
    pub fn jwks_config(mut self, config: JwksConfig) -> Self {
        self.jwks_config = config;
        self
    }

    /// The HTTP client for discovery and JWKS fetches (default: rustls, with the JWKS timeout).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Reads scopes from this claim only (default: `scope`, then `scp`).
    pub fn scope_claim(mut self, name: impl Into<String>) -> Self {
        self.scope_claim = Some(name.into());
        self
    }

    /// The signature-verification backend (default [`Backend::default`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Keeps up to `capacity` verified tokens for up to `ttl` (default 10,000 for 5 minutes),
    /// so a token seen before skips signature verification and claim parsing. Entries are keyed
    /// by the SHA-256 of the whole token; `exp` and `nbf` are still checked on every hit. A key
    /// removed from the issuer's JWKS stops verifying new tokens at once, but tokens already
    /// cached stay accepted until their entry ends (at most `ttl`, itself capped at 24 hours),
    /// unless the keys go past [`JwksConfig::max_stale`] first.
    pub fn token_cache(mut self, capacity: u64, ttl: Duration) -> Self {
        self.cache = Some((capacity, ttl.min(Duration::from_secs(24 * 3600))));
        self
    }

    /// Verifies every token in full, every time (no verified-token cache).
    pub fn no_token_cache(mut self) -> Self {
        self.cache = None;
        self
    }

    /// Builds the validator. Without [`jwks_uri`](Self::jwks_uri),
    /// [`key_set`](Self::key_set) or an HMAC-only setup, discovers the JWKS URL from the
    /// issuer's metadata (this is the only network call made here; keys are fetched when
    /// first needed).
    pub async fn build(self) -> Result<JwtValidator, BuildError> {
        if self.audiences.is_empty() && !self.any_audience {
            return Err(BuildError::NoAudience);
        }
        check_leeway(self.leeway)?;
        if let Some(secret) = &self.hmac_secret {
            if secret.len() < hmac_min_len(Algorithm::HS256) {
                return Err(BuildError::Invalid(
                    "the HMAC secret is shorter than 32 bytes (RFC 7518 §3.2)",
                ));
            }
            if self
                .algorithms
                .iter()
                .any(|a| is_hmac(*a) && secret.len() < hmac_min_len(*a))
            {
                return Err(BuildError::Invalid(
                    "the HMAC secret is shorter than an allowed algorithm's hash \
                     (HS384 needs 48 bytes, HS512 64; RFC 7518 §3.2)",
                ));
            }
        }
        if self.algorithms.is_empty() {
            return Err(BuildError::Invalid("the algorithm allow-list is empty"));
        }
        let hmac_only = self.hmac_secret.is_some() && self.algorithms.iter().all(|a| is_hmac(*a));
        let keys = if let Some(set) = self.key_set.clone() {
            Keys::Fixed(set)
        } else if hmac_only {
            Keys::Fixed(Arc::new(KeySet::default()))
        } else {
            let client = match self.client.clone() {
                Some(c) => c,
                None => crate::fetch::default_client(self.jwks_config.limits().timeout)
                    .map_err(|e| BuildError::Http(e.to_string()))?,
            };
            let uri = match self.jwks_uri.clone() {
                Some(uri) => uri,
                None => Metadata::discover_with(&client, &self.issuer, self.jwks_config.limits())
                    .await?
                    .jwks_uri
                    .ok_or(DiscoveryError::Missing("jwks_uri"))?,
            };
            let parsed = url::Url::parse(&uri).map_err(|_| BuildError::BadUrl(uri.clone()))?;
            if !discovery::is_acceptable_url(&parsed) {
                return Err(BuildError::BadUrl(uri));
            }
            Keys::Remote(JwksCache::new(uri, client, self.jwks_config))
        };
        Ok(JwtValidator {
            inner: Arc::new(Inner {
                hmac: self.hmac_secret.as_deref().map(|s| Arc::new(Key::hmac(s))),
                algorithms: self.algorithms.into_iter().collect(),
                issuer: self.issuer,
                audiences: if self.any_audience {
                    Vec::new()
                } else {
                    self.audiences
                },
                leeway: self.leeway.as_secs_f64(),
                require_typ: self.require_typ,
                required_claims: self.required_claims,
                max_token_bytes: self.max_token_bytes,
                scope_claim: self.scope_claim,
                backend: self.backend,
                keys,
                counters: Counters::default(),
                cache: self.cache.map(|(capacity, ttl)| {
                    moka::sync::Cache::builder()
                        .max_capacity(capacity)
                        .time_to_live(ttl)
                        .build()
                }),
            }),
        })
    }
}

/// The largest clock skew a validator accepts: 5 minutes. More would all but switch the time
/// checks off (`leeway(Duration::MAX)` would never let a token expire).
pub const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);

/// Refuses a leeway over [`MAX_LEEWAY`]; shared by every validator builder.
pub(crate) fn check_leeway(leeway: Duration) -> Result<(), BuildError> {
    if leeway > MAX_LEEWAY {
        return Err(BuildError::Invalid("the leeway is over 5 minutes"));
    }
    Ok(())
}

/// The shortest HMAC secret for `alg`: the size of its hash (RFC 7518 §3.2).
fn hmac_min_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// Validates JWT access tokens locally against the issuer's keys. Cheap to clone.
#[derive(Clone)]
pub struct JwtValidator {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audiences: Vec<String>,
    algorithms: HashSet<Algorithm>,
    leeway: f64,
    require_typ: bool,
    required_claims: Vec<String>,
    max_token_bytes: usize,
    scope_claim: Option<String>,
    backend: Backend,
    hmac: Option<Arc<Key>>,
    keys: Keys,
    cache: Option<moka::sync::Cache<[u8; 32], Verified>>,
    counters: Counters,
}

/// A cache entry: the claims of a token whose signature and claims were verified, with the
/// time bounds that must still be checked on each use.
#[derive(Clone)]
struct Verified {
    claims: Claims,
    exp: f64,
    nbf: Option<f64>,
}

enum Keys {
    Fixed(Arc<KeySet>),
    Remote(JwksCache),
}

impl fmt::Debug for JwtValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtValidator")
            .field("issuer", &self.inner.issuer)
            .field("audiences", &self.inner.audiences)
            .finish_non_exhaustive()
    }
}

/// What one pass over a token decided.
enum Step {
    Done(Result<Claims, AuthError>),
    /// The keys at hand cannot decide; refresh them (single-flight) and try again.
    Refresh {
        generation: u64,
        reason: Reason,
    },
}

impl JwtValidator {
    /// Starts configuring a validator for tokens issued by `issuer` (compared exactly with
    /// `iss`, and used for discovery).
    pub fn builder(issuer: impl Into<String>) -> JwtValidatorBuilder {
        JwtValidatorBuilder {
            issuer: issuer.into(),
            audiences: Vec::new(),
            any_audience: false,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            leeway: Duration::from_secs(60),
            require_typ: true,
            required_claims: Vec::new(),
            max_token_bytes: 8 * 1024,
            hmac_secret: None,
            jwks_uri: None,
            key_set: None,
            jwks_config: JwksConfig::default(),
            client: None,
            scope_claim: None,
            backend: Backend::default(),
            cache: Some((10_000, Duration::from_secs(300))),
        }
    }

    /// The issuer this validator accepts.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// Counters since the validator was built (`fetches` counts JWKS fetches).
    ///
    /// ```
    /// # async fn demo() -> Result<(), bearer_guard::BuildError> {
    /// let v = bearer_guard::JwtValidator::builder("https://issuer.example")
    ///     .audience("api")
    ///     .hmac_secret(b"a secret of at least thirty-two bytes".to_vec())
    ///     .build()
    ///     .await?;
    /// assert_eq!(v.stats().accepted, 0);
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Stats {
        let mut stats = self.inner.counters.snapshot();
        stats.fetches = self.jwks().map_or(0, JwksCache::fetch_count);
        stats
    }

    /// The JWKS cache, when keys are fetched from the issuer.
    pub fn jwks(&self) -> Option<&JwksCache> {
        match &self.inner.keys {
            Keys::Remote(cache) => Some(cache),
            Keys::Fixed(_) => None,
        }
    }

    /// One pass: parse and check the token with the keys at hand. `may_refresh` is false on
    /// the pass after a refresh, so that a request causes at most one fetch.
    fn step(&self, token: &str, snapshot: Option<&Snapshot>, may_refresh: bool) -> Step {
        let inner = &*self.inner;
        let parsed = match Parsed::new(token, inner) {
            Ok(p) => p,
            Err(e) => return Step::Done(Err(e.into())),
        };
        if is_hmac(parsed.alg) {
            return Step::Done(match &inner.hmac {
                Some(key) => self.finish(&parsed, key),
                None => Err(TokenError::AlgorithmNotAllowed.into()),
            });
        }
        let kid = parsed.kid.as_deref();
        let now = Instant::now();
        let (keys, snapshot) = match (&inner.keys, snapshot) {
            (Keys::Fixed(set), _) => (Some(set), None),
            // Keys past `max_stale` are as good as none: refresh, or answer 503.
            (Keys::Remote(_), Some(snap)) => (snap.usable_keys(now), Some(snap)),
            (Keys::Remote(_), None) => return Step::Done(Err(unavailable(None))),
        };
        let lookup = keys.map(|k| k.lookup(kid, parsed.alg));
        match (lookup, &inner.keys, snapshot) {
            (Some(Lookup::Found(key)), Keys::Remote(cache), Some(snap)) => {
                if cache.may_refresh(snap, Reason::Stale, now) {
                    cache.refresh_in_background(snap.generation);
                }
                Step::Done(self.finish(&parsed, &key))
            }
            (Some(Lookup::Found(key)), _, _) => Step::Done(self.finish(&parsed, &key)),
            (Some(Lookup::Mismatch), _, _) => Step::Done(Err(TokenError::KeyMismatch.into())),
            (_, Keys::Remote(cache), Some(snap)) => {
                let reason = if keys.is_some() {
                    Reason::UnknownKid
                } else {
                    Reason::Stale
                };
                if may_refresh && cache.may_refresh(snap, reason, now) {
                    Step::Refresh {
                        generation: snap.generation,
                        reason,
                    }
                } else if keys.is_none() || snap.last_error.is_some() {
                    // The issuer could not be asked: we cannot tell a new key from a forged one.
                    Step::Done(Err(unavailable(snap.last_error.as_deref())))
                } else {
                    Step::Done(Err(TokenError::UnknownKey.into()))
                }
            }
            _ => Step::Done(Err(TokenError::UnknownKey.into())),
        }
    }

    /// Verifies the signature with `key`, then the claims.
    fn finish(&self, parsed: &Parsed<'_>, key: &Key) -> Result<Claims, AuthError> {
        let inner = &*self.inner;
        if !key.accepts(parsed.alg) {
            return Err(TokenError::KeyMismatch.into());
        }
        match inner.backend.verify(
            parsed.alg,
            &key.decoding,
            parsed.signing_input.as_bytes(),
            &parsed.signature,
        ) {
            Ok(true) => {}
            Ok(false) => return Err(TokenError::InvalidSignature.into()),
            Err(()) => return Err(TokenError::KeyMismatch.into()),
        }
        let claims = decode_object(parsed.payload)?;
        self.check_claims(&claims)?;
        Ok(match &inner.scope_claim {
            Some(name) => Claims::with_scope_claim(claims, name),
            None => Claims::new(claims),
        })
    }

    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), TokenError> {
        let inner = &*self.inner;
        match claims.get("iss") {
            None => return Err(TokenError::MissingClaim),
            Some(Value::String(iss)) if *iss == inner.issuer => {}
            Some(_) => return Err(TokenError::WrongIssuer),
        }
        check_audience(claims, &inner.audiences)?;
        let now = unix_now();
        let leeway = inner.leeway;
        let exp = numeric_date(claims, "exp")?.ok_or(TokenError::MissingClaim)?;
        if now >= exp + leeway {
            return Err(TokenError::Expired);
        }
        if let Some(nbf) = numeric_date(claims, "nbf")? {
            if now + leeway < nbf {
                return Err(TokenError::NotYetValid);
            }
        }
        if let Some(iat) = numeric_date(claims, "iat")? {
            if iat > now + leeway {
                return Err(TokenError::IssuedInFuture);
            }
        }
        if inner
            .required_claims
            .iter()
            .any(|name| !claims.contains_key(name))
        {
            return Err(TokenError::MissingClaim);
        }
        Ok(())
    }
}

impl Validator for JwtValidator {
    fn validate(&self, token: &str) -> Validation {
        let obs = Observation::start("jwt", &self.inner.issuer);
        if obs.enabled() && token.len() <= self.inner.max_token_bytes {
            if let Some(kid) = peek_kid(token) {
                obs.kid(&kid);
            }
        }
        let counters = &self.inner.counters;
        let cache_key = match &self.inner.cache {
            Some(cache) if token.len() <= self.inner.max_token_bytes => {
                let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
                // With the issuer's keys past `max_stale`, cached tokens are not served
                // either: full validation answers (503, or a refresh that succeeds).
                if let Some(hit) = cache.get(&key).filter(|_| !self.keys_expired()) {
                    let result = self.check_cached(&hit).map_err(AuthError::from);
                    obs.finish(counters, Source::Cache, &result);
                    return Validation::ready(result);
                }
                Some(key)
            }
            _ => None,
        };
        match self.validate_uncached(token).into_ready() {
            Ok(result) => {
                if let (Some(key), Ok(claims)) = (cache_key, &result) {
                    self.remember(key, claims);
                }
                obs.finish(counters, Source::Checked, &result);
                Validation::ready(result)
            }
            Err(pending) => {
                let this = self.clone();
                Validation::pending(async move {
                    let result = pending.await;
                    if let (Some(key), Ok(claims)) = (cache_key, &result) {
                        this.remember(key, claims);
                    }
                    obs.finish(&this.inner.counters, Source::Checked, &result);
                    result
                })
            }
        }
    }
}

/// The `kid` of a token's header, for tracing only (no checks are made here).
fn peek_kid(token: &str) -> Option<String> {
    let header = decode_object(token.split('.').next()?).ok()?;
    match header.get("kid") {
        Some(Value::String(kid)) => Some(kid.clone()),
        _ => None,
    }
}

impl JwtValidator {
    /// Whether the keys fetched from the issuer are past `max_stale`.
    fn keys_expired(&self) -> bool {
        match &self.inner.keys {
            Keys::Remote(cache) => cache.keys_expired(Instant::now()),
            Keys::Fixed(_) => false,
        }
    }

    fn check_cached(&self, hit: &Verified) -> Result<Claims, TokenError> {
        let now = unix_now();
        if now >= hit.exp + self.inner.leeway {
            return Err(TokenError::Expired);
        }
        if hit.nbf.is_some_and(|nbf| now + self.inner.leeway < nbf) {
            return Err(TokenError::NotYetValid);
        }
        Ok(hit.claims.clone())
    }

    fn remember(&self, key: [u8; 32], claims: &Claims) {
        let (Some(cache), Some(exp)) = (
            &self.inner.cache,
            numeric_date(claims.as_map(), "exp").ok().flatten(),
        ) else {
            return;
        };
        let nbf = numeric_date(claims.as_map(), "nbf").ok().flatten();
        cache.insert(
            key,
            Verified {
                claims: claims.clone(),
                exp,
                nbf,
            },
        );
    }

    /// Full validation, without the verified-token cache.
    fn validate_uncached(&self, token: &str) -> Validation {
        let snapshot = match &self.inner.keys {
            Keys::Remote(cache) => Some(cache.snapshot()),
            Keys::Fixed(_) => None,
        };
        match self.step(token, snapshot.as_deref(), true) {
            Step::Done(result) => Validation::ready(result),
            Step::Refresh { generation, reason } => {
                let this = self.clone();
                let token = token.to_owned();
                Validation::pending(async move {
                    let Keys::Remote(cache) = &this.inner.keys else {
                        return Err(unavailable(None));
                    };
                    let snap = cache.refresh_if(generation, Some(reason)).await;
                    match this.step(&token, Some(&snap), false) {
                        Step::Done(result) => result,
                        Step::Refresh { .. } => Err(unavailable(snap.last_error.as_deref())),
                    }
                })
            }
        }
    }
}

fn unavailable(reason: Option<&str>) -> AuthError {
    AuthError::Unavailable(match reason {
        Some(r) => format!("signing keys unavailable: {r}"),
        None => "signing keys unavailable".to_owned(),
    })
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Checks `aud` (a string or an array of strings) against the accepted audiences; with none
/// configured, any audience passes.
pub(crate) fn check_audience(
    claims: &Map<String, Value>,
    audiences: &[String],
) -> Result<(), TokenError> {
    if audiences.is_empty() {
        return Ok(());
    }
    let ok = match claims.get("aud") {
        None => return Err(TokenError::MissingClaim),
        Some(Value::String(aud)) => audiences.contains(aud),
        Some(Value::Array(auds)) => {
            let mut ok = false;
            for aud in auds {
                match aud {
                    Value::String(a) => ok |= audiences.contains(a),
                    _ => return Err(TokenError::InvalidClaim),
                }
            }
            ok
        }
        Some(_) => return Err(TokenError::InvalidClaim),
    };
    if ok {
        Ok(())
    } else {
        Err(TokenError::WrongAudience)
    }
}

/// Splits a compact JWS into its three non-empty segments, refusing oversized tokens and JWEs
/// (five segments) first.
pub(crate) fn split_compact(token: &str, max_bytes: usize) -> Result<[&str; 3], TokenError> {
    if token.len() > max_bytes {
        return Err(TokenError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    match parts.count() {
        0 => {}
        2 => return Err(TokenError::Encrypted),
        _ => return Err(TokenError::Malformed),
    }
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(TokenError::Malformed);
    }
    Ok([header, payload, signature])
}

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Anything later (up to `1e308`, or
/// integers past `u64::MAX` that JSON parsing rounds to a float) cannot be a meant date: an
/// `exp` like that would be a token that never expires.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// Reads a NumericDate claim (RFC 7519 §2): a JSON number, possibly non-integer, between 0
/// (the epoch) and [`MAX_NUMERIC_DATE`]. Strings, booleans, negative, non-finite and larger
/// values are invalid.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<f64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| (0.0..=MAX_NUMERIC_DATE).contains(f))
            .map(Some)
            .ok_or(TokenError::InvalidClaim),
        Some(_) => Err(TokenError::InvalidClaim),
    }
}

/// A token split and its header checked; signature not yet verified.
struct Parsed<'a> {
    alg: Algorithm,
    kid: Option<String>,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

impl<'a> Parsed<'a> {
    fn new(token: &'a str, config: &Inner) -> Result<Self, TokenError> {
        let [header, payload, signature] = split_compact(token, config.max_token_bytes)?;
        let signing_input = token
            .get(..header.len() + 1 + payload.len())
            .ok_or(TokenError::Malformed)?;
        let header = decode_object(header)?;
        let alg = match header.get("alg") {
            Some(Value::String(name)) => parse_alg(name)
                .filter(|a| config.algorithms.contains(a))
                .ok_or(TokenError::AlgorithmNotAllowed)?,
            _ => return Err(TokenError::Malformed),
        };
        if header.contains_key("crit") {
            return Err(TokenError::UnsupportedCritical);
        }
        if header.contains_key("enc") {
            return Err(TokenError::Encrypted);
        }
        if header.get("b64").is_some_and(|b| *b != Value::Bool(true)) {
            return Err(TokenError::UnsupportedCritical);
        }
        if config.require_typ {
            match header.get("typ") {
                Some(Value::String(t))
                    if t.eq_ignore_ascii_case("at+jwt")
                        || t.eq_ignore_ascii_case("application/at+jwt") => {}
                _ => return Err(TokenError::WrongType),
            }
        }
        let kid = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(TokenError::Malformed),
        };
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        Ok(Parsed {
            alg,
            kid,
            signing_input,
            payload,
            signature,
        })
    }
}

/// The algorithm named exactly `name`; `Ed25519` (RFC 9864) is [`Algorithm::EdDSA`]. See
/// [`alg_from_name`](crate::crypto::alg_from_name), the one table of names.
pub(crate) use crate::crypto::alg_from_name as parse_alg;

/// Decodes a base64url segment holding a JSON object whose members are all distinct.
pub(crate) fn decode_object(segment: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)?;
    parse_object(&bytes)
}

/// Parses a JSON object, refusing duplicate member names (RFC 7515 §5.2 allows refusing them;
/// doing so means no two readers can see different values).
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, TokenError> {
    match serde_json::from_slice::<UniqueObject>(bytes) {
        Ok(UniqueObject(map)) => Ok(map),
        Err(e) if e.to_string().starts_with(DUPLICATE) => Err(TokenError::DuplicateMember),
        Err(_) => Err(TokenError::Malformed),
    }
}

const DUPLICATE: &str = "duplicate member";

struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&k) {
                        return Err(serde::de::Error::custom(DUPLICATE));
                    }
                    map.insert(k, v);
                }
                Ok(UniqueObject(map))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn huge_token_cache_ttl_is_capped_not_a_panic() {
        let v = JwtValidator::builder("https://as.example")
            .audience("api")
            .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap())
            .token_cache(10, Duration::MAX)
            .build()
            .await;
        assert!(v.is_ok(), "{:?}", v.err());
    }

    #[test]
    fn duplicate_members_are_refused() {
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#),
            Err(TokenError::DuplicateMember)
        );
        assert!(parse_object(br#"{"a":{"b":1},"c":2}"#).is_ok());
        assert_eq!(parse_object(b"[1]"), Err(TokenError::Malformed));
        assert_eq!(parse_object(b"\xff"), Err(TokenError::Malformed));
    }

    #[test]
    fn numeric_dates_are_numbers_from_the_epoch_to_year_9999() {
        let claims = |v: Value| serde_json::json!({ "exp": v }).as_object().unwrap().clone();
        for good in [
            serde_json::json!(0),
            serde_json::json!(1.5),
            serde_json::json!(253_402_300_799u64),
        ] {
            assert!(numeric_date(&claims(good.clone()), "exp").is_ok(), "{good}");
        }
        for bad in [
            serde_json::json!(-1),
            serde_json::json!(1e308),
            serde_json::json!(253_402_300_800u64),
            serde_json::json!(u64::MAX),
            serde_json::json!("1"),
        ] {
            assert_eq!(
                numeric_date(&claims(bad.clone()), "exp"),
                Err(TokenError::InvalidClaim),
                "{bad}"
            );
        }
    }
}
