//! [`JwtValidatorBuilder`]: the settings of a [`JwtValidator`], checked when it is built.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use serde_json::Value;

use super::cache::TokenCache;
use super::header::HeaderMemo;
use super::validator::{Inner, Keys};
use super::Prefetch;
use super::{JwtValidator, DEFAULT_ALGORITHMS};
use crate::crypto::Backend;
use crate::discovery::IssuerMetadata;
use crate::error::BuildError;
use crate::error::DiscoveryError;
use crate::fetch::{acceptable_url, check_tls, http_client};
use crate::jose::{check_leeway, hmac_min_len, is_hmac, IssuerTemplate};
use crate::jwks::{JwksCache, JwksConfig, Key, KeySet};
use crate::telemetry::Counters;
use crate::validator::{audiences, check_cache_ttl};

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
    tenant_claim: Option<String>,
    tenants: Vec<String>,
    metadata_url: Option<String>,
    claim_values: Vec<(String, Vec<Value>)>,
    prefetch: Prefetch,
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
            .field("tenant_claim", &self.tenant_claim)
            .field("tenants", &self.tenants)
            .field("metadata_url", &self.metadata_url)
            .field("claim_values", &self.claim_values)
            .field("prefetch", &self.prefetch)
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

    /// Makes the issuer a template for tenants of one multi-tenant issuer (Microsoft Entra ID:
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`): its one `{…}` placeholder stands
    /// for the token's `claim` (`tid`), and `iss` must equal the template with that value in
    /// place. The value must be a plain name (letters, digits, `-`, `.`, `_`); restrict it
    /// with [`tenants`](Self::tenants). Discovery cannot start from a template: set
    /// [`metadata_url`](Self::metadata_url) (whose document names the template as its
    /// `issuer`) or [`jwks_uri`](Self::jwks_uri). An issuer without exactly one placeholder is
    /// a [`BuildError`]. Behind [`MultiIssuer`](crate::MultiIssuer), such a validator gets
    /// the tokens whose `iss` has the template's shape.
    ///
    /// See [`profiles::entra_multi_tenant`](crate::profiles::entra_multi_tenant).
    pub fn tenant_claim(mut self, claim: impl Into<String>) -> Self {
        self.tenant_claim = Some(claim.into());
        self
    }

    /// Accepts only these tenants (the values of the [`tenant_claim`](Self::tenant_claim)):
    /// without an allow-list, any tenant of the issuer is accepted, which means anyone who
    /// can create a tenant there.
    pub fn tenants<I, S>(mut self, tenants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tenants = tenants.into_iter().map(Into::into).collect();
        self
    }

    /// Fetches the issuer's metadata from this URL (the whole document URL) instead of the
    /// well-known locations under the issuer. The document's `issuer` must still equal the
    /// configured issuer (or template) exactly.
    pub fn metadata_url(mut self, url: impl Into<String>) -> Self {
        self.metadata_url = Some(url.into());
        self
    }

    /// Requires claim `name` to be present and equal to one of `values` (JSON values,
    /// compared exactly: `"true"` is not `true`). May be called for several claims; calling
    /// it again for a claim replaces its values. An empty list is a [`BuildError`]. A refusal
    /// is `401 invalid_token` and a DEBUG event naming the claim.
    ///
    /// ```
    /// # async fn demo() -> Result<(), bearer_guard::BuildError> {
    /// // AWS Cognito access tokens: no `aud`, but `token_use` and `client_id`.
    /// let v = bearer_guard::JwtValidator::builder("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc")
    ///     .any_audience()
    ///     .claim_values("token_use", ["access"])
    ///     .claim_values("client_id", ["my-app-client"])
    ///     .hmac_secret(b"a secret of at least thirty-two bytes".to_vec())
    ///     .build()
    ///     .await?;
    /// # let _ = v; Ok(()) }
    /// ```
    pub fn claim_values<I, T>(mut self, name: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<Value>,
    {
        let name = name.into();
        let values = values.into_iter().map(Into::into).collect();
        self.claim_values.retain(|(n, _)| *n != name);
        self.claim_values.push((name, values));
        self
    }

    /// When the signing keys are first fetched (default [`Prefetch::Lazy`]: by the first
    /// request or readiness check). [`Prefetch::FailFast`] makes [`build`](Self::build) fail
    /// when they cannot be had; [`Prefetch::Background`] fetches them in a task that retries
    /// each cooldown, while the validator reports [not ready](crate::Validator::readiness).
    /// No effect with a fixed [`key_set`](Self::key_set) or HMAC only. Either way, requests
    /// that come before the keys wait for the fetch under way, or get 503, never 401.
    ///
    /// ```
    /// # async fn demo() -> Result<(), bearer_guard::BuildError> {
    /// use bearer_guard::{jwt::Prefetch, JwtValidator};
    /// let v = JwtValidator::builder("https://issuer.example")
    ///     .audience("api")
    ///     .prefetch(Prefetch::FailFast)
    ///     .hmac_secret(b"a secret of at least thirty-two bytes".to_vec())
    ///     .build()
    ///     .await?; // HMAC only: nothing to fetch
    /// # let _ = v; Ok(()) }
    /// ```
    pub fn prefetch(mut self, prefetch: Prefetch) -> Self {
        self.prefetch = prefetch;
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
    /// [`MAX_CACHE_TTL`](crate::validator::MAX_CACHE_TTL): a longer one is a
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
        if self
            .claim_values
            .iter()
            .any(|(_, values)| values.is_empty())
        {
            return Err(BuildError::Invalid("a claim_values list is empty"));
        }
        let template = match self.tenant_claim {
            Some(claim) => Some(
                IssuerTemplate::new(&self.issuer, claim, self.tenants).ok_or(
                    BuildError::Invalid(
                        "with tenant_claim, the issuer must have exactly one {placeholder}",
                    ),
                )?,
            ),
            None if !self.tenants.is_empty() => {
                return Err(BuildError::Invalid("tenants without tenant_claim"))
            }
            None => None,
        };
        let hmac_only = self.hmac_secret.is_some() && self.algorithms.iter().all(|a| is_hmac(*a));
        let keys = if let Some(set) = self.key_set.clone() {
            Keys::Fixed(set)
        } else if hmac_only {
            Keys::Fixed(Arc::new(KeySet::default()))
        } else {
            // Every URL fetched from here on, checked before the first fetch.
            let custom = self.client.is_some();
            match (&self.jwks_uri, &self.metadata_url) {
                (Some(uri), _) => check_tls(uri, custom)?,
                (None, Some(url)) => check_tls(url, custom)?,
                (None, None) => check_tls(&self.issuer, custom)?,
            }
            let client = http_client(self.client, self.jwks_config.limits().timeout)?;
            let limits = self.jwks_config.limits();
            let uri = match (self.jwks_uri, self.metadata_url) {
                (Some(uri), _) => uri,
                (None, Some(url)) => {
                    let url = acceptable_url(url)?;
                    IssuerMetadata::fetch_from(&client, &url, &self.issuer, limits)
                        .await?
                        .jwks_uri
                        .ok_or(DiscoveryError::Missing("jwks_uri"))?
                }
                (None, None) if template.is_some() => {
                    return Err(BuildError::Invalid(
                        "an issuer template needs metadata_url or jwks_uri",
                    ))
                }
                (None, None) => IssuerMetadata::discover_with(&client, &self.issuer, limits)
                    .await?
                    .jwks_uri
                    .ok_or(DiscoveryError::Missing("jwks_uri"))?,
            };
            check_tls(&uri, custom)?;
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
        if let Keys::Remote(cache) = &keys {
            super::ready::prefetch(cache, self.prefetch).await?;
        }
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
                issuer_template: template,
                claim_values: self.claim_values,
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
            tenant_claim: None,
            tenants: Vec::new(),
            metadata_url: None,
            claim_values: Vec::new(),
            prefetch: Prefetch::Lazy,
        }
    }
}
