//! Coalescing: concurrent requests with the same uncached token share one introspection call,
//! and a cancelled request leaves nothing behind.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use tokio::sync::OnceCell;

use super::cache::{Entry, Key};
use super::validator::{Inner, IntrospectionValidator};
use crate::AuthError;

/// One call under way, shared by every request waiting on it.
pub(super) type Flight = Arc<OnceCell<Result<Entry, AuthError>>>;

impl IntrospectionValidator {
    /// One call for all concurrent identical requests; the result is cached (unless it is a
    /// failure) before the waiters are released.
    pub(super) async fn coalesced(&self, key: Key, token: &str) -> Result<Entry, AuthError> {
        let flight = {
            let mut map = self.inner.lock_flights();
            match map.get(&key) {
                Some(f) if !f.initialized() => f.clone(),
                _ => {
                    // A flight that ended between our cache miss and this lock has already
                    // cached its result (it does so before it counts as initialized), so look
                    // again before starting another call.
                    if let Some(entry) = self.inner.cache.as_ref().and_then(|c| c.get(&key)) {
                        return Ok(entry);
                    }
                    let f = Flight::default();
                    map.insert(key, f.clone());
                    f
                }
            }
        };
        // Removes the map entry when the flight is over, or when every caller of an unfinished
        // flight went away (cancelled requests must not leave entries behind).
        let flight = FlightGuard {
            inner: &self.inner,
            key,
            flight,
        };
        flight
            .flight
            .get_or_init(|| async {
                let result = self.introspect(token).await;
                if let (Ok(entry), Some(cache)) = (&result, &self.inner.cache) {
                    cache.insert(key, entry.clone());
                }
                if let Ok(entry) = &result {
                    self.shared_put(key, entry).await;
                }
                result
            })
            .await
            .clone()
    }
}

impl Inner {
    pub(super) fn lock_flights(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Flight>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One caller's share of a flight; see [`IntrospectionValidator::coalesced`].
struct FlightGuard<'a> {
    inner: &'a Inner,
    key: Key,
    flight: Flight,
}

impl Drop for FlightGuard<'_> {
    fn drop(&mut self) {
        let mut map = self.inner.lock_flights();
        // Clones are only taken from the map under this lock, so the count cannot grow while
        // we look: 2 means the map's and ours, so nobody else is waiting.
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
            && (self.flight.initialized() || Arc::strong_count(&self.flight) <= 2)
        {
            map.remove(&self.key);
        }
    }
}
