//! [`TokenError`]: why a token was refused, one fixed text per reason.

super::fixed_texts! {
/// Why a token was refused. Each variant maps to `401 invalid_token`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than the configured limit.
    TooLarge => (UNAUTHORIZED, Some("invalid_token")) "the token is too large",
    /// The token is not a well-formed compact JWS (segments, base64url, JSON).
    Malformed => (UNAUTHORIZED, Some("invalid_token")) "the token is malformed",
    /// The token is an encrypted JWT (JWE), which is not accepted.
    Encrypted => (UNAUTHORIZED, Some("invalid_token")) "encrypted tokens are not accepted",
    /// A JSON object in the token has the same member twice.
    DuplicateMember => (UNAUTHORIZED, Some("invalid_token")) "the token has duplicate members",
    /// The `alg` header is not on the allow-list (this includes `none`).
    AlgorithmNotAllowed => (UNAUTHORIZED, Some("invalid_token")) "the signing algorithm is not allowed",
    /// The `typ` header is not the required access-token type (RFC 9068).
    WrongType => (UNAUTHORIZED, Some("invalid_token")) "the token type is not an access token",
    /// The `crit` header names an extension this validator does not understand.
    UnsupportedCritical => (UNAUTHORIZED, Some("invalid_token")) "the token uses an unsupported critical extension",
    /// No key of the issuer matches the token's `kid`.
    UnknownKey => (UNAUTHORIZED, Some("invalid_token")) "the signing key is unknown",
    /// The key exists but may not verify this token (its `alg`, `kty`, `crv`, `use` or
    /// `key_ops` disagree with the token).
    KeyMismatch => (UNAUTHORIZED, Some("invalid_token")) "the signing key does not fit the token",
    /// The signature does not verify.
    InvalidSignature => (UNAUTHORIZED, Some("invalid_token")) "the signature is invalid",
    /// `exp` is in the past (beyond the leeway).
    Expired => (UNAUTHORIZED, Some("invalid_token")) "the token has expired",
    /// `nbf` is in the future (beyond the leeway).
    NotYetValid => (UNAUTHORIZED, Some("invalid_token")) "the token is not valid yet",
    /// `iat` is in the future (beyond the leeway).
    IssuedInFuture => (UNAUTHORIZED, Some("invalid_token")) "the token was issued in the future",
    /// `iss` is not the configured issuer.
    WrongIssuer => (UNAUTHORIZED, Some("invalid_token")) "the token issuer is not accepted",
    /// `aud` does not name this resource server.
    WrongAudience => (UNAUTHORIZED, Some("invalid_token")) "the token audience is not accepted",
    /// A required claim is absent.
    MissingClaim => (UNAUTHORIZED, Some("invalid_token")) "the token lacks a required claim",
    /// A claim has the wrong type or an impossible value.
    InvalidClaim => (UNAUTHORIZED, Some("invalid_token")) "the token has an invalid claim",
    /// The authorization server says the token is not active (introspection).
    Inactive => (UNAUTHORIZED, Some("invalid_token")) "the token is not active",
    /// The token is bound (`cnf`, RFC 7800) by a confirmation method this layer does not check,
    /// such as a client certificate (`x5t#S256`, RFC 8705) on a layer without
    /// [`AuthLayer::mtls`](crate::AuthLayer::mtls), or `cnf` is not a JSON object.
    UnsupportedConfirmation => (UNAUTHORIZED, Some("invalid_token")) "the token is bound to a key this server cannot check",
    /// The token is bound to a client certificate (`cnf.x5t#S256`, RFC 8705), but the request
    /// did not come with one (no mutual TLS, or no certificate forwarded by the proxy).
    CertificateRequired => (UNAUTHORIZED, Some("invalid_token")) "the token is bound to a client certificate and none was presented",
    /// The token is bound to a client certificate (`cnf.x5t#S256`, RFC 8705) other than the
    /// one the request came with.
    CertificateMismatch => (UNAUTHORIZED, Some("invalid_token")) "the token is bound to another client certificate",
    /// The client certificate header of the trusted proxy
    /// ([`ProxyHeader`](crate::mtls::ProxyHeader)) is repeated, too large or not in its
    /// format.
    MalformedCertificate => (UNAUTHORIZED, Some("invalid_token")) "the forwarded client certificate is malformed",
    /// The layer [requires](crate::AuthLayer::require_sender_constraint) certificate-bound
    /// tokens ([`SenderConstraint::Mtls`](crate::auth::SenderConstraint::Mtls), RFC 8705 §3)
    /// and the token has no `cnf.x5t#S256`.
    NotCertificateBound => (UNAUTHORIZED, Some("invalid_token")) "a certificate-bound token is required",
    /// The layer [requires](crate::AuthLayer::require_sender_constraint) sender-constrained
    /// tokens ([`SenderConstraint::Either`](crate::auth::SenderConstraint::Either)) and the
    /// token is bound neither to a DPoP key nor to a client certificate.
    NotSenderConstrained => (UNAUTHORIZED, Some("invalid_token")) "a sender-constrained token is required",
}
}
