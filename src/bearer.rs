//! Bearer token extraction from the `Authorization` header (RFC 6750 §2.1).
//!
//! This module knows only the header syntax: it turns request headers into the token text,
//! or a [`BearerError`] that says precisely what was wrong.
//!
//! ```
//! use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
//! use bearer_guard::bearer::extract;
//! use bearer_guard::error::BearerError;
//!
//! let mut headers = HeaderMap::new();
//! assert_eq!(extract(&headers), Err(BearerError::Missing));
//! headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer abc.def-ghi"));
//! assert_eq!(extract(&headers), Ok("abc.def-ghi"));
//! ```

use http::header::{HeaderMap, AUTHORIZATION};

pub use crate::error::bearer::AuthScheme;
use crate::error::BearerError;

/// Takes the access token and its scheme from the `Authorization` header, accepting both
/// `Bearer` and `DPoP` (RFC 9449 §7.1). The token syntax is the same for both.
///
/// ```
/// use http::{HeaderMap, HeaderValue, header::AUTHORIZATION};
/// use bearer_guard::bearer::{extract_any, AuthScheme};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(AUTHORIZATION, HeaderValue::from_static("DPoP abc.def"));
/// assert_eq!(extract_any(&headers), Ok((AuthScheme::DPoP, "abc.def")));
/// ```
pub fn extract_any(headers: &HeaderMap) -> Result<(AuthScheme, &str), BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(BearerError::Missing)?;
    if values.next().is_some() {
        return Err(BearerError::Multiple);
    }
    parse_any(value.as_bytes())
}

/// Parses one `Authorization` header value as `Bearer <b64token>` or `DPoP <b64token>`.
///
/// ```
/// use bearer_guard::bearer::{parse_any, AuthScheme};
/// use bearer_guard::error::BearerError;
/// assert_eq!(parse_any(b"dpop tok"), Ok((AuthScheme::DPoP, "tok")));
/// assert_eq!(parse_any(b"Bearer tok"), Ok((AuthScheme::Bearer, "tok")));
/// assert_eq!(parse_any(b"Basic dXNlcjpwYXNz"), Err(BearerError::OtherScheme));
/// ```
pub fn parse_any(value: &[u8]) -> Result<(AuthScheme, &str), BearerError> {
    match parse_scheme(value, b"bearer") {
        Err(BearerError::OtherScheme) => {
            parse_scheme(value, b"dpop").map(|t| (AuthScheme::DPoP, t))
        }
        other => other.map(|t| (AuthScheme::Bearer, t)),
    }
}

/// Takes the bearer token from the `Authorization` header.
///
/// The scheme name is matched case-insensitively; exactly one space separates it from the
/// token, which must be a non-empty RFC 6750 `b64token`
/// (`1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`).
pub fn extract(headers: &HeaderMap) -> Result<&str, BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(BearerError::Missing)?;
    if values.next().is_some() {
        return Err(BearerError::Multiple);
    }
    parse(value.as_bytes())
}

/// Parses one `Authorization` header value as `Bearer <b64token>`.
///
/// ```
/// use bearer_guard::bearer::parse;
/// use bearer_guard::error::BearerError;
/// assert_eq!(parse(b"bearer tok"), Ok("tok"));
/// assert_eq!(parse(b"Basic dXNlcjpwYXNz"), Err(BearerError::OtherScheme));
/// assert_eq!(parse(b"Bearer a b"), Err(BearerError::Malformed));
/// ```
pub fn parse(value: &[u8]) -> Result<&str, BearerError> {
    parse_scheme(value, b"bearer")
}

/// Parses `<scheme> <b64token>`; `scheme` is lower-case and matched case-insensitively.
fn parse_scheme<'a>(value: &'a [u8], expected: &[u8]) -> Result<&'a str, BearerError> {
    let scheme_len = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(scheme_len);
    if !scheme.eq_ignore_ascii_case(expected) {
        return Err(BearerError::OtherScheme);
    }
    // `rest` is either empty or starts with the separating space.
    let token = rest.strip_prefix(b" ").unwrap_or(rest);
    if token.iter().all(|&b| b == b' ' || b == b'\t') {
        return Err(BearerError::Empty);
    }
    if !is_b64token(token) {
        return Err(BearerError::Malformed);
    }
    // b64token is ASCII, so this cannot fail; map defensively anyway.
    std::str::from_utf8(token).map_err(|_| BearerError::Malformed)
}

