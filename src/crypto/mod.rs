//! Which cryptography library verifies signatures, and keys prepared for it.
//!
//! Two backends, this crate's features `aws_lc_rs` and `rust_crypto` (which also turn on
//! jsonwebtoken's backend of the same name). bearer-guard always names its backend explicitly,
//! so enabling both features is fine.
//!
//! Every verification key is parsed **once** (`PreparedKey`): the keys of a key set when the
//! set is built, for every algorithm the key fits and every backend compiled in; a DPoP proof's
//! key for the proof's algorithm and the verifier's backend. A verification then only runs the
//! signature check, and only for an algorithm the key was prepared for.

use std::fmt;

use jsonwebtoken::{Algorithm, AlgorithmFamily};

#[cfg(feature = "aws_lc_rs")]
mod aws_lc;
#[cfg(feature = "rust_crypto")]
mod rust_crypto;

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

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignatureError {
    /// The signature does not verify.
    Invalid,
    /// The key cannot be used with the algorithm (or by this backend).
    KeyUnusable,
}

/// The public parts of a key (or a shared secret), as a JWK or the configuration gives them.
/// Big-endian integers without leading zeros.
pub(crate) enum Material<'a> {
    /// RSA modulus and exponent.
    Rsa { n: &'a [u8], e: &'a [u8] },
    /// An EC point in SEC 1 uncompressed form, for `ES256` (P-256) or `ES384` (P-384).
    EcPoint { alg: Algorithm, point: &'a [u8] },
    /// An Ed25519 public key.
    Ed25519 { x: &'a [u8] },
    /// An HMAC secret (HS256, HS384, HS512).
    Hmac { secret: &'a [u8] },
}

impl Material<'_> {
    /// The family of the algorithms this key material can verify.
    fn family(&self) -> AlgorithmFamily {
        match self {
            Material::Rsa { .. } => AlgorithmFamily::Rsa,
            Material::EcPoint { .. } => AlgorithmFamily::Ec,
            Material::Ed25519 { .. } => AlgorithmFamily::Ed,
            Material::Hmac { .. } => AlgorithmFamily::Hmac,
        }
    }
}

/// A key parsed once for each backend compiled in.
pub(crate) struct PreparedKey {
    /// The algorithms the key was prepared for (of its family): checked before any backend
    /// sees a signature, the same way for both backends.
    algorithms: Box<[Algorithm]>,
    #[cfg(feature = "aws_lc_rs")]
    aws_lc: Option<aws_lc::Prepared>,
    #[cfg(feature = "rust_crypto")]
    rust_crypto: Option<rust_crypto::Prepared>,
}

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedKey")
    }
}

impl PreparedKey {
    /// Parses `material` for the algorithms `wanted` accepts (possibly none: such a key
    /// verifies nothing), for `only` that backend or (with `None`) every backend compiled in.
    /// `None` if no backend parsed takes the key.
    pub(crate) fn new(
        material: &Material<'_>,
        wanted: &dyn Fn(Algorithm) -> bool,
        only: Option<Backend>,
    ) -> Option<Self> {
        let for_backend = |b: Backend| only.is_none_or(|only| only == b);
        let _ = (wanted, for_backend); // unused when one backend is compiled out
        let algorithms = material
            .family()
            .algorithms()
            .iter()
            .copied()
            .filter(|a| wanted(*a))
            .collect();
        let key = PreparedKey {
            algorithms,
            #[cfg(feature = "aws_lc_rs")]
            aws_lc: for_backend(Backend::AwsLc)
                .then(|| aws_lc::Prepared::new(material, wanted))
                .flatten(),
            #[cfg(feature = "rust_crypto")]
            rust_crypto: for_backend(Backend::RustCrypto)
                .then(|| rust_crypto::Prepared::new(material))
                .flatten(),
        };
        key.usable().then_some(key)
    }

    fn usable(&self) -> bool {
        #[cfg(feature = "aws_lc_rs")]
        if self.aws_lc.is_some() {
            return true;
        }
        #[cfg(feature = "rust_crypto")]
        if self.rust_crypto.is_some() {
            return true;
        }
        false
    }

    /// Whether the key was prepared for `alg`.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.algorithms.contains(&alg)
    }

    /// Verifies `signature` over `message` with `alg`, using `backend`.
    pub(crate) fn verify(
        &self,
        backend: Backend,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        if !self.accepts(alg) {
            return Err(SignatureError::KeyUnusable);
        }
        match backend {
            #[cfg(feature = "aws_lc_rs")]
            Backend::AwsLc => self
                .aws_lc
                .as_ref()
                .map(|k| k.verify(alg, message, signature)),
            #[cfg(feature = "rust_crypto")]
            Backend::RustCrypto => self
                .rust_crypto
                .as_ref()
                .map(|k| k.verify(alg, message, signature)),
        }
        .unwrap_or(Err(SignatureError::KeyUnusable))
    }
}

#[cfg(feature = "fuzzing")]
impl Backend {
    /// The backend's jsonwebtoken provider: the fuzz targets sign their inputs with it.
    pub(crate) fn provider(self) -> &'static jsonwebtoken::crypto::CryptoProvider {
        match self {
            #[cfg(feature = "aws_lc_rs")]
            Backend::AwsLc => &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
            #[cfg(feature = "rust_crypto")]
            Backend::RustCrypto => &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An RSA-2048 public key (an odd 2048-bit modulus with e = 65537; no signature verifies).
    fn rsa_material<'a>(n: &'a [u8]) -> Material<'a> {
        Material::Rsa { n, e: &[1, 0, 1] }
    }

    #[test]
    fn a_key_verifies_only_the_algorithms_it_was_prepared_for_on_every_backend() {
        let mut n = vec![0xc5; 256];
        n[255] |= 1;
        let pinned = PreparedKey::new(&rsa_material(&n), &|a| a == Algorithm::RS256, None)
            .expect("an RSA key");
        let any_rsa = PreparedKey::new(
            &rsa_material(&n),
            &|a| matches!(a, Algorithm::RS256 | Algorithm::PS256),
            None,
        )
        .expect("an RSA key");
        let backends = [
            #[cfg(feature = "aws_lc_rs")]
            Backend::AwsLc,
            #[cfg(feature = "rust_crypto")]
            Backend::RustCrypto,
        ];
        for backend in backends {
            let sig = [7u8; 256];
            assert_eq!(
                pinned.verify(backend, Algorithm::PS256, b"m", &sig),
                Err(SignatureError::KeyUnusable),
                "{backend:?}: pinned to RS256, asked for PS256"
            );
            assert_eq!(
                pinned.verify(backend, Algorithm::RS256, b"m", &sig),
                Err(SignatureError::Invalid),
                "{backend:?}: its own algorithm gets as far as the signature"
            );
            assert_eq!(
                any_rsa.verify(backend, Algorithm::PS256, b"m", &sig),
                Err(SignatureError::Invalid),
                "{backend:?}"
            );
            assert_eq!(
                any_rsa.verify(backend, Algorithm::HS256, b"m", &sig),
                Err(SignatureError::KeyUnusable),
                "{backend:?}: an RSA key is no HMAC key"
            );
        }
        // A key whose JWK names an algorithm it cannot do is kept (its look-up then says
        // "mismatch", not "unknown key") and verifies nothing.
        let none = PreparedKey::new(&rsa_material(&n), &|_| false, None).expect("kept");
        assert_eq!(
            none.verify(Backend::default(), Algorithm::RS256, b"m", &[7; 256]),
            Err(SignatureError::KeyUnusable)
        );
    }
}
