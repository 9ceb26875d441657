//! Several instances sharing state on a real Redis (`store::RedisStore`, feature `redis`):
//! the DPoP replay set, the introspection cache and the revocation hint, and what happens
//! while Redis is down. Each test starts its own `redis-server` on a free loopback port
//! (skipped with a message when it is not installed; `.ci/run` installs it).

use crate::support;

use std::time::{Duration, Instant};

use axum::{routing, Extension, Json, Router};
use bearer_guard::store::RedisStore;
use bearer_guard::{dpop::DpopConfig, AuthLayer, Claims, IntrospectionValidator, Validator};
use bearer_guard_testkit::{Endpoint, TestServer};
use serde_json::json;
use sha2::{Digest, Sha256};
use support::dpop::DpopClient;
use support::redis::RedisServer;
use support::serve;

/// The URL clients use, as behind a load balancer: the same for every instance.
const PUBLIC: &str = "https://api.example/me";

/// The store secret every instance of these tests shares.
const SECRET: &[u8] = b"the-store-secret-of-these-tests!";

async fn store(redis: &RedisServer) -> RedisStore {
    RedisStore::builder(redis.url())
        .secret(SECRET)
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

/// One instance checking DPoP proofs against the replay set in `store`.
async fn dpop_instance(server: &TestServer, store: RedisStore) -> String {
    let dpop = DpopConfig::new()
        .base_url(url::Url::parse("https://api.example").unwrap())
        .shared_store(store);
    app(support::validator(server).await, Some(dpop)).await
}

/// One instance validating tokens by introspection, with the shared cache.
async fn introspection_instance(
    server: &TestServer,
    redis: &RedisServer,
) -> (String, IntrospectionValidator) {
    introspection_instance_for(server, store(redis).await, "api").await
}

/// One instance of the API of `audience`, with `store` as its shared cache.
async fn introspection_instance_for(
    server: &TestServer,
    store: RedisStore,
    audience: &str,
) -> (String, IntrospectionValidator) {
    let validator = IntrospectionValidator::builder(server.issuer())
        .client("api", "api-secret")
        .introspection_endpoint(server.introspection_endpoint())
        .audience(audience)
        .shared_store(store)
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
        dpop_instance(&server, store(&redis).await).await,
        dpop_instance(&server, store(&redis).await).await,
    );
    let client = DpopClient::new();
    let token = server
        .mint()
        .claim("cnf", json!({"jkt": client.jkt()}))
        .sign();
    let auth = format!("DPoP {token}");
    let proof = client.proof(PUBLIC, &token);
    assert_eq!(get(&a, &auth, Some(&proof)).await, 200);
    assert_eq!(get(&b, &auth, Some(&proof)).await, 401, "replayed at B");
    assert_eq!(get(&a, &auth, Some(&proof)).await, 401, "replayed at A");
    // Fresh proofs go through at both.
    assert_eq!(
        get(&b, &auth, Some(&client.proof(PUBLIC, &token))).await,
        200
    );
    assert_eq!(
        get(&a, &auth, Some(&client.proof(PUBLIC, &token))).await,
        200
    );
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
    let dpop = dpop_instance(&server, store(&redis).await).await;
    let (api, _) = introspection_instance(&server, &redis).await;
    let client = DpopClient::new();
    let bound = server
        .mint()
        .claim("cnf", json!({"jkt": client.jkt()}))
        .sign();
    let auth = format!("DPoP {bound}");
    let opaque = server.mint().opaque();
    assert_eq!(
        get(&dpop, &auth, Some(&client.proof(PUBLIC, &bound))).await,
        200
    );
    assert_eq!(get(&api, &bearer(&opaque), None).await, 200);
    assert_eq!(server.count(Endpoint::Introspection), 1);

    redis.stop();
    // Fail closed: no proof is accepted without being remembered.
    for _ in 0..3 {
        assert_eq!(
            get(&dpop, &auth, Some(&client.proof(PUBLIC, &bound))).await,
            503
        );
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
        let status = get(&dpop, &auth, Some(&client.proof(PUBLIC, &bound))).await;
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
    let proof = client.proof(PUBLIC, &bound);
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
    let keys = scan(&redis).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    let hash = keys[0].strip_prefix("test:introspection:").unwrap();
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let plain: String = Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_ne!(hash, plain, "the key hashes the validator's settings too");
    assert!(!keys[0].contains(&token));
}

// ----- shared state bound to the validator, authenticated, eviction-safe, over TLS ---------

/// A plain connection to the same Redis, as another party that can write to it.
async fn raw(redis: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Every key in Redis.
async fn scan(redis: &RedisServer) -> Vec<String> {
    redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw(redis).await)
        .await
        .unwrap()
}

#[tokio::test]
async fn apis_sharing_a_store_never_see_each_others_outcomes() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    // Same Redis, same prefix, other audiences.
    let (orders, _) = introspection_instance_for(&server, store(&redis).await, "orders").await;
    let (billing, _) = introspection_instance_for(&server, store(&redis).await, "billing").await;
    let for_orders = server.mint().aud("orders").opaque();
    assert_eq!(get(&orders, &bearer(&for_orders), None).await, 200);
    assert_eq!(
        get(&billing, &bearer(&for_orders), None).await,
        401,
        "a token for orders must not pass at billing through the shared cache"
    );
    // Refusals do not cross either: billing's own token, refused at orders (and cached so),
    // still passes at billing.
    let for_billing = server.mint().aud("billing").opaque();
    assert_eq!(get(&orders, &bearer(&for_billing), None).await, 401);
    assert_eq!(get(&billing, &bearer(&for_billing), None).await, 200);
    // Each outcome is cached under its own key: four entries, and no further calls.
    assert_eq!(scan(&redis).await.len(), 4);
    let calls = server.count(Endpoint::Introspection);
    assert_eq!(get(&orders, &bearer(&for_orders), None).await, 200);
    assert_eq!(get(&billing, &bearer(&for_orders), None).await, 401);
    assert_eq!(server.count(Endpoint::Introspection), calls);
}

