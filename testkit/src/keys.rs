//! Signing keys: generation with aws-lc-rs, JWK publication, signing and
//! verification through an explicitly chosen jsonwebtoken crypto provider.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{json, Value};

/// The crypto provider used for all signing and verification in the test
/// server: aws-lc-rs, which generates the keys anyway, whatever backend
/// bearer-guard verifies with. Named explicitly so that enabling both
/// jsonwebtoken backends never hits jsonwebtoken's "no default provider" panic.
pub(crate) fn provider() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
}

/// Signature algorithm (and key type) of a test server signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlg {
    /// RSASSA-PKCS1-v1_5 with SHA-256, 2048-bit RSA key.
    Rs256,
    /// RSASSA-PSS with SHA-256, 2048-bit RSA key.
    Ps256,
    /// ECDSA with P-256 and SHA-256.
    Es256,
    /// EdDSA with Ed25519.
    EdDsa,
}

impl KeyAlg {
    /// The JOSE `alg` name (`"RS256"`, `"PS256"`, `"ES256"`, `"EdDSA"`).
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "RS256",
            KeyAlg::Ps256 => "PS256",
            KeyAlg::Es256 => "ES256",
            KeyAlg::EdDsa => "EdDSA",
        }
    }

    pub(crate) fn jwt_alg(self) -> Algorithm {
        match self {
            KeyAlg::Rs256 => Algorithm::RS256,
            KeyAlg::Ps256 => Algorithm::PS256,
            KeyAlg::Es256 => Algorithm::ES256,
            KeyAlg::EdDsa => Algorithm::EdDSA,
        }
    }

    fn kid_prefix(self) -> &'static str {
        match self {
            KeyAlg::Rs256 => "rs256",
            KeyAlg::Ps256 => "ps256",
            KeyAlg::Es256 => "es256",
            KeyAlg::EdDsa => "eddsa",
        }
    }
}

impl std::str::FromStr for KeyAlg {
    type Err = String;

    /// Parses a JOSE name: `RS256`, `PS256`, `ES256` or `EdDSA` (also `Ed25519`, RFC 9864).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RS256" => Ok(KeyAlg::Rs256),
            "PS256" => Ok(KeyAlg::Ps256),
            "ES256" => Ok(KeyAlg::Es256),
            "EdDSA" | "Ed25519" => Ok(KeyAlg::EdDsa),
            _ => Err("unsupported algorithm (RS256, PS256, ES256, EdDSA)".to_owned()),
        }
    }
}

impl fmt::Display for KeyAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error while generating or using a key.
#[derive(Debug)]
pub(crate) struct KeyError(pub(crate) String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// One signing key with its public JWK.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) alg: KeyAlg,
    encoding: EncodingKey,
    decoding: DecodingKey,
    pub(crate) jwk: Value,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print private key material.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn err<E: fmt::Debug>(what: &str) -> impl FnOnce(E) -> KeyError + '_ {
    move |e| KeyError(format!("{what}: {e:?}"))
}

impl SigningKey {
    /// Generates a fresh key pair with a random `kid`.
    pub(crate) fn generate(alg: KeyAlg) -> Result<Self, KeyError> {
        let suffix: [u8; 6] = rand::random();
        let kid = format!("{}-{}", alg.kid_prefix(), hex(&suffix));
        Self::generate_with_kid(alg, kid)
    }

