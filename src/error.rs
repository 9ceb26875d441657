//! The one error type of a rejected request, and the one place that turns it into an HTTP answer
//! with an RFC 6750 `WWW-Authenticate` challenge.
//!
//! | error | status | challenge |
//! |---|---|---|
//! | [`AuthError::Bearer`] missing header / other scheme | 401 | `Bearer realm="…"` (no error code, RFC 6750 §3.1) |
//! | [`AuthError::Bearer`] empty, malformed or repeated | 400 | `error="invalid_request"` |
//! | [`AuthError::InvalidToken`] | 401 | `error="invalid_token"` |
//! | [`AuthError::InsufficientScope`] | 403 | `error="insufficient_scope", scope="…"` |
//! | [`AuthError::Dpop`] bad or missing proof | 401 | `DPoP error="invalid_dpop_proof", algs="…"` (RFC 9449 §7.1) |
//! | [`AuthError::Dpop`] key binding wrong | 401 | `DPoP error="invalid_token", algs="…"` |
//! | [`DpopError::UseNonce`] (nonces on, proof without a valid nonce) | 401 | `DPoP error="use_dpop_nonce", algs="…"` and a `DPoP-Nonce` header (RFC 9449 §9) |
//! | [`AuthError::Unavailable`] (also a full DPoP replay cache) | 503 | none |
//! | [`AuthError::Misconfigured`] | 500 | none |
//!
//! The challenge uses the `DPoP` scheme (RFC 9449 §7.1) when the request presented its token
//! with that scheme, and for every [`DpopError`] when the layer accepts DPoP; it then carries
//! the `algs` the server accepts for proofs. When the layer accepts DPoP, a request without
//! credentials is answered with both challenges: `Bearer realm="…", DPoP algs="…"`.
//!
//! Descriptions are fixed texts chosen by this crate: they never carry the token, a secret, a
//! key or any other value taken from the request.

use std::sync::Arc;

use http::{header, HeaderValue, Response, StatusCode};

use crate::bearer::{BearerError, Scheme};
use crate::dpop::{Nonce, NONCE_HEADER};

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
    /// The DPoP proof (RFC 9449) is missing or wrong, or the token's key binding does not hold.
    #[error(transparent)]
    Dpop(#[from] DpopError),
    /// The token could not be checked now (issuer, JWKS or introspection endpoint unreachable
    /// or misbehaving), or a DPoP proof could not be remembered because the
    /// [replay cache](crate::DpopConfig::replay_cache) is full. The request is refused (fail
    /// closed) with 503.
    #[error("token validation unavailable: {0}")]
    Unavailable(String),
    /// The server is set up wrongly (e.g. a scope check without an authentication layer in
    /// front of it). Refused with 500.
    #[error("server misconfiguration: {0}")]
    Misconfigured(&'static str),
}

/// Why a token was refused. Each variant maps to `401 invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured limit.
    #[error("the token is too large")]
    TooLarge,
    /// The token is not a well-formed compact JWS (segments, base64url, JSON).
    #[error("the token is malformed")]
    Malformed,
    /// The token is an encrypted JWT (JWE), which is not accepted.
    #[error("encrypted tokens are not accepted")]
    Encrypted,
    /// A JSON object in the token has the same member twice.
    #[error("the token has duplicate members")]
    DuplicateMember,
    /// The `alg` header is not on the allow-list (this includes `none`).
    #[error("the signing algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The `typ` header is not the required access-token type (RFC 9068).
    #[error("the token type is not an access token")]
    WrongType,
    /// The `crit` header names an extension this validator does not understand.
    #[error("the token uses an unsupported critical extension")]
    UnsupportedCritical,
    /// No key of the issuer matches the token's `kid`.
    #[error("the signing key is unknown")]
    UnknownKey,
    /// The key exists but may not verify this token (its `alg`, `kty`, `crv`, `use` or
    /// `key_ops` disagree with the token).
    #[error("the signing key does not fit the token")]
    KeyMismatch,
    /// The signature does not verify.
    #[error("the signature is invalid")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future (beyond the leeway).
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// `iss` is not the configured issuer.
    #[error("the token issuer is not accepted")]
    WrongIssuer,
    /// `aud` does not name this resource server.
    #[error("the token audience is not accepted")]
    WrongAudience,
    /// A required claim is absent.
    #[error("the token lacks a required claim")]
    MissingClaim,
    /// A claim has the wrong type or an impossible value.
    #[error("the token has an invalid claim")]
    InvalidClaim,
    /// The authorization server says the token is not active (introspection).
    #[error("the token is not active")]
    Inactive,
    /// The token is bound (`cnf`, RFC 7800) by a confirmation method this layer does not check,
    /// such as a client certificate (`x5t#S256`, RFC 8705), or `cnf` is not a JSON object.
    #[error("the token is bound to a key this server cannot check")]
    UnsupportedConfirmation,
}

