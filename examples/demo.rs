//! The whole story in one command: the bundled authorization server, a protected API, and a
//! client making real HTTP requests that show 200, 401 and 403.
//!
//! ```text
//! cargo run --example demo --all-features
//! ```

use std::process::ExitCode;

use bearer_guard::{HybridValidator, IntrospectionValidator, JwtValidator};
use bearer_guard_testkit::{Client, TestServer};
use serde_json::Value;

#[path = "shared/api.rs"]
mod api;

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    // 1. An authorization server with two clients: one may ask for `admin`, one may not.
    let issuer = TestServer::builder()
        .client(Client::new("reader", "reader-secret").scopes(["read"]))
        .client(Client::new("operator", "operator-secret").scopes(["read", "admin"]))
        .client(
            Client::new("legacy", "legacy-secret")
                .scopes(["read"])
                .opaque_tokens(true),
        )
        .start()
        .await?;
    println!("authorization server  {}", issuer.issuer());

    // 2. The protected API, finding the issuer's keys and introspection endpoint by discovery:
    //    JWTs are validated locally, opaque tokens by introspection (as client "api").
    let jwt = JwtValidator::builder(issuer.issuer())
        .audience(issuer.audience())
        .build()
        .await?;
    let introspection = IntrospectionValidator::builder(issuer.issuer())
        .client("api", "api-secret")
        .audience(issuer.audience())
        .build()
        .await?;
    let validator = HybridValidator::new(jwt, introspection);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, api::app(validator)).await });
    println!("protected API         {api_url}\n");

    // 3. Clients get tokens with the client_credentials grant and call the API.
    let http = reqwest::Client::new();
    let token = |id: &'static str, secret: &'static str, scope: &'static str| {
        let (http, endpoint) = (http.clone(), issuer.token_endpoint());
        async move {
            let res: Value = http
                .post(endpoint)
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials"), ("scope", scope)])
                .send()
                .await?
                .json()
                .await?;
            res["access_token"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("no access token: {res}").into())
        }
    };
    let reader = token("reader", "reader-secret", "read")
        .await
        .map_err(|e: Box<dyn std::error::Error>| e)?;
    let operator = token("operator", "operator-secret", "read admin")
        .await
        .map_err(|e: Box<dyn std::error::Error>| e)?;
    let legacy = token("legacy", "legacy-secret", "read")
        .await
        .map_err(|e: Box<dyn std::error::Error>| e)?;

    let mut ok = true;
    let mut show = |what: &str, expected: u16, res: reqwest::Response| {
        let status = res.status().as_u16();
        let challenge = res
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .map(|c| format!("\n      WWW-Authenticate: {c}"))
            .unwrap_or_default();
        let mark = if status == expected { "ok " } else { "BAD" };
        ok &= status == expected;
        println!("[{mark}] {what:<44} -> {status}{challenge}");
    };
    let get = |path: &str| http.get(format!("{api_url}{path}"));
    show("GET /health (no token)", 200, get("/health").send().await?);
    show("GET /me without a token", 401, get("/me").send().await?);
    show(
        "GET /me with a forged token",
        401,
        get("/me")
            .bearer_auth("eyJhbGciOiJub25lIn0.e30.AAAA")
            .send()
            .await?,
    );
    show(
        "GET /me as reader",
        200,
        get("/me").bearer_auth(&reader).send().await?,
    );
    show(
        "GET /admin as reader (scope read)",
        403,
        get("/admin").bearer_auth(&reader).send().await?,
    );
    show(
        "GET /admin as operator (scope admin)",
        200,
        get("/admin").bearer_auth(&operator).send().await?,
    );
    show(
        "GET /me with an opaque token (introspected)",
        200,
        get("/me").bearer_auth(&legacy).send().await?,
    );
    let revoked = issuer.mint().scope("read").opaque();
    issuer.revoke(&revoked);
    show(
        "GET /me with a revoked opaque token",
        401,
        get("/me").bearer_auth(&revoked).send().await?,
    );
    let expired = issuer.mint().expired().sign();
    show(
        "GET /me with an expired token",
        401,
        get("/me").bearer_auth(&expired).send().await?,
    );

    let me: Value = get("/me").bearer_auth(&reader).send().await?.json().await?;
    println!("\nclaims seen by the handler: {me}");
    if ok {
        println!("\nall answers as expected");
        Ok(())
    } else {
        Err("some answers were not as expected".into())
    }
}
