//! The layer and the session binding, in process with `oneshot`.

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};

use super::*;
use crate::auth::Anonymous;
use crate::{error::Challenge, Claims, Requirement};

/// A request body: whole bytes, chunks of unknown total size, or a read error.
enum TestBody {
    Whole(Option<Bytes>),
    Chunks {
        left: usize,
        polled: Arc<AtomicUsize>,
    },
    Broken,
}

impl From<Bytes> for TestBody {
    fn from(bytes: Bytes) -> Self {
        TestBody::Whole(Some(bytes))
    }
}

impl Body for TestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(match self.get_mut() {
            TestBody::Whole(bytes) => bytes.take().map(|b| Ok(Frame::data(b))),
            TestBody::Chunks { left: 0, .. } => None,
            TestBody::Chunks { left, polled } => {
                *left -= 1;
                polled.fetch_add(1, Ordering::SeqCst);
                Some(Ok(Frame::data(Bytes::from(vec![b' '; 1024]))))
            }
            TestBody::Broken => Some(Err(std::io::Error::other("connection reset"))),
        })
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            TestBody::Whole(Some(b)) => SizeHint::with_exact(b.len() as u64),
            _ => SizeHint::default(),
        }
    }
}

const BASE: &str = "mcp:tools";

fn requirements() -> McpRequirements {
    McpRequirements::new()
        .base(Requirement::all([BASE]))
        .tool("purge_cache", Requirement::all(["mcp:admin"]))
        .tool("deploy", Requirement::all(["mcp:admin"]).acr(["mfa"]))
        .prompt("secrets", Requirement::all(["prompts:secret"]))
        .resource("file:///etc/shadow", Requirement::all(["files:root"]))
        .method("logging/setLevel", Requirement::all(["mcp:ops"]))
}

/// What the inner service saw: how many calls, and the last body.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<(usize, Option<Bytes>)>>);

impl Seen {
    fn calls(&self) -> usize {
        self.0.lock().unwrap().0
    }
    fn body(&self) -> Option<Bytes> {
        self.0.lock().unwrap().1.clone()
    }
}

type Svc = RequireMcpScope<
    tower::util::BoxCloneService<Request<TestBody>, Response<String>, std::convert::Infallible>,
>;

fn layer(seen: &Seen, max: usize) -> Svc {
    let seen = seen.clone();
    let inner = service_fn(move |req: Request<TestBody>| {
        let seen = seen.clone();
        async move {
            let body = req.into_body().collect().await.unwrap().to_bytes();
            let mut s = seen.0.lock().unwrap();
            s.0 += 1;
            s.1 = Some(body);
            Ok::<_, std::convert::Infallible>(Response::new("ran".to_owned()))
        }
    });
    RequireMcpScopeLayer::new(requirements())
        .max_body_bytes(max)
        .layer(tower::util::BoxCloneService::new(inner))
}

fn request(method: Method, scope: &str, body: TestBody) -> Request<TestBody> {
    let mut req = Request::builder()
        .method(method)
        .uri("/mcp")
        .body(body)
        .unwrap();
    let claims = Claims::from_value(json!({"iss": "https://as", "sub": "alice", "scope": scope}));
    req.extensions_mut().insert(claims.unwrap());
    req.extensions_mut()
        .insert(Challenge::new().resource_metadata("https://mcp/meta"));
    req
}

fn post(scope: &str, body: impl Into<Bytes>) -> Request<TestBody> {
    request(Method::POST, scope, TestBody::from(body.into()))
}

fn tool(id: u32, name: &str) -> serde_json::Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name}})
}

async fn send(svc: Svc, req: Request<TestBody>) -> (StatusCode, String) {
    let res = svc.oneshot(req).await.unwrap();
    let challenge = res
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (res.status(), challenge)
}

fn scope_of(challenge: &str) -> &str {
    let start = challenge.find(" scope=\"").unwrap() + 8;
    let len = challenge[start..].find('"').unwrap();
    &challenge[start..start + len]
}

