//! [`Confirmation`]: how a token is bound to its client (`cnf`, RFC 7800), read fail-closed.

use serde_json::Value;

use super::Claims;
use crate::error::TokenError;

/// The confirmation methods of a token's `cnf` claim (RFC 7800) that this crate can check;
/// read with [`Claims::confirmation`]. A token may carry both: a layer then requires both to
/// hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Confirmation<'a> {
    /// `jkt`: the RFC 7638 SHA-256 thumbprint of the client's DPoP key (RFC 9449 §6).
    pub jkt: Option<&'a str>,
    /// `x5t#S256`: the base64url SHA-256 of the DER client certificate the token must be
    /// presented with over mutual TLS (RFC 8705 §3.1).
    pub x5t_s256: Option<&'a str>,
}

impl Confirmation<'_> {
    /// Whether the token is bound at all (has `jkt` or `x5t#S256`).
    pub fn is_bound(&self) -> bool {
        self.jkt.is_some() || self.x5t_s256.is_some()
    }
}

impl Claims {
    /// How the token is bound to its client (its `cnf` claim, RFC 7800): the confirmation
    /// methods this crate can check, `jkt` (DPoP, RFC 9449 §6) and `x5t#S256` (mutual TLS,
    /// RFC 8705 §3.1); both empty for a token without `cnf`. Fails closed: a `cnf` that is not
    /// a JSON object, or that holds any other confirmation method (`jwk`, `jku`, `kid`...), is
    /// [`TokenError::UnsupportedConfirmation`], since such a token may only be used by a client
    /// that proves possession of something this crate cannot check; a `jkt` or `x5t#S256`
    /// that is not a string is [`TokenError::InvalidClaim`].
    ///
    /// Which of these methods a layer accepts is its own choice: see
    /// [`AuthLayer::dpop`](crate::AuthLayer::dpop) and
    /// [`AuthLayer::mtls`](crate::AuthLayer::mtls).
    ///
    /// ```
    /// use bearer_guard::{Claims, error::TokenError};
    /// use serde_json::json;
    /// let bound = |cnf| Claims::from_value(json!({ "cnf": cnf })).unwrap();
    /// let cnf = bound(json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}));
    /// let cnf = cnf.confirmation().unwrap();
    /// assert_eq!(cnf.x5t_s256, Some("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"));
    /// assert_eq!(cnf.jkt, None);
    /// assert!(cnf.is_bound());
    /// assert_eq!(bound(json!({"jwk": {}})).confirmation(), Err(TokenError::UnsupportedConfirmation));
    /// assert_eq!(bound(json!({"x5t#S256": 1})).confirmation(), Err(TokenError::InvalidClaim));
    /// assert!(!Claims::from_value(json!({"sub": "a"})).unwrap().confirmation().unwrap().is_bound());
    /// ```
    pub fn confirmation(&self) -> Result<Confirmation<'_>, TokenError> {
        let mut confirmation = Confirmation::default();
        let Some(cnf) = self.as_map().get("cnf") else {
            return Ok(confirmation);
        };
        let Value::Object(methods) = cnf else {
            return Err(TokenError::UnsupportedConfirmation);
        };
        for (method, value) in methods {
            let slot = match method.as_str() {
                "jkt" => &mut confirmation.jkt,
                "x5t#S256" => &mut confirmation.x5t_s256,
                _ => return Err(TokenError::UnsupportedConfirmation),
            };
            match value {
                Value::String(s) => *slot = Some(s.as_str()),
                _ => return Err(TokenError::InvalidClaim),
            }
        }
        Ok(confirmation)
    }

    /// The JWK thumbprint the token is bound to (`cnf.jkt`, RFC 9449 §6), if it has a `cnf`
    /// claim at all. Fails closed like [`Claims::confirmation`], and also refuses a token
    /// bound to a client certificate (`x5t#S256`, RFC 8705) with
    /// [`TokenError::UnsupportedConfirmation`]: a caller that reads only `jkt` would let such
    /// a token through unchecked.
    ///
    /// ```
    /// use bearer_guard::{Claims, error::TokenError};
    /// use serde_json::json;
    /// let bound = |cnf| Claims::from_value(json!({ "cnf": cnf })).unwrap();
    /// assert_eq!(bound(json!({"jkt": "0ZcOCORZNYy"})).bound_jkt(), Ok(Some("0ZcOCORZNYy")));
    /// assert_eq!(
    ///     bound(json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})).bound_jkt(),
    ///     Err(TokenError::UnsupportedConfirmation)
    /// );
    /// assert_eq!(Claims::from_value(json!({"sub": "a"})).unwrap().bound_jkt(), Ok(None));
    /// ```
    pub fn bound_jkt(&self) -> Result<Option<&str>, TokenError> {
        let confirmation = self.confirmation()?;
        if confirmation.x5t_s256.is_some() {
            return Err(TokenError::UnsupportedConfirmation);
        }
        Ok(confirmation.jkt)
    }
}
