//! The control API's OpenID side: users with claims, sign-ins, issuers by path.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use bearer_guard_testkit::TestServer;
use serde_json::{json, Value};
use support::flow::{http, sign_in};
use support::jwt::decode;

async fn call(method: reqwest::Method, url: String, body: Value) -> (u16, Value) {
    let resp = http()
        .request(method, url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    (
        resp.status().as_u16(),
        resp.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn users_sign_ins_and_issuers_over_http() {
    let server = TestServer::builder()
        .control_api(true)
        .auto_approve("alice")
        .start()
        .await
        .unwrap();
    let base = server.issuer().to_owned();
    let post = reqwest::Method::POST;

    // A user with claims, seen by userinfo.
    let (status, _) = call(
        post.clone(),
        format!("{base}/_testkit/users"),
        json!({"username": "bob", "password": "pw", "claims": {"email": "bob@example.com", "roles": ["admin"]},
               "acr_values": ["urn:example:mfa"]}),
    )
    .await;
    assert_eq!(status, 201);
    let token = server.mint().sub("bob").scope("openid").sign();
    let info: Value = http()
        .get(server.userinfo_endpoint())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        json!({"sub": "bob", "email": "bob@example.com", "roles": ["admin"]})
    );
    let doc: Value = http()
        .get(server.discovery_uri())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["acr_values_supported"], json!(["urn:example:mfa"]));
    let (status, _) = call(
        post.clone(),
        format!("{base}/_testkit/users"),
        json!({"username": "x"}),
    )
    .await;
    assert_eq!(status, 400);

    // A sign-in an hour ago: the next auto-approved authorization reuses it.
    let hour_ago = support::now() - 3600;
    let (status, _) = call(
        reqwest::Method::PUT,
        format!("{base}/_testkit/users/alice/sign-in"),
        json!({"auth_time": hour_ago, "acr": "urn:example:pwd"}),
    )
    .await;
    assert_eq!(status, 200);
    let answer = sign_in(&base, &[("scope", "read")]).await;
    let (_, claims) = decode(answer["access_token"].as_str().unwrap());
    assert_eq!(
        (claims["auth_time"].as_u64(), claims["acr"].as_str()),
        (Some(hour_ago), Some("urn:example:pwd"))
    );
    let (status, _) = call(
        reqwest::Method::PUT,
        format!("{base}/_testkit/users/nobody/sign-in"),
        json!({}),
    )
    .await;
    assert_eq!(status, 404);

    // Issuers by path: added, listed, with their own control API.
    let (status, added) = call(
        post.clone(),
        format!("{base}/_testkit/issuers"),
        json!({"name": "tenant-a", "alg": "ES256"}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(added["issuer"], format!("{base}/tenant-a"));
    let (status, _) = call(
        post.clone(),
        format!("{base}/_testkit/issuers"),
        json!({"name": "tenant-a"}),
    )
    .await;
    assert_eq!(status, 400);
    let (_, list) = call(
        reqwest::Method::GET,
        format!("{base}/_testkit/issuers"),
        Value::Null,
    )
    .await;
    assert_eq!(
        list,
        json!({"issuers": [{"name": "tenant-a", "issuer": format!("{base}/tenant-a")}]})
    );
    let (status, minted) = call(
        post.clone(),
        format!("{base}/tenant-a/_testkit/tokens"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(minted["claims"]["iss"], format!("{base}/tenant-a"));
    assert_eq!(minted["header"]["alg"], "ES256");
    assert!(server
        .issuer_at("tenant-a")
        .unwrap()
        .is_active(minted["access_token"].as_str().unwrap()));
    // Issuers are added at the root only.
    let (status, _) = call(
        post,
        format!("{base}/tenant-a/_testkit/issuers"),
        json!({"name": "b"}),
    )
    .await;
    assert_eq!(status, 404);
}
