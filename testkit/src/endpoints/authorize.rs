//! The authorization endpoint: the login form, auto-approval, redirects (loopback ports per RFC 8252 §7.3).

use super::*;
use crate::state::{AuthInfo, SignIn};

pub(super) struct AuthzRequest {
    client_id: String,
    redirect_uri: String,
    redirect_given: bool,
    scope: String,
    /// The `resource`s named (RFC 8707), each served by this server.
    resources: Vec<String>,
    state: Option<String>,
    code_challenge: String,
    /// OpenID Connect `nonce`, for the ID token.
    nonce: Option<String>,
    /// What the request asks of the sign-in (`prompt`, `max_age`, `acr_values`).
    sign_in: SignIn,
    /// `nonce`, `max_age` and `acr_values` as given, for the login form.
    oidc_fields: Vec<(&'static str, String)>,
}

pub(super) enum AuthzError {
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

pub(super) fn validate_authz(inner: &Inner, params: &Params) -> Result<AuthzRequest, AuthzError> {
    let bad = |msg: &str| AuthzError::Page(StatusCode::BAD_REQUEST, msg.to_owned());
    let client_id = params
        .get("client_id")
        .ok_or_else(|| bad("missing client_id"))?;
    let client = inner
        .clients
        .get(client_id)
        .ok_or_else(|| bad("unknown client_id"))?;
    if !client.allows_grant("authorization_code") {
        return Err(bad("this client may not use the authorization code grant"));
    }
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
    let scope = oidc::authz_scope(params.get("scope"), &client)
        .map_err(|e| redirect("invalid_scope", e.description))?;
    let (nonce, sign_in) =
        oidc::sign_in_params(params).map_err(|d| redirect("invalid_request", d))?;
    let oidc_fields = ["nonce", "max_age", "acr_values"]
        .into_iter()
        .filter_map(|name| params.get(name).map(|v| (name, v.to_owned())))
        .collect();
    let resources =
        resource::requested(inner, params).map_err(|e| redirect(e.error, e.description))?;
    Ok(AuthzRequest {
        client_id: client.id.clone(),
        redirect_uri,
        redirect_given,
        scope,
        resources,
        state,
        code_challenge,
        nonce,
        sign_in,
        oidc_fields,
    })
}

/// Whether `requested` is one of the `registered` redirect URIs: the same string, or, for a
/// loopback IP literal over `http` (`127.0.0.1` or `[::1]`, not `localhost`), the same string
/// with any port (RFC 8252 §7.3).
pub(super) fn redirect_allowed(registered: &[String], requested: &str) -> bool {
    let loose = without_loopback_port(requested);
    registered
        .iter()
        .any(|r| r == requested || (loose.is_some() && without_loopback_port(r) == loose))
}

/// `uri` without its port, if it is an `http` URI on a loopback IP literal; else `None`.
pub(super) fn without_loopback_port(uri: &str) -> Option<String> {
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

pub(super) fn redirect_to(uri: &str, pairs: &[(&str, &str)]) -> Response {
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

pub(super) fn authz_error_response(inner: &Inner, err: AuthzError) -> Response {
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

pub(super) fn html_escape(s: &str) -> String {
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

pub(super) fn error_page(status: StatusCode, msg: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><title>Authorization error</title></head>\
         <body><h1>Authorization error</h1><p>{}</p></body></html>",
        html_escape(msg)
    );
    (status, no_store(), Html(body)).into_response()
}

pub(super) fn login_page(
    inner: &Inner,
    status: StatusCode,
    req: &AuthzRequest,
    message: Option<&str>,
) -> Response {
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
    for r in &req.resources {
        hidden.push(("resource", r.as_str()));
    }
    for (name, value) in &req.oidc_fields {
        hidden.push((name, value.as_str()));
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
         <form method=\"post\" action=\"{action}\">\n{fields}\
         <label>Username <input name=\"username\" autocomplete=\"username\"></label>\n\
         <label>Password <input name=\"password\" type=\"password\"></label>\n\
         <button type=\"submit\">Approve</button>\n</form>\n\
         <p><small>bearer-guard test authorization server: for testing only.</small></p>\n\
         </body></html>\n",
        client = html_escape(&req.client_id),
        scope = html_escape(&req.scope),
        action = html_escape(&format!("{}/authorize", inner.issuer)),
    );
    (status, no_store(), Html(body)).into_response()
}

pub(super) async fn authorize_get(State(inner): Shared, RawQuery(query): RawQuery) -> Response {
    let params = match Params::parse(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e.description),
    };
    let req = match validate_authz(&inner, &params) {
        Ok(req) => req,
        Err(e) => return authz_error_response(&inner, e),
    };
    let login_required = |req: &AuthzRequest| {
        authz_error_response(
            &inner,
            AuthzError::Redirect {
                redirect_uri: req.redirect_uri.clone(),
                error: "login_required",
                description: "the user must sign in again (prompt=none)",
                state: req.state.clone(),
            },
        )
    };
    // Approved at once, as the configured user, for tests that follow the redirect: signed
    // in anew only when the request asks for it (prompt=login, max_age, acr_values).
    let auto = inner
        .auto_approve
        .as_deref()
        .and_then(|u| inner.clients.user(u));
    match auto {
        Some(user) => match inner.silent_sign_in(&user, &req.sign_in) {
            Some(auth) => approve(&inner, &req, &user.username, auth),
            None => login_required(&req),
        },
        None if req.sign_in.none => login_required(&req),
        None => login_page(&inner, StatusCode::OK, &req, None),
    }
}

pub(super) async fn authorize_post(
    State(inner): Shared,
    headers: HeaderMap,
    body: Body,
) -> Response {
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
    let user = match inner.clients.user(username) {
        Some(user) if inner.clients.check_user(username, password) => user,
        _ => {
            return login_page(
                &inner,
                StatusCode::UNAUTHORIZED,
                &req,
                Some("Invalid username or password."),
            )
        }
    };
    let auth = inner.sign_in_now(&user, &req.sign_in);
    approve(&inner, &req, username, auth)
}

/// Issues an authorization code for `req` as `username` and redirects to the client.
pub(super) fn approve(
    inner: &Inner,
    req: &AuthzRequest,
    username: &str,
    auth: AuthInfo,
) -> Response {
    let code = random_token(32);
    lock(&inner.grants).codes.insert(
        code.clone(),
        AuthCode {
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect_given.then(|| req.redirect_uri.clone()),
            code_challenge: req.code_challenge.clone(),
            sub: username.to_owned(),
            scope: req.scope.clone(),
            resources: req.resources.clone(),
            expires_at: now().saturating_add(inner.code_lifetime.as_secs()),
            nonce: req.nonce.clone(),
            auth,
        },
    );
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = &req.state {
        pairs.push(("state", s.as_str()));
    }
    pairs.push(("iss", inner.issuer.as_str()));
    redirect_to(&req.redirect_uri, &pairs)
}
