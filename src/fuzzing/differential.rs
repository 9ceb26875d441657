//! The `jwt_differential` target: the [`jwt`](super::jwt) target's validator against
//! `jsonwebtoken::decode` with the equivalent settings; the intended differences are listed
//! on [`jwt_differential`].

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use serde_json::{Map, Value};

use super::{hs256_token, jwt_outcome, AUDIENCE, HMAC_SECRET, ISSUER, JWKS};
use crate::jose::{alg_from_name, parse_object, unix_now};

/// The leeway of the [`jwt`](super::jwt) target's validator (the builder's default).
const LEEWAY: u64 = 60;
/// The token size cap of that validator (the builder's default).
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The latest NumericDate the validator takes (9999-12-31T23:59:59Z).
const MAX_NUMERIC_DATE: u64 = 253_402_300_799;
/// Header members the validator never reads.
const UNREAD_HEADER_MEMBERS: [&str; 7] = ["cty", "jku", "jwk", "x5u", "x5c", "x5t", "x5t#S256"];

/// `jwt_differential`: the input as a token, then as the claims of an HS256 token signed with
/// the validator's secret.
///
/// The same token and key set go through both: [`JwtValidator`](crate::JwtValidator) (issuer
/// [`ISSUER`](super::ISSUER), audience [`AUDIENCE`](super::AUDIENCE), the default algorithms and
/// HS256 with [`HMAC_SECRET`](super::HMAC_SECRET), leeway 60 s) and `jsonwebtoken::decode`
/// (the same issuer, audience, algorithm, key and leeway; `exp`, `iss` and `aud` required; `nbf`
/// checked). Any disagreement on accept or refuse is a finding, except for these intended
/// differences, which the reference applies before asking jsonwebtoken (a token they cover is
/// either refused by the reference too, or not compared):
///
/// - **refused here, by design** (the reference refuses as well): tokens over 8 KiB; duplicate
///   members in the header or the claims (RFC 7515 §5.2; jsonwebtoken keeps the last);
///   `crit`, `enc` or `b64` in the header; a `typ` other than `at+jwt` /
///   `application/at+jwt` (RFC 9068); an `iat` later than now plus the leeway; an `iss` that is
///   not one string (jsonwebtoken also takes an array); a key whose JWK `alg` is not the
///   token's, or no `kid` with more than one key fitting the algorithm (jsonwebtoken is handed
///   one key and verifies with it whatever the JWK says);
/// - **not compared**: `alg: "Ed25519"` (RFC 9864's name, unknown to jsonwebtoken); `exp`,
///   `nbf` or `iat` that are not integers from 0 to 253402300799 (RFC 7519 NumericDates may
///   have fractions; jsonwebtoken wants a `u64`, and ignores `iat`); times within 3 s of a
///   boundary (the two read the clock at different instants); header members this crate never
///   reads (`cty`, `jku`, `jwk`, `x5u`, `x5c`, `x5t`, `x5t#S256`) of a type jsonwebtoken
///   refuses.
pub fn jwt_differential(data: &[u8]) {
    compare(data);
    compare(hs256_token(data).as_bytes());
}

fn compare(token: &[u8]) {
    let Some(ours) = jwt_outcome(token) else {
        return; // not UTF-8: never a header value
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return;
    };
    let Some(theirs) = reference(token) else {
        return;
    };
    assert_eq!(
        ours.is_ok(),
        theirs,
        "JwtValidator {} where the reference {}: {ours:?}",
        if ours.is_ok() { "accepts" } else { "refuses" },
        if theirs { "accepts" } else { "refuses" },
    );
}

