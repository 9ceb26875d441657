//! [`Config`]: what every request of an [`Auth`](super::Auth) service is checked with, shared
//! behind one `Arc` by the service, its clones and the requests waiting in a
//! [`ResponseFuture`](super::future::ResponseFuture).

use std::sync::Arc;

use http::Request;

use super::constraint::SenderConstraint;
use crate::bearer::{self, AuthScheme};
use crate::claims::Claims;
use crate::dpop::{Checked, DpopVerifier, Nonce};
use crate::error::{AuthError, Challenge};
use crate::mtls::MtlsConfig;
use crate::source::TokenSources;

/// The settings of an [`AuthLayer`](super::AuthLayer), fixed when it makes a service.
#[derive(Debug)]
pub(super) struct Config<H> {
    pub(super) handler: H,
    /// For `Bearer` requests (and those without credentials).
    pub(super) challenge: Challenge,
    /// For requests that used the `DPoP` scheme.
    pub(super) dpop_challenge: Challenge,
    pub(super) optional: bool,
    pub(super) dpop: Option<Arc<DpopVerifier>>,
    pub(super) mtls: Option<Arc<MtlsConfig>>,
    pub(super) sources: TokenSources,
    pub(super) required: Option<SenderConstraint>,
    pub(super) allow_preflight: bool,
}

impl<H> Config<H> {
    /// The challenge of answers to a request that used `scheme`.
    pub(super) fn challenge_for(&self, scheme: AuthScheme) -> &Challenge {
        match scheme {
            AuthScheme::Bearer => &self.challenge,
            AuthScheme::DPoP => &self.dpop_challenge,
        }
    }

    /// After the validator accepted the token: checks its bindings (`cnf`, RFC 7800) against the
    /// request. The client certificate first (`cnf.x5t#S256`, see [`crate::mtls`]), then the DPoP
    /// proof (`cnf.jkt`), so that a request refused for its certificate does not use up its proof;
    /// a token bound both ways must pass both. Without DPoP support, tokens bound to a key are
    /// refused (fail closed), and so are certificate-bound tokens without certificate support.
    /// A [required](super::AuthLayer::require_sender_constraint) sender constraint is checked
    /// first, so that a plain bearer token refused for it uses up no proof.
    /// Returns the fresh DPoP nonce to send with the response, if any, or the check that must
    /// still ask the shared replay store for it.
    pub(super) fn check_binding<B>(
        &self,
        req: &Request<B>,
        scheme: AuthScheme,
        claims: &Claims,
    ) -> Result<Checked<Option<Nonce>>, AuthError> {
        let (dpop, mtls, required) = (self.dpop.as_deref(), self.mtls.as_deref(), self.required);
        let confirmation = claims.confirmation()?;
        if let Some(required) = required {
            required.check(&confirmation)?;
        }
        crate::mtls::check_binding(mtls, req, confirmation.x5t_s256)?;
        match dpop {
            None => crate::dpop::refuse_bound(confirmation.jkt).map(|()| Checked::Done(None)),
            // Only the `DPoP` scheme needs the token (the proof's `ath`), and that scheme is only
            // ever taken from the `Authorization` header, where it was found before. A token from
            // any other place is a `Bearer` one: bound with `cnf.jkt`, it is refused
            // (`DpopError::BoundToken`), so DPoP-bound tokens stay header-only.
            Some(dpop) => match scheme {
                AuthScheme::DPoP => {
                    let (_, token) = bearer::extract_any(req.headers())?;
                    dpop.check_request(req, scheme, token, confirmation.jkt)
                }
                AuthScheme::Bearer => dpop.check_request(req, scheme, "", confirmation.jkt),
            },
        }
    }
}
