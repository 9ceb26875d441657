//! [`JwksCache`]: fetches an issuer's JWK Set and keeps it fresh: single-flight refreshes,
//! cooldowns, and bounded staleness.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::{JwksConfig, KeySet};
use crate::error::JwksError;
use crate::fetch;

/// What the cache knows at one moment. Replaced whole, never changed in place.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub keys: Option<Arc<KeySet>>,
    /// Bumped by every fetch attempt, good or bad.
    pub generation: u64,
    /// When the keys should be refreshed; after a failure, when to try again.
    pub fresh_until: Option<Instant>,
    /// Until when the keys may verify tokens: their refresh time plus `max_stale`. Set by a
    /// good fetch, kept by failed ones.
    pub usable_until: Option<Instant>,
    /// When an unknown `kid` last caused a fetch.
    pub last_kid_fetch: Option<Instant>,
    /// Why the last fetch failed, if it did.
    pub last_error: Option<JwksError>,
}

impl Snapshot {
    /// The keys, if there are any and they are not past `max_stale` at `now`.
    pub(crate) fn usable_keys(&self, now: Instant) -> Option<&Arc<KeySet>> {
        self.keys
            .as_ref()
            .filter(|_| self.usable_until.is_some_and(|t| now < t))
    }
}

/// Why a refresh is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    /// No keys yet, or they are past their lifetime.
    Stale,
    /// A token names a kid the set does not have.
    UnknownKid,
}

/// A [`JwksCache`] that does not keep it alive (for background tasks).
pub(crate) struct WeakJwksCache(std::sync::Weak<CacheInner>);

impl WeakJwksCache {
    /// The cache, if it is still in use.
    pub(crate) fn upgrade(&self) -> Option<JwksCache> {
        self.0.upgrade().map(|inner| JwksCache { inner })
    }
}

/// Fetches an issuer's JWK Set and keeps it fresh. Cheap to clone (shared state).
#[derive(Clone)]
pub struct JwksCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    uri: String,
    client: reqwest::Client,
    config: JwksConfig,
    state: ArcSwap<Snapshot>,
    refresh: Arc<tokio::sync::Mutex<()>>,
    /// Bumped after every refresh round (a fetch, or a look under the lock that found none
    /// needed) once the lock is released: what [`JwksCache::refresh_within`] waits on.
    rounds: tokio::sync::watch::Sender<u64>,
    fetches: AtomicU64,
}

