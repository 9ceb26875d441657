//! The trust boundary: what comes back from the network (redirects, introspection answers
//! about the token, floods of distinct tokens) and what tokens claim (`cnf` methods, scope
//! arrays, token kinds) must never let a request through that the layer cannot vouch for, and
//! a client's own bad token must never become a 503.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bearer_guard::{
    dpop::DpopConfig, error::DiscoveryError, error::FetchError, introspection::ClientAuth,
    introspection::IntrospectionValidatorBuilder, AuthError, AuthLayer, BuildError,
    IntrospectionValidator, JwtValidator, RequireScopeLayer, Validator,
};
use bearer_guard_testkit::{Endpoint, TestServer};
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};

/// A loopback server that answers every request with `status` and `body`, and counts them.
async fn stub(status: u16, body: Value) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().fallback(move || {
        let (counter, body) = (counter.clone(), body.clone());
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
        }
    });
    (support::serve(app).await, hits)
}

/// A loopback server that redirects every request to the same path on `target`.
async fn redirector(status: u16, target: &str) -> String {
    let target = target.to_owned();
    let app = Router::new().fallback(move |uri: axum::http::Uri| {
        let location = format!("{target}{}", uri.path());
        async move {
            (
                StatusCode::from_u16(status).unwrap(),
                [(header::LOCATION, location)],
            )
                .into_response()
        }
    });
    support::serve(app).await
}

fn introspection(issuer: &str, endpoint: &str) -> IntrospectionValidatorBuilder {
    IntrospectionValidator::builder(issuer)
        .client("api", "api-secret")
        .introspection_endpoint(endpoint)
        .audience("api")
}

/// Validates `token` in process; the error's text, or "ok".
async fn outcome(validator: &impl Validator, token: &str) -> Result<(), AuthError> {
    validator.validate(token).await.map(|_| ())
}

/// The text of a 503 with its causes (`: `-separated).
fn unavailable_text(result: Result<(), AuthError>) -> String {
    match result {
        Err(AuthError::Unavailable(e)) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
        other => panic!("expected 503, got {other:?}"),
    }
}

const ACTIVE: fn() -> Value =
    || json!({"active": true, "iss": "https://as.example", "aud": "api", "sub": "alice"});

// ----- redirects -----------------------------------------------------------------------------

#[tokio::test]
async fn introspection_redirects_are_not_followed_and_nothing_reaches_the_target() {
    for status in [301, 302, 303, 307, 308] {
        for auth in [ClientAuth::Basic, ClientAuth::Post] {
            let (target, hits) = stub(200, ACTIVE()).await;
            let from = redirector(status, &target).await;
            let v = introspection("https://as.example", &format!("{from}/introspect"))
                .auth_method(auth)
                .build()
                .await
                .unwrap();
            let text = unavailable_text(outcome(&v, "opaque-token").await);
            assert!(
                text.contains(&format!("{target}/introspect")) && text.contains("redirect"),
                "the error names the Location: {text}"
            );
            assert!(!text.contains("opaque-token") && !text.contains("api-secret"));
            assert_eq!(hits.load(Ordering::SeqCst), 0, "{status} {auth:?}");
        }
    }
}

#[tokio::test]
async fn a_redirecting_client_of_the_users_own_is_not_obeyed() {
    // reqwest's own default follows up to 10 redirects: the answer from elsewhere is refused.
    let (target, hits) = stub(200, ACTIVE()).await;
    let from = redirector(307, &target).await;
    let v = introspection("https://as.example", &format!("{from}/introspect"))
        .http_client(reqwest::Client::new())
        .build()
        .await
        .unwrap();
    let text = unavailable_text(outcome(&v, "opaque-token").await);
    assert!(text.contains("redirect"), "{text}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the user's client did follow it"
    );
}

#[tokio::test]
async fn jwks_redirects_are_not_followed() {
    let server = TestServer::start().await;
    let from = redirector(302, server.issuer()).await;
    let v = JwtValidator::builder(server.issuer())
        .audience("api")
        .jwks_uri(format!("{from}/jwks"))
        .build()
        .await
        .unwrap();
    // Signed by the keys the redirect points at: following it would accept the token.
    let token = server.mint().sign();
    let text = unavailable_text(outcome(&v, &token).await);
    assert!(text.contains("redirect"), "{text}");
    assert_eq!(server.count(Endpoint::Jwks), 0);
    let url = support::me_url(v).await;
    assert_eq!(support::call(&url, &token).await.0, 503);
}

#[tokio::test]
async fn discovery_redirects_are_not_followed() {
    let server = TestServer::start().await;
    let from = redirector(308, server.issuer()).await;
    let err = JwtValidator::builder(&from)
        .audience("api")
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BuildError::Discovery(DiscoveryError::Fetch(FetchError::Redirect { location, .. }))
                if location.starts_with(server.issuer())
        ),
        "{err}"
    );
    assert_eq!(server.count(Endpoint::Discovery), 0);
}

// ----- introspection answers about the token ---------------------------------------------

