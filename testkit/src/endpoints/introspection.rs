//! Introspection (RFC 7662) and revocation (RFC 7009).

use super::*;

pub(super) async fn introspect(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    let body = match form_body(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    match introspect_inner(&inner, &headers, &body) {
        Ok(v) => (StatusCode::OK, no_store(), axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(super) fn introspect_inner(
    inner: &Inner,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, OAuthError> {
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

pub(super) async fn revoke(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
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
