//! [`BuildError`]: why a validator could not be built.

use crate::discovery::DiscoveryError;

/// Why a validator could not be built.
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