#[tokio::test]
async fn the_inner_service_gets_exactly_the_checked_bytes() {
    let seen = Seen::default();
    // Odd but valid JSON: whitespace, escapes, a member order of its own.
    let body = "  {\"params\":{\"name\":\"who\\u0061mi\"} ,\"method\":\"tools/call\",\"id\":1}\n";
    let (status, _) = send(layer(&seen, DEFAULT_MAX_BODY), post(BASE, body)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(seen.body().unwrap(), body);
}

#[tokio::test]
async fn a_tool_needing_more_is_refused_with_the_full_scope_set() {
    let seen = Seen::default();
    let body = serde_json::to_vec(&tool(1, "purge_cache")).unwrap();
    let (status, challenge) = send(layer(&seen, DEFAULT_MAX_BODY), post(BASE, body.clone())).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        challenge,
        r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="mcp:tools mcp:admin", resource_metadata="https://mcp/meta""#
    );
    assert_eq!(seen.calls(), 0);
    // With both scopes it runs; without the base scope, the challenge still names both.
    let (status, _) = send(
        layer(&seen, DEFAULT_MAX_BODY),
        post("mcp:tools mcp:admin", body.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, challenge) = send(layer(&seen, DEFAULT_MAX_BODY), post("mcp:admin", body)).await;
    assert_eq!(
        (status, scope_of(&challenge)),
        (StatusCode::FORBIDDEN, "mcp:tools mcp:admin")
    );
}

#[tokio::test]
async fn a_batch_needs_what_all_its_messages_need() {
    let seen = Seen::default();
    let batch = serde_json::to_vec(&json!([tool(1, "whoami"), tool(2, "purge_cache")])).unwrap();
    let (status, challenge) = send(layer(&seen, DEFAULT_MAX_BODY), post(BASE, batch.clone())).await;
    assert_eq!(
        (status, scope_of(&challenge)),
        (StatusCode::FORBIDDEN, "mcp:tools mcp:admin")
    );
    assert_eq!(seen.calls(), 0);
    let (status, _) = send(
        layer(&seen, DEFAULT_MAX_BODY),
        post("mcp:tools mcp:admin", batch),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Several refusals at once: the challenge names every scope, each once.
    let mixed = json!([tool(1, "purge_cache"), tool(2, "purge_cache"),
        {"jsonrpc": "2.0", "id": 3, "method": "prompts/get", "params": {"name": "secrets"}}]);
    let (status, challenge) = send(
        layer(&seen, DEFAULT_MAX_BODY),
        post(BASE, serde_json::to_vec(&mixed).unwrap()),
    )
    .await;
    assert_eq!(
        (status, scope_of(&challenge)),
        (StatusCode::FORBIDDEN, "mcp:tools mcp:admin prompts:secret")
    );
}

#[tokio::test]
async fn prompts_resources_and_methods_have_their_own_requirements() {
    let seen = Seen::default();
    for (message, needs) in [
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {"name": "secrets"}}),
            "prompts:secret",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": "file:///etc/shadow"}}),
            "files:root",
        ),
        (
            json!({"jsonrpc": "2.0", "id": 1, "method": "logging/setLevel", "params": {"level": "debug"}}),
            "mcp:ops",
        ),
    ] {
        let body = serde_json::to_vec(&message).unwrap();
        let (status, challenge) =
            send(layer(&seen, DEFAULT_MAX_BODY), post(BASE, body.clone())).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{message}");
        assert_eq!(scope_of(&challenge), format!("{BASE} {needs}"));
        let (status, _) = send(
            layer(&seen, DEFAULT_MAX_BODY),
            post(&format!("{BASE} {needs}"), body),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{message}");
    }
    // Other prompts and resources need the base only.
    let open = json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": "file:///tmp/x"}});
    let (status, _) = send(
        layer(&seen, DEFAULT_MAX_BODY),
        post(BASE, serde_json::to_vec(&open).unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn step_up_is_a_401_with_acr_values() {
    let seen = Seen::default();
    let body = serde_json::to_vec(&tool(1, "deploy")).unwrap();
    let (status, challenge) = send(
        layer(&seen, DEFAULT_MAX_BODY),
        post("mcp:tools mcp:admin", body),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        challenge.contains(r#"error="insufficient_user_authentication""#),
        "{challenge}"
    );
    assert!(challenge.contains(r#"acr_values="mfa""#), "{challenge}");
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_before_it_is_read() {
    let seen = Seen::default();
    let polled = Arc::new(AtomicUsize::new(0));
    let chunks = || TestBody::Chunks {
        left: 8,
        polled: polled.clone(),
    };
    // Content-Length over the limit: refused without reading a chunk.
    let mut req = request(Method::POST, BASE, chunks());
    req.headers_mut()
        .insert(header::CONTENT_LENGTH, (8 * 1024).into());
    let (status, _) = send(layer(&seen, 4096), req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(polled.load(Ordering::SeqCst), 0);
    // No Content-Length: read up to the limit, then refused.
    let (status, _) = send(layer(&seen, 4096), request(Method::POST, BASE, chunks())).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(polled.load(Ordering::SeqCst) <= 5);
    // A whole body over the limit (its size known).
    let big = serde_json::to_vec(&tool(1, &"x".repeat(5000))).unwrap();
    let (status, _) = send(layer(&seen, 4096), post(BASE, big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn what_is_not_json_rpc_is_400_and_never_passed_on() {
    let seen = Seen::default();
    for body in [
        &b"{\"method\": \"tools/call\""[..],
        b"not json",
        b"\"tools/call\"",
        b"42",
        b"{\"id\":1}",
        b"{\"id\":1,\"method\":7}",
        b"[]",
        b"[{\"id\":1,\"method\":\"ping\"}, \"x\"]",
        br#"{"id":1,"method":"tools/call","params":{"name":"whoami","name":"purge_cache"}}"#,
        br#"{"id":1,"method":"tools/call","params":{}}"#,
    ] {
        let (status, challenge) = send(layer(&seen, DEFAULT_MAX_BODY), post(BASE, body)).await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(challenge, "");
    }
    let (status, _) = send(
        layer(&seen, DEFAULT_MAX_BODY),
        request(Method::POST, BASE, TestBody::Broken),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(seen.calls(), 0);
}

#[tokio::test]
async fn responses_to_the_server_need_the_base_only() {
    let seen = Seen::default();
    let answer = br#"{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept"}}"#;
    let (status, _) = send(layer(&seen, DEFAULT_MAX_BODY), post(BASE, &answer[..])).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = send(layer(&seen, DEFAULT_MAX_BODY), post("other", &answer[..])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn get_and_delete_need_the_base_only_and_are_not_read() {
    let seen = Seen::default();
    let polled = Arc::new(AtomicUsize::new(0));
    for method in [Method::GET, Method::DELETE] {
        let chunks = TestBody::Chunks {
            left: 0,
            polled: polled.clone(),
        };
        let (status, _) = send(
            layer(&seen, DEFAULT_MAX_BODY),
            request(method.clone(), BASE, chunks),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{method}");
        let empty = TestBody::Whole(None);
        let (status, challenge) = send(
            layer(&seen, DEFAULT_MAX_BODY),
            request(method.clone(), "x", empty),
        )
        .await;
        assert_eq!(
            (status, scope_of(&challenge)),
            (StatusCode::FORBIDDEN, BASE),
            "{method}"
        );
    }
    assert_eq!(seen.calls(), 2);
}

#[tokio::test]
async fn without_claims_401_or_500() {
    let seen = Seen::default();
    let body = || TestBody::from(Bytes::from(serde_json::to_vec(&tool(1, "whoami")).unwrap()));
    let mut anonymous = Request::post("/mcp").body(body()).unwrap();
    anonymous.extensions_mut().insert(Anonymous);
    let (status, challenge) = send(layer(&seen, DEFAULT_MAX_BODY), anonymous).await;
    assert_eq!(
        (status, challenge.as_str()),
        (StatusCode::UNAUTHORIZED, "Bearer")
    );
    let bare = Request::post("/mcp").body(body()).unwrap();
    let (status, _) = send(layer(&seen, DEFAULT_MAX_BODY), bare).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(seen.calls(), 0);
}

mod sessions;
