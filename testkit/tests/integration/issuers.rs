//! Several issuers in one server, by path: each with its own discovery, keys, JWKS and token
//! endpoint; bearer-guard's `MultiIssuer` told apart by them; tenants kept separate.

use crate::support;

use axum::routing::get;
use axum::Router;
use bearer_guard::{AuthLayer, JwtValidator, MultiIssuer, Validator};
use bearer_guard_testkit::{Issuer, KeyAlg, TestServer};
use serde_json::Value;
use support::flow::{http, sign_in};
use support::jwt::decode;

async fn get_json(url: &str) -> (u16, Value) {
    let resp = http().get(url).send().await.unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

async fn validator(issuer: &Issuer) -> JwtValidator {
    JwtValidator::builder(issuer.issuer())
        .audience("api")
        .build()
        .await
        .unwrap()
}

/// An API behind `validator`; its URL.
async fn api<V: Validator>(validator: V) -> String {
    let app = Router::new()
        .route("/me", get(|| async { "ok" }))
        .layer(AuthLayer::new(validator));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/me", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn status(url: &str, token: &str) -> u16 {
    http()
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn setup() -> (TestServer, Issuer, Issuer) {
    let server = TestServer::builder()
        .issuer_path("tenant-a")
        .auto_approve("alice")
        .start()
        .await
        .unwrap();
    let a = server.issuer_at("tenant-a").unwrap();
    let b = server.add_issuer("tenant-b", Some(KeyAlg::Es256)).unwrap();
    (server, a, b)
}

#[tokio::test]
async fn each_issuer_has_its_own_endpoints_and_keys() {
    let (server, a, b) = setup().await;
    assert_eq!(a.issuer(), format!("{}/tenant-a", server.issuer()));
    for issuer in [&a, &b] {
        let (status, doc) = get_json(&issuer.discovery_uri()).await;
        assert_eq!(status, 200);
        assert_eq!(doc["issuer"], issuer.issuer());
        assert_eq!(doc["jwks_uri"], issuer.jwks_uri());
        assert_eq!(doc["token_endpoint"], issuer.token_endpoint());
        // RFC 8414 §3.1: the well-known segment before the issuer's path.
        let rfc8414 = format!(
            "{}/.well-known/oauth-authorization-server/{}",
            server.issuer(),
            issuer.issuer().rsplit('/').next().unwrap()
        );
        assert_eq!(get_json(&rfc8414).await.1["issuer"], issuer.issuer());
        let (_, jwks) = get_json(&issuer.jwks_uri()).await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, issuer.kids());
    }
    assert_eq!(b.kids().len(), 1);
    assert!(b.active_kid().starts_with("es256"));
    assert!(!a
        .kids()
        .iter()
        .any(|k| b.kids().contains(k) || server.kids().contains(k)));
    // The root issuer is as it was.
    assert_eq!(
        get_json(&server.discovery_uri()).await.1["issuer"],
        server.issuer()
    );
    // The code flow at a tenant: its iss, its key.
    let answer = sign_in(a.issuer(), &[("scope", "openid read"), ("nonce", "n")]).await;
    let (header, claims) = decode(answer["access_token"].as_str().unwrap());
    assert_eq!(claims["iss"], a.issuer());
    assert_eq!(header["kid"], a.active_kid());
    assert_eq!(
        decode(answer["id_token"].as_str().unwrap()).1["iss"],
        a.issuer()
    );
    assert!(a.is_active(answer["access_token"].as_str().unwrap()));
    assert!(!b.is_active(answer["access_token"].as_str().unwrap()));
    assert!(!server.is_active(answer["access_token"].as_str().unwrap()));
    // Unknown issuers and names.
    assert_eq!(
        get_json(&format!("{}/tenant-c/jwks", server.issuer()))
            .await
            .0,
        404
    );
    for bad in ["tenant-a", "token", "_testkit", "Tenant", "a/b", ""] {
        assert!(server.add_issuer(bad, None).is_err(), "{bad}");
    }
    assert_eq!(server.issuers_by_path().len(), 2);
}

#[tokio::test]
async fn tokens_of_a_are_refused_where_only_b_is_trusted() {
    let (_server, a, b) = setup().await;
    let only_b = api(MultiIssuer::builder()
        .issuer(validator(&b).await)
        .build()
        .unwrap())
    .await;
    assert_eq!(status(&only_b, &b.mint().sign()).await, 200);
    assert_eq!(status(&only_b, &a.mint().sign()).await, 401);
    // Mix-ups: A's token claiming B's issuer (signed by A's key), and the reverse.
    assert_eq!(
        status(&only_b, &a.mint().issuer(b.issuer()).sign()).await,
        401
    );
    let both = api(MultiIssuer::builder()
        .issuer(validator(&a).await)
        .issuer(validator(&b).await)
        .build()
        .unwrap())
    .await;
    assert_eq!(status(&both, &a.mint().sign()).await, 200);
    assert_eq!(status(&both, &b.mint().sign()).await, 200);
    assert_eq!(
        status(&both, &b.mint().issuer(a.issuer()).sign()).await,
        401
    );
}

#[tokio::test]
async fn rotating_as_keys_leaves_b_untouched() {
    let (_server, a, b) = setup().await;
    let b_kids = b.kids();
    let b_active = b.active_kid();
    let api_b = api(validator(&b).await).await;
    let b_token = b.mint().sign();
    assert_eq!(status(&api_b, &b_token).await, 200);

    let old = a.active_kid();
    let new = a.add_key(KeyAlg::Rs256);
    a.use_key(&new);
    a.retire_key(&old);
    assert_eq!(a.kids(), vec![new.clone()]);
    assert_eq!(b.kids(), b_kids);
    assert_eq!(b.active_kid(), b_active);
    let (_, jwks) = get_json(&b.jwks_uri()).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(status(&api_b, &b_token).await, 200);
    assert_eq!(status(&api_b, &b.mint().sign()).await, 200);
    // Faults and counters are per issuer too.
    a.set_fault(
        bearer_guard_testkit::Endpoint::Jwks,
        bearer_guard_testkit::Fault::Unavailable,
    );
    assert_eq!(get_json(&b.jwks_uri()).await.0, 200);
    assert_eq!(get_json(&a.jwks_uri()).await.0, 503);
    assert_eq!(a.count(bearer_guard_testkit::Endpoint::Jwks), 1);
}
