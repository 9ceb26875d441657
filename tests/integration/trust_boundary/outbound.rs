//! What the outbound calls obey and refuse: redirects, introspection answers about the token,
//! bounded calls, token kinds and audience of introspection.

use super::*;

// Redirects.

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

// Introspection answers about the token.

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

// Bounded outbound calls.

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

// Token kinds and audience of introspection.

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