#[tokio::test]
async fn answers_about_the_token_are_401_and_cached() {
    for code in ["unsupported_token_type", "invalid_token"] {
        let (endpoint, hits) = stub(400, json!({"error": code})).await;
        let url = support::me_url(
            introspection("https://as.example", &endpoint)
                .build()
                .await
                .unwrap(),
        )
        .await;
        for _ in 0..3 {
            let (status, challenge, _) = support::call(&url, "eyJhbGciOi.a.jwt").await;
            assert_eq!(status, 401, "{code}");
            assert!(
                challenge.contains(r#"error="invalid_token""#),
                "{challenge}"
            );
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "negatively cached ({code})");
    }
}

#[tokio::test]
async fn server_trouble_stays_503() {
    for (status, body) in [
        (400, json!({"error": "invalid_request"})),
        (400, json!({"error": "invalid_client"})),
        (400, json!("not an object")),
        (401, json!({"error": "invalid_client"})),
        (500, json!({"error": "unsupported_token_type"})),
        (503, json!({})),
    ] {
        let (endpoint, hits) = stub(status, body.clone()).await;
        let v = introspection("https://as.example", &endpoint)
            .build()
            .await
            .unwrap();
        unavailable_text(outcome(&v, "t").await);
        unavailable_text(outcome(&v, "t").await);
        assert_eq!(
            hits.load(Ordering::SeqCst),
            2,
            "{status} {body}: not cached"
        );
    }
}

// ----- bounded outbound calls --------------------------------------------------------------

/// An introspection endpoint that holds every call until `release` is notified, counting them.
async fn held_endpoint() -> (String, Arc<AtomicUsize>, Arc<tokio::sync::Semaphore>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (counter, g) = (hits.clone(), gate.clone());
    let app = Router::new().fallback(move || {
        let (counter, gate) = (counter.clone(), g.clone());
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            gate.acquire().await.unwrap().forget();
            axum::Json(ACTIVE())
        }
    });
    (support::serve(app).await, hits, gate)
}

#[tokio::test]
async fn concurrent_introspection_calls_are_bounded_and_the_excess_waits_a_bounded_time() {
    let (endpoint, hits, gate) = held_endpoint().await;
    let v = introspection("https://as.example", &endpoint)
        .max_concurrent_calls(4)
        .max_call_wait(Duration::from_millis(50))
        .build()
        .await
        .unwrap();
    // Four distinct junk tokens under the limit: four calls, all held.
    let mut held = tokio::task::JoinSet::new();
    for i in 0..4 {
        let v = v.clone();
        held.spawn(async move { outcome(&v, &format!("junk-{i}")).await });
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        while hits.load(Ordering::SeqCst) < 4 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    // Over the limit: refused after the bounded wait, without a call.
    for i in 0..20 {
        let refused = tokio::time::timeout(
            Duration::from_secs(2),
            outcome(&v, &format!("more-junk-{i}")),
        )
        .await
        .expect("over the limit nothing waits past max_call_wait");
        assert!(unavailable_text(refused).contains("too many"));
    }
    assert_eq!(hits.load(Ordering::SeqCst), 4);
    // The held calls finish once the endpoint answers, and capacity comes back.
    gate.add_permits(100);
    while let Some(r) = held.join_next().await {
        r.unwrap().unwrap();
    }
    outcome(&v, "after").await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 5);
}

#[tokio::test]
async fn a_request_over_the_call_limit_waits_for_a_slot_that_frees_in_time() {
    // 64 junk tokens in flight must not turn every legitimate uncached token into a 503.
    let (endpoint, hits, gate) = held_endpoint().await;
    let v = introspection("https://as.example", &endpoint)
        .max_concurrent_calls(2)
        .build() // default max_call_wait: 1 s
        .await
        .unwrap();
    let mut held = tokio::task::JoinSet::new();
    for i in 0..2 {
        let v = v.clone();
        held.spawn(async move { outcome(&v, &format!("junk-{i}")).await });
    }
    tokio::time::timeout(Duration::from_secs(10), async {
        while hits.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
    let waiting = {
        let v = v.clone();
        tokio::spawn(async move { outcome(&v, "legitimate").await })
    };
    // The slots free up well within the wait: the waiting request gets its call.
    tokio::time::sleep(Duration::from_millis(200)).await;
    gate.add_permits(100);
    waiting.await.unwrap().unwrap();
    while let Some(r) = held.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3);
}

// ----- token kinds and audience of introspection -------------------------------------------

#[tokio::test]
async fn introspected_tokens_must_be_access_tokens() {
    let cases = [
        (json!({"token_type": "refresh_token"}), false),
        (json!({"token_type": "urn:x:id_token"}), false),
        (json!({"token_type": 5}), false),
        (json!({"token_use": "refresh_token"}), false),
        (json!({"token_type": "Bearer", "token_use": "id"}), false),
        (json!({"token_type": "Bearer"}), true),
        (json!({"token_type": "bearer"}), true),
        (
            json!({"token_type": "DPoP", "token_use": "access_token"}),
            true,
        ),
        (json!({}), true),
    ];
    for (extra, accepted) in cases {
        let mut answer = ACTIVE();
        answer
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let (endpoint, _) = stub(200, answer).await;
        let v = introspection("https://as.example", &endpoint)
            .build()
            .await
            .unwrap();
        let result = outcome(&v, "t").await;
        if accepted {
            assert!(result.is_ok(), "{extra}: {result:?}");
        } else {
            assert!(
                matches!(
                    result,
                    Err(AuthError::InvalidToken(
                        bearer_guard::error::TokenError::WrongType
                    ))
                ),
                "{extra}: {result:?}"
            );
        }
    }
}

#[tokio::test]
async fn introspection_needs_an_audience_or_any_audience() {
    let b = IntrospectionValidator::builder("https://as.example")
        .client("api", "secret")
        .introspection_endpoint("http://127.0.0.1:1/introspect");
    assert!(matches!(
        b.clone().build().await,
        Err(BuildError::NoAudience)
    ));
    let (endpoint, _) = stub(
        200,
        json!({"active": true, "aud": "someone-else", "iss": "https://as.example"}),
    )
    .await;
    let any = b
        .introspection_endpoint(endpoint)
        .any_audience()
        .build()
        .await
        .unwrap();
    outcome(&any, "t").await.unwrap();
}

// ----- settings that would switch checks off -------------------------------------------------

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

// ----- confirmation methods the layer cannot check -----------------------------------------

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

// ----- scope arrays --------------------------------------------------------------------------

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
