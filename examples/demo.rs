//! The whole story in one command: the bundled authorization server, a protected API, and a
//! client making real HTTP requests that show 200, 401 and 403.
//!
//! All four OAuth roles appear: the resource owner (user `carol`, who approves the client
//! `webapp` in an authorization-code + PKCE flow; the server auto-approves as her, so the demo
//! needs no browser), the clients (`webapp`, and `reader` etc. with client credentials), the
//! authorization server (bearer-guard-testkit) and the resource server (the API behind
//! bearer-guard).
//!
//! ```text
//! cargo run --example demo --all-features
//! ```

use std::process::ExitCode;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard::{HybridValidator, IntrospectionValidator, JwtValidator};
use bearer_guard_testkit::{Client, TestServer, User};
use serde_json::Value;
use sha2::{Digest, Sha256};

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
    // 1. An authorization server with two clients: one may ask for `admin`, one may not; and
    //    a web app acting for the user carol, who approves it (auto-approved: no browser).
    let issuer = TestServer::builder()
        .client(
            Client::new("webapp", "webapp-secret")
                .scopes(["read"])
                .redirect_uri("http://127.0.0.1/callback"),
        )
        .user(User::new("carol", "carol-password"))
        .auto_approve("carol")
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

    // 4. The authorization-code flow with PKCE: the resource owner carol approves the client
    //    webapp, which then calls the API on her behalf.
    let on_behalf_of_carol = authorization_code_flow(&http, &issuer).await?;
    show(
        "GET /me as webapp, for carol (auth code + PKCE)",
        200,
        get("/me").bearer_auth(&on_behalf_of_carol).send().await?,
    );

    let me: Value = get("/me").bearer_auth(&reader).send().await?.json().await?;
    println!("\nclaims seen by the handler: {me}");

    let carol: Value = get("/me")
        .bearer_auth(&on_behalf_of_carol)
        .send()
        .await?
        .json()
        .await?;
    println!("\nthe four OAuth roles:");
    println!("  resource owner        carol, who approved the client webapp");
    println!("  clients               webapp (for carol), reader (for itself)");
    println!("  authorization server  {}", issuer.issuer());
    println!("  resource server       {api_url} (bearer-guard)");
    println!("what the resource server sees:");
    println!(
        "  client credentials    sub={} client_id={}: the client acts for itself",
        me["sub"], me["client_id"]
    );
    println!(
        "  authorization code    sub={} client_id={}: the client acts for its resource owner",
        carol["sub"], carol["client_id"]
    );
    ok &= carol["sub"] == "carol" && carol["client_id"] == "webapp";
    ok &= me["sub"] == "reader" && me["client_id"] == "reader";
    if ok {
        println!("\nall answers as expected");
        Ok(())
    } else {
        Err("some answers were not as expected".into())
    }
}

/// The client `webapp` sends the user to the authorization endpoint with a PKCE challenge; the
/// server approves as carol (auto-approve) and redirects back with a code, which the client
/// exchanges, with the verifier, for an access token.
async fn authorization_code_flow(
    http: &reqwest::Client,
    issuer: &TestServer,
) -> Result<String, Box<dyn std::error::Error>> {
    let mut random = [0u8; 32];
    getrandom::fill(&mut random).map_err(|e| format!("no randomness: {e}"))?;
    let verifier = URL_SAFE_NO_PAD.encode(random);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    // A real client listens on a loopback port of its choosing (RFC 8252 §7.3).
    let redirect_uri = "http://127.0.0.1:8765/callback";
    let authorize = url::Url::parse_with_params(
        &issuer.authorization_endpoint(),
        [
            ("response_type", "code"),
            ("client_id", "webapp"),
            ("redirect_uri", redirect_uri),
            ("scope", "read"),
            ("state", "demo-state"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )?;
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let answer = no_redirects.get(authorize).send().await?;
    let location = answer
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or("the authorization endpoint did not redirect")?;
    let location = url::Url::parse(location)?;
    let param = |name: &str| {
        location
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if param("state").as_deref() != Some("demo-state") {
        return Err("the state did not come back".into());
    }
    let code = param("code").ok_or("no code in the redirect")?;
    println!("\ncarol approved webapp: redirected to {redirect_uri}?code=…");
    let res: Value = http
        .post(issuer.token_endpoint())
        .basic_auth("webapp", Some("webapp-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await?
        .json()
        .await?;
    res["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no access token: {res}").into())
}
