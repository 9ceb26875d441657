//! What a test does to the server: key rotation, counters, faults, shutdown, several servers,
//! the builder's bind address and issuer URL.

use super::*;

#[tokio::test]
async fn key_rotation() {
    let server = TestServer::start().await;
    let old = server.active_kid();
    assert_eq!(server.kids(), vec![old.clone()]);

    let new = server.add_key(KeyAlg::Es256);
    assert_ne!(old, new);
    assert_eq!(server.kids(), vec![old.clone(), new.clone()]);
    let jwks = fetch_jwks(&server).await;
    assert!(jwks.find(&old).is_some() && jwks.find(&new).is_some());
    assert_eq!(server.active_kid(), old);

    let before = server.mint().sign();
    server.use_key(&new);
    assert_eq!(server.active_kid(), new);
    let after = server.mint().sign();
    assert_eq!(decode(&after).0["kid"], new.as_str());
    assert_eq!(decode(&after).0["alg"], "ES256");
    verify(&server, &after).await;

    // Tokens issued by the token endpoint use the new key too.
    let body: Value = token_req(
        &server,
        Some(("demo-client", "demo-secret")),
        &[("grant_type", "client_credentials")],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        decode(body["access_token"].as_str().unwrap()).0["kid"],
        new.as_str()
    );

    server.retire_key(&old);
    assert_eq!(server.kids(), vec![new.clone()]);
    let jwks = fetch_jwks(&server).await;
    assert!(jwks.find(&old).is_none());
    assert_eq!(introspect(&server, &before).await["active"], false);
    // Retired keys can still sign on request (for negative tests).
    let stale = server.mint().kid(&old).sign();
    assert_eq!(decode(&stale).0["alg"], "RS256");
    assert_eq!(introspect(&server, &stale).await["active"], false);
}

#[tokio::test]
async fn counters() {
    let server = TestServer::start().await;
    for ep in [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Introspection,
        Endpoint::Revocation,
        Endpoint::Authorize,
    ] {
        assert_eq!(server.count(ep), 0);
    }
    fetch_jwks(&server).await;
    fetch_jwks(&server).await;
    introspect(&server, "x").await;
    http()
        .get(server.authorization_endpoint())
        .send()
        .await
        .unwrap();
    assert_eq!(server.count(Endpoint::Jwks), 2);
    assert_eq!(server.count(Endpoint::Introspection), 1);
    assert_eq!(server.count(Endpoint::Authorize), 1);
    server.reset_counts();
    assert_eq!(server.count(Endpoint::Jwks), 0);
}

