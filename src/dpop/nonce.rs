//! Server-provided nonces (RFC 9449 §9): `base64url(issue time || truncated HMAC)`, so that
//! every instance sharing the secret accepts the nonces of the others, without shared state.

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use http::HeaderValue;
use sha2::Sha256;

use super::config::Secret;

/// Bytes of a nonce before encoding: the issue time (8) and the truncated MAC (16).
const NONCE_RAW: usize = 8 + NONCE_TAG;
/// Bytes of the MAC kept in a nonce.
const NONCE_TAG: usize = 16;
/// Characters of an encoded nonce (base64url of `NONCE_RAW` bytes, no padding).
pub(super) const NONCE_LEN: usize = 32;

/// A server-provided DPoP nonce (RFC 9449 §9), as sent in the `DPoP-Nonce` header: 32
/// base64url characters.
///
/// It is carried by [`DpopError::UseNonce`]; [`AuthError::to_response`] and the gRPC mapping
/// send it, and a custom [`ErrorHandler`](crate::ErrorHandler) that builds its own response
/// must send it too.
///
/// ```
/// use bearer_guard::{AuthError, DpopError};
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
/// [`DpopError::UseNonce`]: crate::DpopError::UseNonce
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Nonce([u8; NONCE_LEN]);

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

/// Makes and checks nonces: `base64url(issue time (u64 seconds, big-endian) ||
/// HMAC-SHA256(secret, issue time)[..16])`.
pub(super) struct Nonces {
    /// `None` when no random secret could be made: every nonce is then refused.
    mac: Option<Hmac<Sha256>>,
    /// Seconds a nonce is accepted after it was issued.
    pub(super) lifetime: u64,
}

impl Nonces {
    pub(super) fn new(lifetime: Duration, secret: Option<&Secret>) -> Self {
        let mac = match secret {
            // At least 32 bytes: `DpopConfig::check` refused shorter ones.
            Some(secret) => Hmac::<Sha256>::new_from_slice(&secret.0).ok(),
            None => {
                let mut random = [0u8; 32];
                match getrandom::fill(&mut random) {
                    Ok(()) => Hmac::<Sha256>::new_from_slice(&random).ok(),
                    Err(e) => {
                        tracing::error!(
                            error = %e,
                            "no random DPoP nonce secret: every DPoP nonce will be refused"
                        );
                        None
                    }
                }
            }
        };
        Nonces {
            mac,
            lifetime: lifetime.as_secs().max(1),
        }
    }

    /// A nonce issued at `time` (seconds since the Unix epoch).
    pub(super) fn mint(&self, time: u64) -> Nonce {
        let mut raw = [0u8; NONCE_RAW];
        if let Some((issued, tag)) = raw.split_first_chunk_mut::<8>() {
            *issued = time.to_be_bytes();
            if let Some(mac) = &self.mac {
                let full = mac.clone().chain_update(*issued).finalize().into_bytes();
                // `tag` is NONCE_TAG bytes long: the MAC is truncated to its first ones.
                for (to, from) in tag.iter_mut().zip(full) {
                    *to = from;
                }
            }
        }
        // NONCE_RAW bytes encode to exactly NONCE_LEN characters, so this always fills it.
        let mut nonce = [b'A'; NONCE_LEN];
        let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut nonce);
        Nonce(nonce)
    }

    /// The age in seconds of `nonce` at `now`, if this server issued it (its MAC verifies),
    /// not after `now` and at most `lifetime` ago. `nonce` is untrusted input.
    pub(super) fn age(&self, nonce: &str, now: u64) -> Option<u64> {
        let mac = self.mac.as_ref()?;
        if nonce.len() != NONCE_LEN {
            return None;
        }
        let raw = URL_SAFE_NO_PAD.decode(nonce).ok()?;
        let raw: [u8; NONCE_RAW] = raw.as_slice().try_into().ok()?;
        let (time, tag) = raw.split_first_chunk::<8>()?;
        mac.clone()
            .chain_update(time)
            .verify_truncated_left(tag)
            .ok()?;
        let age = now.checked_sub(u64::from_be_bytes(*time))?;
        (age <= self.lifetime).then_some(age)
    }
}
