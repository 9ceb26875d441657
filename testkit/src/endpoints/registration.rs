//! Dynamic client registration (RFC 7591): `POST /register`, when it is enabled.

use serde_json::Map;
use url::Host;

use super::*;
use crate::registry::Full;

const GRANT_TYPES: [&str; 3] = ["authorization_code", "refresh_token", "client_credentials"];

pub(super) async fn register(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    let Ok(bytes) = read_body(&headers, body).await else {
        return too_large();
    };
    let metadata = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => map,
        _ => {
            return invalid_metadata("the request body must be a JSON object").into_response();
        }
    };
    match register_inner(&inner, &metadata) {
        Ok(v) => (StatusCode::CREATED, no_store(), axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn invalid_metadata(description: &'static str) -> OAuthError {
    OAuthError::new("invalid_client_metadata", description)
}

fn invalid_redirect(description: &'static str) -> OAuthError {
    OAuthError::new("invalid_redirect_uri", description)
}

/// A member that is absent or `null` is not given (RFC 7591 clients send either).
fn member<'a>(metadata: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    metadata.get(name).filter(|v| !v.is_null())
}

/// An array of strings, or `bad` when the member has another type.
fn strings(
    metadata: &Map<String, Value>,
    name: &str,
    bad: OAuthError,
) -> Result<Option<Vec<String>>, OAuthError> {
    let Some(value) = member(metadata, name) else {
        return Ok(None);
    };
    let items = value.as_array().ok_or_else(|| bad.clone())?;
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let s = item.as_str().ok_or_else(|| bad.clone())?;
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    Ok(Some(out))
}

fn string<'a>(metadata: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, OAuthError> {
    match member(metadata, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid_metadata(
            "a client metadata member has the wrong type",
        )),
    }
}

/// Whether `uri` may be registered as a redirect URI: an absolute `https` URI, or an `http`
/// one on a loopback host (`127.0.0.1`, `[::1]`, `localhost`; any port, RFC 8252 §7.3), with
/// no fragment, no credentials, no whitespace.
pub(super) fn redirect_uri_ok(uri: &str) -> bool {
    if uri.contains('#')
        || uri
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return false;
    }
    let Ok(url) = url::Url::parse(uri) else {
        return false;
    };
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    match (url.scheme(), url.host()) {
        ("https", Some(_)) => true,
        ("http", Some(Host::Ipv4(ip))) => ip.octets() == [127, 0, 0, 1],
        ("http", Some(Host::Ipv6(ip))) => ip.is_loopback(),
        ("http", Some(Host::Domain(name))) => name.eq_ignore_ascii_case("localhost"),
        _ => false,
    }
}

fn register_inner(inner: &Inner, metadata: &Map<String, Value>) -> Result<Value, OAuthError> {
    let wrong_type = invalid_metadata("a client metadata member has the wrong type");
    let auth_method =
        string(metadata, "token_endpoint_auth_method")?.unwrap_or("client_secret_basic");
    let public = match auth_method {
        "none" => true,
        "client_secret_basic" | "client_secret_post" => false,
        _ => return Err(invalid_metadata(
            "token_endpoint_auth_method must be none, client_secret_basic or client_secret_post",
        )),
    };

    let grant_types = strings(metadata, "grant_types", wrong_type.clone())?
        .unwrap_or_else(|| vec!["authorization_code".to_owned()]);
    if grant_types.is_empty()
        || grant_types
            .iter()
            .any(|g| !GRANT_TYPES.contains(&g.as_str()))
    {
        return Err(invalid_metadata(
            "grant_types may name authorization_code, refresh_token and client_credentials only",
        ));
    }
    let code_flow = grant_types.iter().any(|g| g == "authorization_code");
    if public && grant_types.iter().any(|g| g == "client_credentials") {
        return Err(invalid_metadata(
            "a public client (token_endpoint_auth_method none) cannot use client_credentials",
        ));
    }
    let response_types =
        strings(metadata, "response_types", wrong_type.clone())?.unwrap_or_else(|| {
            if code_flow {
                vec!["code".to_owned()]
            } else {
                Vec::new()
            }
        });
    if response_types.iter().any(|r| r != "code") {
        return Err(invalid_metadata("response_types may name code only"));
    }
    if code_flow == response_types.is_empty() {
        return Err(invalid_metadata(
            "response_type code goes with grant_type authorization_code, and only with it",
        ));
    }

    let bad_redirect = invalid_redirect(
        "redirect_uris must be https URIs, or http on 127.0.0.1, [::1] or localhost, without fragment",
    );
    let redirect_uris =
        strings(metadata, "redirect_uris", bad_redirect.clone())?.unwrap_or_default();
    if redirect_uris.iter().any(|u| !redirect_uri_ok(u)) {
        return Err(bad_redirect);
    }
    if code_flow && redirect_uris.is_empty() {
        return Err(invalid_redirect(
            "redirect_uris are required for the authorization code grant",
        ));
    }

    // A registered client may request every scope the server advertises, whatever its
    // registration's `scope` names (each of which must be advertised): MCP clients register
    // with the scope of their first challenge and step up to more scopes later (RFC 7591 §2
    // lets the server register other values than asked; the answer says which).
    let supported = inner.clients.scopes_supported();
    let requested_scope = string(metadata, "scope")?.filter(|s| !s.trim().is_empty());
    if let Some(scope) = requested_scope {
        if scope
            .split_whitespace()
            .any(|s| s != "openid" && !supported.iter().any(|a| a == s))
        {
            return Err(invalid_metadata(
                "scope names a scope this server does not support (see scopes_supported)",
            ));
        }
    }
    let scopes: Vec<String> = supported.to_vec();
    let client_name = string(metadata, "client_name")?;
    let scope_echo = Some(scopes.join(" ")).filter(|s| !s.is_empty());

    let id = random_token(16);
    let secret = (!public).then(|| random_token(32));
    let mut client = match &secret {
        Some(secret) => Client::new(id.clone(), secret.clone()).introspection(false),
        None => Client::public(id.clone()),
    };
    client.grant_types = Some(grant_types.clone());
    client.scopes = scopes;
    client.redirect_uris = redirect_uris.clone();
    inner.clients.register(client).map_err(|Full| OAuthError {
        status: StatusCode::FORBIDDEN,
        error: "access_denied",
        description: "the registration limit of this server is reached",
        basic_challenge: false,
    })?;

    let mut answer = json!({
        "client_id": id,
        "client_id_issued_at": now(),
        "redirect_uris": redirect_uris,
        "grant_types": grant_types,
        "response_types": response_types,
        "token_endpoint_auth_method": auth_method,
    });
    if let Value::Object(map) = &mut answer {
        if let Some(secret) = secret {
            map.insert("client_secret".into(), Value::String(secret));
            map.insert("client_secret_expires_at".into(), Value::from(0));
        }
        if let Some(scope) = scope_echo {
            map.insert("scope".into(), Value::String(scope));
        }
        if let Some(name) = client_name {
            map.insert("client_name".into(), Value::String(name.to_owned()));
        }
    }
    Ok(answer)
}
