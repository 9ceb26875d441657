//! Server-provided nonces (RFC 9449 §9): asked for, checked after the signature, shared by
//! layers with one secret, refreshed past half their lifetime.

use super::*;

const SECRET: &[u8] = b"nonce secret shared by the fleet!";
const USE_NONCE: &str = "the DPoP proof lacks a valid server nonce";

/// A nonce as the layer makes them, computed here from its documented layout: base64url of the
/// issue time (u64 seconds, big-endian) followed by the first 16 bytes of
/// HMAC-SHA256(secret, issue time).
fn nonce_at(secret: &[u8], time: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(&time.to_be_bytes());
    let mut raw = time.to_be_bytes().to_vec();
    raw.extend_from_slice(&mac.finalize().into_bytes()[..16]);
    b64(raw)
}

/// A DPoP config for loopback requiring nonces valid for 60 s, made with `secret` if given.
fn with_nonces(secret: Option<&[u8]>) -> DpopConfig {
    let config = DpopConfig::new()
        .default_scheme(http::uri::Scheme::HTTP)
        .nonces(Duration::from_secs(60));
    match secret {
        Some(secret) => config.nonce_secret(secret),
        None => config,
    }
}

async fn nonce_setup(secret: Option<&[u8]>) -> Setup {
    let server = TestServer::start().await;
    let url = api(&server, Some(with_nonces(secret))).await;
    Setup {
        server,
        client: DpopClient::new(),
        url,
    }
}

/// A GET answer: status, challenge, body, and the `DPoP-Nonce` header if there is one.
struct Answer {
    r: (u16, String, String),
    nonce: Option<String>,
}

async fn call_nonce(url: &str, token: &str, proof: &str) -> Answer {
    let res = reqwest::Client::new()
        .get(url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof)
        .send()
        .await
        .unwrap();
    let nonce = res
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().unwrap().to_owned());
    Answer {
        r: answer(res).await,
        nonce,
    }
}

impl DpopClient {
    /// A valid proof for GET `url` with `token`, with `nonce` as its `nonce` claim unless null.
    fn proof_with(&self, url: &str, token: &str, nonce: Value) -> String {
        let mut claims = self.claims("GET", url, Some(token));
        if !nonce.is_null() {
            claims["nonce"] = nonce;
        }
        self.sign(&self.header(), &claims)
    }
}

/// Asserts the exact `use_dpop_nonce` refusal and returns the fresh nonce it carries.
fn use_nonce(a: Answer) -> String {
    assert_refused(a.r, "use_dpop_nonce", USE_NONCE, &[]);
    let nonce = a.nonce.expect("a DPoP-Nonce header");
    assert_eq!(nonce.len(), 32, "{nonce}");
    nonce
}

#[tokio::test]
async fn nonces_on_a_proof_without_nonce_gets_one_and_the_retry_succeeds() {
    let s = nonce_setup(None).await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof_for("GET", &s.url, Some(&token));
    let a = call_nonce(&s.url, &token, &proof).await;
    assert_eq!(
        a.r.1,
        format!(
            r#"DPoP realm="test", error="use_dpop_nonce", error_description="{USE_NONCE}", algs="{ALGS}""#
        )
    );
    let nonce = use_nonce(a);

    let proof = s.client.proof_with(&s.url, &token, json!(nonce));
    let a = call_nonce(&s.url, &token, &proof).await;
    assert_eq!(a.r.0, 200, "{:?}", a.r);
    // A fresh nonce is not replaced.
    assert_eq!(a.nonce, None);
    // And it can be used again, with new proofs, for its lifetime.
    let proof = s.client.proof_with(&s.url, &token, json!(nonce));
    assert_eq!(call_nonce(&s.url, &token, &proof).await.r.0, 200);
}

