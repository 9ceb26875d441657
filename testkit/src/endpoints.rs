//! HTTP handlers (axum) for discovery, JWKS, token, authorize, introspection
//! and revocation endpoints.

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

use super::config::{Client, Endpoint, Fault};
use super::state::{
    ct_eq, lock, now, random_token, AuthCode, Inner, RefreshGrant, DPOP_ALGORITHMS,
};

type Shared = State<Arc<Inner>>;

pub(crate) fn router(inner: Arc<Inner>, control_api: bool) -> Router {
    let router = if control_api {
        super::control::router()
    } else {
        Router::new()
    };
    router
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/introspect", post(introspect))
        .route("/revoke", post(revoke))
        .route("/authorize", get(authorize_get).post(authorize_post))
        .with_state(inner)
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

/// Form / query parameters; duplicates are rejected (RFC 6749 §3.1).
struct Params(HashMap<String, String>);

impl Params {
    fn parse(input: &[u8]) -> Result<Self, OAuthError> {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(input) {
            if map.insert(k.to_string(), v.into_owned()).is_some() {
                return Err(OAuthError::invalid_request(
                    "a parameter is given more than once",
                ));
            }
        }
        Ok(Params(map))
    }

    /// A non-empty parameter.
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// An RFC 6749 §5.2 error response. Its description is a fixed text (`&'static str`): client
/// input is never echoed into it.
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

/// Authenticates the client with `client_secret_basic` or
/// `client_secret_post`. `post_failure` is the status for a failed
/// `client_secret_post` attempt.
fn authenticate<'a>(
    inner: &'a Inner,
    headers: &HeaderMap,
    params: &Params,
    post_failure: StatusCode,
) -> Result<&'a Client, OAuthError> {
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
                .check_client(&id, &secret)
                .ok_or_else(|| OAuthError::invalid_client(StatusCode::UNAUTHORIZED, true))
        }
        Some(Err(())) => Err(OAuthError::invalid_client(StatusCode::UNAUTHORIZED, true)),
        None => match (post_id, post_secret) {
            (Some(id), Some(secret)) => inner
                .check_client(id, secret)
                .ok_or_else(|| OAuthError::invalid_client(post_failure, false)),
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

// ----- discovery and JWKS ------------------------------------------------------

async fn discovery(State(inner): Shared) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Discovery).await {
        return r;
    }
    let iss = &inner.issuer;
    let dpop_algs: Vec<&str> = DPOP_ALGORITHMS.iter().map(|(_, name)| *name).collect();
    let auth_methods = ["client_secret_basic", "client_secret_post"];
    axum::Json(json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/jwks"),
        "token_endpoint": format!("{iss}/token"),
        "introspection_endpoint": format!("{iss}/introspect"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "authorization_endpoint": format!("{iss}/authorize"),
        "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": inner.scopes_supported(),
        "dpop_signing_alg_values_supported": dpop_algs,
        "authorization_response_iss_parameter_supported": true,
    }))
    .into_response()
}

async fn jwks(State(inner): Shared) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Jwks).await {
        return r;
    }
    let mut resp = axum::Json(inner.jwks()).into_response();
    let max_age = *lock(&inner.jwks_max_age);
    if let Some(age) = max_age {
        if let Ok(v) = HeaderValue::from_str(&format!("max-age={age}")) {
            resp.headers_mut().insert(header::CACHE_CONTROL, v);
        }
    }
    resp
}

// ----- token endpoint ----------------------------------------------------------

