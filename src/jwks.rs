//! Signing keys: a parsed JWK Set ([`KeySet`], RFC 7517) and the cache that fetches and
//! refreshes it from the issuer ([`JwksCache`]).
//!
//! Readers take an `Arc` snapshot of the current key set without locking; a refresh swaps in a
//! new one. Refreshes are single-flight (one fetch however many requests need it), an unknown
//! `kid` causes at most one re-fetch per cooldown, and when the issuer is down or sends garbage
//! the last good key set keeps serving, for at most [`JwksConfig::max_stale`] past its refresh
//! time.
//!
//! ```
//! use bearer_guard::KeySet;
//! let set = KeySet::from_json(br#"{"keys":[
//!   {"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","use":"sig",
//!    "x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
//!   {"kty":"XYZ","kid":"future-key-type"}
//! ]}"#).unwrap();
//! assert_eq!(set.len(), 1); // keys of unsupported types are skipped
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use crate::crypto::{self, alg_from_name};
use crate::fetch::{self, FetchError, Limits};

/// The kind of a public key, as far as signature verification is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
    Hmac,
}

impl KeyKind {
    /// Whether a key of this kind may verify tokens signed with `alg`.
    pub(crate) fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        matches!(
            (self, alg),
            (KeyKind::Rsa, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
                | (KeyKind::P256, ES256)
                | (KeyKind::P384, ES384)
                | (KeyKind::Ed25519, EdDSA)
                | (KeyKind::Hmac, HS256 | HS384 | HS512)
        )
    }
}

/// One verification key with the constraints its JWK put on it.
#[derive(Debug)]
pub(crate) struct Key {
    pub kind: KeyKind,
    /// The JWK's `alg`, if it named a signature algorithm; `Err` if it named something else.
    pub alg: Option<Result<Algorithm, ()>>,
    /// `false` if `use` is not `sig` or `key_ops` lacks `verify`.
    pub for_verify: bool,
    pub decoding: DecodingKey,
}

impl Key {
    /// Whether this key may verify a token whose header says `alg`.
    pub(crate) fn accepts(&self, alg: Algorithm) -> bool {
        self.for_verify
            && self.kind.fits(alg)
            && match self.alg {
                None => true,
                Some(Ok(own)) => own == alg,
                Some(Err(())) => false,
            }
    }

