use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::Secret;
use super::nonce::Nonces;
use super::{DpopConfig, DpopVerifier};
use crate::error::dpop::NONCE_LEN;
use crate::error::BuildError;
use crate::jwt::Algorithm;

/// Out-of-range settings are refused when the verifier is built, as the validator builders
/// refuse theirs, instead of being clamped.
#[test]
fn out_of_range_settings_are_build_errors_not_clamped() {
    let refused = |config: DpopConfig, what: &str| match DpopVerifier::new(config) {
        Err(BuildError::Invalid(why)) => assert!(why.contains(what), "{why}"),
        other => panic!("{what}: {other:?}"),
    };
    refused(
        DpopConfig::new().iat_window(Duration::MAX, Duration::ZERO),
        "iat_window",
    );
    refused(
        DpopConfig::new().iat_window(Duration::ZERO, Duration::from_secs(3601)),
        "iat_window",
    );
    refused(DpopConfig::new().nonces(Duration::ZERO), "nonces");
    refused(
        DpopConfig::new().nonces(Duration::from_millis(999)),
        "nonces",
    );
    refused(
        DpopConfig::new().algorithms([Algorithm::ES256, Algorithm::HS256]),
        "HMAC",
    );
    refused(DpopConfig::new().algorithms([]), "empty");
    let edge = DpopConfig::new()
        .iat_window(super::MAX_IAT_WINDOW, super::MAX_IAT_WINDOW)
        .nonces(Duration::from_secs(1))
        .algorithms([Algorithm::ES256]);
    assert!(DpopVerifier::new(edge).is_ok());
}

fn nonces(secret: &[u8]) -> Nonces {
    Nonces::new(Duration::from_secs(60), Some(&Secret(Arc::from(secret))))
}

#[test]
fn nonces_round_trip_and_expire() {
    let n = nonces(b"secret");
    let nonce = n.mint(1_000);
    assert_eq!(nonce.as_str().len(), NONCE_LEN);
    // Shown as it is sent in the `DPoP-Nonce` header.
    assert_eq!(nonce.to_string(), nonce.as_str());
    assert_eq!(n.age(nonce.as_str(), 1_000), Some(0));
    assert_eq!(n.age(nonce.as_str(), 1_060), Some(60));
    assert_eq!(n.age(nonce.as_str(), 1_061), None, "expired");
    assert_eq!(n.age(nonce.as_str(), 999), None, "issued in the future");
    assert_eq!(nonces(b"other").age(nonce.as_str(), 1_000), None);
    // The layout: big-endian issue time, then the first 16 bytes of the HMAC.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").unwrap();
    mac.update(&1_000u64.to_be_bytes());
    let mut raw = 1_000u64.to_be_bytes().to_vec();
    raw.extend_from_slice(&mac.finalize().into_bytes()[..16]);
    assert_eq!(nonce.as_str(), URL_SAFE_NO_PAD.encode(raw));
}

#[test]
fn forged_and_garbage_nonces_are_refused() {
    let n = nonces(b"secret");
    let nonce = n.mint(1_000).as_str().to_owned();
    for i in 0..nonce.len() {
        let mut bytes = nonce.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let forged = String::from_utf8(bytes).unwrap();
        assert_eq!(n.age(&forged, 1_000), None, "{forged}");
    }
    // A later issue time with the old MAC.
    let mut raw = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
    raw[7] += 1;
    assert_eq!(n.age(&URL_SAFE_NO_PAD.encode(&raw), 1_001), None);
    for garbage in [
        "",
        "!",
        &"A".repeat(NONCE_LEN),
        &"!".repeat(NONCE_LEN),
        &"é".repeat(NONCE_LEN / 2),
        &format!("{nonce}="),
        &format!("{nonce}{nonce}"),
        &nonce[..NONCE_LEN - 1],
        &"A".repeat(1 << 20),
    ] {
        assert_eq!(n.age(garbage, 1_000), None, "{garbage}");
    }
}