async fn token(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Token).await {
        return r;
    }
    let body = match form_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match token_inner(&inner, &headers, &body) {
        Ok(v) => (StatusCode::OK, no_store(), axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn token_inner(inner: &Inner, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let params = Params::parse(body)?;
    let client = authenticate(inner, headers, &params, StatusCode::BAD_REQUEST)?;
    let jkt = dpop_key(inner, headers)?;
    let jkt = jkt.as_deref();
    match params.get("grant_type") {
        None => Err(OAuthError::invalid_request("missing grant_type")),
        Some("client_credentials") => {
            let scope = resolve_scope(params.get("scope"), &client.scopes)?;
            let (token, _) = inner
                .issue_access_token(client, &client.id, &scope, jkt)
                .map_err(|_| server_error())?;
            Ok(token_json(inner, &token, &scope, None, jkt))
        }
        Some("authorization_code") => authorization_code_grant(inner, client, &params, jkt),
        Some("refresh_token") => refresh_grant(inner, client, &params, jkt),
        Some(_) => Err(OAuthError::new(
            "unsupported_grant_type",
            "grant_type is not supported",
        )),
    }
}

/// The thumbprint of the key of the request's DPoP proof, if it carries one (RFC 9449 §5):
/// the proof must be signed by its `jwk`, for `POST` to this token endpoint, fresh and unused.
fn dpop_key(inner: &Inner, headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
    if !headers.contains_key(bearer_guard::dpop::DPOP_HEADER) {
        return Ok(None);
    }
    let bad = |e: bearer_guard::AuthError| match e {
        bearer_guard::AuthError::Dpop(e) => OAuthError::new("invalid_dpop_proof", e.description()),
        // The replay cache is full.
        other => OAuthError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            error: "temporarily_unavailable",
            description: other.description(),
            basic_challenge: false,
        },
    };
    let endpoint =
        url::Url::parse(&format!("{}/token", inner.issuer)).map_err(|_| server_error())?;
    inner
        .dpop
        .verify_proof(headers, &axum::http::Method::POST, &endpoint)
        .map(|proof| Some(proof.jkt().to_owned()))
        .map_err(bad)
}

fn token_json(
    inner: &Inner,
    token: &str,
    scope: &str,
    refresh: Option<&str>,
    jkt: Option<&str>,
) -> Value {
    let mut v = json!({
        "access_token": token,
        "token_type": if jkt.is_some() { "DPoP" } else { "Bearer" },
        "expires_in": inner.token_lifetime.as_secs(),
    });
    if let Value::Object(map) = &mut v {
        // An empty scope is no scope value (RFC 6749 §3.3): leave the member out.
        if !scope.is_empty() {
            map.insert("scope".into(), Value::String(scope.into()));
        }
        if let Some(r) = refresh {
            map.insert("refresh_token".into(), Value::String(r.into()));
        }
    }
    v
}

fn authorization_code_grant(
    inner: &Inner,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    let code_str = params
        .get("code")
        .ok_or_else(|| OAuthError::invalid_request("missing code"))?;
    let code = {
        let mut g = lock(&inner.grants);
        match g.codes.remove(code_str) {
            Some(code) => code,
            None => {
                // Replay of a redeemed code: revoke what it produced (RFC 6749 §4.1.2),
                // including refresh tokens rotated from it since.
                if let Some(family) = g.used_codes.remove(code_str) {
                    g.revoke_family(family);
                    return Err(OAuthError::invalid_grant(
                        "authorization code was already used",
                    ));
                }
                return Err(OAuthError::invalid_grant("unknown authorization code"));
            }
        }
    };
    if code.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "code was issued to another client",
        ));
    }
    if code.expires_at <= now() {
        return Err(OAuthError::invalid_grant("authorization code expired"));
    }
    if let Some(expected) = &code.redirect_uri {
        if params.get("redirect_uri") != Some(expected.as_str()) {
            return Err(OAuthError::invalid_grant("redirect_uri mismatch"));
        }
    }
    let verifier = params
        .get("code_verifier")
        .ok_or_else(|| OAuthError::invalid_grant("missing code_verifier"))?;
    if !valid_pkce_string(verifier) || !ct_eq(&pkce_s256(verifier), &code.code_challenge) {
        return Err(OAuthError::invalid_grant("PKCE verification failed"));
    }
    let (token, jti) = inner
        .issue_access_token(client, &code.sub, &code.scope, jkt)
        .map_err(|_| server_error())?;
    let refresh = random_token(32);
    {
        let mut g = lock(&inner.grants);
        let family = g.new_family(&client.id, jti);
        g.set_current(
            family,
            &refresh,
            RefreshGrant {
                client_id: client.id.clone(),
                sub: code.sub.clone(),
                scope: code.scope.clone(),
                family,
            },
        );
        g.used_codes.insert(code_str.to_owned(), family);
    }
    Ok(token_json(inner, &token, &code.scope, Some(&refresh), jkt))
}

