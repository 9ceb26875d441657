//! The state of one issuer ([`Inner`]): its settings, registrations, keys, grants, sign-in
//! sessions, counters and faults, shared between its handle and its handlers.
//!
//! | file | what |
//! |---|---|
//! | `keys.rs` | the key store, rotation, the JWKS document |
//! | `tokens.rs` | access and ID tokens: claims, signing, verification, activity, revocation |
//! | `grants.rs` | authorization codes, refresh-token families, opaque tokens, revoked `jti`s |
//! | `sessions.rs` | the users' last sign-ins (`auth_time`, `acr`) and when a request needs a new one |

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::watch;

mod grants;
mod keys;
mod sessions;
mod tokens;

pub(crate) use grants::{AuthCode, Grants, RefreshGrant};
pub(crate) use keys::KeyStore;
pub(crate) use sessions::{AuthInfo, SignIn};

use super::config::{Client, ControlOptions, Endpoint, Fault};
use super::keys::{KeyAlg, SigningKey};
use super::registry::{RegistrationOptions, Registry};
use super::user::User;
use super::util::lock;

/// JSON object type used for claims.
pub(crate) type Claims = Map<String, Value>;

/// The algorithms DPoP proofs may be signed with at the token endpoint, with their JOSE
/// names (advertised as `dpop_signing_alg_values_supported`).
pub(crate) const DPOP_ALGORITHMS: [(jsonwebtoken::Algorithm, &str); 9] = [
    (jsonwebtoken::Algorithm::RS256, "RS256"),
    (jsonwebtoken::Algorithm::RS384, "RS384"),
    (jsonwebtoken::Algorithm::RS512, "RS512"),
    (jsonwebtoken::Algorithm::PS256, "PS256"),
    (jsonwebtoken::Algorithm::PS384, "PS384"),
    (jsonwebtoken::Algorithm::PS512, "PS512"),
    (jsonwebtoken::Algorithm::ES256, "ES256"),
    (jsonwebtoken::Algorithm::ES384, "ES384"),
    (jsonwebtoken::Algorithm::EdDSA, "EdDSA"),
];

/// What every issuer of a server is configured with (the root one and those added by path,
/// [`Tenants`]): each has its own keys, registrations, grants and counters made from these.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) audience: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) code_lifetime: Duration,
    pub(crate) clients: Vec<Client>,
    pub(crate) users: Vec<User>,
    /// The configured resources, or else the audience alone.
    pub(crate) resources: Vec<String>,
    pub(crate) auto_approve: Option<String>,
    pub(crate) registration: RegistrationOptions,
    pub(crate) key: KeyAlg,
    pub(crate) control: ControlOptions,
}

/// Everything one issuer knows, shared between its handle and its handlers.
pub(crate) struct Inner {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) token_lifetime: Duration,
    pub(crate) code_lifetime: Duration,
    /// Clients (configured and registered) and users.
    pub(crate) clients: Registry,
    /// The resources (RFC 8707) this server issues tokens for: the configured ones, or else
    /// the audience alone.
    pub(crate) resources: Vec<String>,
    /// The user the authorization endpoint approves as, without showing the login form.
    pub(crate) auto_approve: Option<String>,
    pub(crate) keys: RwLock<KeyStore>,
    pub(crate) grants: Mutex<Grants>,
    /// The users' last sign-ins, by username.
    pub(crate) sessions: Mutex<HashMap<String, AuthInfo>>,
    pub(crate) counts: [AtomicU64; 7],
    pub(crate) faults: Mutex<[Fault; 7]>,
    /// Bumped whenever a fault changes or the server shuts down, to wake
    /// requests parked by [`Fault::Hang`].
    pub(crate) fault_tx: watch::Sender<u64>,
    pub(crate) shutting_down: AtomicBool,
    pub(crate) jwks_max_age: Mutex<Option<u64>>,
    /// Checks DPoP proofs sent to the token endpoint (RFC 9449 §5).
    pub(crate) dpop: bearer_guard::dpop::ProofVerifier,
}

impl Inner {
    /// A fresh issuer `issuer` configured by `settings` (a new signing key of
    /// `settings.key`, or of `key` if given).
    pub(crate) fn new(
        issuer: String,
        settings: &Settings,
        key: Option<KeyAlg>,
    ) -> io::Result<Self> {
        let key =
            Arc::new(SigningKey::generate(key.unwrap_or(settings.key)).map_err(io::Error::other)?);
        let dpop = bearer_guard::dpop::ProofVerifier::new(
            bearer_guard::dpop::DpopConfig::new()
                .algorithms(DPOP_ALGORITHMS.iter().map(|(a, _)| *a)),
        )
        .map_err(io::Error::other)?;
        Ok(Inner {
            issuer,
            audience: settings.audience.clone(),
            token_lifetime: settings.token_lifetime,
            code_lifetime: settings.code_lifetime,
            clients: Registry::new(
                settings.clients.clone(),
                settings.users.clone(),
                settings.registration,
            ),
            resources: settings.resources.clone(),
            auto_approve: settings.auto_approve.clone(),
            keys: RwLock::new(KeyStore {
                published: vec![key.clone()],
                retired: Vec::new(),
                active: key,
            }),
            grants: Mutex::new(Grants::default()),
            sessions: Mutex::new(HashMap::new()),
            counts: Default::default(),
            faults: Mutex::new([Fault::None; 7]),
            fault_tx: watch::channel(0).0,
            shutting_down: AtomicBool::new(false),
            jwks_max_age: Mutex::new(Some(300)),
            dpop,
        })
    }

    // Counters and faults.

    pub(crate) fn count(&self, ep: Endpoint) -> u64 {
        self.counts
            .get(ep.index())
            .map_or(0, |c| c.load(Ordering::SeqCst))
    }

    pub(crate) fn hit(&self, ep: Endpoint) {
        if let Some(c) = self.counts.get(ep.index()) {
            c.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub(crate) fn reset_counts(&self) {
        for c in &self.counts {
            c.store(0, Ordering::SeqCst);
        }
    }

    pub(crate) fn fault(&self, ep: Endpoint) -> Fault {
        lock(&self.faults)
            .get(ep.index())
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn set_fault(&self, ep: Endpoint, fault: Fault) {
        if let Some(slot) = lock(&self.faults).get_mut(ep.index()) {
            *slot = fault;
        }
        self.fault_tx.send_modify(|v| *v = v.wrapping_add(1));
    }

    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.fault_tx.send_modify(|v| *v = v.wrapping_add(1));
    }
}