#[tokio::test]
async fn values_written_without_the_secret_are_never_used() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let server = TestServer::start().await;
    let (api, _) = introspection_instance(&server, &redis).await;
    // A token the authorization server does not know: refused, and the refusal cached.
    let junk = "a-string-chosen-by-whoever-can-write-to-redis";
    assert_eq!(get(&api, &bearer(junk), None).await, 401);
    let keys = scan(&redis).await;
    assert_eq!(keys.len(), 1);
    let calls = server.count(Endpoint::Introspection);
    // Someone with write access to Redis stores an active outcome under that key: without
    // the tag, and with a tag made under another secret.
    let forged = json!({"claims": {"sub": "mallory", "aud": "api", "active": true}}).to_string();
    let mut other_tag = Sha256::digest(b"not the tag").to_vec();
    other_tag.extend_from_slice(forged.as_bytes());
    for value in [forged.clone().into_bytes(), other_tag] {
        let _: () = redis::cmd("SET")
            .arg(&keys[0])
            .arg(value)
            .query_async(&mut raw(&redis).await)
            .await
            .unwrap();
        assert_eq!(
            get(&api, &bearer(junk), None).await,
            401,
            "forged value used"
        );
    }
    // Each forged value was a miss: the authorization server was asked again.
    assert_eq!(server.count(Endpoint::Introspection), calls + 2);
    // The instance's own values still serve.
    let token = server.mint().opaque();
    assert_eq!(get(&api, &bearer(&token), None).await, 200);
    assert_eq!(get(&api, &bearer(&token), None).await, 200);
    assert_eq!(server.count(Endpoint::Introspection), calls + 3);
}

#[tokio::test]
async fn a_store_needs_a_secret_of_32_bytes() {
    // Checked before connecting: no server needed.
    let url = "redis://127.0.0.1:1/";
    if std::env::var_os(bearer_guard::store::SECRET_ENV).is_none() {
        let err = RedisStore::builder(url).connect().await.unwrap_err();
        assert!(err.to_string().contains("needs a secret"), "{err}");
    }
    let err = RedisStore::builder(url)
        .secret([1u8; 31])
        .connect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("shorter than 32 bytes"), "{err}");
    let err = RedisStore::builder(url)
        .secret([1u8; 32])
        .connect()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn an_evicting_redis_is_refused_as_a_replay_set_unless_allowed() {
    for policy in ["allkeys-lru", "volatile-ttl", "allkeys-random"] {
        let Some(redis) = RedisServer::start_with(&["--maxmemory-policy", policy]) else {
            return;
        };
        let server = TestServer::start().await;
        let refusing = store(&redis).await;
        assert!(!refusing.is_replay_safe(), "{policy}");
        let url = dpop_instance(&server, refusing).await;
        let client = DpopClient::new();
        let token = server
            .mint()
            .claim("cnf", json!({"jkt": client.jkt()}))
            .sign();
        let auth = format!("DPoP {token}");
        assert_eq!(
            get(&url, &auth, Some(&client.proof(PUBLIC, &token))).await,
            503,
            "{policy}"
        );
        // Opted in: the operator knows memory will not fill up.
        let allowed = RedisStore::builder(redis.url())
            .secret(SECRET)
            .allow_eviction(true)
            .connect()
            .await
            .unwrap();
        assert!(allowed.is_replay_safe());
        let url = dpop_instance(&server, allowed).await;
        let proof = client.proof(PUBLIC, &token);
        assert_eq!(get(&url, &auth, Some(&proof)).await, 200, "{policy}");
        assert_eq!(
            get(&url, &auth, Some(&proof)).await,
            401,
            "{policy}: replay"
        );
    }
    // The default policy, noeviction, is safe.
    let Some(redis) = RedisServer::start() else {
        return;
    };
    assert!(store(&redis).await.is_replay_safe());
}

#[tokio::test]
async fn rediss_connects_over_tls_with_a_private_ca() {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "bearer-guard redis test CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::new(ca, ca_key);
    let leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf_pem = leaf.signed_by(&leaf_key, &issuer).unwrap().pem();
    let dir = std::env::temp_dir().join(format!("bearer-guard-redis-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_file, key_file) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_file, leaf_pem).unwrap();
    std::fs::write(&key_file, leaf_key.serialize_pem()).unwrap();
    let Some(redis) =
        RedisServer::start_tls(cert_file.to_str().unwrap(), key_file.to_str().unwrap())
    else {
        return;
    };
    assert!(redis.url().starts_with("rediss://"));
    // Without the CA, the server's certificate is not trusted.
    assert!(RedisStore::builder(redis.url())
        .secret(SECRET)
        .connect()
        .await
        .is_err());
    let tls_store = || async {
        RedisStore::builder(redis.url())
            .secret(SECRET)
            .root_certificate(ca_pem.clone())
            .timeout(Duration::from_secs(2))
            .connect()
            .await
            .unwrap()
    };
    let server = TestServer::start().await;
    let (a, _) = introspection_instance_for(&server, tls_store().await, "api").await;
    let (b, _) = introspection_instance_for(&server, tls_store().await, "api").await;
    let token = server.mint().opaque();
    assert_eq!(get(&a, &bearer(&token), None).await, 200);
    assert_eq!(get(&b, &bearer(&token), None).await, 200);
    assert_eq!(
        server.count(Endpoint::Introspection),
        1,
        "served from the store over TLS"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