    /// A symmetric key for HS256/384/512 from a shared secret.
    pub(crate) fn hmac(secret: &[u8]) -> Self {
        Key {
            kind: KeyKind::Hmac,
            alg: None,
            for_verify: true,
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// Why a JWK Set document was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// Not a JSON object with a `keys` array.
    #[error("not a JWK Set: {0}")]
    NotAKeySet(String),
    /// Fetching the document failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// A refresh failed (the reason is the fetch or parse error); the last good keys, if any,
    /// are still served.
    #[error("the key set could not be refreshed: {0}")]
    Refresh(String),
}

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

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Parses a JWK Set document. Keys of unsupported types, private or symmetric keys, and
    /// malformed members are skipped (see [`KeySet::skipped`]); only a document that is not a
    /// key set at all is an error. Weak or invalid public keys are skipped too, and named by
    /// `kid` in one warning per parse: RSA keys under 2048 bits, with an even modulus, with the
    /// ROCA fingerprint (CVE-2017-15361), or with an exponent that is even, under 3 or over 33
    /// bits; EC keys whose point is not on the curve.
    pub fn from_json(bytes: &[u8]) -> Result<Self, JwksError> {
        #[derive(Deserialize)]
        struct Doc {
            keys: Vec<Value>,
        }
        let doc: Doc =
            serde_json::from_slice(bytes).map_err(|e| JwksError::NotAKeySet(e.to_string()))?;
        let mut set = KeySet::default();
        let mut weak = Vec::new();
        for member in doc.keys {
            let Ok(mut raw) = serde_json::from_value::<RawJwk>(member) else {
                set.skipped += 1;
                continue;
            };
            let kid = raw.kid.take();
            match key_from(raw) {
                Ok(key) => set.insert(kid, Arc::new(key)),
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
                let mut fitting = self
                    .by_kid
                    .values()
                    .chain(self.without_kid.iter())
                    .filter(|k| k.accepts(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Lookup::Found(key.clone()),
                    (Some(_), Some(_)) => Lookup::Unknown,
                    (None, _) => Lookup::Mismatch,
                }
            }
        }
    }
}

/// Why a JWK was not taken.
enum Refused {
    /// Not a usable public signature key (unsupported type or curve, malformed member, private
    /// or symmetric key): skipped quietly.
    Unusable,
    /// A well-formed public key with weak or invalid parameters: skipped, and named (by `kid`
    /// only) in a warning.
    Weak(&'static str),
}

/// The bytes of a base64url member, which must be present.
fn member_bytes(member: Option<&str>) -> Result<Vec<u8>, Refused> {
    member
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .ok_or(Refused::Unusable)
}

/// One JWK as a verification key and its `kid`, or `None` if it is unusable or weak (a JWK
/// Set, a DPoP proof's `jwk`).
pub(crate) fn parse_jwk(member: Value) -> Option<(Option<String>, Key)> {
    let mut raw: RawJwk = serde_json::from_value(member).ok()?;
    let kid = raw.kid.take();
    key_from(raw).ok().map(|key| (kid, key))
}

fn key_from(raw: RawJwk) -> Result<Key, Refused> {
    // A JWK `alg` of `Ed25519` (RFC 9864) or `EdDSA` both fit EdDSA tokens.
    let alg = raw.alg.as_deref().map(|a| alg_from_name(a).ok_or(()));
    let for_verify = raw.use_.as_deref().is_none_or(|u| u == "sig")
        && raw
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
    let (kind, decoding) = match raw.kty.as_str() {
        "RSA" => {
            let (n, e) = (raw.n.as_deref(), raw.e.as_deref());
            // Toy moduli (RFC 7518 §3.3: at least 2048 bits), even moduli, ROCA moduli, and
            // exponents that are even, under 3 or over 33 bits.
            if let Some(why) = crypto::rsa_key_weakness(&member_bytes(n)?, &member_bytes(e)?) {
                return Err(Refused::Weak(why));
            }
            let (n, e) = (n.unwrap_or_default(), e.unwrap_or_default());
            let key = DecodingKey::from_rsa_components(n, e).map_err(|_| Refused::Unusable)?;
            (KeyKind::Rsa, key)
        }
        "EC" => {
            let (kind, curve_alg, size) = match raw.crv.as_deref() {
                Some("P-256") => (KeyKind::P256, Algorithm::ES256, 32),
                Some("P-384") => (KeyKind::P384, Algorithm::ES384, 48),
                _ => return Err(Refused::Unusable),
            };
            let (x, y) = (raw.x.as_deref(), raw.y.as_deref());
            let (x_bytes, y_bytes) = (member_bytes(x)?, member_bytes(y)?);
            if x_bytes.len() != size || y_bytes.len() != size {
                return Err(Refused::Unusable);
            }
            if !crypto::ec_point_is_valid(curve_alg, &x_bytes, &y_bytes) {
                return Err(Refused::Weak("EC point not on its curve"));
            }
            let (x, y) = (x.unwrap_or_default(), y.unwrap_or_default());
            let key = DecodingKey::from_ec_components(x, y).map_err(|_| Refused::Unusable)?;
            (kind, key)
        }
        "OKP" => {
            let x = raw.x.as_deref();
            if raw.crv.as_deref() != Some("Ed25519") || member_bytes(x)?.len() != 32 {
                return Err(Refused::Unusable);
            }
            let key = DecodingKey::from_ed_components(x.unwrap_or_default())
                .map_err(|_| Refused::Unusable)?;
            (KeyKind::Ed25519, key)
        }
        // "oct" (symmetric) keys are never taken from a published key set.
        _ => return Err(Refused::Unusable),
    };
    Ok(Key {
        kind,
        alg,
        for_verify,
        decoding,
    })
}

/// How many weak keys one warning names at most (a key set holds a few keys; a hostile or
/// broken one must not make a huge log line).
const WEAK_KEYS_LOGGED: usize = 16;
/// How many characters of a `kid` a warning shows at most.
const KID_CHARS_LOGGED: usize = 64;

/// Timing and size settings of a [`JwksCache`].
///
/// ```
/// use std::time::Duration;
/// use bearer_guard::JwksConfig;
/// let config = JwksConfig::default().cooldown(Duration::from_secs(10));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct JwksConfig {
    min_refresh: Duration,
    max_refresh: Duration,
    cooldown: Duration,
    timeout: Duration,
    max_bytes: usize,
    max_stale: Duration,
}

impl Default for JwksConfig {
    fn default() -> Self {
        JwksConfig {
            min_refresh: Duration::from_secs(5 * 60),
            max_refresh: Duration::from_secs(24 * 60 * 60),
            cooldown: Duration::from_secs(30),
            timeout: Duration::from_secs(10),
            max_bytes: 256 * 1024,
            max_stale: Duration::from_secs(24 * 60 * 60),
        }
    }
}

impl JwksConfig {
    /// The shortest time keys are kept before a refresh, whatever `Cache-Control` says
    /// (default 5 minutes).
    pub fn min_refresh(mut self, d: Duration) -> Self {
        self.min_refresh = d;
        self
    }

    /// The longest time keys are kept before a refresh (default 24 hours). Used as is when the
    /// response has no `Cache-Control: max-age`; longer `max-age` values are capped to this.
    /// Whatever the setting, keys are refreshed at least once a year.
    pub fn max_refresh(mut self, d: Duration) -> Self {
        self.max_refresh = d;
        self
    }

    /// After a re-fetch caused by an unknown `kid`, or after a failed fetch, how long to wait
    /// before fetching again for the same reason (default 30 s).
    pub fn cooldown(mut self, d: Duration) -> Self {
        self.cooldown = d;
        self
    }

    /// Timeout of one fetch, body included (default 10 s).
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// Largest JWKS document accepted, in bytes (default 256 KiB).
    pub fn max_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// How long past their refresh time the last good keys keep verifying tokens while every
    /// refresh fails (default 24 hours; capped at 1 year). After that, tokens that need those
    /// keys (tokens in the verified-token cache included) are answered with
    /// [`AuthError::Unavailable`](crate::AuthError::Unavailable) (503) until a refresh
    /// succeeds: otherwise a key the issuer removed, say because it leaked, would keep
    /// verifying for as long as an attacker can keep the JWKS endpoint failing. The default
    /// rides out a day-long outage of the issuer; lower it if a removed key must stop sooner.
    pub fn max_stale(mut self, d: Duration) -> Self {
        self.max_stale = d;
        self
    }

    /// How long to keep keys fetched with this `Cache-Control: max-age` (or none).
    fn lifetime(&self, max_age: Option<Duration>) -> Duration {
        max_age
            .unwrap_or(self.max_refresh)
            .clamp(self.min_refresh, self.max_refresh.max(self.min_refresh))
    }

    pub(crate) fn limits(&self) -> Limits {
        Limits {
            timeout: self.timeout,
            max_bytes: self.max_bytes,
        }
    }
}

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
    pub last_error: Option<String>,
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
            (_, Some(err)) => Err(JwksError::Refresh(err.clone())),
            (None, None) => Err(JwksError::Refresh("no keys".into())),
        }
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
        let cache = self.clone();
        handle.spawn(async move {
            cache
                .refresh_locked(seen_generation, Some(Reason::Stale))
                .await;
            drop(guard);
        });
    }

    /// Single-flight refresh: waits for the refresh lock; if another caller fetched since
    /// `seen_generation` was read, returns its result without fetching again. `reason` is
    /// re-checked under the lock (`None` forces the fetch).
    pub(crate) async fn refresh_if(
        &self,
        seen_generation: u64,
        reason: Option<Reason>,
    ) -> Arc<Snapshot> {
        let _guard = self.inner.refresh.lock().await;
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
            Ok((keys, max_age)) => {
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
                    last_error: Some(err.to_string()),
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
        let keys = KeySet::from_json(&body)?;
        if keys.is_empty() {
            return Err(JwksError::NotAKeySet("no usable key".into()));
        }
        Ok((keys, max_age))
    }
}

