//! A protected API (axum) validating JWT access tokens from any OAuth 2.0 / OpenID issuer.
//!
//! ```text
//! cargo run --example protected_api --features axum -- \
//!     --issuer https://issuer.example [--audience api] [--jwks-uri URL] [--no-typ-check] [--bind 127.0.0.1:8080]
//! ```
//!
//! Routes: `GET /health` (no auth), `GET /me` (any valid token: the claims as JSON),
//! `GET /admin` (scope `admin`, else 403 `insufficient_scope`). Prints `listening on ADDR`
//! once ready.

use std::net::SocketAddr;
use std::process::ExitCode;

use bearer_guard::JwtValidator;

#[path = "shared/api.rs"]
mod api;

struct Args {
    bind: SocketAddr,
    issuer: String,
    audience: String,
    jwks_uri: Option<String>,
    no_typ_check: bool,
}

const USAGE: &str = "usage: protected_api --issuer URL [--audience AUD] [--jwks-uri URL] [--no-typ-check] [--bind ADDR]";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut bind = "127.0.0.1:8080".to_owned();
    let (mut issuer, mut audience, mut jwks_uri, mut no_typ_check) =
        (None, "api".to_owned(), None, false);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => bind = value("--bind")?,
            "--issuer" => issuer = Some(value("--issuer")?),
            "--audience" => audience = value("--audience")?,
            "--jwks-uri" => jwks_uri = Some(value("--jwks-uri")?),
            "--no-typ-check" => no_typ_check = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(Args {
        bind: bind.parse().map_err(|e| format!("--bind {bind:?}: {e}"))?,
        issuer: issuer.ok_or(format!("--issuer is required\n{USAGE}"))?,
        audience,
        jwks_uri,
        no_typ_check,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut builder = JwtValidator::builder(&args.issuer)
        .audience(&args.audience)
        .require_typ(!args.no_typ_check);
    if let Some(uri) = &args.jwks_uri {
        builder = builder.jwks_uri(uri);
    }
    let validator = match builder.build().await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cannot set up token validation: {e}");
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot bind {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("listening on {addr}");
    if let Err(e) = axum::serve(listener, api::app(validator)).await {
        eprintln!("server error: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