/// Whether `b` may appear in the body of a `b64token` (before any trailing `=`):
/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`. Comparisons only, no branch and no
/// table look-up, so the loop over a token compiles to vector code.
#[inline]
fn is_body_byte(b: u8) -> bool {
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    let digit = b.wrapping_sub(b'0') < 10;
    letter
        | digit
        | (b == b'-')
        | (b == b'.')
        | (b == b'_')
        | (b == b'~')
        | (b == b'+')
        | (b == b'/')
}

/// A non-empty body of body bytes, then only `=` padding: the padding is found from the end,
/// then the body is checked in one branch-free pass.
pub(crate) fn is_b64token(token: &[u8]) -> bool {
    let body_len = token.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let body = token.get(..body_len).unwrap_or_default();
    !body.is_empty() && body.iter().fold(true, |ok, &b| ok & is_body_byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_bytes_are_exactly_those_of_rfc_6750() {
        for b in 0..=255u8 {
            let expected =
                b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
            assert_eq!(is_body_byte(b), expected, "byte {b:#04x}");
            let token = [b'a', b, b'a'];
            assert_eq!(
                is_b64token(&token),
                expected,
                "byte {b:#04x} inside a token"
            );
        }
        assert!(is_b64token(b"a=="));
        assert!(!is_b64token(b"=="));
        assert!(!is_b64token(b"a=b"));
        assert!(!is_b64token(b""));
    }
    use http::HeaderValue;

    #[test]
    fn accepts_the_rfc_syntax() {
        assert_eq!(parse(b"Bearer mF_9.B5f-4.1JqM"), Ok("mF_9.B5f-4.1JqM"));
        assert_eq!(parse(b"BEARER x"), Ok("x"));
        assert_eq!(parse(b"Bearer abc=="), Ok("abc=="));
        assert_eq!(parse(b"Bearer a+/~"), Ok("a+/~"));
    }

    #[test]
    fn rejects_each_malformation_distinctly() {
        assert_eq!(parse(b"Bearer"), Err(BearerError::Empty));
        assert_eq!(parse(b"Bearer "), Err(BearerError::Empty));
        assert_eq!(parse(b"Bearer    "), Err(BearerError::Empty));
        assert_eq!(parse(b"Bearer  tok"), Err(BearerError::Malformed));
        assert_eq!(parse(b"Bearer tok "), Err(BearerError::Malformed));
        assert_eq!(parse(b"Bearer a b"), Err(BearerError::Malformed));
        assert_eq!(parse(b"Bearer ="), Err(BearerError::Malformed));
        assert_eq!(parse(b"Bearer a=b"), Err(BearerError::Malformed));
        assert_eq!(parse(b"Bearer a,b"), Err(BearerError::Malformed));
        assert_eq!(parse("Bearer é".as_bytes()), Err(BearerError::Malformed));
        assert_eq!(parse(b"Bearertok"), Err(BearerError::OtherScheme));
        assert_eq!(parse(b"Basic abc"), Err(BearerError::OtherScheme));
        assert_eq!(parse(b""), Err(BearerError::OtherScheme));
    }

    #[test]
    fn dpop_scheme_is_recognised() {
        assert_eq!(parse_any(b"DPoP a.b.c"), Ok((AuthScheme::DPoP, "a.b.c")));
        assert_eq!(parse_any(b"DPOP x"), Ok((AuthScheme::DPoP, "x")));
        assert_eq!(parse_any(b"DPoP"), Err(BearerError::Empty));
        assert_eq!(parse_any(b"DPoP a b"), Err(BearerError::Malformed));
        assert_eq!(parse_any(b"DPoPx"), Err(BearerError::OtherScheme));
        assert_eq!(parse(b"DPoP x"), Err(BearerError::OtherScheme));
    }

    #[test]
    fn several_headers_are_refused() {
        let mut headers = HeaderMap::new();
        headers.append(AUTHORIZATION, HeaderValue::from_static("Bearer a"));
        headers.append(AUTHORIZATION, HeaderValue::from_static("Bearer b"));
        assert_eq!(extract(&headers), Err(BearerError::Multiple));
    }
}