    pub(crate) fn generate_with_kid(alg: KeyAlg, kid: String) -> Result<Self, KeyError> {
        let (encoding, decoding, mut jwk) = match alg {
            KeyAlg::Rs256 | KeyAlg::Ps256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(err("RSA keygen"))?;
                let pkcs8 = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der<'static>>::as_der(&pair)
                    .map_err(err("RSA PKCS#8 export"))?;
                // jsonwebtoken wants the PKCS#1 `RSAPrivateKey`, which is the
                // content of the PKCS#8 `privateKey` OCTET STRING.
                let pkcs1 = pkcs8_inner_key(pkcs8.as_ref())
                    .ok_or_else(|| KeyError("RSA PKCS#8 parse".into()))?;
                let comps = PublicKeyComponents::<Vec<u8>>::from(pair.public_key());
                let n = strip_leading_zeros(&comps.n);
                let e = strip_leading_zeros(&comps.e);
                (
                    EncodingKey::from_rsa_der(pkcs1),
                    DecodingKey::from_rsa_raw_components(n, e),
                    json!({ "kty": "RSA", "n": b64(n), "e": b64(e) }),
                )
            }
            KeyAlg::Es256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(err("EC keygen"))?;
                let pkcs8 = pair.to_pkcs8v1().map_err(err("EC PKCS#8 export"))?;
                let point = pair.public_key().as_ref();
                let (x, y) = match point {
                    [4, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                    _ => return Err(KeyError("unexpected EC point encoding".into())),
                };
                let (x, y) = (b64(x), b64(y));
                let decoding = DecodingKey::from_ec_components(&x, &y).map_err(err("EC key"))?;
                (
                    EncodingKey::from_ec_der(pkcs8.as_ref()),
                    decoding,
                    json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y }),
                )
            }
            KeyAlg::EdDsa => {
                let pair = Ed25519KeyPair::generate().map_err(err("Ed25519 keygen"))?;
                let pkcs8 = pair.to_pkcs8v1().map_err(err("Ed25519 PKCS#8 export"))?;
                let x = b64(pair.public_key().as_ref());
                let decoding = DecodingKey::from_ed_components(&x).map_err(err("Ed25519 key"))?;
                (
                    EncodingKey::from_ed_der(pkcs8.as_ref()),
                    decoding,
                    json!({ "kty": "OKP", "crv": "Ed25519", "x": x }),
                )
            }
        };
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), Value::String(kid.clone()));
            map.insert("alg".into(), Value::String(alg.as_str().into()));
            map.insert("use".into(), Value::String("sig".into()));
        }
        Ok(SigningKey {
            kid,
            alg,
            encoding,
            decoding,
            jwk,
        })
    }

    /// Signs `message` and returns the raw signature bytes.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        let signer = (provider().signer_factory)(&self.alg.jwt_alg(), &self.encoding)
            .map_err(err("signer"))?;
        signer.try_sign(message).map_err(err("sign"))
    }

    /// Builds a compact JWS from raw header and payload bytes.
    pub(crate) fn sign_compact(&self, header: &[u8], payload: &[u8]) -> Result<String, KeyError> {
        let signing_input = format!("{}.{}", b64(header), b64(payload));
        let sig = self.sign(signing_input.as_bytes())?;
        Ok(format!("{signing_input}.{}", b64(&sig)))
    }

    /// Verifies `signature` over `message`.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match (provider().verifier_factory)(&self.alg.jwt_alg(), &self.decoding) {
            Ok(verifier) => verifier.verify(message, &signature.to_vec()).is_ok(),
            Err(_) => false,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or(bytes)
}

/// Extracts the `privateKey` OCTET STRING content of a PKCS#8 `PrivateKeyInfo`.
fn pkcs8_inner_key(der: &[u8]) -> Option<&[u8]> {
    pkcs8::PrivateKeyInfo::try_from(der)
        .ok()
        .map(|info| info.private_key)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn all_algs_sign_and_verify() {
        for alg in [KeyAlg::Rs256, KeyAlg::Ps256, KeyAlg::Es256, KeyAlg::EdDsa] {
            let key = SigningKey::generate(alg).unwrap();
            let sig = key.sign(b"hello").unwrap();
            assert!(key.verify(b"hello", &sig), "{alg}");
            assert!(!key.verify(b"hellO", &sig), "{alg}");
            assert_eq!(key.jwk["alg"], alg.as_str());
        }
    }
}