fn refresh_grant(
    inner: &Inner,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    let old = params
        .get("refresh_token")
        .ok_or_else(|| OAuthError::invalid_request("missing refresh_token"))?;
    let grant = {
        let mut g = lock(&inner.grants);
        let Some(grant) = g.refresh.get(old) else {
            // A rotated-out refresh token presented again: either the client or an attacker
            // holds a stolen copy, so the whole family is revoked (RFC 9700 §4.14.2).
            if let Some(family) = g.used_refresh.get(old).copied() {
                if g.families
                    .get(&family)
                    .is_some_and(|f| f.client_id == client.id)
                {
                    g.revoke_family(family);
                    return Err(OAuthError::invalid_grant(
                        "refresh token was already used; its grant is revoked",
                    ));
                }
            }
            return Err(OAuthError::invalid_grant("unknown refresh token"));
        };
        if grant.client_id != client.id {
            return Err(OAuthError::invalid_grant(
                "refresh token was issued to another client",
            ));
        }
        // Validate the scope before consuming the token.
        resolve_scope(params.get("scope"), &split_scope(&grant.scope))?;
        match g.refresh.remove(old) {
            Some(grant) => {
                g.used_refresh.insert(old.to_owned(), grant.family);
                if let Some(f) = g.families.get_mut(&grant.family) {
                    f.current = None;
                }
                grant
            }
            None => return Err(OAuthError::invalid_grant("unknown refresh token")),
        }
    };
    let scope = resolve_scope(params.get("scope"), &split_scope(&grant.scope))?;
    let (token, jti) = inner
        .issue_access_token(client, &grant.sub, &scope, jkt)
        .map_err(|_| server_error())?;
    let refresh = random_token(32);
    {
        let mut g = lock(&inner.grants);
        let family = grant.family;
        match g.families.get_mut(&family) {
            Some(f) if !f.revoked => f.jtis.push(jti),
            // Revoked by a replay while this token was being signed.
            _ => {
                g.revoked_jtis.insert(jti);
                return Err(OAuthError::invalid_grant(
                    "refresh token was already used; its grant is revoked",
                ));
            }
        }
        g.set_current(
            family,
            &refresh,
            RefreshGrant {
                client_id: grant.client_id,
                sub: grant.sub,
                // The grant keeps its original scope; narrowing applies per token.
                scope: grant.scope,
                family,
            },
        );
    }
    Ok(token_json(inner, &token, &scope, Some(&refresh), jkt))
}

// ----- introspection and revocation -----------------------------------------------

async fn introspect(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Introspection).await {
        return r;
    }
    let body = match form_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match introspect_inner(&inner, &headers, &body) {
        Ok(v) => (StatusCode::OK, no_store(), axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn introspect_inner(inner: &Inner, headers: &HeaderMap, body: &[u8]) -> Result<Value, OAuthError> {
    let params = Params::parse(body)?;
    let client = authenticate(inner, headers, &params, StatusCode::UNAUTHORIZED)?;
    if !client.introspection {
        return Err(OAuthError {
            status: StatusCode::FORBIDDEN,
            error: "unauthorized_client",
            description: "client may not introspect tokens",
            basic_challenge: false,
        });
    }
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("missing token"))?;
    let Some(mut claims) = inner.active_claims(token) else {
        return Ok(json!({ "active": false }));
    };
    let sub = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
    let cid = claims.get("client_id").and_then(Value::as_str);
    if let Some(sub) = sub {
        if cid != Some(sub.as_str()) {
            claims.insert("username".into(), Value::String(sub));
        }
    }
    claims.insert("active".into(), Value::Bool(true));
    let bound = claims.get("cnf").and_then(|c| c.get("jkt")).is_some();
    let token_type = if bound { "DPoP" } else { "Bearer" };
    claims.insert("token_type".into(), Value::String(token_type.into()));
    Ok(Value::Object(claims))
}

async fn revoke(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Revocation).await {
        return r;
    }
    let body = match form_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let result = Params::parse(&body).and_then(|params| {
        let client = authenticate(&inner, &headers, &params, StatusCode::UNAUTHORIZED)?;
        let token = params
            .get("token")
            .ok_or_else(|| OAuthError::invalid_request("missing token"))?;
        inner.revoke(token, Some(&client.id));
        Ok(())
    });
    match result {
        Ok(()) => (StatusCode::OK, no_store()).into_response(),
        Err(e) => e.into_response(),
    }
}

