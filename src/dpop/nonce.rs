//! Server-provided nonces (RFC 9449 §9): `base64url(issue time || truncated HMAC)`, so that
//! every instance sharing the secret accepts the nonces of the others, without shared state.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::Secret;
use crate::error::dpop::{Nonce, NONCE_LEN};

/// Bytes of a nonce before encoding: the issue time (8) and the truncated MAC (16).
const NONCE_RAW: usize = 8 + NONCE_TAG;
/// Bytes of the MAC kept in a nonce.
const NONCE_TAG: usize = 16;

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
