//! [`JwtValidatorBuilder`]: the settings of a [`JwtValidator`], checked when it is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;

use super::cache::TokenCache;
use super::header::HeaderMemo;
use super::validator::{Inner, Keys};
use super::{
    acceptable_url, audiences, check_cache_ttl, http_client, BuildError, JwtValidator,
    DEFAULT_ALGORITHMS,
};
use crate::crypto::Backend;
use crate::discovery::{DiscoveryError, Metadata};
use crate::introspection::MAX_CACHE_TTL;
use crate::jose::{check_leeway, hmac_min_len, is_hmac};
use crate::jwks::{JwksCache, JwksConfig, Key, KeySet};
use crate::stats::Counters;

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
    cache: bool,
    cache_capacity: u64,
    cache_ttl: Duration,
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

    /// Clock skew allowed on `exp`, `nbf` and `iat` (default 60 s, at most
    /// [`MAX_LEEWAY`](super::MAX_LEEWAY): a larger one is a [`BuildError`], since it would all
    /// but switch these checks off).
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

    /// Most verified tokens kept in the cache (default 10,000; 0 turns the cache off like
    /// [`no_cache`](Self::no_cache); a capacity under 32 is raised to 32).
    ///
    /// The verified-token cache (on by default) lets a token seen before skip signature
    /// verification and claim parsing. Entries are keyed by the whole token; `exp` and `nbf`
    /// are still checked on every hit. The first `capacity` verified tokens are kept; after
    /// that, a token is kept on its second sighting only, so tokens that never come back cost
    /// (almost) nothing (see `BENCHMARKS.md`). Each entry holds the token itself (in memory, as
    /// the request did) and its claims: about 2 KiB for a typical access token.
    pub fn cache_capacity(mut self, n: u64) -> Self {
        self.cache_capacity = n;
        self
    }

    /// Longest time a verified token is kept in the cache (default 5 minutes, at most
    /// [`MAX_CACHE_TTL`](crate::introspection::MAX_CACHE_TTL): a longer one is a
    /// [`BuildError`]). A key removed from the issuer's JWKS stops verifying new tokens at
    /// once, but tokens already cached stay accepted until their entry ends (at most this
    /// long), unless the keys go past [`JwksConfig::max_stale`] first.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    /// Verifies every token in full, every time (no verified-token cache).
    pub fn no_cache(mut self) -> Self {
        self.cache = false;
        self
    }

    /// Keeps up to `capacity` verified tokens for up to `ttl` (capped at 24 hours).
    #[deprecated(
        since = "0.2.0",
        note = "use `cache_capacity(capacity)` and `cache_ttl(ttl)`, the words of both builders"
    )]
    pub fn token_cache(mut self, capacity: u64, ttl: Duration) -> Self {
        self.cache = true;
        self.cache_capacity(capacity)
            .cache_ttl(ttl.min(MAX_CACHE_TTL))
    }

    /// Verifies every token in full, every time (no verified-token cache).
    #[deprecated(
        since = "0.2.0",
        note = "renamed to `no_cache()`, the word of both builders"
    )]
    pub fn no_token_cache(self) -> Self {
        self.no_cache()
    }

    /// Builds the validator. Without [`jwks_uri`](Self::jwks_uri),
    /// [`key_set`](Self::key_set) or an HMAC-only setup, discovers the JWKS URL from the
    /// issuer's metadata (this is the only network call made here; keys are fetched when
    /// first needed).
    pub async fn build(self) -> Result<JwtValidator, BuildError> {
        let audiences = audiences(self.audiences, self.any_audience)?;
        check_leeway(self.leeway)?;
        check_cache_ttl(self.cache_ttl, "the token cache_ttl is over 24 hours")?;
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
            let client = http_client(self.client, self.jwks_config.limits().timeout)?;
            let uri = match self.jwks_uri {
                Some(uri) => uri,
                None => Metadata::discover_with(&client, &self.issuer, self.jwks_config.limits())
                    .await?
                    .jwks_uri
                    .ok_or(DiscoveryError::Missing("jwks_uri"))?,
            };
            Keys::Remote(JwksCache::new(
                acceptable_url(uri)?,
                client,
                self.jwks_config,
            ))
        };
        let hmac = match self.hmac_secret.as_deref() {
            Some(secret) => Some(Arc::new(Key::hmac(secret).ok_or(BuildError::Invalid(
                "hmac_secret: no signature backend takes this secret",
            ))?)),
            None => None,
        };
        Ok(JwtValidator {
            inner: Arc::new(Inner {
                hmac,
                algorithms: self.algorithms.into_iter().collect(),
                issuer: self.issuer,
                audiences,
                leeway: self.leeway.as_secs_f64(),
                require_typ: self.require_typ,
                required_claims: self.required_claims,
                max_token_bytes: self.max_token_bytes,
                scope_claim: self.scope_claim,
                backend: self.backend,
                keys,
                counters: Counters::default(),
                headers: HeaderMemo::new(),
                cache: (self.cache && self.cache_capacity > 0)
                    .then(|| TokenCache::new(self.cache_capacity, self.cache_ttl)),
            }),
        })
    }
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
            cache: true,
            cache_capacity: 10_000,
            cache_ttl: Duration::from_secs(300),
        }
    }
}
