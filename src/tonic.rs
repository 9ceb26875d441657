//! tonic / gRPC integration (feature `tonic`).
//!
//! gRPC clients do not read HTTP status codes: a refused call must be an HTTP 200 answer
//! with `grpc-status` and `grpc-message`. [`GrpcErrors`] is the [`ErrorHandler`] that builds
//! it, for [`AuthLayer`](crate::AuthLayer) and [`RequireScopeLayer`](crate::RequireScopeLayer) alike:
//!
//! | error | gRPC code |
//! |---|---|
//! | [`AuthError::Bearer`], [`AuthError::InvalidToken`], [`AuthError::Dpop`], [`AuthError::InsufficientUserAuthentication`] | 16 `UNAUTHENTICATED` |
//! | [`AuthError::InsufficientScope`] | 7 `PERMISSION_DENIED` |
//! | [`AuthError::Request`] | 3 `INVALID_ARGUMENT` (8 `RESOURCE_EXHAUSTED` for a body too large, 5 `NOT_FOUND` for a session) |
//! | [`AuthError::Unavailable`] | 14 `UNAVAILABLE` |
//! | [`AuthError::Misconfigured`] | 13 `INTERNAL` |
//!
//! `grpc-message` is the error's fixed [description](AuthError::description); the RFC 6750
//! `www-authenticate` challenge travels as a header (gRPC metadata) where HTTP would send one,
//! and so does the fresh `dpop-nonce` of [`DpopError::UseNonce`](crate::error::DpopError::UseNonce).
//!
//! ```no_run
//! # async fn demo(validator: bearer_guard::JwtValidator) {
//! use bearer_guard::{tonic::GrpcErrors, AuthLayer, RequireScopeLayer, Requirement, scope::ScopeMap};
//!
//! let auth = AuthLayer::new(validator).error_handler(GrpcErrors);
//! let scopes = RequireScopeLayer::map(
//!     ScopeMap::new().route("/greeter.Greeter/SayHello", Requirement::all(["greet:read"])),
//! )
//! .error_handler(GrpcErrors);
//! // tonic::transport::Server::builder().layer(auth).layer(scopes).add_service(..)
//! // Handlers read `request.extensions().get::<bearer_guard::Claims>()`.
//! # }
//! ```

use ::tonic::metadata::{MetadataMap, MetadataValue};
use ::tonic::{Code, Status};
use http::Response;

use crate::error::{Challenge, ErrorHandler, RequestError};
use crate::AuthError;

/// Answers refused gRPC calls with a [`Status`] (see the [module documentation](self)).
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcErrors;

impl<B: Default> ErrorHandler<B> for GrpcErrors {
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B> {
        error.to_status(challenge).into_http()
    }
}

impl AuthError {
    /// The gRPC code for this error (see the [`tonic`](crate::tonic) module).
    pub fn grpc_code(&self) -> Code {
        match self {
            AuthError::Bearer(_)
            | AuthError::InvalidToken(_)
            | AuthError::Dpop(_)
            | AuthError::InsufficientUserAuthentication { .. } => Code::Unauthenticated,
            AuthError::InsufficientScope { .. } => Code::PermissionDenied,
            AuthError::Request(RequestError::BodyTooLarge) => Code::ResourceExhausted,
            AuthError::Request(RequestError::UnknownSession) => Code::NotFound,
            AuthError::Request(_) => Code::InvalidArgument,
            AuthError::Unavailable(_) => Code::Unavailable,
            AuthError::Misconfigured(_) => Code::Internal,
        }
    }

    /// The gRPC status for this error: code, fixed description as message, and the
    /// `www-authenticate` challenge as metadata where RFC 6750 asks for one (plus `dpop-nonce`
    /// for [`DpopError::UseNonce`](crate::error::DpopError::UseNonce)).
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::Challenge};
    /// let s = AuthError::InsufficientScope { required: "a b".into() }
    ///     .to_status(&Challenge::new().realm("api"));
    /// assert_eq!(s.code(), tonic::Code::PermissionDenied);
    /// assert_eq!(s.message(), "the token lacks the required scope");
    /// assert!(s.metadata().get("www-authenticate").is_some());
    /// ```
    pub fn to_status(&self, challenge: &Challenge) -> Status {
        let mut metadata = MetadataMap::new();
        if let Some(value) = challenge.header_for(self) {
            // A `HeaderValue` is always a valid ASCII metadata value.
            if let Ok(value) = MetadataValue::try_from(value.as_bytes()) {
                metadata.insert("www-authenticate", value);
            }
        }
        if matches!(self, AuthError::Unavailable(_)) {
            metadata.insert("retry-after", MetadataValue::from_static("5"));
        }
        if let Some(nonce) = self.dpop_nonce() {
            if let Ok(value) = MetadataValue::try_from(nonce.as_str()) {
                metadata.insert(crate::dpop::NONCE_HEADER, value);
            }
        }
        Status::with_metadata(self.grpc_code(), self.description(), metadata)
    }
}

/// Same as [`AuthError::to_status`] with a challenge without realm.
impl From<AuthError> for Status {
    fn from(error: AuthError) -> Status {
        error.to_status(&Challenge::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dpop::Nonce;
    use crate::error::DpopError;

    #[test]
    fn use_nonce_is_unauthenticated_with_challenge_and_nonce_metadata() {
        let nonce = Nonce::test(b"0123456789abcdef0123456789ABCDEF");
        let err = AuthError::from(DpopError::UseNonce(nonce));
        let challenge = Challenge::new().realm("api").with_dpop_algs("ES256".into());
        let status = err.to_status(&challenge);
        assert_eq!(status.code(), Code::Unauthenticated);
        assert_eq!(
            status.message(),
            "the DPoP proof lacks a valid server nonce"
        );
        assert_eq!(
            status.metadata().get("www-authenticate").unwrap(),
            r#"DPoP realm="api", error="use_dpop_nonce", error_description="the DPoP proof lacks a valid server nonce", algs="ES256""#
        );
        assert_eq!(
            status.metadata().get("dpop-nonce").unwrap(),
            "0123456789abcdef0123456789ABCDEF"
        );
        // Through the handler, as the layer sends it.
        let res: Response<()> = GrpcErrors.respond(&err, &challenge);
        assert_eq!(
            res.headers()["dpop-nonce"],
            "0123456789abcdef0123456789ABCDEF"
        );
        assert_eq!(res.headers()["grpc-status"], "16");
        let other = AuthError::from(DpopError::Replayed).to_status(&challenge);
        assert!(other.metadata().get("dpop-nonce").is_none());
    }
}
