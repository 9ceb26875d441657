//! The command-line contracts of `examples/auth_server.rs` and `examples/protected_api.rs`,
//! which other tools rely on: both programs are built, started on loopback and called over
//! real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

/// Builds both examples once (with all features, like the test run) and returns their paths.
fn binaries() -> &'static (PathBuf, PathBuf) {
    static BINS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    BINS.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args(["build", "--all-features", "--message-format=json"])
            .args(["--example", "auth_server", "--example", "protected_api"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .unwrap();
        assert!(out.status.success(), "building the examples failed");
        let mut found = (None, None);
        for line in String::from_utf8(out.stdout).unwrap().lines() {
            let Ok(msg) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let (Some(name), Some(exe)) =
                (msg["target"]["name"].as_str(), msg["executable"].as_str())
            else {
                continue;
            };
            match name {
                "auth_server" => found.0 = Some(PathBuf::from(exe)),
                "protected_api" => found.1 = Some(PathBuf::from(exe)),
                _ => {}
            }
        }
        (found.0.unwrap(), found.1.unwrap())
    })
}

/// A started program, killed on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `exe` with `args` and waits for the stdout line starting with `prefix`; returns the
/// rest of that line.
fn start(exe: &PathBuf, args: &[&str], prefix: &str) -> (Running, String) {
    let mut child = Command::new(exe)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    let wanted = prefix.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix(&wanted) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    let value = rx
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("{exe:?} did not print {prefix:?}"));
    (running, value)
}

async fn token(issuer: &str, client: &str, secret: &str, scope: &str) -> String {
    support::client_credentials(&format!("{issuer}/token"), client, secret, scope).await
}

/// GETs `url`, with the token if given: (status, www-authenticate or "").
async fn get(url: String, token: Option<&str>) -> (u16, String) {
    let (status, challenge, _) = support::get_with(&url, token).await;
    (status, challenge)
}

#[tokio::test]
async fn protected_api_against_the_standalone_auth_server() {
    let (auth_server, protected_api) = binaries();
    let (_issuer_process, issuer) = start(auth_server, &["--bind", "127.0.0.1:0"], "issuer ");
    assert!(issuer.starts_with("http://127.0.0.1:"), "{issuer}");
    let reader = token(&issuer, "demo-client", "demo-secret", "read").await;
    let admin = token(&issuer, "demo-client", "demo-secret", "read admin").await;

    let (_jwt_api, addr) = start(
        protected_api,
        &[
            "--issuer",
            &issuer,
            "--audience",
            "api",
            "--bind",
            "127.0.0.1:0",
        ],
        "listening on ",
    );
    let api = format!("http://{addr}");
    assert_eq!(get(format!("{api}/health"), None).await.0, 200);
    assert_eq!(get(format!("{api}/me"), Some(&reader)).await.0, 200);
    assert_eq!(
        get(format!("{api}/me"), None).await,
        (401, r#"Bearer realm="demo""#.to_owned())
    );
    let (status, challenge) = get(format!("{api}/admin"), Some(&reader)).await;
    assert_eq!(status, 403);
    assert!(
        challenge.contains(r#"error="insufficient_scope""#)
            && challenge.contains(r#"scope="admin""#)
    );
    assert_eq!(get(format!("{api}/admin"), Some(&admin)).await.0, 200);

    // Another audience: every token of this issuer is refused.
    let (_other, addr) = start(
        protected_api,
        &[
            "--issuer",
            &issuer,
            "--audience",
            "other",
            "--bind",
            "127.0.0.1:0",
            "--jwks-uri",
            &format!("{issuer}/jwks"),
        ],
        "listening on ",
    );
    let (status, challenge) = get(format!("http://{addr}/me"), Some(&reader)).await;
    assert_eq!(status, 401);
    assert!(challenge.contains("the token audience is not accepted"));

    // Introspection mode, endpoint discovered from the issuer.
    let (_introspecting, addr) = start(
        protected_api,
        &[
            "--issuer",
            &issuer,
            "--bind",
            "127.0.0.1:0",
            "--introspect",
            "--client-id",
            "api",
            "--client-secret",
            "api-secret",
        ],
        "listening on ",
    );
    assert_eq!(get(format!("http://{addr}/me"), Some(&reader)).await.0, 200);
    assert_eq!(
        get(format!("http://{addr}/me"), Some("not-a-token"))
            .await
            .0,
        401
    );
}

#[test]
fn protected_api_refuses_bad_arguments() {
    let (_, protected_api) = binaries();
    for args in [
        &["--bogus"][..],
        &[][..],
        &["--issuer"][..],
        &["--issuer", "http://127.0.0.1:1", "--introspect"][..],
    ] {
        let status = Command::new(protected_api)
            .args(args)
            .args(["--bind", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "{args:?} was accepted");
    }
}
