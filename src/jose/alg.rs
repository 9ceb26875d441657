//! Signature algorithms: the one table of JOSE `alg` names, read in both directions, and the
//! rules that depend on the algorithm alone.

use jsonwebtoken::Algorithm;

/// The algorithms accepted by default: every asymmetric algorithm jsonwebtoken supports.
/// [`Algorithm::EdDSA`] stands for both header names of EdDSA with Ed25519: `EdDSA` and `Ed25519`
/// (RFC 9864). Ed448 is not supported.
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// Every name understood, and the algorithm it stands for. The first name of an algorithm is
/// the one written ([`alg_name`]); `Ed25519` (RFC 9864) is read only.
const NAMES: [(&str, Algorithm); 13] = [
    ("HS256", Algorithm::HS256),
    ("HS384", Algorithm::HS384),
    ("HS512", Algorithm::HS512),
    ("RS256", Algorithm::RS256),
    ("RS384", Algorithm::RS384),
    ("RS512", Algorithm::RS512),
    ("PS256", Algorithm::PS256),
    ("PS384", Algorithm::PS384),
    ("PS512", Algorithm::PS512),
    ("ES256", Algorithm::ES256),
    ("ES384", Algorithm::ES384),
    ("EdDSA", Algorithm::EdDSA),
    ("Ed25519", Algorithm::EdDSA),
];

/// The signature algorithm a JOSE `alg` name stands for, compared exactly (case-sensitive,
/// RFC 7515 §4.1.1): for token headers, JWK `alg` members and DPoP proofs alike.
///
/// `Ed25519` (the fully-specified name of RFC 9864) and `EdDSA` (the polymorphic name it
/// deprecates) both mean EdDSA over Ed25519, the only EdDSA curve supported, so both map to
/// [`Algorithm::EdDSA`]: allowing that algorithm allows both names. `Ed448`, `none` and every
/// other name are `None`.
pub(crate) fn alg_from_name(name: &str) -> Option<Algorithm> {
    NAMES
        .iter()
        .find(|(known, _)| *known == name)
        .map(|(_, alg)| *alg)
}

/// The JOSE name of an algorithm (`EdDSA` for [`Algorithm::EdDSA`]), as announced in `algs`
/// challenge parameters.
pub(crate) fn alg_name(alg: Algorithm) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(_, known)| *known == alg)
        .map(|(name, _)| *name)
}

/// Whether `alg` is an HMAC (symmetric) algorithm.
pub(crate) fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// The shortest HMAC secret for `alg`: the size of its hash (RFC 7518 §3.2).
pub(crate) fn hmac_min_len(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hmac_secret_is_at_least_as_long_as_its_hash() {
        // RFC 7518 §3.2: a key of the same size as the hash output or larger.
        assert_eq!(hmac_min_len(Algorithm::HS256), 32);
        assert_eq!(hmac_min_len(Algorithm::HS384), 48);
        assert_eq!(hmac_min_len(Algorithm::HS512), 64);
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

    #[test]
    fn names_read_back() {
        for (name, alg) in NAMES {
            assert_eq!(alg_from_name(name), Some(alg));
            assert_eq!(alg_name(alg).and_then(alg_from_name), Some(alg));
        }
        assert_eq!(alg_name(Algorithm::EdDSA), Some("EdDSA"));
    }
}