/// Rule: a nonce secret under 32 bytes is a build error, for the layer's verifier and for
/// [`ProofVerifier`](super::ProofVerifier) alike, whether or not nonces are on.
#[test]
fn a_short_nonce_secret_is_a_build_error() {
    let base = url::Url::parse("https://api.example").unwrap();
    for nonces in [true, false] {
        let config = |secret: &[u8]| {
            let config = DpopConfig::new()
                .base_url(base.clone())
                .nonce_secret(secret);
            match nonces {
                true => config.nonces(Duration::from_secs(60)),
                false => config,
            }
        };
        for short in [&b""[..], b"short", &[7; 31]] {
            let error = DpopVerifier::for_layer(config(short))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("nonce secret must be at least 32 bytes"),
                "{error}"
            );
            assert!(DpopVerifier::new(config(short)).is_err());
            assert!(super::ProofVerifier::new(config(short)).is_err());
        }
        assert!(DpopVerifier::for_layer(config(&[7; 32])).is_ok());
        assert!(super::ProofVerifier::new(config(&[7; 64])).is_ok());
    }
}

#[test]
fn random_secrets_differ_and_secrets_stay_out_of_debug() {
    let a = Nonces::new(Duration::from_secs(60), None);
    let b = Nonces::new(Duration::from_secs(60), None);
    let nonce = a.mint(1_000);
    assert_eq!(a.age(nonce.as_str(), 1_000), Some(0));
    assert_eq!(b.age(nonce.as_str(), 1_000), None);
    let config = DpopConfig::new()
        .nonces(Duration::from_secs(60))
        .nonce_secret("hunter2-hunter2-hunter2-hunter2-");
    let verifier = DpopVerifier::new(config.clone()).unwrap();
    for debug in [format!("{config:?}"), format!("{verifier:?}")] {
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("104, 117"), "{debug}");
    }
}

#[test]
fn nonces_are_off_by_default() {
    assert!(DpopConfig::new().nonce_lifetime.is_none());
}

/// A `DPoP` header holding a proof with exactly these claims, signed (EdDSA) with the
/// fuzzing module's key.
#[cfg(feature = "fuzzing")]
fn proof_headers(claims: &serde_json::Value) -> http::HeaderMap {
    headers_with(&crate::fuzzing::dpop_signed_proof(
        claims.to_string().as_bytes(),
    ))
}

/// A `DPoP` header holding `proof` as it is.
#[cfg(feature = "fuzzing")]
fn headers_with(proof: &str) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        super::DPOP_HEADER,
        http::HeaderValue::from_str(proof).unwrap(),
    );
    headers
}

/// Through the verifier, with its clock: `jti`s are kept for the `iat` window, a full cache
/// refuses with 503, and room comes back when proofs leave the window.
#[cfg(feature = "fuzzing")]
#[test]
fn a_full_replay_cache_refuses_proofs_until_accepted_ones_leave_the_window() {
    use http::{HeaderMap, Method};
    use serde_json::json;
    use url::Url;

    use super::Target;
    use crate::error::DpopError;
    use crate::fuzzing::DPOP_NOW;
    let verifier = DpopVerifier::new(
        DpopConfig::new()
            .iat_window(Duration::from_secs(60), Duration::from_secs(5))
            .cache_capacity(2),
    )
    .unwrap();
    let uri = Url::parse("https://api.example/r").unwrap();
    let proof = |jti: &str, iat: u64| {
        let claims = json!({"jti": jti, "htm": "GET", "htu": uri.as_str(), "iat": iat});
        proof_headers(&claims)
    };
    let verify = |headers: &HeaderMap, now: u64| {
        let target = Target {
            headers,
            method: &Method::GET,
            uri: &uri,
            token: None,
            jkt: None,
        };
        verifier.verify_at(&target, now as f64).map(|_| ())
    };
    let now = DPOP_NOW;
    let (a, b, c) = (proof("a", now), proof("b", now + 5), proof("c", now));
    assert_eq!(verify(&a, now), Ok(()));
    assert_eq!(verify(&b, now), Ok(()));
    let full = verify(&c, now).unwrap_err();
    assert_eq!(full.status(), 503);
    assert!(full.to_string().contains("replay cache is full"), "{full}");
    assert_eq!(verify(&a, now), Err(DpopError::Replayed.into()));
    assert_eq!(verify(&b, now), Err(DpopError::Replayed.into()));
    // `a` can pass the window up to iat + 60 s, and is kept that long.
    assert_eq!(verify(&a, now + 60), Err(DpopError::Replayed.into()));
    assert_eq!(
        verify(&c, now + 60).map_err(|e| e.status().as_u16()),
        Err(503)
    );
    // Then it is out of the window (and of the cache): `c`, made now, takes its place.
    assert_eq!(verify(&a, now + 61), Err(DpopError::OutsideWindow.into()));
    let c = proof("c", now + 61);
    assert_eq!(verify(&c, now + 61), Ok(()));
    assert_eq!(verify(&c, now + 61), Err(DpopError::Replayed.into()));
    assert_eq!(verify(&b, now + 61), Err(DpopError::Replayed.into()));
}