#[tokio::test]
async fn forged_foreign_expired_future_and_garbage_nonces_get_use_dpop_nonce() {
    let s = nonce_setup(Some(SECRET)).await;
    let token = s.client.access_token(&s.server).await;
    let now = now();
    let good = nonce_at(SECRET, now);
    let mut forged = good.clone().into_bytes();
    forged[20] = if forged[20] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    let cases = [
        ("no nonce", Value::Null),
        ("forged MAC", json!(forged)),
        (
            "another secret",
            json!(nonce_at(b"another secret entirely, 32 byte", now)),
        ),
        ("expired", json!(nonce_at(SECRET, now - 120))),
        ("issued in the future", json!(nonce_at(SECRET, now + 120))),
        ("empty", json!("")),
        ("not base64url", json!("!!not base64, not a nonce at all!")),
        ("padded", json!(format!("{good}=="))),
        ("huge", json!("A".repeat(4000))),
        ("number", json!(12345)),
        ("object", json!({"nonce": good})),
        ("array", json!([good])),
        ("bool", json!(true)),
    ];
    for (name, nonce) in cases {
        let proof = s.client.proof_with(&s.url, &token, nonce);
        let a = call_nonce(&s.url, &token, &proof).await;
        assert_eq!(a.r.0, 401, "{name}: {:?}", a.r);
        let fresh = use_nonce(a);
        assert_ne!(fresh, forged, "{name}");
    }
    // The genuine nonce is accepted: the refusals above were about the nonce alone.
    let proof = s.client.proof_with(&s.url, &token, json!(good));
    assert_eq!(call_nonce(&s.url, &token, &proof).await.r.0, 200);
}

#[tokio::test]
async fn the_nonce_is_checked_only_after_the_signature() {
    let s = nonce_setup(Some(SECRET)).await;
    let token = s.client.access_token(&s.server).await;
    // Claims without nonce swapped into a signed proof: the signature fails first.
    let good = s
        .client
        .proof_with(&s.url, &token, json!(nonce_at(SECRET, now())));
    let forged = with_payload(&good, &s.client.claims("GET", &s.url, Some(&token)));
    let a = call_nonce(&s.url, &token, &forged).await;
    bad_proof(a.r, "the DPoP proof signature is invalid", &[&token]);
    assert_eq!(a.nonce, None);
    // Junk that is no JWS at all.
    let a = call_nonce(&s.url, &token, "junk").await;
    bad_proof(a.r, "the DPoP proof is malformed", &[&token]);
    assert_eq!(a.nonce, None);
}

#[tokio::test]
async fn layers_sharing_a_secret_accept_each_others_nonces() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let a = api(&server, Some(with_nonces(Some(SECRET)))).await;
    let b = api(&server, Some(with_nonces(Some(SECRET)))).await;
    let other = api(
        &server,
        Some(with_nonces(Some(b"a different secret for this one!!"))),
    )
    .await;
    let random = api(&server, Some(with_nonces(None))).await;
    let token = client.access_token(&server).await;

    let proof = client.proof_for("GET", &a, Some(&token));
    let nonce = use_nonce(call_nonce(&a, &token, &proof).await);
    let proof = client.proof_with(&b, &token, json!(nonce));
    let r = call_nonce(&b, &token, &proof).await.r;
    assert_eq!(r.0, 200, "{r:?}");
    for url in [&other, &random] {
        let proof = client.proof_with(url, &token, json!(nonce));
        let fresh = use_nonce(call_nonce(url, &token, &proof).await);
        assert_ne!(fresh, nonce);
        // Each accepts its own.
        let proof = client.proof_with(url, &token, json!(fresh));
        assert_eq!(call_nonce(url, &token, &proof).await.r.0, 200);
    }
}

