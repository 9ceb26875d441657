//! Signing keys of one issuer: the key store, rotation, the JWKS document.

use std::sync::Arc;

use serde_json::Value;

use super::Inner;
use crate::keys::{KeyAlg, KeyError, SigningKey};
use crate::util::{read, write};

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

impl Inner {
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
}