// ----- authorization endpoint ----------------------------------------------------

struct AuthzRequest {
    client_id: String,
    redirect_uri: String,
    redirect_given: bool,
    scope: String,
    state: Option<String>,
    code_challenge: String,
}

enum AuthzError {
    /// Shown to the user; never redirected (unknown client or redirect URI).
    Page(StatusCode, String),
    /// Sent back to the client's redirect URI.
    Redirect {
        redirect_uri: String,
        error: &'static str,
        description: &'static str,
        state: Option<String>,
    },
}

fn validate_authz(inner: &Inner, params: &Params) -> Result<AuthzRequest, AuthzError> {
    let bad = |msg: &str| AuthzError::Page(StatusCode::BAD_REQUEST, msg.to_owned());
    let client_id = params
        .get("client_id")
        .ok_or_else(|| bad("missing client_id"))?;
    let client = inner
        .clients
        .get(client_id)
        .ok_or_else(|| bad("unknown client_id"))?;
    let (redirect_uri, redirect_given) = match params.get("redirect_uri") {
        Some(r) if redirect_allowed(&client.redirect_uris, r) => (r.to_owned(), true),
        Some(_) => return Err(bad("redirect_uri is not registered for this client")),
        None => match client.redirect_uris.as_slice() {
            [only] => (only.clone(), false),
            _ => return Err(bad("missing redirect_uri")),
        },
    };
    if url::Url::parse(&redirect_uri).is_err() {
        return Err(bad("registered redirect_uri is not a valid URL"));
    }
    let state = params.get("state").map(str::to_owned);
    let redirect = |error: &'static str, description: &'static str| AuthzError::Redirect {
        redirect_uri: redirect_uri.clone(),
        error,
        description,
        state: state.clone(),
    };
    if params.get("response_type") != Some("code") {
        return Err(redirect(
            "unsupported_response_type",
            "only response_type=code is supported",
        ));
    }
    if params.get("code_challenge_method") != Some("S256") {
        return Err(redirect(
            "invalid_request",
            "PKCE with code_challenge_method=S256 is required",
        ));
    }
    let code_challenge = match params.get("code_challenge") {
        Some(c) if valid_pkce_string(c) => c.to_owned(),
        _ => {
            return Err(redirect(
                "invalid_request",
                "missing or malformed code_challenge",
            ))
        }
    };
    let scope = resolve_scope(params.get("scope"), &client.scopes)
        .map_err(|e| redirect("invalid_scope", e.description))?;
    Ok(AuthzRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_given,
        scope,
        state,
        code_challenge,
    })
}

/// Whether `requested` is one of the `registered` redirect URIs: the same string, or, for a
/// loopback IP literal over `http` (`127.0.0.1` or `[::1]`, not `localhost`), the same string
/// with any port (RFC 8252 §7.3).
fn redirect_allowed(registered: &[String], requested: &str) -> bool {
    let loose = without_loopback_port(requested);
    registered
        .iter()
        .any(|r| r == requested || (loose.is_some() && without_loopback_port(r) == loose))
}

/// `uri` without its port, if it is an `http` URI on a loopback IP literal; else `None`.
fn without_loopback_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("http://")?;
    let host = ["127.0.0.1", "[::1]"]
        .into_iter()
        .find(|h| rest.starts_with(h))?;
    let mut after = rest.get(host.len()..)?;
    if let Some(port) = after.strip_prefix(':') {
        let digits = port.bytes().take_while(u8::is_ascii_digit).count();
        let valid = port
            .get(..digits)
            .and_then(|d| d.parse::<u16>().ok())
            .is_some();
        if !valid {
            return None;
        }
        after = port.get(digits..)?;
    }
    if !(after.is_empty() || after.starts_with('/') || after.starts_with('?')) {
        return None;
    }
    Some(format!("http://{host}{after}"))
}