/// What jsonwebtoken, with the intended differences of [`jwt_differential`] applied, decides:
/// `None` when the token is one not compared.
pub fn reference(token: &str) -> Option<bool> {
    // jsonwebtoken's process-wide provider: the backend the validator uses (with both backends
    // compiled in, jsonwebtoken has none of its own).
    let _ = crate::crypto::Backend::default()
        .provider()
        .install_default();
    if token.len() > MAX_TOKEN_BYTES {
        return Some(false);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Some(false);
    };
    let Some(header) = strict_object(header) else {
        return Some(false);
    };
    let Some(claims) = strict_object(payload) else {
        return Some(false);
    };
    if ["crit", "enc", "b64"]
        .iter()
        .any(|m| header.contains_key(*m))
    {
        return Some(false);
    }
    let typ_ok = header.get("typ").and_then(Value::as_str).is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Some(false);
    }
    let alg_name = header.get("alg").and_then(Value::as_str);
    if alg_name == Some("Ed25519") {
        return None;
    }
    let now = unix_now().floor() as u64;
    let mut dates = [None; 3];
    for (slot, name) in dates.iter_mut().zip(["exp", "nbf", "iat"]) {
        match claims.get(name) {
            None => {}
            Some(Value::Number(n)) => match n.as_u64() {
                Some(t) if t <= MAX_NUMERIC_DATE => *slot = Some(t),
                _ => return None,
            },
            Some(_) => return None,
        }
    }
    let near = |t: u64, boundary: u64| t.abs_diff(boundary) <= 3;
    let [exp, nbf, iat] = dates;
    if exp.is_some_and(|t| near(t, now.saturating_sub(LEEWAY)))
        || nbf.is_some_and(|t| near(t, now + LEEWAY))
        || iat.is_some_and(|t| near(t, now + LEEWAY))
    {
        return None;
    }
    if iat.is_some_and(|t| t > now + LEEWAY) {
        return Some(false);
    }
    if claims.get("iss").is_some_and(|iss| !iss.is_string()) {
        return Some(false);
    }
    let parsed_header = match serde_json::from_value::<Header>(Value::Object(header.clone())) {
        Ok(h) => h,
        Err(_) => {
            let mut read = header.clone();
            read.retain(|k, _| !UNREAD_HEADER_MEMBERS.contains(&k.as_str()));
            return match serde_json::from_value::<Header>(Value::Object(read)) {
                Ok(_) => None,
                Err(_) => Some(false),
            };
        }
    };
    let alg = parsed_header.alg;
    // The validator's allow-list: the default algorithms, and HS256 for its 32-byte secret.
    if !(crate::jwt::DEFAULT_ALGORITHMS.contains(&alg) || alg == Algorithm::HS256) {
        return Some(false);
    }
    if alg_name.and_then(alg_from_name) != Some(alg) {
        return Some(false);
    }
    let Some(key) = key_for(alg, parsed_header.kid.as_deref()) else {
        return Some(false);
    };
    let mut validation = Validation::new(alg);
    validation.leeway = LEEWAY;
    validation.validate_nbf = true;
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud"]);
    Some(jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation).is_ok())
}

/// A base64url segment holding one JSON object without duplicate members.
fn strict_object(segment: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
    parse_object(&bytes).ok()
}

/// The key jsonwebtoken is handed: the HMAC secret for HS256; else the JWK named by `kid`, or
/// without one the only JWK for the algorithm, whose `alg` must be the token's.
fn key_for(alg: Algorithm, kid: Option<&str>) -> Option<DecodingKey> {
    if alg == Algorithm::HS256 {
        return DecodingKey::from_secret(HMAC_SECRET).ok();
    }
    let set: JwkSet = serde_json::from_slice(JWKS).ok()?;
    let fits = |jwk: &&jsonwebtoken::jwk::Jwk| {
        jwk.common
            .key_algorithm
            .and_then(|a| a.to_string().parse::<Algorithm>().ok())
            == Some(alg)
    };
    let jwk = match kid {
        Some(kid) => set.find(kid).filter(|jwk| fits(jwk))?,
        None => {
            let mut fitting = set.keys.iter().filter(fits);
            match (fitting.next(), fitting.next()) {
                (Some(jwk), None) => jwk,
                _ => return None,
            }
        }
    };
    DecodingKey::from_jwk(jwk).ok()
}
