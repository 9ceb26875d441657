//! Sessions bound to the principal that opened them.

use super::*;

/// An MCP server stand-in: `initialize` opens session `s-<n>`; everything else answers 200,
/// or 404 for the path `/gone`. Counts its calls.
fn server(
    calls: &Arc<AtomicUsize>,
) -> BindMcpSession<
    tower::util::BoxCloneService<Request<String>, Response<String>, std::convert::Infallible>,
> {
    let calls = calls.clone();
    let inner = service_fn(move |req: Request<String>| {
        let n = calls.fetch_add(1, Ordering::SeqCst);
        async move {
            let mut res = Response::new(String::new());
            if req.body() == "initialize" {
                res.headers_mut()
                    .insert(MCP_SESSION_ID, format!("s-{n}").parse().unwrap());
            }
            if req.uri().path() == "/gone" {
                *res.status_mut() = StatusCode::NOT_FOUND;
            }
            Ok::<_, std::convert::Infallible>(res)
        }
    });
    BindMcpSessionLayer::new().layer(tower::util::BoxCloneService::new(inner))
}

fn as_(iss: &str, sub: &str, method: Method, session: Option<&str>, body: &str) -> Request<String> {
    let mut req = Request::builder()
        .method(method)
        .uri("/mcp")
        .body(body.to_owned())
        .unwrap();
    if let Some(id) = session {
        req.headers_mut()
            .insert(MCP_SESSION_ID, id.parse().unwrap());
    }
    let claims = Claims::from_value(json!({"iss": iss, "sub": sub})).unwrap();
    req.extensions_mut().insert(claims);
    req
}

async fn status(
    svc: &BindMcpSession<
        tower::util::BoxCloneService<Request<String>, Response<String>, std::convert::Infallible>,
    >,
    req: Request<String>,
) -> (StatusCode, Option<String>) {
    let res = svc.clone().oneshot(req).await.unwrap();
    let id = res
        .headers()
        .get(MCP_SESSION_ID)
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status(), id)
}

#[tokio::test]
async fn a_session_answers_only_its_principal() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = server(&calls);
    let (code, id) = status(
        &svc,
        as_("https://as", "alice", Method::POST, None, "initialize"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    let id = id.unwrap();
    // Alice, with her session.
    let (code, _) = status(
        &svc,
        as_("https://as", "alice", Method::POST, Some(&id), "tools/list"),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    // Bob, or alice of another issuer, with alice's session: as if it did not exist.
    for (iss, sub) in [("https://as", "bob"), ("https://other-as", "alice")] {
        for method in [Method::POST, Method::GET, Method::DELETE] {
            let res = svc
                .clone()
                .oneshot(as_(iss, sub, method, Some(&id), "tools/list"))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
            assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
        }
    }
    // Anonymous (an optional auth layer let it through) with alice's session: refused too.
    let mut anonymous = Request::post("/mcp").body(String::new()).unwrap();
    anonymous
        .headers_mut()
        .insert(MCP_SESSION_ID, id.parse().unwrap());
    anonymous.extensions_mut().insert(Anonymous);
    assert_eq!(status(&svc, anonymous).await.0, StatusCode::NOT_FOUND);
    // None of the refused requests reached the server.
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn unknown_sessions_pass_to_the_server() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = server(&calls);
    let (code, _) = status(
        &svc,
        as_(
            "https://as",
            "bob",
            Method::POST,
            Some("never-issued"),
            "tools/list",
        ),
    )
    .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn delete_by_the_owner_forgets_the_session() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = server(&calls);
    let id = status(
        &svc,
        as_("https://as", "alice", Method::POST, None, "initialize"),
    )
    .await
    .1
    .unwrap();
    // A failed DELETE forgets nothing.
    let mut gone = as_("https://as", "alice", Method::DELETE, Some(&id), "");
    *gone.uri_mut() = "/gone".parse().unwrap();
    assert_eq!(status(&svc, gone).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        status(&svc, as_("https://as", "bob", Method::POST, Some(&id), "x"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    // The owner's DELETE does.
    assert_eq!(
        status(
            &svc,
            as_("https://as", "alice", Method::DELETE, Some(&id), "")
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        status(&svc, as_("https://as", "bob", Method::POST, Some(&id), "x"))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_successful_answers_open_sessions_and_records_never_move() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = server(&calls);
    // An answer that is not a success records nothing.
    let mut failed = as_("https://as", "alice", Method::POST, None, "initialize");
    *failed.uri_mut() = "/gone".parse().unwrap();
    let (code, id) = status(&svc, failed).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    let id = id.unwrap();
    assert_eq!(
        status(&svc, as_("https://as", "bob", Method::POST, Some(&id), "x"))
            .await
            .0,
        StatusCode::OK
    );
    // Anonymous sessions are not recorded.
    let mut anonymous = Request::post("/mcp").body("initialize".to_owned()).unwrap();
    anonymous.extensions_mut().insert(Anonymous);
    let id = status(&svc, anonymous).await.1.unwrap();
    assert_eq!(
        status(&svc, as_("https://as", "bob", Method::POST, Some(&id), "x"))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_an_auth_layer_500() {
    let calls = Arc::new(AtomicUsize::new(0));
    let svc = server(&calls);
    let res = svc
        .oneshot(Request::post("/mcp").body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
