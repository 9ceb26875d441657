//! The `bearer-guard-testkit` binary, started as a child process the way a test suite in
//! another language would: flags, the issuer line on stdout, auto-approval, the control API.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::flow::http;
use support::jwt::{b64, decode};

const EXE: &str = env!("CARGO_BIN_EXE_bearer-guard-testkit");

/// A started server, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args` and returns it with the first line of its stdout.
fn start(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(EXE)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    (running, line.trim_end().to_owned())
}

#[test]
fn help_is_on_stdout_with_exit_0() {
    let out = Command::new(EXE).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--bind",
        "--issuer-url",
        "--client",
        "--redirect-uri",
        "--user",
        "--auto-approve",
        "--token-ttl",
        "--alg",
        "--audience",
        "--control-api",
        "--allow-remote-control",
        "--config",
        "--dynamic-registration",
        "--max-registrations",
        "--resource",
        "--user-claim",
        "--user-acr",
        "--issuer-path",
        "userinfo",
        "token-exchange",
        "TEST ONLY",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn bad_flags_are_refused() {
    for args in [
        &["--bogus"][..],
        &["--client", "no-secret"],
        &["--user", "nopassword"],
        &["--alg", "HS256"],
        &["--token-ttl", "soon"],
        &["--redirect-uri", "nobody:http://127.0.0.1/cb"],
        &["--auto-approve", "nobody"],
        &["--issuer-url", "http://auth.test/path"],
        &["--config", "/nonexistent/config.json"],
        &["--resource", "http://127.0.0.1/mcp#frag"],
        &["--resource", "not-a-uri"],
        &["--max-registrations", "3"],
    ] {
        let status = Command::new(EXE)
            .args(args)
            .args(["--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?} was accepted");
    }
}

#[tokio::test]
async fn a_configured_server_over_http() {
    let (_server, issuer) = start(&[
        "--bind",
        "127.0.0.1:0",
        "--client",
        "shop:shop-secret:read write",
        "--redirect-uri",
        "shop:http://127.0.0.1/cb",
        "--user",
        "bob:hunter2",
        "--auto-approve",
        "bob",
        "--token-ttl",
        "60",
        "--alg",
        "ES256",
        "--audience",
        "orders",
        "--control-api",
    ]);
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer:?}");
    assert!(
        !issuer.contains(' '),
        "the line is the URL alone: {issuer:?}"
    );

    // client_credentials with the configured client.
    let body: Value = http()
        .post(format!("{issuer}/token"))
        .basic_auth("shop", Some("shop-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["scope"], "read write");
    assert_eq!(body["expires_in"], 60);
    let (header, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["aud"], "orders");
    assert_eq!(claims["sub"], "shop");

    // Authorization code + PKCE, approved by bob without a form, on a loopback port.
    let verifier = "v".repeat(60);
    let challenge = b64(Sha256::digest(verifier.as_bytes()));
    let redirect = "http://127.0.0.1:45678/cb";
    let url = url::Url::parse_with_params(
        &format!("{issuer}/authorize"),
        [
            ("response_type", "code"),
            ("client_id", "shop"),
            ("redirect_uri", redirect),
            ("scope", "read"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
    .unwrap();
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(redirect), "{location}");
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let body: Value = http()
        .post(format!("{issuer}/token"))
        .basic_auth("shop", Some("shop-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["client_id"], "shop");
    assert_eq!(claims["scope"], "read");

    // The control API is on.
    let minted: Value = http()
        .post(format!("{issuer}/_testkit/tokens"))
        .json(&json!({ "claims": { "sub": "carol" } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(minted["claims"]["sub"], "carol");
    assert_eq!(minted["claims"]["aud"], "orders");
}

#[tokio::test]
async fn defaults_have_no_control_api() {
    let (_server, issuer) = start(&["--bind", "127.0.0.1:0"]);
    let resp = http()
        .get(format!("{issuer}/_testkit/keys"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = http()
        .post(format!("{issuer}/token"))
        .basic_auth("demo-client", Some("demo-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn the_control_api_is_refused_on_a_non_loopback_address() {
    // Refused before anything is bound (an address of no interface first: were the rule
    // gone, the test would fail there rather than serve).
    for bind in ["192.0.2.1:0", "0.0.0.0:0", "[::]:0"] {
        let out = Command::new(EXE)
            .args(["--control-api", "--bind", bind])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{bind}");
        assert!(out.stdout.is_empty(), "{bind}: no issuer line");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("not a loopback address"), "{stderr}");
        assert!(stderr.contains("--allow-remote-control"), "{stderr}");
    }
    // The flag means nothing without the control API: a usage error.
    let out = Command::new(EXE)
        .args(["--allow-remote-control", "--bind", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `GET /_testkit/keys` with this `Host`, over a raw connection: the status code.
fn keys_with_host(issuer: &str, host: &str) -> u16 {
    use std::io::{Read as _, Write as _};
    let addr = issuer.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /_testkit/keys HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap()
}

#[test]
fn allow_remote_control_answers_any_host() {
    let (_server, issuer) = start(&["--bind", "127.0.0.1:0", "--control-api"]);
    assert_eq!(keys_with_host(&issuer, "evil.test"), 403);
    assert_eq!(keys_with_host(&issuer, "localhost"), 200);
    let (_server, issuer) = start(&[
        "--bind",
        "127.0.0.1:0",
        "--control-api",
        "--allow-remote-control",
    ]);
    assert_eq!(keys_with_host(&issuer, "evil.test"), 200);
}

#[tokio::test]
async fn an_mcp_style_sign_in_with_registration_and_a_resource() {
    let resource = "http://127.0.0.1:8080/mcp";
    let (_server, issuer) = start(&[
        "--bind",
        "127.0.0.1:0",
        "--dynamic-registration",
        "--max-registrations",
        "1",
        "--auto-approve",
        "alice",
        "--resource",
        resource,
    ]);
    let doc: Value = http()
        .get(format!("{issuer}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["registration_endpoint"], format!("{issuer}/register"));

    let redirect = "http://127.0.0.1:33333/callback";
    let register = || {
        http()
            .post(format!("{issuer}/register"))
            .json(&json!({
                "redirect_uris": [redirect],
                "token_endpoint_auth_method": "none",
                "grant_types": ["authorization_code", "refresh_token"],
            }))
            .send()
    };
    let resp = register().await.unwrap();
    assert_eq!(resp.status(), 201);
    let client: Value = resp.json().await.unwrap();
    let client_id = client["client_id"].as_str().unwrap();
    // --max-registrations 1.
    assert_eq!(register().await.unwrap().status(), 403);

    let verifier = "w".repeat(60);
    let challenge = b64(Sha256::digest(verifier.as_bytes()));
    let url = url::Url::parse_with_params(
        &format!("{issuer}/authorize"),
        [
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "s1"),
            ("resource", resource),
        ],
    )
    .unwrap();
    let resp = http().get(url).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["iss"], issuer);
    let body: Value = http()
        .post(format!("{issuer}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", query["code"].as_str()),
            ("redirect_uri", redirect),
            ("code_verifier", verifier.as_str()),
            ("resource", resource),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (_, claims) = decode(body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], resource);
    assert_eq!(claims["sub"], "alice");
}

#[tokio::test]
async fn openid_users_and_issuers_by_path_from_flags() {
    let (_server, issuer) = start(&[
        "--bind",
        "127.0.0.1:0",
        "--user",
        "bob:pw",
        "--user-claim",
        "bob:email=bob@example.com",
        "--user-claim",
        r#"bob:groups=["staff"]"#,
        "--user-acr",
        "bob:urn:example:pwd",
        "--user-acr",
        "bob:urn:example:mfa",
        "--issuer-path",
        "tenant-a",
        "--control-api",
    ]);
    let doc: Value = http()
        .get(format!(
            "{issuer}/tenant-a/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], format!("{issuer}/tenant-a"));
    assert_eq!(
        doc["acr_values_supported"],
        json!(["urn:example:mfa", "urn:example:pwd"])
    );
    let minted: Value = http()
        .post(format!("{issuer}/_testkit/tokens"))
        .header("content-type", "application/json")
        .body(r#"{"claims": {"sub": "bob", "scope": "openid"}}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let info: Value = http()
        .get(format!("{issuer}/userinfo"))
        .bearer_auth(minted["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info,
        json!({"sub": "bob", "email": "bob@example.com", "groups": ["staff"]})
    );
}
