//! RFC 9864 fully-specified algorithm names: `alg: Ed25519` is EdDSA with an Ed25519 key, the
//! same algorithm as `alg: EdDSA`, in token headers, JWK `alg` members and DPoP proofs, and is
//! allowed exactly when `Algorithm::EdDSA` is on the allow-list. `Ed448` is not supported.

use crate::support;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{
    dpop::DpopConfig, jwks::KeySet, jwt::Algorithm, AuthLayer, Claims, JwtValidator,
};
use bearer_guard_testkit::{KeyAlg, TestServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::jwt::b64;
use support::{answer, assert_invalid, call, jwks, jwt_api, me_url, now};

const NOT_ALLOWED: &str = "the signing algorithm is not allowed";
const KEY_MISMATCH: &str = "the signing key does not fit the token";

fn header(alg: &str, kid: &str) -> String {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid}).to_string()
}

fn claims(server: &TestServer) -> String {
    let now = now();
    json!({"iss": server.issuer(), "aud": "api", "sub": "alice", "iat": now, "exp": now + 300})
        .to_string()
}

#[tokio::test]
async fn ed25519_alg_verifies_with_an_ed25519_key_and_only_with_one() {
    let server = TestServer::start().await;
    let ed = server.add_key(KeyAlg::EdDsa);
    let rsa = server.active_kid();
    let url = me_url(support::validator(&server).await).await;
    let claims = claims(&server);

    let token = server.sign_raw(&ed, &header("Ed25519", &ed), &claims);
    let r = call(&url, &token).await;
    assert_eq!(r.0, 200, "{r:?}");
    // The old name keeps working.
    let token = server.sign_raw(&ed, &header("EdDSA", &ed), &claims);
    assert_eq!(call(&url, &token).await.0, 200);

    // `Ed25519` naming an RSA key (signed by the Ed25519 key or by the RSA key itself).
    let token = server.sign_raw(&ed, &header("Ed25519", &rsa), &claims);
    assert_invalid(&url, &token, KEY_MISMATCH).await;
    let token = server.sign_raw(&rsa, &header("Ed25519", &rsa), &claims);
    assert_invalid(&url, &token, KEY_MISMATCH).await;
    // Ed448 is not supported, whatever the key.
    let token = server.sign_raw(&ed, &header("Ed448", &ed), &claims);
    assert_invalid(&url, &token, NOT_ALLOWED).await;
}

#[tokio::test]
async fn ed25519_alg_follows_the_eddsa_entry_of_the_allow_list() {
    let server = TestServer::start().await;
    let ed = server.add_key(KeyAlg::EdDsa);
    let claims = claims(&server);
    let without = jwt_api(server.issuer(), |b| {
        b.algorithms([Algorithm::RS256, Algorithm::ES256])
    })
    .await;
    for alg in ["Ed25519", "EdDSA"] {
        let token = server.sign_raw(&ed, &header(alg, &ed), &claims);
        assert_invalid(&without, &token, NOT_ALLOWED).await;
    }
    let with = jwt_api(server.issuer(), |b| b.algorithms([Algorithm::EdDSA])).await;
    for alg in ["Ed25519", "EdDSA"] {
        let token = server.sign_raw(&ed, &header(alg, &ed), &claims);
        assert_eq!(call(&with, &token).await.0, 200, "{alg}");
    }
}

#[tokio::test]
async fn a_jwk_with_alg_ed25519_verifies_eddsa_tokens() {
    let server = TestServer::start().await;
    let ed = server.add_key(KeyAlg::EdDsa);
    let mut jwk = jwks(&server).await["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == ed)
        .unwrap()
        .clone();
    jwk["alg"] = json!("Ed25519");
    let set = KeySet::from_json(json!({ "keys": [jwk] }).to_string().as_bytes()).unwrap();
    assert_eq!((set.len(), set.skipped()), (1, 0));
    let validator = JwtValidator::builder(server.issuer())
        .audience("api")
        .key_set(set)
        .build()
        .await
        .unwrap();
    let url = me_url(validator).await;
    let claims = claims(&server);
    for alg in ["Ed25519", "EdDSA"] {
        let token = server.sign_raw(&ed, &header(alg, &ed), &claims);
        let r = call(&url, &token).await;
        assert_eq!(r.0, 200, "{alg} {r:?}");
    }
}

/// A DPoP client with an Ed25519 key that names its algorithm `Ed25519` in its proofs.
struct EdClient {
    key: Ed25519KeyPair,
    jwk: Value,
    n: std::cell::Cell<u32>,
}

impl EdClient {
    fn new() -> Self {
        let key = Ed25519KeyPair::generate().unwrap();
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_key().as_ref())});
        EdClient {
            key,
            jwk,
            n: std::cell::Cell::new(0),
        }
    }

    fn proof(&self, alg: &str, htm: &str, htu: &str, token: Option<&str>) -> String {
        self.n.set(self.n.get() + 1);
        let header = json!({"typ": "dpop+jwt", "alg": alg, "jwk": self.jwk});
        let mut claims = json!({
            "jti": format!("ed-{}", self.n.get()), "htm": htm, "htu": htu, "iat": now(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(b64(Sha256::digest(token.as_bytes())));
        }
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self.key.sign(input.as_bytes());
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

async fn dpop_api(server: &TestServer, dpop: DpopConfig) -> String {
    let (listener, base) = support::bind().await;
    let authority = base.trim_start_matches("http://").to_owned();
    let dpop = dpop
        .default_scheme(http::uri::Scheme::HTTP)
        .allowed_hosts([authority]);
    let layer = AuthLayer::new(support::validator(server).await)
        .realm("test")
        .dpop(dpop)
        .unwrap();
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(layer);
    support::serve_on(listener, app);
    format!("{base}/me")
}

async fn with_proof(url: &str, token: &str, proof: &str) -> (u16, String, String) {
    let req = reqwest::Client::new()
        .get(url)
        .header("authorization", format!("DPoP {token}"))
        .header("dpop", proof);
    answer(req.send().await.unwrap()).await
}

#[tokio::test]
async fn dpop_proofs_signed_with_alg_ed25519_are_accepted() {
    let server = TestServer::start().await;
    let client = EdClient::new();
    // The bundled server's token endpoint checks the proof with the same verifier.
    let proof = client.proof("Ed25519", "POST", &server.token_endpoint(), None);
    let res: Value = support::json(
        reqwest::Client::new()
            .post(server.token_endpoint())
            .basic_auth("demo-client", Some("demo-secret"))
            .header("dpop", proof)
            .form(&[("grant_type", "client_credentials"), ("scope", "read")]),
    )
    .await;
    assert_eq!(res["token_type"], "DPoP", "{res}");
    let token = res["access_token"].as_str().unwrap();

    let url = dpop_api(&server, DpopConfig::new()).await;
    for alg in ["Ed25519", "EdDSA"] {
        let proof = client.proof(alg, "GET", &url, Some(token));
        let r = with_proof(&url, token, &proof).await;
        assert_eq!(r.0, 200, "{alg} {r:?}");
    }
    // Without EdDSA on the proof allow-list, neither name passes.
    let strict = dpop_api(&server, DpopConfig::new().algorithms([Algorithm::ES256])).await;
    for alg in ["Ed25519", "EdDSA"] {
        let proof = client.proof(alg, "GET", &strict, Some(token));
        let r = with_proof(&strict, token, &proof).await;
        assert_eq!(r.0, 401, "{alg} {r:?}");
        assert!(r.1.contains("invalid_dpop_proof"), "{r:?}");
    }
}
