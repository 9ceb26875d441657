//! Which cryptography library verifies signatures.
//!
//! jsonwebtoken offers two backends, passed through as this crate's features `aws_lc_rs` and
//! `rust_crypto`. bearer-guard always names its backend explicitly, so enabling both features
//! is fine (jsonwebtoken's own process-wide default would refuse that).

use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::{Algorithm, DecodingKey};

#[cfg(not(any(feature = "aws_lc_rs", feature = "rust_crypto")))]
compile_error!("bearer-guard needs a crypto backend: enable feature `aws_lc_rs` or `rust_crypto`");

/// A signature-verification backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// aws-lc-rs (feature `aws_lc_rs`).
    #[cfg(feature = "aws_lc_rs")]
    AwsLc,
    /// RustCrypto crates (feature `rust_crypto`).
    #[cfg(feature = "rust_crypto")]
    RustCrypto,
}

impl Default for Backend {
    /// `AwsLc` when its feature is on (it is the faster one, see BENCHMARKS.md), else
    /// `RustCrypto`.
    fn default() -> Self {
        #[cfg(feature = "aws_lc_rs")]
        {
            Backend::AwsLc
        }
        #[cfg(not(feature = "aws_lc_rs"))]
        {
            Backend::RustCrypto
        }
    }
}

impl Backend {
    pub(crate) fn provider(self) -> &'static CryptoProvider {
        match self {
            #[cfg(feature = "aws_lc_rs")]
            Backend::AwsLc => &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
            #[cfg(feature = "rust_crypto")]
            Backend::RustCrypto => &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        }
    }

    /// Verifies `signature` over `message`. `Err(())` if the key cannot be used with `alg`;
    /// `Ok(false)` if the signature does not verify.
    pub(crate) fn verify(
        self,
        alg: Algorithm,
        key: &DecodingKey,
        message: &[u8],
        signature: &Vec<u8>,
    ) -> Result<bool, ()> {
        // ECDSA (raw r||s, RFC 7518 §3.4) and EdDSA signatures have one exact length; refuse
        // others (e.g. DER-encoded ECDSA) before the backend sees them.
        let expected_len = match alg {
            Algorithm::ES256 | Algorithm::EdDSA => Some(64),
            Algorithm::ES384 => Some(96),
            _ => None,
        };
        if expected_len.is_some_and(|n| n != signature.len()) {
            return Ok(false);
        }
        let verifier = (self.provider().verifier_factory)(&alg, key).map_err(|_| ())?;
        Ok(verifier.verify(message, signature).is_ok())
    }
}

/// The signature algorithm a JOSE `alg` name stands for, compared exactly (case-sensitive,
/// RFC 7515 §4.1.1): the one table of names, for token headers, JWK `alg` members and DPoP
/// proofs alike.
///
/// `Ed25519` (the fully-specified name of RFC 9864) and `EdDSA` (the polymorphic name it
/// deprecates) both mean EdDSA over Ed25519, the only EdDSA curve supported, so both map to
/// [`Algorithm::EdDSA`]: allowing that algorithm allows both names. `Ed448`, `none` and every
/// other name are `None`.
pub(crate) fn alg_from_name(name: &str) -> Option<Algorithm> {
    Some(match name {
        "HS256" => Algorithm::HS256,
        "HS384" => Algorithm::HS384,
        "HS512" => Algorithm::HS512,
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" | "Ed25519" => Algorithm::EdDSA,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_names_are_exact() {
        assert_eq!(alg_from_name("RS256"), Some(Algorithm::RS256));
        for bad in [
            "none", "None", "NONE", "nOnE", "rs256", "EDDSA", "ed25519", "",
        ] {
            assert_eq!(alg_from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn ed25519_is_eddsa_and_ed448_is_unsupported() {
        // RFC 9864: `Ed25519` is the fully-specified name of EdDSA with Ed25519.
        assert_eq!(alg_from_name("Ed25519"), Some(Algorithm::EdDSA));
        assert_eq!(alg_from_name("EdDSA"), Some(Algorithm::EdDSA));
        assert_eq!(alg_from_name("Ed448"), None);
    }
}
