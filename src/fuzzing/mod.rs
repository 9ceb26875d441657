//! Entry points for the fuzz targets in `fuzz/` and for replaying their corpus in
//! `tests/fuzz_corpus.rs` (feature `fuzzing`). Not part of the public API.
//!
//! Each function takes arbitrary bytes and must return normally whatever they are; it panics
//! only when a crate invariant that it checks is broken, which is a bug for the fuzzer to
//! report.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::{AuthError, Claims, JwtValidator, KeySet, Metadata, Scopes, Validator};

/// The issuer the [`jwt`] target's validator trusts (and the [`discovery`] target expects).
pub const ISSUER: &str = "https://issuer.example";
/// The audience the [`jwt`] target's validator accepts.
pub const AUDIENCE: &str = "api";
/// The HMAC secret of the [`jwt`] target's validator (HS256/384/512 tokens).
pub const HMAC_SECRET: &[u8] = b"bearer-guard-fuzzing-hmac-secret";
/// The fixed JWK Set of the [`jwt`] target: an RSA, an EC P-256 and an Ed25519 public key
/// whose private halves signed the seed tokens in `fuzz/corpus/jwt/`.
pub const JWKS: &[u8] = include_bytes!("jwks.json");

/// `bearer_header`: [`bearer::parse`](crate::bearer::parse) of an `Authorization` value.
pub fn bearer_header(data: &[u8]) {
    if let Ok(token) = crate::bearer::parse(data) {
        assert!(!token.is_empty(), "empty token accepted");
        assert!(
            token.bytes().all(|b| b.is_ascii_graphic()),
            "token with a non-visible byte accepted"
        );
        assert!(
            data.ends_with(token.as_bytes()),
            "token is not the end of the header"
        );
    }
}

/// The validator of the [`jwt`] target, built once; `None` only if building it failed.
pub fn jwt_validator() -> Option<&'static JwtValidator> {
    static VALIDATOR: OnceLock<Option<JwtValidator>> = OnceLock::new();
    VALIDATOR
        .get_or_init(|| {
            let keys = KeySet::from_json(JWKS).ok()?;
            let runtime = tokio::runtime::Builder::new_current_thread().build().ok()?;
            runtime
                .block_on(
                    JwtValidator::builder(ISSUER)
                        .audience(AUDIENCE)
                        .key_set(keys)
                        .hmac_secret(HMAC_SECRET)
                        .build(),
                )
                .ok()
        })
        .as_ref()
}

/// What the [`jwt`] target's validator decides about `data` (as a token), or `None` if
/// `data` is not UTF-8 (a header value reaching the validator always is).
pub fn jwt_outcome(data: &[u8]) -> Option<Result<Claims, AuthError>> {
    let token = std::str::from_utf8(data).ok()?;
    let Some(validator) = jwt_validator() else {
        panic!("the fuzzing validator could not be built");
    };
    match validator.validate(token).into_ready() {
        Ok(outcome) => Some(outcome),
        Err(_) => panic!("a validator with a fixed key set must decide at once"),
    }
}

/// `jwt`: the whole JWT path (shape, header, key choice, signature, claims) with a fixed key
/// set and an HMAC secret.
pub fn jwt(data: &[u8]) {
    match jwt_outcome(data) {
        Some(Ok(claims)) => {
            assert_eq!(claims.issuer(), Some(ISSUER), "wrong issuer accepted");
            assert!(
                claims.audiences().any(|a| a == AUDIENCE),
                "wrong audience accepted"
            );
            assert!(claims.expires_at().is_some(), "token without exp accepted");
        }
        Some(Err(AuthError::InvalidToken(_))) | None => {}
        Some(Err(other)) => panic!("a token can only be invalid here, got {other:?}"),
    }
}

/// The header of the tokens [`jwt_claims`] makes.
const CLAIMS_HEADER: &str = r#"{"alg":"HS256","typ":"at+jwt"}"#;

