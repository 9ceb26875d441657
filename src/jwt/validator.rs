//! [`JwtValidator`]: the steps of a validation in order (verified-token cache, header, key,
//! signature, claims), with the JOSE core doing each check.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::cache::{Probe, TokenCache};
use super::header::{Checked, HeaderMemo};
use crate::crypto::Backend;
use crate::jose::{self, Compact, Presence, SignatureError, MAX_SIGNATURE_BYTES};
use crate::jwks::{JwksCache, Key, KeySet};
use crate::telemetry::{Counters, Observation, Source, Stats};
use crate::validator::Readiness;
use crate::{error::TokenError, validator::ValidationFuture, AuthError, Claims, Validator};

/// Validates JWT access tokens locally against the issuer's keys. Cheap to clone.
#[derive(Clone)]
pub struct JwtValidator {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) issuer: String,
    pub(super) audiences: Vec<String>,
    pub(super) algorithms: HashSet<Algorithm>,
    pub(super) leeway: f64,
    pub(super) require_typ: bool,
    pub(super) required_claims: Vec<String>,
    pub(super) max_token_bytes: usize,
    pub(super) scope_claim: Option<String>,
    /// With a template, `iss` is checked against it instead of `issuer` (see `tenant_claim`).
    pub(super) issuer_template: Option<jose::IssuerTemplate>,
    pub(super) claim_values: Vec<(String, Vec<Value>)>,
    pub(super) backend: Backend,
    pub(super) hmac: Option<Arc<Key>>,
    pub(super) keys: Keys,
    pub(super) cache: Option<TokenCache>,
    /// Headers that passed their checks (see `header.rs`).
    pub(super) headers: HeaderMemo,
    pub(super) counters: Counters,
}

/// Where the keys come from.
pub(super) enum Keys {
    /// A key set given at build time (or none, for HMAC only).
    Fixed(Arc<KeySet>),
    /// The issuer's JWKS, fetched and refreshed.
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

impl JwtValidator {
    /// Offers a token verified with `key` to the cache (see the cache's admission policy).
    pub(super) fn remember(&self, probe: Option<Probe<'_>>, claims: &Claims, key: &Arc<Key>) {
        if let (Some(cache), Some(probe)) = (&self.inner.cache, probe) {
            cache.offer(probe, claims, key);
        }
    }
}

impl crate::validator::MultiIssuerBuilder {
    /// Accepts tokens of `validator`'s issuer ([`JwtValidator::issuer`]), validated by it.
    ///
    /// With an issuer template ([`tenant_claim`](super::JwtValidatorBuilder::tenant_claim),
    /// e.g. `https://login.microsoftonline.com/{tenant}/v2.0`), the validator gets the tokens
    /// whose `iss` has the template's shape (a tenant name in place of the placeholder) and
    /// is not one of the exact issuers; it then checks `iss` against the token's tenant claim
    /// and the tenant allow-list, as on its own.
    pub fn issuer(self, validator: JwtValidator) -> Self {
        match validator.inner.issuer_template.clone() {
            Some(template) => self.template(template, validator),
            None => {
                let issuer = validator.issuer().to_owned();
                self.validator(issuer, validator)
            }
        }
    }
}

impl JwtValidator {
    /// The issuer this validator accepts (with an issuer template, the template, placeholder
    /// included).
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

    /// Verifies the signature with `key`, then the claims; offers an accepted token to the
    /// verified-token cache under `probe`, with the key that verified it.
    pub(super) fn finish(
        &self,
        parsed: &Parsed<'_>,
        key: &Arc<Key>,
        probe: Option<Probe<'_>>,
    ) -> Result<Claims, AuthError> {
        let inner = &*self.inner;
        if !key.accepts(parsed.alg) {
            return Err(TokenError::KeyMismatch.into());
        }
        let message = parsed.jws.signing_input.as_bytes();
        let signature = parsed
            .signature
            .get(..parsed.signature_len)
            .unwrap_or_default();
        match jose::verify(inner.backend, parsed.alg, &key.prepared, message, signature) {
            Ok(()) => {}
            Err(SignatureError::Invalid) => return Err(TokenError::InvalidSignature.into()),
            Err(SignatureError::KeyUnusable) => return Err(TokenError::KeyMismatch.into()),
        }
        let claims = parsed.jws.payload_object()?;
        self.check_claims(&claims)?;
        let claims = match &inner.scope_claim {
            Some(name) => Claims::with_scope_claim(claims, name),
            None => Claims::new(claims),
        };
        self.remember(probe, &claims, key);
        Ok(claims)
    }

