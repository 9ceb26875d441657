//! Per-route scopes and the `Authenticated<T>` extractor with axum, against the bundled authorization
//! server, in one process: starts the issuer and the API on loopback, then calls the API with
//! several tokens and prints what each request gets.
//!
//! ```text
//! cargo run --example axum_scopes --features axum
//! ```

use std::process::ExitCode;

use axum::routing::{delete, get, post};
use axum::Router;
use bearer_guard::axum::Authenticated;
use bearer_guard::{AuthLayer, JwtValidator, RequireScopeLayer, Requirement};
use bearer_guard_testkit::TestServer;
use serde::Deserialize;
use serde_json::json;

/// Your own view of the claims: deserialized from the verified token.
#[derive(Debug, Deserialize)]
struct Caller {
    sub: String,
    tenant: String,
}

async fn list(Authenticated(claims): Authenticated) -> String {
    format!("items for {}", claims.subject().unwrap_or("?"))
}

async fn create(Authenticated(caller): Authenticated<Caller>) -> String {
    format!("item created by {} in tenant {}", caller.sub, caller.tenant)
}

async fn purge() -> &'static str {
    "all items purged"
}

async fn welcome(caller: Option<Authenticated>) -> String {
    match caller {
        Some(Authenticated(c)) => format!("welcome back, {}", c.subject().unwrap_or("?")),
        None => "welcome, stranger".into(),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("axum_scopes failed: {e}");
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

    let protected = Router::new()
        .route(
            "/items",
            get(list).route_layer(RequireScopeLayer::any(["items:read", "items:admin"])),
        )
        .route(
            "/items",
            post(create).route_layer(RequireScopeLayer::all(["items:read", "items:write"])),
        )
        .route(
            "/items/all",
            // Keycloak's realm roles: a claim beside the scopes, read through a JSON Pointer.
            delete(purge).route_layer(RequireScopeLayer::new(Requirement::claim_all(
                "/realm_access/roles",
                ["admin"],
            ))),
        )
        .layer(AuthLayer::new(validator.clone()).realm("items"));
    let public = Router::new()
        .route("/welcome", get(welcome))
        .layer(AuthLayer::new(validator).realm("items").optional());
    let app = protected.merge(public);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    println!("issuer {}   api {base}\n", issuer.issuer());

    let reader = issuer.mint().sub("alice").scope("items:read").sign();
    let writer = issuer
        .mint()
        .sub("bob")
        .scope("items:read items:write")
        .claim("tenant", json!("acme"))
        .sign();
    let writer_no_tenant = issuer
        .mint()
        .sub("carol")
        .scope("items:read items:write")
        .sign();
    let scp_admin = issuer
        .mint()
        .sub("dora")
        .remove("scope")
        .claim("scp", json!(["items:admin"]))
        .claim("realm_access", json!({"roles": ["admin"]}))
        .sign();

    let http = reqwest::Client::new();
    let cases: [(&str, &str, &str, Option<&str>); 9] = [
        ("GET", "/items", "no token", None),
        ("GET", "/items", "reader", Some(&reader)),
        ("GET", "/items", "scp admin", Some(&scp_admin)),
        ("POST", "/items", "reader", Some(&reader)),
        ("POST", "/items", "writer", Some(&writer)),
        (
            "POST",
            "/items",
            "writer without tenant",
            Some(&writer_no_tenant),
        ),
        ("DELETE", "/items/all", "writer", Some(&writer)),
        ("DELETE", "/items/all", "admin role", Some(&scp_admin)),
        ("GET", "/welcome", "no token", None),
    ];
    for (method, path, who, token) in cases {
        let mut req = http.request(method.parse()?, format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await?;
        let status = res.status();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("\n    www-authenticate: {v}"))
            .unwrap_or_default();
        let body = res.text().await?;
        println!("{method:6} {path:11} as {who:22} -> {status} {body}{challenge}");
    }
    Ok(())
}
