//! What keeps the control API local and out of a browser's reach: a loopback bind address
//! (unless forced), a loopback `Host` on every control route (DNS rebinding), and
//! `Content-Type: application/json` on every request that changes something (CSRF: an HTML
//! form cannot send it). Raw HTTP/1.1 over TCP, so that `Host` and the request target are
//! exactly what a hostile page would make a browser send.

use std::net::SocketAddr;

use bearer_guard_testkit::{Endpoint, Fault, TestServer};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

async fn control_server() -> TestServer {
    TestServer::builder()
        .control_api(true)
        .start()
        .await
        .unwrap()
}

/// Sends `head` (request line and headers, without the blank line) and `body`; the status and
/// the body of the answer, as JSON when it is.
async fn raw(addr: SocketAddr, head: &str, body: &str) -> (u16, Value) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{head}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {answer:?}"));
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    let json = serde_json::from_str(body).unwrap_or(Value::String(body.to_owned()));
    (status, json)
}

/// The control API's JSON error shape, with this `error`.
fn is_error(body: &Value, error: &str) -> bool {
    body["error"] == error && body["error_description"].is_string()
}

#[tokio::test]
async fn a_non_loopback_bind_address_is_refused_unless_forced() {
    // (An address of no interface first: were the rule gone, nothing would be served.)
    for bind in ["192.0.2.1:0", "0.0.0.0:0", "[::]:0"] {
        let bind: SocketAddr = bind.parse().unwrap();
        let err = TestServer::builder()
            .control_api(true)
            .bind(bind)
            .start()
            .await
            .err()
            .unwrap_or_else(|| panic!("{bind}: started"));
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bind}");
        let text = err.to_string();
        assert!(text.contains("not a loopback address"), "{text}");
        assert!(text.contains("allow_remote_control(true)"), "{text}");
    }
    // Loopback binds start, as before.
    for bind in ["127.0.0.1:0", "[::1]:0"] {
        let bind: SocketAddr = bind.parse().unwrap();
        if let Ok(server) = TestServer::builder()
            .control_api(true)
            .bind(bind)
            .start()
            .await
        {
            server.shutdown().await;
        } else {
            // No IPv6 loopback on this machine: only 127.0.0.1 must work.
            assert!(bind.is_ipv6(), "{bind}");
        }
    }
}

#[tokio::test]
async fn control_routes_need_a_loopback_host() {
    let server = control_server().await;
    let addr = server.addr();
    let port = addr.port();
    server.set_fault(Endpoint::Token, Fault::Unavailable);
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LOCALHOST:{port}"),
        format!("[::1]:{port}"),
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
    ] {
        let (status, body) = raw(
            addr,
            &format!("GET /_testkit/keys HTTP/1.1\r\nHost: {host}"),
            "",
        )
        .await;
        assert_eq!(status, 200, "{host}: {body}");
    }
    // A rebound name, a name that merely starts like a loopback one, another loopback
    // address than the three, no Host at all, and an absolute target naming another host.
    let refused = [
        format!("GET /_testkit/keys HTTP/1.1\r\nHost: evil.test:{port}"),
        "GET /_testkit/counts HTTP/1.1\r\nHost: evil.test".to_owned(),
        format!("GET /_testkit/keys HTTP/1.1\r\nHost: 127.0.0.1.evil.test:{port}"),
        format!("GET /_testkit/keys HTTP/1.1\r\nHost: localhost.evil.test:{port}"),
        format!("GET /_testkit/keys HTTP/1.1\r\nHost: 127.0.0.2:{port}"),
        "GET /_testkit/keys HTTP/1.0".to_owned(),
        format!("GET http://evil.test/_testkit/keys HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
        format!(
            "POST /_testkit/keys HTTP/1.1\r\nHost: evil.test:{port}\r\n\
             Content-Type: application/json"
        ),
        format!(
            "DELETE /_testkit/faults HTTP/1.1\r\nHost: evil.test:{port}\r\n\
             Content-Type: application/json"
        ),
        format!(
            "POST /_testkit/tokens HTTP/1.1\r\nHost: evil.test:{port}\r\n\
             Content-Type: application/json"
        ),
        format!("GET /_testkit/nothing HTTP/1.1\r\nHost: evil.test:{port}"),
    ];
    for head in refused {
        let (status, body) = raw(addr, &head, "{}").await;
        assert_eq!(status, 403, "{head}: {body}");
        assert!(is_error(&body, "access_denied"), "{head}: {body}");
    }
    // Nothing changed: one key, the fault still there.
    assert_eq!(server.kids().len(), 1);
    assert_eq!(
        raw(
            addr,
            &format!("GET /_testkit/faults HTTP/1.1\r\nHost: 127.0.0.1:{port}"),
            ""
        )
        .await
        .1["token"]["fault"],
        "unavailable"
    );
    // The server's other paths answer any Host, as before (a real issuer is reached by name).
    let (status, _) = raw(addr, "GET /jwks HTTP/1.1\r\nHost: evil.test", "").await;
    assert_eq!(status, 200);
    let (status, _) = raw(addr, "GET /nothing HTTP/1.1\r\nHost: evil.test", "").await;
    assert_eq!(status, 404);
    server.shutdown().await;
}

