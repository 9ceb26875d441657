//! The token endpoint: client credentials, the authorization code with PKCE, refresh rotation,
//! errors, and the builder's configuration.

use super::*;

#[tokio::test]
async fn client_credentials_basic_and_post() {
    let server = TestServer::start().await;
    let resp = token_req(
        &server,
        Some(("demo-client", "demo-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "read write admin");
    assert!(body.get("refresh_token").is_none());
    let claims = verify(&server, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["sub"], "demo-client");
    assert_eq!(claims["client_id"], "demo-client");
    assert_eq!(claims["aud"], "api");
    assert_eq!(claims["scope"], "read write admin");

    let resp = token_req(
        &server,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "demo-client"),
            ("client_secret", "demo-secret"),
            ("scope", "read read write"),
        ],
    )
    .await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "read write");
    let claims = verify(&server, body["access_token"].as_str().unwrap()).await;
    assert_eq!(claims["scope"], "read write");
    assert_eq!(server.count(Endpoint::Token), 2);
}

#[tokio::test]
async fn token_endpoint_errors() {
    let server = TestServer::start().await;
    let cc = [("grant_type", "client_credentials")];

    let resp = token_req(&server, Some(("demo-client", "wrong")), &cc).await;
    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(
        error_of(resp).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );

    // Each refused with its error, and the status where one is named: (Basic credentials,
    // form, status, error).
    type Case<'a> = (
        Option<(&'a str, &'a str)>,
        &'a [(&'a str, &'a str)],
        Option<StatusCode>,
        &'a str,
    );
    let demo = Some(("demo-client", "demo-secret"));
    let cases: [Case; 10] = [
        (Some(("nobody", "demo-secret")), &cc, None, "invalid_client"),
        (
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", "demo-client"),
                ("client_secret", "wrong"),
            ],
            Some(StatusCode::BAD_REQUEST),
            "invalid_client",
        ),
        (None, &cc, Some(StatusCode::UNAUTHORIZED), "invalid_client"),
        (
            demo,
            &[("grant_type", "password")],
            Some(StatusCode::BAD_REQUEST),
            "unsupported_grant_type",
        ),
        (demo, &[], None, "invalid_request"),
        (
            demo,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read superuser"),
            ],
            Some(StatusCode::BAD_REQUEST),
            "invalid_scope",
        ),
        // Duplicate parameters are rejected.
        (
            demo,
            &[
                ("grant_type", "client_credentials"),
                ("scope", "read"),
                ("scope", "admin"),
            ],
            None,
            "invalid_request",
        ),
        // Basic and post at once.
        (
            demo,
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", "demo-secret"),
            ],
            None,
            "invalid_request",
        ),
        (
            demo,
            &[("grant_type", "authorization_code"), ("code", "bogus")],
            Some(StatusCode::BAD_REQUEST),
            "invalid_grant",
        ),
        (
            demo,
            &[("grant_type", "refresh_token"), ("refresh_token", "bogus")],
            None,
            "invalid_grant",
        ),
    ];
    for (basic, form, status, error) in cases {
        let resp = token_req(&server, basic, form).await;
        match status {
            Some(status) => assert_eq!(
                error_of(resp).await,
                (status, error.to_owned()),
                "{basic:?} {form:?}"
            ),
            None => assert_eq!(error_of(resp).await.1, error, "{basic:?} {form:?}"),
        }
    }

    // Garbage body never panics the server.
    let resp = http()
        .post(server.token_endpoint())
        .basic_auth("demo-client", Some("demo-secret"))
        .body(vec![0xff, 0x00, b'%', b'=', b'&'])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn authorization_code_with_pkce_and_refresh_rotation() {
    let server = TestServer::start().await;
    let (verifier, challenge) = pkce();
    let code = authorize(&server, &challenge, "read write").await;

    let resp = redeem(&server, &code, &verifier).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "read write");
    let access = body["access_token"].as_str().unwrap().to_owned();
    let claims = verify(&server, &access).await;
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "demo-client");
    assert_eq!(claims["scope"], "read write");
    let refresh_token = body["refresh_token"].as_str().unwrap().to_owned();

    // Refresh (narrowing the scope), with rotation.
    let demo = ("demo-client", "demo-secret");
    let resp = refresh(&server, demo, &refresh_token, Some("read")).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "read");
    let refresh2 = body["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh_token, refresh2);
    verify(&server, body["access_token"].as_str().unwrap()).await;

    // Scope cannot be widened beyond the grant.
    let resp = refresh(&server, demo, &refresh2, Some("admin")).await;
    assert_eq!(error_of(resp).await.1, "invalid_scope");
    // ...and the failed attempt did not consume the token.
    let resp = refresh(&server, demo, &refresh2, None).await;
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "read write");

    // Another client cannot use the refresh token.
    let refresh3 = body["refresh_token"].as_str().unwrap();
    let resp = refresh(&server, ("api", "api-secret"), refresh3, None).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");

    // Code reuse fails and revokes the tokens issued from the code.
    assert!(introspect(&server, &access).await["active"]
        .as_bool()
        .unwrap());
    let resp = redeem(&server, &code, &verifier).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");
    assert_eq!(introspect(&server, &access).await["active"], false);
    // ...including the refresh token rotated from it since.
    let resp = refresh(&server, demo, refresh3, None).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");

    // The rotated-out refresh token is dead (its replay is tested in tests/conformance.rs).
    let resp = refresh(&server, demo, &refresh_token, None).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");
}