/// The longest any key set (or failure) is kept before the next fetch, whatever the
/// configuration and `Cache-Control` say.
const MAX_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// `now + d`, with `d` capped at [`MAX_LIFETIME`]: a configured `Duration::MAX` together with a
/// huge `Cache-Control: max-age` from the issuer must not overflow `Instant` (which panics).
/// The same cap applies to `max_stale`, added to such a refresh time.
fn later(now: Instant, d: Duration) -> Instant {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_control() {
        assert_eq!(
            max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(max_age("max-age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=-1"), None);
        let c = JwksConfig::default();
        assert_eq!(c.lifetime(Some(Duration::ZERO)), Duration::from_secs(300));
        assert_eq!(
            c.lifetime(Some(Duration::from_secs(1 << 40))),
            Duration::from_secs(86400)
        );
        assert_eq!(
            c.lifetime(Some(Duration::from_secs(3600))),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn lifetimes_never_overflow_instant() {
        let now = Instant::now();
        assert_eq!(later(now, Duration::MAX), now + MAX_LIFETIME);
        assert_eq!(
            later(now, Duration::from_secs(60)),
            now + Duration::from_secs(60)
        );
        let c = JwksConfig::default().max_refresh(Duration::MAX);
        let huge = max_age("max-age=18446744073709551615");
        assert_eq!(later(now, c.lifetime(huge)), now + MAX_LIFETIME);
        // max_stale is added to such a refresh time, capped the same way.
        let c = c.max_stale(Duration::MAX);
        let fresh_until = later(now, c.lifetime(huge));
        assert_eq!(
            later(fresh_until, c.max_stale),
            now + MAX_LIFETIME + MAX_LIFETIME
        );
    }

    #[test]
    fn key_constraints() {
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let doc = format!(
            r#"{{"keys":[
            {{"kty":"OKP","crv":"Ed25519","kid":"sig","x":"{x}"}},
            {{"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":"{x}"}},
            {{"kty":"OKP","crv":"Ed25519","kid":"ops","key_ops":["sign"],"x":"{x}"}},
            {{"kty":"OKP","crv":"Ed25519","kid":"rs","alg":"RS256","x":"{x}"}},
            {{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}},
            {{"kty":"OKP","crv":"Ed25519","kid":"short","x":"AAAA"}}
        ]}}"#
        );
        let set = KeySet::from_json(doc.as_bytes()).unwrap();
        assert_eq!(set.len(), 4);
        assert_eq!(set.skipped(), 2);
        assert!(matches!(
            set.lookup(Some("sig"), Algorithm::EdDSA),
            Lookup::Found(_)
        ));
        assert!(matches!(
            set.lookup(Some("sig"), Algorithm::RS256),
            Lookup::Mismatch
        ));
        assert!(matches!(
            set.lookup(Some("enc"), Algorithm::EdDSA),
            Lookup::Mismatch
        ));
        assert!(matches!(
            set.lookup(Some("ops"), Algorithm::EdDSA),
            Lookup::Mismatch
        ));
        assert!(matches!(
            set.lookup(Some("rs"), Algorithm::EdDSA),
            Lookup::Mismatch
        ));
        assert!(matches!(
            set.lookup(Some("hmac"), Algorithm::HS256),
            Lookup::Unknown
        ));
        assert!(matches!(
            set.lookup(Some("nope"), Algorithm::EdDSA),
            Lookup::Unknown
        ));
        assert!(KeySet::from_json(b"[]").is_err());
    }

    /// The RSA key of RFC 7517 Appendix A.1 (2048 bits, e = 65537).
    const RFC7517_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    fn rsa_jwk(kid: &str, n: &[u8], e: &[u8]) -> String {
        format!(
            r#"{{"kty":"RSA","kid":"{kid}","alg":"RS256","n":"{}","e":"{}"}}"#,
            b64(n),
            b64(e)
        )
    }

    fn ec_jwk(kid: &str, crv: &str, x: &[u8], y: &[u8]) -> String {
        format!(
            r#"{{"kty":"EC","kid":"{kid}","crv":"{crv}","x":"{}","y":"{}"}}"#,
            b64(x),
            b64(y)
        )
    }

    /// Parses a key set of the one `jwk`; whether it was kept (else it must count as skipped).
    fn kept(jwk: &str) -> bool {
        let set = KeySet::from_json(format!(r#"{{"keys":[{jwk}]}}"#).as_bytes()).unwrap();
        assert_eq!(set.len() + set.skipped(), 1);
        set.len() == 1
    }

    #[test]
    fn weak_rsa_keys_are_skipped() {
        let n = URL_SAFE_NO_PAD.decode(RFC7517_N).unwrap();
        let mut even = n.clone();
        *even.last_mut().unwrap() &= 0xfe;
        let mut bits_2047 = n.clone();
        bits_2047[0] = 0x7f;
        let bits_2040 = [&[0u8][..], &n[1..]].concat();
        let bits_2040_long = [&[0u8, 0, 0][..], &n[1..]].concat();
        let zero_prefixed = [&[0u8][..], &n[..]].concat();
        let roca = crate::crypto::tests::hex(crate::crypto::tests::ROCA_MOD03);
        let near_roca = crate::crypto::tests::hex(crate::crypto::tests::NOT_ROCA_MOD04);
        let f4: &[u8] = &[1, 0, 1];
        let cases: [(&str, &[u8], &[u8], bool); 17] = [
            ("valid", &n, f4, true),
            ("e=3", &n, &[3], true),
            ("e=2^33-1", &n, &[1, 255, 255, 255, 255], true),
            ("e=65537 with leading zeros", &n, &[0, 0, 1, 0, 1], true),
            ("n with a leading zero octet", &zero_prefixed, f4, true),
            ("n on 30 of the 38 ROCA primes", &near_roca, f4, true),
            ("e=1", &n, &[1], false),
            ("e=0", &n, &[0], false),
            ("e=2", &n, &[2], false),
            ("e=65536", &n, &[1, 0, 0], false),
            ("e=2^33+1", &n, &[2, 0, 0, 0, 1], false),
            ("e of 9 octets", &n, &[1, 0, 0, 0, 0, 0, 0, 0, 1], false),
            ("even n", &even, f4, false),
            ("2047-bit n", &bits_2047, f4, false),
            ("2040-bit n in 256 octets", &bits_2040, f4, false),
            ("2040-bit n in 258 octets", &bits_2040_long, f4, false),
            ("ROCA n", &roca, f4, false),
        ];
        for (what, n, e, keep) in cases {
            assert_eq!(kept(&rsa_jwk("k", n, e)), keep, "{what}");
        }
    }

    #[test]
    fn ec_points_off_their_curve_are_skipped() {
        use aws_lc_rs::signature::{
            EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING,
            ECDSA_P384_SHA384_FIXED_SIGNING,
        };
        // The P-256 key of RFC 7517 Appendix A.1, and fresh P-256 and P-384 keys.
        let rfc_x = URL_SAFE_NO_PAD
            .decode("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4")
            .unwrap();
        let rfc_y = URL_SAFE_NO_PAD
            .decode("4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM")
            .unwrap();
        let mut points = vec![("P-256", rfc_x, rfc_y)];
        for (crv, alg, size) in [
            ("P-256", &ECDSA_P256_SHA256_FIXED_SIGNING, 32),
            ("P-384", &ECDSA_P384_SHA384_FIXED_SIGNING, 48),
        ] {
            let pair = EcdsaKeyPair::generate(alg).unwrap();
            let point = pair.public_key().as_ref();
            assert_eq!((point.len(), point[0]), (1 + 2 * size, 4));
            let (x, y) = point[1..].split_at(size);
            points.push((crv, x.to_vec(), y.to_vec()));
        }
        for (crv, x, y) in points {
            assert!(kept(&ec_jwk("k", crv, &x, &y)), "{crv}: valid point");
            let mut bad_y = y.clone();
            *bad_y.last_mut().unwrap() ^= 1;
            assert!(!kept(&ec_jwk("k", crv, &x, &bad_y)), "{crv}: y changed");
            let mut bad_x = x.clone();
            bad_x[0] ^= 0x80;
            assert!(!kept(&ec_jwk("k", crv, &bad_x, &y)), "{crv}: x changed");
            let ones = vec![0xff; x.len()];
            assert!(!kept(&ec_jwk("k", crv, &ones, &y)), "{crv}: x >= p");
            let zero = vec![0; x.len()];
            assert!(!kept(&ec_jwk("k", crv, &zero, &zero)), "{crv}: (0, 0)");
        }
    }

    #[test]
    fn weak_keys_are_named_by_kid_in_one_warning() {
        use std::io::Write;
        use std::sync::Mutex;

        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let n = URL_SAFE_NO_PAD.decode(RFC7517_N).unwrap();
        let roca = crate::crypto::tests::hex(crate::crypto::tests::ROCA_MOD03);
        let doc = format!(
            r#"{{"keys":[{},{},{},{{"kty":"XYZ","kid":"future"}}]}}"#,
            rsa_jwk("good", &n, &[1, 0, 1]),
            rsa_jwk("exponent-one", &n, &[1]),
            rsa_jwk("roca-key", &roca, &[1, 0, 1]),
        );
        let sink = Sink::default();
        let writer = sink.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        let set = tracing::subscriber::with_default(subscriber, || {
            KeySet::from_json(doc.as_bytes()).unwrap()
        });
        assert_eq!((set.len(), set.skipped()), (1, 3));
        let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = logs.lines().collect();
        assert_eq!(lines.len(), 1, "{logs}");
        let line = lines[0];
        assert!(line.contains("WARN"), "{line}");
        assert!(line.contains("weak or invalid keys skipped"), "{line}");
        assert!(line.contains("count=2"), "{line}");
        assert!(
            line.contains(r#""exponent-one": RSA exponent under 3"#),
            "{line}"
        );
        assert!(
            line.contains(r#""roca-key": RSA modulus with the ROCA"#),
            "{line}"
        );
        assert!(!line.contains("good") && !line.contains("future"), "{line}");
        // No key material: neither modulus appears, in base64url or hex.
        for material in [b64(&n), b64(&roca), crate::crypto::tests::ROCA_MOD03.into()] {
            assert!(!line.contains(&material[..16]), "{line}");
        }
    }

    #[test]
    fn a_jwk_alg_of_ed25519_fits_eddsa_tokens() {
        // RFC 9864 names EdDSA with Ed25519 `Ed25519`; both names are one algorithm here.
        let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
        let doc = format!(
            r#"{{"keys":[
            {{"kty":"OKP","crv":"Ed25519","kid":"new","alg":"Ed25519","x":"{x}"}},
            {{"kty":"OKP","crv":"Ed25519","kid":"old","alg":"EdDSA","x":"{x}"}},
            {{"kty":"OKP","crv":"Ed25519","kid":"448","alg":"Ed448","x":"{x}"}}
        ]}}"#
        );
        let set = KeySet::from_json(doc.as_bytes()).unwrap();
        for kid in ["new", "old"] {
            assert!(matches!(
                set.lookup(Some(kid), Algorithm::EdDSA),
                Lookup::Found(_)
            ));
        }
        assert!(matches!(
            set.lookup(Some("448"), Algorithm::EdDSA),
            Lookup::Mismatch
        ));
    }
}
