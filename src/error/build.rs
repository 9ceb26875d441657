//! [`BuildError`]: why a validator, or a layer's DPoP set-up, could not be built.

use super::{DiscoveryError, JwksError};

/// Why a validator could not be built, or why [`AuthLayer::dpop`](crate::AuthLayer::dpop) or
/// [`ProofVerifier::new`](crate::dpop::ProofVerifier::new) refused their [`DpopConfig`]
/// ([`BuildError::Invalid`]).
///
/// [`DpopConfig`]: crate::dpop::DpopConfig
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Discovery of the issuer's metadata failed.
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    /// No audience was configured (and [`JwtValidatorBuilder::any_audience`] was not called).
    ///
    /// [`JwtValidatorBuilder::any_audience`]: crate::jwt::JwtValidatorBuilder::any_audience
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
    /// With [`Prefetch::FailFast`](crate::jwt::Prefetch::FailFast): the first fetch of
    /// the signing keys failed.
    #[error("the signing keys could not be fetched: {0}")]
    Prefetch(#[source] JwksError),
}
