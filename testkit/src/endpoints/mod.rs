//! HTTP handlers (axum) for discovery, JWKS, token, authorize, introspection
//! and revocation endpoints, one file per endpoint; this file holds the router, fault
//! injection, request bodies and what the endpoints share (parameters, client
//! authentication, OAuth error answers).
//!
//! | file | what |
//! |---|---|
//! | `metadata.rs` | discovery documents, JWKS |
//! | `token.rs` | `POST /token`: the grants, DPoP binding |
//! | `introspection.rs` | `POST /introspect`, `POST /revoke` |
//! | `authorize.rs` | `GET`/`POST /authorize`: login form, auto-approval, redirects |
//! | `registration.rs` | `POST /register`: dynamic client registration (RFC 7591) |
//! | `resource.rs` | RFC 8707 resource indicators: what a request may name, narrowing |
//! | `oidc.rs` | OpenID Connect: the authorization request's `nonce`, `prompt`, `max_age`, `acr_values`; ID tokens; `GET`/`POST /userinfo` |
//! | `exchange.rs` | RFC 8693 token exchange at the token endpoint |

use std::collections::HashMap;
use std::sync::atomic::Ordering;
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

use crate::config::{Client, Endpoint, Fault};
use crate::state::{
    ct_eq, lock, now, random_token, AuthCode, Claims, Inner, RefreshGrant, DPOP_ALGORITHMS,
};

pub(crate) use resource::resource_syntax_ok;

type Shared = State<Arc<Inner>>;

mod authorize;
mod exchange;
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

pub(crate) fn router(inner: Arc<Inner>, control: super::control::ControlOptions) -> Router {
    let mut router = if control.enabled {
        super::control::router(control.allow_remote)
    } else {
        Router::new()
    };
    if inner.clients.registration.enabled {
        router = router.route("/register", post(register));
    }
    router
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/introspect", post(introspect))
        .route("/revoke", post(revoke))
        .route("/authorize", get(authorize_get).post(authorize_post))
        .route("/userinfo", get(userinfo).post(userinfo))
        .fallback(by_path)
        .with_state(inner)
}

/// A path no route knows: an issuer served under a path of this one, if it names one.
async fn by_path(State(inner): Shared, req: axum::extract::Request) -> Response {
    match &inner.tenants {
        Some(tenants) => tenants.dispatch(req).await,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

// ----- faults ----------------------------------------------------------------

/// Counts the request and applies the endpoint's fault, if any.
async fn gate(inner: &Inner, ep: Endpoint) -> Option<Response> {
    inner.hit(ep);
    let mut rx = inner.fault_tx.subscribe();
    loop {
        match inner.fault(ep) {
            Fault::None => return None,
            Fault::Hang => {
                if inner.shutting_down.load(Ordering::SeqCst) || rx.changed().await.is_err() {
                    return Some(fault_response(Fault::Unavailable));
                }
            }
            Fault::Delay(delay) => {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = rx.changed() => {}
                }
                return None;
            }
            other => return Some(fault_response(other)),
        }
    }
}

fn fault_response(fault: Fault) -> Response {
    let json_ct = [(header::CONTENT_TYPE, "application/json")];
    match fault {
        Fault::None | Fault::Unavailable | Fault::Hang | Fault::Delay(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json_ct,
            r#"{"error":"temporarily_unavailable"}"#,
        )
            .into_response(),
        Fault::Garbage => (StatusCode::OK, json_ct, "<html>\u{0}not json {{{").into_response(),
        Fault::Huge(n) => (StatusCode::OK, json_ct, huge_json(n)).into_response(),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, json_ct, r#"{"error":"server_error"}"#).into_response()
        }
    }
}

/// A valid JSON object of exactly `n` bytes (minimum 2).
fn huge_json(n: usize) -> Vec<u8> {
    const HEAD: &[u8] = br#"{"keys":[],"padding":""#;
    const TAIL: &[u8] = br#""}"#;
    if n >= HEAD.len() + TAIL.len() {
        let mut body = Vec::with_capacity(n);
        body.extend_from_slice(HEAD);
        body.resize(n - TAIL.len(), b'a');
        body.extend_from_slice(TAIL);
        body
    } else {
        let mut body = vec![b' '; n.max(2)];
        if let Some(first) = body.first_mut() {
            *first = b'{';
        }
        if let Some(last) = body.last_mut() {
            *last = b'}';
        }
        body
    }
}

// ----- request bodies ------------------------------------------------------------

/// Largest request body taken (the forms and JSON documents the server reads are small).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// A larger body (up to this size) is still read to its end before the `413` answer, so that
/// the client, still sending, sees the answer instead of a reset connection.
const MAX_DRAIN: usize = 16 * 1024 * 1024;

/// Reads the request body, at most [`MAX_BODY`] bytes. `Err` when it is larger or cannot
/// be read; the answer to such a request must close the connection ([`close`]).
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ()> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_DRAIN as u64) {
        return Err(());
    }
    match axum::body::to_bytes(body, MAX_DRAIN).await {
        Ok(bytes) if bytes.len() <= MAX_BODY => Ok(bytes),
        _ => Err(()),
    }
}

/// Marks `resp` as the last answer on its connection (`Connection: close`); for requests
/// whose body was not read to its end.
pub(crate) fn close(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// `413` with a JSON `invalid_request`, closing the connection.
pub(crate) fn too_large() -> Response {
    close(
        OAuthError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            error: "invalid_request",
            description: "the request body is too large or could not be read",
            basic_challenge: false,
        }
        .into_response(),
    )
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

// ----- helpers -----------------------------------------------------------------

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

/// `text` with every character outside the set RFC 6749 allows in `error_description`
/// (§5.2, §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E) replaced by `?`. Every error description
/// the server sends goes through here, whatever its source.
pub(crate) fn error_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
            _ => '?',
        })
        .collect()
}

/// A JSON error body `{"error", "error_description"}`.
pub(crate) fn error_body(error: &str, description: &str) -> Value {
    json!({ "error": error, "error_description": error_description(description) })
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

fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
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
