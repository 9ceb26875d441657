//! A protected API (axum) validating access tokens from any OAuth 2.0 / OpenID issuer: a tool
//! to run against your own identity provider.
//!
//! ```text
//! cargo run --example protected_api --features axum -- --issuer https://issuer.example --audience api
//! cargo run --example protected_api --features axum -- --help
//! ```
//!
//! By default tokens are JWTs validated locally. `--introspect` validates every token by
//! RFC 7662 introspection instead (the endpoint is discovered from `--issuer` unless
//! `--introspection-uri` is given; `--client-id` and the client secret authenticate this API to
//! it); `--hybrid` validates JWTs locally and introspects the others. The client secret can come
//! from `--client-secret`, the `BEARER_GUARD_CLIENT_SECRET` environment variable, or
//! `--client-secret-file` (argv is visible to every user in `ps`: prefer the other two).
//!
//! Routes: `GET /health` (no auth), `GET /me` (any valid token: the claims as JSON),
//! `GET /admin` (scope `admin`, else 403 `insufficient_scope`). Prints `listening on ADDR`
//! once ready. Set `RUST_LOG=bearer_guard=debug` to see why a token was refused.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bearer_guard::{
    introspection::ClientAuth, jwt::Algorithm, BuildError, HybridValidator, IntrospectionValidator,
    JwtValidator,
};
use clap::{ArgGroup, Parser, ValueEnum};

#[path = "../shared/api.rs"]
mod api;

/// A protected API (GET /health, /me, /admin) validating access tokens of ISSUER.
#[derive(Parser, Debug)]
#[command(version, about, group(ArgGroup::new("mode").args(["introspect", "hybrid"])))]
struct Args {
    /// The issuer identifier (discovery, and the expected `iss`).
    #[arg(long)]
    issuer: String,
    /// The audience tokens must be for (this API's identifier at the issuer).
    #[arg(long)]
    audience: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// JWKS URL (skips discovery of `jwks_uri`).
    #[arg(long, value_name = "URL")]
    jwks_uri: Option<String>,
    /// Accept JWTs without `typ: at+jwt` (issuers that do not follow RFC 9068).
    #[arg(long)]
    no_typ_check: bool,
    /// Allowed clock skew, in seconds (at most 300).
    #[arg(long, value_name = "SECONDS")]
    leeway: Option<u64>,
    /// Accepted JWT signature algorithms, comma-separated (default: every asymmetric one).
    #[arg(long, value_delimiter = ',', value_parser = parse_alg, value_name = "ALG,...")]
    algorithms: Vec<Algorithm>,
    /// Validate every token by RFC 7662 introspection.
    #[arg(long)]
    introspect: bool,
    /// Validate JWTs locally and introspect other tokens.
    #[arg(long)]
    hybrid: bool,
    /// Introspection endpoint (skips discovery).
    #[arg(long, value_name = "URL")]
    introspection_uri: Option<String>,
    /// This API's client id at the issuer (for introspection).
    #[arg(long)]
    client_id: Option<String>,
    /// This API's client secret (visible in `ps`; prefer the environment variable or a file).
    #[arg(long, env = "BEARER_GUARD_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// A file holding the client secret (trailing newline ignored).
    #[arg(long, value_name = "PATH", conflicts_with = "client_secret")]
    client_secret_file: Option<PathBuf>,
    /// How to send the client credentials to the introspection endpoint.
    #[arg(long, value_enum, default_value_t = AuthMethod::Basic)]
    auth_method: AuthMethod,
    /// Longest time an introspection result is cached, in seconds (0: no cache).
    #[arg(long, value_name = "SECONDS")]
    cache_ttl: Option<u64>,
    /// How long a refused introspection result is cached, in seconds.
    #[arg(long, value_name = "SECONDS")]
    negative_ttl: Option<u64>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AuthMethod {
    /// HTTP Basic (client_secret_basic).
    Basic,
    /// In the form body (client_secret_post).
    Post,
}

fn parse_alg(name: &str) -> Result<Algorithm, String> {
    name.parse::<Algorithm>()
        .map_err(|_| format!("unknown algorithm {name:?}"))
}

async fn jwt(args: &Args) -> Result<JwtValidator, BuildError> {
    let mut builder = JwtValidator::builder(&args.issuer)
        .audience(&args.audience)
        .require_typ(!args.no_typ_check);
    if let Some(uri) = &args.jwks_uri {
        builder = builder.jwks_uri(uri);
    }
    if let Some(secs) = args.leeway {
        builder = builder.leeway(Duration::from_secs(secs));
    }
    if !args.algorithms.is_empty() {
        builder = builder.algorithms(args.algorithms.iter().copied());
    }
    builder.build().await
}

fn client_secret(args: &Args) -> Result<Option<String>, String> {
    match &args.client_secret_file {
        Some(path) => std::fs::read_to_string(path)
            .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_owned()))
            .map_err(|e| format!("--client-secret-file {}: {e}", path.display())),
        None => Ok(args.client_secret.clone()),
    }
}

async fn introspection(args: &Args) -> Result<IntrospectionValidator, String> {
    let (Some(id), Some(secret)) = (&args.client_id, client_secret(args)?) else {
        return Err(
            "--introspect and --hybrid need --client-id and a client secret \
                    (--client-secret, BEARER_GUARD_CLIENT_SECRET or --client-secret-file)"
                .into(),
        );
    };
    let mut builder = IntrospectionValidator::builder(&args.issuer)
        .client(id, secret)
        .audience(&args.audience)
        .auth_method(match args.auth_method {
            AuthMethod::Basic => ClientAuth::Basic,
            AuthMethod::Post => ClientAuth::Post,
        });
    if let Some(uri) = &args.introspection_uri {
        builder = builder.introspection_endpoint(uri);
    }
    if let Some(secs) = args.leeway {
        builder = builder.leeway(Duration::from_secs(secs));
    }
    match args.cache_ttl {
        Some(0) => builder = builder.no_cache(),
        Some(secs) => builder = builder.cache_ttl(Duration::from_secs(secs)),
        None => {}
    }
    if let Some(secs) = args.negative_ttl {
        builder = builder.negative_ttl(Duration::from_secs(secs));
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
    let args = Args::parse();
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
    if args.introspect {
        match introspection(&args).await {
            Ok(v) => serve(listener, v).await,
            Err(e) => fail(e),
        }
    } else if args.hybrid {
        match (jwt(&args).await, introspection(&args).await) {
            (Ok(local), Ok(remote)) => serve(listener, HybridValidator::new(local, remote)).await,
            (Err(e), _) => fail(e.to_string()),
            (_, Err(e)) => fail(e),
        }
    } else {
        match jwt(&args).await {
            Ok(v) => serve(listener, v).await,
            Err(e) => fail(e.to_string()),
        }
    }
}
