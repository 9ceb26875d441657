//! Values read back from Redis are authenticated: each carries an HMAC-SHA256, under the
//! store secret, over the key it is stored under and the value itself.
//!
//! Anyone who can write to the Redis server could otherwise store claims under the hash of any
//! string and log in with that string, or move a value from one key to another. A value whose
//! tag does not verify is treated as absent (a miss), never used.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The length of the tag in front of every value.
const TAG_BYTES: usize = 32;

/// The shortest store secret accepted: the hash's output size (RFC 2104 §3).
const MIN_SECRET_BYTES: usize = 32;

/// The keyed MAC of one store.
#[derive(Clone)]
pub(crate) struct Sealer {
    mac: Hmac<Sha256>,
}

impl Sealer {
    /// A sealer with `secret`; `None` if it is shorter than [`MIN_SECRET_BYTES`].
    pub(crate) fn new(secret: &[u8]) -> Option<Self> {
        if secret.len() < MIN_SECRET_BYTES {
            return None;
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).ok()?;
        Some(Sealer { mac })
    }

    /// The MAC state over `key` (length-prefixed, so that no key/value split is ambiguous)
    /// and `value`.
    fn tagger(&self, key: &str, value: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(&(key.len() as u64).to_be_bytes());
        mac.update(key.as_bytes());
        mac.update(value);
        mac
    }

    /// `value` with its tag in front, to be stored under `key`.
    pub(crate) fn seal(&self, key: &str, value: &[u8]) -> Vec<u8> {
        let tag = self.tagger(key, value).finalize().into_bytes();
        let mut sealed = Vec::with_capacity(TAG_BYTES + value.len());
        sealed.extend_from_slice(&tag);
        sealed.extend_from_slice(value);
        sealed
    }

    /// The value of `sealed`, read under `key`, if its tag verifies (compared in constant
    /// time); `None` otherwise.
    pub(crate) fn open(&self, key: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        let tag = sealed.get(..TAG_BYTES)?;
        let value = sealed.get(TAG_BYTES..)?;
        self.tagger(key, value).verify_slice(tag).ok()?;
        Some(value.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sealer(byte: u8) -> Sealer {
        Sealer::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_under_its_key_only() {
        let s = sealer(1);
        let sealed = s.seal("p:introspection:aa", b"{\"claims\":{}}");
        assert_eq!(
            s.open("p:introspection:aa", &sealed).as_deref(),
            Some(&b"{\"claims\":{}}"[..])
        );
        assert_eq!(
            s.open("p:introspection:ab", &sealed),
            None,
            "moved to another key"
        );
        assert_eq!(
            sealer(2).open("p:introspection:aa", &sealed),
            None,
            "other secret"
        );
    }

    #[test]
    fn tampered_truncated_or_unsealed_values_do_not_open() {
        let s = sealer(1);
        let sealed = s.seal("k", b"value");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert_eq!(s.open("k", &bad), None, "byte {i} flipped");
        }
        assert_eq!(s.open("k", &sealed[..sealed.len() - 1]), None);
        assert_eq!(s.open("k", &sealed[..10]), None);
        assert_eq!(s.open("k", b"value"), None);
        assert_eq!(s.open("k", b""), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Sealer::new(&[0; 31]).is_none());
        assert!(Sealer::new(&[0; 32]).is_some());
    }
}
