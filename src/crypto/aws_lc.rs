//! Keys prepared for aws-lc-rs: each parsed once into an `EVP_PKEY` (aws-lc-rs
//! [`ParsedPublicKey`]), so a verification reuses the parsed key and, for RSA, its cached
//! Montgomery context, instead of rebuilding the key from `n`/`e` on every call as
//! jsonwebtoken's own aws-lc path does.

use aws_lc_rs::hmac;
use aws_lc_rs::signature::{self as sig, ParsedPublicKey, RsaParameters, RsaPublicKeyComponents};
use jsonwebtoken::Algorithm;

use super::{Material, SignatureError};

/// One key, parsed for each algorithm it may verify.
pub(super) enum Prepared {
    /// RSA: one parsed key per RSA algorithm the key may verify.
    Rsa(Vec<(Algorithm, ParsedPublicKey)>),
    /// ECDSA (fixed-length `r || s`, RFC 7518 §3.4) or EdDSA: the key's one algorithm.
    Single(Algorithm, ParsedPublicKey),
    /// HMAC: the secret keyed once per hash.
    Hmac(Box<[(Algorithm, hmac::Key)]>),
}

const RSA_ALGORITHMS: [(Algorithm, &RsaParameters); 6] = [
    (Algorithm::RS256, &sig::RSA_PKCS1_2048_8192_SHA256),
    (Algorithm::RS384, &sig::RSA_PKCS1_2048_8192_SHA384),
    (Algorithm::RS512, &sig::RSA_PKCS1_2048_8192_SHA512),
    (Algorithm::PS256, &sig::RSA_PSS_2048_8192_SHA256),
    (Algorithm::PS384, &sig::RSA_PSS_2048_8192_SHA384),
    (Algorithm::PS512, &sig::RSA_PSS_2048_8192_SHA512),
];

impl Prepared {
    /// Parses `material` for the algorithms `wanted` accepts; `None` if aws-lc refuses the key
    /// (for EC keys: the point is not on the curve).
    pub(super) fn new(material: &Material<'_>, wanted: &dyn Fn(Algorithm) -> bool) -> Option<Self> {
        Some(match *material {
            Material::Rsa { n, e } => {
                let components = RsaPublicKeyComponents { n, e };
                let keys: Vec<_> = RSA_ALGORITHMS
                    .iter()
                    .filter(|(alg, _)| wanted(*alg))
                    .map(|(alg, params)| {
                        Some((*alg, components.to_parsed_public_key(params).ok()?))
                    })
                    .collect::<Option<_>>()?;
                Prepared::Rsa(keys)
            }
            Material::EcPoint { alg, point } => {
                let curve: &'static dyn sig::VerificationAlgorithm = match alg {
                    Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
                    Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
                    _ => return None,
                };
                Prepared::Single(alg, ParsedPublicKey::new(curve, point).ok()?)
            }
            Material::Ed25519 { x } => Prepared::Single(
                Algorithm::EdDSA,
                ParsedPublicKey::new(&sig::ED25519, x).ok()?,
            ),
            Material::Hmac { secret } => Prepared::Hmac(
                [
                    (Algorithm::HS256, hmac::HMAC_SHA256),
                    (Algorithm::HS384, hmac::HMAC_SHA384),
                    (Algorithm::HS512, hmac::HMAC_SHA512),
                ]
                .into_iter()
                .map(|(alg, hash)| (alg, hmac::Key::new(hash, secret)))
                .collect(),
            ),
        })
    }

    /// Verifies `signature` over `message` for `alg`.
    pub(super) fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let verified = match self {
            Prepared::Rsa(keys) => keys
                .iter()
                .find(|(a, _)| *a == alg)
                .ok_or(SignatureError::KeyUnusable)?
                .1
                .verify_sig(message, signature),
            Prepared::Single(own, key) if *own == alg => key.verify_sig(message, signature),
            Prepared::Single(..) => return Err(SignatureError::KeyUnusable),
            Prepared::Hmac(keys) => hmac::verify(
                &keys
                    .iter()
                    .find(|(a, _)| *a == alg)
                    .ok_or(SignatureError::KeyUnusable)?
                    .1,
                message,
                signature,
            ),
        };
        verified.map_err(|_| SignatureError::Invalid)
    }
}