/// Why a DPoP-bound request (RFC 9449) was refused. Each variant maps to 401; the code is
/// `invalid_dpop_proof` for a bad or missing proof, `invalid_token` when the token's key
/// binding fails and `use_dpop_nonce` when a server nonce is required ([`DpopError::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DpopError {
    /// The request has no `DPoP` header although the token needs a proof.
    #[error("a DPoP proof is required")]
    Missing,
    /// The request has more than one `DPoP` header.
    #[error("more than one DPoP proof")]
    Multiple,
    /// The proof is not a well-formed compact JWS with JSON header and claims (or it is too
    /// large, has duplicate members, or a `crit` header).
    #[error("the DPoP proof is malformed")]
    Malformed,
    /// The `typ` header is not `dpop+jwt`.
    #[error("the DPoP proof type is not dpop+jwt")]
    WrongType,
    /// The `alg` header is not on the allow-list of asymmetric algorithms (this includes `none`
    /// and HMAC).
    #[error("the DPoP proof algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The `jwk` header is missing, not a usable public key, or does not fit `alg`.
    #[error("the DPoP proof key is not usable")]
    InvalidKey,
    /// The `jwk` header contains private key material.
    #[error("the DPoP proof key contains private key material")]
    PrivateKey,
    /// The signature does not verify with the `jwk` of the header.
    #[error("the DPoP proof signature is invalid")]
    InvalidSignature,
    /// A required claim (`jti`, `htm`, `htu`, `iat`, `ath`) is absent or of the wrong type.
    #[error("the DPoP proof lacks a required claim")]
    MissingClaim,
    /// `htm` is not the method of the request.
    #[error("the DPoP proof is for another HTTP method")]
    WrongMethod,
    /// `htu` is not the URI of the request.
    #[error("the DPoP proof is for another URI")]
    WrongUri,
    /// `iat` is outside the accepted window.
    #[error("the DPoP proof is too old or too far in the future")]
    OutsideWindow,
    /// A proof with this `jti` was seen before.
    #[error("the DPoP proof was already used")]
    Replayed,
    /// `ath` is not the hash of the presented access token.
    #[error("the DPoP proof is for another access token")]
    WrongTokenHash,
    /// The proof's key is not the key the token is bound to (`cnf.jkt`).
    #[error("the DPoP proof key does not match the token binding")]
    KeyMismatch,
    /// A DPoP-bound token (with `cnf.jkt`) was presented with the `Bearer` scheme, or DPoP is
    /// not accepted by this server (RFC 9449 §7.2).
    #[error("the token is bound to a DPoP key")]
    BoundToken,
    /// A token presented with the `DPoP` scheme is not bound to a key (no string `cnf.jkt`).
    #[error("the token is not bound to a DPoP key")]
    NotBound,
    /// Nonces are [required](crate::DpopConfig::nonces) and the proof's `nonce` is missing,
    /// not one this server issued, or expired (RFC 9449 §9). Carries the fresh nonce to send in
    /// the `DPoP-Nonce` header, which [`AuthError::to_response`] does; the client retries with
    /// a new proof that carries it.
    ///
    /// ```
    /// use bearer_guard::{AuthError, DpopError};
    /// fn fresh_nonce(error: &AuthError) -> Option<&str> {
    ///     match error {
    ///         AuthError::Dpop(DpopError::UseNonce(nonce)) => Some(nonce.as_str()),
    ///         _ => None,
    ///     }
    /// }
    /// # assert_eq!(fresh_nonce(&DpopError::Missing.into()), None);
    /// ```
    #[error("the DPoP proof lacks a valid server nonce")]
    UseNonce(Nonce),
}

