//! Token exchange (RFC 8693) at the token endpoint: a client (typically an API) trades an
//! active access token of this issuer (`subject_token`) for one with another audience
//! (`audience`, `resource`) and the same or a narrower scope, to call another API on its
//! user's behalf.

use super::token::token_json;
use super::*;

/// The `grant_type` of token exchange.
pub(super) const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The token type of access tokens (RFC 8693 §3).
const ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";

/// The token type of JWTs (RFC 8693 §3), accepted for a subject token of this issuer.
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

/// Claims of the subject token the new token does not take over: the server sets them anew.
const NOT_CARRIED: [&str; 9] = [
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "scope",
    "client_id",
    "cnf",
];

/// Exchanges the request's `subject_token` for an access token for `client`: `sub`, the
/// sign-in (`auth_time`, `acr`) and the user's claims of the subject token; `aud` the named
/// `audience`s (each one this issuer serves: its audience or a resource) and `resource`s,
/// else the default audience; the requested `scope`, which may only narrow the subject
/// token's (default: the same); `exp` no later than the subject token's. Refusals (RFC 8693
/// §2.2.2): `invalid_request` for a subject token that is not active (unknown, expired,
/// revoked, another issuer's, a refresh token) or of an unsupported type, or an actor token;
/// `invalid_target` for an unknown audience; `invalid_scope` for a wider scope.
pub(super) fn exchange(
    inner: &Inner,
    client: &Client,
    params: &Params,
    resources: Vec<String>,
    jkt: Option<&str>,
) -> Result<Value, OAuthError> {
    if params.get("actor_token").is_some() || params.get("actor_token_type").is_some() {
        return Err(OAuthError::invalid_request(
            "actor tokens (delegation) are not supported",
        ));
    }
    let subject = params
        .get("subject_token")
        .ok_or_else(|| OAuthError::invalid_request("missing subject_token"))?;
    match params.get("subject_token_type") {
        Some(ACCESS_TOKEN | JWT) => {}
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "unsupported subject_token_type",
            ))
        }
        None => return Err(OAuthError::invalid_request("missing subject_token_type")),
    }
    if params
        .get("requested_token_type")
        .is_some_and(|t| t != ACCESS_TOKEN)
    {
        return Err(OAuthError::invalid_request(
            "unsupported requested_token_type (only access tokens are issued)",
        ));
    }
    let claims = inner
        .active_claims(subject)
        .ok_or_else(|| OAuthError::invalid_request("the subject token is not active"))?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| OAuthError::invalid_request("the subject token has no subject"))?;

    let mut targets: Vec<String> = Vec::new();
    for audience in &params.audiences {
        let served = *audience == inner.audience || inner.resources.contains(audience);
        if !served {
            return Err(OAuthError::new(
                "invalid_target",
                "a requested audience is not served by this authorization server",
            ));
        }
        if !targets.contains(audience) {
            targets.push(audience.clone());
        }
    }
    for r in resources {
        if !targets.contains(&r) {
            targets.push(r);
        }
    }

    let granted = claims.get("scope").and_then(Value::as_str).unwrap_or("");
    let scope = match params.get("scope") {
        // Narrowing only: every requested scope must be one of the subject token's.
        Some(requested) => resolve_scope(Some(requested), &split_scope(granted))?,
        None => granted.to_owned(),
    };

    let mut extra: Claims = claims
        .iter()
        .filter(|(name, _)| !NOT_CARRIED.contains(&name.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let latest = now().saturating_add(inner.token_lifetime.as_secs());
    let exp = claims
        .get("exp")
        .and_then(Value::as_u64)
        .map_or(latest, |e| e.min(latest));
    extra.insert("exp".into(), Value::from(exp));
    let (token, _) = inner
        .issue_access_token(client, sub, &scope, &targets, jkt, &extra)
        .map_err(|_| server_error())?;
    let mut answer = token_json(inner, &token, &scope, None, jkt);
    if let Value::Object(map) = &mut answer {
        map.insert(
            "issued_token_type".into(),
            Value::String(ACCESS_TOKEN.into()),
        );
        map.insert("expires_in".into(), Value::from(exp.saturating_sub(now())));
    }
    Ok(answer)
}
