//! Coalescing: concurrent requests with the same uncached token share one introspection call.
//! The call runs in a task of its own, so a request waits for it at most
//! [`max_wait`](super::IntrospectionValidatorBuilder::max_wait) and the call goes on for the
//! requests that follow; when it ends (answer or failure, within the call's timeout) its entry
//! leaves the map, whether anyone still waits or not.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError};

use tokio::sync::watch;

use super::cache::{Entry, Key};
use super::validator::{Inner, IntrospectionValidator};
use crate::AuthError;

/// What a call ended with: `None` while it is under way.
type Outcome = Option<Result<Entry, AuthError>>;

/// One call under way, shared by every request waiting on it (they subscribe).
pub(super) type Flight = Arc<watch::Sender<Outcome>>;

impl IntrospectionValidator {
    /// One call for all concurrent identical requests; the result is cached (unless it is a
    /// failure) before the waiters are released. Waits at most `max_wait`.
    pub(super) async fn coalesced(&self, key: Key, token: &str) -> Result<Entry, AuthError> {
        let (mut outcome, started) = {
            let mut map = self.inner.lock_flights();
            match map.get(&key) {
                Some(flight) => (flight.subscribe(), None),
                None => {
                    // A flight that ended between our cache miss and this lock has already
                    // cached its result (it does so before it leaves the map), so look again
                    // before starting another call.
                    if let Some(entry) = self.inner.cache.as_ref().and_then(|c| c.get(&key)) {
                        return Ok(entry);
                    }
                    let flight = Flight::new(watch::Sender::new(None));
                    map.insert(key, flight.clone());
                    (flight.subscribe(), Some(flight))
                }
            }
        };
        if let Some(flight) = started {
            let Ok(handle) = tokio::runtime::Handle::try_current() else {
                // No runtime to run the call on (nor a timer): make it here, unbounded.
                return self.fly(key, token, flight).await;
            };
            let (this, token) = (self.clone(), token.to_owned());
            handle.spawn(async move {
                let _ = this.fly(key, &token, flight).await;
            });
        }
        let wait = self.inner.max_wait;
        let waited = tokio::time::timeout(wait, async {
            match outcome.wait_for(Option::is_some).await {
                Ok(done) => done.clone(),
                // The call's task ended without an answer (its runtime shut down).
                Err(_) => None,
            }
        })
        .await;
        match waited {
            Ok(Some(result)) => result,
            Ok(None) => Err(AuthError::Unavailable(CALL_LOST.to_owned())),
            Err(_) => {
                tracing::warn!(url = %self.inner.endpoint, wait = ?wait, "the introspection call takes longer than max_wait; request answered 503, the call goes on");
                Err(AuthError::Unavailable(format!(
                    "{}: {SLOW_CALL}",
                    self.inner.endpoint
                )))
            }
        }
    }

    /// Makes the call of `flight`: caches a decided result, then hands it to the waiters, then
    /// takes the flight out of the map (also if cancelled, so that nothing is left behind).
    async fn fly(&self, key: Key, token: &str, flight: Flight) -> Result<Entry, AuthError> {
        let _landing = Landing {
            inner: &self.inner,
            key,
            flight: flight.clone(),
        };
        let result = self.introspect(token).await;
        if let (Ok(entry), Some(cache)) = (&result, &self.inner.cache) {
            cache.insert(key, entry.clone());
        }
        if let Ok(entry) = &result {
            self.shared_put(key, entry).await;
        }
        flight.send_replace(Some(result.clone()));
        result
    }
}

/// Why a request stopped waiting for the introspection call under way.
const SLOW_CALL: &str = "the introspection call under way takes longer than max_wait";
/// The call ended without an answer.
const CALL_LOST: &str = "the introspection call was cancelled";

impl Inner {
    pub(super) fn lock_flights(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Flight>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Takes a flight out of the map when its call is over (or its task is cancelled).
struct Landing<'a> {
    inner: &'a Inner,
    key: Key,
    flight: Flight,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut map = self.inner.lock_flights();
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
    }
}
