//! Signature verification (RFC 7515 §5.2 step 8) with a key parsed once, through the chosen
//! [`Backend`].

use jsonwebtoken::Algorithm;

pub(crate) use crate::crypto::SignatureError;
use crate::crypto::{Backend, PreparedKey};

/// Verifies `signature` over `message` with `key` and `alg`, using `backend`.
pub(crate) fn verify(
    backend: Backend,
    alg: Algorithm,
    key: &PreparedKey,
    message: &[u8],
    signature: &[u8],
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
    key.verify(backend, alg, message, signature)
}
