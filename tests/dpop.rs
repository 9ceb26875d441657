//! DPoP (RFC 9449) end to end over loopback: a client with its own EC P-256 key gets a
//! DPoP-bound token from the bundled authorization server and calls a protected API with
//! `Authorization: DPoP` and a proof. Every rule of the proof check is then broken in turn, each
//! time changing only that one thing in an otherwise valid request, and must be refused with its
//! own description.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use aws_lc_rs::encoding::AsBigEndian;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::time::Duration;

use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{dpop::DpopConfig, validator::ValidationFuture, AuthLayer, Claims, Validator};
use bearer_guard_testkit::TestServer;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::jwt::{b64, decode, hs256_input, with_payload};
use support::{answer, bind, json, now, serve_on};
use tower::ServiceExt as _;

const ALGS: &str = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA";

fn ath(token: &str) -> String {
    b64(Sha256::digest(token.as_bytes()))
}

/// A DPoP client: an EC P-256 key pair and the proofs it signs.
struct DpopClient {
    key: EcdsaKeyPair,
    jwk: Value,
    n: std::cell::Cell<u32>,
}

impl DpopClient {
    fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref().to_vec();
        assert_eq!(point.len(), 65);
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        });
        DpopClient {
            key,
            jwk,
            n: std::cell::Cell::new(0),
        }
    }

    /// RFC 7638 thumbprint, computed here independently of the crate.
    fn jkt(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        b64(Sha256::digest(canonical.as_bytes()))
    }

    fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk})
    }

    /// Valid claims for `htm` `htu`, with `ath` for `token` if given and a fresh `jti`.
    fn claims(&self, htm: &str, htu: &str, token: Option<&str>) -> Value {
        self.n.set(self.n.get() + 1);
        let mut claims = json!({
            "jti": format!("jti-{}-{}", self.jkt(), self.n.get()),
            "htm": htm, "htu": htu, "iat": now(),
        });
        if let Some(token) = token {
            claims["ath"] = Value::String(ath(token));
        }
        claims
    }

    /// Signs exactly `header` and `claims` with this client's key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }

    fn proof(&self, htm: &str, htu: &str, token: Option<&str>) -> String {
        self.sign(&self.header(), &self.claims(htm, htu, token))
    }

    /// Gets a token from the server's token endpoint with a DPoP proof for it.
    async fn token(&self, server: &TestServer) -> Value {
        let proof = self.proof("POST", &server.token_endpoint(), None);
        json(
            reqwest::Client::new()
                .post(server.token_endpoint())
                .basic_auth("demo-client", Some("demo-secret"))
                .header("dpop", proof)
                .form(&[("grant_type", "client_credentials"), ("scope", "read")]),
        )
        .await
    }

    async fn access_token(&self, server: &TestServer) -> String {
        let v = self.token(server).await;
        v["access_token"].as_str().unwrap().to_owned()
    }
}

struct Setup {
    server: TestServer,
    client: DpopClient,
    /// `{api}/me`
    url: String,
}

/// `{api}/me` of an API on loopback, with `dpop` (and this API's `127.0.0.1:port` as its one
/// [allowed host](DpopConfig::allowed_hosts)) if given.
async fn api(server: &TestServer, dpop: Option<DpopConfig>) -> String {
    let (listener, base) = bind().await;
    let mut layer = AuthLayer::new(support::validator(server).await).realm("test");
    if let Some(dpop) = dpop {
        let authority = base.trim_start_matches("http://").to_owned();
        layer = layer.dpop(dpop.allowed_hosts([authority])).unwrap();
    }
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Claims>| async move { Json(c) })
                .post(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(layer);
    serve_on(listener, app);
    format!("{base}/me")
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let dpop = DpopConfig::new().default_scheme(http::uri::Scheme::HTTP);
    let url = api(&server, Some(dpop)).await;
    Setup {
        server,
        client: DpopClient::new(),
        url,
    }
}

/// GETs `url` with `authorization` and the given `DPoP` headers; returns status, challenge and
/// body.
async fn call(url: &str, authorization: Option<String>, proofs: &[&str]) -> (u16, String, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    for p in proofs {
        req = req.header("dpop", *p);
    }
    answer(req.send().await.unwrap()).await
}

fn dpop(token: &str) -> Option<String> {
    Some(format!("DPoP {token}"))
}

