//! Which cryptography library verifies signatures, and which public keys are refused before
//! any signature reaches them.
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

/// Why an RSA public key (`n`, `e` as big-endian bytes, leading zeros allowed) is refused, or
/// `None` if it may be used: a modulus under 2048 bits (RFC 7518 §3.3) or even, or with the
/// ROCA fingerprint; an exponent that is even, under 3 or over 33 bits. The exponent rule is
/// the one aws-lc applies when it verifies (RustCrypto's `rsa` also caps `e` at 33 bits): an
/// even `e` or `e = 1` is no RSA key at all (with `e = 1` anyone can "sign"), and a huge `e`
/// only makes verification slow.
pub(crate) fn rsa_key_weakness(n: &[u8], e: &[u8]) -> Option<&'static str> {
    let n = without_leading_zeros(n);
    let n_bits = match n.split_first() {
        Some((top, rest)) => rest.len() * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
    };
    if n_bits < 2048 {
        return Some("RSA modulus under 2048 bits");
    }
    if n.last().is_some_and(|low| low & 1 == 0) {
        return Some("even RSA modulus");
    }
    let e = without_leading_zeros(e);
    let e = match e.len() {
        0..=5 => e.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b)),
        _ => u64::MAX,
    };
    if e < 3 {
        return Some("RSA exponent under 3");
    }
    if e & 1 == 0 {
        return Some("even RSA exponent");
    }
    if e >= 1 << 33 {
        return Some("RSA exponent over 33 bits");
    }
    if has_roca_fingerprint(n) {
        return Some("RSA modulus with the ROCA fingerprint (CVE-2017-15361)");
    }
    None
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    bytes.get(start..).unwrap_or_default()
}

/// The small primes of the ROCA fingerprint (Nemec et al., "The Return of Coppersmith's
/// Attack", CCS 2017; the list of the authors' `roca-detect` tool).
const ROCA_PRIMES: [u32; 38] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
    101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
];

/// Whether the modulus `n` (big-endian) has the fingerprint of the RSA keys made by the
/// Infineon library that ROCA (CVE-2017-15361) factors: their primes are `k·M + 65537^a mod
/// M` with `M` the product of small primes, so for every prime `p` of [`ROCA_PRIMES`], `n mod
/// p` lies in the subgroup of `(Z/p)*` generated by 65537. A random modulus has that for all 38
/// primes with probability about 2^-28; a modulus crafted to have it although not made that
/// way is refused too (a false positive only by construction, and refusing fails safe).
pub(crate) fn has_roca_fingerprint(n: &[u8]) -> bool {
    ROCA_PRIMES.iter().all(|&p| {
        // n mod p over big-endian bytes: the remainder stays below p < 256, so no overflow.
        let r = n.iter().fold(0u32, |r, b| (r * 256 + u32::from(*b)) % p);
        in_subgroup_of_65537(r, p)
    })
}

/// Whether `r` is a power of 65537 modulo the prime `p` (2 < p < 65537, so the powers cycle
/// back to 1 within p - 1 steps).
fn in_subgroup_of_65537(r: u32, p: u32) -> bool {
    let g = 65537 % p;
    let mut x = 1;
    loop {
        if x == r {
            return true;
        }
        x = x * g % p;
        if x == 1 {
            return false;
        }
    }
}

