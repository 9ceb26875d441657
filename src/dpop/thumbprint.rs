//! RFC 7638 JWK thumbprints: what a DPoP-bound token's `cnf.jkt` names.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded: the required members in
/// lexicographic order, as JSON without whitespace. `None` for other key types or when a
/// required member is not a string.
///
/// ```
/// # use serde_json::json;
/// // The example of RFC 7638 §3.1.
/// let jwk = json!({
///     "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
/// });
/// assert_eq!(
///     bearer_guard::dpop::jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
///     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/// );
/// ```
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    thumbprint(jwk)
}

pub(super) fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thumbprints_of_ec_and_okp() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "ignored"});
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(
            br#"{"crv":"P-256","kty":"EC","x":"a","y":"b"}"#,
        ));
        assert_eq!(thumbprint(ec.as_object().unwrap()), Some(expected));
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "a"});
        let expected =
            URL_SAFE_NO_PAD.encode(Sha256::digest(br#"{"crv":"Ed25519","kty":"OKP","x":"a"}"#));
        assert_eq!(thumbprint(okp.as_object().unwrap()), Some(expected));
        assert_eq!(
            thumbprint(json!({"kty": "oct", "k": "a"}).as_object().unwrap()),
            None
        );
        assert_eq!(
            thumbprint(
                json!({"kty": "EC", "crv": "P-256", "x": "a"})
                    .as_object()
                    .unwrap()
            ),
            None
        );
    }

    /// The example of RFC 7638 §3.1 (an RSA key), through the public function.
    #[test]
    fn the_rfc_7638_example() {
        let jwk = json!({
            "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        assert_eq!(
            jwk_thumbprint(jwk.as_object().unwrap()).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
    }
}