    fn check_claims(&self, claims: &Map<String, Value>) -> Result<(), TokenError> {
        let inner = &*self.inner;
        match &inner.issuer_template {
            Some(template) => jose::check_issuer_template(claims, template)?,
            None => jose::check_issuer(claims, &inner.issuer, Presence::Required)?,
        }
        jose::check_audience(claims, &inner.audiences)?;
        let now = jose::unix_now();
        jose::check_exp_nbf(claims, Presence::Required, now, inner.leeway)?;
        jose::check_iat(claims, now, inner.leeway)?;
        if inner
            .required_claims
            .iter()
            .any(|name| !claims.contains_key(name))
        {
            return Err(TokenError::MissingClaim);
        }
        for (name, allowed) in &inner.claim_values {
            jose::check_claim_value(claims, name, allowed)?;
        }
        Ok(())
    }
}

impl Validator for JwtValidator {
    fn validate(&self, token: &str) -> ValidationFuture {
        let obs = Observation::start("jwt", &self.inner.issuer);
        if obs.enabled() && token.len() <= self.inner.max_token_bytes {
            if let Some(kid) = jose::unverified_kid(token) {
                obs.kid(&kid);
            }
        }
        let counters = &self.inner.counters;
        let probe = match &self.inner.cache {
            Some(cache) if token.len() <= self.inner.max_token_bytes => {
                let probe = cache.probe(token);
                let now = jose::unix_now();
                // With the issuer's keys past `max_stale`, cached tokens are not served
                // either: full validation answers (503, or a refresh that succeeds).
                if let Some(hit) = cache.get(probe, now).filter(|_| !self.keys_expired()) {
                    let result = hit.check(now, self.inner.leeway).map_err(AuthError::from);
                    obs.finish(counters, Source::Cache, &result);
                    return ValidationFuture::ready(result);
                }
                Some(probe)
            }
            _ => None,
        };
        match self.validate_uncached(token, probe).into_ready() {
            Ok(result) => {
                obs.finish(counters, Source::Checked, &result);
                ValidationFuture::ready(result)
            }
            Err(pending) => {
                let this = self.clone();
                ValidationFuture::pending(async move {
                    let result = pending.await;
                    obs.finish(&this.inner.counters, Source::Checked, &result);
                    result
                })
            }
        }
    }

    /// Ready with fixed keys (or HMAC only); with fetched keys, once a key set was fetched
    /// and is not past `max_stale`. Starts a fetch in the background when one is due.
    fn readiness(&self) -> Readiness {
        self.key_readiness()
    }
}

/// A token split and its header checked; signature not yet verified.
pub(super) struct Parsed<'a> {
    pub(super) alg: Algorithm,
    pub(super) kid: Option<Arc<str>>,
    jws: Compact<'a>,
    /// The decoded signature, in place (no allocation): its first `signature_len` bytes.
    signature: [u8; MAX_SIGNATURE_BYTES],
    signature_len: usize,
}

impl<'a> Parsed<'a> {
    /// Splits `token`, checks its header (see `header.rs`) and decodes its signature.
    pub(super) fn new(token: &'a str, config: &Inner) -> Result<Self, TokenError> {
        let jws = Compact::split(token, config.max_token_bytes).inspect_err(|e| {
            if *e == TokenError::Malformed && !token.contains('.') {
                tracing::debug!(
                    check = "format",
                    "token refused: it is not a JWT; if your issuer issues opaque tokens, \
                     validate them with IntrospectionValidator (or HybridValidator)"
                );
            }
        })?;
        let Checked { alg, kid } =
            config
                .headers
                .check(jws.header, &config.algorithms, config.require_typ)?;
        let mut parsed = Parsed {
            alg,
            kid,
            jws,
            signature: [0; MAX_SIGNATURE_BYTES],
            signature_len: 0,
        };
        parsed.signature_len = parsed.jws.signature_into(&mut parsed.signature)?.len();
        Ok(parsed)
    }
}