impl DpopError {
    /// The RFC 9449 / RFC 6750 error code: `invalid_token` for a failed key binding,
    /// `use_dpop_nonce` for [`DpopError::UseNonce`], `invalid_dpop_proof` otherwise.
    ///
    /// ```
    /// use bearer_guard::DpopError;
    /// assert_eq!(DpopError::Replayed.code(), "invalid_dpop_proof");
    /// assert_eq!(DpopError::KeyMismatch.code(), "invalid_token");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            DpopError::KeyMismatch | DpopError::BoundToken | DpopError::NotBound => "invalid_token",
            DpopError::UseNonce(_) => "use_dpop_nonce",
            _ => "invalid_dpop_proof",
        }
    }

    /// The fixed description sent in `error_description`.
    pub fn description(&self) -> &'static str {
        match self {
            DpopError::Missing => "a DPoP proof is required",
            DpopError::Multiple => "more than one DPoP proof",
            DpopError::Malformed => "the DPoP proof is malformed",
            DpopError::WrongType => "the DPoP proof type is not dpop+jwt",
            DpopError::AlgorithmNotAllowed => "the DPoP proof algorithm is not allowed",
            DpopError::InvalidKey => "the DPoP proof key is not usable",
            DpopError::PrivateKey => "the DPoP proof key contains private key material",
            DpopError::InvalidSignature => "the DPoP proof signature is invalid",
            DpopError::MissingClaim => "the DPoP proof lacks a required claim",
            DpopError::WrongMethod => "the DPoP proof is for another HTTP method",
            DpopError::WrongUri => "the DPoP proof is for another URI",
            DpopError::OutsideWindow => "the DPoP proof is too old or too far in the future",
            DpopError::Replayed => "the DPoP proof was already used",
            DpopError::WrongTokenHash => "the DPoP proof is for another access token",
            DpopError::KeyMismatch => "the DPoP proof key does not match the token binding",
            DpopError::BoundToken => "the token is bound to a DPoP key",
            DpopError::NotBound => "the token is not bound to a DPoP key",
            DpopError::UseNonce(_) => "the DPoP proof lacks a valid server nonce",
        }
    }
}

impl AuthError {
    /// The HTTP status this error is answered with.
    ///
    /// ```
    /// use bearer_guard::{AuthError, TokenError};
    /// assert_eq!(AuthError::from(TokenError::Expired).status(), 401);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Bearer(BearerError::Missing | BearerError::OtherScheme) => {
                StatusCode::UNAUTHORIZED
            }
            AuthError::Bearer(_) => StatusCode::BAD_REQUEST,
            AuthError::InvalidToken(_) | AuthError::Dpop(_) => StatusCode::UNAUTHORIZED,
            AuthError::InsufficientScope { .. } => StatusCode::FORBIDDEN,
            AuthError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 §3.1 error code, if the answer carries one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            AuthError::Bearer(BearerError::Missing | BearerError::OtherScheme) => None,
            AuthError::Bearer(_) => Some("invalid_request"),
            AuthError::InvalidToken(_) => Some("invalid_token"),
            AuthError::Dpop(e) => Some(e.code()),
            AuthError::InsufficientScope { .. } => Some("insufficient_scope"),
            AuthError::Unavailable(_) | AuthError::Misconfigured(_) => None,
        }
    }

    /// A human-readable description safe to send to the client: a fixed text that never
    /// contains the token or anything else taken from the request.
    pub fn description(&self) -> &'static str {
        match self {
            AuthError::Bearer(BearerError::Missing) => "authentication required",
            AuthError::Bearer(BearerError::OtherScheme) => "the Bearer scheme is required",
            AuthError::Bearer(BearerError::Empty) => "the Bearer token is empty",
            AuthError::Bearer(BearerError::Malformed) => "the Bearer token is malformed",
            AuthError::Bearer(BearerError::Multiple) => "more than one Authorization header",
            AuthError::InvalidToken(e) => e.description(),
            AuthError::Dpop(e) => e.description(),
            AuthError::InsufficientScope { .. } => "the token lacks the required scope",
            AuthError::Unavailable(_) => "the token cannot be validated right now",
            AuthError::Misconfigured(_) => "server misconfiguration",
        }
    }

    /// Builds the complete HTTP answer for this error: status, `WWW-Authenticate` challenge
    /// (where RFC 6750 asks for one), `DPoP-Nonce` for [`DpopError::UseNonce`], `Retry-After`
    /// for [`AuthError::Unavailable`], and an empty body.
    ///
    /// ```
    /// use bearer_guard::{AuthError, Challenge, TokenError};
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
                tracing::warn!(reason = %reason, "token validation unavailable")
            }
            AuthError::Misconfigured(reason) => {
                tracing::error!(reason = %reason, "bearer-guard misconfiguration")
            }
            other => tracing::debug!(error = %other, "request rejected"),
        }
    }
}

