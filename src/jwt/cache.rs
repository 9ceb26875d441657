//! The verified-token cache: a token seen before skips signature verification and claim
//! parsing, but never its time bounds.

use std::time::Duration;

use super::JwtValidator;
use crate::jose::{self, numeric_date};
use crate::{Claims, TokenError};

/// Verified tokens by the SHA-256 of the whole token.
pub(super) type TokenCache = moka::sync::Cache<[u8; 32], Verified>;

/// A cache entry: the claims of a token whose signature and claims were verified, with the
/// time bounds that must still be checked on each use.
#[derive(Clone)]
pub(super) struct Verified {
    claims: Claims,
    exp: f64,
    nbf: Option<f64>,
}

/// A cache of at most `capacity` tokens, each kept for at most `ttl`.
pub(super) fn new_token_cache(capacity: u64, ttl: Duration) -> TokenCache {
    moka::sync::Cache::builder()
        .max_capacity(capacity)
        .time_to_live(ttl)
        .build()
}

impl Verified {
    /// The claims, if the token is still within its `exp`/`nbf` window, with `leeway`.
    pub(super) fn check(&self, leeway: f64) -> Result<Claims, TokenError> {
        jose::check_window(Some(self.exp), self.nbf, jose::unix_now(), leeway)?;
        Ok(self.claims.clone())
    }
}

impl JwtValidator {
    /// Caches a verified token under `key` (its SHA-256), with its time bounds.
    pub(super) fn remember(&self, key: [u8; 32], claims: &Claims) {
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
}