/// Asserts 401 with a DPoP challenge carrying `code` and `description`, echoing no secret.
fn assert_refused(r: (u16, String, String), code: &str, description: &str, secrets: &[&str]) {
    assert_eq!(r.0, 401, "{r:?}");
    assert_eq!(
        r.1,
        format!(
            r#"DPoP realm="test", error="{code}", error_description="{description}", algs="{ALGS}""#
        )
    );
    for s in secrets {
        assert!(!r.1.contains(s) && !r.2.contains(s));
    }
}

fn bad_proof(r: (u16, String, String), description: &str, secrets: &[&str]) {
    assert_refused(r, "invalid_dpop_proof", description, secrets);
}

#[tokio::test]
async fn server_issues_bound_tokens_and_the_api_accepts_them_with_proofs() {
    let Setup {
        server,
        client,
        url,
    } = setup().await;
    let response = client.token(&server).await;
    assert_eq!(response["token_type"], "DPoP");
    let token = response["access_token"].as_str().unwrap();
    let (_, claims) = decode(token);
    assert_eq!(claims["cnf"]["jkt"], client.jkt());

    for _ in 0..2 {
        let proof = client.proof("GET", &url, Some(token));
        let (status, _, body) = call(&url, dpop(token), &[&proof]).await;
        assert_eq!(status, 200, "{body}");
        let seen: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(seen["cnf"]["jkt"], client.jkt());
    }
    // The scheme name is case-insensitive; htu is compared after normalisation.
    let upper = url.replace("http://", "HTTP://");
    let proof = client.proof("GET", &format!("{upper}?x=1#f"), Some(token));
    let r = call(&url, Some(format!("dpop {token}")), &[&proof]).await;
    assert_eq!(r.0, 200, "{r:?}");
}

#[tokio::test]
async fn token_endpoint_without_proof_issues_bearer_and_refuses_bad_proofs() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let plain: Value = json(
        reqwest::Client::new()
            .post(server.token_endpoint())
            .basic_auth("demo-client", Some("demo-secret"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(plain["token_type"], "Bearer");

    let wrong_htu = client.proof("POST", &format!("{}/other", server.issuer()), None);
    let res = reqwest::Client::new()
        .post(server.token_endpoint())
        .basic_auth("demo-client", Some("demo-secret"))
        .header("dpop", wrong_htu)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof");
}

#[tokio::test]
async fn a_proof_is_required() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    bad_proof(
        call(&s.url, dpop(&token), &[]).await,
        "a DPoP proof is required",
        &[&token],
    );
}

#[tokio::test]
async fn exactly_one_proof() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let a = s.client.proof("GET", &s.url, Some(&token));
    let b = s.client.proof("GET", &s.url, Some(&token));
    bad_proof(
        call(&s.url, dpop(&token), &[&a, &b]).await,
        "more than one DPoP proof",
        &[&token, &a, &b],
    );
}

#[tokio::test]
async fn proof_for_another_method() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof("POST", &s.url, Some(&token));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof is for another HTTP method",
        &[&token, &proof],
    );
}

#[tokio::test]
async fn proof_for_another_url() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let other = s.url.replace("/me", "/you");
    for htu in [
        other,
        s.url.replace("http://", "https://"),
        format!("{}/", s.url),
    ] {
        let proof = s.client.proof("GET", &htu, Some(&token));
        bad_proof(
            call(&s.url, dpop(&token), &[&proof]).await,
            "the DPoP proof is for another URI",
            &[&token, &proof],
        );
    }
}

#[tokio::test]
async fn stale_or_future_iat() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    for iat in [now() - 300, now() + 300] {
        let mut claims = s.client.claims("GET", &s.url, Some(&token));
        claims["iat"] = json!(iat);
        let proof = s.client.sign(&s.client.header(), &claims);
        bad_proof(
            call(&s.url, dpop(&token), &[&proof]).await,
            "the DPoP proof is too old or too far in the future",
            &[&token, &proof],
        );
    }
}

#[tokio::test]
async fn replayed_jti() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof("GET", &s.url, Some(&token));
    assert_eq!(call(&s.url, dpop(&token), &[&proof]).await.0, 200);
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof was already used",
        &[&token, &proof],
    );
    // A new proof reusing the jti is a replay too.
    let (_, first) = decode(&proof);
    let mut claims = s.client.claims("GET", &s.url, Some(&token));
    claims["jti"] = first["jti"].clone();
    let again = s.client.sign(&s.client.header(), &claims);
    bad_proof(
        call(&s.url, dpop(&token), &[&again]).await,
        "the DPoP proof was already used",
        &[&token],
    );
}