impl TokenError {
    /// The fixed description sent in `error_description`.
    pub fn description(&self) -> &'static str {
        match self {
            TokenError::TooLarge => "the token is too large",
            TokenError::Malformed => "the token is malformed",
            TokenError::Encrypted => "encrypted tokens are not accepted",
            TokenError::DuplicateMember => "the token has duplicate members",
            TokenError::AlgorithmNotAllowed => "the signing algorithm is not allowed",
            TokenError::WrongType => "the token type is not an access token",
            TokenError::UnsupportedCritical => "the token uses an unsupported critical extension",
            TokenError::UnknownKey => "the signing key is unknown",
            TokenError::KeyMismatch => "the signing key does not fit the token",
            TokenError::InvalidSignature => "the signature is invalid",
            TokenError::Expired => "the token has expired",
            TokenError::NotYetValid => "the token is not valid yet",
            TokenError::IssuedInFuture => "the token was issued in the future",
            TokenError::WrongIssuer => "the token issuer is not accepted",
            TokenError::WrongAudience => "the token audience is not accepted",
            TokenError::MissingClaim => "the token lacks a required claim",
            TokenError::InvalidClaim => "the token has an invalid claim",
            TokenError::Inactive => "the token is not active",
            TokenError::UnsupportedConfirmation => {
                "the token is bound to a key this server cannot check"
            }
        }
    }
}

/// The parameters of the `WWW-Authenticate` challenge: realm, scheme and RFC 9728
/// `resource_metadata`. Cheap to clone.
///
/// ```
/// use bearer_guard::{AuthError, BearerError, Challenge};
/// let c = Challenge::new()
///     .realm("example")
///     .resource_metadata("https://api.example/.well-known/oauth-protected-resource");
/// let v = c.header_for(&AuthError::Bearer(BearerError::Missing)).unwrap();
/// assert_eq!(v, r#"Bearer realm="example", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Challenge(Arc<ChallengeParams>);

#[derive(Debug, Clone, Default)]
struct ChallengeParams {
    realm: Option<String>,
    resource_metadata: Option<String>,
    scheme: Scheme,
    /// The `algs` of DPoP challenges; `Some` when the layer accepts DPoP.
    dpop_algs: Option<String>,
}

