//! [`JwksConfig`]: timing and size settings of a [`JwksCache`](super::JwksCache).

use std::time::Duration;

use crate::fetch::Limits;

/// Timing and size settings of a [`JwksCache`].
///
/// ```
/// use std::time::Duration;
/// use bearer_guard::jwks::JwksConfig;
/// let config = JwksConfig::default().cooldown(Duration::from_secs(10));
/// ```
///
/// [`JwksCache`]: crate::jwks::JwksCache
#[derive(Debug, Clone, Copy)]
pub struct JwksConfig {
    pub(super) min_refresh: Duration,
    pub(super) max_refresh: Duration,
    pub(super) cooldown: Duration,
    pub(super) timeout: Duration,
    pub(super) max_bytes: usize,
    pub(super) max_stale: Duration,
    pub(super) signing_use: Option<&'static str>,
    pub(super) max_wait: Duration,
}

impl Default for JwksConfig {
    fn default() -> Self {
        JwksConfig {
            min_refresh: Duration::from_secs(5 * 60),
            max_refresh: Duration::from_secs(24 * 60 * 60),
            cooldown: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_bytes: 256 * 1024,
            max_stale: Duration::from_secs(24 * 60 * 60),
            signing_use: None,
            max_wait: Duration::from_secs(2),
        }
    }
}

impl JwksConfig {
    /// The shortest time keys are kept before a refresh, whatever `Cache-Control` says
    /// (default 5 minutes).
    pub fn min_refresh(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// The longest time keys are kept before a refresh (default 24 hours). Used as is when the
    /// response has no `Cache-Control: max-age`; longer `max-age` values are capped to this.
    /// Whatever the setting, keys are refreshed at least once a year.
    pub fn max_refresh(mut self, d: Duration) -> Self {
        self.max_refresh = d;
        self
    }

    /// After a re-fetch caused by an unknown `kid`, or after a failed fetch, how long to wait
    /// before fetching again for the same reason (default 30 s).
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// Timeout of one fetch, body included (default 10 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Largest JWKS document accepted, in bytes (default 256 KiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// How long past their refresh time the last good keys keep verifying tokens while every
    /// refresh fails (default 24 hours; capped at 1 year). After that, tokens that need those
    /// keys (tokens in the verified-token cache included) are answered with
    /// [`AuthError::Unavailable`](crate::AuthError::Unavailable) (503) until a refresh
    /// succeeds: otherwise a key the issuer removed, say because it leaked, would keep
    /// verifying for as long as an attacker can keep the JWKS endpoint failing. The default
    /// rides out a day-long outage of the issuer; lower it if a removed key must stop sooner.
    pub fn max_stale(mut self, d: Duration) -> Self {
        self.max_stale = d;
        self
    }

    /// Takes keys whose `use` is `signing_use` as signing keys too, besides `use: "sig"` and
    /// keys without `use` (keys of any other `use` never verify a token). For issuers that
    /// name the signing use of their own profile: a SPIFFE trust bundle serves its JWT-SVID
    /// keys with `use: "jwt-svid"` (see
    /// [`profiles::spiffe_jwt_svid`](crate::profiles::spiffe_jwt_svid)). One extra use; a
    /// later call replaces it.
    ///
    /// ```
    /// let config = bearer_guard::jwks::JwksConfig::default().accept_use("jwt-svid");
    /// # let _ = config;
    /// ```
    pub fn accept_use(mut self, signing_use: &'static str) -> Self {
        self.signing_use = Some(signing_use);
        self
    }

    /// How long a request waits for a key fetch under way, its own or one it joined (default
    /// 2 s). Past it the request is answered [`AuthError::Unavailable`](crate::AuthError::Unavailable)
    /// (503 with `Retry-After`) while the fetch goes on, up to [`timeout`](Self::timeout), for
    /// the requests that follow: a slow or hanging issuer holds a request for at most this
    /// long, not for the whole fetch timeout. Only requests that need keys the cache does not
    /// have wait at all; the others are served with the keys at hand while a refresh runs in
    /// the background. Zero answers 503 at once and leaves the fetch to run. The same word
    /// as [`IntrospectionValidatorBuilder::max_wait`](crate::introspection::IntrospectionValidatorBuilder::max_wait).
    pub fn max_wait(mut self, d: Duration) -> Self {
        self.max_wait = d;
        self
    }

    /// How long to keep keys fetched with this `Cache-Control: max-age` (or none).
    pub(super) fn lifetime(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(self.max_refresh)
            .clamp(self.min_refresh, self.max_refresh.max(self.min_refresh))
    }

    /// The [`cooldown`](Self::cooldown) setting.
    pub(crate) fn cooldown_time(&self) -> Duration {
        self.cooldown
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits {
            timeout: self.timeout,
            max_bytes: self.max_bytes,
            purpose: "jwks",
        }
    }
}