#[tokio::test]
async fn wrong_ath() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let other = s.client.access_token(&s.server).await;
    let proof = s.client.proof("GET", &s.url, Some(&other));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof is for another access token",
        &[&token, &proof],
    );
    let mut claims = s.client.claims("GET", &s.url, None);
    claims.as_object_mut().unwrap().remove("ath");
    let proof = s.client.sign(&s.client.header(), &claims);
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof lacks a required claim",
        &[&token],
    );
}

#[tokio::test]
async fn proof_by_another_key_than_the_binding() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let thief = DpopClient::new();
    let proof = thief.proof("GET", &s.url, Some(&token));
    assert_refused(
        call(&s.url, dpop(&token), &[&proof]).await,
        "invalid_token",
        "the DPoP proof key does not match the token binding",
        &[&token, &proof],
    );
}

#[tokio::test]
async fn private_key_in_jwk() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let d = s.client.key.private_key().as_be_bytes().unwrap();
    let mut header = s.client.header();
    header["jwk"]["d"] = Value::String(b64(d.as_ref()));
    let proof = s
        .client
        .sign(&header, &s.client.claims("GET", &s.url, Some(&token)));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof key contains private key material",
        &[&token, &proof],
    );
}

#[tokio::test]
async fn none_and_hmac_proofs() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let claims = s.client.claims("GET", &s.url, Some(&token));
    let mut header = s.client.header();
    header["alg"] = json!("none");
    let none = format!(
        "{}.{}.{}",
        b64(header.to_string()),
        b64(claims.to_string()),
        b64("x")
    );
    bad_proof(
        call(&s.url, dpop(&token), &[&none]).await,
        "the DPoP proof algorithm is not allowed",
        &[&token],
    );
    header["alg"] = json!("HS256");
    let claims = s.client.claims("GET", &s.url, Some(&token));
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let hs = hs256_input(b"shared", &input);
    bad_proof(
        call(&s.url, dpop(&token), &[&hs]).await,
        "the DPoP proof algorithm is not allowed",
        &[&token],
    );
}

#[tokio::test]
async fn wrong_typ_and_bad_signature() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let mut header = s.client.header();
    header["typ"] = json!("jwt");
    let proof = s
        .client
        .sign(&header, &s.client.claims("GET", &s.url, Some(&token)));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof type is not dpop+jwt",
        &[&token],
    );
    // Claims swapped after signing.
    let good = s.client.proof("GET", &s.url, Some(&token));
    let other = s.client.claims("GET", &s.url, Some(&token));
    let forged = with_payload(&good, &other);
    bad_proof(
        call(&s.url, dpop(&token), &[&forged]).await,
        "the DPoP proof signature is invalid",
        &[&token],
    );
}

#[tokio::test]
async fn bound_token_as_bearer_is_refused() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof("GET", &s.url, Some(&token));
    assert_refused(
        call(&s.url, Some(format!("Bearer {token}")), &[&proof]).await,
        "invalid_token",
        "the token is bound to a DPoP key",
        &[&token],
    );
}

