//! The compact serialization of a JWS (RFC 7515 §7.1): `header.payload.signature`, each
//! segment base64url without padding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};

use super::json::{decode_object, is_object_segment};
use crate::error::TokenError;

/// A compact JWS cut into its segments; nothing decoded or checked beyond the shape.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Compact<'a> {
    /// The protected header (base64url).
    pub(crate) header: &'a str,
    /// The payload (base64url).
    pub(crate) payload: &'a str,
    /// The signature (base64url).
    pub(crate) signature: &'a str,
    /// `header.payload`: what the signature covers.
    pub(crate) signing_input: &'a str,
}

/// How many segments a token has, as far as JOSE is concerned.
enum Shape<'a> {
    /// Three segments (a JWS), possibly empty.
    Jws([&'a str; 3]),
    /// Five segments (a JWE).
    Jwe,
    /// Anything else.
    Other,
}

fn shape(token: &str) -> Shape<'_> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Shape::Other;
    };
    match parts.count() {
        0 => Shape::Jws([header, payload, signature]),
        2 => Shape::Jwe,
        _ => Shape::Other,
    }
}

impl<'a> Compact<'a> {
    /// Splits `token` into three non-empty segments, refusing first a token over `max_bytes`
    /// ([`TokenError::TooLarge`]), then a JWE (five segments, [`TokenError::Encrypted`]), then
    /// any other shape ([`TokenError::Malformed`]).
    pub(crate) fn split(token: &'a str, max_bytes: usize) -> Result<Self, TokenError> {
        if token.len() > max_bytes {
            return Err(TokenError::TooLarge);
        }
        let [header, payload, signature] = match shape(token) {
            Shape::Jws(segments) if segments.iter().all(|s| !s.is_empty()) => segments,
            Shape::Jwe => return Err(TokenError::Encrypted),
            Shape::Jws(_) | Shape::Other => return Err(TokenError::Malformed),
        };
        let signing_input = token
            .get(..header.len() + 1 + payload.len())
            .ok_or(TokenError::Malformed)?;
        Ok(Compact {
            header,
            payload,
            signature,
            signing_input,
        })
    }

    /// The signature decoded into `buf` (no allocation): [`TokenError::InvalidSignature`] if
    /// it is longer than any signature of an accepted key can be ([`MAX_SIGNATURE_BYTES`]).
    pub(crate) fn signature_into<'b>(
        &self,
        buf: &'b mut [u8; MAX_SIGNATURE_BYTES],
    ) -> Result<&'b [u8], TokenError> {
        if self.signature.len() > MAX_SIGNATURE_BYTES / 3 * 4 + 4 {
            return Err(TokenError::InvalidSignature);
        }
        match URL_SAFE_NO_PAD.decode_slice(self.signature, buf) {
            Ok(n) => buf.get(..n).ok_or(TokenError::Malformed),
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => Err(TokenError::InvalidSignature),
            Err(base64::DecodeSliceError::DecodeError(_)) => Err(TokenError::Malformed),
        }
    }

    /// The payload as a JSON object without duplicate members. Unauthenticated until the
    /// signature has been verified.
    pub(crate) fn payload_object(&self) -> Result<Map<String, Value>, TokenError> {
        decode_object(self.payload)
    }
}

/// The longest signature any accepted key makes: RSA-8192 (1,024 bytes).
pub(crate) const MAX_SIGNATURE_BYTES: usize = 1024;

/// Whether `token` has the shape of a JWS for routing: exactly three dot-separated segments,
/// the first base64url that decodes to a JSON object. Nothing else is checked (the validator
/// that gets the token checks everything, duplicate members included).
pub(crate) fn looks_like_jws(token: &str) -> bool {
    matches!(shape(token), Shape::Jws([header, _, _]) if is_object_segment(header))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_signature_decodes_without_allocation_and_a_longer_one_is_refused() {
        for (len, ok) in [
            (1, true),
            (256, true),
            (512, true),
            (1024, true),
            (1025, false),
            (4096, false),
        ] {
            let sig = URL_SAFE_NO_PAD.encode(vec![0xa5; len]);
            let token = format!("e30.e30.{sig}");
            let jws = Compact::split(&token, 1 << 20).unwrap();
            let mut buf = [0u8; MAX_SIGNATURE_BYTES];
            match jws.signature_into(&mut buf) {
                Ok(bytes) => assert!(ok && bytes == vec![0xa5; len].as_slice(), "{len}"),
                Err(e) => assert!(!ok && e == TokenError::InvalidSignature, "{len}: {e:?}"),
            }
        }
        // Longer than any accepted signature can be written (1,024 bytes: 1,368 characters at
        // most): refused as a signature before it is decoded, whatever it holds.
        let mut buf = [0u8; MAX_SIGNATURE_BYTES];
        let at_most = format!("e30.e30.{}", "*".repeat(MAX_SIGNATURE_BYTES / 3 * 4 + 4));
        let jws = Compact::split(&at_most, 1 << 20).unwrap();
        assert_eq!(jws.signature_into(&mut buf), Err(TokenError::Malformed));
        let over = format!("e30.e30.{}", "*".repeat(MAX_SIGNATURE_BYTES / 3 * 4 + 5));
        let jws = Compact::split(&over, 1 << 20).unwrap();
        assert_eq!(
            jws.signature_into(&mut buf),
            Err(TokenError::InvalidSignature)
        );
        let jws = Compact::split("e30.e30.a*b", 100).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            jws.signature_into(&mut [0u8; MAX_SIGNATURE_BYTES]),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn shapes_are_refused_in_order() {
        let ok = Compact::split("aGVhZA.cGF5.c2ln", 100).unwrap();
        assert_eq!(ok.signing_input, "aGVhZA.cGF5");
        // 16 bytes: the limit itself passes, one byte under it does not.
        assert!(Compact::split("aGVhZA.cGF5.c2ln", 16).is_ok());
        assert_eq!(
            Compact::split("aGVhZA.cGF5.c2ln", 15).unwrap_err(),
            TokenError::TooLarge
        );
        assert_eq!(
            Compact::split("a..b..", 100).unwrap_err(),
            TokenError::Encrypted
        );
        for bad in [
            "",
            "a",
            "a.b",
            "a.b.",
            ".b.c",
            "a..c",
            "a.b.c.d",
            "a.b.c.d.e.f",
        ] {
            assert_eq!(
                Compact::split(bad, 100).unwrap_err(),
                TokenError::Malformed,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn routing_shape() {
        assert!(looks_like_jws("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
        assert!(looks_like_jws("e30.."));
        assert!(!looks_like_jws("e30.e30"));
        assert!(!looks_like_jws("e30.a.b.c.d"));
        assert!(!looks_like_jws("a.b.c"));
    }
}
