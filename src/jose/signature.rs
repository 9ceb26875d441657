//! Signature verification (RFC 7515 §5.2 step 8) through the chosen [`Backend`].

use jsonwebtoken::{Algorithm, DecodingKey};

use crate::crypto::Backend;

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureError {
    /// The signature does not verify.
    Invalid,
    /// The key cannot be used with the algorithm.
    KeyUnusable,
}

/// Verifies `signature` over `message` with `key` and `alg`, using `backend`.
pub(crate) fn verify(
    backend: Backend,
    alg: Algorithm,
    key: &DecodingKey,
    message: &[u8],
    signature: &Vec<u8>,
) -> Result<(), SignatureError> {
    // ECDSA (raw r||s, RFC 7518 §3.4) and EdDSA signatures have one exact length; refuse
    // others (e.g. DER-encoded ECDSA) before the backend sees them.
    let expected_len = match alg {
        Algorithm::ES256 | Algorithm::EdDSA => Some(64),
        Algorithm::ES384 => Some(96),
        _ => None,
    };
    if expected_len.is_some_and(|n| n != signature.len()) {
        return Err(SignatureError::Invalid);
    }
    let verifier = (backend.provider().verifier_factory)(&alg, key)
        .map_err(|_| SignatureError::KeyUnusable)?;
    match verifier.verify(message, signature) {
        Ok(()) => Ok(()),
        Err(_) => Err(SignatureError::Invalid),
    }
}
