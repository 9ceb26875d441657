//! One JWK (RFC 7517, RFC 7518 §6, RFC 8037) as a verification key, and the vetting that
//! refuses weak or invalid public keys before any signature reaches them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use curve25519_dalek::edwards::CompressedEdwardsY;
use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};

use super::roca::has_roca_fingerprint;
use crate::crypto::{Backend, Material, PreparedKey};
use crate::jose::alg_from_name;

/// The kind of a public key, as far as signature verification is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
    Hmac,
}

impl KeyKind {
    /// Whether a key of this kind may verify tokens signed with `alg`.
    pub(crate) fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        matches!(
            (self, alg),
            (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::P256, ES256)
                | (KeyKind::P384, ES384)
                | (KeyKind::Ed25519, EdDSA)
                | (KeyKind::Hmac, HS256 | HS384 | HS512)
        )
    }
}

/// One verification key with the constraints its JWK put on it.
#[derive(Debug)]
pub(crate) struct Key {
    /// `false` if `use` is not `sig` or `key_ops` lacks `verify`.
    pub for_verify: bool,
    /// The key parsed once, for the algorithms its kind and its JWK's `alg` allow.
    pub prepared: PreparedKey,
    /// A SHA-256 of the JWK it was parsed from (set by [`KeySet`](super::KeySet)), to tell an
    /// unchanged key in a refreshed set.
    pub source: [u8; 32],
    /// Set once a refreshed key set no longer holds this key: what it verified is no longer
    /// served from the verified-token cache.
    retired: AtomicBool,
}

impl Key {
    fn new(for_verify: bool, prepared: PreparedKey) -> Self {
        Key {
            for_verify,
            prepared,
            source: [0; 32],
            retired: AtomicBool::new(false),
        }
    }

    /// Marks the key as gone from its issuer's key set.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Relaxed);
    }

    /// Whether a refreshed key set dropped this key.
    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Relaxed)
    }

    /// Whether this key may verify a token whose header says `alg`.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.for_verify && self.prepared.accepts(alg)
    }

    /// A symmetric key for HS256/384/512 from a shared secret; `None` only if no backend takes
    /// it (never, for the secrets the builders accept).
    pub(crate) fn hmac(secret: &[u8]) -> Option<Self> {
        let prepared =
            PreparedKey::new(&Material::Hmac { secret }, &|a| KeyKind::Hmac.fits(a), None)?;
        Some(Key::new(true, prepared))
    }
}

