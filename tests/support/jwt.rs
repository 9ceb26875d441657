//! Compact JWS by hand: base64url segments, their JSON, and re-assembled or HMAC-signed tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;

/// base64url without padding.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes a base64url segment (no padding).
pub fn unb64(segment: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(segment).unwrap()
}

/// The JSON a base64url segment encodes.
pub fn b64json(segment: &str) -> Value {
    serde_json::from_slice(&unb64(segment)).unwrap()
}

/// The three segments of a compact JWS.
pub fn segments(token: &str) -> [String; 3] {
    let v: Vec<&str> = token.split('.').collect();
    assert_eq!(v.len(), 3, "not a compact JWS: {token}");
    [v[0].to_owned(), v[1].to_owned(), v[2].to_owned()]
}

/// The header and claims of a compact JWS, decoded (the signature is not checked).
pub fn decode(token: &str) -> (Value, Value) {
    let [header, payload, _] = segments(token);
    (b64json(&header), b64json(&payload))
}

/// `token` with its payload replaced by `claims`, header and signature kept.
pub fn with_payload(token: &str, claims: &Value) -> String {
    let [header, _, signature] = segments(token);
    format!("{header}.{}.{signature}", b64(claims.to_string()))
}

/// Signs a signing input (`header.payload` segments, as they are) with HS256 under `secret`.
pub fn hs256_input(secret: &[u8], input: &str) -> String {
    hmac_input("HS256", secret, input)
}

/// Signs a signing input with HS256, HS384 or HS512 (`alg`) under `secret`.
pub fn hmac_input(alg: &str, secret: &[u8], input: &str) -> String {
    use aws_lc_rs::hmac;
    let algorithm = match alg {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        other => panic!("not an HMAC algorithm: {other}"),
    };
    let tag = hmac::sign(&hmac::Key::new(algorithm, secret), input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

/// A compact JWS of `header` and `claims`, HMAC-signed with `alg` under `secret`.
pub fn hmac(alg: &str, secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    hmac_input(alg, secret, &input)
}
