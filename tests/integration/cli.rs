//! The command-line contracts of the tool examples `protected_api` and `inspect`
//! (`examples/tools/`), which other tools rely on: both programs are built, started on
//! loopback and called over real HTTP, with the test authorization server in process as their
//! issuer.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use bearer_guard_testkit::TestServer;
use serde_json::Value;

/// The path of the example `name` (`protected_api` or `inspect`), both built once with all
/// features, like the test run.
fn example(name: &str) -> &'static PathBuf {
    static BINS: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    let (protected_api, inspect) = BINS.get_or_init(|| {
        let out = Command::new(env!("CARGO"))
            .args(["build", "--all-features", "--message-format=json"])
            .args(["--example", "protected_api", "--example", "inspect"])
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
                "protected_api" => found.0 = Some(PathBuf::from(exe)),
                "inspect" => found.1 = Some(PathBuf::from(exe)),
                _ => {}
            }
        }
        (found.0.unwrap(), found.1.unwrap())
    });
    match name {
        "protected_api" => protected_api,
        "inspect" => inspect,
        other => panic!("not a tool example: {other}"),
    }
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
    start_with_env(exe, args, prefix, None)
}

/// [`start`], with `BEARER_GUARD_CLIENT_SECRET` set to `secret` if given (and cleared if not).
fn start_with_env(
    exe: &PathBuf,
    args: &[&str],
    prefix: &str,
    secret: Option<&str>,
) -> (Running, String) {
    let mut command = Command::new(exe);
    match secret {
        Some(s) => command.env("BEARER_GUARD_CLIENT_SECRET", s),
        None => command.env_remove("BEARER_GUARD_CLIENT_SECRET"),
    };
    let mut child = command
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

/// The test authorization server (defaults: `demo-client`/`demo-secret` with `read write
/// admin`, the resource server `api`/`api-secret`), served on loopback by this test's runtime.
/// The tests that use it run on the multi-threaded runtime: they block their own thread while
/// a program they started talks to the server.
async fn issuer() -> (TestServer, String) {
    let server = TestServer::start().await;
    let issuer = server.issuer().to_owned();
    (server, issuer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protected_api_against_the_test_server() {
    let protected_api = example("protected_api");
    let (_server, issuer) = issuer().await;
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

    // Introspection mode, endpoint discovered from the issuer; the secret from argv, from a
    // file, and from the environment (never only argv, which `ps` shows).
    let dir = std::env::temp_dir().join(format!("bearer-guard-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret_file = dir.join("secret");
    std::fs::write(&secret_file, "api-secret\n").unwrap();
    let secret_file = secret_file.to_str().unwrap().to_owned();
    for (secret_args, env) in [
        (vec!["--client-secret", "api-secret"], None),
        (vec!["--client-secret-file", secret_file.as_str()], None),
        (vec![], Some("api-secret")),
        (
            vec!["--auth-method", "post", "--cache-ttl", "0"],
            Some("api-secret"),
        ),
    ] {
        let mut args = vec![
            "--issuer",
            &issuer,
            "--audience",
            "api",
            "--bind",
            "127.0.0.1:0",
            "--introspect",
            "--client-id",
            "api",
        ];
        args.extend(secret_args.iter().copied());
        let (_introspecting, addr) = start_with_env(protected_api, &args, "listening on ", env);
        assert_eq!(
            get(format!("http://{addr}/me"), Some(&reader)).await.0,
            200,
            "{secret_args:?}"
        );
        assert_eq!(
            get(format!("http://{addr}/me"), Some("not-a-token"))
                .await
                .0,
            401
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn protected_api_help_is_on_stdout_with_exit_0() {
    let protected_api = example("protected_api");
    let out = Command::new(protected_api).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--issuer",
        "--audience",
        "--leeway",
        "--algorithms",
        "--client-secret-file",
        "BEARER_GUARD_CLIENT_SECRET",
        "--cache-ttl",
        "--auth-method",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn protected_api_refuses_bad_arguments() {
    let protected_api = example("protected_api");
    for args in [
        &["--bogus"][..],
        &[][..],
        &["--issuer"][..],
        &["--issuer", "http://127.0.0.1:1", "--introspect"][..],
        &[
            "--issuer",
            "http://127.0.0.1:1",
            "--audience",
            "a",
            "--introspect",
            "--hybrid",
        ][..],
        &[
            "--issuer",
            "http://127.0.0.1:1",
            "--audience",
            "a",
            "--jwks-uri",
            "http://127.0.0.1:1/jwks",
            "--leeway",
            "3600",
        ][..],
        &[
            "--issuer",
            "http://127.0.0.1:1",
            "--audience",
            "a",
            "--algorithms",
            "XS999",
        ][..],
        &["--issuer", "http://127.0.0.1:1"][..],
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_explains_each_check_and_gives_the_validators_verdict() {
    let (_server, issuer) = issuer().await;
    let reader = token(&issuer, "demo-client", "demo-secret", "read").await;
    let run = |audience: &str, via_stdin: bool| {
        let mut command = Command::new(example("inspect"));
        command.args(["--issuer", &issuer, "--audience", audience]);
        if !via_stdin {
            command.arg(&reader);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if via_stdin {
            std::io::Write::write_all(&mut stdin, reader.as_bytes()).unwrap();
        }
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        (out.status.code(), String::from_utf8(out.stdout).unwrap())
    };
    let (code, out) = run("api", false);
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "PASS discovery",
        "PASS jwks",
        "PASS kid",
        "PASS iss",
        "PASS aud",
        "PASS exp",
        "VERDICT accepted",
    ] {
        assert!(out.contains(line), "{line} missing:\n{out}");
    }
    assert!(!out.contains(&reader), "the token was printed");
    let (code, out) = run("other", true);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("FAIL aud")
            && out.contains("VERDICT refused: the token audience is not accepted"),
        "{out}"
    );
}