#[tokio::test]
async fn unbound_token_with_dpop_scheme_is_refused_and_plain_bearer_still_works() {
    let s = setup().await;
    let plain = s.server.mint().sign();
    let r = call(&s.url, Some(format!("Bearer {plain}")), &[]).await;
    assert_eq!(r.0, 200, "{r:?}");
    let proof = s.client.proof("GET", &s.url, Some(&plain));
    assert_refused(
        call(&s.url, dpop(&plain), &[&proof]).await,
        "invalid_token",
        "the token is not bound to a DPoP key",
        &[&plain],
    );
    // Without credentials, both schemes are offered.
    let r = call(&s.url, None, &[]).await;
    assert_eq!(r.0, 401);
    assert_eq!(
        r.1,
        format!(r#"Bearer realm="test", DPoP realm="test", algs="{ALGS}""#)
    );
}

#[tokio::test]
async fn validator_errors_use_the_dpop_challenge_for_dpop_requests() {
    let s = setup().await;
    let expired = s
        .server
        .mint()
        .expired()
        .claim("cnf", json!({"jkt": s.client.jkt()}))
        .sign();
    let proof = s.client.proof("GET", &s.url, Some(&expired));
    assert_refused(
        call(&s.url, dpop(&expired), &[&proof]).await,
        "invalid_token",
        "the token has expired",
        &[&expired],
    );
}

#[tokio::test]
async fn without_dpop_support_bound_tokens_are_refused() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let url = api(&server, None).await;
    let token = client.access_token(&server).await;
    let proof = client.proof("GET", &url, Some(&token));
    let r = call(&url, Some(format!("Bearer {token}")), &[&proof]).await;
    assert_eq!(r.0, 401);
    assert_eq!(
        r.1,
        r#"Bearer realm="test", error="invalid_token", error_description="the token is bound to a DPoP key""#
    );
    let r = call(&url, dpop(&token), &[&proof]).await;
    assert_eq!(r.0, 401);
    assert_eq!(r.1, r#"Bearer realm="test""#);
}

#[tokio::test]
async fn configured_base_url_is_what_htu_must_name() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let dpop_config =
        DpopConfig::new().base_url(url::Url::parse("https://api.example/prefix/").unwrap());
    let url = api(&server, Some(dpop_config)).await;
    let token = client.access_token(&server).await;
    let external = "https://api.example/prefix/me";
    let proof = client.proof("GET", external, Some(&token));
    let r = call(&url, dpop(&token), &[&proof]).await;
    assert_eq!(r.0, 200, "{r:?}");
    // The loopback address the request really went to is not the external URL.
    let proof = client.proof("GET", &url, Some(&token));
    let r = call(&url, dpop(&token), &[&proof]).await;
    assert_eq!(r.0, 401);
    assert!(r.1.contains("the DPoP proof is for another URI"), "{r:?}");
}

// Server-provided nonces (RFC 9449 §9).

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
    let proof = s.client.proof("GET", &s.url, Some(&token));
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

    let proof = client.proof("GET", &a, Some(&token));
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

// In process, without sockets: a validator that binds every token to one client's key.

/// Accepts every token as one bound to the key with thumbprint `.0` (`cnf.jkt`).
struct BoundTo(String);

impl Validator for BoundTo {
    fn validate(&self, _token: &str) -> ValidationFuture {
        let claims = json!({"sub": "alice", "cnf": {"jkt": self.0}});
        ValidationFuture::ready(Ok(Claims::from_value(claims).unwrap()))
    }
}

const TOKEN: &str = "an-opaque-token";

/// `/me` and `/delete` behind a layer (realm "test") with `dpop`, whose tokens are bound to
/// `client`'s key.
fn in_process(client: &DpopClient, dpop: DpopConfig) -> Router {
    let ok = || async { "ok" };
    Router::new()
        .route("/me", get(ok))
        .route("/delete", get(ok))
        .layer(
            AuthLayer::new(BoundTo(client.jkt()))
                .realm("test")
                .dpop(dpop)
                .unwrap(),
        )
}

/// GETs `path` (origin-form) from `app` with `Host: host`, [`TOKEN`] and `proof`.
async fn send(
    app: &Router,
    path: &str,
    host: &str,
    proof: &str,
) -> http::Response<axum::body::Body> {
    let req = http::Request::get(path)
        .header(
            "host",
            http::HeaderValue::from_bytes(host.as_bytes()).unwrap(),
        )
        .header("authorization", format!("DPoP {TOKEN}"))
        .header("dpop", proof)
        .body(axum::body::Body::empty())
        .unwrap();
    app.clone().oneshot(req).await.unwrap()
}

fn challenge_of(res: &http::Response<axum::body::Body>) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_full_replay_cache_refuses_new_proofs_and_still_knows_the_old_ones() {
    let (logs, _guard) = support::logs::capture();
    let client = DpopClient::new();
    let app = in_process(
        &client,
        DpopConfig::new()
            .allowed_hosts(["api.example"])
            .cache_capacity(3),
    );
    let htu = "https://api.example/me";
    let accepted: Vec<String> = (0..3)
        .map(|_| client.proof("GET", htu, Some(TOKEN)))
        .collect();
    for proof in &accepted {
        let res = send(&app, "/me", "api.example", proof).await;
        assert_eq!(res.status(), 200, "{}", challenge_of(&res));
    }
    // Full of entries that can still pass the iat window: a new proof is refused (fail closed),
    // not accepted and forgotten. 503: the server's limit, not the client's fault.
    let new = client.proof("GET", htu, Some(TOKEN));
    for _ in 0..2 {
        let res = send(&app, "/me", "api.example", &new).await;
        assert_eq!(res.status(), 503, "{}", challenge_of(&res));
        assert!(res.headers().get("www-authenticate").is_none());
        assert_eq!(res.headers()["retry-after"], "5");
    }
    // Every accepted proof is still remembered.
    for proof in &accepted {
        let res = send(&app, "/me", "api.example", proof).await;
        assert_eq!(res.status(), 401);
        assert!(
            challenge_of(&res).contains("the DPoP proof was already used"),
            "{}",
            challenge_of(&res)
        );
    }
    // Logged as a warning, without the jti or the token.
    let text = logs.text();
    assert!(
        text.lines()
            .any(|l| l.contains("WARN") && l.contains("DPoP replay cache is full")),
        "{text}"
    );
    for proof in accepted.iter().chain([&new]) {
        let (_, claims) = decode(proof);
        assert!(!text.contains(claims["jti"].as_str().unwrap()), "{text}");
    }
    assert!(!text.contains(TOKEN), "{text}");
}

