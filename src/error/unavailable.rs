//! [`UnavailableError`]: why a token could not be checked now (503), with its typed cause.

use super::{FetchError, IntrospectionResponseError, JwksError, StoreError};

/// Why a token could not be checked now: the issuer's keys, the introspection endpoint or the
/// shared DPoP replay store could not answer (an outage, never the client's fault). Carried
/// by [`AuthError::Unavailable`](super::AuthError::Unavailable), answered with 503 and
/// `Retry-After`. The cause, when there is one, is the error's
/// [`source`](std::error::Error::source); texts never carry a token or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnavailableError {
    /// No usable signing keys: none fetched yet, or the last ones are past `max_stale`, and
    /// fetching failed (the last fetch error, if any, is the source).
    #[error("signing keys unavailable")]
    Keys(#[source] Option<JwksError>),
    /// A key fetch is under way and takes longer than
    /// [`JwksConfig::max_wait`](crate::jwks::JwksConfig::max_wait).
    #[error("the key fetch under way takes longer than max_wait")]
    SlowKeyFetch,
    /// The introspection call failed: no answer, an error status, a redirect, too large...
    #[error("the introspection call failed")]
    Introspection(#[source] FetchError),
    /// The introspection endpoint answered with something that is not an introspection
    /// response.
    #[error("{url} sent an answer that is not an introspection response")]
    IntrospectionResponse {
        /// The introspection endpoint.
        url: String,
        /// What was wrong with the answer.
        #[source]
        cause: IntrospectionResponseError,
    },
    /// More introspection calls are under way than
    /// [`max_concurrent_calls`](crate::introspection::IntrospectionValidatorBuilder::max_concurrent_calls)
    /// and none ended within `max_call_wait`.
    #[error("{url}: too many introspection calls under way")]
    TooManyCalls {
        /// The introspection endpoint.
        url: String,
    },
    /// The introspection call for this token is under way and takes longer than
    /// [`max_wait`](crate::introspection::IntrospectionValidatorBuilder::max_wait).
    #[error("{url}: the introspection call under way takes longer than max_wait")]
    SlowCall {
        /// The introspection endpoint.
        url: String,
    },
    /// The introspection call ended without an answer (its runtime shut down).
    #[error("the introspection call was cancelled")]
    CallLost,
    /// The shared DPoP replay store ([`DpopConfig::shared_store`](crate::dpop::DpopConfig::shared_store))
    /// could not answer: the proof is refused (fail closed).
    #[error("the shared DPoP replay store cannot answer: proof refused")]
    ReplayStore(#[source] StoreError),
    /// The in-process DPoP replay cache is full of proofs still within their `iat` window:
    /// the proof is refused rather than an older one forgotten.
    #[error(
        "the DPoP replay cache is full ({capacity} proofs within the iat window): proof \
         refused; raise DpopConfig::cache_capacity"
    )]
    ReplayCacheFull {
        /// The cache's capacity.
        capacity: usize,
    },
    /// Another outage, described by a validator of your own (a fixed text: never a token or
    /// a secret).
    #[error("{0}")]
    Other(String),
}
