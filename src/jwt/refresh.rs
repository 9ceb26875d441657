//! Finding the key for a token: in the key set at hand, else by a JWKS refresh (single-flight,
//! at most one per request), else `UnknownKey` or 503 when the issuer cannot be asked.

use std::time::Instant;

use super::cache::Probe;
use super::validator::{Keys, Parsed};
use super::JwtValidator;
use crate::error::UnavailableError;
use crate::jose::is_hmac;
use crate::jwks::{Lookup, Reason, Snapshot};
use crate::{error::TokenError, validator::ValidationFuture, AuthError, Claims};

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
    /// Whether the keys fetched from the issuer are past `max_stale`.
    pub(super) fn keys_expired(&self) -> bool {
        match &self.inner.keys {
            Keys::Remote(cache) => cache.keys_expired(Instant::now()),
            Keys::Fixed(_) => false,
        }
    }

    /// Full validation, without looking in the verified-token cache; an accepted token is
    /// offered to it under `probe` (if any).
    pub(super) fn validate_uncached(
        &self,
        token: &str,
        probe: Option<Probe<'_>>,
    ) -> ValidationFuture {
        let snapshot = match &self.inner.keys {
            Keys::Remote(cache) => Some(cache.snapshot()),
            Keys::Fixed(_) => None,
        };
        match self.step(token, probe, snapshot.as_deref(), true) {
            Step::Done(result) => ValidationFuture::ready(result),
            Step::Refresh { generation, reason } => {
                let this = self.clone();
                // Only this rare path (keys being fetched) copies the token, and hashes it
                // again to offer it to the cache. (A token that got here is within
                // `max_token_bytes`, so it had a probe whenever the cache is on.)
                let token = token.to_owned();
                ValidationFuture::pending(async move {
                    let Keys::Remote(cache) = &this.inner.keys else {
                        return Err(UnavailableError::Keys(None).into());
                    };
                    let Some(snap) = cache.refresh_within(generation, reason).await else {
                        return Err(UnavailableError::SlowKeyFetch.into());
                    };
                    let probe = this.inner.cache.as_ref().map(|tokens| tokens.probe(&token));
                    match this.step(&token, probe, Some(&snap), false) {
                        Step::Done(result) => result,
                        Step::Refresh { .. } => {
                            Err(UnavailableError::Keys(snap.last_error.clone()).into())
                        }
                    }
                })
            }
        }
    }

    /// One pass: parse and check the token with the keys at hand. `may_refresh` is false on
    /// the pass after a refresh, so that a request causes at most one fetch.
    fn step(
        &self,
        token: &str,
        probe: Option<Probe<'_>>,
        snapshot: Option<&Snapshot>,
        may_refresh: bool,
    ) -> Step {
        let inner = &*self.inner;
        let parsed = match Parsed::new(token, inner) {
            Ok(p) => p,
            Err(e) => return Step::Done(Err(e.into())),
        };
        if is_hmac(parsed.alg) {
            return Step::Done(match &inner.hmac {
                Some(key) => self.finish(&parsed, key, probe),
                None => Err(TokenError::AlgorithmNotAllowed.into()),
            });
        }
        let kid = parsed.kid.as_deref();
        let now = Instant::now();
        let (keys, snapshot) = match (&inner.keys, snapshot) {
            (Keys::Fixed(set), _) => (Some(set), None),
            // Keys past `max_stale` are as good as none: refresh, or answer 503.
            (Keys::Remote(_), Some(snap)) => (snap.usable_keys(now), Some(snap)),
            (Keys::Remote(_), None) => return Step::Done(Err(UnavailableError::Keys(None).into())),
        };
        let lookup = keys.map(|k| k.lookup(kid, parsed.alg));
        match (lookup, &inner.keys, snapshot) {
            (Some(Lookup::Found(key)), Keys::Remote(cache), Some(snap)) => {
                if cache.may_refresh(snap, Reason::Stale, now) {
                    cache.refresh_in_background(snap.generation);
                }
                Step::Done(self.finish(&parsed, &key, probe))
            }
            (Some(Lookup::Found(key)), _, _) => Step::Done(self.finish(&parsed, &key, probe)),
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
                    Step::Done(Err(UnavailableError::Keys(snap.last_error.clone()).into()))
                } else {
                    Step::Done(Err(TokenError::UnknownKey.into()))
                }
            }
            _ => Step::Done(Err(TokenError::UnknownKey.into())),
        }
    }
}
