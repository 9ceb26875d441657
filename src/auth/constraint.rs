//! What the layer demands beyond a valid token: a sender constraint ([`SenderConstraint`]);
//! and what it lets through without one: CORS preflights, when asked to.

use http::{header, Method, Request};

use crate::claims::Confirmation;
use crate::{error::DpopError, error::TokenError, AuthError};

/// The sender constraint a layer [requires](super::AuthLayer::require_sender_constraint) of
/// every token: plain bearer tokens (no `cnf`) are refused with 401 `invalid_token`.
///
/// | mode | accepted | refusal (`WWW-Authenticate`) |
/// |---|---|---|
/// | `Dpop` | tokens with `cnf.jkt` and their DPoP proof (RFC 9449) | `DPoP error="invalid_token", algs="…"`; a request without credentials is offered `DPoP` only |
/// | `Mtls` | tokens with `cnf.x5t#S256` and their client certificate (RFC 8705) | `Bearer error="invalid_token"` (RFC 8705 §3) |
/// | `Either` | either of the above | `Bearer error="invalid_token"`, and a `DPoP` challenge too when the layer accepts DPoP |
///
/// The binding itself is checked as always ([`AuthLayer::dpop`](super::AuthLayer::dpop),
/// [`AuthLayer::mtls`](super::AuthLayer::mtls)): a mode needs the matching setting on the
/// layer, else the bound tokens it asks for are refused too (fail closed). Advertise the mode
/// in the RFC 9728 metadata with
/// [`ResourceMetadata::set_sender_constraint`](crate::ResourceMetadata::set_sender_constraint).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SenderConstraint {
    /// Only DPoP-bound tokens (`cnf.jkt`, RFC 9449).
    Dpop,
    /// Only certificate-bound tokens (`cnf.x5t#S256`, RFC 8705).
    Mtls,
    /// DPoP-bound or certificate-bound tokens.
    Either,
}

impl SenderConstraint {
    /// Whether a token with this confirmation meets the constraint (the binding itself is
    /// checked apart).
    pub(super) fn check(self, confirmation: &Confirmation<'_>) -> Result<(), AuthError> {
        let (dpop, mtls) = (confirmation.jkt.is_some(), confirmation.x5t_s256.is_some());
        match self {
            SenderConstraint::Dpop if !dpop => Err(DpopError::Required.into()),
            SenderConstraint::Mtls if !mtls => Err(TokenError::NotCertificateBound.into()),
            SenderConstraint::Either if !dpop && !mtls => {
                Err(TokenError::NotSenderConstrained.into())
            }
            _ => Ok(()),
        }
    }
}

/// Whether `req` is a CORS preflight: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method` (Fetch standard, CORS protocol).
pub(super) fn is_preflight<B>(req: &Request<B>) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}
