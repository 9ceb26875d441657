//! Reading an introspection answer (RFC 7662 §2.2) and the rules it must meet.

use serde_json::{Map, Value};

use crate::error::{IntrospectionResponseError, TokenError};
use crate::jose::{self, parse_object, unix_now, Presence};

/// Parses an RFC 7662 introspection response: `Ok(Some(members))` for an active token,
/// `Ok(None)` for `"active": false`, an error for anything else. Duplicate members are refused,
/// and `active` must be a JSON boolean.
///
/// ```
/// use bearer_guard::error::IntrospectionResponseError;
/// use bearer_guard::introspection::parse_response;
/// let active = parse_response(br#"{"active":true,"scope":"read"}"#).unwrap().unwrap();
/// assert_eq!(active["scope"], "read");
/// assert_eq!(parse_response(br#"{"active":false}"#), Ok(None));
/// assert_eq!(parse_response(br#"{"active":"true"}"#), Err(IntrospectionResponseError::BadActive));
/// assert_eq!(
///     parse_response(br#"{"active":true,"active":false}"#),
///     Err(IntrospectionResponseError::DuplicateMember)
/// );
/// ```
pub fn parse_response(
    bytes: &[u8],
) -> Result<Option<Map<String, Value>>, IntrospectionResponseError> {
    let map = parse_object(bytes).map_err(|e| match e {
        TokenError::DuplicateMember => IntrospectionResponseError::DuplicateMember,
        _ => IntrospectionResponseError::Malformed,
    })?;
    match map.get("active") {
        Some(Value::Bool(true)) => Ok(Some(map)),
        Some(Value::Bool(false)) => Ok(None),
        _ => Err(IntrospectionResponseError::BadActive),
    }
}

/// The local checks of an active response: `iss` (if present) against `issuer`, `aud`
/// against `audiences`, the token kind, `exp` and `nbf` (if present, with `leeway`); returns
/// its `exp`.
pub(super) fn check_members(
    members: &Map<String, Value>,
    issuer: &str,
    audiences: &[String],
    leeway: f64,
) -> Result<Option<f64>, TokenError> {
    jose::check_issuer(members, issuer, Presence::Optional)?;
    jose::check_audience(members, audiences)?;
    check_token_kind(members)?;
    jose::check_exp_nbf(members, Presence::Optional, unix_now(), leeway)
}

/// The error code of a `400` answer that is about the token, not about the server or our
/// request (RFC 7009 §2.2.1 `unsupported_token_type`, RFC 6750 §3.1 `invalid_token`).
pub(super) fn token_refusal(body: &[u8]) -> Option<&'static str> {
    let map = parse_object(body).ok()?;
    match map.get("error")?.as_str()? {
        "unsupported_token_type" => Some("unsupported_token_type"),
        "invalid_token" => Some("invalid_token"),
        _ => None,
    }
}

/// An active answer must be about an access token: `token_type` (RFC 7662 §2.2) `Bearer` or
/// `DPoP` when present, and `token_use` (as some servers add) `access_token` when present.
fn check_token_kind(members: &Map<String, Value>) -> Result<(), TokenError> {
    match members.get("token_type") {
        None => {}
        Some(Value::String(t))
            if t.eq_ignore_ascii_case("bearer") || t.eq_ignore_ascii_case("dpop") => {}
        Some(_) => return Err(TokenError::WrongType),
    }
    match members.get("token_use") {
        None => Ok(()),
        Some(Value::String(u)) if u == "access_token" => Ok(()),
        Some(_) => Err(TokenError::WrongType),
    }
}
