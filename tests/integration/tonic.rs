//! gRPC: a tonic server protected by `AuthLayer` + `RequireScopeLayer` with `GrpcErrors`, called by
//! a tonic client over loopback; tokens from the bundled server.

#[path = "../../examples/proto/greeter.rs"]
mod greeter;
use crate::support;

use bearer_guard::error::UnavailableError;
use bearer_guard::tonic::GrpcErrors;
use bearer_guard::{
    error::Challenge, scope::ScopeMap, validator::ValidationFuture, AuthError, AuthLayer, Claims,
    JwtValidator, RequireScopeLayer, Requirement, Validator,
};
use bearer_guard_testkit::TestServer;
use greeter::greeter_client::GreeterClient;
use greeter::greeter_server::{Greeter, GreeterServer};
use greeter::{HelloReply, HelloRequest};
use serde_json::json;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Code, Request, Response, Status};

struct Svc;

#[tonic::async_trait]
impl Greeter for Svc {
    async fn say_hello(&self, req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        let sub = req
            .extensions()
            .get::<Claims>()
            .and_then(Claims::subject)
            .unwrap_or("?")
            .to_owned();
        Ok(Response::new(HelloReply {
            message: format!("hello {} from {sub}", req.get_ref().name),
        }))
    }

    async fn reset(&self, _req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(HelloReply {
            message: "reset".into(),
        }))
    }
}

fn full_map() -> ScopeMap {
    ScopeMap::new()
        .route(
            "/greeter.Greeter/SayHello",
            Requirement::all(["greet:read"]),
        )
        .route(
            "/greeter.Greeter/Reset",
            Requirement::any(["greet:admin", "greet:owner"]),
        )
}

/// Serves the greeter behind the given layers; returns its URL.
async fn serve<V: Validator>(auth: Option<AuthLayer<V, GrpcErrors>>, map: ScopeMap) -> String {
    let (listener, url) = support::bind().await;
    let router = Server::builder()
        .layer(tower::util::option_layer(auth))
        .layer(RequireScopeLayer::map(map).error_handler(GrpcErrors))
        .add_service(GreeterServer::new(Svc));
    tokio::spawn(async move {
        router
            .serve_with_incoming(TcpIncoming::from(listener))
            .await
            .unwrap();
    });
    url
}

async fn setup() -> (TestServer, String) {
    let issuer = TestServer::start().await;
    let auth = AuthLayer::new(support::validator(&issuer).await)
        .realm("grpc")
        .error_handler(GrpcErrors);
    let url = serve(Some(auth), full_map()).await;
    (issuer, url)
}

#[derive(Clone, Copy)]
enum Method {
    Hello,
    Reset,
}

async fn call(url: &str, method: Method, token: Option<&str>) -> Result<String, Status> {
    let mut client = GreeterClient::connect(url.to_owned()).await.unwrap();
    let mut req = Request::new(HelloRequest { name: "bob".into() });
    if let Some(t) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    let res = match method {
        Method::Hello => client.say_hello(req).await,
        Method::Reset => client.reset(req).await,
    };
    res.map(|r| r.into_inner().message)
}

fn challenge(status: &Status) -> Option<&str> {
    status
        .metadata()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap())
}

fn insufficient(scope: &str) -> String {
    format!(
        r#"Bearer realm="grpc", error="insufficient_scope", error_description="the token lacks the required scope", scope="{scope}""#
    )
}

#[tokio::test]
async fn ok_with_scope_and_claims_reach_the_handler() {
    let (issuer, url) = setup().await;
    let token = issuer.mint().sub("alice").scope("greet:read").sign();
    assert_eq!(
        call(&url, Method::Hello, Some(&token)).await.unwrap(),
        "hello bob from alice"
    );
    let scp = issuer
        .mint()
        .remove("scope")
        .claim("scp", json!(["greet:owner"]))
        .sign();
    assert_eq!(
        call(&url, Method::Reset, Some(&scp)).await.unwrap(),
        "reset"
    );
}

