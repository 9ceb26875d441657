//! Interoperability with a third-party authorization server: the npm package
//! `oauth2-mock-server` (version pinned in `tests/interop/package.json` and its lock file),
//! started on loopback by `tests/interop/launcher.mjs`.
//!
//! Tokens are obtained with a real client-credentials request to its token endpoint, and
//! checked by a `JwtValidator` built by discovery from its issuer URL. The package is installed
//! with `npm ci` under the cargo target directory (reused while the lock file is unchanged).
//!
//! Skipped, with a message, only where `node` or `npm` is not installed; any other problem
//! (install, start-up) fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::fs;
use std::io::{BufRead, BufReader, ErrorKind};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use bearer_guard::{AuthError, JwtValidator, TokenError, Validator};
use serde_json::Value;
use support::jwt::{b64, b64json, segments, unb64, with_payload};
use support::{assert_invalid, call, json, me_url};

const AUDIENCE: &str = "interop-api";
const CLIENT_ID: &str = "interop-client";
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The source files of the Node side, copied into the install directory.
fn interop_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

fn install_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("interop-node")
}

/// Whether `program --version` runs; `false` only if it is not installed.
fn available(program: &str) -> bool {
    match Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(status) => {
            assert!(status.success(), "`{program} --version` failed: {status}");
            true
        }
        Err(e) if e.kind() == ErrorKind::NotFound => false,
        Err(e) => panic!("cannot run `{program}`: {e}"),
    }
}

/// Runs `npm ci` in `dir` unless the same lock file was installed there before. Serialized
/// across the tests of this binary.
fn install(dir: &Path) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    fs::create_dir_all(dir).unwrap();
    let src = interop_src();
    let lock = fs::read(src.join("package-lock.json")).unwrap();
    for file in ["package.json", "package-lock.json", "launcher.mjs"] {
        fs::copy(src.join(file), dir.join(file)).unwrap();
    }
    let stamp = dir.join("installed.stamp");
    if fs::read(&stamp).is_ok_and(|s| s == lock)
        && dir
            .join("node_modules/oauth2-mock-server/package.json")
            .exists()
    {
        return;
    }
    let log_path = dir.join("npm-ci.log");
    let log = fs::File::create(&log_path).unwrap();
    let mut child = Command::new("npm")
        .args([
            "ci",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--ignore-scripts",
        ])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("npm could not be started");
    let deadline = Instant::now() + INSTALL_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "npm ci took longer than {INSTALL_TIMEOUT:?}; log:\n{}",
                fs::read_to_string(&log_path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        status.success(),
        "npm ci failed ({status}); log:\n{}",
        fs::read_to_string(&log_path).unwrap_or_default()
    );
    fs::write(&stamp, &lock).unwrap();
}

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
        if !available("node") || !available("npm") {
            eprintln!("SKIPPED interop_mock_server: node and npm are required and not installed");
            return None;
        }
        let dir = install_dir();
        install(&dir);
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
