//! Shared pieces of the load benchmark: the one trivial handler and the ways it is served.

use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use bearer_guard::{AuthLayer, JwtValidator};
use jsonwebtoken9::Algorithm as Alg9;
use jwt_authorizer::{IntoLayer, JwtAuthorizer, RegisteredClaims, Validation};

/// The audience every variant requires (the bundled server's default).
pub const AUDIENCE: &str = "api";

/// How the handler is served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// No authentication at all.
    Plain,
    /// bearer-guard `AuthLayer` + `JwtValidator` with its defaults (verified-token cache on).
    BearerGuard,
    /// bearer-guard with `.no_cache()`: every request verifies the RS256 signature.
    BearerGuardNoCache,
    /// jwt-authorizer 0.15 layer (verifies every request; it has no verified-token cache).
    JwtAuthorizer,
}

impl Mode {
    /// Parses the `--mode` value.
    pub fn parse(s: &str) -> Option<Mode> {
        Some(match s {
            "plain" => Mode::Plain,
            "bg" => Mode::BearerGuard,
            "bg-nocache" => Mode::BearerGuardNoCache,
            "jwta" => Mode::JwtAuthorizer,
            _ => return None,
        })
    }
}

/// The handler: the same for every variant.
pub async fn hello() -> &'static str {
    "hello"
}

fn base() -> Router {
    Router::new().route("/", get(hello))
}

/// The bearer-guard validator used by the benchmark: RS256 only, audience `api`, issuer and
/// JWKS URL of the bundled server; everything else default (leeway 60 s, `typ` must be at+jwt).
pub async fn bearer_guard_validator(issuer: &str, cache: bool) -> Result<JwtValidator, String> {
    let mut b = JwtValidator::builder(issuer)
        .audience(AUDIENCE)
        .algorithms([bearer_guard::jwt::Algorithm::RS256])
        .jwks_uri(format!("{issuer}/jwks"));
    if !cache {
        b = b.no_cache();
    }
    b.build().await.map_err(|e| e.to_string())
}

/// Builds the router for `mode`, validating tokens of `issuer` (JWKS at `{issuer}/jwks`).
pub async fn app(mode: Mode, issuer: &str) -> Result<Router, String> {
    Ok(match mode {
        Mode::Plain => base(),
        Mode::BearerGuard | Mode::BearerGuardNoCache => {
            let validator = bearer_guard_validator(issuer, mode == Mode::BearerGuard).await?;
            base().layer(AuthLayer::new(validator))
        }
        Mode::JwtAuthorizer => {
            // Equivalent settings: RS256 keys from the JWKS URL, iss and aud checked, exp required,
            // nbf checked, leeway 60 s (its default, as bearer-guard's). Default refresh strategy
            // (refetch on an unknown kid, but at most once per 600 s: see the storm in BENCHMARKS.md).
            let authorizer =
                JwtAuthorizer::<RegisteredClaims>::from_jwks_url(&format!("{issuer}/jwks"))
                    .validation(
                        Validation::new()
                            .iss(&[issuer])
                            .aud(&[AUDIENCE])
                            .nbf(true)
                            .leeway(60)
                            .algs(vec![Alg9::RS256]),
                    )
                    .build()
                    .await
                    .map_err(|e| e.to_string())?;
            // jwt-authorizer's service needs `Response: From<AuthError>`, which it implements for
            // axum 0.7's response only; wrap axum 0.8's response in a local newtype.
            base().layer(
                tower::ServiceBuilder::new()
                    .layer(authorizer.into_layer())
                    .layer(tower::util::MapResponseLayer::new(Adapted)),
            )
        }
    })
}

/// axum 0.8 response seen through jwt-authorizer's `From<AuthError>` requirement.
pub struct Adapted(pub Response);

impl IntoResponse for Adapted {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<jwt_authorizer::AuthError> for Adapted {
    fn from(e: jwt_authorizer::AuthError) -> Self {
        // Keep jwt-authorizer's own status and headers (WWW-Authenticate); bodies are empty there.
        let r07 = axum07::response::IntoResponse::into_response(e);
        let mut r = Response::new(axum::body::Body::empty());
        *r.status_mut() = r07.status();
        *r.headers_mut() = r07.headers().clone();
        Adapted(r)
    }
}

/// `--name value` from the command line.
pub fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}
