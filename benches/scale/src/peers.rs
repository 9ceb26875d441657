//! The guards, each around the same trivial axum 0.8 router, configured alike: RS256 only,
//! `iss` checked, audience `api` checked, `exp` required, `nbf` checked, leeway 60 s, keys from
//! the JWKS URL of this run's loopback server.

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::future::Either;
use serde::Deserialize;
use serde_json::Value;
use tower::{Layer, Service};

use crate::backend::Jwt11;
use crate::tokens::{AUDIENCE, ISSUER};

/// A guard (or `plain`, the router without one: the harness' own cost).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Guard {
    /// No authentication.
    Plain,
    /// bearer-guard `AuthLayer` + `JwtValidator`, defaults (verified-token cache on).
    Bg,
    /// bearer-guard with `.no_cache()`.
    BgNoCache,
    /// jwt-authorizer 0.15.
    Jwta,
    /// tower-oauth2-resource-server 0.12, default features (RustCrypto).
    Toauth2,
    /// tower-oauth2-resource-server 0.12 on jsonwebtoken's aws-lc-rs backend.
    Toauth2AwsLc,
    /// axum-jwt-auth 0.7.
    Ajwt,
    /// `jsonwebtoken::decode` with one prebuilt key (aws-lc-rs).
    Floor,
}

impl Guard {
    /// Every guard, in table order.
    pub const ALL: [Guard; 8] = [
        Guard::Plain,
        Guard::Bg,
        Guard::BgNoCache,
        Guard::Jwta,
        Guard::Toauth2,
        Guard::Toauth2AwsLc,
        Guard::Ajwt,
        Guard::Floor,
    ];

    /// Its name on the command line and in the tables.
    pub fn name(self) -> &'static str {
        match self {
            Guard::Plain => "plain",
            Guard::Bg => "bg",
            Guard::BgNoCache => "bg-nocache",
            Guard::Jwta => "jwta",
            Guard::Toauth2 => "toauth2",
            Guard::Toauth2AwsLc => "toauth2-awslc",
            Guard::Ajwt => "ajwt",
            Guard::Floor => "floor",
        }
    }

    /// Parses [`name`](Self::name).
    pub fn parse(s: &str) -> Option<Guard> {
        Guard::ALL.into_iter().find(|g| g.name() == s)
    }

    /// The signature backend it verifies RS256 with.
    pub fn backend(self) -> &'static str {
        match self {
            Guard::Plain => "-",
            Guard::Bg | Guard::BgNoCache | Guard::Floor => "aws-lc-rs (jsonwebtoken 11)",
            Guard::Jwta => "ring (jsonwebtoken 9)",
            Guard::Toauth2 => "RustCrypto `rsa` (jsonwebtoken 11), its default",
            Guard::Toauth2AwsLc => "aws-lc-rs (jsonwebtoken 11), feature `jwt-aws-lc-rs`",
            Guard::Ajwt => "RustCrypto `rsa` (jsonwebtoken 10), hard-wired",
        }
    }

    /// The jsonwebtoken 11 default provider it must run with (see `backend.rs`).
    pub fn jwt11(self) -> Jwt11 {
        match self {
            Guard::Toauth2 => Jwt11::RustCrypto,
            Guard::Toauth2AwsLc | Guard::Floor => Jwt11::AwsLc,
            _ => Jwt11::Unused,
        }
    }
}

/// A built guard: the router to call, and what must live as long as it.
pub struct Built {
    /// The guarded router, a `tower::Service<Request<Body>>`.
    pub svc: Router,
    /// Stops background tasks (axum-jwt-auth's JWKS refresh) when dropped.
    _keep: Option<Box<dyn std::any::Any + Send>>,
}

/// The claims the `floor` and axum-jwt-auth deserialize (the testkit's token contents).
#[derive(Clone, Debug, Deserialize)]
#[allow(dead_code)]
pub struct Claims {
    iss: String,
    sub: String,
    exp: u64,
    nbf: Option<u64>,
    iat: Option<u64>,
    jti: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
}

async fn hello() -> &'static str {
    "hello"
}

fn base() -> Router {
    Router::new().route("/", get(hello))
}