impl std::fmt::Debug for JwksCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksCache")
            .field("uri", &self.inner.uri)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl JwksCache {
    /// A cache of the key set at `uri`. Nothing is fetched until keys are first needed (or
    /// [`JwksCache::refresh`] is called).
    pub fn new(uri: impl Into<String>, client: reqwest::Client, config: JwksConfig) -> Self {
        JwksCache {
            inner: Arc::new(CacheInner {
                uri: uri.into(),
                client,
                config,
                state: ArcSwap::from_pointee(Snapshot::default()),
                refresh: Arc::new(tokio::sync::Mutex::new(())),
                rounds: tokio::sync::watch::Sender::new(0),
                fetches: AtomicU64::new(0),
            }),
        }
    }

    /// The URL the keys come from.
    pub fn uri(&self) -> &str {
        &self.inner.uri
    }

    /// The last key set fetched, if any (even past [`JwksConfig::max_stale`], when it verifies
    /// nothing).
    pub fn keys(&self) -> Option<Arc<KeySet>> {
        self.inner.state.load().keys.clone()
    }

    /// How many fetches this cache has made (good or bad).
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// Fetches the key set now (joining a fetch already under way), and returns it.
    pub async fn refresh(&self) -> Result<Arc<KeySet>, JwksError> {
        let seen = self.inner.state.load().generation;
        let snap = self.refresh_if(seen, None).await;
        match (&snap.keys, &snap.last_error) {
            (Some(keys), None) => Ok(keys.clone()),
            (_, Some(err)) => Err(err.clone()),
            (None, None) => Err(JwksError::Refresh("no keys".into())),
        }
    }

    /// A handle that does not keep the cache alive.
    pub(crate) fn downgrade(&self) -> WeakJwksCache {
        WeakJwksCache(Arc::downgrade(&self.inner))
    }

    /// The configuration this cache was made with.
    pub(crate) fn config(&self) -> &JwksConfig {
        &self.inner.config
    }

    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.inner.state.load_full()
    }

    /// Whether the cache holds keys that are past `max_stale` at `now` (and so verify nothing).
    pub(crate) fn keys_expired(&self, now: Instant) -> bool {
        let snap = self.inner.state.load();
        snap.keys.is_some() && snap.usable_keys(now).is_none()
    }

    /// Whether a refresh for `reason` may happen now, judging by `snap`.
    pub(crate) fn may_refresh(&self, snap: &Snapshot, reason: Reason, now: Instant) -> bool {
        match reason {
            Reason::Stale => snap.fresh_until.is_none_or(|t| now >= t),
            Reason::UnknownKid => {
                snap.last_kid_fetch
                    .is_none_or(|t| now.duration_since(t) >= self.inner.config.cooldown)
                    // a failed fetch also holds back retries until its own cooldown ends
                    && (snap.last_error.is_none() || snap.fresh_until.is_none_or(|t| now >= t))
            }
        }
    }

    /// Starts a refresh in the background if none is running (keys are served meanwhile).
    pub(crate) fn refresh_in_background(&self, seen_generation: u64) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Holding the lock from here on means at most one background task at a time.
        let Ok(guard) = self.inner.refresh.clone().try_lock_owned() else {
            return; // a refresh is under way already
        };
        self.spawn_round(
            &handle,
            Round::new(guard, self),
            seen_generation,
            Reason::Stale,
        );
    }

    /// Runs one refresh round in a task of its own, holding `round` (the refresh lock) to the
    /// end: the fetch goes on when the request that started it stops waiting.
    fn spawn_round(
        &self,
        handle: &tokio::runtime::Handle,
        round: Round,
        seen_generation: u64,
        reason: Reason,
    ) {
        let cache = self.clone();
        handle.spawn(async move {
            cache.refresh_locked(seen_generation, Some(reason)).await;
            drop(round);
        });
    }

    /// The single-flight refresh of a request: starts one (or joins the one under way) and
    /// waits for it at most [`JwksConfig::max_wait`]. The fetch runs in a task of its own, so
    /// that it goes on for the next requests when this one stops waiting. `None`: no answer
    /// within the bound (the caller answers 503).
    pub(crate) async fn refresh_within(
        &self,
        seen_generation: u64,
        reason: Reason,
    ) -> Option<Arc<Snapshot>> {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            // No runtime to run the fetch on (nor a timer): wait for it here, unbounded.
            return Some(self.refresh_if(seen_generation, Some(reason)).await);
        };
        let mut rounds = self.inner.rounds.subscribe();
        let wait = async {
            loop {
                // Marked before the lock is tried: a round that ends after this wakes us.
                rounds.borrow_and_update();
                let ours = match self.inner.refresh.clone().try_lock_owned() {
                    Ok(guard) => {
                        let round = Round::new(guard, self);
                        self.spawn_round(&handle, round, seen_generation, reason);
                        true
                    }
                    Err(_) => false, // a round is under way: join it
                };
                if rounds.changed().await.is_err() {
                    return self.snapshot(); // cannot happen: `self` holds the sender
                }
                let snap = self.snapshot();
                // A round of someone else's that fetched nothing (it judged by its own
                // reason) does not answer ours: try again, within the same bound.
                if ours || snap.generation != seen_generation {
                    return snap;
                }
            }
        };
        let bound = self.inner.config.max_wait;
        let snap = tokio::time::timeout(bound, wait).await;
        if snap.is_err() {
            tracing::warn!(uri = %self.inner.uri, wait = ?bound, "the JWKS fetch takes longer than max_wait; request answered 503, the fetch goes on");
        }
        snap.ok()
    }

    /// Single-flight refresh: waits for the refresh lock; if another caller fetched since
    /// `seen_generation` was read, returns its result without fetching again. `reason` is
    /// re-checked under the lock (`None` forces the fetch). Unbounded (the fetch's own
    /// timeout ends it), and cancelled with the caller.
    pub(crate) async fn refresh_if(
        &self,
        seen_generation: u64,
        reason: Option<Reason>,
    ) -> Arc<Snapshot> {
        let guard = self.inner.refresh.clone().lock_owned().await;
        let _round = Round::new(guard, self);
        self.refresh_locked(seen_generation, reason).await
    }

    /// The body of [`JwksCache::refresh_if`]. The caller must hold the refresh lock.
    async fn refresh_locked(&self, seen_generation: u64, reason: Option<Reason>) -> Arc<Snapshot> {
        let current = self.inner.state.load_full();
        if current.generation != seen_generation {
            return current;
        }
        let now = Instant::now();
        if let Some(reason) = reason {
            if !self.may_refresh(&current, reason, now) {
                return current;
            }
        }
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let next = match self.fetch().await {
            Ok((mut keys, max_age)) => {
                if let Some(previous) = &current.keys {
                    keys.succeed(previous);
                }
                tracing::debug!(uri = %self.inner.uri, keys = keys.len(), skipped = keys.skipped(), "fetched JWKS");
                let config = &self.inner.config;
                let fresh_until = later(now, config.lifetime(max_age));
                Snapshot {
                    keys: Some(Arc::new(keys)),
                    generation: current.generation + 1,
                    fresh_until: Some(fresh_until),
                    usable_until: Some(later(fresh_until, config.max_stale)),
                    last_kid_fetch: if reason == Some(Reason::UnknownKid) {
                        Some(now)
                    } else {
                        current.last_kid_fetch
                    },
                    last_error: None,
                }
            }
            Err(err) => {
                tracing::warn!(uri = %self.inner.uri, error = %err, stale_keys = current.keys.is_some(), "JWKS fetch failed; keeping the last good keys");
                Snapshot {
                    keys: current.keys.clone(),
                    generation: current.generation + 1,
                    fresh_until: Some(later(now, self.inner.config.cooldown)),
                    usable_until: current.usable_until,
                    last_kid_fetch: if reason == Some(Reason::UnknownKid) {
                        Some(now)
                    } else {
                        current.last_kid_fetch
                    },
                    last_error: Some(err.clone()),
                }
            }
        };
        let next = Arc::new(next);
        self.inner.state.store(next.clone());
        next
    }

    async fn fetch(&self) -> Result<(KeySet, Option<Duration>), JwksError> {
        let uri = &self.inner.uri;
        let request = self.inner.client.get(uri).header(
            reqwest::header::ACCEPT,
            "application/json, application/jwk-set+json",
        );
        let (response, body) = fetch::send(request, uri, self.inner.config.limits()).await?;
        let max_age = response
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .and_then(max_age);
        // A document that parses is the issuer's word, even with no usable key in it: it
        // replaces the last set (publishing an empty set revokes every key). Only a failed
        // transfer or a document that is not a key set keeps the last good keys.
        let keys = KeySet::parse(&body, self.inner.config.signing_use)?;
        if keys.is_empty() {
            tracing::warn!(uri = %uri, skipped = keys.skipped(), "the JWKS holds no usable key; every token is refused until it does");
        }
        Ok((keys, max_age))
    }
}