/// Whether (`x`, `y`) (big-endian, fixed length) is a point of the curve of `alg` (ES256:
/// P-256, ES384: P-384), as the backend's own EC code finds when it parses the uncompressed
/// point (aws-lc, or the RustCrypto `p256`/`p384` crates without `aws_lc_rs`); jsonwebtoken
/// builds EC keys without looking at them. Always `false` for other algorithms.
pub(crate) fn ec_point_is_valid(alg: Algorithm, x: &[u8], y: &[u8]) -> bool {
    let mut point = Vec::with_capacity(1 + x.len() + y.len());
    point.push(4); // SEC 1 uncompressed point
    point.extend_from_slice(x);
    point.extend_from_slice(y);
    #[cfg(feature = "aws_lc_rs")]
    {
        use aws_lc_rs::signature::{
            ParsedPublicKey, VerificationAlgorithm, ECDSA_P256_SHA256_FIXED,
            ECDSA_P384_SHA384_FIXED,
        };
        let curve: &'static dyn VerificationAlgorithm = match alg {
            Algorithm::ES256 => &ECDSA_P256_SHA256_FIXED,
            Algorithm::ES384 => &ECDSA_P384_SHA384_FIXED,
            _ => return false,
        };
        ParsedPublicKey::new(curve, &point).is_ok()
    }
    #[cfg(not(feature = "aws_lc_rs"))]
    match alg {
        Algorithm::ES256 => p256::PublicKey::from_sec1_bytes(&point).is_ok(),
        Algorithm::ES384 => p384::PublicKey::from_sec1_bytes(&point).is_ok(),
        _ => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    /// Moduli from the test data of the ROCA authors' detection tool
    /// (github.com/crocs-muni/roca, `roca/tests/data/`): `mod03.txt` (2048 bits) is one of its
    /// positive samples, `mod04.txt` (2048 bits, on 30 of the 38 primes) a negative one.
    pub(crate) const ROCA_MOD03: &str = "9dcd7420e420c270a68060eb8b5aa7457a9f6648f86fafed2775cc1f79ae962f1e63f1b9e51c55f9ea6fdc7332e9b0058c9ff2eb1fc89855029cf6aafe21e689feb38ac9ffb12f1ce371bb5d0e9aae64161abce74b4244bf68f1edb4411f756a097c8929c14740245ea355f8332d1aa36bb50c7dcb4505da8de02e4e53d38f8df06097da7524df0df93db48eac8cc4af2d3a16257eb2b2adca6ba464e5974fa92550d31b1babf161e7692d00b86e3dd886ecab4abfbe1a8f8cc263ff4af55cdb45f4249a5193925f5e983d762f0b6800943eb0267b08f42ed311ce1f5c86eacbc8ce4d3cb7a2fee1ef5641423a1cf4114e5ecf50034a60a412523af9e6f4aa11";
    /// See [`ROCA_MOD03`].
    pub(crate) const NOT_ROCA_MOD04: &str = "af659676197f1db06da7ac111a0a0ec175b8b7ef07192ffcd1f6b854c327785f1a7fd3db7da45cd4a31b2b2e5ce0d823a68e28c8adf1747316becce1fe5768064039ad2062260c8d1a34e0586dce9bc13090fcc9fb8b8b2c08ed3ae8d61b29818a669689a7d9c1dab053b557fb8d3f9c44faad3e18c55e739b00d3c9126558bc8e980cd2af377126ef5b1374136774b8bd370e3c1c149db395c8f99696b628b105946fea20106fe24d103ac062661a9248e8c3f628e00b308d33953aabe555132e218e74ef4b578716b4fe7cf340e8e604a319bf6e9951e1942601d34291032db54999d09e5d036dde3544ad35256bbb97d5e3fffd38166c21eae9199548853b";
    /// `fingerprint/tests/data/mod01.txt` of the same repository: a 512-bit positive sample.
    const ROCA_MOD01: &str = "944e13208a280c37efc31c3114485e590192adbb8e11c87cad60cdef0037ce99278330d3f471a2538fa667802ed2a3c44a8b7dea826e888d0aa341fd664f7fa7";

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn roca_subgroups_match_the_published_fingerprint() {
        // The detection tool lists, per prime p, the subgroup generated by 65537 mod p as a
        // bit mask of its members; these are its first five masks.
        for (p, mask) in [(3u32, 6u64), (5, 30), (7, 126), (11, 1026), (13, 5658)] {
            let members = (0..p)
                .filter(|r| in_subgroup_of_65537(*r, p))
                .fold(0u64, |m, r| m | 1 << r);
            assert_eq!(members, mask, "p = {p}");
        }
    }

    #[test]
    fn roca_moduli_are_recognised() {
        assert!(has_roca_fingerprint(&hex(ROCA_MOD03)));
        assert!(has_roca_fingerprint(&hex(ROCA_MOD01)));
        assert!(has_roca_fingerprint(
            &[&[0, 0][..], &hex(ROCA_MOD03)].concat()
        ));
        assert!(!has_roca_fingerprint(&hex(NOT_ROCA_MOD04)));
        // n mod p = 0 is outside the subgroup.
        assert!(!has_roca_fingerprint(&[0]));
        assert!(!has_roca_fingerprint(&[]));
        let n = URL_SAFE_NO_PAD
            .decode("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw")
            .unwrap();
        assert!(!has_roca_fingerprint(&n));
    }

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