fn redirect_to(uri: &str, pairs: &[(&str, &str)]) -> Response {
    match url::Url::parse(uri) {
        Ok(mut url) => {
            {
                let mut q = url.query_pairs_mut();
                for (k, v) in pairs {
                    q.append_pair(k, v);
                }
            }
            match HeaderValue::from_str(url.as_str()) {
                Ok(loc) => (StatusCode::FOUND, [(header::LOCATION, loc)]).into_response(),
                Err(_) => error_page(StatusCode::BAD_REQUEST, "invalid redirect_uri"),
            }
        }
        Err(_) => error_page(StatusCode::BAD_REQUEST, "invalid redirect_uri"),
    }
}

fn authz_error_response(inner: &Inner, err: AuthzError) -> Response {
    match err {
        AuthzError::Page(status, msg) => error_page(status, &msg),
        AuthzError::Redirect {
            redirect_uri,
            error,
            description,
            state,
        } => {
            let description = error_description(description);
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = &state {
                pairs.push(("state", s.as_str()));
            }
            pairs.push(("iss", inner.issuer.as_str()));
            redirect_to(&redirect_uri, &pairs)
        }
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn error_page(status: StatusCode, msg: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><title>Authorization error</title></head>\
         <body><h1>Authorization error</h1><p>{}</p></body></html>",
        html_escape(msg)
    );
    (status, no_store(), Html(body)).into_response()
}

fn login_page(status: StatusCode, req: &AuthzRequest, message: Option<&str>) -> Response {
    let mut hidden = vec![
        ("response_type", "code"),
        ("client_id", req.client_id.as_str()),
        ("scope", req.scope.as_str()),
        ("code_challenge", req.code_challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if req.redirect_given {
        hidden.push(("redirect_uri", req.redirect_uri.as_str()));
    }
    if let Some(s) = &req.state {
        hidden.push(("state", s.as_str()));
    }
    let fields: String = hidden
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                html_escape(k),
                html_escape(v)
            )
        })
        .collect();
    let message = message
        .map(|m| format!("<p class=\"error\">{}</p>", html_escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<!doctype html>\n<html><head><title>Sign in</title></head><body>\n\
         <h1>Sign in</h1>\n<p>Client <b>{client}</b> requests scope <b>{scope}</b>.</p>\n{message}\n\
         <form method=\"post\" action=\"/authorize\">\n{fields}\
         <label>Username <input name=\"username\" autocomplete=\"username\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\"></label>\n\
         <button type=\"submit\">Approve</button>\n</form>\n\
         <p><small>bearer-guard test authorization server: for testing only.</small></p>\n\
         </body></html>\n",
        client = html_escape(&req.client_id),
        scope = html_escape(&req.scope),
    );
    (status, no_store(), Html(body)).into_response()
}

async fn authorize_get(State(inner): Shared, RawQuery(query): RawQuery) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Authorize).await {
        return r;
    }
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e.description),
    };
    match validate_authz(&inner, &params) {
        // Approved at once, as the configured user, for tests that follow the redirect.
        Ok(req) => match &inner.auto_approve {
            Some(user) => approve(&inner, &req, user),
            None => login_page(StatusCode::OK, &req, None),
        },
        Err(e) => authz_error_response(&inner, e),
    }
}

async fn authorize_post(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Authorize).await {
        return r;
    }
    let Ok(body) = read_body(&headers, body).await else {
        return close(error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        ));
    };
    let params = match Params::parse(&body) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e.description),
    };
    let req = match validate_authz(&inner, &params) {
        Ok(req) => req,
        Err(e) => return authz_error_response(&inner, e),
    };
    let username = params.get("username").unwrap_or_default();
    let password = params.get("password").unwrap_or_default();
    if !inner.check_user(username, password) {
        return login_page(
            StatusCode::UNAUTHORIZED,
            &req,
            Some("Invalid username or password."),
        );
    }
    approve(&inner, &req, username)
}

/// Issues an authorization code for `req` as `username` and redirects to the client.
fn approve(inner: &Inner, req: &AuthzRequest, username: &str) -> Response {
    let code = random_token(32);
    lock(&inner.grants).codes.insert(
        code.clone(),
        AuthCode {
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect_given.then(|| req.redirect_uri.clone()),
            code_challenge: req.code_challenge.clone(),
            sub: username.to_owned(),
            scope: req.scope.clone(),
            expires_at: now().saturating_add(inner.code_lifetime.as_secs()),
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("iss", inner.issuer.as_str()));
    redirect_to(&req.redirect_uri, &pairs)
}
