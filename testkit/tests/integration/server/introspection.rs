//! Introspection (RFC 7662) and revocation (RFC 7009).

use super::*;

#[tokio::test]
async fn introspection() {
    let server = TestServer::start().await;
    let token = server.mint().scope("read").sign();
    let info = introspect(&server, &token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["scope"], "read");
    assert_eq!(info["client_id"], "demo-client");
    assert_eq!(info["sub"], "alice");
    assert_eq!(info["username"], "alice");
    assert_eq!(info["token_type"], "Bearer");
    assert_eq!(info["aud"], "api");
    assert_eq!(info["iss"], server.issuer());
    for c in ["exp", "iat", "jti"] {
        assert!(info[c].is_number() || info[c].is_string(), "{c}");
    }

    for dead in [
        server.mint().expired().sign(),
        server.mint().not_before(Duration::from_secs(600)).sign(),
        server.mint().issuer("https://evil.example").sign(),
        "garbage".to_owned(),
        "a.b.c".to_owned(),
        format!("{token}x"),
    ] {
        assert_eq!(introspect(&server, &dead).await, json!({"active": false}));
    }

    // Opaque minted token.
    let opaque = server
        .mint()
        .scope("read")
        .claim("tenant", json!("acme"))
        .opaque();
    let info = introspect(&server, &opaque).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["tenant"], "acme");
    let expired_opaque = server.mint().expired().opaque();
    assert_eq!(introspect(&server, &expired_opaque).await["active"], false);

    // Programmatic revocation.
    server.revoke(&token);
    assert_eq!(introspect(&server, &token).await["active"], false);
    assert!(!server.is_active(&token));
    server.revoke(&opaque);
    assert_eq!(introspect(&server, &opaque).await["active"], false);

    // Client authentication is required; post auth works too.
    for form in [
        &[("token", "x")][..],
        &[
            ("token", "x"),
            ("client_id", "api"),
            ("client_secret", "bad"),
        ],
    ] {
        let resp = http()
            .post(server.introspection_endpoint())
            .form(form)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_of(resp).await,
            (StatusCode::UNAUTHORIZED, "invalid_client".into()),
            "{form:?}"
        );
    }
    let live = server.mint().sign();
    let resp = http()
        .post(server.introspection_endpoint())
        .form(&[
            ("token", live.as_str()),
            ("client_id", "api"),
            ("client_secret", "api-secret"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.json::<Value>().await.unwrap()["active"], true);
}

#[tokio::test]
async fn revocation_endpoint() {
    let server = TestServer::start().await;
    let (verifier, challenge) = pkce();
    let code = authorize(&server, &challenge, "read").await;
    let body: Value = redeem(&server, &code, &verifier)
        .await
        .json()
        .await
        .unwrap();
    let access = body["access_token"].as_str().unwrap();
    let refresh_token = body["refresh_token"].as_str().unwrap();

    let revoke = |token: String, auth: Option<(&'static str, &'static str)>| {
        let mut req = http()
            .post(server.revocation_endpoint())
            .form(&[("token", token)]);
        if let Some((id, secret)) = auth {
            req = req.basic_auth(id, Some(secret));
        }
        req.send()
    };
    let demo = Some(("demo-client", "demo-secret"));

    // Needs client auth.
    let resp = revoke(access.to_owned(), None).await.unwrap();
    assert_eq!(resp.status(), 401);
    // Unknown tokens: 200.
    let resp = revoke("unknown".into(), demo).await.unwrap();
    assert_eq!(resp.status(), 200);
    // Another client cannot revoke demo-client's token.
    let resp = revoke(access.to_owned(), Some(("api", "api-secret")))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(introspect(&server, access).await["active"], true);

    // Revoking the refresh token kills it and the grant's access tokens.
    let resp = revoke(refresh_token.to_owned(), demo).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(introspect(&server, access).await["active"], false);
    let resp = refresh(&server, ("demo-client", "demo-secret"), refresh_token, None).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");

    // Revoking an access token.
    let body: Value = token_req(&server, demo, &[("grant_type", "client_credentials")])
        .await
        .json()
        .await
        .unwrap();
    let access = body["access_token"].as_str().unwrap();
    assert_eq!(introspect(&server, access).await["active"], true);
    assert_eq!(revoke(access.to_owned(), demo).await.unwrap().status(), 200);
    assert_eq!(introspect(&server, access).await["active"], false);
    assert_eq!(server.count(Endpoint::Revocation), 5);
}