#[tokio::test]
async fn a_proof_refused_for_its_nonce_does_not_use_up_its_jti() {
    let s = nonce_setup(Some(SECRET)).await;
    let token = s.client.access_token(&s.server).await;
    let first = s.client.claims("GET", &s.url, Some(&token));
    let refused = s.client.sign(&s.client.header(), &first);
    let nonce = use_nonce(call_nonce(&s.url, &token, &refused).await);

    // A new proof with the same jti and the nonce is accepted...
    let mut claims = s.client.claims("GET", &s.url, Some(&token));
    claims["jti"] = first["jti"].clone();
    claims["nonce"] = json!(nonce);
    let retry = s.client.sign(&s.client.header(), &claims);
    let r = call_nonce(&s.url, &token, &retry).await.r;
    assert_eq!(r.0, 200, "{r:?}");
    // ...and that one does use it up.
    claims["iat"] = json!(now() - 1);
    let again = s.client.sign(&s.client.header(), &claims);
    bad_proof(
        call_nonce(&s.url, &token, &again).await.r,
        "the DPoP proof was already used",
        &[&token],
    );
}

#[tokio::test]
async fn nonces_off_by_default_nonce_claims_are_ignored() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    for nonce in [
        Value::Null,
        json!("anything"),
        json!(nonce_at(SECRET, 0)),
        json!(1),
    ] {
        let proof = s.client.proof_with(&s.url, &token, nonce);
        let a = call_nonce(&s.url, &token, &proof).await;
        assert_eq!(a.r.0, 200, "{:?}", a.r);
        assert_eq!(a.nonce, None);
    }
}

#[tokio::test]
async fn a_nonce_past_half_its_lifetime_gets_a_fresh_one_on_success() {
    let s = nonce_setup(Some(SECRET)).await;
    let token = s.client.access_token(&s.server).await;
    // Lifetime 60 s: 20 s old is fine as it is.
    let proof = s
        .client
        .proof_with(&s.url, &token, json!(nonce_at(SECRET, now() - 20)));
    let a = call_nonce(&s.url, &token, &proof).await;
    assert_eq!(a.r.0, 200, "{:?}", a.r);
    assert_eq!(a.nonce, None);
    // 40 s old: accepted, and the answer carries a fresh nonce that works.
    let old = nonce_at(SECRET, now() - 40);
    let proof = s.client.proof_with(&s.url, &token, json!(old));
    let a = call_nonce(&s.url, &token, &proof).await;
    assert_eq!(a.r.0, 200, "{:?}", a.r);
    let fresh = a.nonce.expect("a fresh DPoP-Nonce");
    assert_ne!(fresh, old);
    let proof = s.client.proof_with(&s.url, &token, json!(fresh));
    let a = call_nonce(&s.url, &token, &proof).await;
    assert_eq!(a.r.0, 200, "{:?}", a.r);
    assert_eq!(a.nonce, None);
}

/// With nonces on, `ProofVerifier` asks for one and accepts the proof that carries it; an old
/// nonce is accepted with a fresh one to send back.
#[test]
fn proof_verifier_with_nonces() {
    use bearer_guard::dpop::{ProofVerifier, DPOP_HEADER};
    use bearer_guard::{error::DpopError, AuthError};
    use http::{HeaderMap, Method};

    let verifier = ProofVerifier::new(with_nonces(Some(SECRET))).unwrap();
    let client = DpopClient::new();
    let endpoint = "http://127.0.0.1:1/token";
    let uri = url::Url::parse(endpoint).unwrap();
    let verify = |nonce: Value| {
        let mut claims = client.claims("POST", endpoint, None);
        if !nonce.is_null() {
            claims["nonce"] = nonce;
        }
        let mut headers = HeaderMap::new();
        let proof = client.sign(&client.header(), &claims);
        headers.insert(DPOP_HEADER, proof.parse().unwrap());
        verifier.verify_proof(&headers, &Method::POST, &uri)
    };

    let Err(AuthError::Dpop(DpopError::UseNonce(nonce))) = verify(Value::Null) else {
        panic!("a proof without a nonce must be answered with one");
    };
    let proof = verify(json!(nonce.as_str())).unwrap();
    assert_eq!(proof.jkt(), client.jkt());
    assert_eq!(proof.fresh_nonce(), None);

    let proof = verify(json!(nonce_at(SECRET, now() - 40))).unwrap();
    let fresh = proof
        .fresh_nonce()
        .expect("a fresh nonce past half the lifetime");
    assert!(verify(json!(fresh.as_str())).is_ok());
}
