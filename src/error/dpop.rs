//! [`DpopError`]: why a DPoP-bound request was refused, one fixed text per reason.

use std::fmt;

use http::HeaderValue;

super::fixed_texts! {
/// Why a DPoP-bound request (RFC 9449) was refused. Each variant maps to 401; the code is
/// `invalid_dpop_proof` for a bad or missing proof, `invalid_token` when the token's key
/// binding fails and `use_dpop_nonce` when a server nonce is required ([`DpopError::code`]).
///
/// ```
/// use bearer_guard::error::DpopError;
/// assert_eq!(DpopError::Replayed.code(), Some("invalid_dpop_proof"));
/// assert_eq!(DpopError::KeyMismatch.code(), Some("invalid_token"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DpopError {
    /// The request has no `DPoP` header although the token needs a proof.
    Missing => (UNAUTHORIZED, Some("invalid_dpop_proof")) "a DPoP proof is required",
    /// The request has more than one `DPoP` header.
    Multiple => (UNAUTHORIZED, Some("invalid_dpop_proof")) "more than one DPoP proof",
    /// The proof is not a well-formed compact JWS with JSON header and claims (or it is too
    /// large, has duplicate members, or a `crit` header).
    Malformed => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof is malformed",
    /// The `typ` header is not `dpop+jwt`.
    WrongType => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof type is not dpop+jwt",
    /// The `alg` header is not on the allow-list of asymmetric algorithms (this includes `none`
    /// and HMAC).
    AlgorithmNotAllowed => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof algorithm is not allowed",
    /// The `jwk` header is missing, not a usable public key, or does not fit `alg`.
    InvalidKey => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof key is not usable",
    /// The `jwk` header contains private key material.
    PrivateKey => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof key contains private key material",
    /// The signature does not verify with the `jwk` of the header.
    InvalidSignature => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof signature is invalid",
    /// A required claim (`jti`, `htm`, `htu`, `iat`, `ath`) is absent or of the wrong type.
    MissingClaim => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof lacks a required claim",
    /// `htm` is not the method of the request.
    WrongMethod => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof is for another HTTP method",
    /// `htu` is not the URI of the request.
    WrongUri => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof is for another URI",
    /// The request path has a dot segment (`.` or `..`, also written with `%2e`) or a
    /// backslash (also `%5c`): URL normalisation, which `htu` is compared after, would read it
    /// as another path than the server routes, so no proof is accepted for it.
    AmbiguousPath => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the request path has dot segments or a backslash",
    /// `iat` is outside the accepted window.
    OutsideWindow => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof is too old or too far in the future",
    /// A proof with this `jti` was seen before.
    Replayed => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof was already used",
    /// `ath` is not the hash of the presented access token.
    WrongTokenHash => (UNAUTHORIZED, Some("invalid_dpop_proof")) "the DPoP proof is for another access token",
    /// The proof's key is not the key the token is bound to (`cnf.jkt`).
    KeyMismatch => (UNAUTHORIZED, Some("invalid_token")) "the DPoP proof key does not match the token binding",
    /// A DPoP-bound token (with `cnf.jkt`) was presented with the `Bearer` scheme, or DPoP is
    /// not accepted by this server (RFC 9449 §7.2).
    BoundToken => (UNAUTHORIZED, Some("invalid_token")) "the token is bound to a DPoP key",
    /// A token presented with the `DPoP` scheme is not bound to a key (no string `cnf.jkt`).
    NotBound => (UNAUTHORIZED, Some("invalid_token")) "the token is not bound to a DPoP key",
    /// The layer [requires](crate::AuthLayer::require_sender_constraint) DPoP-bound tokens
    /// ([`SenderConstraint::Dpop`](crate::auth::SenderConstraint::Dpop)) and the token is not
    /// bound to a key (no `cnf.jkt`).
    Required => (UNAUTHORIZED, Some("invalid_token")) "a DPoP-bound token is required",
    /// Nonces are [required](crate::dpop::DpopConfig::nonces) and the proof's `nonce` is missing,
    /// not one this server issued, or expired (RFC 9449 §9). Carries the fresh nonce to send in
    /// the `DPoP-Nonce` header, which [`AuthError::to_response`](crate::AuthError::to_response) does; the client retries with
    /// a new proof that carries it.
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::DpopError};
    /// fn fresh_nonce(error: &AuthError) -> Option<&str> {
    ///     match error {
    ///         AuthError::Dpop(DpopError::UseNonce(nonce)) => Some(nonce.as_str()),
    ///         _ => None,
    ///     }
    /// }
    /// # assert_eq!(fresh_nonce(&DpopError::Missing.into()), None);
    /// ```
    UseNonce(Nonce) => (UNAUTHORIZED, Some("use_dpop_nonce")) "the DPoP proof lacks a valid server nonce",
}
}

/// The `DPoP-Nonce` response header that carries a server-provided nonce (RFC 9449 §8, §9).
///
/// ```
/// assert_eq!(bearer_guard::dpop::NONCE_HEADER, "dpop-nonce");
/// ```
pub const NONCE_HEADER: &str = "dpop-nonce";

/// Characters of an encoded nonce (base64url of 24 bytes, no padding).
pub(crate) const NONCE_LEN: usize = 32;

/// A server-provided DPoP nonce (RFC 9449 §9), as sent in the `DPoP-Nonce` header: 32
/// base64url characters.
///
/// It is carried by [`DpopError::UseNonce`]; [`AuthError::to_response`] and the gRPC mapping
/// send it, and a custom [`ErrorHandler`](crate::error::ErrorHandler) that builds its own response
/// must send it too.
///
/// ```
/// use bearer_guard::{AuthError, error::DpopError};
/// use bearer_guard::dpop::NONCE_HEADER;
///
/// fn nonce_header(error: &AuthError) -> Option<(&'static str, &str)> {
///     match error {
///         AuthError::Dpop(DpopError::UseNonce(nonce)) => Some((NONCE_HEADER, nonce.as_str())),
///         _ => None,
///     }
/// }
/// # assert!(nonce_header(&DpopError::Replayed.into()).is_none());
/// ```
///
/// [`AuthError::to_response`]: crate::AuthError::to_response
/// [`DpopError::UseNonce`]: crate::error::DpopError::UseNonce
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce(pub(crate) [u8; NONCE_LEN]);

impl Nonce {
    /// The nonce as text (base64url).
    ///
    /// ```
    /// # fn demo(nonce: bearer_guard::dpop::Nonce) {
    /// let header = ("DPoP-Nonce", nonce.as_str());
    /// # let _ = header; }
    /// ```
    pub fn as_str(&self) -> &str {
        // Always base64url characters (see `Nonces::mint`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The nonce as a header value.
    pub(crate) fn header_value(&self) -> Option<HeaderValue> {
        HeaderValue::from_bytes(&self.0).ok()
    }
}

#[cfg(test)]
impl Nonce {
    /// A nonce with the given text (unit tests of the error mapping).
    pub(crate) fn test(text: &[u8]) -> Nonce {
        let mut nonce = [b'A'; NONCE_LEN];
        for (to, from) in nonce.iter_mut().zip(text) {
            *to = *from;
        }
        Nonce(nonce)
    }
}

impl fmt::Debug for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Nonce").field(&self.as_str()).finish()
    }
}

impl fmt::Display for Nonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