#[tokio::test]
async fn missing_or_invalid_token_is_unauthenticated() {
    let (issuer, url) = setup().await;
    let s = call(&url, Method::Hello, None).await.unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert_eq!(s.message(), "no Authorization header");
    assert_eq!(challenge(&s), Some(r#"Bearer realm="grpc""#));

    let expired = issuer.mint().scope("greet:read").expired().sign();
    let s = call(&url, Method::Hello, Some(&expired)).await.unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert_eq!(s.message(), "the token has expired");
    assert_eq!(
        challenge(&s),
        Some(
            r#"Bearer realm="grpc", error="invalid_token", error_description="the token has expired""#
        )
    );

    let s = call(&url, Method::Hello, Some("not-a-jwt"))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert!(challenge(&s).unwrap().contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn per_method_scopes_are_permission_denied() {
    let (issuer, url) = setup().await;
    let reader = issuer.mint().scope("greet:read").sign();
    let s = call(&url, Method::Reset, Some(&reader)).await.unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert_eq!(s.message(), "the token lacks the required scope");
    assert_eq!(
        challenge(&s),
        Some(insufficient("greet:admin greet:owner").as_str())
    );

    let admin = issuer.mint().scope("greet:admin").sign();
    assert_eq!(
        call(&url, Method::Reset, Some(&admin)).await.unwrap(),
        "reset"
    );
    let s = call(&url, Method::Hello, Some(&admin)).await.unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert_eq!(challenge(&s), Some(insufficient("greet:read").as_str()));
}

#[tokio::test]
async fn errors_are_http_200_with_grpc_status() {
    let (issuer, url) = setup().await;
    let http = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let post = |token: Option<String>| {
        let mut req = http
            .post(format!("{url}/greeter.Greeter/Reset"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let res = post(None).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["grpc-status"], "16");
    assert_eq!(res.headers()["content-type"], "application/grpc");
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="grpc""#);

    let res = post(Some(issuer.mint().scope("greet:read").sign()))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["grpc-status"], "7");
    assert_eq!(
        res.headers()["www-authenticate"],
        insufficient("greet:admin greet:owner").as_str()
    );
}

#[tokio::test]
async fn unlisted_method_fails_closed_as_internal() {
    let issuer = TestServer::start().await;
    let auth = AuthLayer::new(support::validator(&issuer).await)
        .realm("grpc")
        .error_handler(GrpcErrors);
    let map = ScopeMap::new().route(
        "/greeter.Greeter/SayHello",
        Requirement::all(["greet:read"]),
    );
    let url = serve(Some(auth), map).await;
    let token = issuer.mint().scope("greet:read greet:admin").sign();
    assert!(call(&url, Method::Hello, Some(&token)).await.is_ok());
    let s = call(&url, Method::Reset, Some(&token)).await.unwrap_err();
    assert_eq!(s.code(), Code::Internal);
    assert_eq!(challenge(&s), None);
}

#[tokio::test]
async fn service_prefix_and_fallback() {
    let issuer = TestServer::start().await;
    let auth = AuthLayer::new(support::validator(&issuer).await).error_handler(GrpcErrors);
    let map = ScopeMap::new()
        .service("/greeter.Greeter", Requirement::all(["greet"]))
        .fallback(Requirement::authenticated());
    let url = serve(Some(auth), map).await;
    let ok = issuer.mint().scope("greet").sign();
    assert!(call(&url, Method::Reset, Some(&ok)).await.is_ok());
    let no = issuer.mint().scope("other").sign();
    let s = call(&url, Method::Reset, Some(&no)).await.unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn no_auth_layer_fails_closed_as_internal() {
    let issuer = TestServer::start().await;
    let url = serve::<JwtValidator>(None, full_map()).await;
    let token = issuer.mint().scope("greet:read").sign();
    let s = call(&url, Method::Hello, Some(&token)).await.unwrap_err();
    assert_eq!(s.code(), Code::Internal);
    assert_eq!(s.message(), "server misconfiguration");
}

#[tokio::test]
async fn optional_auth_anonymous_is_unauthenticated_at_scope_check() {
    let issuer = TestServer::start().await;
    let auth = AuthLayer::new(support::validator(&issuer).await)
        .realm("grpc")
        .optional()
        .error_handler(GrpcErrors);
    let url = serve(Some(auth), full_map()).await;
    let s = call(&url, Method::Hello, None).await.unwrap_err();
    assert_eq!(s.code(), Code::Unauthenticated);
    assert_eq!(challenge(&s), Some(r#"Bearer realm="grpc""#));
    let token = issuer.mint().scope("greet:read").sign();
    assert!(call(&url, Method::Hello, Some(&token)).await.is_ok());
}

struct Down;

impl Validator for Down {
    fn validate(&self, _token: &str) -> ValidationFuture {
        ValidationFuture::ready(Err(AuthError::Unavailable(UnavailableError::Other(
            "issuer down".into(),
        ))))
    }
}

#[tokio::test]
async fn validation_unavailable_is_unavailable() {
    let auth = AuthLayer::new(Down).error_handler(GrpcErrors);
    let url = serve(Some(auth), full_map()).await;
    let s = call(&url, Method::Hello, Some("abc")).await.unwrap_err();
    assert_eq!(s.code(), Code::Unavailable);
    assert_eq!(s.message(), "the token cannot be validated right now");
    assert_eq!(challenge(&s), None);
    // The internal reason is not sent to the client.
    assert!(!format!("{s:?}").contains("issuer down"));
}

#[test]
fn status_conversion() {
    let s: Status = AuthError::InsufficientScope {
        required: "a".into(),
    }
    .into();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert_eq!(
        challenge(&s),
        Some(
            r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="a""#
        )
    );
    let s = AuthError::Misconfigured("x").to_status(&Challenge::new().realm("r"));
    assert_eq!(s.code(), Code::Internal);
    assert_eq!(challenge(&s), None);
}
