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
    /// An `https` URL (issuer, metadata, JWKS or introspection endpoint) is to be fetched with
    /// the default HTTP client of a build without any TLS feature. Caught when the validator
    /// is built, rather than as a bare connection error at the first fetch.
    #[error(
        "the URL {0:?} is https, but bearer-guard was built without TLS: enable its feature \
         tls-aws-lc, tls-ring or tls-native (or pass an http_client with TLS)"
    )]
    NoTls(String),
    /// Another setting is inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(&'static str),
    /// With [`Prefetch::FailFast`](crate::readiness::Prefetch::FailFast): the first fetch of
    /// the signing keys failed.
    #[error("the signing keys could not be fetched: {0}")]
    Prefetch(#[source] crate::jwks::JwksError),
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

/// Whether this build's default HTTP client speaks TLS (one of the `tls-*` features).
pub(crate) const DEFAULT_CLIENT_HAS_TLS: bool = cfg!(any(
    feature = "tls-aws-lc",
    feature = "tls-ring",
    feature = "tls-native"
));

/// Refuses to fetch the `https` URL `url` with the default client of a build without TLS
/// ([`BuildError::NoTls`]); `custom_client`: the caller gave its own client, whose TLS is its
/// own business.
pub(crate) fn check_tls(url: &str, custom_client: bool) -> Result<(), BuildError> {
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if https && !custom_client && !DEFAULT_CLIENT_HAS_TLS {
        return Err(BuildError::NoTls(url.to_owned()));
    }
    Ok(())
}

/// `uri`, if it is acceptable to fetch from: https, or http on a loopback host
/// ([`BuildError::BadUrl`] otherwise).
pub(crate) fn acceptable_url(uri: String) -> Result<String, BuildError> {
    match url::Url::parse(&uri) {
        Ok(parsed) if discovery::is_acceptable_url(&parsed) => Ok(uri),
        _ => Err(BuildError::BadUrl(uri)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_needs_a_tls_feature_unless_the_client_is_given() {
        let refused = check_tls("HTTPS://issuer.example", false);
        if DEFAULT_CLIENT_HAS_TLS {
            assert!(refused.is_ok());
        } else {
            let message = refused.unwrap_err().to_string();
            assert!(
                message.contains("tls-aws-lc, tls-ring or tls-native"),
                "{message}"
            );
        }
        assert!(check_tls("https://issuer.example", true).is_ok());
        assert!(check_tls("http://127.0.0.1:8080", false).is_ok());
    }

    /// Without a TLS feature, the builders refuse an https URL before any fetch.
    #[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring", feature = "tls-native")))]
    #[tokio::test]
    async fn validators_of_https_urls_are_refused_at_build_time_without_tls() {
        let jwt = crate::JwtValidator::builder("https://issuer.example")
            .audience("api")
            .build()
            .await;
        assert!(matches!(jwt, Err(BuildError::NoTls(url)) if url == "https://issuer.example"));
        let jwks = crate::JwtValidator::builder("https://issuer.example")
            .audience("api")
            .jwks_uri("https://issuer.example/jwks")
            .build()
            .await;
        assert!(matches!(jwks, Err(BuildError::NoTls(_))));
        let introspection = crate::IntrospectionValidator::builder("https://issuer.example")
            .client("api", "secret")
            .any_audience()
            .build()
            .await;
        assert!(matches!(introspection, Err(BuildError::NoTls(_))));
    }
}
