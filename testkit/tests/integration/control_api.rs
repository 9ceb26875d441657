//! The HTTP control API, used the way a test suite in another language would: the server is
//! started in process, but everything else (minting, keys, faults, counters) goes over HTTP
//! with reqwest. bearer-guard's `JwtValidator` (through `AuthLayer`, called with `oneshot`)
//! fetches discovery and keys over HTTP too, and must refuse each bad token for its reason.

use std::time::{Duration, Instant};

use crate::support::control;
use axum::body::Body;
use axum::http::{header, Request, Response};
use bearer_guard::{jwks::JwksConfig, AuthLayer, JwtValidator};
use bearer_guard_testkit::TestServer;
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};

async fn ok(_: Request<Body>) -> Result<Response<Body>, std::convert::Infallible> {
    Ok(Response::new(Body::from("ok")))
}

/// Sends `token` through bearer-guard's layer: (status, `WWW-Authenticate` or "").
async fn api(validator: &JwtValidator, token: &str) -> (u16, String) {
    let svc = AuthLayer::new(validator.clone())
        .realm("test")
        .layer(tower::service_fn(ok));
    let req = Request::get("http://api.test/me")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    let challenge = res
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (res.status().as_u16(), challenge)
}

async fn mint(issuer: &str, body: Value) -> (String, Value) {
    let (status, answer) = control(
        reqwest::Method::POST,
        format!("{issuer}/_testkit/tokens"),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    (answer["access_token"].as_str().unwrap().to_owned(), answer)
}

#[tokio::test]
async fn the_control_api_is_off_by_default() {
    let server = TestServer::start().await;
    let issuer = server.issuer();
    for (method, path) in [
        (reqwest::Method::POST, "/_testkit/tokens"),
        (reqwest::Method::GET, "/_testkit/keys"),
        (reqwest::Method::POST, "/_testkit/keys"),
        (reqwest::Method::PUT, "/_testkit/faults/jwks"),
        (reqwest::Method::GET, "/_testkit/counts"),
        (reqwest::Method::DELETE, "/_testkit/counts"),
    ] {
        let (status, _) = control(method.clone(), format!("{issuer}{path}"), Some(json!({}))).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    // Nothing happened: one key, no fault.
    assert_eq!(server.kids().len(), 1);
}

#[tokio::test]
async fn bad_tokens_rotation_and_jwks_faults_over_http() {
    let server = TestServer::builder()
        .control_api(true)
        .start()
        .await
        .unwrap();
    let issuer = server.issuer().to_owned();
    // No cooldown, so that every unknown kid makes the validator ask the JWKS again.
    let validator = JwtValidator::builder(&issuer)
        .audience("api")
        .jwks_config(JwksConfig::default().cooldown(Duration::ZERO))
        .build()
        .await
        .unwrap();

    // A good token passes.
    let (good, answer) = mint(&issuer, json!({ "claims": { "sub": "bob" } })).await;
    assert_eq!(answer["claims"]["sub"], "bob");
    assert_eq!(answer["header"]["typ"], "at+jwt");
    assert_eq!(api(&validator, &good).await.0, 200);

    // Each bad kind is refused for its reason.
    let cases = [
        (json!({ "expired": true }), "the token has expired"),
        (json!({ "claims": { "exp": 1 } }), "the token has expired"),
        (
            json!({ "claims": { "aud": "other" } }),
            "the token audience is not accepted",
        ),
        (
            json!({ "claims": { "iss": "http://evil.test" } }),
            "the token issuer is not accepted",
        ),
        (
            json!({ "claims": { "exp": null } }),
            "the token lacks a required claim",
        ),
        (json!({ "not_before": 3600 }), "the token is not valid yet"),
        (
            json!({ "defect": "foreign_key" }),
            "the signature is invalid",
        ),
        (
            json!({ "defect": "tampered_signature" }),
            "the signature is invalid",
        ),
        (
            json!({ "defect": "unknown_kid" }),
            "the signing key is unknown",
        ),
        (
            json!({ "kid": "no-such-key" }),
            "the signing key is unknown",
        ),
        (
            // bearer-guard knows no algorithm "none": the header does not parse.
            json!({ "defect": "alg_none" }),
            "the token is malformed",
        ),
        (
            json!({ "typ": null }),
            "the token type is not an access token",
        ),
        (
            json!({ "typ": "JWT" }),
            "the token type is not an access token",
        ),
    ];
    for (body, reason) in cases {
        let (token, _) = mint(&issuer, body.clone()).await;
        let (status, challenge) = api(&validator, &token).await;
        assert_eq!(status, 401, "{body}: {challenge}");
        assert!(
            challenge.contains(&format!("error_description=\"{reason}\"")),
            "{body}: {challenge}"
        );
    }

    // Rotation: a new ES256 key made active; the validator finds it in the JWKS.
    let old_kid = server.active_kid();
    let (status, added) = control(
        reqwest::Method::POST,
        format!("{issuer}/_testkit/keys"),
        Some(json!({ "alg": "ES256", "activate": true })),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let new_kid = added["kid"].as_str().unwrap().to_owned();
    let (_, keys) = control(
        reqwest::Method::GET,
        format!("{issuer}/_testkit/keys"),
        None,
    )
    .await;
    assert_eq!(keys["active"], new_kid.as_str());
    assert_eq!(keys["keys"].as_array().unwrap().len(), 2);
    let (rotated, answer) = mint(&issuer, json!({})).await;
    assert_eq!(answer["header"]["kid"], new_kid.as_str());
    assert_eq!(answer["header"]["alg"], "ES256");
    assert_eq!(api(&validator, &rotated).await.0, 200);
    // Signing with the old key by algorithm still works while it is published.
    let (old, answer) = mint(&issuer, json!({ "alg": "RS256" })).await;
    assert_eq!(answer["header"]["kid"], old_kid.as_str());
    assert_eq!(api(&validator, &old).await.0, 200);

    // Retire the old key: out of the JWKS (the validator keeps what it fetched until it
    // refreshes); a key of an algorithm the server lacks cannot be asked for.
    let (status, keys) = control(
        reqwest::Method::POST,
        format!("{issuer}/_testkit/keys/{old_kid}/retire"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let retired = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == old_kid.as_str())
        .unwrap();
    assert_eq!(retired["published"], false, "{keys}");
    let jwks: Value = reqwest::get(format!("{issuer}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], new_kid.as_str());
    let (status, error) = control(
        reqwest::Method::POST,
        format!("{issuer}/_testkit/tokens"),
        Some(json!({ "alg": "PS256" })),
    )
    .await;
    assert_eq!(
        (status.as_u16(), &error["error"]),
        (400, &json!("invalid_request"))
    );

    // A JWKS fault: known keys keep working, an unknown kid cannot be checked (503).
    let (_, counts) = control(
        reqwest::Method::DELETE,
        format!("{issuer}/_testkit/counts"),
        None,
    )
    .await;
    assert_eq!(counts["jwks"], 0);
    let (status, faults) = control(
        reqwest::Method::PUT,
        format!("{issuer}/_testkit/faults/jwks"),
        Some(json!({ "fault": "unavailable" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(faults["jwks"], json!({ "fault": "unavailable" }));
    assert_eq!(faults["token"], json!({ "fault": "none" }));
    assert_eq!(api(&validator, &rotated).await.0, 200);
    let (unknown, _) = mint(&issuer, json!({ "defect": "unknown_kid" })).await;
    assert_eq!(api(&validator, &unknown).await.0, 503);
    let (_, counts) = control(
        reqwest::Method::GET,
        format!("{issuer}/_testkit/counts"),
        None,
    )
    .await;
    assert_eq!(counts["jwks"], 1, "the validator asked once: {counts}");
    assert_eq!(counts["token"], 0);

    // Cleared: the unknown kid is an unknown key again (401).
    let (status, faults) = control(
        reqwest::Method::DELETE,
        format!("{issuer}/_testkit/faults/jwks"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(faults["jwks"], json!({ "fault": "none" }));
    let (status, challenge) = api(&validator, &unknown).await;
    assert_eq!(status, 401, "{challenge}");
    assert!(challenge.contains("the signing key is unknown"));
}

#[tokio::test]
async fn faults_counters_opaque_tokens_and_errors_over_http() {
    let server = TestServer::builder()
        .control_api(true)
        .start()
        .await
        .unwrap();
    let issuer = server.issuer().to_owned();
    let http = reqwest::Client::new();
    let token_request = || {
        http.post(format!("{issuer}/token"))
            .basic_auth("demo-client", Some("demo-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let put_fault = |endpoint: &'static str, fault: Value| {
        control(
            reqwest::Method::PUT,
            format!("{issuer}/_testkit/faults/{endpoint}"),
            Some(fault),
        )
    };

    assert_eq!(
        put_fault("token", json!({ "fault": "status", "status": 418 }))
            .await
            .0,
        200
    );
    assert_eq!(token_request().await.unwrap().status(), 418);
    put_fault("token", json!({ "fault": "delay", "millis": 300 })).await;
    let start = Instant::now();
    assert_eq!(token_request().await.unwrap().status(), 200);
    assert!(start.elapsed() >= Duration::from_millis(300));
    put_fault("discovery", json!({ "fault": "huge", "bytes": 5000 })).await;
    put_fault("jwks", json!({ "fault": "garbage" })).await;
    let discovery = reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
        .await
        .unwrap();
    assert_eq!(discovery.bytes().await.unwrap().len(), 5000);
    let jwks = reqwest::get(format!("{issuer}/jwks")).await.unwrap();
    assert!(serde_json::from_slice::<Value>(&jwks.bytes().await.unwrap()).is_err());
    let (_, faults) = control(
        reqwest::Method::GET,
        format!("{issuer}/_testkit/faults"),
        None,
    )
    .await;
    assert_eq!(faults["token"], json!({ "fault": "delay", "millis": 300 }));
    assert_eq!(
        faults["discovery"],
        json!({ "fault": "huge", "bytes": 5000 })
    );
    let (_, faults) = control(
        reqwest::Method::DELETE,
        format!("{issuer}/_testkit/faults"),
        None,
    )
    .await;
    for endpoint in [
        "discovery",
        "jwks",
        "token",
        "introspection",
        "revocation",
        "authorize",
    ] {
        assert_eq!(faults[endpoint], json!({ "fault": "none" }), "{endpoint}");
    }

    let (_, counts) = control(
        reqwest::Method::GET,
        format!("{issuer}/_testkit/counts"),
        None,
    )
    .await;
    assert_eq!(
        counts,
        json!({ "discovery": 1, "jwks": 1, "token": 2, "introspection": 0, "revocation": 0, "authorize": 0, "registration": 0 })
    );
    let (_, counts) = control(
        reqwest::Method::DELETE,
        format!("{issuer}/_testkit/counts"),
        None,
    )
    .await;
    assert_eq!(counts["token"], 0);

    // Opaque tokens are known to introspection.
    let (opaque, answer) = mint(
        &issuer,
        json!({ "opaque": true, "claims": { "sub": "carol" } }),
    )
    .await;
    assert_eq!(answer["claims"]["sub"], "carol");
    let introspected: Value = http
        .post(format!("{issuer}/introspect"))
        .basic_auth("api", Some("api-secret"))
        .form(&[("token", opaque.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(introspected["active"], true);
    assert_eq!(introspected["sub"], "carol");

    // Mistakes are JSON errors.
    let post = reqwest::Method::POST;
    let put = reqwest::Method::PUT;
    for (method, path, body, status) in [
        (
            post.clone(),
            "/_testkit/tokens",
            json!({ "clams": {} }),
            400,
        ),
        (
            post.clone(),
            "/_testkit/tokens",
            json!({ "alg": "HS256" }),
            400,
        ),
        (
            post.clone(),
            "/_testkit/tokens",
            json!({ "defect": "nope" }),
            400,
        ),
        (
            post.clone(),
            "/_testkit/tokens",
            json!({ "lifetime": -1 }),
            400,
        ),
        (post.clone(), "/_testkit/tokens", json!([1]), 400),
        (
            post.clone(),
            "/_testkit/keys",
            json!({ "alg": "none" }),
            400,
        ),
        (post.clone(), "/_testkit/keys/nope/activate", json!({}), 404),
        (post.clone(), "/_testkit/keys/nope/retire", json!({}), 404),
        (
            put.clone(),
            "/_testkit/faults/userinfo",
            json!({ "fault": "hang" }),
            404,
        ),
        (
            put.clone(),
            "/_testkit/faults/jwks",
            json!({ "fault": "melt" }),
            400,
        ),
        (
            put.clone(),
            "/_testkit/faults/jwks",
            json!({ "fault": "status" }),
            400,
        ),
        (
            put.clone(),
            "/_testkit/faults/jwks",
            json!({ "fault": "status", "status": 5 }),
            400,
        ),
        (
            put.clone(),
            "/_testkit/faults/jwks",
            json!({ "fault": "hang", "millis": 5 }),
            400,
        ),
        (reqwest::Method::GET, "/_testkit/nothing", json!({}), 404),
    ] {
        let (got, error) = control(
            method.clone(),
            format!("{issuer}{path}"),
            Some(body.clone()),
        )
        .await;
        assert_eq!(got.as_u16(), status, "{method} {path} {body}: {error}");
        assert!(
            error["error"].is_string(),
            "{method} {path} {body}: {error}"
        );
        assert!(error["error_description"].is_string());
    }
    let resp = http
        .post(format!("{issuer}/_testkit/tokens"))
        .header(header::CONTENT_TYPE, "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // None of it left a fault behind.
    assert_eq!(token_request().await.unwrap().status(), 200);
}

#[tokio::test]
async fn registered_clients_are_listed() {
    let server = TestServer::builder()
        .control_api(true)
        .dynamic_registration(true)
        .start()
        .await
        .unwrap();
    let url = format!("{}/_testkit/clients", server.issuer());
    let (_, list) = control(reqwest::Method::GET, url.clone(), None).await;
    assert_eq!(list, json!({ "registered": [] }));
    let metadata = json!({"redirect_uris": ["http://127.0.0.1/cb"], "token_endpoint_auth_method": "none", "scope": "read"});
    let (status, client) = control(
        reqwest::Method::POST,
        server.registration_endpoint(),
        Some(metadata),
    )
    .await;
    assert_eq!(status, 201);
    let (_, list) = control(reqwest::Method::GET, url, None).await;
    // A registered client may request every advertised scope (see the registration module).
    assert_eq!(
        list["registered"],
        json!([{"client_id": client["client_id"], "public": true,
                "redirect_uris": ["http://127.0.0.1/cb"], "scope": "admin read write"}])
    );
}
