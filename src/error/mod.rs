//! The one error type of a rejected request, and the one place that turns it into an HTTP answer
//! with an RFC 6750 `WWW-Authenticate` challenge.
//!
//! This table is the one list of every answer the layers give (and the place to change when an
//! answer changes):
//!
//! | situation | error | status | headers |
//! |---|---|---|---|
//! | no `Authorization` header, or another scheme | [`AuthError::Bearer`] | 401 | `WWW-Authenticate: Bearer realm="…"` (no error code, RFC 6750 §3.1) |
//! | empty, malformed or repeated `Authorization`, or a token in more than one [place](crate::source) | [`AuthError::Bearer`] | 400 | `error="invalid_request"` |
//! | bad signature, expired, wrong issuer, audience or type, unknown key… | [`AuthError::InvalidToken`] | 401 | `error="invalid_token"` |
//! | a `cnf` the layer cannot check (`jwk`…, or `x5t#S256` without [`mtls`](crate::mtls)), or `cnf` not an object | [`AuthError::InvalidToken`] | 401 | `error="invalid_token"` |
//! | certificate-bound token without a client certificate, with another one, or with a malformed proxy header | [`AuthError::InvalidToken`] | 401 | `error="invalid_token"` |
//! | a plain bearer token where a [sender constraint](crate::auth::SenderConstraint) is required | [`AuthError::InvalidToken`] | 401 | `error="invalid_token"`, `Bearer` and/or `DPoP` challenge by the mode |
//! | introspection: `400` `unsupported_token_type` / `invalid_token`, or an active answer not about an access token | [`AuthError::InvalidToken`] | 401 | `error="invalid_token"` (cached like an inactive token) |
//! | the route's (or MCP method's, tool's) scope missing | [`AuthError::InsufficientScope`] | 403 | `error="insufficient_scope", scope="…"` |
//! | `acr` / `auth_time` short of the route's step-up requirement | [`AuthError::InsufficientUserAuthentication`] | 401 | `error="insufficient_user_authentication", acr_values="…", max_age="…"` (RFC 9470 §3) |
//! | DPoP proof missing, repeated or invalid | [`AuthError::Dpop`] | 401 | `DPoP error="invalid_dpop_proof", algs="…"` (RFC 9449 §7.1) |
//! | DPoP key binding wrong (proof key ≠ `cnf.jkt`; a `cnf.jkt` token as `Bearer`, or on a layer without [`dpop`](crate::dpop)) | [`AuthError::Dpop`] | 401 | `error="invalid_token"` (`DPoP` challenge, with `algs`, on a layer with DPoP) |
//! | nonces on and the proof's `nonce` missing, forged or expired | [`DpopError::UseNonce`] | 401 | `DPoP error="use_dpop_nonce", algs="…"` and `DPoP-Nonce` (RFC 9449 §9) |
//! | MCP: body over the limit / not JSON-RPC (duplicate members, empty batch) | [`AuthError::Request`] | 413 / 400 | none |
//! | MCP: an `Mcp-Session-Id` opened by another principal | [`AuthError::Request`] | 404 | none |
//! | keys or introspection unreachable, slow past `max_wait`, redirecting or misbehaving, and nothing cached decides (JWKS past `max_stale` included); introspection calls over `max_concurrent_calls` for longer than `max_call_wait`; the DPoP replay set full or its store unreachable | [`AuthError::Unavailable`] | 503 | `Retry-After: 5` |
//! | a scope layer with no auth layer in front | [`AuthError::Misconfigured`] | 500 | none (logged at error level) |
//!
//! The challenge uses the `DPoP` scheme (RFC 9449 §7.1) when the request presented its token
//! with that scheme, and for every [`DpopError`] when the layer accepts DPoP; it then carries
//! the `algs` the server accepts for proofs. When the layer accepts DPoP, a request without
//! credentials is answered with both challenges: `Bearer realm="…", DPoP algs="…"`.
//!
//! Descriptions are fixed texts chosen by this crate: they never carry the token, a secret, a
//! key or any other value taken from the request.
//!
//! Every error text is written once: the enums of fixed reasons ([`TokenError`],
//! [`DpopError`], [`BearerError`]) are declared with one literal per variant, which is both
//! their `Display` and the `error_description` of the challenge.

use http::{header, HeaderValue, Response, StatusCode};

pub(crate) mod bearer;
mod build;
mod challenge;
pub(crate) mod dpop;
mod fetch;
mod fixed;
mod handler;
mod request;
mod store;
mod token;
mod unavailable;

pub use bearer::BearerError;
pub use build::BuildError;
pub use challenge::Challenge;
pub use dpop::DpopError;
use dpop::{Nonce, NONCE_HEADER};
pub use fetch::{DiscoveryError, FetchError, IntrospectionResponseError, JwksError};
pub(crate) use fixed::fixed_texts;
pub use handler::{DefaultErrorHandler, ErrorHandler};
pub use request::RequestError;
pub use store::StoreError;
pub use token::TokenError;
pub use unavailable::UnavailableError;

