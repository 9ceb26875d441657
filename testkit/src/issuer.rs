//! [`Issuer`]: the handle of one issuer of a [`TestServer`](crate::TestServer), the root
//! one or one [by path](crate::TestServer::add_issuer): its URLs, minting, keys, counters,
//! faults, users and sign-ins.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{Client, Endpoint, Fault};
use crate::keys::KeyAlg;
use crate::mint::TokenBuilder;
use crate::state::{AuthInfo, Inner};
use crate::user::User;

/// One issuer of a [`TestServer`](crate::TestServer): its own keys, clients, users, grants,
/// counters and faults. The server's root issuer is reached through the server itself (it
/// dereferences to its `Issuer`); issuers by path through
/// [`TestServer::add_issuer`](crate::TestServer::add_issuer) and
/// [`TestServer::issuer_at`](crate::TestServer::issuer_at). Cheap to clone.
#[derive(Clone)]
pub struct Issuer {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Issuer")
            .field("issuer", &self.inner.issuer)
            .finish_non_exhaustive()
    }
}

impl Issuer {
    /// The issuer identifier, `http://127.0.0.1:PORT` for the root issuer,
    /// `http://127.0.0.1:PORT/{name}` for one [by path](crate::TestServer::add_issuer) (no trailing
    /// slash); also the `iss` of issued tokens.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The default audience (`aud`) of issued tokens.
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// `{issuer}/.well-known/openid-configuration`.
    pub fn discovery_uri(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.inner.issuer)
    }

    /// `{issuer}/jwks`.
    pub fn jwks_uri(&self) -> String {
        format!("{}/jwks", self.inner.issuer)
    }

    /// `{issuer}/token`.
    pub fn token_endpoint(&self) -> String {
        format!("{}/token", self.inner.issuer)
    }

    /// `{issuer}/introspect`.
    pub fn introspection_endpoint(&self) -> String {
        format!("{}/introspect", self.inner.issuer)
    }

    /// `{issuer}/revoke`.
    pub fn revocation_endpoint(&self) -> String {
        format!("{}/revoke", self.inner.issuer)
    }

    /// `{issuer}/authorize`.
    pub fn authorization_endpoint(&self) -> String {
        format!("{}/authorize", self.inner.issuer)
    }

    /// `{issuer}/register`, the dynamic client registration endpoint (served only with
    /// [`TestServerBuilder::dynamic_registration`](crate::TestServerBuilder::dynamic_registration)).
    pub fn registration_endpoint(&self) -> String {
        format!("{}/register", self.inner.issuer)
    }

    /// The clients registered at run time (RFC 7591), oldest first.
    pub fn registered_clients(&self) -> Vec<Client> {
        self.inner.clients.registered()
    }

    /// Starts minting a token directly (see [`TokenBuilder`] for defaults).
    pub fn mint(&self) -> TokenBuilder {
        TokenBuilder::new(self.inner.clone())
    }

    /// Signs exactly the given header and claims bytes (base64url-encoded as
    /// they are) with key `kid`; the signature algorithm is the key's,
    /// whatever the header says. For attack tests (duplicate members, odd
    /// types, wrong `alg`...).
    ///
    /// # Panics
    ///
    /// If `kid` is not a key of this server (published or retired).
    pub fn sign_raw(&self, kid: &str, header_json: &str, claims_json: &str) -> String {
        let Some(key) = self.inner.find_key(kid) else {
            panic!("sign_raw: unknown kid {kid:?}");
        };
        match key.sign_compact(header_json.as_bytes(), claims_json.as_bytes()) {
            Ok(token) => token,
            Err(e) => panic!("sign_raw: signing failed: {e}"),
        }
    }

    /// Generates a new key, publishes it in the JWKS immediately and returns
    /// its `kid`. It does not become the signing key until [`use_key`](Self::use_key).
    ///
    /// # Panics
    ///
    /// If key generation fails in the crypto library.
    pub fn add_key(&self, alg: KeyAlg) -> String {
        match self.inner.add_key(alg) {
            Ok(kid) => kid,
            Err(e) => panic!("add_key: {e}"),
        }
    }

    /// Makes `kid` the signing key for new tokens (minted or issued).
    ///
    /// # Panics
    ///
    /// If `kid` is not a key of this server.
    pub fn use_key(&self, kid: &str) {
        if !self.inner.use_key(kid) {
            panic!("use_key: unknown kid {kid:?}");
        }
    }

    /// Removes `kid` from the JWKS; tokens signed with it are no longer
    /// active for introspection. The key is kept privately so tests can still
    /// mint with it via [`TokenBuilder::kid`]. If it is the active key, it
    /// stays the signing key until [`use_key`](Self::use_key) picks another.
    /// Unknown kids are ignored.
    pub fn retire_key(&self, kid: &str) {
        self.inner.retire_key(kid);
    }

    /// The `kid` of the current signing key.
    pub fn active_kid(&self) -> String {
        self.inner.active_key().kid.clone()
    }

    /// The `kid`s currently published in the JWKS, oldest first.
    pub fn kids(&self) -> Vec<String> {
        self.inner.kids()
    }

    /// Number of requests received by `endpoint` (including faulted ones)
    /// since start or the last [`reset_counts`](Self::reset_counts).
    pub fn count(&self, endpoint: Endpoint) -> u64 {
        self.inner.count(endpoint)
    }

    /// Resets all request counters to zero.
    pub fn reset_counts(&self) {
        self.inner.reset_counts();
    }

    /// Injects `fault` into `endpoint` (use [`Fault::None`] to clear it).
    /// Requests hanging on [`Fault::Hang`] are released when it is changed.
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.inner.set_fault(endpoint, fault);
    }

    /// Clears the faults of all endpoints.
    pub fn clear_faults(&self) {
        for ep in Endpoint::ALL {
            self.inner.set_fault(ep, Fault::None);
        }
    }

    /// Sets `Cache-Control: max-age=N` on JWKS responses (`None` omits the
    /// header). Default `Some(300)`.
    pub fn set_jwks_max_age(&self, max_age: Option<u64>) {
        *crate::util::lock(&self.inner.jwks_max_age) = max_age;
    }

    /// Revokes an access token (JWT or opaque) or refresh token. Revoking a
    /// refresh token also revokes the access tokens issued under that grant.
    /// Unknown tokens are ignored.
    pub fn revoke(&self, token: &str) {
        self.inner.revoke(token, None);
    }

    /// Whether introspection would currently report `token` as active.
    pub fn is_active(&self, token: &str) -> bool {
        self.inner.active_claims(token).is_some()
    }

    /// `{issuer}/userinfo`, the OpenID Connect userinfo endpoint.
    pub fn userinfo_endpoint(&self) -> String {
        format!("{}/userinfo", self.inner.issuer)
    }

    /// Adds a user (or replaces the one with the same username) while the server runs.
    pub fn add_user(&self, user: User) {
        self.inner.clients.add_user(user);
    }

    /// Records a sign-in of `username` at `auth_time` at level `acr`, as if the user had
    /// authenticated then: the next auto-approved authorization request reuses it unless it
    /// asks for a new one (`prompt=login`, a `max_age` shorter than its age, `acr_values`
    /// the user can reach and it does not have). For `max_age` tests without waiting.
    /// Returns `false` (and does nothing) if the user is unknown.
    pub fn set_sign_in(&self, username: &str, auth_time: SystemTime, acr: Option<&str>) -> bool {
        if self.inner.clients.user(username).is_none() {
            return false;
        }
        let auth_time = auth_time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.inner.set_session(
            username,
            AuthInfo {
                auth_time,
                acr: acr.map(str::to_owned),
            },
        );
        true
    }
}
