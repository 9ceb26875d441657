//! Which cryptography library verifies signatures.
//!
//! jsonwebtoken offers two backends, passed through as this crate's features `aws_lc_rs` and
//! `rust_crypto`. bearer-guard always names its backend explicitly, so enabling both features
//! is fine (jsonwebtoken's own process-wide default would refuse that).

use jsonwebtoken::crypto::CryptoProvider;

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
    /// The backend's jsonwebtoken provider: signature verification goes through it
    /// ([`jose`](crate::jose)'s `signature.rs`).
    pub(crate) fn provider(self) -> &'static CryptoProvider {
        match self {
            #[cfg(feature = "aws_lc_rs")]
            Backend::AwsLc => &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER,
            #[cfg(feature = "rust_crypto")]
            Backend::RustCrypto => &jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER,
        }
    }
}
