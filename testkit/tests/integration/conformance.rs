//! RFC conformance of the test authorization server (issue 17 items 1-6 and 9): each test
//! here failed against the server as it was before its fix.

use crate::support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bearer_guard_testkit::{Client, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::flow::{http, pkce, token, DEMO};
use support::jwt::decode;

/// A token request as `client`: the JSON answer, whatever the status.
async fn token_req(server: &TestServer, client: (&str, &str), form: &[(&str, &str)]) -> Value {
    token(server.issuer(), client, form).await.1
}

/// RFC 6749 §5.2: `error_description` is limited to %x20-21 / %x23-5B / %x5D-7E.
fn assert_allowed_description(description: &str) {
    for c in description.chars() {
        assert!(
            matches!(c, '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e'),
            "character {c:?} in error_description {description:?}"
        );
    }
}

const HOSTILE: &str = "read \"quoted\" back\\slash \u{1}ctl \u{7f} caf\u{e9} \u{202e}rtl";

// ----- 1. error_description never echoes raw input ------------------------------

#[tokio::test]
async fn error_descriptions_stay_in_the_allowed_characters() {
    let server = TestServer::start().await;
    // Token endpoint: a hostile scope, a hostile duplicated parameter name, a hostile grant.
    let cases: Vec<Vec<(&str, &str)>> = vec![
        vec![("grant_type", "client_credentials"), ("scope", HOSTILE)],
        vec![
            ("grant_type", "client_credentials"),
            (HOSTILE, "1"),
            (HOSTILE, "2"),
        ],
        vec![("grant_type", HOSTILE)],
    ];
    for form in &cases {
        let body = token_req(&server, DEMO, form).await;
        let description = body["error_description"].as_str().unwrap();
        assert_allowed_description(description);
    }

    // Authorization endpoint: the error goes back in the redirect's query.
    let (_, challenge) = pkce();
    let url = url::Url::parse_with_params(
        &server.authorization_endpoint(),
        [
            ("response_type", "code"),
            ("client_id", "demo-client"),
            ("redirect_uri", "http://127.0.0.1/callback"),
            ("scope", HOSTILE),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let (_, description) = location
        .query_pairs()
        .find(|(k, _)| k == "error_description")
        .unwrap();
    assert_allowed_description(&description);
}

// ----- 2. no empty scope -----------------------------------------------------

#[tokio::test]
async fn a_client_without_scopes_gets_no_scope_member() {
    let server = TestServer::start().await;
    // `api` is registered without scopes.
    let body = token_req(
        &server,
        ("api", "api-secret"),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("scope").is_none(), "{body}");
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert!(claims.get("scope").is_none(), "{claims}");
    // The client that has scopes still gets them.
    let body = token_req(&server, DEMO, &[("grant_type", "client_credentials")]).await;
    assert_eq!(body["scope"], "read write admin");
}

// ----- 3. refresh-token replay revokes the family ---------------------------------

/// The authorization code flow as `alice` for `demo-client`, with `redirect_uri`.
async fn code_flow(server: &TestServer, redirect_uri: &str) -> Value {
    let (verifier, challenge) = pkce();
    let form = [
        ("response_type", "code"),
        ("client_id", "demo-client"),
        ("redirect_uri", redirect_uri),
        ("scope", "read"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("username", "alice"),
        ("password", "password"),
    ];
    let resp = http()
        .post(server.authorization_endpoint())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect_uri), "{location}");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    token_req(
        server,
        DEMO,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", &verifier),
        ],
    )
    .await
}

async fn introspect_active(server: &TestServer, token: &str) -> bool {
    let body: Value = http()
        .post(server.introspection_endpoint())
        .basic_auth("api", Some("api-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["active"].as_bool().unwrap()
}

#[tokio::test]
async fn refresh_token_replay_revokes_the_whole_family() {
    let server = TestServer::start().await;
    let first = code_flow(&server, "http://127.0.0.1/callback").await;
    let (access1, refresh1) = (
        first["access_token"].as_str().unwrap(),
        first["refresh_token"].as_str().unwrap(),
    );
    let refresh = |token: String| {
        let server = &server;
        async move {
            token_req(
                server,
                DEMO,
                &[("grant_type", "refresh_token"), ("refresh_token", &token)],
            )
            .await
        }
    };
    let second = refresh(refresh1.to_owned()).await;
    let (access2, refresh2) = (
        second["access_token"].as_str().unwrap(),
        second["refresh_token"].as_str().unwrap(),
    );
    assert!(introspect_active(&server, access2).await);

    // The rotated-out token comes back: someone else has it.
    let replay = refresh(refresh1.to_owned()).await;
    assert_eq!(replay["error"], "invalid_grant");
    // The current refresh token of the family is dead too, and so are its access tokens.
    let after = refresh(refresh2.to_owned()).await;
    assert_eq!(after["error"], "invalid_grant", "{after}");
    assert!(!introspect_active(&server, access1).await);
    assert!(!introspect_active(&server, access2).await);
}

// ----- 4. oversized bodies --------------------------------------------------------

/// Sends a raw HTTP/1.1 request and reads the whole answer (until the server closes or
/// `Content-Length` is reached).
fn raw_exchange(addr: std::net::SocketAddr, head: &str, body: &[u8]) -> (String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    // The server may answer before taking it all.
    let _ = stream.write_all(body);
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        let text = String::from_utf8_lossy(&buf);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(usize::MAX);
            if body.len() >= len {
                return (head.to_owned(), body.to_owned());
            }
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn oversized_bodies_get_a_json_error_and_a_clean_close() {
    let server = TestServer::start().await;
    let big = vec![b'a'; 3 * 1024 * 1024];
    for path in ["/token", "/introspect", "/revoke"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Authorization: Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=\r\nContent-Length: {}\r\n\r\n",
            server.addr(),
            big.len()
        );
        let (addr, big) = (server.addr(), big.clone());
        let (head, body) = tokio::task::spawn_blocking(move || raw_exchange(addr, &head, &big))
            .await
            .unwrap();
        let lower = head.to_ascii_lowercase();
        assert!(lower.starts_with("http/1.1 413"), "{path}: {head}");
        assert!(
            lower.contains("content-type: application/json"),
            "{path}: {head}"
        );
        assert!(lower.contains("connection: close"), "{path}: {head}");
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"], "invalid_request", "{path}");
    }
    // The server is still fine.
    let body = token_req(&server, DEMO, &[("grant_type", "client_credentials")]).await;
    assert!(body["access_token"].is_string());
}

// ----- 5. form bodies must be labelled as forms ----------------------------------

#[tokio::test]
async fn only_form_bodies_are_accepted() {
    let server = TestServer::start().await;
    let token = server.mint().sign();
    let endpoints = [
        (
            server.token_endpoint(),
            "grant_type=client_credentials".to_owned(),
        ),
        (server.introspection_endpoint(), format!("token={token}")),
        (server.revocation_endpoint(), format!("token={token}")),
    ];
    for (url, body) in &endpoints {
        for content_type in [
            Some("application/json"),
            Some("text/plain"),
            Some("multipart/form-data; boundary=x"),
            Some("application/x-www-form-urlencodedx"),
            None,
        ] {
            let mut req = http()
                .post(url)
                .basic_auth("api", Some("api-secret"))
                .body(body.clone());
            if let Some(ct) = content_type {
                req = req.header("content-type", ct);
            }
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), 400, "{url} {content_type:?}");
            let json: Value = resp.json().await.unwrap();
            assert_eq!(json["error"], "invalid_request", "{url} {content_type:?}");
        }
        for content_type in [
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=UTF-8",
            "Application/X-WWW-Form-URLencoded;charset=utf-8",
        ] {
            let resp = http()
                .post(url)
                .basic_auth("api", Some("api-secret"))
                .header("content-type", content_type)
                .body(body.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{url} {content_type}");
        }
    }
}

// ----- 6. discovery advertises only what the server does -------------------------

#[tokio::test]
async fn discovery_advertises_only_what_is_served() {
    let server = TestServer::start().await;
    let doc: Value = http()
        .get(server.discovery_uri())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // ID tokens are signed with the published keys' algorithms only; no request objects,
    // no `claims` parameter; OpenID Connect Discovery §3's required members are there.
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(doc["subject_types_supported"], json!(["public"]));
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{}/userinfo", server.issuer())
    );
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["request_parameter_supported"], false);
    assert_eq!(doc["claims_parameter_supported"], false);
    assert!(doc["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("openid")));
    assert!(
        doc.get("acr_values_supported").is_none(),
        "no user has an acr"
    );
    assert_eq!(doc["response_types_supported"], json!(["code"]));
    let algs = doc["dpop_signing_alg_values_supported"].as_array().unwrap();
    for alg in ["ES256", "EdDSA", "RS256", "PS256"] {
        assert!(algs.contains(&Value::from(alg)), "{alg}");
    }
    assert!(!algs.contains(&Value::from("HS256")));
    assert_eq!(
        doc["revocation_endpoint_auth_methods_supported"],
        doc["token_endpoint_auth_methods_supported"]
    );
    assert_eq!(
        doc["introspection_endpoint_auth_methods_supported"],
        doc["token_endpoint_auth_methods_supported"]
    );
}

// ----- 9. loopback redirect URIs with any port -------------------------------------

#[tokio::test]
async fn loopback_redirect_uris_match_any_port() {
    let server = TestServer::builder()
        .client(
            Client::new("demo-client", "demo-secret")
                .scopes(["read"])
                .redirect_uri("http://127.0.0.1/callback")
                .redirect_uri("http://[::1]:8080/cb")
                .redirect_uri("http://localhost/callback")
                .redirect_uri("https://app.example/cb"),
        )
        .start()
        .await
        .unwrap();
    let (_, challenge) = pkce();
    let status = |redirect: &'static str| {
        let url = url::Url::parse_with_params(
            &server.authorization_endpoint(),
            [
                ("response_type", "code"),
                ("client_id", "demo-client"),
                ("redirect_uri", redirect),
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
        .unwrap();
        async move { http().get(url).send().await.unwrap().status() }
    };
    for accepted in [
        "http://127.0.0.1/callback",
        "http://127.0.0.1:54321/callback",
        "http://127.0.0.1:80/callback",
        "http://[::1]/cb",
        "http://[::1]:1/cb",
        "http://localhost/callback",
        "https://app.example/cb",
    ] {
        assert_eq!(status(accepted).await, 200, "{accepted}");
    }
    for refused in [
        "http://localhost:54321/callback",
        "http://127.0.0.1:54321/other",
        "http://127.0.0.1:54321/callback?x=1",
        "https://127.0.0.1:54321/callback",
        "http://127.0.0.2:54321/callback",
        "http://[::1]:1/callback",
        "https://app.example:8443/cb",
    ] {
        assert_eq!(status(refused).await, 400, "{refused}");
    }
    // The whole flow with a port chosen at request time; the token request names the same URI.
    let tokens = code_flow(&server, "http://127.0.0.1:40123/callback").await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
}
