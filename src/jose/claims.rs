//! The registered claims that name who a token is from and for: `iss` and `aud` (RFC 7519
//! §4.1.1, §4.1.3).

use serde_json::{Map, Value};

use crate::TokenError;

/// A claim value as shown in a DEBUG event: its JSON, cut at 200 characters. Only for claims
/// that are not secret (`iss`, `aud`, `typ`), of tokens whose signature (or introspection
/// answer) was already checked.
pub(crate) fn shown(value: &Value) -> String {
    value.to_string().chars().take(200).collect()
}

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
        None => {
            tracing::debug!(
                check = "iss",
                expected = issuer,
                "token refused: no iss claim"
            );
            Err(TokenError::MissingClaim)
        }
        Some(Value::String(iss)) if iss == issuer => Ok(()),
        Some(found) => {
            tracing::debug!(check = "iss", expected = issuer, found = %shown(found), "token refused: another issuer");
            Err(TokenError::WrongIssuer)
        }
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
    let refuse = |found: Option<&Value>, error: TokenError| {
        tracing::debug!(
            check = "aud",
            expected = ?audiences,
            found = %found.map(shown).unwrap_or_else(|| "nothing".to_owned()),
            "token refused: not for this audience"
        );
        Err(error)
    };
    let aud = claims.get("aud");
    let ok = match aud {
        None => return refuse(aud, TokenError::MissingClaim),
        Some(Value::String(aud)) => audiences.contains(aud),
        Some(Value::Array(auds)) => {
            let mut ok = false;
            for one in auds {
                match one {
                    Value::String(a) => ok |= audiences.contains(a),
                    _ => return refuse(aud, TokenError::InvalidClaim),
                }
            }
            ok
        }
        Some(_) => return refuse(aud, TokenError::InvalidClaim),
    };
    if ok {
        Ok(())
    } else {
        refuse(aud, TokenError::WrongAudience)
    }
}
