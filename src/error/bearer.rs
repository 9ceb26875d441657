//! [`BearerError`] (no usable token in the request) and the [`AuthScheme`] a token came with.

super::fixed_texts! {
/// Why no bearer token could be taken from a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerError {
    /// The request has no `Authorization` header.
    Missing => (UNAUTHORIZED, None) "no Authorization header",
    /// The `Authorization` header uses another scheme (e.g. `Basic`).
    OtherScheme => (UNAUTHORIZED, None) "the Authorization header does not use the Bearer scheme",
    /// The scheme is `Bearer` but no token follows it.
    Empty => (BAD_REQUEST, Some("invalid_request")) "the Bearer token is empty",
    /// The token is not a single RFC 6750 `b64token`, or the header is not visible ASCII.
    Malformed => (BAD_REQUEST, Some("invalid_request")) "the Bearer token is malformed",
    /// The request carries more than one `Authorization` header.
    Multiple => (BAD_REQUEST, Some("invalid_request")) "more than one Authorization header",
    /// The request presents a token in more than one place (RFC 6750 §2): the header and a
    /// cookie, or two of the [token sources](crate::source) configured on the layer, or one
    /// of them twice.
    SeveralPlaces => (BAD_REQUEST, Some("invalid_request")) "the token is presented in more than one place",
}
}

/// The authorization scheme an access token was presented with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AuthScheme {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    #[default]
    Bearer,
    /// `Authorization: DPoP <token>` (RFC 9449 §7.1): the token is bound to a key, and the
    /// request must carry a `DPoP` proof made with that key.
    DPoP,
}

impl AuthScheme {
    /// The scheme name as written in `Authorization` and `WWW-Authenticate` headers.
    ///
    /// ```
    /// use bearer_guard::bearer::AuthScheme;
    /// assert_eq!(AuthScheme::DPoP.as_str(), "DPoP");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            AuthScheme::Bearer => "Bearer",
            AuthScheme::DPoP => "DPoP",
        }
    }
}