#[tokio::test]
async fn faults() {
    let server = TestServer::start().await;
    let get = || http().get(server.jwks_uri()).send();

    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    assert_eq!(get().await.unwrap().status(), 503);

    server.set_fault(Endpoint::Jwks, Fault::Garbage);
    let resp = get().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    assert!(serde_json::from_slice::<Value>(&body).is_err());

    server.set_fault(Endpoint::Jwks, Fault::Huge(100_000));
    let resp = get().await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.bytes().await.unwrap();
    assert_eq!(body.len(), 100_000);
    assert!(serde_json::from_slice::<Value>(&body).unwrap().is_object());
    for n in [2, 10] {
        server.set_fault(Endpoint::Jwks, Fault::Huge(n));
        let body = get().await.unwrap().bytes().await.unwrap();
        assert_eq!(body.len(), n);
        assert!(serde_json::from_slice::<Value>(&body).unwrap().is_object());
    }

    server.set_fault(Endpoint::Jwks, Fault::Status(429));
    assert_eq!(get().await.unwrap().status(), 429);

    // Faults are per endpoint.
    server.set_fault(Endpoint::Token, Fault::Status(500));
    assert_eq!(
        token_req(&server, None, &[]).await.status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    server.set_fault(Endpoint::Token, Fault::None);
    assert_eq!(token_req(&server, None, &[]).await.status(), 401);

    // Hang: no answer until the fault is cleared.
    server.set_fault(Endpoint::Jwks, Fault::Hang);
    let pending = tokio::spawn(get());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!pending.is_finished());
    assert!(tokio::time::timeout(Duration::from_millis(200), get())
        .await
        .is_err());
    server.set_fault(Endpoint::Jwks, Fault::None);
    let resp = pending.await.unwrap().unwrap();
    assert_eq!(resp.status(), 200);

    // Faulted requests are counted: 1+1+1+2+1 faulted, 2 hanging.
    assert_eq!(server.count(Endpoint::Jwks), 8);

    server.set_fault(Endpoint::Discovery, Fault::Unavailable);
    server.clear_faults();
    let resp = http().get(server.discovery_uri()).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn hang_is_released_by_shutdown() {
    let server = TestServer::start().await;
    let uri = server.jwks_uri();
    server.set_fault(Endpoint::Jwks, Fault::Hang);
    let pending = tokio::spawn(async move { http().get(uri).send().await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let addr = server.addr();
    tokio::time::timeout(Duration::from_secs(5), server.shutdown())
        .await
        .expect("shutdown completes");
    let result = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("hanging request finishes")
        .unwrap();
    if let Ok(resp) = result {
        assert_eq!(resp.status(), 503);
    }
    // The listener is closed.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn two_servers_at_once() {
    let a = TestServer::start().await;
    let b = TestServer::builder()
        .key(KeyAlg::EdDsa)
        .start()
        .await
        .unwrap();
    assert_ne!(a.issuer(), b.issuer());
    assert_ne!(a.active_kid(), b.active_kid());

    let ta = a.mint().sign();
    let tb = b.mint().sign();
    assert_eq!(verify(&a, &ta).await["iss"], a.issuer());
    assert_eq!(verify(&b, &tb).await["iss"], b.issuer());
    assert_eq!(introspect(&a, &ta).await["active"], true);
    assert_eq!(introspect(&b, &ta).await["active"], false);
    assert_eq!(introspect(&a, &tb).await["active"], false);

    a.set_fault(Endpoint::Jwks, Fault::Unavailable);
    assert_eq!(http().get(a.jwks_uri()).send().await.unwrap().status(), 503);
    assert_eq!(http().get(b.jwks_uri()).send().await.unwrap().status(), 200);
    assert_eq!(a.count(Endpoint::Jwks), 1 + 1);
    drop(a);
    // b keeps working after a is dropped.
    assert_eq!(introspect(&b, &tb).await["active"], true);
}

#[tokio::test]
async fn builder_bind_and_types() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<TestServer>();
    assert_send_sync::<bearer_guard_testkit::TokenBuilder>();

    let server = TestServer::builder()
        .bind("127.0.0.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    assert_eq!(server.issuer(), format!("http://{}", server.addr()));
    // Binding an address in use fails with an error, not a panic.
    let err = TestServer::builder().bind(server.addr()).start().await;
    assert!(err.is_err());

    // Secrets never show up in Debug output.
    let dbg = format!(
        "{:?} {:?}",
        Client::new("c", "top-secret-value"),
        User::new("u", "top-secret-value")
    );
    assert!(!dbg.contains("top-secret-value"));

    // Shared across tasks.
    let server = std::sync::Arc::new(server);
    let s2 = server.clone();
    let token = tokio::spawn(async move { s2.mint().sign() }).await.unwrap();
    assert!(server.is_active(&token));
}

#[tokio::test]
async fn issuer_url_and_auto_approve() {
    let server = TestServer::builder()
        .issuer_url("http://auth.test:8080/")
        .auto_approve("alice")
        .start()
        .await
        .unwrap();
    assert_eq!(server.issuer(), "http://auth.test:8080");
    assert_eq!(server.token_endpoint(), "http://auth.test:8080/token");
    let doc: Value = json(http().get(format!(
        "http://{}/.well-known/oauth-authorization-server",
        server.addr()
    )))
    .await;
    assert_eq!(doc["issuer"], "http://auth.test:8080");
    assert_eq!(doc["jwks_uri"], "http://auth.test:8080/jwks");
    let (_, claims) = decode(&server.mint().sign());
    assert_eq!(claims["iss"], "http://auth.test:8080");

    // Auto-approval: GET /authorize redirects with a code at once, as alice.
    let (verifier, challenge) = pkce();
    let url = format!(
        "http://{}/authorize?response_type=code&client_id=demo-client&code_challenge={challenge}&code_challenge_method=S256&state=s1",
        server.addr()
    );
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("s1"));
    let code = query_param(&location, "code").unwrap();
    let resp = http()
        .post(format!("http://{}/token", server.addr()))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["client_id"], "demo-client");

    for builder in [
        TestServer::builder().issuer_url("http://auth.test/realm"),
        TestServer::builder().issuer_url("ftp://auth.test"),
        TestServer::builder().issuer_url("not a url"),
        TestServer::builder().auto_approve("nobody"),
    ] {
        let err = builder.start().await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}