/// `jwt_claims`: the claims path past the signature. `data` becomes the payload of an HS256
/// token signed with [`HMAC_SECRET`], so every input reaches claim parsing and checking. An
/// accepted token's claims must be exactly what a plain JSON parse of `data` gives (no
/// duplicate member may make the validator and the handler read different values), with the
/// right issuer and audience and an `exp` not long past.
pub fn jwt_claims(data: &[u8]) {
    let token = hs256_token(data);
    let Some(Ok(claims)) = jwt_outcome(token.as_bytes()) else {
        jwt(token.as_bytes());
        return;
    };
    let plain: Option<Map<String, Value>> = serde_json::from_slice(data).ok();
    assert_eq!(
        plain.as_ref(),
        Some(claims.as_map()),
        "the handler would see other claims than the validator checked"
    );
    jwt(token.as_bytes());
}

/// An HS256 token with header `{"alg":"HS256","typ":"at+jwt"}` and exactly `payload` as its
/// payload, signed with [`HMAC_SECRET`].
pub fn hs256_token(payload: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(CLAIMS_HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let key = jsonwebtoken::EncodingKey::from_secret(HMAC_SECRET);
    let provider = crate::crypto::Backend::default().provider();
    let Ok(signer) = (provider.signer_factory)(&jsonwebtoken::Algorithm::HS256, &key) else {
        panic!("no HS256 signer");
    };
    let Ok(tag) = signer.try_sign(input.as_bytes()) else {
        panic!("HS256 signing failed");
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// `jwks`: [`KeySet::from_json`], then key look-ups on what it accepted.
pub fn jwks(data: &[u8]) {
    let Ok(set) = KeySet::from_json(data) else {
        return;
    };
    let kids: Vec<&str> = set.kids().collect();
    assert!(kids.len() <= set.len(), "more kids than keys");
    for kid in kids {
        assert!(set.contains(kid), "a listed kid is missing");
        for alg in crate::jwt::DEFAULT_ALGORITHMS {
            let _ = set.lookup(Some(kid), alg);
        }
    }
    for alg in crate::jwt::DEFAULT_ALGORITHMS {
        let _ = set.lookup(None, alg);
    }
}

/// `discovery`: [`Metadata::from_json`] against [`ISSUER`].
pub fn discovery(data: &[u8]) {
    if let Ok(metadata) = Metadata::from_json(data, ISSUER) {
        assert_eq!(
            metadata.issuer, ISSUER,
            "metadata of another issuer accepted"
        );
    }
}

/// `introspection`: [`parse_response`](crate::introspection::parse_response) of an RFC 7662
/// answer. Only a JSON object whose `active` is the boolean `true` may count as active.
pub fn introspection(data: &[u8]) {
    let Ok(parsed) = crate::introspection::parse_response(data) else {
        return;
    };
    let object: Option<Map<String, Value>> = serde_json::from_slice(data).ok();
    let active = object
        .as_ref()
        .and_then(|o| o.get("active"))
        .and_then(Value::as_bool);
    match parsed {
        Some(members) => {
            assert_eq!(
                active,
                Some(true),
                "a response without active: true counted as active"
            );
            assert_eq!(
                Some(&members),
                object.as_ref(),
                "members differ from the document"
            );
        }
        None => assert_eq!(
            active,
            Some(false),
            "a response without active: false counted as inactive"
        ),
    }
}

/// `scopes`: [`Scopes::parse`] of the bytes as text, and [`Scopes::from_claims`] of them as a
/// JSON object.
pub fn scopes(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        check_scopes(&Scopes::parse(text));
    }
    if let Ok(map) = serde_json::from_slice::<Map<String, Value>>(data) {
        check_scopes(&Scopes::from_claims(&map, None));
        for name in map.keys() {
            check_scopes(&Scopes::from_claims(&map, Some(name)));
        }
    }
}

fn check_scopes(scopes: &Scopes) {
    let all: Vec<&str> = scopes.iter().collect();
    assert_eq!(all.len(), scopes.len());
    assert!(all.windows(2).all(|w| w.first() < w.get(1)), "not sorted");
    for scope in all {
        assert!(
            !scope.is_empty() && !scope.contains(' '),
            "bad scope {scope:?}"
        );
        assert!(scopes.contains(scope), "a listed scope is not contained");
    }
}
