//! The server as an OpenID provider, checked by a relying-party library (openidconnect):
//! discovery, ID tokens (signature through the discovered JWKS, iss, aud = client id, nonce,
//! at_hash), userinfo, refresh.

use crate::support;

use bearer_guard_testkit::{KeyAlg, TestServer, User};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{AccessToken, AccessTokenHash, ClientId, ClientSecret, Nonce};
use serde_json::{json, Value};
use support::flow::{http, sign_in, token};
use support::jwt::decode;

async fn server(alg: KeyAlg) -> TestServer {
    TestServer::builder()
        .user(
            User::new("alice", "password")
                .email("alice@example.com")
                .name("Alice Liddell")
                .groups(["staff"])
                .roles(["reader"])
                .acr_values(["urn:example:pwd", "urn:example:mfa"]),
        )
        .auto_approve("alice")
        .key(alg)
        .start()
        .await
        .unwrap()
}

/// What a relying party does: discovery, then the JWKS it names, into openidconnect's types.
async fn relying_party(server: &TestServer) -> CoreIdTokenVerifier<'static> {
    let doc: Value = http()
        .get(server.discovery_uri())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let metadata: CoreProviderMetadata = serde_json::from_value(doc).unwrap();
    assert_eq!(metadata.issuer().as_str(), server.issuer());
    let jwks: CoreJsonWebKeySet = http()
        .get(metadata.jwks_uri().as_str())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let algs = metadata.id_token_signing_alg_values_supported().clone();
    CoreIdTokenVerifier::new_confidential_client(
        ClientId::new("demo-client".into()),
        ClientSecret::new("demo-secret".into()),
        metadata.issuer().clone(),
        jwks,
    )
    .set_allowed_algs(algs)
}

/// The claims of `id_token` as openidconnect checks them (signature, iss, aud, exp, nonce)
/// and its `at_hash` against `access_token`.
fn rp_check(
    verifier: &CoreIdTokenVerifier<'_>,
    id_token: &str,
    nonce: &str,
    access_token: &str,
) -> Result<Value, String> {
    let id_token: CoreIdToken = id_token.parse().map_err(|e| format!("{e:?}"))?;
    let claims = id_token
        .claims(verifier, &Nonce::new(nonce.into()))
        .map_err(|e| format!("{e}"))?;
    let expected = AccessTokenHash::from_token(
        &AccessToken::new(access_token.into()),
        id_token.signing_alg().map_err(|e| format!("{e}"))?,
        id_token.signing_key(verifier).map_err(|e| format!("{e}"))?,
    )
    .map_err(|e| format!("{e}"))?;
    if claims.access_token_hash() != Some(&expected) {
        return Err("at_hash does not match the access token".into());
    }
    Ok(serde_json::to_value(claims).unwrap())
}

#[tokio::test]
async fn id_tokens_pass_a_relying_party_library() {
    for alg in [KeyAlg::Rs256, KeyAlg::Es256, KeyAlg::EdDsa] {
        let server = server(alg).await;
        let verifier = relying_party(&server).await;
        let answer = sign_in(
            server.issuer(),
            &[("scope", "openid read"), ("nonce", "n-0S6_WzA2Mj")],
        )
        .await;
        let id_token = answer["id_token"].as_str().expect("an id_token");
        let access_token = answer["access_token"].as_str().unwrap();
        let claims = rp_check(&verifier, id_token, "n-0S6_WzA2Mj", access_token)
            .unwrap_or_else(|e| panic!("{alg}: {e}"));
        assert_eq!(claims["iss"], server.issuer());
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["aud"], json!(["demo-client"]));
        assert_eq!(claims["email"], "alice@example.com");
        assert_eq!(claims["name"], "Alice Liddell");
        assert_eq!(claims["acr"], "urn:example:pwd");

        // The rules the relying party depends on: another nonce, another access token.
        let err = rp_check(&verifier, id_token, "another-nonce", access_token).unwrap_err();
        assert!(err.contains("nonce"), "{err}");
        let err = rp_check(&verifier, id_token, "n-0S6_WzA2Mj", "another-token").unwrap_err();
        assert!(err.contains("at_hash"), "{err}");
    }
}