impl Challenge {
    /// A challenge without realm.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `realm` parameter (RFC 6750 §3).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).realm = Some(realm.into());
        self
    }

    /// Sets the RFC 9728 `resource_metadata` parameter: the URL of this resource's
    /// protected-resource metadata document.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).resource_metadata = Some(url.into());
        self
    }

    /// The scheme the token of this request was presented with; the challenge uses it.
    pub fn scheme(&self) -> Scheme {
        self.0.scheme
    }

    /// The space-separated DPoP proof algorithms sent as `algs`, when DPoP is accepted.
    pub fn dpop_algs(&self) -> Option<&str> {
        self.0.dpop_algs.as_deref()
    }

    /// The same challenge for a server that accepts DPoP proofs signed with `algs`.
    pub(crate) fn with_dpop_algs(mut self, algs: String) -> Self {
        Arc::make_mut(&mut self.0).dpop_algs = Some(algs);
        self
    }

    /// The same challenge for a request that used `scheme`.
    pub(crate) fn with_scheme(mut self, scheme: Scheme) -> Self {
        Arc::make_mut(&mut self.0).scheme = scheme;
        self
    }

    /// The `WWW-Authenticate` value for an error, or `None` where no challenge is sent
    /// (503 and 500).
    ///
    /// ```
    /// use bearer_guard::{AuthError, Challenge, DpopError};
    /// // Without DPoP support, even DPoP errors are answered with a Bearer challenge.
    /// let v = Challenge::new().header_for(&AuthError::Dpop(DpopError::BoundToken)).unwrap();
    /// assert_eq!(v, r#"Bearer error="invalid_token", error_description="the token is bound to a DPoP key""#);
    /// ```
    pub fn header_for(&self, error: &AuthError) -> Option<HeaderValue> {
        if matches!(
            error,
            AuthError::Unavailable(_) | AuthError::Misconfigured(_)
        ) {
            return None;
        }
        let dpop = match &self.0.dpop_algs {
            Some(algs) if self.0.scheme == Scheme::DPoP || matches!(error, AuthError::Dpop(_)) => {
                Some(algs.as_str())
            }
            _ => None,
        };
        let mut value = self.challenge(
            if dpop.is_some() {
                Scheme::DPoP
            } else {
                Scheme::Bearer
            },
            error,
            dpop,
        );
        if let (
            None,
            Some(algs),
            AuthError::Bearer(BearerError::Missing | BearerError::OtherScheme),
        ) = (dpop, &self.0.dpop_algs, error)
        {
            // Both schemes are accepted: offer both (RFC 9449 §7.1).
            value.push_str(", ");
            value.push_str(&self.challenge(Scheme::DPoP, error, Some(algs)));
        }
        // Every part is either a fixed text or configuration passed through `push_quoted`,
        // which keeps only visible ASCII and spaces, so this cannot fail; fall back to the
        // bare scheme all the same.
        Some(HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer")))
    }

    /// One challenge: `scheme` followed by its parameters.
    fn challenge(&self, scheme: Scheme, error: &AuthError, algs: Option<&str>) -> String {
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(6);
        if let Some(realm) = &self.0.realm {
            params.push(("realm", realm));
        }
        if let Some(code) = error.code() {
            params.push(("error", code));
            params.push(("error_description", error.description()));
        }
        if let AuthError::InsufficientScope { required } = error {
            params.push(("scope", required));
        }
        if let Some(url) = &self.0.resource_metadata {
            params.push(("resource_metadata", url));
        }
        if let Some(algs) = algs {
            params.push(("algs", algs));
        }
        let mut value = String::from(scheme.as_str());
        for (i, (name, val)) in params.iter().enumerate() {
            value.push_str(if i == 0 { " " } else { ", " });
            value.push_str(name);
            value.push_str("=\"");
            push_quoted(&mut value, val);
            value.push('"');
        }
        value
    }
}

/// Appends `text` as the content of an RFC 7230 quoted-string: `"` and `\` are escaped and
/// characters that may not appear in a header are dropped.
fn push_quoted(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {}
        }
    }
}

/// Turns an [`AuthError`] into the response a rejected request gets.
///
/// The default, [`DefaultErrorHandler`], answers with [`AuthError::to_response`]. Implement this
/// trait to add a body (e.g. JSON) or headers; it is also how the gRPC mapping plugs in.
///
/// ```
/// use bearer_guard::{AuthError, Challenge, ErrorHandler};
///
/// #[derive(Clone)]
/// struct JsonErrors;
///
/// impl ErrorHandler<String> for JsonErrors {
///     fn respond(&self, error: &AuthError, challenge: &Challenge) -> http::Response<String> {
///         let mut res = error.to_response::<String>(challenge);
///         *res.body_mut() = format!(r#"{{"error":"{}"}}"#, error.code().unwrap_or("unavailable"));
///         res
///     }
/// }
/// ```
pub trait ErrorHandler<B>: Clone + Send + Sync + 'static {
    /// Builds the response for `error`.
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B>;
}