#[tokio::test]
async fn allow_remote_control_answers_any_host_but_still_wants_json() {
    let server = TestServer::builder()
        .control_api(true)
        .allow_remote_control(true)
        .start()
        .await
        .unwrap();
    let addr = server.addr();
    let (status, _) = raw(
        addr,
        "GET /_testkit/keys HTTP/1.1\r\nHost: auth.test:9000",
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = raw(
        addr,
        "POST /_testkit/keys HTTP/1.1\r\nHost: auth.test:9000\r\n\
         Content-Type: application/x-www-form-urlencoded",
        "",
    )
    .await;
    assert_eq!(status, 415, "{body}");
    assert_eq!(server.kids().len(), 1);
    let (status, body) = raw(
        addr,
        "POST /_testkit/keys HTTP/1.1\r\nHost: auth.test:9000\r\nContent-Type: application/json",
        "{}",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    server.shutdown().await;
}

#[tokio::test]
async fn requests_that_change_something_must_be_json() {
    let server = control_server().await;
    let addr = server.addr();
    let host = format!("Host: 127.0.0.1:{}", addr.port());
    let kid = server.active_kid();
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    server.set_fault(Endpoint::Token, Fault::Garbage);
    let (status, _) = raw(addr, &format!("GET /jwks HTTP/1.1\r\n{host}"), "").await;
    assert_eq!(status, 503);
    let routes = [
        ("POST", "/_testkit/tokens".to_owned(), "{}"),
        ("POST", "/_testkit/keys".to_owned(), r#"{"activate": true}"#),
        ("POST", format!("/_testkit/keys/{kid}/activate"), ""),
        ("POST", format!("/_testkit/keys/{kid}/retire"), ""),
        (
            "PUT",
            "/_testkit/faults/jwks".to_owned(),
            r#"{"fault": "none"}"#,
        ),
        ("DELETE", "/_testkit/faults/jwks".to_owned(), ""),
        ("DELETE", "/_testkit/faults".to_owned(), ""),
        ("DELETE", "/_testkit/counts".to_owned(), ""),
        ("POST", "/_testkit/nothing".to_owned(), ""),
    ];
    // What a cross-site form or a "simple" fetch can send, and no type at all.
    let types = [
        None,
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        Some("text/plain"),
        Some("application/jsonx"),
    ];
    for (method, path, body) in &routes {
        for content_type in types {
            let mut head = format!("{method} {path} HTTP/1.1\r\n{host}");
            if let Some(t) = content_type {
                head.push_str(&format!("\r\nContent-Type: {t}"));
            }
            let (status, answer) = raw(addr, &head, body).await;
            assert_eq!(status, 415, "{method} {path} {content_type:?}: {answer}");
            assert!(
                is_error(&answer, "invalid_request"),
                "{method} {path}: {answer}"
            );
        }
    }
    // Nothing changed: the same single active key, the faults, the counters.
    assert_eq!(server.kids(), vec![kid.clone()]);
    assert_eq!(server.active_kid(), kid);
    assert_eq!(server.count(Endpoint::Jwks), 1);
    let (status, _) = raw(addr, &format!("GET /jwks HTTP/1.1\r\n{host}"), "").await;
    assert_eq!(status, 503);

    // With the type (any case, with parameters), each route works.
    let json = "Content-Type: Application/JSON; charset=utf-8";
    for (method, path, body) in &routes {
        let head = format!("{method} {path} HTTP/1.1\r\n{host}\r\n{json}");
        let (status, answer) = raw(addr, &head, body).await;
        let expected = match path.as_str() {
            "/_testkit/keys" => 201,
            "/_testkit/nothing" => 404,
            _ => 200,
        };
        assert_eq!(status, expected, "{method} {path}: {answer}");
    }
    // GET needs no type.
    for path in ["/_testkit/keys", "/_testkit/faults", "/_testkit/counts"] {
        let (status, _) = raw(addr, &format!("GET {path} HTTP/1.1\r\n{host}"), "").await;
        assert_eq!(status, 200, "{path}");
    }
    server.shutdown().await;
}