/// A replay store that remembers keys forever, or fails every call.
#[cfg(feature = "fuzzing")]
struct TestStore {
    keys: std::sync::Mutex<std::collections::HashSet<[u8; 32]>>,
    down: bool,
}

#[cfg(feature = "fuzzing")]
impl crate::store::ReplayStore for TestStore {
    fn insert_if_absent(&self, key: [u8; 32], _: u64) -> crate::store::StoreFuture<'_, bool> {
        let result = match self.down {
            true => Err(crate::error::StoreError::new("down")),
            false => Ok(self.keys.lock().unwrap().insert(key)),
        };
        Box::pin(std::future::ready(result))
    }
}

/// Two verifiers (two instances) sharing a store refuse each other's proofs as replays; a
/// store that cannot answer refuses with 503; the synchronous path refuses a shared store.
#[cfg(feature = "fuzzing")]
#[tokio::test]
async fn verifiers_sharing_a_replay_store_refuse_each_others_proofs() {
    use http::Method;
    use serde_json::json;
    use url::Url;

    use super::proof::Checked;
    use super::Target;
    use crate::error::DpopError;
    use crate::fuzzing::DPOP_NOW;
    let store = Arc::new(TestStore {
        keys: Default::default(),
        down: false,
    });
    let a = DpopVerifier::new(DpopConfig::new().shared_store(store.clone())).unwrap();
    let b = DpopVerifier::new(DpopConfig::new().shared_store(store)).unwrap();
    let down = DpopVerifier::new(DpopConfig::new().shared_store(TestStore {
        keys: Default::default(),
        down: true,
    }))
    .unwrap();
    let uri = Url::parse("https://api.example/r").unwrap();
    let claims = json!({"jti": "j", "htm": "GET", "htu": uri.as_str(), "iat": DPOP_NOW});
    let headers = proof_headers(&claims);
    let target = Target {
        headers: &headers,
        method: &Method::GET,
        uri: &uri,
        token: None,
        jkt: None,
    };
    let check = |v: &DpopVerifier| match v.check_at(&target, DPOP_NOW as f64) {
        Ok(Checked::Pending(check)) => check,
        _ => panic!("a shared store is awaited"),
    };
    assert!(check(&a).await.is_ok());
    assert_eq!(check(&b).await.map(|_| ()), Err(DpopError::Replayed.into()));
    assert_eq!(check(&down).await.unwrap_err().status(), 503);
    assert_eq!(
        a.verify_at(&target, DPOP_NOW as f64).unwrap_err().status(),
        500
    );
}

/// A proof for `GET https://api.example/r` at [`DPOP_NOW`](crate::fuzzing::DPOP_NOW) with
/// these claims (EdDSA, the fuzzing module's key), checked by a verifier of `config` for a
/// request with this token and a token bound to `jkt`.
#[cfg(feature = "fuzzing")]
fn accept(
    config: DpopConfig,
    claims: serde_json::Value,
    token: Option<&str>,
    jkt: Option<&str>,
) -> Result<super::proof::Accepted, crate::AuthError> {
    verify(config, proof_headers(&claims), token, jkt)
}

/// `headers` checked as [`accept`] checks them.
#[cfg(feature = "fuzzing")]
fn verify(
    config: DpopConfig,
    headers: http::HeaderMap,
    token: Option<&str>,
    jkt: Option<&str>,
) -> Result<super::proof::Accepted, crate::AuthError> {
    use http::Method;
    use url::Url;

    use super::Target;
    use crate::fuzzing::DPOP_NOW;
    let verifier = DpopVerifier::new(config).unwrap();
    let uri = Url::parse("https://api.example/r").unwrap();
    let target = Target {
        headers: &headers,
        method: &Method::GET,
        uri: &uri,
        token,
        jkt,
    };
    verifier.verify_at(&target, DPOP_NOW as f64)
}

#[cfg(feature = "fuzzing")]
fn check_with(config: DpopConfig, claims: serde_json::Value) -> Result<(), crate::AuthError> {
    accept(config, claims, None, None).map(|_| ())
}

