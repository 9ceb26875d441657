//! A protected API (axum) validating JWT access tokens from any OAuth 2.0 / OpenID issuer.
//!
//! ```text
//! cargo run --example protected_api --features axum -- \
//!     --issuer https://issuer.example [--audience api] [--jwks-uri URL] [--no-typ-check] [--bind 127.0.0.1:8080]
//!     [--introspect | --hybrid] [--introspection-uri URL] [--client-id ID] [--client-secret SECRET]
//! ```
//!
//! By default tokens are JWTs validated locally. `--introspect` validates every token by
//! RFC 7662 introspection instead (the endpoint is discovered from `--issuer` unless
//! `--introspection-uri` is given; `--client-id`/`--client-secret` authenticate this API to it);
//! `--hybrid` validates JWTs locally and introspects the others.
//!
//! Routes: `GET /health` (no auth), `GET /me` (any valid token: the claims as JSON),
//! `GET /admin` (scope `admin`, else 403 `insufficient_scope`). Prints `listening on ADDR`
//! once ready.

use std::net::SocketAddr;
use std::process::ExitCode;

use bearer_guard::{BuildError, HybridValidator, IntrospectionValidator, JwtValidator};

#[path = "shared/api.rs"]
mod api;

struct Args {
    bind: SocketAddr,
    issuer: String,
    audience: String,
    jwks_uri: Option<String>,
    no_typ_check: bool,
    mode: Mode,
    introspection_uri: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

enum Mode {
    Jwt,
    Introspect,
    Hybrid,
}

const USAGE: &str = "usage: protected_api --issuer URL [--audience AUD] [--jwks-uri URL] [--no-typ-check] [--bind ADDR]
                     [--introspect | --hybrid] [--introspection-uri URL] [--client-id ID] [--client-secret SECRET]";

fn parse_args() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let mut bind = "127.0.0.1:8080".to_owned();
    let (mut issuer, mut audience, mut jwks_uri, mut no_typ_check) =
        (None, "api".to_owned(), None, false);
    let (mut mode, mut introspection_uri, mut client_id, mut client_secret) =
        (Mode::Jwt, None, None, None);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--bind" => bind = value("--bind")?,
            "--issuer" => issuer = Some(value("--issuer")?),
            "--audience" => audience = value("--audience")?,
            "--jwks-uri" => jwks_uri = Some(value("--jwks-uri")?),
            "--no-typ-check" => no_typ_check = true,
            "--introspect" => mode = Mode::Introspect,
            "--hybrid" => mode = Mode::Hybrid,
            "--introspection-uri" => introspection_uri = Some(value("--introspection-uri")?),
            "--client-id" => client_id = Some(value("--client-id")?),
            "--client-secret" => client_secret = Some(value("--client-secret")?),
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
        mode,
        introspection_uri,
        client_id,
        client_secret,
    })
}

async fn jwt(args: &Args) -> Result<JwtValidator, BuildError> {
    let mut builder = JwtValidator::builder(&args.issuer)
        .audience(&args.audience)
        .require_typ(!args.no_typ_check);
    if let Some(uri) = &args.jwks_uri {
        builder = builder.jwks_uri(uri);
    }
    builder.build().await
}

async fn introspection(args: &Args) -> Result<IntrospectionValidator, String> {
    let (Some(id), Some(secret)) = (&args.client_id, &args.client_secret) else {
        return Err("--introspect and --hybrid need --client-id and --client-secret".into());
    };
    let mut builder = IntrospectionValidator::builder(&args.issuer)
        .client(id, secret)
        .audience(&args.audience);
    if let Some(uri) = &args.introspection_uri {
        builder = builder.introspection_endpoint(uri);
    }
    builder.build().await.map_err(|e| e.to_string())
}

async fn serve<V: bearer_guard::Validator>(
    listener: tokio::net::TcpListener,
    validator: V,
) -> ExitCode {
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
    let listener = match tokio::net::TcpListener::bind(args.bind).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("cannot bind {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    let fail = |e: String| {
        eprintln!("cannot set up token validation: {e}");
        ExitCode::FAILURE
    };
    match args.mode {
        Mode::Jwt => match jwt(&args).await {
            Ok(v) => serve(listener, v).await,
            Err(e) => fail(e.to_string()),
        },
        Mode::Introspect => match introspection(&args).await {
            Ok(v) => serve(listener, v).await,
            Err(e) => fail(e),
        },
        Mode::Hybrid => match (jwt(&args).await, introspection(&args).await) {
            (Ok(local), Ok(remote)) => serve(listener, HybridValidator::new(local, remote)).await,
            (Err(e), _) => fail(e.to_string()),
            (_, Err(e)) => fail(e),
        },
    }
}
