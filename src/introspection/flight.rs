//! Coalescing: concurrent requests with the same uncached token share one introspection call.
//! The call runs in a task of its own, so a request waits for it at most
//! [`max_wait`](super::IntrospectionValidatorBuilder::max_wait) and the call goes on for the
//! requests that follow; when it ends (answer or failure, within the call's timeout) its entry
//! leaves the map, whether anyone still waits or not.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use super::cache::{Entry, Key};
use crate::error::AuthError;

/// What a call ended with: `None` while it is under way.
pub(super) type Outcome = Option<Result<Entry, AuthError>>;

/// One call under way, shared by every request waiting on it (they subscribe).
pub(super) type Flight = Arc<watch::Sender<Outcome>>;

/// The calls under way, by cache key.
#[derive(Default)]
pub(super) struct Flights(Mutex<HashMap<Key, Flight>>);

/// A request's place in a call.
pub(super) enum Boarding {
    /// The request joined a call under way.
    Joined(watch::Receiver<Outcome>),
    /// The request started the call: it must make it, holding its [`Landing`].
    Started(Flight, watch::Receiver<Outcome>),
    /// The outcome was cached meanwhile.
    Cached(Entry),
}

impl Flights {
    /// The map (a panic while it was held leaves it usable: its entries stay consistent).
    pub(super) fn lock(&self) -> MutexGuard<'_, HashMap<Key, Flight>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins the call under way for `key`, or starts one. `cached` is asked under the lock
    /// before a call is started: a call that ended between the request's cache miss and this
    /// lock has already cached its result (it does so before it leaves the map).
    pub(super) fn board(&self, key: Key, cached: impl FnOnce() -> Option<Entry>) -> Boarding {
        let mut map = self.lock();
        if let Some(flight) = map.get(&key) {
            return Boarding::Joined(flight.subscribe());
        }
        if let Some(entry) = cached() {
            return Boarding::Cached(entry);
        }
        let flight = Flight::new(watch::Sender::new(None));
        map.insert(key, flight.clone());
        let outcome = flight.subscribe();
        Boarding::Started(flight, outcome)
    }

    /// Takes `flight` out of the map when the returned guard drops: when its call is over,
    /// or its task cancelled, so that nothing is left behind.
    pub(super) fn landing(&self, key: Key, flight: Flight) -> Landing<'_> {
        Landing {
            flights: self,
            key,
            flight,
        }
    }
}

/// Waits for the outcome of a call: `None` if the call ended without one (its runtime shut
/// down).
pub(super) async fn outcome(mut receiver: watch::Receiver<Outcome>) -> Outcome {
    match receiver.wait_for(Option::is_some).await {
        Ok(done) => done.clone(),
        Err(_) => None,
    }
}

/// Takes a flight out of the map when its call is over (or its task is cancelled).
pub(super) struct Landing<'a> {
    flights: &'a Flights,
    key: Key,
    flight: Flight,
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        let mut map = self.flights.lock();
        if map
            .get(&self.key)
            .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            map.remove(&self.key);
        }
    }
}
