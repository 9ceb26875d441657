//! Discovery (RFC 8414 / OpenID Connect Discovery 1.0 §3) and the JWKS document.

use super::*;

pub(super) async fn discovery(State(inner): Shared) -> Response {
    let iss = &inner.issuer;
    let dpop_algs: Vec<&str> = DPOP_ALGORITHMS.iter().map(|(_, name)| *name).collect();
    let auth_methods = inner.clients.token_auth_methods();
    let mut scopes = inner.clients.scopes_supported().to_vec();
    scopes.insert(0, oidc::OPENID.to_owned());
    scopes.dedup();
    let (user_claims, acr_values) = inner.clients.user_claims_and_acrs();
    let mut claims: Vec<String> = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "acr",
        "at_hash",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    for c in user_claims {
        if !claims.contains(&c) {
            claims.push(c);
        }
    }
    // ID tokens are signed with the active key, which may be any published one.
    let mut id_token_algs: Vec<&str> = inner
        .key_list()
        .iter()
        .filter(|k| k.2)
        .map(|k| k.1.as_str())
        .collect();
    id_token_algs.sort_unstable();
    id_token_algs.dedup();
    let mut doc = json!({
        "issuer": iss,
        "jwks_uri": format!("{iss}/jwks"),
        "token_endpoint": format!("{iss}/token"),
        "introspection_endpoint": format!("{iss}/introspect"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "authorization_endpoint": format!("{iss}/authorize"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "grant_types_supported": [
            "authorization_code",
            "client_credentials",
            "refresh_token",
            exchange::GRANT_TYPE,
        ],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        // Public clients may not introspect.
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "scopes_supported": scopes,
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": id_token_algs,
        "claims_supported": claims,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        // Its default is true (Discovery §3): say that `request_uri` is not supported.
        "request_uri_parameter_supported": false,
        "dpop_signing_alg_values_supported": dpop_algs,
        "authorization_response_iss_parameter_supported": true,
    });
    if let Value::Object(map) = &mut doc {
        if !acr_values.is_empty() {
            map.insert("acr_values_supported".into(), Value::from(acr_values));
        }
    }
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
    let mut resp = axum::Json(inner.jwks()).into_response();
    let max_age = *lock(&inner.jwks_max_age);
    if let Some(age) = max_age {
        if let Ok(v) = HeaderValue::from_str(&format!("max-age={age}")) {
            resp.headers_mut().insert(header::CACHE_CONTROL, v);
        }
    }
    resp
}
