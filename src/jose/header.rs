//! The JOSE header (RFC 7515 §4): its members as this crate reads them, and the refusals every
//! token gets.

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::alg::alg_from_name;
use super::json::decode_object;
use crate::error::TokenError;

/// A decoded header: a JSON object without duplicate members.
#[derive(Debug)]
pub(crate) struct Header(Map<String, Value>);

/// Why `alg` was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AlgError {
    /// Missing, or not a string.
    Malformed,
    /// Not a supported name, or not on the allow-list.
    NotAllowed,
}

impl Header {
    /// Decodes the header segment ([`TokenError::Malformed`],
    /// [`TokenError::DuplicateMember`]).
    pub(crate) fn decode(segment: &str) -> Result<Self, TokenError> {
        decode_object(segment).map(Header)
    }

    /// The algorithm `alg` names, if `allowed` accepts it (never `none`: it has no entry in the
    /// table of names).
    pub(crate) fn alg(&self, allowed: impl Fn(&Algorithm) -> bool) -> Result<Algorithm, AlgError> {
        match self.0.get("alg") {
            Some(Value::String(name)) => alg_from_name(name)
                .filter(allowed)
                .ok_or(AlgError::NotAllowed),
            _ => Err(AlgError::Malformed),
        }
    }

    /// Whether the header has `crit` (no extension is understood here, RFC 7515 §4.1.11).
    pub(crate) fn has_crit(&self) -> bool {
        self.0.contains_key("crit")
    }

    /// Refuses the members that would change how the token must be read: `crit`
    /// ([`TokenError::UnsupportedCritical`]), `enc` (a JWE header,
    /// [`TokenError::Encrypted`]), and `b64` other than `true` (an unencoded payload, RFC
    /// 7797: [`TokenError::UnsupportedCritical`]).
    pub(crate) fn refuse_extensions(&self) -> Result<(), TokenError> {
        if self.has_crit() {
            return Err(TokenError::UnsupportedCritical);
        }
        if self.0.contains_key("enc") {
            return Err(TokenError::Encrypted);
        }
        if self.0.get("b64").is_some_and(|b| *b != Value::Bool(true)) {
            return Err(TokenError::UnsupportedCritical);
        }
        Ok(())
    }

    /// `typ` as shown in a DEBUG event ("nothing" when absent).
    pub(crate) fn typ_shown(&self) -> String {
        self.0
            .get("typ")
            .map_or_else(|| "nothing".to_owned(), super::claims::shown)
    }

    /// Whether `typ` is a string equal, ignoring ASCII case (RFC 7515 §4.1.9), to one of
    /// `names`.
    pub(crate) fn typ_is(&self, names: &[&str]) -> bool {
        match self.0.get("typ") {
            Some(Value::String(typ)) => names.iter().any(|n| typ.eq_ignore_ascii_case(n)),
            _ => false,
        }
    }

    /// `kid`, if present ([`TokenError::Malformed`] if it is not a string).
    pub(crate) fn kid(&self) -> Result<Option<&str>, TokenError> {
        match self.0.get("kid") {
            None => Ok(None),
            Some(Value::String(kid)) => Ok(Some(kid)),
            Some(_) => Err(TokenError::Malformed),
        }
    }

    /// `jwk`, if it is a JSON object.
    pub(crate) fn jwk(&self) -> Option<&Map<String, Value>> {
        match self.0.get("jwk") {
            Some(Value::Object(jwk)) => Some(jwk),
            _ => None,
        }
    }
}

/// The `kid` of a token's header, for tracing only: no check is made, and nothing may be
/// decided on it.
pub(crate) fn unverified_kid(token: &str) -> Option<String> {
    let header = Header::decode(token.split('.').next()?).ok()?;
    header.kid().ok().flatten().map(str::to_owned)
}
