//! [`KeySet`]: a parsed JWK Set, its keys by `kid`, and the look-up of the key for a token.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::key::{parse_member, Key, Refused};
use crate::error::JwksError;

/// A parsed JWK Set: the usable public signature keys of an issuer, by `kid`.
#[derive(Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, Arc<Key>>,
    without_kid: Vec<Arc<Key>>,
    skipped: usize,
}

/// The result of looking a key up for a token.
pub(crate) enum Lookup {
    Found(Arc<Key>),
    /// The `kid` is not in the set (or, without `kid`, no single key fits).
    Unknown,
    /// A key exists but may not verify this token.
    Mismatch,
}

impl KeySet {
    /// Parses a JWK Set document. Keys of unsupported types, private or symmetric keys, and
    /// malformed members are skipped (see [`KeySet::skipped`]); only a document that is not a
    /// key set at all is an error. Weak or invalid public keys are skipped too, and named by
    /// `kid` in one warning per parse: RSA keys under 2048 bits, with an even modulus, with the
    /// ROCA fingerprint (CVE-2017-15361), or with an exponent that is even, under 3 or over 33
    /// bits; EC keys whose point is not on the curve.
    pub fn from_json(bytes: &[u8]) -> Result<Self, JwksError> {
        Self::parse(bytes, None)
    }

    /// Like [`KeySet::from_json`], taking keys whose `use` is `signing_use` as signing keys
    /// too (besides `sig` and no `use`): the keys of a SPIFFE trust bundle say
    /// `use: "jwt-svid"`. See [`JwksConfig::accept_use`](super::JwksConfig::accept_use).
    ///
    /// ```
    /// use bearer_guard::jwks::KeySet;
    /// let bundle = br#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","use":"jwt-svid",
    ///   "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}],"spiffe_sequence":1}"#;
    /// assert_eq!(KeySet::from_json_with_use(bundle, "jwt-svid").unwrap().len(), 1);
    /// ```
    pub fn from_json_with_use(bytes: &[u8], signing_use: &str) -> Result<Self, JwksError> {
        Self::parse(bytes, Some(signing_use))
    }

    /// The parse of both constructors.
    pub(crate) fn parse(bytes: &[u8], signing_use: Option<&str>) -> Result<Self, JwksError> {
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<Value>,
        }
        let doc: Doc =
            serde_json::from_slice(bytes).map_err(|e| JwksError::NotAKeySet(e.to_string()))?;
        let mut set = KeySet::default();
        let mut weak = Vec::new();
        for member in doc.keys {
            let source: [u8; 32] = Sha256::digest(member.to_string().as_bytes()).into();
            let (kid, key) = parse_member(member, signing_use);
            match key {
                Ok(mut key) => {
                    key.source = source;
                    set.insert(kid, Arc::new(key));
                }
                Err(refused) => {
                    set.skipped += 1;
                    if let Refused::Weak(why) = refused {
                        weak.push((kid, why));
                    }
                }
            }
        }
        if !weak.is_empty() {
            // Only the kid and the reason: no key material.
            let named: Vec<String> = weak
                .iter()
                .take(WEAK_KEYS_LOGGED)
                .map(|(kid, why)| match kid {
                    Some(kid) => {
                        let kid: String = kid.chars().take(KID_CHARS_LOGGED).collect();
                        format!("{kid:?}: {why}")
                    }
                    None => format!("(no kid): {why}"),
                })
                .collect();
            tracing::warn!(
                count = weak.len(),
                keys = %named.join(", "),
                "JWK Set: weak or invalid keys skipped"
            );
        }
        Ok(set)
    }

    fn insert(&mut self, kid: Option<String>, key: Arc<Key>) {
        match kid {
            Some(kid) => {
                // The first key with a given kid wins; a duplicate is ambiguous and skipped.
                match self.by_kid.entry(kid) {
                    std::collections::hash_map::Entry::Occupied(_) => self.skipped += 1,
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(key);
                    }
                }
            }
            None => self.without_kid.push(key),
        }
    }

    /// Makes this set, fetched anew, the successor of `previous`: every key that is unchanged
    /// (same `kid`, same JWK) is taken over from `previous`, so that what it verified stays
    /// valid, and every key of `previous` not taken over is [retired](Key::retire), so that
    /// what it verified is no longer served from a cache.
    pub(crate) fn succeed(&mut self, previous: &KeySet) {
        for (kid, key) in &mut self.by_kid {
            if let Some(old) = previous
                .by_kid
                .get(kid)
                .filter(|old| old.source == key.source)
            {
                *key = old.clone();
            }
        }
        for key in &mut self.without_kid {
            if let Some(old) = previous
                .without_kid
                .iter()
                .find(|old| old.source == key.source)
            {
                *key = old.clone();
            }
        }
        let kept: HashSet<*const Key> = self.keys().map(Arc::as_ptr).collect();
        for old in previous.keys() {
            if !kept.contains(&Arc::as_ptr(old)) {
                old.retire();
            }
        }
    }

    /// Every key of the set.
    fn keys(&self) -> impl Iterator<Item = &Arc<Key>> {
        self.by_kid.values().chain(self.without_kid.iter())
    }

    /// How many usable keys the set holds.
    pub fn len(&self) -> usize {
        self.by_kid.len() + self.without_kid.len()
    }

    /// Whether the set holds no usable key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many members of the document were skipped (unsupported, malformed, weak or invalid,
    /// duplicate kid).
    pub fn skipped(&self) -> usize {
        self.skipped
    }

    /// The key ids in the set.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.by_kid.keys().map(String::as_str)
    }

    /// Whether a key with this `kid` is present.
    pub fn contains(&self, kid: &str) -> bool {
        self.by_kid.contains_key(kid)
    }

    /// Finds the key for a token with header `kid` and `alg`.
    pub(crate) fn lookup(&self, kid: Option<&str>, alg: Algorithm) -> Lookup {
        match kid {
            Some(kid) => match self.by_kid.get(kid) {
                Some(key) if key.accepts(alg) => Lookup::Found(key.clone()),
                Some(_) => Lookup::Mismatch,
                None => Lookup::Unknown,
            },
            None => {
                // Without a kid, accept only an unambiguous choice: exactly one key in the
                // whole set fits the algorithm.
                let mut fitting = self.keys().filter(|k| k.accepts(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Lookup::Found(key.clone()),
                    (Some(_), Some(_)) => Lookup::Unknown,
                    (None, _) => Lookup::Mismatch,
                }
            }
        }
    }
}

/// How many weak keys one warning names at most (a key set holds a few keys; a hostile or
/// broken one must not make a huge log line).
const WEAK_KEYS_LOGGED: usize = 16;
/// How many characters of a `kid` a warning shows at most.
const KID_CHARS_LOGGED: usize = 64;
