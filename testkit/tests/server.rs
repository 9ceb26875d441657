//! End-to-end tests of the bundled test authorization server over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::time::Duration;

use bearer_guard_testkit::{Client, Endpoint, Fault, KeyAlg, TestServer, User};
use jsonwebtoken::crypto::CryptoProvider;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::json;
use support::jwt::{b64, decode, unb64};

/// jsonwebtoken's aws-lc-rs backend, named explicitly (the testkit always has it).
fn provider() -> &'static CryptoProvider {
    &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn fetch_jwks(server: &TestServer) -> JwkSet {
    json(http().get(server.jwks_uri())).await
}

/// Verifies the JWT signature against the server's JWKS with an explicit
/// provider; returns the claims.
async fn verify(server: &TestServer, token: &str) -> Value {
    let jwks = fetch_jwks(server).await;
    let (header, claims) = decode(token);
    let kid = header["kid"].as_str().unwrap();
    let jwk = jwks.find(kid).expect("kid published in JWKS");
    let alg: Algorithm = serde_json::from_value(header["alg"].clone()).unwrap();
    let key = DecodingKey::from_jwk(jwk).unwrap();
    let verifier = (provider().verifier_factory)(&alg, &key).unwrap();
    let (input, sig) = token.rsplit_once('.').unwrap();
    let sig = unb64(sig);
    verifier
        .verify(input.as_bytes(), &sig)
        .expect("signature verifies");
    claims
}

async fn token_req(
    server: &TestServer,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = http().post(server.token_endpoint()).form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    req.send().await.unwrap()
}

async fn error_of(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert!(body["error_description"].is_string());
    (status, body["error"].as_str().unwrap().to_owned())
}

async fn introspect(server: &TestServer, token: &str) -> Value {
    let resp = http()
        .post(server.introspection_endpoint())
        .basic_auth("api", Some("api-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

fn pkce() -> (String, String) {
    let verifier = format!("verifier-{}", "x".repeat(50));
    let challenge = b64(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn query_param(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn authz_url(server: &TestServer, params: &[(&str, &str)]) -> String {
    url::Url::parse_with_params(&server.authorization_endpoint(), params)
        .unwrap()
        .to_string()
}

const REDIRECT: &str = "http://127.0.0.1/callback";

/// Runs GET + POST /authorize and returns the authorization code.
async fn authorize(server: &TestServer, challenge: &str, scope: &str) -> String {
    let params = [
        ("response_type", "code"),
        ("client_id", "demo-client"),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "xyz"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    let page = http().get(authz_url(server, &params)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form") && html.contains("name=\"password\""));

    let mut form = params.to_vec();
    form.extend([("username", "alice"), ("password", "password")]);
    let resp = http()
        .post(server.authorization_endpoint())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(REDIRECT));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(server.issuer())
    );
    query_param(&location, "code").unwrap()
}

/// Redeems refresh token `token` as `client`, asking for `scope` if given.
async fn refresh(
    server: &TestServer,
    client: (&str, &str),
    token: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", token)];
    form.extend(scope.map(|s| ("scope", s)));
    token_req(server, Some(client), &form).await
}

async fn redeem(server: &TestServer, code: &str, verifier: &str) -> reqwest::Response {
    token_req(
        server,
        Some(("demo-client", "demo-secret")),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
    .await
}

// ----- discovery and JWKS ------------------------------------------------------

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

// ----- minting -----------------------------------------------------------------

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

// ----- token endpoint ----------------------------------------------------------

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

// ----- introspection and revocation ---------------------------------------------

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

// ----- keys --------------------------------------------------------------------

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

// ----- counters and faults -------------------------------------------------------

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

// ----- several servers -----------------------------------------------------------

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
