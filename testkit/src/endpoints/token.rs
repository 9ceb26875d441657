//! The token endpoint: client credentials, authorization code + PKCE, refresh with rotation,
//! DPoP-bound tokens, ID tokens (OpenID Connect), token exchange (RFC 8693, `exchange.rs`).

use super::*;

pub(super) async fn token(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    let body = match form_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match token_inner(&inner, &headers, &body) {
        Ok(v) => (StatusCode::OK, no_store(), axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(super) fn token_inner(
    inner: &Inner,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, OAuthError> {
    let params = Params::parse(body)?;
    let client = authenticate(inner, headers, &params, StatusCode::BAD_REQUEST)?;
    let client = client.as_ref();
    let jkt = dpop_key(inner, headers)?;
    let jkt = jkt.as_deref();
    let grant_type = params
        .get("grant_type")
        .ok_or_else(|| OAuthError::invalid_request("missing grant_type"))?;
    if !matches!(
        grant_type,
        "client_credentials" | "authorization_code" | "refresh_token" | exchange::GRANT_TYPE
    ) {
        return Err(OAuthError::new(
            "unsupported_grant_type",
            "grant_type is not supported",
        ));
    }
    // A public client may not exchange tokens either: it could not be told apart.
    let public_exchange = client.public && grant_type == exchange::GRANT_TYPE;
    if !client.allows_grant(grant_type) || public_exchange {
        return Err(OAuthError::unauthorized_client(
            "this client may not use this grant type",
        ));
    }
    // Checked before any grant is consumed.
    let resources = resource::requested(inner, &params)?;
    match grant_type {
        "client_credentials" => {
            let scope = resolve_scope(params.get("scope"), &client.scopes)?;
            let (token, _) = inner
                .issue_access_token(client, &client.id, &scope, &resources, jkt, &Claims::new())
                .map_err(|_| server_error())?;
            Ok(token_json(inner, &token, &scope, None, jkt))
        }
        "authorization_code" => authorization_code_grant(inner, client, &params, resources, jkt),
        "refresh_token" => refresh_grant(inner, client, &params, resources, jkt),
        _ => exchange::exchange(inner, client, &params, resources, jkt),
    }
}

/// The thumbprint of the key of the request's DPoP proof, if it carries one (RFC 9449 §5):
/// the proof must be signed by its `jwk`, for `POST` to this token endpoint, fresh and unused.
pub(super) fn dpop_key(inner: &Inner, headers: &HeaderMap) -> Result<Option<String>, OAuthError> {
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

pub(super) fn token_json(
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

pub(super) fn authorization_code_grant(
    inner: &Inner,
    client: &Client,
    params: &Params,
    requested: Vec<String>,
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
    let resources = resource::narrow(requested, &code.resources)?;
    let extra = inner.sign_in_claims(&code.sub, &code.auth);
    let (token, jti) = inner
        .issue_access_token(client, &code.sub, &code.scope, &resources, jkt, &extra)
        .map_err(|_| server_error())?;
    // A client that did not register the refresh-token grant gets no refresh token.
    let refresh = client
        .allows_grant("refresh_token")
        .then(|| random_token(32));
    {
        let mut g = lock(&inner.grants);
        let family = g.new_family(&client.id, jti);
        if let Some(refresh) = &refresh {
            g.set_current(
                family,
                refresh,
                RefreshGrant {
                    client_id: client.id.clone(),
                    sub: code.sub.clone(),
                    scope: code.scope.clone(),
                    // The authorization's resources, or else the ones this first token
                    // request chose: later refreshes stay within them.
                    resources: if code.resources.is_empty() {
                        resources
                    } else {
                        code.resources
                    },
                    family,
                    auth: code.auth.clone(),
                },
            );
        }
        g.used_codes.insert(code_str.to_owned(), family);
    }
    let mut answer = token_json(inner, &token, &code.scope, refresh.as_deref(), jkt);
    oidc::id_token_member(
        inner,
        &mut answer,
        &code.scope,
        (&client.id, &code.sub),
        &code.auth,
        code.nonce.as_deref(),
    )?;
    Ok(answer)
}

pub(super) fn refresh_grant(
    inner: &Inner,
    client: &Client,
    params: &Params,
    requested: Vec<String>,
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
        // Validate the scope and resources before consuming the token.
        resolve_scope(params.get("scope"), &split_scope(&grant.scope))?;
        resource::narrow(requested.clone(), &grant.resources)?;
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
    let resources = resource::narrow(requested, &grant.resources)?;
    let extra = inner.sign_in_claims(&grant.sub, &grant.auth);
    let (token, jti) = inner
        .issue_access_token(client, &grant.sub, &scope, &resources, jkt, &extra)
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
                sub: grant.sub.clone(),
                // The grant keeps its original scope and resources; narrowing applies per
                // token.
                scope: grant.scope,
                resources: grant.resources,
                family,
                auth: grant.auth.clone(),
            },
        );
    }
    let mut answer = token_json(inner, &token, &scope, Some(&refresh), jkt);
    // A refreshed ID token keeps the sign-in's `auth_time` and has no `nonce` (Core §12.2).
    oidc::id_token_member(
        inner,
        &mut answer,
        &scope,
        (&client.id, &grant.sub),
        &grant.auth,
        None,
    )?;
    Ok(answer)
}