/// A closure is an error handler too:
///
/// ```
/// use bearer_guard::{AuthError, AuthLayer, Challenge, JwtValidator};
/// # async fn demo(validator: JwtValidator) {
/// let layer = AuthLayer::new(validator).error_handler(|error: &AuthError, challenge: &Challenge| {
///     let mut res = error.to_response::<String>(challenge);
///     *res.body_mut() = format!(r#"{{"error":"{}"}}"#, error.code().unwrap_or("unavailable"));
///     res
/// });
/// # let _ = layer; }
/// ```
impl<B, F> ErrorHandler<B> for F
where
    F: Fn(&AuthError, &Challenge) -> Response<B> + Clone + Send + Sync + 'static,
{
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B> {
        self(error, challenge)
    }
}

/// Answers with status and `WWW-Authenticate` challenge, and an empty body.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultErrorHandler;

impl<B: Default> ErrorHandler<B> for DefaultErrorHandler {
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B> {
        error.to_response(challenge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(err: AuthError, c: &Challenge) -> String {
        c.header_for(&err)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn missing_token_has_no_error_code() {
        let c = Challenge::new().realm("api");
        assert_eq!(
            header(BearerError::Missing.into(), &c),
            r#"Bearer realm="api""#
        );
        assert_eq!(
            header(BearerError::Missing.into(), &Challenge::new()),
            "Bearer"
        );
    }

    #[test]
    fn scope_is_named_in_403() {
        let err = AuthError::InsufficientScope {
            required: "a b".into(),
        };
        assert_eq!(err.status(), 403);
        assert_eq!(
            header(err, &Challenge::new()),
            r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="a b""#
        );
    }

    #[test]
    fn quoted_values_are_escaped() {
        let c = Challenge::new().realm("a\"b\\c\nd");
        assert_eq!(
            header(BearerError::Missing.into(), &c),
            r#"Bearer realm="a\"b\\cd""#
        );
    }

    #[test]
    fn dpop_challenges() {
        let c = Challenge::new()
            .realm("api")
            .with_dpop_algs("ES256 EdDSA".into());
        assert_eq!(
            header(DpopError::Replayed.into(), &c),
            r#"DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256 EdDSA""#
        );
        assert_eq!(
            header(BearerError::Missing.into(), &c),
            r#"Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA""#
        );
        assert_eq!(
            header(TokenError::Expired.into(), &c),
            r#"Bearer realm="api", error="invalid_token", error_description="the token has expired""#
        );
        let d = c.with_scheme(Scheme::DPoP);
        assert_eq!(
            header(TokenError::Expired.into(), &d),
            r#"DPoP realm="api", error="invalid_token", error_description="the token has expired", algs="ES256 EdDSA""#
        );
        assert_eq!(AuthError::from(DpopError::Missing).status(), 401);
    }

    #[test]
    fn use_nonce_challenge_and_header() {
        let nonce = Nonce::test("n".repeat(32).as_bytes());
        let err = AuthError::from(DpopError::UseNonce(nonce));
        assert_eq!(err.code(), Some("use_dpop_nonce"));
        let c = Challenge::new()
            .realm("api")
            .resource_metadata("https://api.example/meta")
            .with_dpop_algs("ES256".into());
        let res: Response<()> = err.to_response(&c);
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            r#"DPoP realm="api", error="use_dpop_nonce", error_description="the DPoP proof lacks a valid server nonce", resource_metadata="https://api.example/meta", algs="ES256""#
        );
        assert_eq!(res.headers()["dpop-nonce"], "n".repeat(32));
        let res: Response<()> = AuthError::from(DpopError::Replayed).to_response(&c);
        assert!(res.headers().get("dpop-nonce").is_none());
    }

    #[test]
    fn unavailable_is_503_without_challenge() {
        let err = AuthError::Unavailable("jwks down".into());
        let res: Response<()> = err.to_response(&Challenge::new());
        assert_eq!(res.status(), 503);
        assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
    }
}
