//! Discovery documents, the JWKS and the keys that sign verifiable tokens.

use super::*;

#[tokio::test]
async fn discovery_documents() {
    let server = TestServer::start().await;
    assert!(server.issuer().starts_with("http://127.0.0.1:"));
    assert!(!server.issuer().ends_with('/'));
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let doc: Value = json(http().get(format!("{}{path}", server.issuer()))).await;
        assert_eq!(doc["issuer"], server.issuer());
        assert_eq!(doc["jwks_uri"], server.jwks_uri());
        assert_eq!(doc["token_endpoint"], server.token_endpoint());
        assert_eq!(
            doc["introspection_endpoint"],
            server.introspection_endpoint()
        );
        assert_eq!(doc["revocation_endpoint"], server.revocation_endpoint());
        assert_eq!(
            doc["authorization_endpoint"],
            server.authorization_endpoint()
        );
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!(["client_secret_basic", "client_secret_post"])
        );
        let grants = doc["grant_types_supported"].as_array().unwrap();
        for g in [
            "client_credentials",
            "authorization_code",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ] {
            assert!(grants.contains(&json!(g)));
        }
        assert_eq!(
            doc["scopes_supported"],
            json!(["openid", "admin", "read", "write"])
        );
        // ID tokens are signed with the one RS256 key.
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["RS256"])
        );
        assert!(doc["dpop_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("ES256")));
    }
    assert_eq!(server.count(Endpoint::Discovery), 2);
}

#[tokio::test]
async fn jwks_contents_and_cache_control() {
    let server = TestServer::start().await;
    let resp = http().get(server.jwks_uri()).send().await.unwrap();
    assert_eq!(resp.headers()["cache-control"], "max-age=300");
    let body: Value = resp.json().await.unwrap();
    let keys = body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let k = &keys[0];
    assert_eq!(k["kty"], "RSA");
    assert_eq!(k["alg"], "RS256");
    assert_eq!(k["use"], "sig");
    assert_eq!(k["kid"], server.active_kid());
    assert_eq!(k["e"], "AQAB");
    // 2048-bit modulus: 256 bytes → 342 base64url chars.
    assert_eq!(k["n"].as_str().unwrap().len(), 342);
    assert!(k.get("d").is_none(), "no private material");

    server.set_jwks_max_age(Some(600));
    let resp = http().get(server.jwks_uri()).send().await.unwrap();
    assert_eq!(resp.headers()["cache-control"], "max-age=600");
    server.set_jwks_max_age(None);
    let resp = http().get(server.jwks_uri()).send().await.unwrap();
    assert!(resp.headers().get("cache-control").is_none());
}

#[tokio::test]
async fn every_key_type_signs_verifiable_tokens() {
    for (alg, kty) in [
        (KeyAlg::Rs256, "RSA"),
        (KeyAlg::Ps256, "RSA"),
        (KeyAlg::Es256, "EC"),
        (KeyAlg::EdDsa, "OKP"),
    ] {
        let server = TestServer::builder().key(alg).start().await.unwrap();
        let jwks = serde_json::to_value(fetch_jwks(&server).await).unwrap();
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["kty"], kty);
        assert_eq!(jwk["alg"], alg.as_str());
        match alg {
            KeyAlg::Es256 => assert_eq!(jwk["crv"], "P-256"),
            KeyAlg::EdDsa => assert_eq!(jwk["crv"], "Ed25519"),
            _ => {}
        }
        let token = server.mint().sign();
        let claims = verify(&server, &token).await;
        let (header, _) = decode(&token);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(claims["iss"], server.issuer());
        assert!(introspect(&server, &token).await["active"]
            .as_bool()
            .unwrap());
    }
}
