//! Compact JWS by hand, for tests of tokens that no well-behaved issuer would sign: base64url
//! segments and their JSON, a token with its payload replaced, HMAC signatures over any
//! header. The server's own tokens come from [`Issuer::mint`](crate::Issuer::mint); these
//! helpers take them apart and put together what it will not make.
//!
//! They panic on input that is not what they are documented to take (a test helper's way of
//! failing the test).

use aws_lc_rs::hmac as aws_hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a base64url segment (no padding).
///
/// # Panics
///
/// If `segment` is not base64url without padding.
pub fn unb64(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .unwrap_or_else(|e| panic!("not base64url: {segment}: {e}"))
}

/// The JSON a base64url segment encodes.
///
/// # Panics
///
/// If `segment` is not base64url of JSON.
pub fn b64json(segment: &str) -> Value {
    serde_json::from_slice(&unb64(segment))
        .unwrap_or_else(|e| panic!("not base64url of JSON: {segment}: {e}"))
}

/// The three segments of a compact JWS.
///
/// # Panics
///
/// If `token` does not have exactly three segments.
pub fn segments(token: &str) -> [String; 3] {
    match token.split('.').collect::<Vec<_>>()[..] {
        [header, payload, signature] => [header.into(), payload.into(), signature.into()],
        _ => panic!("not a compact JWS: {token}"),
    }
}

/// The header and claims of a compact JWS, decoded (the signature is not checked).
///
/// # Panics
///
/// If `token` is not three segments whose first two are base64url of JSON.
pub fn decode(token: &str) -> (Value, Value) {
    let [header, payload, _] = segments(token);
    (b64json(&header), b64json(&payload))
}

/// `token` with its payload replaced by `claims`, header and signature kept.
///
/// # Panics
///
/// If `token` does not have three segments.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let [header, _, signature] = segments(token);
    format!("{header}.{}.{signature}", b64(claims.to_string()))
}

/// Signs a signing input (`header.payload` segments, as they are) with HS256 under `secret`.
pub fn hs256_input(secret: &[u8], input: &str) -> String {
    hmac_input("HS256", secret, input)
}

/// Signs a signing input with HS256, HS384 or HS512 (`alg`) under `secret`.
///
/// # Panics
///
/// If `alg` is none of the three.
pub fn hmac_input(alg: &str, secret: &[u8], input: &str) -> String {
    let algorithm = match alg {
        "HS256" => aws_hmac::HMAC_SHA256,
        "HS384" => aws_hmac::HMAC_SHA384,
        "HS512" => aws_hmac::HMAC_SHA512,
        other => panic!("not an HMAC algorithm: {other}"),
    };
    let tag = aws_hmac::sign(&aws_hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A compact JWS of `header` and `claims`, HMAC-signed with `alg` (HS256, HS384 or HS512)
/// under `secret`.
///
/// # Panics
///
/// If `alg` is not one of those three.
pub fn hmac(alg: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    hmac_input(alg, secret, &input)
}
