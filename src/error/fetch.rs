//! Errors of fetching from the authorization server: [`FetchError`] (one document),
//! [`DiscoveryError`] (the issuer's metadata), [`JwksError`] (its key set),
//! [`IntrospectionResponseError`] (an introspection answer not understood).

/// Why a document could not be fetched. Texts carry URLs and statuses, never tokens or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed (connection refused, DNS, TLS, timeout...).
    #[error("request to {url} failed: {reason}")]
    Request {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with a redirect (3xx), which is never followed, or a client of
    /// your own followed one (the answer came from another URL than the one requested).
    #[error("{url} redirected to {location:?}; redirects are not followed")]
    Redirect {
        /// The URL requested.
        url: String,
        /// Where the answer sent us (the `Location` header or the URL the answer came from;
        /// empty when there was none), shortened to 200 characters.
        location: String,
    },
    /// The server answered with a status other than 200.
    #[error("{url} answered with status {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The body was larger than allowed.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not the JSON expected.
    #[error("{url} sent an invalid document: {reason}")]
    Invalid {
        /// The URL requested.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why discovery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The issuer is not an `https` URL (or `http` on a loopback host).
    #[error("the issuer {0:?} is not a valid https URL")]
    BadIssuer(String),
    /// Neither well-known document could be fetched.
    #[error("no metadata found for the issuer: {0}")]
    Fetch(#[from] FetchError),
    /// The document names a different issuer (RFC 8414 §3.3).
    #[error("the metadata names issuer {found:?}, expected {expected:?}")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The issuer in the document.
        found: String,
    },
    /// The document lacks an endpoint that is needed.
    #[error("the metadata has no {0}")]
    Missing(&'static str),
}

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
    /// [`JwksCache::refresh`](crate::jwks::JwksCache::refresh) ended with neither keys nor an error.
    #[error("the key set could not be refreshed: {0}")]
    Refresh(String),
}

/// Why an introspection response was not understood. Texts are fixed: they never quote the
/// response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntrospectionResponseError {
    /// The body is not a JSON object.
    #[error("the introspection response is not a JSON object")]
    Malformed,
    /// The object has the same member twice.
    #[error("the introspection response has duplicate members")]
    DuplicateMember,
    /// `active` is missing or not a JSON boolean.
    #[error("the introspection response has no boolean \"active\"")]
    BadActive,
}
