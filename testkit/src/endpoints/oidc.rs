//! OpenID Connect: what an authorization request asks of the sign-in (`nonce`, `prompt`,
//! `max_age`, `acr_values`, Core §3.1.2.1), the `openid` scope, ID tokens in token answers, and
//! the userinfo endpoint (Core §5.3).

use super::*;
use crate::state::{AuthInfo, SignIn};

/// The scope value that makes an authorization request an OpenID Connect one.
pub(super) const OPENID: &str = "openid";

/// The longest `nonce` taken.
const MAX_NONCE: usize = 512;

/// Whether a space-separated `scope` contains `openid`.
pub(super) fn has_openid(scope: &str) -> bool {
    scope.split_whitespace().any(|s| s == OPENID)
}

/// The scope an authorization request is granted: `openid` may be requested by every client,
/// besides its own scopes; without `scope`, the client's scopes (without `openid`).
pub(super) fn authz_scope(requested: Option<&str>, client: &Client) -> Result<String, OAuthError> {
    let mut allowed = client.scopes.clone();
    if requested.is_some_and(has_openid) && !allowed.iter().any(|s| s == OPENID) {
        allowed.push(OPENID.to_owned());
    }
    resolve_scope(requested, &allowed)
}

/// The OpenID Connect parameters of an authorization request: its `nonce` and what it asks
/// of the sign-in. The error is an `invalid_request` description.
pub(super) fn sign_in_params(params: &Params) -> Result<(Option<String>, SignIn), &'static str> {
    let nonce = match params.get("nonce") {
        Some(n) if n.len() > MAX_NONCE => return Err("nonce is too long"),
        n => n.map(str::to_owned),
    };
    let max_age = match params.get("max_age") {
        None => None,
        Some(v) => Some(
            v.parse::<u64>()
                .map_err(|_| "max_age must be a non-negative integer")?,
        ),
    };
    let acr_values = params
        .get("acr_values")
        .map(split_scope)
        .unwrap_or_default();
    let mut sign_in = SignIn {
        max_age,
        acr_values,
        login: false,
        none: false,
    };
    let prompt = params.get("prompt").map(split_scope).unwrap_or_default();
    for value in &prompt {
        match value.as_str() {
            "login" => sign_in.login = true,
            "none" => sign_in.none = true,
            // The login form is also the consent and account choice.
            "consent" | "select_account" => {}
            _ => return Err("unsupported prompt value"),
        }
    }
    if sign_in.none && prompt.len() > 1 {
        return Err("prompt=none may not be combined with other values");
    }
    Ok((nonce, sign_in))
}

/// The ID token of a token answer when the grant's `scope` has `openid` (Core §3.1.3.3), for
/// `client_id` about `sub`, signed in as `auth`; `nonce` only for the first one.
pub(super) fn id_token_member(
    inner: &Inner,
    answer: &mut Value,
    scope: &str,
    (client_id, sub): (&str, &str),
    auth: &AuthInfo,
    nonce: Option<&str>,
) -> Result<(), OAuthError> {
    if !has_openid(scope) {
        return Ok(());
    }
    let Some(access_token) = answer.get("access_token").and_then(Value::as_str) else {
        return Err(server_error());
    };
    let id_token = inner
        .issue_id_token(client_id, sub, auth, nonce, access_token)
        .map_err(|_| server_error())?;
    if let Value::Object(map) = answer {
        map.insert("id_token".into(), Value::String(id_token));
    }
    Ok(())
}

// ----- userinfo -------------------------------------------------------------------

/// `401`/`403` with a `WWW-Authenticate: Bearer` challenge (RFC 6750 §3).
fn bearer_error(status: StatusCode, error: &'static str, description: &'static str) -> Response {
    let challenge = if error.is_empty() {
        r#"Bearer realm="userinfo""#.to_owned()
    } else {
        format!(r#"Bearer realm="userinfo", error="{error}", error_description="{description}""#)
    };
    let mut resp = (status, no_store()).into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    resp
}

/// The access token of an `Authorization: Bearer` header.
fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' '))
        .then_some(token)
}

/// `GET`/`POST /userinfo` (Core §5.3): with an active access token of this issuer carrying
/// the `openid` scope in an `Authorization: Bearer` header, the user's claims and `sub`.
/// Tokens bound to a key (`cnf`) are refused: their proof would be needed.
pub(super) async fn userinfo(State(inner): Shared, headers: HeaderMap) -> Response {
    let Some(token) = bearer_token(&headers) else {
        return bearer_error(StatusCode::UNAUTHORIZED, "", "");
    };
    let invalid = || {
        bearer_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is not active",
        )
    };
    let Some(claims) = inner.active_claims(token) else {
        return invalid();
    };
    if claims.contains_key("cnf") {
        return invalid();
    }
    let Some(sub) = claims.get("sub").and_then(Value::as_str) else {
        return invalid();
    };
    let scope = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    if !has_openid(scope) {
        return bearer_error(
            StatusCode::FORBIDDEN,
            "insufficient_scope",
            "the access token lacks the openid scope",
        );
    }
    let mut info = inner
        .clients
        .user(sub)
        .map(|u| u.claims.clone())
        .unwrap_or_default();
    info.insert("sub".into(), Value::String(sub.to_owned()));
    (StatusCode::OK, no_store(), axum::Json(Value::Object(info))).into_response()
}