/// Why a request was not let through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No usable `Authorization: Bearer` header.
    #[error(transparent)]
    Bearer(#[from] BearerError),
    /// The token was read but is not acceptable.
    #[error(transparent)]
    InvalidToken(#[from] TokenError),
    /// The token is valid but lacks the scope (or other grant) the route requires.
    #[error("insufficient scope: {required}")]
    InsufficientScope {
        /// The scope(s) the route requires, space-separated, as sent in the challenge.
        required: String,
    },
    /// The token is valid, but the user's authentication behind it is not strong enough (its
    /// `acr`) or too old (its `auth_time`) for the route (RFC 9470 step-up). Answered 401 with
    /// `error="insufficient_user_authentication"` and the `acr_values` and/or `max_age` the
    /// client should ask the authorization server for.
    #[error("insufficient user authentication")]
    InsufficientUserAuthentication {
        /// The acceptable `acr` values, space-separated, sent as `acr_values`.
        acr_values: Option<String>,
        /// The longest time since the user authenticated, in seconds, sent as `max_age`.
        max_age: Option<u64>,
    },
    /// The DPoP proof (RFC 9449) is missing or wrong, or the token's key binding does not hold.
    #[error(transparent)]
    Dpop(#[from] DpopError),
    /// The request was refused for what it carries, not for its token: a body the
    /// per-method check cannot read (too large, not JSON-RPC), or an MCP session of another
    /// principal. Answered with the [status](RequestError::status) of the reason, without a
    /// challenge.
    #[error(transparent)]
    Request(#[from] RequestError),
    /// The token could not be checked now (issuer, JWKS or introspection endpoint unreachable
    /// or misbehaving), or a DPoP proof could not be remembered because the
    /// [replay cache](crate::dpop::DpopConfig::cache_capacity) is full. The request is refused (fail
    /// closed) with 503.
    #[error(transparent)]
    Unavailable(#[from] UnavailableError),
    /// The server is set up wrongly (e.g. a scope check without an authentication layer in
    /// front of it). Refused with 500.
    #[error("server misconfiguration: {0}")]
    Misconfigured(&'static str),
}

impl AuthError {
    /// Status, error code and fixed description of this error, written once per variant.
    fn answer(&self) -> (StatusCode, Option<&'static str>, &'static str) {
        match self {
            AuthError::Bearer(e) => (e.status(), e.code(), e.description()),
            AuthError::InvalidToken(e) => (e.status(), e.code(), e.description()),
            AuthError::Dpop(e) => (e.status(), e.code(), e.description()),
            AuthError::Request(e) => (e.status(), e.code(), e.description()),
            AuthError::InsufficientScope { .. } => (
                StatusCode::FORBIDDEN,
                Some("insufficient_scope"),
                "the token lacks the required scope",
            ),
            AuthError::InsufficientUserAuthentication { .. } => (
                StatusCode::UNAUTHORIZED,
                Some("insufficient_user_authentication"),
                "a stronger or more recent user authentication is required",
            ),
            AuthError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "the token cannot be validated right now",
            ),
            AuthError::Misconfigured(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                None,
                "server misconfiguration",
            ),
        }
    }

    /// The HTTP status this error is answered with.
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::TokenError};
    /// assert_eq!(AuthError::from(TokenError::Expired).status(), 401);
    /// ```
    pub fn status(&self) -> StatusCode {
        self.answer().0
    }

    /// The RFC 6750 §3.1 error code (or RFC 9449 / 9470 code), if the answer carries one.
    pub fn code(&self) -> Option<&'static str> {
        self.answer().1
    }

    /// A human-readable description safe to send to the client: a fixed text that never
    /// contains the token or anything else taken from the request.
    pub fn description(&self) -> &'static str {
        self.answer().2
    }

    /// Builds the complete HTTP answer for this error: status, `WWW-Authenticate` challenge
    /// (where RFC 6750 asks for one), `DPoP-Nonce` for [`DpopError::UseNonce`], `Retry-After`
    /// for [`AuthError::Unavailable`], and an empty body.
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::Challenge, error::TokenError};
    /// let res: http::Response<String> =
    ///     AuthError::from(TokenError::Expired).to_response(&Challenge::new().realm("api"));
    /// assert_eq!(res.status(), 401);
    /// assert_eq!(
    ///     res.headers()["www-authenticate"],
    ///     r#"Bearer realm="api", error="invalid_token", error_description="the token has expired""#
    /// );
    /// ```
    pub fn to_response<B: Default>(&self, challenge: &Challenge) -> Response<B> {
        let mut response = Response::new(B::default());
        *response.status_mut() = self.status();
        if let Some(value) = challenge.header_for(self) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if matches!(self, AuthError::Unavailable(_)) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        if let Some(nonce) = self.dpop_nonce().and_then(|n| n.header_value()) {
            response.headers_mut().insert(NONCE_HEADER, nonce);
        }
        response
    }

    /// The fresh nonce to send in `DPoP-Nonce`, for [`DpopError::UseNonce`].
    pub(crate) fn dpop_nonce(&self) -> Option<&Nonce> {
        match self {
            AuthError::Dpop(DpopError::UseNonce(nonce)) => Some(nonce),
            _ => None,
        }
    }

    /// Logs the error at a level that fits it; never logs the token.
    pub(crate) fn log(&self) {
        match self {
            AuthError::Unavailable(reason) => {
                tracing::warn!(reason = %Chain(reason), "token validation unavailable")
            }
            AuthError::Misconfigured(reason) => {
                tracing::error!(reason = %reason, "bearer-guard misconfiguration")
            }
            other => tracing::debug!(error = %other, "request rejected"),
        }
    }
}

/// An error and its sources, `: `-separated (for logs).
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
