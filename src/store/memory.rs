//! [`MemoryStore`]: both stores in the process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::replay::{ReplayCache, Seen};
use super::{IntrospectionStore, ReplayStore, StoreFuture, StoreKey};
use crate::error::StoreError;
use crate::jose::unix_now;

/// A [`ReplayStore`] and [`IntrospectionStore`] in the process: what the layer and the
/// validator use by default, as a store. Shared only by the clones of one value (so by
/// layers and validators of one process); cheap to clone.
#[derive(Clone)]
pub struct MemoryStore {
    replay: Arc<ReplayCache>,
    values: moka::sync::Cache<StoreKey, Value>,
}

#[derive(Clone)]
struct Value {
    bytes: Arc<[u8]>,
    ttl: Duration,
}

struct ValueExpiry;

impl moka::Expiry<StoreKey, Value> for ValueExpiry {
    fn expire_after_create(&self, _: &StoreKey, value: &Value, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("capacity", &self.replay.capacity)
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// A store of at most `capacity` replay entries (refusing new ones when full of unexpired
    /// entries, like [`DpopConfig::cache_capacity`](crate::dpop::DpopConfig::cache_capacity)) and at most
    /// `capacity` introspection results (evicting as the in-process cache does).
    pub fn new(capacity: u64) -> Self {
        MemoryStore {
            replay: Arc::new(ReplayCache::new(capacity)),
            values: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .expire_after(ValueExpiry)
                .build(),
        }
    }
}

impl ReplayStore for MemoryStore {
    fn insert_if_absent(&self, key: StoreKey, expires_at: u64) -> StoreFuture<'_, bool> {
        // Whole seconds; `as` saturates (and the clock is after 1970).
        let result = match self.replay.insert(key, expires_at, unix_now() as u64) {
            Seen::Fresh => Ok(true),
            Seen::Replayed => Ok(false),
            Seen::Full => Err(StoreError::new("the in-memory replay store is full")),
        };
        Box::pin(std::future::ready(result))
    }
}

impl IntrospectionStore for MemoryStore {
    fn get(&self, key: StoreKey) -> StoreFuture<'_, Option<Vec<u8>>> {
        let value = self.values.get(&key).map(|v| v.bytes.to_vec());
        Box::pin(std::future::ready(Ok(value)))
    }

    fn put(&self, key: StoreKey, value: Vec<u8>, ttl: Duration) -> StoreFuture<'_, ()> {
        self.values.insert(
            key,
            Value {
                bytes: value.into(),
                ttl,
            },
        );
        Box::pin(std::future::ready(Ok(())))
    }

    fn remove(&self, key: StoreKey) -> StoreFuture<'_, ()> {
        self.values.invalidate(&key);
        Box::pin(std::future::ready(Ok(())))
    }
}