#[cfg(feature = "fuzzing")]
fn claims(jti: &str, htm: &str, htu: &str) -> serde_json::Value {
    serde_json::json!({"jti": jti, "htm": htm, "htu": htu, "iat": crate::fuzzing::DPOP_NOW})
}

#[cfg(feature = "fuzzing")]
#[test]
fn empty_jti_htm_or_htu_is_a_missing_claim() {
    use crate::error::DpopError;
    let uri = "https://api.example/r";
    assert_eq!(
        check_with(DpopConfig::new(), claims("j", "GET", uri)),
        Ok(())
    );
    for c in [
        claims("", "GET", uri),
        claims("j", "", uri),
        claims("j", "GET", ""),
    ] {
        assert_eq!(
            check_with(DpopConfig::new(), c.clone()),
            Err(DpopError::MissingClaim.into()),
            "{c}"
        );
    }
}

#[cfg(feature = "fuzzing")]
#[test]
fn the_algorithm_list_decides_and_is_what_the_challenge_names() {
    use crate::error::DpopError;
    let ok = claims("j", "GET", "https://api.example/r");
    // The proof is EdDSA: refused by a list without it.
    let es_only = DpopConfig::new().algorithms([jsonwebtoken::Algorithm::ES256]);
    assert_eq!(DpopVerifier::new(es_only.clone()).unwrap().algs(), "ES256");
    assert!(matches!(
        check_with(es_only, ok.clone()),
        Err(crate::AuthError::Dpop(DpopError::AlgorithmNotAllowed))
    ));
    let both = DpopConfig::new().algorithms([
        jsonwebtoken::Algorithm::ES256,
        jsonwebtoken::Algorithm::EdDSA,
    ]);
    assert_eq!(
        DpopVerifier::new(both.clone()).unwrap().algs(),
        "ES256 EdDSA"
    );
    assert_eq!(check_with(both, ok), Ok(()));
}

#[cfg(feature = "fuzzing")]
#[test]
fn a_proof_over_max_proof_bytes_is_refused() {
    let ok = claims("j", "GET", "https://api.example/r");
    assert_eq!(
        check_with(DpopConfig::new().max_proof_bytes(8192), ok.clone()),
        Ok(())
    );
    assert!(check_with(DpopConfig::new().max_proof_bytes(100), ok).is_err());
}

#[cfg(feature = "fuzzing")]
#[test]
fn method_uri_window_token_hash_and_key_binding() {
    use crate::error::DpopError;
    use crate::fuzzing::DPOP_NOW;
    let uri = "https://api.example/r";
    let refused = |c: serde_json::Value, token: Option<&str>, jkt: Option<&str>| {
        accept(DpopConfig::new(), c, token, jkt)
            .map(|_| ())
            .unwrap_err()
    };
    assert_eq!(
        refused(claims("j", "POST", uri), None, None),
        DpopError::WrongMethod.into()
    );
    assert_eq!(
        refused(claims("j", "GET", "https://api.example/other"), None, None),
        DpopError::WrongUri.into()
    );
    // A window of 60 s back and 5 s ahead.
    let window = || DpopConfig::new().iat_window(Duration::from_secs(60), Duration::from_secs(5));
    let at = |iat: u64| serde_json::json!({"jti": "j", "htm": "GET", "htu": uri, "iat": iat});
    let outside: crate::AuthError = DpopError::OutsideWindow.into();
    assert!(accept(window(), at(DPOP_NOW + 5), None, None).is_ok());
    assert_eq!(
        accept(window(), at(DPOP_NOW + 6), None, None).map(|_| ()),
        Err(outside.clone())
    );
    assert!(accept(window(), at(DPOP_NOW - 60), None, None).is_ok());
    assert_eq!(
        accept(window(), at(DPOP_NOW - 61), None, None).map(|_| ()),
        Err(outside)
    );
    // `ath`: the base64url SHA-256 of the token the request carries.
    let ath = URL_SAFE_NO_PAD.encode(<Sha256 as sha2::Digest>::digest(b"the-token"));
    let with_ath = |ath: &str| serde_json::json!({"jti": "j", "htm": "GET", "htu": uri, "iat": DPOP_NOW, "ath": ath});
    assert!(accept(DpopConfig::new(), with_ath(&ath), Some("the-token"), None).is_ok());
    assert_eq!(
        refused(with_ath(&ath), Some("another-token"), None),
        DpopError::WrongTokenHash.into()
    );
    // `cnf.jkt`: the thumbprint of the proof's key.
    let jkt = accept(DpopConfig::new(), claims("j", "GET", uri), None, None)
        .unwrap()
        .jkt;
    assert!(accept(DpopConfig::new(), claims("j", "GET", uri), None, Some(&jkt)).is_ok());
    assert_eq!(
        refused(claims("j", "GET", uri), None, Some("another-thumbprint")),
        DpopError::KeyMismatch.into()
    );
}

