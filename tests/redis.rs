//! Several instances sharing state on a real Redis (`store::RedisStore`, feature `redis`):
//! the DPoP replay set, the introspection cache and the revocation hint, and what happens
//! while Redis is down. Each test starts its own `redis-server` on a free loopback port
//! (skipped with a message when it is not installed; `.ci/run` installs it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use axum::{routing, Extension, Json, Router};
use bearer_guard::store::RedisStore;
use bearer_guard::{AuthLayer, Claims, DpopConfig, IntrospectionValidator, Validator};
use bearer_guard_testkit::{Endpoint, TestServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::jwt::b64;
use support::redis::RedisServer;
use support::{now, serve};

/// The URL clients use, as behind a load balancer: the same for every instance.
const PUBLIC: &str = "https://api.example/me";

/// An ES256 DPoP client.
struct DpopClient {
    key: EcdsaKeyPair,
    jwk: Value,
}

impl DpopClient {
    fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        });
        DpopClient { key, jwk }
    }

    fn jkt(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        b64(Sha256::digest(canonical.as_bytes()))
    }

    /// A fresh proof for `GET PUBLIC` with `token`.
    fn proof(&self, token: &str) -> String {
        let mut jti = [0u8; 16];
        getrandom::fill(&mut jti).unwrap();
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let claims = json!({
            "jti": b64(jti), "htm": "GET", "htu": PUBLIC, "iat": now(),
            "ath": b64(Sha256::digest(token.as_bytes())),
        });
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

async fn store(redis: &RedisServer) -> RedisStore {
    RedisStore::builder(redis.url())
        .key_prefix("test:")
        .connect()
        .await
        .unwrap()
}

async fn app(validator: impl Validator, dpop: Option<DpopConfig>) -> String {
    let mut layer = AuthLayer::new(validator);
    if let Some(dpop) = dpop {
        layer = layer.dpop(dpop).unwrap();
    }
    let app = Router::new()
        .route(
            "/me",
            routing::get(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(layer);
    format!("{}/me", serve(app).await)
}

/// One instance checking DPoP proofs against the shared replay set.
async fn dpop_instance(server: &TestServer, redis: &RedisServer) -> String {
    let dpop = DpopConfig::new()
        .base_url(url::Url::parse("https://api.example").unwrap())
        .replay_store(store(redis).await);
    app(support::validator(server).await, Some(dpop)).await
}

/// One instance validating tokens by introspection, with the shared cache.
async fn introspection_instance(
    server: &TestServer,
    redis: &RedisServer,
) -> (String, IntrospectionValidator) {
    let validator = IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .introspection_endpoint(server.introspection_endpoint())
        .audience("api")
        .shared_cache(store(redis).await)
        .build()
        .await
        .unwrap();
    (app(validator.clone(), None).await, validator)
}

async fn get(url: &str, authorization: &str, proof: Option<&str>) -> u16 {
    let mut req = reqwest::Client::new()
        .get(url)
        .header("authorization", authorization);
    if let Some(proof) = proof {
        req = req.header("dpop", proof);
    }
    req.send().await.unwrap().status().as_u16()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

#[tokio::test]
async fn a_proof_accepted_by_one_instance_is_a_replay_at_the_other() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    let (a, b) = (
        dpop_instance(&server, &redis).await,
        dpop_instance(&server, &redis).await,
    );
    let client = DpopClient::new();
    let token = server
        .mint()
        .claim("cnf", json!({"jkt": client.jkt()}))
        .sign();
    let auth = format!("DPoP {token}");
    let proof = client.proof(&token);
    assert_eq!(get(&a, &auth, Some(&proof)).await, 200);
    assert_eq!(get(&b, &auth, Some(&proof)).await, 401, "replayed at B");
    assert_eq!(get(&a, &auth, Some(&proof)).await, 401, "replayed at A");
    // Fresh proofs go through at both.
    assert_eq!(get(&b, &auth, Some(&client.proof(&token))).await, 200);
    assert_eq!(get(&a, &auth, Some(&client.proof(&token))).await, 200);
}

#[tokio::test]
async fn a_token_introspected_by_one_instance_is_served_to_the_other_from_the_cache() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    let (a, _) = introspection_instance(&server, &redis).await;
    let (b, _) = introspection_instance(&server, &redis).await;
    let token = server.mint().opaque();
    assert_eq!(get(&a, &bearer(&token), None).await, 200);
    assert_eq!(server.count(Endpoint::Introspection), 1);
    for url in [&b, &a, &b] {
        assert_eq!(get(url, &bearer(&token), None).await, 200);
    }
    assert_eq!(server.count(Endpoint::Introspection), 1, "no further calls");
    // Refusals are shared too.
    let junk = "not-a-token-the-server-knows";
    assert_eq!(get(&a, &bearer(junk), None).await, 401);
    assert_eq!(get(&b, &bearer(junk), None).await, 401);
    assert_eq!(server.count(Endpoint::Introspection), 2);
}

#[tokio::test]
async fn the_revocation_hint_makes_every_instance_refuse_at_once() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    let (a, validator_a) = introspection_instance(&server, &redis).await;
    let (b, _) = introspection_instance(&server, &redis).await;
    let token = server.mint().opaque();
    assert_eq!(get(&a, &bearer(&token), None).await, 200);
    assert_eq!(get(&b, &bearer(&token), None).await, 200);
    server.revoke(&token);
    // Cached: revocation alone does not bite before the entry ends...
    assert_eq!(get(&b, &bearer(&token), None).await, 200);
    // ... the hint, given to one instance, does everywhere.
    validator_a.forget(&token).await.unwrap();
    assert_eq!(get(&b, &bearer(&token), None).await, 401);
    assert_eq!(get(&a, &bearer(&token), None).await, 401);
    assert_eq!(server.count(Endpoint::Introspection), 2);
}

#[tokio::test]
async fn while_redis_is_down_proofs_get_503_and_introspection_asks_the_server() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    let dpop = dpop_instance(&server, &redis).await;
    let (api, _) = introspection_instance(&server, &redis).await;
    let client = DpopClient::new();
    let bound = server
        .mint()
        .claim("cnf", json!({"jkt": client.jkt()}))
        .sign();
    let auth = format!("DPoP {bound}");
    let opaque = server.mint().opaque();
    assert_eq!(get(&dpop, &auth, Some(&client.proof(&bound))).await, 200);
    assert_eq!(get(&api, &bearer(&opaque), None).await, 200);
    assert_eq!(server.count(Endpoint::Introspection), 1);

    redis.stop();
    // Fail closed: no proof is accepted without being remembered.
    for _ in 0..3 {
        assert_eq!(get(&dpop, &auth, Some(&client.proof(&bound))).await, 503);
    }
    // The cache is a miss: the authorization server decides, every time.
    assert_eq!(get(&api, &bearer(&opaque), None).await, 200);
    assert_eq!(get(&api, &bearer(&opaque), None).await, 200);
    assert_eq!(server.count(Endpoint::Introspection), 3);
    server.revoke(&opaque);
    assert_eq!(
        get(&api, &bearer(&opaque), None).await,
        401,
        "never active by default"
    );

    // Back on the same port: the connection is made again by itself.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = get(&dpop, &auth, Some(&client.proof(&bound))).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            Instant::now() < deadline,
            "no recovery after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let proof = client.proof(&bound);
    assert_eq!(get(&dpop, &auth, Some(&proof)).await, 200);
    assert_eq!(
        get(&dpop, &auth, Some(&proof)).await,
        401,
        "replays caught again"
    );
    let fresh = server.mint().opaque();
    let calls = server.count(Endpoint::Introspection);
    assert_eq!(get(&api, &bearer(&fresh), None).await, 200);
    assert_eq!(get(&api, &bearer(&fresh), None).await, 200);
    assert_eq!(
        server.count(Endpoint::Introspection),
        calls + 1,
        "cached again"
    );
}

#[tokio::test]
async fn keys_in_redis_are_hashes_never_tokens() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    let (api, _) = introspection_instance(&server, &redis).await;
    let token = server.mint().opaque();
    assert_eq!(get(&api, &bearer(&token), None).await, 200);
    let out = std::process::Command::new("redis-cli")
        .args(["-u", &redis.url(), "--scan"])
        .output();
    let Ok(out) = out else {
        eprintln!("redis-cli not installed; key check skipped");
        return;
    };
    let keys = String::from_utf8(out.stdout).unwrap();
    let hash: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(keys.trim(), format!("test:introspection:{hash}"));
    assert!(!keys.contains(&token));
}
