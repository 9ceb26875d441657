//! Compact JWS by hand: base64url segments and their JSON.

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
