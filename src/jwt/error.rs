//! [`BuildError`]: why a validator (or a layer's DPoP set-up) could not be built, and the
//! settings checks that every validator builder shares.

use std::time::Duration;

use crate::discovery::{self, DiscoveryError};
use crate::fetch;
use crate::introspection::MAX_CACHE_TTL;

/// Why a validator could not be built, or why [`AuthLayer::dpop`](crate::AuthLayer::dpop) or
/// [`ProofVerifier::new`](crate::dpop::ProofVerifier::new) refused their [`DpopConfig`]
/// ([`BuildError::Invalid`]).
///
/// [`DpopConfig`]: crate::DpopConfig
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Discovery of the issuer's metadata failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// No audience was configured (and [`JwtValidatorBuilder::any_audience`] was not called).
    ///
    /// [`JwtValidatorBuilder::any_audience`]: super::JwtValidatorBuilder::any_audience
    #[error("no audience configured: set one, or call any_audience() explicitly")]
    NoAudience,
    /// A URL in the configuration is not acceptable (https, or http on loopback only).
    #[error("the URL {0:?} is not acceptable (https, or http on a loopback host)")]
    BadUrl(String),
    /// The HTTP client could not be created (the cause is kept as the error's source).
    #[error("the HTTP client could not be created: {0}")]
    Http(#[source] reqwest::Error),
    /// Another setting is inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
}

/// The audiences a validator checks: those configured, or none at all with `any_audience`
/// chosen explicitly; neither is [`BuildError::NoAudience`]. Shared by every validator builder.
pub(crate) fn audiences(
    configured: Vec<String>,
    any_audience: bool,
) -> Result<Vec<String>, BuildError> {
    match (configured.is_empty(), any_audience) {
        (_, true) => Ok(Vec::new()),
        (true, false) => Err(BuildError::NoAudience),
        (false, false) => Ok(configured),
    }
}

/// Refuses a cache lifetime over [`MAX_CACHE_TTL`] with the message `over` (which names the
/// setting).
pub(crate) fn check_cache_ttl(ttl: Duration, over: &'static str) -> Result<(), BuildError> {
    if ttl > MAX_CACHE_TTL {
        return Err(BuildError::Invalid(over));
    }
    Ok(())
}

/// The configured HTTP client, or the default one with `timeout`.
pub(crate) fn http_client(
    configured: Option<reqwest::Client>,
    timeout: Duration,
) -> Result<reqwest::Client, BuildError> {
    match configured {
        Some(client) => Ok(client),
        None => fetch::default_client(timeout).map_err(BuildError::Http),
    }
}

/// `uri`, if it is acceptable to fetch from: https, or http on a loopback host
/// ([`BuildError::BadUrl`] otherwise).
pub(crate) fn acceptable_url(uri: String) -> Result<String, BuildError> {
    match url::Url::parse(&uri) {
        Ok(parsed) if discovery::is_acceptable_url(&parsed) => Ok(uri),
        _ => Err(BuildError::BadUrl(uri)),
    }
}
