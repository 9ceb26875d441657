//! Entry points for the fuzz targets in `fuzz/` and for replaying their corpus in
//! `tests/fuzz_corpus.rs` (feature `fuzzing`). Not part of the public API.
//!
//! Each function takes arbitrary bytes and must return normally whatever they are; it panics
//! only when a crate invariant that it checks is broken, which is a bug for the fuzzer to
//! report.

use std::sync::OnceLock;

mod differential;
mod mcp;
mod mtls;
mod store;
pub use differential::{jwt_differential, reference as jwt_reference};
pub use mcp::jsonrpc;
pub use mtls::{mtls, mtls_thumbprint};
pub use store::{store, store_outcome};

use serde_json::{Map, Value};

use crate::{
    claims::Scopes, discovery::IssuerMetadata, jwks::KeySet, AuthError, Claims, JwtValidator,
    Validator,
};

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
    let Ok(key) = jsonwebtoken::EncodingKey::from_secret(HMAC_SECRET) else {
        panic!("HMAC key refused");
    };
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

/// `discovery`: [`IssuerMetadata::from_json`] against [`ISSUER`].
pub fn discovery(data: &[u8]) {
    if let Ok(metadata) = IssuerMetadata::from_json(data, ISSUER) {
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
        check_scopes(&Scopes::parse(text), false);
    }
    if let Ok(map) = serde_json::from_slice::<Map<String, Value>>(data) {
        let from_array = |name: Option<&str>| {
            let value = match name {
                Some(n) => crate::claims::lookup(&map, n),
                None => map.get("scope").or_else(|| map.get("scp")),
            };
            matches!(value, Some(Value::Array(_)))
        };
        check_scopes(&Scopes::from_claims(&map, None), from_array(None));
        for name in map.keys() {
            check_scopes(
                &Scopes::from_claims(&map, Some(name)),
                from_array(Some(name)),
            );
        }
    }
}

/// Sorted, unique, non-empty values; a space only where an array element held one (array
/// elements are kept whole, strings are split on spaces).
fn check_scopes(scopes: &Scopes, spaces_allowed: bool) {
    let all: Vec<&str> = scopes.iter().collect();
    assert_eq!(all.len(), scopes.len());
    assert!(all.windows(2).all(|w| w.first() < w.get(1)), "not sorted");
    for scope in all {
        assert!(
            !scope.is_empty() && (spaces_allowed || !scope.contains(' ')),
            "bad scope {scope:?}"
        );
        assert!(scopes.contains(scope), "a listed scope is not contained");
    }
}

/// The clock of the [`dpop`] target, in seconds since the Unix epoch (2027-01-15T08:00:00Z):
/// proofs are checked as if it were this time, so that the seeds stay inside the `iat` window
/// and every run decides the same.
pub const DPOP_NOW: u64 = 1_800_000_000;
/// The request method the [`dpop`] target's proofs are checked against.
pub const DPOP_METHOD: &str = "GET";
/// The request URI the [`dpop`] target's proofs are checked against.
pub const DPOP_URI: &str = "https://api.example/resource";
/// The access token whose hash `ath` must be for the [`dpop`] target's verifier without
/// nonces (the one with nonces is given no token, so it does not check `ath`).
pub const DPOP_TOKEN: &str = "bearer-guard-fuzzing-access-token";
/// The nonce secret of the [`dpop`] target's verifier with nonces.
pub const DPOP_NONCE_SECRET: &[u8] = b"bearer-guard-fuzzing-nonce-secret";
/// The nonce lifetime of the [`dpop`] target's verifier with nonces, in seconds.
pub const DPOP_NONCE_LIFETIME: u64 = 300;
/// The public JWK of the fixed EC P-256 test key of the [`dpop`] target.
pub const DPOP_ES256_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"hpwEh-8lZu7DSoppTxu1XtFtj-rhxfSWUzSB-5oHQm0","y":"DlXJq2NBM5sPfQyIUngVAaMniXHHI3MfW9C9NSRJz1E"}"#;
/// The public JWK of the fixed Ed25519 test key of the [`dpop`] target.
pub const DPOP_EDDSA_JWK: &str =
    r#"{"kty":"OKP","crv":"Ed25519","x":"e9Y-3AYgtVHYiQYuKPqVWwpKI_bSBbeN3Sxy0GvI0Mc"}"#;
/// The private halves of the two keys (PKCS#8 DER, base64url). Published test keys: they sign
/// the seed proofs and, in [`dpop`], proofs whose claims are the input; never trust them.
const DPOP_ES256_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgINBHbo2moNk1u-nDmSDUTmObywRM6gG7jwO6bGrsmeehRANCAASGnASH7yVm7sNKimlPG7Ve0W2P6uHF9JZTNIH7mgdCbQ5VyatjQTObD30MiFJ4FQGjJ4lxxyNzH1vQvTUkSc9R";
const DPOP_EDDSA_PKCS8: &str = "MC4CAQAwBQYDK2VwBCIEIM8Rt3IMosd9bKSeFP98BT3V8tTkUU0QLkIAK35I8BXv";