#[cfg(feature = "fuzzing")]
#[test]
fn a_nonce_past_half_its_lifetime_is_renewed() {
    use crate::fuzzing::DPOP_NOW;
    let secret = [7u8; 32];
    let config = DpopConfig::new()
        .nonces(Duration::from_secs(60))
        .nonce_secret(secret);
    let minted = |at: u64| nonces(&secret).mint(at).as_str().to_owned();
    let with_nonce = |nonce: String| {
        serde_json::json!({"jti": "j", "htm": "GET", "htu": "https://api.example/r",
            "iat": DPOP_NOW, "nonce": nonce})
    };
    // Age 30 s of 60: kept. Age 31 s: a fresh nonce goes back with the answer.
    let kept = accept(
        config.clone(),
        with_nonce(minted(DPOP_NOW - 30)),
        None,
        None,
    )
    .unwrap();
    assert!(kept.nonce.is_none());
    let renewed = accept(config, with_nonce(minted(DPOP_NOW - 31)), None, None).unwrap();
    assert!(renewed.nonce.is_some());
}

/// Rule: a signature that does not verify, or that is longer than any accepted key's
/// signature can be, is an invalid signature (RFC 9449 §4.3 step 6), not a malformed proof.
#[cfg(feature = "fuzzing")]
#[test]
fn a_wrong_or_oversized_signature_is_an_invalid_signature() {
    use crate::error::DpopError;
    let proof = crate::fuzzing::dpop_signed_proof(
        claims("j", "GET", "https://api.example/r")
            .to_string()
            .as_bytes(),
    );
    let (signing_input, signature) = proof.rsplit_once('.').unwrap();
    let check = |signature: &str| {
        let headers = headers_with(&format!("{signing_input}.{signature}"));
        verify(DpopConfig::new(), headers, None, None).map(|_| ())
    };
    assert_eq!(check(signature), Ok(()));
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let wrong = format!("{flipped}{}", &signature[1..]);
    assert_eq!(check(&wrong), Err(DpopError::InvalidSignature.into()));
    let oversized = "A".repeat(2_000);
    assert_eq!(check(&oversized), Err(DpopError::InvalidSignature.into()));
    assert_eq!(
        check("*"),
        Err(DpopError::Malformed.into()),
        "not base64url"
    );
}

/// What [`ProofVerifier`](super::ProofVerifier) hands back: the thumbprint of the proof's key,
/// and a fresh nonce once the proof's nonce is past half its lifetime.
#[cfg(feature = "fuzzing")]
#[test]
fn a_verified_proof_names_its_key_and_renews_an_old_nonce() {
    use http::Method;
    use url::Url;

    use super::{jwk_thumbprint, ProofVerifier};
    use crate::fuzzing::{dpop_signed_proof, DPOP_EDDSA_JWK};
    use crate::jose::unix_now;
    let secret = [9u8; 32];
    let verifier = ProofVerifier::new(
        DpopConfig::new()
            .nonces(Duration::from_secs(60))
            .nonce_secret(secret),
    )
    .unwrap();
    let endpoint = Url::parse("https://as.example/token").unwrap();
    let now = unix_now() as u64;
    let verify = |jti: &str, nonce_age: u64| {
        let claims = serde_json::json!({"jti": jti, "htm": "POST", "htu": endpoint.as_str(),
            "iat": now, "nonce": nonces(&secret).mint(now - nonce_age).as_str()});
        let headers = headers_with(&dpop_signed_proof(claims.to_string().as_bytes()));
        verifier
            .verify_proof(&headers, &Method::POST, &endpoint)
            .unwrap()
    };
    let jwk: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(DPOP_EDDSA_JWK).unwrap();
    let young = verify("a", 10);
    assert_eq!(young.jkt(), jwk_thumbprint(&jwk).unwrap());
    assert_eq!(young.fresh_nonce(), None);
    let fresh = verify("b", 40).fresh_nonce().expect("a fresh nonce");
    assert!(nonces(&secret).age(fresh.as_str(), now).is_some());
}
