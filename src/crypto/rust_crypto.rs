//! Keys prepared for the RustCrypto crates: the RSA public key (`rsa`), the curve point
//! (`p256`, `p384`), the Edwards point (`ed25519-dalek`) and the HMAC key schedule are each
//! built once, where jsonwebtoken's RustCrypto path rebuilds them on every verification.

use ed25519_dalek::Verifier as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::Algorithm;
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::{Material, SignatureError};

/// One key, parsed for the RustCrypto crates.
pub(super) enum Prepared {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// Boxed: the three key schedules are far larger than the other variants.
    Hmac(Box<HmacKeys>),
}

/// An HMAC secret keyed once per hash.
pub(super) struct HmacKeys {
    hs256: Hmac<Sha256>,
    hs384: Hmac<Sha384>,
    hs512: Hmac<Sha512>,
}

impl Prepared {
    /// Parses `material`; `None` if the crates refuse the key (an EC point not on its curve,
    /// an RSA modulus over 4096 bits, which the `rsa` crate does not take).
    pub(super) fn new(material: &Material<'_>) -> Option<Self> {
        Some(match *material {
            Material::Rsa { n, e } => Prepared::Rsa(
                RsaPublicKey::new(BigUint::from_bytes_be(n), BigUint::from_bytes_be(e)).ok()?,
            ),
            Material::EcPoint {
                alg: Algorithm::ES256,
                point,
            } => Prepared::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(point).ok()?),
            Material::EcPoint {
                alg: Algorithm::ES384,
                point,
            } => Prepared::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(point).ok()?),
            Material::EcPoint { .. } => return None,
            Material::Ed25519 { x } => {
                Prepared::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(x.try_into().ok()?).ok()?)
            }
            Material::Hmac { secret } => Prepared::Hmac(Box::new(HmacKeys {
                hs256: Hmac::new_from_slice(secret).ok()?,
                hs384: Hmac::new_from_slice(secret).ok()?,
                hs512: Hmac::new_from_slice(secret).ok()?,
            })),
        })
    }

    /// Verifies `signature` over `message` for `alg`.
    pub(super) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use Algorithm::*;
        let verified = match (self, alg) {
            (Prepared::Rsa(key), RS256) => key.verify(
                Pkcs1v15Sign::new::<Sha256>(),
                &Sha256::digest(message),
                signature,
            ),
            (Prepared::Rsa(key), RS384) => key.verify(
                Pkcs1v15Sign::new::<Sha384>(),
                &Sha384::digest(message),
                signature,
            ),
            (Prepared::Rsa(key), RS512) => key.verify(
                Pkcs1v15Sign::new::<Sha512>(),
                &Sha512::digest(message),
                signature,
            ),
            (Prepared::Rsa(key), PS256) => {
                key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature)
            }
            (Prepared::Rsa(key), PS384) => {
                key.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature)
            }
            (Prepared::Rsa(key), PS512) => {
                key.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature)
            }
            (Prepared::Rsa(_), _) => return Err(SignatureError::KeyUnusable),
            (Prepared::P256(key), ES256) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Invalid)?;
                return key
                    .verify(message, &sig)
                    .map_err(|_| SignatureError::Invalid);
            }
            (Prepared::P384(key), ES384) => {
                let sig = p384::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Invalid)?;
                return key
                    .verify(message, &sig)
                    .map_err(|_| SignatureError::Invalid);
            }
            (Prepared::Ed25519(key), EdDSA) => {
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Invalid)?;
                return key
                    .verify(message, &sig)
                    .map_err(|_| SignatureError::Invalid);
            }
            (Prepared::Hmac(keys), HS256) => return mac(keys.hs256.clone(), message, signature),
            (Prepared::Hmac(keys), HS384) => return mac(keys.hs384.clone(), message, signature),
            (Prepared::Hmac(keys), HS512) => return mac(keys.hs512.clone(), message, signature),
            _ => return Err(SignatureError::KeyUnusable),
        };
        verified.map_err(|_| SignatureError::Invalid)
    }
}

/// Checks an HMAC tag in constant time.
fn mac<M: Mac>(mut mac: M, message: &[u8], tag: &[u8]) -> Result<(), SignatureError> {
    mac.update(message);
    mac.verify_slice(tag).map_err(|_| SignatureError::Invalid)
}
