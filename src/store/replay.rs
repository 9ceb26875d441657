//! The replay cache: the SHA-256 of every accepted proof `jti`, kept until its proof has left
//! the `iat` window, and never dropped earlier.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, PoisonError};

/// What [`ReplayCache::insert`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Seen {
    /// Not seen before (or only expired): now remembered.
    Fresh,
    /// Seen before and not yet expired.
    Replayed,
    /// Not seen before, but the cache is full of unexpired entries: not remembered.
    Full,
}

/// The SHA-256 hashes of accepted `jti`s, each kept until an expiry time. Unlike a cache with
/// an admission policy, it never drops an entry before it expires: at capacity it refuses new
/// ones ([`Seen::Full`]). O(log n) per insertion; the lock is held for a few map operations.
pub(crate) struct ReplayCache {
    pub(crate) capacity: usize,
    entries: Mutex<ReplayEntries>,
}

#[derive(Default)]
struct ReplayEntries {
    /// `jti` hash → expiry (whole seconds since the Unix epoch; kept while the clock, rounded
    /// down, is at most this).
    expiry: HashMap<[u8; 32], u64>,
    /// The same entries ordered by expiry, to drop the expired ones first.
    by_expiry: BTreeSet<(u64, [u8; 32])>,
}

/// How many expired entries one insertion drops at most (bounds the time the lock is held;
/// at least one, so a full cache with an expired entry always makes room).
pub(super) const PURGE_BATCH: usize = 64;

impl ReplayCache {
    pub(crate) fn new(capacity: u64) -> Self {
        ReplayCache {
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            entries: Mutex::default(),
        }
    }

    /// Remembers `key` until `expiry` unless it is remembered already, as of `now` (whole
    /// seconds since the Unix epoch).
    pub(crate) fn insert(&self, key: [u8; 32], expiry: u64, now: u64) -> Seen {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = &mut *entries;
        for _ in 0..PURGE_BATCH {
            match entries.by_expiry.first() {
                Some(&(old, old_key)) if old < now => {
                    entries.by_expiry.pop_first();
                    entries.expiry.remove(&old_key);
                }
                _ => break,
            }
        }
        if let Some(&old) = entries.expiry.get(&key) {
            if old >= now {
                return Seen::Replayed;
            }
            entries.by_expiry.remove(&(old, key));
            entries.expiry.remove(&key);
        }
        // Everything left is unexpired: either the purge stopped at an unexpired entry, or it
        // dropped at least one and there is room again.
        if entries.expiry.len() >= self.capacity {
            return Seen::Full;
        }
        entries.expiry.insert(key, expiry);
        entries.by_expiry.insert((expiry, key));
        Seen::Fresh
    }

    /// How many entries are remembered (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .expiry
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_cache_refuses_when_full_and_forgets_only_expired_entries() {
        let cache = ReplayCache::new(2);
        let (a, b, c) = ([1; 32], [2; 32], [3; 32]);
        assert_eq!(cache.insert(a, 1_060, 1_000), Seen::Fresh);
        assert_eq!(cache.insert(b, 1_070, 1_000), Seen::Fresh);
        assert_eq!(cache.insert(a, 1_060, 1_000), Seen::Replayed);
        // Full of unexpired entries: refused, not remembered, and nothing forgotten.
        assert_eq!(cache.insert(c, 1_060, 1_000), Seen::Full);
        assert_eq!(cache.insert(c, 1_060, 1_060), Seen::Full);
        assert_eq!(
            cache.insert(a, 1_060, 1_060),
            Seen::Replayed,
            "kept up to its expiry"
        );
        assert_eq!(cache.insert(b, 1_070, 1_060), Seen::Replayed);
        assert_eq!(cache.len(), 2);
        // Once `a` has expired there is room again; `b` is still known.
        assert_eq!(cache.insert(c, 1_120, 1_061), Seen::Fresh);
        assert_eq!(cache.insert(b, 1_070, 1_061), Seen::Replayed);
        assert_eq!(cache.insert(c, 1_120, 1_061), Seen::Replayed);
        assert_eq!(cache.len(), 2);
        // An expired entry still stored is not a replay.
        let cache = ReplayCache::new(2);
        assert_eq!(cache.insert(a, 1_000, 1_000), Seen::Fresh);
        assert_eq!(cache.insert(a, 1_100, 1_001), Seen::Fresh);
        assert_eq!(cache.insert(a, 1_100, 1_100), Seen::Replayed);
        assert_eq!(cache.len(), 1);
        // Capacity 0 refuses everything.
        assert_eq!(ReplayCache::new(0).insert(a, 1_060, 1_000), Seen::Full);
    }

    #[test]
    fn the_replay_cache_purges_in_bounded_batches_and_stays_exact() {
        let n = 3 * PURGE_BATCH as u8;
        let cache = ReplayCache::new(u64::from(n));
        for i in 0..n {
            assert_eq!(cache.insert([i; 32], 100, 0), Seen::Fresh);
        }
        assert_eq!(cache.insert([n; 32], 200, 100), Seen::Full);
        // All expired: one insertion drops at most a batch, and that makes room.
        assert_eq!(cache.insert([n; 32], 200, 101), Seen::Fresh);
        assert_eq!(cache.len(), usize::from(n) - PURGE_BATCH + 1);
        // Expired entries left over are not replays, and are not counted as such.
        assert_eq!(cache.insert([n - 1; 32], 200, 101), Seen::Fresh);
        assert_eq!(cache.insert([n; 32], 200, 101), Seen::Replayed);
    }
}
