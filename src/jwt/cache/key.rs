//! Cache keys: the whole token, hashed once.
//!
//! A token is hashed once per request, with a fast hasher keyed at random per cache (foldhash,
//! the hasher of hashbrown and of std's `HashMap` in spirit: seeded, not cryptographic). The
//! same 64 bits pick the doorkeeper's bits and the cache's slot; the map itself only passes
//! them through ([`PassThrough`]), so nothing is hashed twice. Equality is on the **whole
//! token**, so two tokens never share an entry whatever their hashes: a hash collision costs a
//! probe, never a wrong answer. Only verified tokens are ever inserted, so a client cannot
//! fill a bucket with chosen keys.

use std::hash::{BuildHasher, Hash, Hasher};

use quick_cache::Equivalent;

/// The seeded hasher of one cache.
#[derive(Clone)]
pub(super) struct TokenHasher(foldhash::quality::RandomState);

impl TokenHasher {
    pub(super) fn new() -> Self {
        TokenHasher(foldhash::quality::RandomState::default())
    }

    /// The token's hash, once per request.
    pub(super) fn hash(&self, token: &str) -> u64 {
        self.0.hash_one(token.as_bytes())
    }
}

/// A key in the cache: the token, with its hash.
pub(super) struct StoredKey {
    hash: u64,
    token: Box<str>,
}

impl StoredKey {
    pub(super) fn new(probe: Probe<'_>) -> Self {
        StoredKey {
            hash: probe.hash,
            token: probe.token.into(),
        }
    }
}

/// A token looked up, with its hash (no allocation).
#[derive(Clone, Copy)]
pub(in crate::jwt) struct Probe<'a> {
    pub(in crate::jwt) hash: u64,
    pub(in crate::jwt) token: &'a str,
}

impl Hash for StoredKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl Hash for Probe<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl PartialEq for StoredKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash && self.token == other.token
    }
}

impl Eq for StoredKey {}

impl Equivalent<StoredKey> for Probe<'_> {
    fn equivalent(&self, key: &StoredKey) -> bool {
        self.hash == key.hash && *self.token == *key.token
    }
}

/// The map's hasher: the key's precomputed hash, as it is.
#[derive(Clone, Copy, Default)]
pub(super) struct PassThrough;

impl BuildHasher for PassThrough {
    type Hasher = PassThroughHasher;

    fn build_hasher(&self) -> PassThroughHasher {
        PassThroughHasher(0)
    }
}

/// See [`PassThrough`].
pub(super) struct PassThroughHasher(u64);

impl Hasher for PassThroughHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    /// Not reached (keys write one `u64`); mixes the bytes in rather than panicking.
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_equal_only_for_the_same_token_even_with_the_same_hash() {
        let stored = StoredKey::new(Probe {
            hash: 7,
            token: "a.b.c",
        });
        assert!(Probe {
            hash: 7,
            token: "a.b.c"
        }
        .equivalent(&stored));
        assert!(!Probe {
            hash: 7,
            token: "a.b.d"
        }
        .equivalent(&stored));
        assert!(!Probe {
            hash: 8,
            token: "a.b.c"
        }
        .equivalent(&stored));
    }

    /// Rule: stored keys (what the map compares on insert, to replace an entry) are equal
    /// only for the same token: a new token never takes over another's entry.
    #[test]
    fn stored_keys_are_equal_only_for_the_same_token_and_hash() {
        let key = |hash, token| StoredKey::new(Probe { hash, token });
        let stored = key(7, "a.b.c");
        assert!(stored == key(7, "a.b.c"));
        assert!(stored != key(7, "a.b.d"));
        assert!(stored != key(8, "a.b.c"));
        assert!(stored != key(8, "a.b.d"));
    }

    #[test]
    fn the_map_sees_the_precomputed_hash() {
        let h = PassThrough.hash_one(Probe {
            hash: 0xabcdef,
            token: "x",
        });
        assert_eq!(h, 0xabcdef);
        let hasher = TokenHasher::new();
        assert_eq!(hasher.hash("a.b.c"), hasher.clone().hash("a.b.c"));
        assert_ne!(hasher.hash("a.b.c"), hasher.hash("a.b.d"));
    }
}
