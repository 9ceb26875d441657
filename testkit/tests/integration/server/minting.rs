//! Tokens minted in the test: defaults, options, and raw bytes signed as they are.

use super::*;

#[tokio::test]
async fn minted_token_defaults_and_options() {
    let server = TestServer::start().await;
    let token = server.mint().sign();
    let claims = verify(&server, &token).await;
    for c in [
        "iss",
        "sub",
        "aud",
        "client_id",
        "scope",
        "exp",
        "iat",
        "jti",
    ] {
        assert!(claims.get(c).is_some(), "missing {c}");
    }
    assert_eq!(claims["aud"], "api");
    assert_eq!(claims["sub"], "alice");
    let lifetime = claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap();
    assert_eq!(lifetime, 300);

    let token = server
        .mint()
        .sub("bob")
        .scope("read admin")
        .client_id("other-client")
        .audiences(["a", "b"])
        .claim("tenant", json!("acme"))
        .remove("jti")
        .issuer("https://evil.example")
        .typ(None)
        .header("jku", json!("http://attacker.example/jwks"))
        .sign();
    let (header, claims) = decode(&token);
    verify(&server, &token).await;
    assert!(header.get("typ").is_none());
    assert_eq!(header["jku"], "http://attacker.example/jwks");
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["scope"], "read admin");
    assert_eq!(claims["client_id"], "other-client");
    assert_eq!(claims["aud"], json!(["a", "b"]));
    assert_eq!(claims["tenant"], "acme");
    assert_eq!(claims["iss"], "https://evil.example");
    assert!(claims.get("jti").is_none());

    let now = support::now();
    let (_, c) = decode(&server.mint().expired().sign());
    assert!(c["exp"].as_u64().unwrap() + 300 <= now);
    let (_, c) = decode(&server.mint().not_before(Duration::from_secs(600)).sign());
    assert!(c["nbf"].as_u64().unwrap() >= now + 590);
    let (_, c) = decode(
        &server
            .mint()
            .issued_at(1000)
            .lifetime(Duration::from_secs(60))
            .sign(),
    );
    assert_eq!(
        (c["iat"].as_u64(), c["exp"].as_u64()),
        (Some(1000), Some(1060))
    );
    let (_, c) = decode(&server.mint().expires_at(42).sign());
    assert_eq!(c["exp"], 42);
    let (h, _) = decode(&server.mint().typ(Some("JWT")).sign());
    assert_eq!(h["typ"], "JWT");

    // Unknown kid: still signed by the active key, header carries the kid.
    let token = server.mint().kid("no-such-kid").sign();
    assert_eq!(decode(&token).0["kid"], "no-such-kid");
}

#[tokio::test]
async fn sign_raw_keeps_exact_bytes() {
    let server = TestServer::start().await;
    let kid = server.active_kid();
    let header = format!(r#"{{"alg":"RS256","kid":"{kid}","kid":"dup"}}"#);
    let claims = r#"{"sub":"alice","exp":"soon","sub":"mallory"}"#;
    let token = server.sign_raw(&kid, &header, claims);
    let p: Vec<&str> = token.split('.').collect();
    assert_eq!(unb64(p[0]), header.as_bytes());
    assert_eq!(unb64(p[1]), claims.as_bytes());
    // Signature is valid for the published key.
    let jwks = fetch_jwks(&server).await;
    let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let verifier = (provider().verifier_factory)(&Algorithm::RS256, &key).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    verifier.verify(input.as_bytes(), &unb64(sig)).unwrap();
}