#[tokio::test]
async fn without_base_url_only_a_plain_host_header_makes_the_request_uri() {
    let client = DpopClient::new();
    let hosts = ["api.example", "api.example:8443", "127.0.0.1:8080", "[::1]"];
    let app = in_process(&client, DpopConfig::new().allowed_hosts(hosts));
    for (host, htu) in [
        ("api.example", "https://api.example/delete"),
        ("API.example:8443", "https://api.example:8443/delete"),
        ("127.0.0.1:8080", "https://127.0.0.1:8080/delete"),
        ("[::1]", "https://[::1]/delete"),
    ] {
        let proof = client.proof("GET", htu, Some(TOKEN));
        let res = send(&app, "/delete", host, &proof).await;
        assert_eq!(res.status(), 200, "{host}: {}", challenge_of(&res));
    }
    // Each hostile Host with a proof for the URI it would be normalised into.
    for (host, htu) in [
        // `\` is `/` to URL parsing: GET /delete would pass as GET /admin/delete.
        (r"api.example\admin", "https://api.example/admin/delete"),
        (r"api.example:443\admin", "https://api.example/admin/delete"),
        // Dropped by URL parsing.
        ("api.example\t", "https://api.example/delete"),
        // The path becomes the host.
        ("", "https://delete/"),
        ("api.example:", "https://api.example/delete"),
    ] {
        let proof = client.proof("GET", htu, Some(TOKEN));
        let res = send(&app, "/delete", host, &proof).await;
        assert_eq!(res.status(), 401, "{host:?}");
        assert!(
            challenge_of(&res).contains("the DPoP proof is for another URI"),
            "{host:?}: {}",
            challenge_of(&res)
        );
    }
}

/// `dpop::ProofVerifier` checks proofs outside the layer (as at a token endpoint): a valid proof
/// yields its key's thumbprint, and its replay, another method or URL, or no proof are refused.
#[test]
fn proof_verifier_outside_the_layer() {
    use bearer_guard::dpop::{ProofVerifier, DPOP_HEADER};
    use bearer_guard::{error::DpopError, AuthError};
    use http::{HeaderMap, Method};

    fn with_proof(proof: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(DPOP_HEADER, proof.parse().unwrap());
        headers
    }
    let verifier = ProofVerifier::new(DpopConfig::new()).unwrap();
    let client = DpopClient::new();
    let endpoint = url::Url::parse("https://as.example/token").unwrap();
    let verify = |headers: &HeaderMap| verifier.verify_proof(headers, &Method::POST, &endpoint);

    let valid = with_proof(&client.proof("POST", endpoint.as_str(), None));
    let proof = verify(&valid).unwrap();
    assert_eq!(proof.jkt(), client.jkt());
    assert_eq!(proof.fresh_nonce(), None);
    assert_eq!(verify(&valid), Err(AuthError::Dpop(DpopError::Replayed)));

    let get = with_proof(&client.proof("GET", endpoint.as_str(), None));
    assert_eq!(verify(&get), Err(AuthError::Dpop(DpopError::WrongMethod)));
    let other = with_proof(&client.proof("POST", "https://as.example/other", None));
    assert_eq!(verify(&other), Err(AuthError::Dpop(DpopError::WrongUri)));
    assert_eq!(
        verify(&HeaderMap::new()),
        Err(AuthError::Dpop(DpopError::Missing))
    );
    // There is no token here: a proof that has an `ath` anyway is not refused for it.
    let with_ath = with_proof(&client.proof("POST", endpoint.as_str(), Some("some-token")));
    assert_eq!(verify(&with_ath).unwrap().jkt(), client.jkt());
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
