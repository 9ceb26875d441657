//! What configuration and tokens cannot switch off: settings that would, confirmation methods
//! the layer cannot check, scope arrays.

use super::*;

// Settings that would switch checks off.

#[tokio::test]
async fn settings_that_switch_checks_off_are_refused() {
    let hmac = || {
        JwtValidator::builder("https://as.example")
            .audience("api")
            .algorithms([])
    };
    let invalid = |r: Result<JwtValidator, BuildError>| match r {
        Err(BuildError::Invalid(why)) => why,
        other => panic!("expected Invalid, got {other:?}"),
    };
    let secret32 = [7u8; 32].to_vec();
    assert!(invalid(
        hmac()
            .hmac_secret(secret32.clone())
            .leeway(Duration::MAX)
            .build()
            .await
    )
    .contains("leeway"));
    assert!(hmac()
        .hmac_secret(secret32.clone())
        .leeway(Duration::from_secs(300))
        .build()
        .await
        .is_ok());
    assert!(invalid(hmac().hmac_secret(Vec::new()).build().await).contains("32 bytes"));
    assert!(invalid(hmac().hmac_secret([7u8; 31].to_vec()).build().await).contains("32 bytes"));
    assert!(invalid(
        JwtValidator::builder("https://as.example")
            .audience("api")
            .algorithms([bearer_guard::jwt::Algorithm::HS512])
            .hmac_secret(secret32.clone())
            .build()
            .await
    )
    .contains("HS512"));
    assert!(hmac().hmac_secret(secret32).build().await.is_ok());
    assert!(hmac().hmac_secret([7u8; 64].to_vec()).build().await.is_ok());

    let b = || introspection("https://as.example", "http://127.0.0.1:1/introspect");
    for (builder, word) in [
        (b().leeway(Duration::MAX), "leeway"),
        (b().cache_ttl(Duration::MAX), "cache_ttl"),
        (b().cache_ttl(Duration::from_secs(86_401)), "cache_ttl"),
        (b().negative_ttl(Duration::MAX), "negative_ttl"),
        (b().max_concurrent_calls(0), "max_concurrent_calls"),
    ] {
        match builder.build().await {
            Err(BuildError::Invalid(why)) => assert!(why.contains(word), "{why}"),
            other => panic!("{word}: {other:?}"),
        }
    }
    assert!(b()
        .cache_ttl(Duration::from_secs(86_400))
        .build()
        .await
        .is_ok());
}

#[tokio::test]
async fn a_short_hmac_secret_does_not_allow_the_longer_hashes() {
    let secret = b"0123456789abcdef0123456789abcdef".to_vec();
    let v = JwtValidator::builder("https://as.example")
        .audience("api")
        .algorithms([])
        .hmac_secret(secret.clone())
        .build()
        .await
        .unwrap();
    let claims = json!({"iss": "https://as.example", "aud": "api", "exp": support::now() + 60});
    for (alg, ok) in [("HS256", true), ("HS384", false), ("HS512", false)] {
        let token =
            support::jwt::hmac(alg, &secret, &json!({"alg": alg, "typ": "at+jwt"}), &claims);
        let result = outcome(&v, &token).await;
        assert_eq!(result.is_ok(), ok, "{alg}: {result:?}");
    }
}

// Confirmation methods the layer cannot check.

#[tokio::test]
async fn tokens_bound_by_methods_the_layer_cannot_check_are_refused() {
    let server = TestServer::start().await;
    let unknown = [
        json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}),
        json!({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}),
        json!({"jkt": "abc", "x5t#S256": "def"}),
        json!("x5t#S256"),
        json!(["jkt"]),
    ];
    let jwt = support::validator(&server).await;
    let remote = introspection(server.issuer(), &server.introspection_endpoint())
        .build()
        .await
        .unwrap();
    for with_dpop in [false, true] {
        let layer = |v| {
            let l = AuthLayer::new(v).realm("test");
            if with_dpop {
                l.dpop(DpopConfig::new().allowed_hosts(["api.example"]))
                    .unwrap()
            } else {
                l
            }
        };
        let jwt_svc = layer(jwt.clone()).layer(tower::service_fn(ok));
        let remote_svc = AuthLayer::new(remote.clone());
        let remote_svc = if with_dpop {
            remote_svc
                .dpop(DpopConfig::new().allowed_hosts(["api.example"]))
                .unwrap()
        } else {
            remote_svc
        }
        .realm("test")
        .layer(tower::service_fn(ok));
        for cnf in &unknown {
            let signed = server.mint().claim("cnf", cnf.clone()).sign();
            let opaque = server.mint().claim("cnf", cnf.clone()).opaque();
            for res in [
                jwt_svc.clone().oneshot(bearer(&signed)).await.unwrap(),
                remote_svc.clone().oneshot(bearer(&opaque)).await.unwrap(),
            ] {
                assert_eq!(res.status(), 401, "{cnf} dpop={with_dpop}");
                let challenge = res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap();
                assert!(
                    challenge.contains(r#"error="invalid_token""#),
                    "{challenge}"
                );
            }
        }
        // Unbound tokens, and an empty `cnf`, still pass.
        for token in [
            server.mint().sign(),
            server.mint().claim("cnf", json!({})).sign(),
        ] {
            let res = jwt_svc.clone().oneshot(bearer(&token)).await.unwrap();
            assert_eq!(res.status(), 200);
        }
        let res = remote_svc
            .clone()
            .oneshot(bearer(&server.mint().opaque()))
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

fn bearer(token: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get("https://api.example/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(axum::body::Body::empty())
        .unwrap()
}

async fn ok(
    _: axum::http::Request<axum::body::Body>,
) -> Result<axum::http::Response<axum::body::Body>, std::convert::Infallible> {
    Ok(axum::http::Response::new(axum::body::Body::empty()))
}

// Scope arrays.

#[tokio::test]
async fn an_array_element_with_a_space_is_one_value_not_two() {
    let server = TestServer::start().await;
    let v = JwtValidator::builder(server.issuer())
        .audience("api")
        .scope_claim("groups")
        .build()
        .await
        .unwrap();
    let app = Router::new()
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopeLayer::all(["admin"])),
        )
        .layer(AuthLayer::new(v));
    let call = |groups: Value| {
        let token = server.mint().claim("groups", groups).sign();
        let app = app.clone();
        async move {
            let req = axum::http::Request::get("/admin")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap();
            app.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(call(json!(["not admin", "staff"])).await, 403);
    assert_eq!(call(json!(["admin sales"])).await, 403);
    assert_eq!(call(json!(["staff", "admin"])).await, 200);
}
