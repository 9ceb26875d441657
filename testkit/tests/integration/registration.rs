//! Dynamic client registration (RFC 7591) and what registered clients may do: the sign-in of
//! an MCP client that knows nothing but a URL (discovery, registration, authorization code +
//! PKCE without a browser, token, refresh).

use crate::support;

use bearer_guard_testkit::{Client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::flow::{authorize_query, http, pkce};
use support::jwt::decode;

async fn server() -> TestServer {
    TestServer::builder()
        .dynamic_registration(true)
        .auto_approve("alice")
        .start()
        .await
        .unwrap()
}

async fn register(server: &TestServer, metadata: Value) -> (StatusCode, Value) {
    let resp = http()
        .post(server.registration_endpoint())
        .json(&metadata)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

/// A token request; `secret` `None` is a public client (client_id in the body).
async fn token(
    server: &TestServer,
    client: (&str, Option<&str>),
    form: &[(&str, &str)],
) -> (StatusCode, Value) {
    let mut req = http().post(server.token_endpoint());
    let mut form = form.to_vec();
    match client.1 {
        Some(secret) => req = req.basic_auth(client.0, Some(secret)),
        None => form.push(("client_id", client.0)),
    }
    let resp = req.form(&form).send().await.unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

const REDIRECT: &str = "http://127.0.0.1:41000/callback";

fn public_metadata() -> Value {
    json!({
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "client_name": "MCP Inspector",
        "client_uri": "https://example.com",
    })
}

#[tokio::test]
async fn discovery_advertises_registration_only_when_enabled() {
    let on = server().await;
    for path in [
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
    ] {
        let doc: Value = support::json(http().get(format!("{}{path}", on.issuer()))).await;
        assert_eq!(doc["registration_endpoint"], on.registration_endpoint());
        let methods = doc["token_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap();
        assert!(methods.contains(&json!("none")), "{path}");
        assert!(doc["code_challenge_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("S256")));
        // Public clients may not introspect.
        assert!(!doc["introspection_endpoint_auth_methods_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("none")));
    }
    let off = TestServer::start().await;
    let doc: Value = support::json(http().get(off.discovery_uri())).await;
    assert!(doc.get("registration_endpoint").is_none());
    assert!(!doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("none")));
    let resp = http()
        .post(off.registration_endpoint())
        .json(&public_metadata())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn a_public_client_registers_and_signs_in_without_a_secret() {
    let server = server().await;
    let (status, client) = register(&server, public_metadata()).await;
    assert_eq!(status, 201, "{client}");
    let id = client["client_id"].as_str().unwrap();
    assert!(client.get("client_secret").is_none(), "{client}");
    assert!(client.get("client_secret_expires_at").is_none(), "{client}");
    assert!(client["client_id_issued_at"].as_u64().unwrap() > 0);
    assert_eq!(client["redirect_uris"], json!([REDIRECT]));
    assert_eq!(
        client["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(client["response_types"], json!(["code"]));
    assert_eq!(client["token_endpoint_auth_method"], "none");
    assert_eq!(client["client_name"], "MCP Inspector");
    assert_eq!(client["scope"], "admin read write", "{client}");
    let registered = server.registered_clients();
    assert_eq!(registered.len(), 1);
    assert_eq!(registered[0].id(), id);
    assert!(registered[0].is_public());

    // Another loopback port than the registered one (RFC 8252 §7.3); the redirect carries
    // code, state and iss (RFC 9207).
    let redirect = "http://127.0.0.1:52000/callback";
    let (status, query) =
        authorize_query(server.issuer(), id, redirect, &[("scope", "read")]).await;
    assert_eq!(status, 302);
    assert_eq!(query["state"], "st");
    assert_eq!(query["iss"], server.issuer());
    let (verifier, _) = pkce();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", query["code"].as_str()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, tokens) = token(&server, (id, None), &form).await;
    assert_eq!(status, 200, "{tokens}");
    let (_, claims) = decode(tokens["access_token"].as_str().unwrap());
    assert_eq!(claims["client_id"], id);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["scope"], "read");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let (status, refreshed) = token(
        &server,
        (id, None),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");

    // Public: no client_credentials, no secret, no introspection; revocation by client_id.
    let (status, body) = token(&server, (id, None), &[("grant_type", "client_credentials")]).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("unauthorized_client"))
    );
    let (status, body) = token(
        &server,
        (id, Some("guess")),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::UNAUTHORIZED, &json!("invalid_client"))
    );
    let access = refreshed["access_token"].as_str().unwrap();
    let resp = http()
        .post(server.introspection_endpoint())
        .form(&[("client_id", id), ("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let resp = http()
        .post(server.revocation_endpoint())
        .form(&[("client_id", id), ("token", access)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!server.is_active(access));
}

#[tokio::test]
async fn a_confidential_client_gets_a_secret_and_its_grants() {
    let server = server().await;
    let (status, client) = register(
        &server,
        json!({
            "redirect_uris": ["https://app.example/cb"],
            "grant_types": ["authorization_code", "client_credentials"],
            "scope": "read read",
            "client_name": null,
        }),
    )
    .await;
    assert_eq!(status, 201, "{client}");
    assert_eq!(client["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(client["client_secret_expires_at"], 0);
    // Every advertised scope is registered, whatever the registration named.
    assert_eq!(client["scope"], "admin read write");
    assert!(client.get("client_name").is_none());
    let id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();
    let (status, body) = token(
        &server,
        (id, Some(secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "admin read write");
    // Not limited to the scope it registered with (MCP clients step up later)...
    let (status, body) = token(
        &server,
        (id, Some(secret)),
        &[("grant_type", "client_credentials"), ("scope", "write")],
    )
    .await;
    assert_eq!((status, &body["scope"]), (StatusCode::OK, &json!("write")));
    let (status, query) = authorize_query(
        server.issuer(),
        id,
        "https://app.example/cb",
        &[("scope", "write")],
    )
    .await;
    assert_eq!(status, StatusCode::FOUND);
    assert!(
        query.contains_key("code") && !query.contains_key("error"),
        "{query:?}"
    );
    // ... but to the scopes the server advertises.
    let (status, body) = token(
        &server,
        (id, Some(secret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "write unknown"),
        ],
    )
    .await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::BAD_REQUEST, &json!("invalid_scope"))
    );
    // Without refresh_token among its grants: no refresh token, and the grant is refused.
    let (_, query) = authorize_query(server.issuer(), id, "https://app.example/cb", &[]).await;
    let (verifier, _) = pkce();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", query["code"].as_str()),
        ("redirect_uri", "https://app.example/cb"),
        ("code_verifier", verifier.as_str()),
    ];
    let (status, tokens) = token(&server, (id, Some(secret)), &form).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens.get("refresh_token").is_none(), "{tokens}");
    let (_, body) = token(
        &server,
        (id, Some(secret)),
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
    )
    .await;
    assert_eq!(body["error"], "unauthorized_client");
    // A wrong secret.
    let (status, _) = token(
        &server,
        (id, Some("wrong")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 401);

    // client_secret_post, and a client_credentials-only client needs no redirect URI.
    let (status, client) = register(
        &server,
        json!({"token_endpoint_auth_method": "client_secret_post", "grant_types": ["client_credentials"]}),
    )
    .await;
    assert_eq!(status, 201, "{client}");
    assert_eq!(client["response_types"], json!([]));
    let resp = http()
        .post(server.token_endpoint())
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client["client_id"].as_str().unwrap()),
            ("client_secret", client["client_secret"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn bad_metadata_gets_the_rfc_7591_errors() {
    let server = server().await;
    let with = |member: &str, value: Value| {
        let mut m = public_metadata();
        m[member] = value;
        m
    };
    let redirect_cases = [
        with("redirect_uris", json!(["http://127.0.0.1:41000/cb#frag"])),
        with("redirect_uris", json!(["http://app.example/cb"])),
        with("redirect_uris", json!(["http://127.0.0.2/cb"])),
        with("redirect_uris", json!(["com.example.app:/cb"])),
        with("redirect_uris", json!(["/relative"])),
        with("redirect_uris", json!(["https://user:pw@app.example/cb"])),
        with("redirect_uris", json!([" https://app.example/cb"])),
        with("redirect_uris", json!([REDIRECT, "http://evil.example/cb"])),
        with("redirect_uris", json!([])),
        with("redirect_uris", json!("http://127.0.0.1/cb")),
        with("redirect_uris", json!(null)),
    ];
    for metadata in redirect_cases {
        let (status, body) = register(&server, metadata.clone()).await;
        assert_eq!(status, 400, "{metadata}");
        assert_eq!(body["error"], "invalid_redirect_uri", "{metadata}");
    }
    let metadata_cases = [
        with("token_endpoint_auth_method", json!("private_key_jwt")),
        with("grant_types", json!(["authorization_code", "implicit"])),
        with("grant_types", json!(["password"])),
        with("grant_types", json!([])),
        with(
            "grant_types",
            json!(["authorization_code", "client_credentials"]),
        ),
        with("response_types", json!(["token"])),
        with("response_types", json!([])),
        with("scope", json!("read unknown")),
        with("client_name", json!(7)),
        with("grant_types", json!("authorization_code")),
        json!({"grant_types": ["client_credentials"], "response_types": ["code"]}),
        json!([REDIRECT]),
    ];
    for metadata in metadata_cases {
        let (status, body) = register(&server, metadata.clone()).await;
        assert_eq!(status, 400, "{metadata}");
        assert_eq!(body["error"], "invalid_client_metadata", "{metadata}");
        assert!(body["error_description"].is_string());
    }
    let resp = http()
        .post(server.registration_endpoint())
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert!(server.registered_clients().is_empty());
    // Loopback hosts over http, https anywhere.
    for ok in [
        "http://127.0.0.1/cb",
        "http://[::1]:8080/cb",
        "http://localhost:3000/callback",
        "https://app.example:8443/cb?x=1",
    ] {
        let (status, body) = register(&server, with("redirect_uris", json!([ok]))).await;
        assert_eq!(status, 201, "{ok}: {body}");
    }
}

#[tokio::test]
async fn registrations_stop_at_the_cap() {
    let server = TestServer::builder()
        .dynamic_registration(true)
        .max_registrations(2)
        .start()
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(register(&server, public_metadata()).await.0, 201);
    }
    let (status, body) = register(&server, public_metadata()).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"], "access_denied");
    assert_eq!(server.registered_clients().len(), 2);
}

#[tokio::test]
async fn loopback_ports_are_free_but_paths_and_hosts_are_not() {
    let server = server().await;
    let (_, client) = register(
        &server,
        json!({"redirect_uris": ["http://127.0.0.1:41000/callback", "http://localhost:3000/cb"],
               "token_endpoint_auth_method": "none"}),
    )
    .await;
    let id = client["client_id"].as_str().unwrap();
    for accepted in [
        "http://127.0.0.1:41000/callback",
        "http://127.0.0.1:1/callback",
        "http://127.0.0.1/callback",
        "http://localhost:3000/cb",
    ] {
        assert_eq!(
            authorize_query(server.issuer(), id, accepted, &[]).await.0,
            302,
            "{accepted}"
        );
    }
    for refused in [
        "http://127.0.0.1:41000/other",
        "http://[::1]:41000/callback",
        "http://127.0.0.1:41000/callback#f",
        "https://127.0.0.1:41000/callback",
    ] {
        assert_eq!(
            authorize_query(server.issuer(), id, refused, &[]).await.0,
            400,
            "{refused}"
        );
    }
}

#[tokio::test]
async fn a_static_public_client_works_too() {
    let server = TestServer::builder()
        .client(
            Client::public("cli")
                .scopes(["read"])
                .redirect_uri("http://127.0.0.1/cb"),
        )
        .auto_approve("alice")
        .start()
        .await
        .unwrap();
    let doc: Value = support::json(http().get(server.discovery_uri())).await;
    assert!(doc["token_endpoint_auth_methods_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("none")));
    assert!(doc.get("registration_endpoint").is_none());
    let (_, query) = authorize_query(server.issuer(), "cli", "http://127.0.0.1:9/cb", &[]).await;
    let (verifier, _) = pkce();
    let (status, tokens) = token(
        &server,
        ("cli", None),
        &[
            ("grant_type", "authorization_code"),
            ("code", query["code"].as_str()),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", verifier.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    // An unknown client id alone is no authentication.
    let (status, _) = token(
        &server,
        ("nobody", None),
        &[("grant_type", "refresh_token")],
    )
    .await;
    assert_eq!(status, 401);
}
