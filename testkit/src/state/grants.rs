//! Grant bookkeeping: authorization codes, refresh tokens and their families, opaque tokens,
//! revoked `jti`s.

use std::collections::{HashMap, HashSet};

use super::{AuthInfo, Claims};

/// A pending authorization code.
pub(crate) struct AuthCode {
    pub(crate) client_id: String,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) code_challenge: String,
    pub(crate) sub: String,
    pub(crate) scope: String,
    /// The resources (RFC 8707) of the authorization request; empty when it named none.
    pub(crate) resources: Vec<String>,
    pub(crate) expires_at: u64,
    /// The OpenID Connect `nonce` of the authorization request, for the ID token.
    pub(crate) nonce: Option<String>,
    /// The user's sign-in the code was issued after.
    pub(crate) auth: AuthInfo,
}

/// An active refresh token.
pub(crate) struct RefreshGrant {
    pub(crate) client_id: String,
    pub(crate) sub: String,
    pub(crate) scope: String,
    /// The resources (RFC 8707) of the grant; empty when neither the authorization request
    /// nor the first token request named one (then the tokens are for the default audience).
    pub(crate) resources: Vec<String>,
    /// The token family (one authorization) this refresh token belongs to.
    pub(crate) family: u64,
    /// The user's sign-in the grant started with (its tokens keep its `auth_time`, `acr`).
    pub(crate) auth: AuthInfo,
}

/// One authorization: the refresh tokens that rotate from one another and the access tokens
/// issued along the way (RFC 9700 §4.14.2).
pub(crate) struct Family {
    /// The client the family was issued to.
    pub(crate) client_id: String,
    /// Set once the family is revoked; nothing is added to it afterwards.
    pub(crate) revoked: bool,
    /// The one refresh token of the family that may still be redeemed.
    pub(crate) current: Option<String>,
    /// `jti`s of access tokens issued under this family (revoked with it).
    pub(crate) jtis: Vec<String>,
}

/// Mutable grant bookkeeping.
#[derive(Default)]
pub(crate) struct Grants {
    pub(crate) codes: HashMap<String, AuthCode>,
    /// Redeemed codes → the family they started, so a replayed code revokes everything
    /// issued from it (RFC 6749 §4.1.2).
    pub(crate) used_codes: HashMap<String, u64>,
    pub(crate) refresh: HashMap<String, RefreshGrant>,
    /// Rotated-out refresh tokens → their family, so a replay revokes the family.
    pub(crate) used_refresh: HashMap<String, u64>,
    pub(crate) families: HashMap<u64, Family>,
    next_family: u64,
    pub(crate) opaque: HashMap<String, Claims>,
    pub(crate) revoked_jtis: HashSet<String>,
}

impl Grants {
    /// Starts a token family whose first access token has `jti`.
    pub(crate) fn new_family(&mut self, client_id: &str, jti: String) -> u64 {
        self.next_family = self.next_family.wrapping_add(1);
        let id = self.next_family;
        self.families.insert(
            id,
            Family {
                client_id: client_id.to_owned(),
                revoked: false,
                current: None,
                jtis: vec![jti],
            },
        );
        id
    }

    /// Makes `token` the current refresh token of `family`.
    pub(crate) fn set_current(&mut self, family: u64, token: &str, grant: RefreshGrant) {
        if let Some(f) = self.families.get_mut(&family) {
            f.current = Some(token.to_owned());
        }
        self.refresh.insert(token.to_owned(), grant);
    }

    /// Revokes a whole family: its current refresh token and every access token issued in
    /// it. Rotated-out tokens stay known, so that a later replay is still an `invalid_grant`
    /// of the same kind.
    pub(crate) fn revoke_family(&mut self, family: u64) {
        if let Some(f) = self.families.get_mut(&family) {
            f.revoked = true;
            if let Some(current) = f.current.take() {
                self.refresh.remove(&current);
            }
            let jtis = std::mem::take(&mut f.jtis);
            self.revoked_jtis.extend(jtis);
        }
    }
}
