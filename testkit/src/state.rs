//! Shared server state: registrations, keys, grants, counters and faults.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::sync::watch;

mod grants;

pub(crate) use grants::{AuthCode, Grants, RefreshGrant};

use super::config::{Client, Endpoint, Fault};
use super::keys::{KeyAlg, KeyError, SigningKey};
use super::registry::Registry;

/// JSON object type used for claims.
pub(crate) type Claims = Map<String, Value>;

/// Lock helpers that survive poisoning (no panics in library code).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn read<T>(m: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(m: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(PoisonError::into_inner)
}

/// Current time as Unix seconds.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A random URL-safe string with `n` bytes of entropy.
pub(crate) fn random_token(n: usize) -> String {
    let bytes: Vec<u8> = (0..n).map(|_| rand::random::<u8>()).collect();
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Constant-time string comparison (compares SHA-256 digests, so the
/// length of the secret does not leak either).
pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    let da: [u8; 32] = Sha256::digest(a.as_bytes()).into();
    let db: [u8; 32] = Sha256::digest(b.as_bytes()).into();
    bool::from(da.as_slice().ct_eq(db.as_slice()))
}

/// Signing keys: published ones (in JWKS) and retired ones (kept so tests
/// can still mint tokens with them explicitly).
pub(crate) struct KeyStore {
    pub(crate) published: Vec<Arc<SigningKey>>,
    pub(crate) retired: Vec<Arc<SigningKey>>,
    pub(crate) active: Arc<SigningKey>,
}

impl KeyStore {
    pub(crate) fn find(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.published
            .iter()
            .chain(self.retired.iter())
            .find(|k| k.kid == kid)
            .cloned()
    }

    pub(crate) fn find_published(&self, kid: &str) -> Option<Arc<SigningKey>> {
        self.published.iter().find(|k| k.kid == kid).cloned()
    }
}

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

/// Everything the server knows, shared between the handle and the handlers.
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
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        issuer: String,
        audience: String,
        token_lifetime: Duration,
        code_lifetime: Duration,
        clients: Registry,
        resources: Vec<String>,
        auto_approve: Option<String>,
        key: SigningKey,
        dpop: bearer_guard::dpop::ProofVerifier,
    ) -> Self {
        let key = Arc::new(key);
        Inner {
            issuer,
            audience,
            token_lifetime,
            code_lifetime,
            clients,
            resources,
            auto_approve,
            keys: RwLock::new(KeyStore {
                published: vec![key.clone()],
                retired: Vec::new(),
                active: key,
            }),
            grants: Mutex::new(Grants::default()),
            counts: Default::default(),
            faults: Mutex::new([Fault::None; 7]),
            fault_tx: watch::channel(0).0,
            shutting_down: AtomicBool::new(false),
            jwks_max_age: Mutex::new(Some(300)),
            dpop,
        }
    }

    // ----- counters and faults -------------------------------------------

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

    // ----- keys ------------------------------------------------------------

    pub(crate) fn add_key(&self, alg: KeyAlg) -> Result<String, KeyError> {
        let key = Arc::new(SigningKey::generate(alg)?);
        let kid = key.kid.clone();
        write(&self.keys).published.push(key);
        Ok(kid)
    }

    /// Makes `kid` the active signing key. Returns `false` if unknown.
    pub(crate) fn use_key(&self, kid: &str) -> bool {
        let mut keys = write(&self.keys);
        match keys.find(kid) {
            Some(k) => {
                keys.active = k;
                true
            }
            None => false,
        }
    }

    pub(crate) fn retire_key(&self, kid: &str) {
        let mut keys = write(&self.keys);
        if let Some(pos) = keys.published.iter().position(|k| k.kid == kid) {
            let key = keys.published.remove(pos);
            keys.retired.push(key);
        }
    }

    pub(crate) fn active_key(&self) -> Arc<SigningKey> {
        read(&self.keys).active.clone()
    }

    pub(crate) fn find_key(&self, kid: &str) -> Option<Arc<SigningKey>> {
        read(&self.keys).find(kid)
    }

    /// The newest key of `alg`: published keys first, then retired ones.
    pub(crate) fn newest_key(&self, alg: KeyAlg) -> Option<Arc<SigningKey>> {
        let keys = read(&self.keys);
        let newest = |list: &[Arc<SigningKey>]| list.iter().rev().find(|k| k.alg == alg).cloned();
        newest(&keys.published).or_else(|| newest(&keys.retired))
    }

    /// Every key: `(kid, alg, published, active)`, published keys first, oldest first.
    pub(crate) fn key_list(&self) -> Vec<(String, KeyAlg, bool, bool)> {
        let keys = read(&self.keys);
        let active = &keys.active.kid;
        keys.published
            .iter()
            .map(|k| (k, true))
            .chain(keys.retired.iter().map(|k| (k, false)))
            .map(|(k, published)| (k.kid.clone(), k.alg, published, &k.kid == active))
            .collect()
    }

    pub(crate) fn kids(&self) -> Vec<String> {
        read(&self.keys)
            .published
            .iter()
            .map(|k| k.kid.clone())
            .collect()
    }

    pub(crate) fn jwks(&self) -> Value {
        let keys: Vec<Value> = read(&self.keys)
            .published
            .iter()
            .map(|k| k.jwk.clone())
            .collect();
        serde_json::json!({ "keys": keys })
    }

    // ----- tokens ----------------------------------------------------------

    /// Default RFC 9068 access-token claims.
    pub(crate) fn base_claims(&self, sub: &str, client_id: &str, scope: &str) -> Claims {
        let iat = now();
        let mut c = Claims::new();
        c.insert("iss".into(), Value::String(self.issuer.clone()));
        c.insert("sub".into(), Value::String(sub.into()));
        c.insert("aud".into(), Value::String(self.audience.clone()));
        c.insert("client_id".into(), Value::String(client_id.into()));
        // An empty scope is no scope value (RFC 6749 §3.3): leave the claim out.
        if !scope.is_empty() {
            c.insert("scope".into(), Value::String(scope.into()));
        }
        c.insert("iat".into(), Value::from(iat));
        c.insert(
            "exp".into(),
            Value::from(iat.saturating_add(self.token_lifetime.as_secs())),
        );
        c.insert("jti".into(), Value::String(random_token(16)));
        c
    }

    /// Signs `claims` as an `at+jwt` with `key`.
    pub(crate) fn sign_claims(
        &self,
        key: &SigningKey,
        header: &Claims,
        claims: &Claims,
    ) -> Result<String, KeyError> {
        let header = serde_json::to_vec(header).map_err(|e| KeyError(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError(e.to_string()))?;
        key.sign_compact(&header, &claims)
    }

    pub(crate) fn default_header(key: &SigningKey) -> Claims {
        let mut h = Claims::new();
        h.insert("alg".into(), Value::String(key.alg.as_str().into()));
        h.insert("typ".into(), Value::String("at+jwt".into()));
        h.insert("kid".into(), Value::String(key.kid.clone()));
        h
    }

    /// Issues an access token for `client` (JWT or opaque, per client
    /// settings), bound to the DPoP key with thumbprint `jkt` if given
    /// (`cnf.jkt`, RFC 9449 §6). Its `aud` is `resources` (one: a string, several: an
    /// array; none: the default audience). Returns the token and its `jti`.
    pub(crate) fn issue_access_token(
        &self,
        client: &Client,
        sub: &str,
        scope: &str,
        resources: &[String],
        jkt: Option<&str>,
    ) -> Result<(String, String), KeyError> {
        let mut claims = self.base_claims(sub, &client.id, scope);
        match resources {
            [] => {}
            [one] => {
                claims.insert("aud".into(), Value::String(one.clone()));
            }
            several => {
                claims.insert("aud".into(), Value::from(several.to_vec()));
            }
        }
        if let Some(jkt) = jkt {
            claims.insert("cnf".into(), serde_json::json!({ "jkt": jkt }));
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if client.opaque_tokens {
            Ok((self.register_opaque(claims), jti))
        } else {
            let key = self.active_key();
            let token = self.sign_claims(&key, &Self::default_header(&key), &claims)?;
            Ok((token, jti))
        }
    }

    /// Stores `claims` under a fresh opaque token.
    pub(crate) fn register_opaque(&self, claims: Claims) -> String {
        let token = random_token(32);
        lock(&self.grants).opaque.insert(token.clone(), claims);
        token
    }

    /// Verifies a JWT against the published keys; returns its claims.
    pub(crate) fn verify_jwt(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        let kid = header.get("kid")?.as_str()?;
        let key = read(&self.keys).find_published(kid)?;
        if header.get("alg")?.as_str()? != key.alg.as_str() {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
        let signing_input = token.get(..h.len() + 1 + p.len())?;
        if !key.verify(signing_input.as_bytes(), &sig) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    }

    /// Claims of `token` if it is an opaque token or a JWT of ours, without
    /// checking time, issuer or revocation.
    pub(crate) fn lookup(&self, token: &str) -> Option<Claims> {
        if let Some(c) = lock(&self.grants).opaque.get(token) {
            return Some(c.clone());
        }
        self.verify_jwt(token)
    }

    /// Claims of `token` if it is currently active.
    pub(crate) fn active_claims(&self, token: &str) -> Option<Claims> {
        let claims = self.lookup(token)?;
        let t = now();
        let exp = claims.get("exp")?.as_u64()?;
        if exp <= t {
            return None;
        }
        if let Some(nbf) = claims.get("nbf") {
            if nbf.as_u64()? > t {
                return None;
            }
        }
        if claims.get("iss")?.as_str()? != self.issuer {
            return None;
        }
        if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
            if lock(&self.grants).revoked_jtis.contains(jti) {
                return None;
            }
        }
        Some(claims)
    }

    /// Revokes an access or refresh token. If `client_id` is given, only
    /// tokens issued to that client are revoked. Unknown tokens are ignored.
    pub(crate) fn revoke(&self, token: &str, client_id: Option<&str>) {
        let owned = |cid: Option<&str>| client_id.is_none() || cid == client_id;
        {
            let mut g = lock(&self.grants);
            let owned_family = g
                .refresh
                .get(token)
                .filter(|r| owned(Some(&r.client_id)))
                .map(|r| r.family);
            if let Some(family) = owned_family {
                g.revoke_family(family);
                return;
            }
        }
        if let Some(claims) = self.lookup(token) {
            if owned(claims.get("client_id").and_then(Value::as_str)) {
                if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
                    lock(&self.grants).revoked_jtis.insert(jti.to_owned());
                }
            }
        }
    }
}