#[tokio::test]
async fn id_token_claims_and_header() {
    let server = server(KeyAlg::Rs256).await;
    let before = support::now();
    let answer = sign_in(server.issuer(), &[("scope", "openid"), ("nonce", "abc")]).await;
    let (header, claims) = decode(answer["id_token"].as_str().unwrap());
    assert_eq!(header["typ"], "JWT");
    assert_eq!(header["kid"], server.active_kid());
    // aud is the client id alone: no azp needed.
    assert_eq!(claims["aud"], "demo-client");
    assert!(claims.get("azp").is_none());
    assert_eq!(claims["nonce"], "abc");
    assert_eq!(claims["groups"], json!(["staff"]));
    assert_eq!(claims["roles"], json!(["reader"]));
    let auth_time = claims["auth_time"].as_u64().unwrap();
    assert!(auth_time >= before && auth_time <= support::now());
    assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
    // The access token carries the sign-in too, and only the scope asked for.
    let (_, at) = decode(answer["access_token"].as_str().unwrap());
    assert_eq!(at["auth_time"], auth_time);
    assert_eq!(at["acr"], "urn:example:pwd");
    assert_eq!(at["scope"], "openid");
    assert_eq!(answer["scope"], "openid");
}

#[tokio::test]
async fn no_openid_scope_no_id_token() {
    let server = server(KeyAlg::Rs256).await;
    let answer = sign_in(server.issuer(), &[("scope", "read")]).await;
    assert!(answer.get("id_token").is_none());
    // Nor with client credentials, which have no user.
    let (status, answer) = token(
        server.issuer(),
        ("demo-client", "demo-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(answer.get("id_token").is_none());
    // openid is not a client-credentials scope.
    let (status, answer) = token(
        server.issuer(),
        ("demo-client", "demo-secret"),
        &[("grant_type", "client_credentials"), ("scope", "openid")],
    )
    .await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_scope"))
    );
}

#[tokio::test]
async fn refreshed_id_token_keeps_the_sign_in_without_nonce() {
    let server = server(KeyAlg::Rs256).await;
    let first = sign_in(
        server.issuer(),
        &[("scope", "openid read"), ("nonce", "n1")],
    )
    .await;
    let (_, first_claims) = decode(first["id_token"].as_str().unwrap());
    let (status, answer) = token(
        server.issuer(),
        ("demo-client", "demo-secret"),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let verifier = relying_party(&server).await;
    let id_token: CoreIdToken = answer["id_token"].as_str().unwrap().parse().unwrap();
    // No nonce: the relying party accepts it without one.
    let claims = id_token
        .claims(&verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("unexpected nonce".to_owned()),
        })
        .unwrap();
    assert_eq!(
        claims.auth_time().unwrap().timestamp() as u64,
        first_claims["auth_time"].as_u64().unwrap()
    );
}

async fn userinfo(server: &TestServer, token: &str) -> (u16, String, Value) {
    let resp = http()
        .get(server.userinfo_endpoint())
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let challenge = resp
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

#[tokio::test]
async fn userinfo_answers_for_openid_tokens() {
    let server = server(KeyAlg::Rs256).await;
    let answer = sign_in(server.issuer(), &[("scope", "openid")]).await;
    let (status, _, info) = userinfo(&server, answer["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(
        info,
        json!({"sub": "alice", "email": "alice@example.com", "email_verified": true,
               "name": "Alice Liddell", "groups": ["staff"], "roles": ["reader"]})
    );
    // POST too.
    let resp = http()
        .post(server.userinfo_endpoint())
        .bearer_auth(answer["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    // Without openid: 403; not active (revoked, foreign, garbage): 401; no token: 401.
    let plain = sign_in(server.issuer(), &[("scope", "read")]).await;
    let (status, challenge, _) = userinfo(&server, plain["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 403);
    assert!(challenge.contains("insufficient_scope"), "{challenge}");
    server.revoke(answer["access_token"].as_str().unwrap());
    let (status, challenge, _) = userinfo(&server, answer["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let other = TestServer::start().await;
    let foreign = other.mint().scope("openid").sign();
    assert_eq!(userinfo(&server, &foreign).await.0, 401);
    let resp = http().get(server.userinfo_endpoint()).send().await.unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn discovery_is_a_complete_openid_document() {
    let server = server(KeyAlg::Es256).await;
    let doc: Value = http()
        .get(server.discovery_uri())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Discovery §3 REQUIRED members, and what the server really does.
    assert_eq!(doc["issuer"], server.issuer());
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(
        doc["acr_values_supported"],
        json!(["urn:example:mfa", "urn:example:pwd"])
    );
    let claims = doc["claims_supported"].as_array().unwrap();
    for c in [
        "sub",
        "iss",
        "auth_time",
        "acr",
        "nonce",
        "email",
        "groups",
        "roles",
    ] {
        assert!(claims.contains(&json!(c)), "{c}");
    }
    assert_eq!(doc["userinfo_endpoint"], server.userinfo_endpoint());
    // A relying-party library reads it.
    let _: CoreProviderMetadata = serde_json::from_value(doc).unwrap();
}
