//! The error of a JWK Set that could not be had.

use crate::fetch::FetchError;

/// Why a JWK Set document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// Not a JSON object with a `keys` array.
    #[error("not a JWK Set: {0}")]
    NotAKeySet(String),
    /// Fetching the document failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A refresh failed (the reason is the fetch or parse error); the last good keys, if any,
    /// are still served.
    #[error("the key set could not be refreshed: {0}")]
    Refresh(String),
}