#[tokio::test]
async fn authorization_code_errors() {
    let server = TestServer::start().await;
    let (verifier, challenge) = pkce();

    // PKCE mismatch.
    let code = authorize(&server, &challenge, "read").await;
    let wrong = "w".repeat(43);
    let resp = redeem(&server, &code, &wrong).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");
    // Code is single-use even after a failed attempt.
    let resp = redeem(&server, &code, &verifier).await;
    assert_eq!(error_of(resp).await.1, "invalid_grant");

    // Each with a fresh code: missing verifier, redirect_uri mismatch, code bound to the
    // client.
    for (client, redirect, code_verifier) in [
        (("demo-client", "demo-secret"), REDIRECT, None),
        (
            ("demo-client", "demo-secret"),
            "http://127.0.0.1/other",
            Some(verifier.as_str()),
        ),
        (("api", "api-secret"), REDIRECT, Some(verifier.as_str())),
    ] {
        let code = authorize(&server, &challenge, "read").await;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect),
        ];
        form.extend(code_verifier.map(|v| ("code_verifier", v)));
        let resp = token_req(&server, Some(client), &form).await;
        assert_eq!(
            error_of(resp).await.1,
            "invalid_grant",
            "{client:?} {form:?}"
        );
    }

    let base = |redirect: &'static str, client: &'static str| {
        vec![
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", redirect),
            ("code_challenge_method", "S256"),
        ]
    };

    // Unregistered redirect URI / unknown client: 400 page, never a redirect.
    for params in [
        base("http://evil.example/cb", "demo-client"),
        base(REDIRECT, "nobody"),
    ] {
        let mut params = params;
        params.push(("code_challenge", &challenge));
        let resp = http()
            .get(authz_url(&server, &params))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        assert!(resp.headers().get("location").is_none());
    }

    // Missing PKCE: error redirected to the (registered) client.
    let resp = http()
        .get(authz_url(&server, &base(REDIRECT, "demo-client")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let loc = resp.headers()["location"].to_str().unwrap();
    assert_eq!(
        query_param(loc, "error").as_deref(),
        Some("invalid_request")
    );

    // Invalid scope: redirected error.
    let mut params = base(REDIRECT, "demo-client");
    params.extend([("code_challenge", challenge.as_str()), ("scope", "root")]);
    let resp = http()
        .get(authz_url(&server, &params))
        .send()
        .await
        .unwrap();
    let loc = resp.headers()["location"].to_str().unwrap();
    assert_eq!(query_param(loc, "error").as_deref(), Some("invalid_scope"));

    // Bad credentials: the form again with 401.
    let mut params = base(REDIRECT, "demo-client");
    params.extend([
        ("code_challenge", challenge.as_str()),
        ("username", "alice"),
        ("password", "nope"),
    ]);
    let resp = http()
        .post(server.authorization_endpoint())
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.text().await.unwrap().contains("<form"));
}

#[tokio::test]
async fn expired_authorization_code_is_refused() {
    let server = TestServer::builder()
        .code_lifetime(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let (verifier, challenge) = pkce();
    let code = authorize(&server, &challenge, "read").await;
    let resp = redeem(&server, &code, &verifier).await;
    assert_eq!(
        error_of(resp).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".to_owned())
    );
    // The same flow with a live code succeeds, so the refusal above is the expiry.
    let server = TestServer::builder()
        .code_lifetime(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let code = authorize(&server, &challenge, "read").await;
    assert_eq!(redeem(&server, &code, &verifier).await.status(), 200);
}

#[tokio::test]
async fn custom_configuration() {
    let server = TestServer::builder()
        .audience("orders")
        .client(
            Client::new("shop", "s3cret")
                .scopes(["orders:read"])
                .redirect_uri("http://127.0.0.1:9999/cb")
                .opaque_tokens(true),
        )
        .user(User::new("bob", "hunter2"))
        .token_lifetime(Duration::from_secs(60))
        .key(KeyAlg::Es256)
        .start()
        .await
        .unwrap();
    assert_eq!(server.audience(), "orders");

    let resp = token_req(
        &server,
        Some(("shop", "s3cret")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["expires_in"], 60);
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(token.split('.').count(), 1, "opaque token is not a JWT");
    let info = introspect(&server, token).await;
    assert_eq!(info["active"], true);
    assert_eq!(info["aud"], "orders");
    assert_eq!(info["client_id"], "shop");
    assert_eq!(info["scope"], "orders:read");
    assert!(info.get("username").is_none());
}