/// One refresh round: holds the refresh lock; when dropped (the round over, or cancelled),
/// releases it and only then tells the waiters of [`JwksCache::refresh_within`], so that a
/// waiter woken finds the lock free.
struct Round {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    cache: JwksCache,
}

impl Round {
    fn new(guard: tokio::sync::OwnedMutexGuard<()>, cache: &JwksCache) -> Self {
        Round {
            guard: Some(guard),
            cache: cache.clone(),
        }
    }
}

impl Drop for Round {
    fn drop(&mut self) {
        drop(self.guard.take());
        self.cache
            .inner
            .rounds
            .send_modify(|n| *n = n.wrapping_add(1));
    }
}

/// The longest any key set (or failure) is kept before the next fetch, whatever the
/// configuration and `Cache-Control` say.
pub(super) const MAX_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `now + d`, with `d` capped at [`MAX_LIFETIME`]: a configured `Duration::MAX` together with a
/// huge `Cache-Control: max-age` from the issuer must not overflow `Instant` (which panics).
/// The same cap applies to `max_stale`, added to such a refresh time.
pub(super) fn later(now: Instant, d: Duration) -> Instant {
    now.checked_add(d.min(MAX_LIFETIME)).unwrap_or(now)
}

/// Reads the lifetime from a `Cache-Control` value: `max-age=N`, or zero for `no-cache` and
/// `no-store`.
pub(crate) fn max_age(value: &str) -> Option<Duration> {
    let mut found = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
        if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
            return Some(Duration::ZERO);
        }
        if name.eq_ignore_ascii_case("max-age") {
            found = arg
                .trim_matches('"')
                .parse::<u64>()
                .ok()
                .map(Duration::from_secs);
        }
    }
    found
}