/// Whether a key of `kind`, whose JWK named `own` (if anything), fits a token's `alg`.
fn fits(kind: KeyKind, own: Option<Result<Algorithm, ()>>, alg: Algorithm) -> bool {
    kind.fits(alg)
        && match own {
            None => true,
            Some(Ok(own)) => own == alg,
            Some(Err(())) => false,
        }
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

/// Why a JWK was not taken.
pub(super) enum Refused {
    /// Not a usable public signature key (unsupported type or curve, malformed member, private
    /// or symmetric key): skipped quietly.
    Unusable,
    /// A well-formed public key with weak or invalid parameters: skipped, and named (by `kid`
    /// only) in a warning.
    Weak(&'static str),
}

/// The bytes of a base64url member, which must be present.
fn member_bytes(member: Option<&str>) -> Result<Vec<u8>, Refused> {
    member
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .ok_or(Refused::Unusable)
}

/// One JWK member of a key set: its `kid`, and the key or why it was not taken. A member that
/// is not a JWK at all has no `kid` here and is [`Refused::Unusable`].
/// A `use` other than `sig` is a signing use too when it is `signing_use` (SPIFFE bundles:
/// `jwt-svid`).
pub(super) fn parse_member(
    member: Value,
    signing_use: Option<&str>,
) -> (Option<String>, Result<Key, Refused>) {
    let Ok(mut raw) = serde_json::from_value::<RawJwk>(member) else {
        return (None, Err(Refused::Unusable));
    };
    let kid = raw.kid.take();
    (kid, key_from(raw, None, signing_use))
}

/// The key of a DPoP proof's `jwk` header, parsed for the proof's `alg` and the verifier's
/// `backend` only (a proof brings a new key with every request), or `None` if it is unusable
/// or weak.
pub(crate) fn parse_jwk(member: Value, alg: Algorithm, backend: Backend) -> Option<Key> {
    let raw = serde_json::from_value::<RawJwk>(member).ok()?;
    key_from(raw, Some((alg, backend)), None).ok()
}

/// The key a JWK describes, parsed for every algorithm it fits and every backend, or with
/// `only`, for one algorithm and one backend.
fn key_from(
    raw: RawJwk,
    only: Option<(Algorithm, Backend)>,
    signing_use: Option<&str>,
) -> Result<Key, Refused> {
    // A JWK `alg` of `Ed25519` (RFC 9864) or `EdDSA` both fit EdDSA tokens.
    let alg = raw.alg.as_deref().map(|a| alg_from_name(a).ok_or(()));
    let for_verify = raw
        .use_
        .as_deref()
        .is_none_or(|u| u == "sig" || Some(u) == signing_use)
        && raw
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
    let prepare = |kind: KeyKind, material: Material<'_>| {
        let wanted = |a| fits(kind, alg, a) && only.is_none_or(|(only, _)| only == a);
        PreparedKey::new(&material, &wanted, only.map(|(_, backend)| backend))
    };
    let prepared = match raw.kty.as_str() {
        "RSA" => {
            let (n, e) = (
                member_bytes(raw.n.as_deref())?,
                member_bytes(raw.e.as_deref())?,
            );
            let (n, e) = (without_leading_zeros(&n), without_leading_zeros(&e));
            // Toy moduli (RFC 7518 §3.3: at least 2048 bits), even moduli, ROCA moduli, and
            // exponents that are even, under 3 or over 33 bits.
            if let Some(why) = rsa_key_weakness(n, e) {
                return Err(Refused::Weak(why));
            }
            // Named when refused, so that an operator sees why a kid is missing.
            prepare(KeyKind::Rsa, Material::Rsa { n, e }).ok_or(Refused::Weak(RSA_NOT_USABLE))?
        }
        "EC" => {
            let (kind, curve_alg, size) = match raw.crv.as_deref() {
                Some("P-256") => (KeyKind::P256, Algorithm::ES256, 32),
                Some("P-384") => (KeyKind::P384, Algorithm::ES384, 48),
                _ => return Err(Refused::Unusable),
            };
            let (x, y) = (
                member_bytes(raw.x.as_deref())?,
                member_bytes(raw.y.as_deref())?,
            );
            if x.len() != size || y.len() != size {
                return Err(Refused::Unusable);
            }
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(4); // SEC 1 uncompressed point
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            // The backends' own EC code checks the point when it parses it (jsonwebtoken
            // built EC keys without looking at them).
            let material = Material::EcPoint {
                alg: curve_alg,
                point: &point,
            };
            prepare(kind, material).ok_or(Refused::Weak("EC point not on its curve"))?
        }
        "OKP" => {
            let x = member_bytes(raw.x.as_deref())?;
            if raw.crv.as_deref() != Some("Ed25519") {
                return Err(Refused::Unusable);
            }
            let x = <[u8; 32]>::try_from(x.as_slice()).map_err(|_| Refused::Unusable)?;
            // The same rule for both backends: neither refuses a small-order key by itself.
            if let Some(why) = ed25519_key_weakness(&x) {
                return Err(Refused::Weak(why));
            }
            prepare(KeyKind::Ed25519, Material::Ed25519 { x: &x })
                .ok_or(Refused::Weak(ED25519_OFF_CURVE))?
        }
        // "oct" (symmetric) keys are never taken from a published key set.
        _ => return Err(Refused::Unusable),
    };
    Ok(Key::new(for_verify, prepared))
}

/// Why an Ed25519 key is skipped when its `x` decodes to no point of the curve.
const ED25519_OFF_CURVE: &str = "Ed25519 key is not a point of the curve";

/// Why an Ed25519 public key (its 32-octet encoding) is refused, or `None` if it may be used:
/// an encoding that is no point of the curve, or a point of small order (the identity and the
/// other seven torsion points, in every encoding, non-canonical ones included). A small-order
/// key makes the verification equation independent of the message: with the identity as key,
/// `R` = identity and `S` = 0 "sign" anything, and aws-lc and ed25519-dalek's `verify` (not
/// `verify_strict`) both accept it.
fn ed25519_key_weakness(x: &[u8; 32]) -> Option<&'static str> {
    match CompressedEdwardsY(*x).decompress() {
        None => Some(ED25519_OFF_CURVE),
        Some(point) if point.is_small_order() => Some("Ed25519 key of small order"),
        Some(_) => None,
    }
}

/// Why a well-formed RSA key that passed [`rsa_key_weakness`] is still skipped: no backend
/// compiled in parses it (the RustCrypto `rsa` crate takes at most 4,096 bits; aws-lc up to
/// 8,192 bits at verification).
const RSA_NOT_USABLE: &str =
    "RSA key not usable by the backends compiled in (RustCrypto: at most 4096 bits)";

/// Why an RSA public key (`n`, `e` as big-endian bytes, leading zeros allowed) is refused, or
/// `None` if it may be used: a modulus under 2048 bits (RFC 7518 §3.3) or even, or with the
/// ROCA fingerprint; an exponent that is even, under 3 or over 33 bits. The exponent rule is
/// the one aws-lc applies when it verifies (RustCrypto's `rsa` also caps `e` at 33 bits): an
/// even `e` or `e = 1` is no RSA key at all (with `e = 1` anyone can "sign"), and a huge `e`
/// only makes verification slow.
fn rsa_key_weakness(n: &[u8], e: &[u8]) -> Option<&'static str> {
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