/// Builds `guard` against the JWKS at `jwks_url`; `jwk` is the pool's public key (for the floor).
pub async fn build(guard: Guard, jwks_url: &str, jwk: &Value) -> Result<Built, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", guard.name());
    let mut keep: Option<Box<dyn std::any::Any + Send>> = None;
    let svc = match guard {
        Guard::Plain => base(),
        Guard::Bg | Guard::BgNoCache => {
            let mut b = bearer_guard::JwtValidator::builder(ISSUER)
                .audience(AUDIENCE)
                .algorithms([bearer_guard::jwt::Algorithm::RS256])
                .jwks_uri(jwks_url);
            if guard == Guard::BgNoCache {
                b = b.no_cache();
            }
            let v = b.build().await.map_err(|e| err(&e))?;
            base().layer(bearer_guard::AuthLayer::new(v))
        }
        Guard::Jwta => {
            use jwt_authorizer::{IntoLayer, JwtAuthorizer, RegisteredClaims, Validation};
            // As benches/load: keys from the JWKS URL (default refresh strategy), iss and aud
            // checked, exp required, nbf checked, leeway 60 s, RS256 only.
            let authorizer = JwtAuthorizer::<RegisteredClaims>::from_jwks_url(jwks_url)
                .validation(
                    Validation::new()
                        .iss(&[ISSUER])
                        .aud(&[AUDIENCE])
                        .nbf(true)
                        .leeway(60)
                        .algs(vec![jsonwebtoken9::Algorithm::RS256]),
                )
                .build()
                .await
                .map_err(|e| err(&e))?;
            base().layer(
                tower::ServiceBuilder::new()
                    .layer(authorizer.into_layer())
                    .layer(tower::util::MapResponseLayer::new(Adapted)),
            )
        }
        Guard::Toauth2 | Guard::Toauth2AwsLc => {
            use tower_oauth2_resource_server::claims::DefaultClaims;
            use tower_oauth2_resource_server::server::OAuth2ResourceServer;
            use tower_oauth2_resource_server::tenant::TenantConfiguration;
            use tower_oauth2_resource_server::validation::ClaimsValidationSpec;
            // `recommended`: exp, nbf, iss and aud all required and checked; jsonwebtoken's
            // default leeway (60 s). The JWKS is fetched by a background task (every 60 s).
            let tenant = TenantConfiguration::builder(ISSUER)
                .jwks_url(jwks_url)
                .audiences(&[AUDIENCE])
                .claims_validation(ClaimsValidationSpec::recommended(
                    ISSUER,
                    &vec![AUDIENCE.to_string()],
                ))
                .allowed_algorithms(&[jsonwebtoken::Algorithm::RS256])
                .build()
                .await
                .map_err(|e| err(&e))?;
            let server = OAuth2ResourceServer::<DefaultClaims>::builder()
                .add_tenant(tenant)
                .build()
                .await
                .map_err(|e| err(&e))?;
            base().layer(server.into_layer::<Body>())
        }
        Guard::Ajwt => {
            use axum_jwt_auth::{Decoder, RemoteJwksDecoder};
            let mut v = jsonwebtoken10::Validation::new(jsonwebtoken10::Algorithm::RS256);
            v.set_issuer(&[ISSUER]);
            v.set_audience(&[AUDIENCE]);
            v.validate_nbf = true;
            v.leeway = 60;
            v.set_required_spec_claims(&["exp", "iss", "aud"]);
            let decoder = RemoteJwksDecoder::builder()
                .jwks_url(jwks_url.to_string())
                .validation(v)
                .build()
                .map_err(|e| err(&e))?;
            let cancel = decoder.initialize().await.map_err(|e| err(&e))?;
            keep = Some(Box::new(cancel.drop_guard()));
            let decoder: Decoder<Claims> = Arc::new(decoder);
            Router::new()
                .route("/", get(hello_ajwt))
                .with_state(decoder)
        }
        Guard::Floor => {
            let jwk: jsonwebtoken::jwk::Jwk =
                serde_json::from_value(jwk.clone()).map_err(|e| err(&e))?;
            let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).map_err(|e| err(&e))?;
            let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
            v.set_issuer(&[ISSUER]);
            v.set_audience(&[AUDIENCE]);
            v.validate_nbf = true;
            v.leeway = 60;
            v.set_required_spec_claims(&["exp", "iss", "aud"]);
            base().layer(FloorLayer {
                key: Arc::new(key),
                validation: Arc::new(v),
            })
        }
    };
    Ok(Built { svc, _keep: keep })
}

async fn hello_ajwt(_claims: axum_jwt_auth::Claims<Claims>) -> &'static str {
    "hello"
}

/// axum 0.8 response seen through jwt-authorizer's `From<AuthError>` requirement (its service
/// needs `Response: From<AuthError>`, which it implements for axum 0.7's response only).
pub struct Adapted(pub Response);

impl IntoResponse for Adapted {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<jwt_authorizer::AuthError> for Adapted {
    fn from(e: jwt_authorizer::AuthError) -> Self {
        let r07 = axum07::response::IntoResponse::into_response(e);
        let mut r = Response::new(Body::empty());
        *r.status_mut() = r07.status();
        *r.headers_mut() = r07.headers().clone();
        Adapted(r)
    }
}

/// The floor: `jsonwebtoken::decode` of the bearer token with one prebuilt `DecodingKey`, plus
/// the `typ: at+jwt` check bearer-guard makes; claims go into the request extensions.
#[derive(Clone)]
struct FloorLayer {
    key: Arc<jsonwebtoken::DecodingKey>,
    validation: Arc<jsonwebtoken::Validation>,
}

impl<S> Layer<S> for FloorLayer {
    type Service = Floor<S>;

    fn layer(&self, inner: S) -> Floor<S> {
        Floor {
            inner,
            key: self.key.clone(),
            validation: self.validation.clone(),
        }
    }
}

#[derive(Clone)]
struct Floor<S> {
    inner: S,
    key: Arc<jsonwebtoken::DecodingKey>,
    validation: Arc<jsonwebtoken::Validation>,
}

impl<S> Floor<S> {
    fn check(&self, req: &Request<Body>) -> Option<Claims> {
        let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = value.strip_prefix("Bearer ")?;
        let data = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).ok()?;
        (data.header.typ.as_deref() == Some("at+jwt")).then_some(data.claims)
    }
}

impl<S> Service<Request<Body>> for Floor<S>
where
    S: Service<Request<Body>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, Ready<Result<Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<Body>) -> Self::Future {
        match self.check(&req) {
            Some(claims) => {
                req.extensions_mut().insert(claims);
                Either::Left(self.inner.call(req))
            }
            None => {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::UNAUTHORIZED;
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer"),
                );
                Either::Right(ready(Ok(r)))
            }
        }
    }
}
