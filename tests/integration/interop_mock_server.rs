//! Interoperability with a third-party authorization server: the npm package
//! `oauth2-mock-server` (version pinned in `tests/interop/mock-server/package.json` and its lock
//! file), started on loopback by `tests/interop/mock-server/launcher.mjs`.
//!
//! Tokens are obtained with a real client-credentials request to its token endpoint, and
//! checked by a `JwtValidator` built by discovery from its issuer URL. The package is installed
//! by `support::node` (skipped, with a message, only where `node` or `npm` is missing).

use crate::support;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use bearer_guard::{error::TokenError, AuthError, JwtValidator, Validator};
use serde_json::Value;
use support::jwt::{b64, b64json, segments, unb64, with_payload};
use support::{assert_invalid, call, json, me_url};

const AUDIENCE: &str = "interop-api";
const CLIENT_ID: &str = "interop-client";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The running mock server; killed when dropped.
struct MockServer {
    child: Child,
    issuer: String,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl MockServer {
    /// Installs (if needed) and starts the server, or returns `None` (after saying so) where
    /// Node.js is not installed.
    fn start() -> Option<MockServer> {
        let dir = support::node::project(
            "interop_mock_server",
            "mock-server",
            &["launcher.mjs"],
            "oauth2-mock-server",
        )?;
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::Relaxed);
        let stderr_path = dir.join(format!("launcher-{n}.log"));
        let child = Command::new("node")
            .arg("launcher.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(fs::File::create(&stderr_path).unwrap())
            .spawn()
            .expect("node could not be started");
        let mut server = MockServer {
            child,
            issuer: String::new(),
        };
        let stdout = server.child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["issuer"].as_str().map(str::to_owned));
        let Some(issuer) = issuer else {
            drop(server);
            panic!(
                "oauth2-mock-server did not start (first line {line:?}); stderr:\n{}",
                fs::read_to_string(&stderr_path).unwrap_or_default()
            );
        };
        server.issuer = issuer;
        Some(server)
    }

    /// A client-credentials grant at the server's token endpoint (found by discovery).
    async fn token(&self, audience: &str) -> String {
        let http = reqwest::Client::new();
        let metadata: Value =
            json(http.get(format!("{}/.well-known/openid-configuration", self.issuer))).await;
        let endpoint = metadata["token_endpoint"].as_str().unwrap();
        let res = http
            .post(endpoint)
            .basic_auth(CLIENT_ID, Some("interop-secret"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", "read write"),
                ("aud", audience),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_type"], "Bearer");
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A validator built by discovery from the issuer URL. The mock server sets `typ: JWT`,
    /// not RFC 9068's `at+jwt`.
    async fn validator(&self) -> JwtValidator {
        JwtValidator::builder(&self.issuer)
            .audience(AUDIENCE)
            .require_typ(false)
            .build()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn its_tokens_are_accepted() {
    let Some(server) = MockServer::start() else {
        return;
    };
    let url = me_url(server.validator().await).await;
    let token = server.token(AUDIENCE).await;

    let [header, _, _] = segments(&token);
    let header = b64json(&header);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["typ"], "JWT");

    let (status, challenge, body) = call(&url, &token).await;
    assert_eq!(status, 200, "{challenge}");
    let claims: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(claims["iss"], server.issuer);
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["sub"], CLIENT_ID);
    assert_eq!(claims["client_id"], CLIENT_ID);
    assert_eq!(claims["scope"], "read write");
    // Cached now: accepted again.
    assert_eq!(call(&url, &token).await.0, 200);

    // Why `require_typ(false)` is needed: by default RFC 9068's `at+jwt` is required.
    let strict = JwtValidator::builder(&server.issuer)
        .audience(AUDIENCE)
        .build()
        .await
        .unwrap();
    assert_eq!(
        strict.validate(&token).await.unwrap_err(),
        AuthError::InvalidToken(TokenError::WrongType)
    );
}

#[tokio::test]
async fn tampered_tokens_are_refused() {
    let Some(server) = MockServer::start() else {
        return;
    };
    let url = me_url(server.validator().await).await;
    let token = server.token(AUDIENCE).await;
    assert_eq!(call(&url, &token).await.0, 200);
    let [header, payload, signature] = segments(&token);

    // One bit of the signature flipped.
    let mut sig = unb64(&signature);
    sig[10] ^= 0x01;
    let flipped = format!("{header}.{payload}.{}", b64(&sig));
    assert_invalid(&url, &flipped, "the signature is invalid").await;

    // The payload altered (more scope, another subject), signature kept.
    let mut claims = b64json(&payload);
    claims["scope"] = "read write admin".into();
    claims["sub"] = "admin".into();
    let altered = with_payload(&token, &claims);
    assert_invalid(&url, &altered, "the signature is invalid").await;

    // The header switched to HMAC (the classic key-confusion attack), signature kept.
    let mut hs = b64json(&header);
    hs["alg"] = "HS256".into();
    let confused = format!("{}.{payload}.{signature}", b64(hs.to_string()));
    assert_invalid(&url, &confused, "the signing algorithm is not allowed").await;

    // A genuine token of this server, for another audience.
    let other = server.token("other-api").await;
    assert_invalid(&url, &other, "the token audience is not accepted").await;
}
