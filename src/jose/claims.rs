//! The registered claims that name who a token is from and for: `iss` and `aud` (RFC 7519
//! §4.1.1, §4.1.3).

use serde_json::{Map, Value};

use crate::TokenError;

/// Whether a claim must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    /// Missing is [`TokenError::MissingClaim`].
    Required,
    /// Missing passes; present, it is checked.
    Optional,
}

/// Checks that `iss` is the string `issuer`, compared exactly: anything else is
/// [`TokenError::WrongIssuer`].
pub(crate) fn check_issuer(
    claims: &Map<String, Value>,
    issuer: &str,
    presence: Presence,
) -> Result<(), TokenError> {
    match claims.get("iss") {
        None if presence == Presence::Optional => Ok(()),
        None => Err(TokenError::MissingClaim),
        Some(Value::String(iss)) if iss == issuer => Ok(()),
        Some(_) => Err(TokenError::WrongIssuer),
    }
}

/// Checks `aud` (a string or an array of strings) against the accepted audiences; with none
/// configured, any audience passes.
pub(crate) fn check_audience(
    claims: &Map<String, Value>,
    audiences: &[String],
) -> Result<(), TokenError> {
    if audiences.is_empty() {
        return Ok(());
    }
    let ok = match claims.get("aud") {
        None => return Err(TokenError::MissingClaim),
        Some(Value::String(aud)) => audiences.contains(aud),
        Some(Value::Array(auds)) => {
            let mut ok = false;
            for aud in auds {
                match aud {
                    Value::String(a) => ok |= audiences.contains(a),
                    _ => return Err(TokenError::InvalidClaim),
                }
            }
            ok
        }
        Some(_) => return Err(TokenError::InvalidClaim),
    };
    if ok {
        Ok(())
    } else {
        Err(TokenError::WrongAudience)
    }
}
