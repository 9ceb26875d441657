//! A gRPC service protected with bearer-guard: `AuthLayer` and per-method `RequireScopeLayer`
//! answering with gRPC statuses (`GrpcErrors`), against the bundled authorization server.
//! Starts the issuer and the gRPC server on loopback, then calls it with a tonic client and
//! prints each outcome: OK, UNAUTHENTICATED, PERMISSION_DENIED.
//!
//! ```text
//! cargo run --example tonic_grpc --features tonic
//! ```
//!
//! `proto/greeter.rs` is generated from `proto/greeter.proto` and checked in, so no `protoc`
//! is needed.

use std::process::ExitCode;

use bearer_guard::tonic::GrpcErrors;
use bearer_guard::{
    scope::ScopeMap, AuthLayer, Claims, JwtValidator, RequireScopeLayer, Requirement,
};
use bearer_guard_testkit::TestServer;
use tonic::transport::server::TcpIncoming;
use tonic::transport::Server;
use tonic::{Request, Response, Status};

#[path = "proto/greeter.rs"]
mod greeter;

use greeter::greeter_client::GreeterClient;
use greeter::greeter_server::{Greeter, GreeterServer};
use greeter::{HelloReply, HelloRequest};

struct Hello;

#[tonic::async_trait]
impl Greeter for Hello {
    async fn say_hello(&self, req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        // The verified claims are in the request extensions.
        let who = req
            .extensions()
            .get::<Claims>()
            .and_then(Claims::subject)
            .unwrap_or("?")
            .to_owned();
        Ok(Response::new(HelloReply {
            message: format!("hello {}, says {who}", req.get_ref().name),
        }))
    }

    async fn reset(&self, _req: Request<HelloRequest>) -> Result<Response<HelloReply>, Status> {
        Ok(Response::new(HelloReply {
            message: "counters reset".into(),
        }))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tonic_grpc failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let issuer = TestServer::start().await;
    let validator = JwtValidator::builder(issuer.issuer())
        .audience("api")
        .build()
        .await?;

    // One requirement per gRPC method; unlisted methods are refused (INTERNAL).
    let scopes = ScopeMap::new()
        .route(
            "/greeter.Greeter/SayHello",
            Requirement::all(["greet:read"]),
        )
        .route("/greeter.Greeter/Reset", Requirement::all(["greet:admin"]));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = Server::builder()
        // Outermost first: authenticate, then check the method's scopes.
        .layer(
            AuthLayer::new(validator)
                .realm("greeter")
                .error_handler(GrpcErrors),
        )
        .layer(RequireScopeLayer::map(scopes).error_handler(GrpcErrors))
        .add_service(GreeterServer::new(Hello));
    tokio::spawn(server.serve_with_incoming(TcpIncoming::from(listener)));
    println!("issuer {}   grpc {url}\n", issuer.issuer());

    let reader = issuer.mint().sub("alice").scope("greet:read").sign();
    let mut client = GreeterClient::connect(url).await?;

    let cases: [(&str, &str, Option<&str>); 4] = [
        ("SayHello", "reader", Some(&reader)),
        ("SayHello", "no token", None),
        ("SayHello", "bad token", Some("not-a-token")),
        ("Reset", "reader", Some(&reader)),
    ];
    for (method, who, token) in cases {
        let mut req = Request::new(HelloRequest {
            name: "world".into(),
        });
        if let Some(t) = token {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse()?);
        }
        let result = match method {
            "SayHello" => client.say_hello(req).await,
            _ => client.reset(req).await,
        };
        match result {
            Ok(res) => println!("{method:8} as {who:9} -> OK: {}", res.into_inner().message),
            Err(status) => {
                let challenge = status
                    .metadata()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                println!(
                    "{method:8} as {who:9} -> {:?}: {}\n    www-authenticate: {challenge}",
                    status.code(),
                    status.message()
                );
            }
        }
    }
    Ok(())
}