/// A compact JWS of exactly `header` and `claims` (JSON text, not checked), signed with the
/// [`dpop`] target's ES256 key (`es256`) or its Ed25519 key.
pub fn dpop_sign(es256: bool, header: &[u8], claims: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;

    let (alg, der) = if es256 {
        (jsonwebtoken::Algorithm::ES256, DPOP_ES256_PKCS8)
    } else {
        (jsonwebtoken::Algorithm::EdDSA, DPOP_EDDSA_PKCS8)
    };
    let Ok(der) = URL_SAFE_NO_PAD.decode(der) else {
        panic!("the fuzzing DPoP key is not base64url");
    };
    let key = if es256 {
        jsonwebtoken::EncodingKey::from_ec_der(&der)
    } else {
        jsonwebtoken::EncodingKey::from_ed_der(&der)
    };
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let provider = crate::crypto::Backend::default().provider();
    let Ok(signer) = (provider.signer_factory)(&alg, &key) else {
        panic!("no {alg:?} signer for the fuzzing DPoP key");
    };
    let Ok(signature) = signer.try_sign(input.as_bytes()) else {
        panic!("{alg:?} signing failed");
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// A proof with header `{"typ":"dpop+jwt","alg":"EdDSA","jwk":`[`DPOP_EDDSA_JWK`]`}` and
/// exactly `claims` as its claims, signed with the [`dpop`] target's Ed25519 key.
pub fn dpop_signed_proof(claims: &[u8]) -> String {
    let header = format!(r#"{{"typ":"dpop+jwt","alg":"EdDSA","jwk":{DPOP_EDDSA_JWK}}}"#);
    dpop_sign(false, header.as_bytes(), claims)
}

/// The request the [`dpop`] target checks proofs for.
struct DpopRequest {
    method: http::Method,
    uri: url::Url,
    plain: crate::dpop::DpopConfig,
    nonces: crate::dpop::DpopConfig,
}

fn dpop_request() -> Option<&'static DpopRequest> {
    static REQUEST: OnceLock<Option<DpopRequest>> = OnceLock::new();
    REQUEST
        .get_or_init(|| {
            let plain = crate::dpop::DpopConfig::new();
            Some(DpopRequest {
                method: http::Method::from_bytes(DPOP_METHOD.as_bytes()).ok()?,
                uri: url::Url::parse(DPOP_URI).ok()?,
                nonces: plain
                    .clone()
                    .nonces(std::time::Duration::from_secs(DPOP_NONCE_LIFETIME))
                    .nonce_secret(DPOP_NONCE_SECRET),
                plain,
            })
        })
        .as_ref()
}

/// What the [`dpop`] target's two verifiers decide about `proof` as the `DPoP` header value
/// (`None` if it is not a valid header value): the thumbprint of an accepted proof's key, or
/// the refusal. The first verifier has the default configuration and checks `ath` against
/// [`DPOP_TOKEN`]; the second requires nonces (made with [`DPOP_NONCE_SECRET`]) and is given
/// no token. Both are made afresh for each call, so the outcome depends on nothing but
/// `proof` (the `jti` replay cache starts empty).
pub fn dpop_outcomes(
    proof: &[u8],
) -> Option<(
    Result<String, crate::error::DpopError>,
    Result<String, crate::error::DpopError>,
)> {
    let value = http::HeaderValue::from_bytes(proof).ok()?;
    let Some(request) = dpop_request() else {
        panic!("the fuzzing DPoP request could not be built");
    };
    let mut headers = http::HeaderMap::new();
    headers.insert(crate::dpop::DPOP_HEADER, value);
    let check = |config: &crate::dpop::DpopConfig, token: Option<&str>| {
        let Ok(verifier) = crate::dpop::DpopVerifier::new(config.clone()) else {
            panic!("the fuzzing DPoP verifier could not be built");
        };
        let verify = || {
            let target = crate::dpop::Target {
                headers: &headers,
                method: &request.method,
                uri: &request.uri,
                token,
                jkt: None,
            };
            verifier.verify_at(&target, DPOP_NOW as f64)
        };
        // A fresh verifier's replay cache is never full: every refusal is a `DpopError`.
        let dpop_error = |e: crate::AuthError| match e {
            crate::AuthError::Dpop(e) => e,
            other => panic!("a refusal that cannot happen here: {other:?}"),
        };
        let outcome = verify().map_err(dpop_error);
        if outcome.is_ok() {
            assert_eq!(
                verify().map(|a| a.jkt).map_err(dpop_error),
                Err(crate::error::DpopError::Replayed),
                "an accepted proof was accepted again"
            );
        }
        outcome.map(|accepted| {
            if let Some(nonce) = accepted.nonce {
                check_nonce(nonce);
            }
            accepted.jkt
        })
    };
    let plain = check(&request.plain, Some(DPOP_TOKEN));
    let nonces = check(&request.nonces, None);
    Some((plain, nonces))
}

/// A nonce the verifier made: 32 base64url characters.
fn check_nonce(nonce: crate::dpop::Nonce) {
    let text = nonce.as_str();
    assert_eq!(text.len(), 32, "nonce {text:?}");
    assert!(
        text.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "nonce {text:?}"
    );
}

/// `dpop`: the `DPoP` proof check (RFC 9449), in two ways. First `data` is the `DPoP` header
/// value of a `GET` [`DPOP_URI`] request (see [`dpop_outcomes`]): shape, header, key and
/// signature. Since the fuzzer cannot forge signatures, `data` is then also the claims of a
/// proof signed with the fixed Ed25519 key, which takes every input to claim parsing and
/// checking (`jti`, `htm`, `htu`, `iat`, `ath`, `nonce`, replay).
///
/// The clock is fixed at [`DPOP_NOW`] and each verifier is made afresh per input, so that the
/// outcome depends on the input alone. Checked: a refusal is an error of the step that can
/// fail; an accepted proof's key has a 43-character thumbprint equal to
/// [`jwk_thumbprint`](crate::dpop::jwk_thumbprint) of its `jwk`, is refused as replayed when
/// presented again, and, with nonces, carried a nonce; a signed proof is accepted only if a
/// plain JSON parse of its claims gives the checked values.
pub fn dpop(data: &[u8]) {
    use crate::error::DpopError as E;

    if let Some((plain, nonces)) = dpop_outcomes(data) {
        for (outcome, with_nonces) in [(plain, false), (nonces, true)] {
            match outcome {
                Ok(jkt) => check_accepted_header(data, &jkt),
                Err(E::Missing | E::Multiple | E::BoundToken | E::NotBound | E::KeyMismatch) => {
                    panic!("a refusal that cannot happen here: {outcome:?}")
                }
                Err(E::UseNonce(nonce)) if with_nonces => check_nonce(nonce),
                Err(E::UseNonce(_)) => panic!("a nonce asked for without nonces"),
                Err(_) => {}
            }
        }
    }

    let proof = dpop_signed_proof(data);
    let Some((plain, nonces)) = dpop_outcomes(proof.as_bytes()) else {
        panic!("a signed proof is not a header value");
    };
    let claims: Option<Map<String, Value>> = serde_json::from_slice(data).ok();
    for (outcome, with_nonces) in [(plain, false), (nonces, true)] {
        match outcome {
            Ok(jkt) => {
                check_accepted_header(proof.as_bytes(), &jkt);
                let Some(claims) = &claims else {
                    panic!("claims that are not a JSON object accepted");
                };
                let text = |name: &str| claims.get(name).and_then(Value::as_str);
                assert_eq!(text("htm"), Some(DPOP_METHOD), "wrong htm accepted");
                assert!(text("jti").is_some_and(|j| !j.is_empty()), "no jti");
                assert!(text("htu").is_some(), "no htu");
                let Some(iat) = claims.get("iat").and_then(Value::as_f64) else {
                    panic!("no numeric iat accepted");
                };
                assert!((iat - DPOP_NOW as f64).abs() <= 60.0, "iat {iat} accepted");
                if with_nonces {
                    assert!(text("nonce").is_some(), "no nonce accepted");
                } else {
                    assert!(text("ath").is_some(), "no ath accepted");
                }
            }
            Err(E::Malformed) => {
                // Only the claims can be at fault: not a JSON object without duplicate
                // members, or the proof too large.
                assert!(
                    proof.len() > 8 * 1024 || crate::jose::parse_object(data).is_err(),
                    "signed claims refused as malformed"
                );
            }
            Err(E::UseNonce(nonce)) if with_nonces => check_nonce(nonce),
            Err(
                E::MissingClaim
                | E::WrongMethod
                | E::WrongUri
                | E::OutsideWindow
                | E::WrongTokenHash,
            ) => {}
            Err(other) => panic!("a signed proof refused with {other:?}"),
        }
    }
}

/// An accepted proof's thumbprint: 43 base64url characters (a SHA-256), that of its `jwk`.
fn check_accepted_header(proof: &[u8], jkt: &str) {
    assert_eq!(jkt.len(), 43, "thumbprint {jkt:?}");
    let header = proof
        .split(|b| *b == b'.')
        .next()
        .and_then(|h| std::str::from_utf8(h).ok())
        .and_then(|h| crate::jose::Header::decode(h).ok());
    let jwk = header.as_ref().and_then(crate::jose::Header::jwk);
    assert_eq!(
        jwk.and_then(crate::dpop::jwk_thumbprint).as_deref(),
        Some(jkt),
        "the thumbprint is not that of the header's jwk"
    );
}
