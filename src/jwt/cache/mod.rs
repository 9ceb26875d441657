//! The verified-token cache: a token seen before skips signature verification and claim
//! parsing, but never its time bounds, and is not served once the key that verified it has
//! left the issuer's key set.
//!
//! The map is [quick_cache](https://docs.rs/quick_cache): sharded, its eviction (S3-FIFO /
//! CLOCK-style, with ghost entries) runs inside the insert that needs room, so a look-up is a
//! shard read-lock, a probe and a reference-count increment, with no allocation, no
//! bookkeeping queue and no housekeeping. It replaced moka here (moka stays for the
//! introspection cache and the DPoP replay set, where per-entry expiry matters): moka records
//! every read for its policy and drains those records on the request path, and its inserts
//! (timer wheel, frequency sketch) cost more than they save when tokens do not repeat.
//!
//! An entry holds the token itself (the earlier cache kept its SHA-256): a process's memory
//! holds its requests' tokens anyway, but a core dump now shows up to `cache_capacity` of them.
//! An entry's TTL is measured on the system clock, like `exp`: a clock stepped back keeps
//! entries longer than `cache_ttl`, never past `exp` plus leeway.

mod admission;
mod key;
#[cfg(test)]
pub(super) mod tests;

use std::sync::Arc;
use std::time::Duration;

use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::UnitWeighter;

use self::admission::Admission;
pub(super) use self::key::Probe;
use self::key::{PassThrough, StoredKey, TokenHasher};
use crate::jose::{self, numeric_date};
use crate::jwks::Key;
use crate::{error::TokenError, Claims};

/// The smallest cache. quick_cache sizes its shards and its hot/cold split for more entries;
/// in a test, a cache of capacity 1 did not keep the one token it was given.
pub(crate) const MIN_CAPACITY: u64 = 32;

/// Verified tokens, keyed by the whole token.
pub(super) struct TokenCache {
    map: Cache<StoredKey, Verified, UnitWeighter, PassThrough>,
    admission: Admission,
    hasher: TokenHasher,
    /// The longest an entry is used, in seconds.
    ttl: f64,
}

/// A cache entry: the claims of a token whose signature and claims were verified, with the
/// time bounds that must still be checked on each use. Cloning it is one reference count.
#[derive(Clone)]
pub(super) struct Verified {
    claims: Claims,
    /// The key that verified the token: once a refreshed key set drops it, the entry is no
    /// longer served.
    key: Arc<Key>,
    exp: f64,
    nbf: Option<f64>,
    /// When the entry stops being used (UNIX seconds): its insertion plus the cache's TTL.
    until: f64,
}

impl TokenCache {
    /// A cache of at most `capacity` tokens (at least [`MIN_CAPACITY`]), each used for at
    /// most `ttl`.
    pub(super) fn new(capacity: u64, ttl: Duration) -> Self {
        let capacity = capacity.max(MIN_CAPACITY);
        TokenCache {
            map: Cache::with(
                usize::try_from(capacity).unwrap_or(usize::MAX),
                capacity,
                UnitWeighter,
                PassThrough,
                DefaultLifecycle::default(),
            ),
            admission: Admission::new(capacity),
            hasher: TokenHasher::new(),
            ttl: ttl.as_secs_f64(),
        }
    }

    /// Hashes `token` once, for [`get`](Self::get) and then [`offer`](Self::offer).
    pub(super) fn probe<'a>(&self, token: &'a str) -> Probe<'a> {
        Probe {
            hash: self.hasher.hash(token),
            token,
        }
    }

    /// The entry of the token, if it has one that is still in use at `now` and whose key is
    /// still in the issuer's key set.
    pub(super) fn get(&self, probe: Probe<'_>, now: f64) -> Option<Verified> {
        self.map
            .get(&probe)
            .filter(|hit| now <= hit.until && !hit.key.is_retired())
    }

    /// Offers a token verified with `key`: kept if admission takes it (and it has an `exp`).
    /// The time bounds are read only for a token admitted.
    pub(in crate::jwt) fn offer(&self, probe: Probe<'_>, claims: &Claims, key: &Arc<Key>) {
        if !self.admission.admit(probe.hash) {
            return;
        }
        let Some(exp) = numeric_date(claims.as_map(), "exp").ok().flatten() else {
            return;
        };
        let nbf = numeric_date(claims.as_map(), "nbf").ok().flatten();
        let entry = Verified {
            claims: claims.clone(),
            key: key.clone(),
            exp,
            nbf,
            until: jose::unix_now() + self.ttl,
        };
        self.map.insert(StoredKey::new(probe), entry);
    }

    /// Whether `token` has an entry (tests).
    #[cfg(test)]
    pub(super) fn contains(&self, token: &str) -> bool {
        self.map.contains_key(&self.probe(token))
    }
}

impl Verified {
    /// The claims, if the token is still within its `exp`/`nbf` window at `now`, with `leeway`.
    pub(super) fn check(self, now: f64, leeway: f64) -> Result<Claims, TokenError> {
        jose::check_window(Some(self.exp), self.nbf, now, leeway)?;
        Ok(self.claims)
    }
}
