//! HTTP handlers (axum) for discovery, JWKS, token, authorize, introspection
//! and revocation endpoints, one file per endpoint; this file holds their routes and what the
//! endpoints share (form bodies, parameters, client authentication, OAuth error answers).
//!
//! | file | what |
//! |---|---|
//! | `fault.rs` | the fault layer on each endpoint's route: counters, [`Fault`](crate::Fault)s |
//! | `metadata.rs` | discovery documents, JWKS |
//! | `token.rs` | `POST /token`: the grants, DPoP binding |
//! | `introspection.rs` | `POST /introspect`, `POST /revoke` |
//! | `authorize.rs` | `GET`/`POST /authorize`: login form, auto-approval, redirects |
//! | `registration.rs` | `POST /register`: dynamic client registration (RFC 7591) |
//! | `resource.rs` | RFC 8707 resource indicators: what a request may name, narrowing |
//! | `oidc.rs` | OpenID Connect: the authorization request's `nonce`, `prompt`, `max_age`, `acr_values`; ID tokens; `GET`/`POST /userinfo` |
//! | `exchange.rs` | RFC 8693 token exchange at the token endpoint |

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::body::{close, error_body, error_description, no_store, read_body, too_large};
use crate::config::{Client, Endpoint};
use crate::state::{AuthCode, Claims, Inner, RefreshGrant, DPOP_ALGORITHMS};
use crate::util::{ct_eq, lock, now, random_token};

pub(crate) use resource::resource_syntax_ok;

type Shared = State<Arc<Inner>>;

mod authorize;
mod exchange;
mod fault;
mod introspection;
mod metadata;
mod oidc;
mod registration;
mod resource;
mod token;

use authorize::{authorize_get, authorize_post};
use introspection::{introspect, revoke};
use metadata::{discovery, jwks};
use oidc::userinfo;
use registration::register;
use token::token;

/// The endpoints' routes, each of an [`Endpoint`] behind the fault layer ([`fault::check`]).
pub(crate) fn routes(inner: &Arc<Inner>) -> Router<Arc<Inner>> {
    let faults = |endpoint| {
        axum::middleware::from_fn_with_state(
            fault::Gate::new(inner.clone(), endpoint),
            fault::check,
        )
    };
    let discovery_route = || get(discovery).route_layer(faults(Endpoint::Discovery));
    let mut router = Router::new();
    if inner.clients.registration.enabled {
        router = router.route(
            "/register",
            post(register).route_layer(faults(Endpoint::Registration)),
        );
    }
    router
        .route("/.well-known/openid-configuration", discovery_route())
        .route("/.well-known/oauth-authorization-server", discovery_route())
        .route("/jwks", get(jwks).route_layer(faults(Endpoint::Jwks)))
        .route("/token", post(token).route_layer(faults(Endpoint::Token)))
        .route(
            "/introspect",
            post(introspect).route_layer(faults(Endpoint::Introspection)),
        )
        .route(
            "/revoke",
            post(revoke).route_layer(faults(Endpoint::Revocation)),
        )
        .route(
            "/authorize",
            get(authorize_get)
                .post(authorize_post)
                .route_layer(faults(Endpoint::Authorize)),
        )
        .route("/userinfo", get(userinfo).post(userinfo))
}

/// Whether the request's `Content-Type` is `application/x-www-form-urlencoded` (any case,
/// with or without parameters such as `charset`).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The body of a form POST to a JSON endpoint (token, introspection, revocation), or the
/// JSON error to answer.
async fn form_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let bytes = read_body(headers, body).await.map_err(|()| too_large())?;
    if !is_form(headers) {
        return Err(OAuthError::invalid_request(
            "the request body must be application/x-www-form-urlencoded",
        )
        .into_response());
    }
    Ok(bytes)
}

/// Form / query parameters; duplicates are rejected (RFC 6749 §3.1), but for `resource`,
/// which may be given several times (RFC 8707 §2), and `audience` (RFC 8693 §2.1).
struct Params {
    map: HashMap<String, String>,
    /// Every `resource` parameter, in order (empty values included: they are invalid).
    resources: Vec<String>,
    /// Every `audience` parameter, in order.
    audiences: Vec<String>,
}

