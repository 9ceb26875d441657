//! Readiness of a [`JwtValidator`] and the first fetch of its keys ([`Prefetch`]).

use std::time::Instant;

use super::validator::Keys;
use super::JwtValidator;
use crate::error::BuildError;
use crate::jwks::{JwksCache, Reason, WeakJwksCache};
use crate::validator::Readiness;

/// No key set fetched yet (and none under way has ended).
pub(crate) const NOT_FETCHED: &str = "signing keys not fetched yet";
/// Fetches were made, none succeeded.
pub(crate) const FETCH_FAILED: &str = "signing keys could not be fetched";
/// The last good keys are past `max_stale` and every refresh since failed.
pub(crate) const EXPIRED: &str = "signing keys are past max_stale and cannot be refreshed";

/// When a [`JwtValidator`](crate::JwtValidator) that fetches keys fetches them first; set with
/// [`JwtValidatorBuilder::prefetch`](crate::jwt::JwtValidatorBuilder::prefetch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Prefetch {
    /// When first needed: by the first request, or the first [readiness](crate::validator::Validator::readiness)
    /// check, whichever comes first (the default).
    #[default]
    Lazy,
    /// While building: [`build`](crate::jwt::JwtValidatorBuilder::build) fails with
    /// [`BuildError::Prefetch`](crate::BuildError::Prefetch) when the keys cannot be had. For
    /// a process that should not start without its issuer.
    FailFast,
    /// In the background: `build` returns at once; a task fetches the keys and, while that
    /// fails, tries again each [`cooldown`](crate::jwks::JwksConfig::cooldown) until it succeeds
    /// (or the validator is dropped). The validator reports not ready meanwhile; requests
    /// wait for the fetch under way, or get 503.
    Background,
}

impl JwtValidator {
    /// See [`Validator::readiness`](crate::Validator::readiness).
    pub(super) fn key_readiness(&self) -> Readiness {
        let Keys::Remote(cache) = &self.inner.keys else {
            return Readiness::Ready;
        };
        let snap = cache.snapshot();
        let now = Instant::now();
        if snap.usable_keys(now).is_some() {
            return Readiness::Ready;
        }
        // A probe alone must be able to bring a lazily built validator up (no traffic
        // reaches a pod that is not ready): fetch, if a fetch is due (single flight,
        // cooldown after a failure).
        if cache.may_refresh(&snap, Reason::Stale, now) {
            cache.refresh_in_background(snap.generation);
        }
        Readiness::not_ready(match (&snap.keys, snap.generation) {
            (Some(_), _) => EXPIRED,
            (None, 0) => NOT_FETCHED,
            (None, _) => FETCH_FAILED,
        })
    }
}

/// The shortest wait between two background attempts (with a zero cooldown).
const MIN_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// Applies `prefetch` to a validator just built with `cache`.
pub(super) async fn prefetch(cache: &JwksCache, prefetch: Prefetch) -> Result<(), BuildError> {
    match prefetch {
        Prefetch::Lazy => Ok(()),
        Prefetch::FailFast => cache
            .refresh()
            .await
            .map(|_| ())
            .map_err(BuildError::Prefetch),
        Prefetch::Background => {
            let Ok(handle) = tokio::runtime::Handle::try_current() else {
                return Err(BuildError::Invalid(
                    "Prefetch::Background needs a Tokio runtime",
                ));
            };
            handle.spawn(fetch_until_done(cache.downgrade()));
            Ok(())
        }
    }
}

/// Fetches until a fetch succeeds, once per cooldown; ends when the validator is dropped.
async fn fetch_until_done(weak: WeakJwksCache) {
    loop {
        let Some(cache) = weak.upgrade() else {
            return;
        };
        // Keys fetched meanwhile (by a request) end the task too.
        if cache.snapshot().usable_keys(Instant::now()).is_some() || cache.refresh().await.is_ok() {
            return;
        }
        let wait = cache.config().cooldown_time().max(MIN_RETRY);
        drop(cache);
        tokio::time::sleep(wait).await;
    }
}
