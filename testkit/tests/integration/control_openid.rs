//! The control API's OpenID side: users with claims, sign-ins, issuers by path.

use crate::support;

use bearer_guard_testkit::TestServer;
use serde_json::{json, Value};
use support::control;
use support::flow::{http, sign_in};
use support::jwt::decode;

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
    let (status, _) = control(
        post.clone(),
        format!("{base}/_testkit/users"),
        Some(json!({"username": "bob", "password": "pw", "claims": {"email": "bob@example.com", "roles": ["admin"]},
               "acr_values": ["urn:example:mfa"]})))
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
    let (status, _) = control(
        post.clone(),
        format!("{base}/_testkit/users"),
        Some(json!({"username": "x"})),
    )
    .await;
    assert_eq!(status, 400);

    // A sign-in an hour ago: the next auto-approved authorization reuses it.
    let hour_ago = support::now() - 3600;
    let (status, _) = control(
        reqwest::Method::PUT,
        format!("{base}/_testkit/users/alice/sign-in"),
        Some(json!({"auth_time": hour_ago, "acr": "urn:example:pwd"})),
    )
    .await;
    assert_eq!(status, 200);
    let answer = sign_in(&base, &[("scope", "read")]).await;
    let (_, claims) = decode(answer["access_token"].as_str().unwrap());
    assert_eq!(
        (claims["auth_time"].as_u64(), claims["acr"].as_str()),
        (Some(hour_ago), Some("urn:example:pwd"))
    );
    let (status, _) = control(
        reqwest::Method::PUT,
        format!("{base}/_testkit/users/nobody/sign-in"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 404);

    // Issuers by path: added, listed, with their own control API.
    let (status, added) = control(
        post.clone(),
        format!("{base}/_testkit/issuers"),
        Some(json!({"name": "tenant-a", "alg": "ES256"})),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(added["issuer"], format!("{base}/tenant-a"));
    let (status, _) = control(
        post.clone(),
        format!("{base}/_testkit/issuers"),
        Some(json!({"name": "tenant-a"})),
    )
    .await;
    assert_eq!(status, 400);
    let (_, list) = control(
        reqwest::Method::GET,
        format!("{base}/_testkit/issuers"),
        None,
    )
    .await;
    assert_eq!(
        list,
        json!({"issuers": [{"name": "tenant-a", "issuer": format!("{base}/tenant-a")}]})
    );
    let (status, minted) = control(
        post.clone(),
        format!("{base}/tenant-a/_testkit/tokens"),
        Some(json!({})),
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
    let (status, _) = control(
        post,
        format!("{base}/tenant-a/_testkit/issuers"),
        Some(json!({"name": "b"})),
    )
    .await;
    assert_eq!(status, 404);
}
