//! Discovery (RFC 8414 / OpenID) and the JWKS document.

use super::*;

pub(super) async fn discovery(State(inner): Shared) -> Response {
    if let Some(r) = gate(&inner, Endpoint::Discovery).await {
        return r;
    }
    let iss = &inner.issuer;
    let dpop_algs: Vec<&str> = DPOP_ALGORITHMS.iter().map(|(_, name)| *name).collect();
    let auth_methods = inner.clients.token_auth_methods();
    let mut doc = json!({
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
        // Public clients may not introspect.
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": inner.clients.scopes_supported(),
        "dpop_signing_alg_values_supported": dpop_algs,
        "authorization_response_iss_parameter_supported": true,
    });
    if inner.clients.registration.enabled {
        if let Value::Object(map) = &mut doc {
            map.insert(
                "registration_endpoint".into(),
                Value::String(format!("{iss}/register")),
            );
        }
    }
    axum::Json(doc).into_response()
}

pub(super) async fn jwks(State(inner): Shared) -> Response {
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
