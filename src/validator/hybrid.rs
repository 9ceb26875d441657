//! [`HybridValidator`]: JWT-shaped tokens to one validator, others to another.

use super::{Readiness, ValidationFuture, Validator};

/// Sends tokens that look like JWTs to a local validator (a
/// [`JwtValidator`](crate::JwtValidator)) and all others to a remote one (an
/// [`IntrospectionValidator`](crate::IntrospectionValidator)).
///
/// A token "looks like a JWT" when it has exactly three dot-separated segments and the first
/// is base64url that decodes to a JSON object. Such a token is decided by the local validator
/// alone: if it fails there, it is refused, never introspected. Everything else (opaque
/// tokens, five-segment JWEs) goes to the remote validator.
#[derive(Debug, Clone)]
pub struct HybridValidator<L, R> {
    local: L,
    remote: R,
}

impl<L: Validator, R: Validator> HybridValidator<L, R> {
    /// Validates JWT-shaped tokens with `local`, others with `remote`.
    pub fn new(local: L, remote: R) -> Self {
        HybridValidator { local, remote }
    }
}

impl<L: Validator, R: Validator> Validator for HybridValidator<L, R> {
    fn validate(&self, token: &str) -> ValidationFuture {
        if looks_like_jwt(token) {
            self.local.validate(token)
        } else {
            self.remote.validate(token)
        }
    }

    /// Ready when both validators are.
    fn readiness(&self) -> Readiness {
        self.local.readiness().and(self.remote.readiness())
    }
}

/// Three segments, the first a base64url-encoded JSON object.
///
/// ```
/// use bearer_guard::validator::looks_like_jwt;
/// assert!(looks_like_jwt("eyJhbGciOiJSUzI1NiJ9.e30.c2ln"));
/// assert!(!looks_like_jwt("2YotnFZFEjr1zCsicMWpAA"));
/// assert!(!looks_like_jwt("a.b.c"));
/// ```
pub fn looks_like_jwt(token: &str) -> bool {
    crate::jose::looks_like_jws(token)
}