impl Params {
    fn parse(input: &[u8]) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        let mut resources = Vec::new();
        let mut audiences = Vec::new();
        for (k, v) in url::form_urlencoded::parse(input) {
            if k == "resource" {
                resources.push(v.into_owned());
            } else if k == "audience" {
                audiences.push(v.into_owned());
            } else if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(
                    "a parameter is given more than once",
                ));
            }
        }
        Ok(Params {
            map,
            resources,
            audiences,
        })
    }

    /// A non-empty parameter.
    fn get(&self, name: &str) -> Option<&str> {
        self.map
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// An RFC 6749 §5.2 error response. Its description is a fixed text (`&'static str`): client
/// input is never echoed into it.
#[derive(Clone)]
pub(crate) struct OAuthError {
    pub(crate) status: StatusCode,
    pub(crate) error: &'static str,
    pub(crate) description: &'static str,
    pub(crate) basic_challenge: bool,
}

impl OAuthError {
    pub(crate) fn new(error: &'static str, description: &'static str) -> Self {
        OAuthError {
            status: StatusCode::BAD_REQUEST,
            error,
            description,
            basic_challenge: false,
        }
    }

    pub(crate) fn invalid_request(description: &'static str) -> Self {
        Self::new("invalid_request", description)
    }

    fn unauthorized_client(description: &'static str) -> Self {
        Self::new("unauthorized_client", description)
    }

    fn invalid_grant(description: &'static str) -> Self {
        Self::new("invalid_grant", description)
    }

    fn invalid_client(status: StatusCode, basic_challenge: bool) -> Self {
        OAuthError {
            status,
            error: "invalid_client",
            description: "client authentication failed",
            basic_challenge,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = error_body(self.error, self.description);
        let mut resp = (self.status, no_store(), axum::Json(body)).into_response();
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Basic realm="bearer-guard test server""#),
            );
        }
        resp
    }
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// `Some(Ok((id, secret)))` for a well-formed Basic header, `Some(Err(()))`
/// for a malformed one, `None` when there is no Basic header.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let parsed = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(id, secret)| (form_decode(id), form_decode(secret)))
        });
    Some(parsed.ok_or(()))
}

/// Authenticates the client with `client_secret_basic` or `client_secret_post`, or, for a
/// public client, takes its `client_id` alone (RFC 6749 §2.1). `post_failure` is the status
/// for a failed `client_secret_post` attempt.
fn authenticate(
    inner: &Inner,
    headers: &HeaderMap,
    params: &Params,
    post_failure: StatusCode,
) -> Result<Arc<Client>, OAuthError> {
    let post_id = params.get("client_id");
    let post_secret = params.get("client_secret");
    match basic_credentials(headers) {
        Some(_) if post_secret.is_some() => Err(OAuthError::invalid_request(
            "more than one client authentication method used",
        )),
        Some(Ok((id, secret))) => {
            if post_id.is_some_and(|p| p != id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the authenticated client",
                ));
            }
            inner
                .clients
                .check_client(&id, &secret)
                .ok_or_else(|| OAuthError::invalid_client(StatusCode::UNAUTHORIZED, true))
        }
        Some(Err(())) => Err(OAuthError::invalid_client(StatusCode::UNAUTHORIZED, true)),
        None => match (post_id, post_secret) {
            (Some(id), Some(secret)) => inner
                .clients
                .check_client(id, secret)
                .ok_or_else(|| OAuthError::invalid_client(post_failure, false)),
            (Some(id), None) => inner
                .clients
                .public_client(id)
                .ok_or_else(|| OAuthError::invalid_client(StatusCode::UNAUTHORIZED, true)),
            _ => Err(OAuthError::invalid_client(StatusCode::UNAUTHORIZED, true)),
        },
    }
}

/// Resolves a requested scope against the allowed ones (RFC 6749 §3.3).
fn resolve_scope(requested: Option<&str>, allowed: &[String]) -> Result<String, OAuthError> {
    let Some(requested) = requested.filter(|s| !s.trim().is_empty()) else {
        return Ok(allowed.join(" "));
    };
    let mut out: Vec<&str> = Vec::new();
    for s in requested.split_whitespace() {
        if !allowed.iter().any(|a| a == s) {
            return Err(OAuthError::new(
                "invalid_scope",
                "a requested scope is not allowed for this client",
            ));
        }
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out.join(" "))
}

fn split_scope(scope: &str) -> Vec<String> {
    scope.split_whitespace().map(str::to_owned).collect()
}

fn pkce_s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn valid_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

fn server_error() -> OAuthError {
    OAuthError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "server_error",
        description: "token signing failed",
        basic_challenge: false,
    }
}
