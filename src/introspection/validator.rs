//! [`IntrospectionValidator`]: asks the authorization server, and makes every failure of the
//! endpoint a 503.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use url::form_urlencoded;

use super::cache::{decode, encode, Entry, Key};
use super::client::{ClientAuth, Secret};
use super::flight::{self, Boarding, Flights};
use super::response::{check_members, parse_response, token_refusal};
use crate::error::{FetchError, StoreError, UnavailableError};
use crate::fetch::{self, Limits};
use crate::store::IntrospectionStore;
use crate::telemetry::{Counters, Observation, Source, Stats};
use crate::validator::Readiness;
use crate::{error::TokenError, validator::ValidationFuture, AuthError, Claims, Validator};

/// Validates tokens by asking the authorization server (RFC 7662), with a cache. Cheap to
/// clone; clones share the cache. See the [module docs](crate::introspection).
#[derive(Clone)]
pub struct IntrospectionValidator {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    pub(super) issuer: String,
    pub(super) endpoint: String,
    pub(super) client_id: String,
    pub(super) secret: Secret,
    pub(super) auth: ClientAuth,
    pub(super) audiences: Vec<String>,
    pub(super) leeway: f64,
    pub(super) scope_claim: Option<String>,
    pub(super) limits: Limits,
    pub(super) max_token_bytes: usize,
    pub(super) client: reqwest::Client,
    pub(super) ttl: Duration,
    pub(super) negative_ttl: Duration,
    /// Read synchronously, so that a cache hit needs no allocation or await.
    pub(super) cache: Option<moka::sync::Cache<Key, Entry>>,
    /// The cache shared with other instances, used instead of `cache`.
    pub(super) shared: Option<Arc<dyn IntrospectionStore>>,
    /// In-flight calls, so that identical concurrent calls share one.
    pub(super) flights: Flights,
    /// One permit per call under way (`max_concurrent_calls`).
    pub(super) calls: Semaphore,
    /// How long a call waits for a permit.
    pub(super) call_wait: Duration,
    /// How long a request waits for the call of its token (`max_wait`).
    pub(super) max_wait: Duration,
    pub(super) counters: Counters,
    /// A SHA-256 that has taken in the settings; see [`IntrospectionValidator::key`].
    pub(super) keyer: Sha256,
    /// Whether the last call to the endpoint failed (readiness).
    pub(super) endpoint_down: AtomicBool,
    /// Whether a readiness probe of the endpoint is under way (or waiting out its interval).
    pub(super) probing: AtomicBool,
}

impl fmt::Debug for IntrospectionValidator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntrospectionValidator")
            .field("issuer", &self.inner.issuer)
            .field("endpoint", &self.inner.endpoint)
            .field("client_id", &self.inner.client_id)
            .field("secret", &self.inner.secret)
            .field("auth", &self.inner.auth)
            .field("audiences", &self.inner.audiences)
            .field("cache", &self.inner.cache.is_some())
            .field("shared_store", &self.inner.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl IntrospectionValidator {
    /// The introspection endpoint in use.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Counters since the validator was built (`fetches` counts introspection calls).
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// Forgets the cached result of `token` (a revocation hint): in this validator's own
    /// cache and, with a [shared cache](super::IntrospectionValidatorBuilder::shared_store), in
    /// the shared store, so that every instance using it asks the authorization server again
    /// on the token's next use. Call it when you learn that a token was revoked.
    ///
    /// A call to the authorization server already under way for this token may still store
    /// its answer afterwards (as decided before the revocation, if it was).
    ///
    /// # Errors
    ///
    /// The shared store could not delete the entry (the local one is gone all the same).
    pub async fn forget(&self, token: &str) -> Result<(), StoreError> {
        let key = self.key(token);
        if let Some(cache) = &self.inner.cache {
            cache.invalidate(&key);
        }
        match &self.inner.shared {
            Some(shared) => shared.remove(key).await.inspect_err(|e| {
                tracing::warn!(error = %e, "the shared introspection cache could not forget a token");
            }),
            None => Ok(()),
        }
    }

    /// The cache key of `token`: a SHA-256 of this validator's settings and the token, so
    /// that validators sharing a store (other audiences, issuers, clients or lifetimes) never
    /// read each other's outcomes.
    pub(super) fn key(&self, token: &str) -> Key {
        let mut hasher = self.inner.keyer.clone();
        hasher.update(token.as_bytes());
        hasher.finalize().into()
    }

    /// The result in the shared cache, if any; a store that cannot answer, or a value that
    /// does not decode, is a miss. An accepted outcome read back is checked again against
    /// this validator's rules (`iss`, `aud`, token kind, `exp`/`nbf`): a store is shared, and
    /// what it holds is not taken on trust.
    async fn shared_get(
        &self,
        shared: &dyn IntrospectionStore,
        key: Key,
    ) -> Option<Result<Claims, TokenError>> {
        match shared.get(key).await {
            Ok(Some(bytes)) => {
                let decoded = decode(&bytes, self.inner.scope_claim.as_deref());
                if decoded.is_none() {
                    tracing::warn!("the shared introspection cache holds a value this version cannot read; asking the authorization server");
                }
                match decoded? {
                    Ok(claims) => Some(self.check_members(claims.as_map()).map(|_| claims)),
                    Err(refused) => Some(Err(refused)),
                }
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "the shared introspection cache cannot answer; asking the authorization server");
                None
            }
        }
    }

    /// Stores a decided result in the shared cache (a failure is logged).
    pub(super) async fn shared_put(&self, key: Key, entry: &Entry) {
        let Some(shared) = &self.inner.shared else {
            return;
        };
        if entry.ttl.is_zero() {
            return;
        }
        let Some(value) = encode(&entry.result) else {
            return;
        };
        if let Err(e) = shared.put(key, value, entry.ttl).await {
            tracing::warn!(error = %e, "the shared introspection cache could not store a result");
        }
    }

    /// One call for all concurrent identical requests; the result is cached (unless it is a
    /// failure) before the waiters are released. Waits at most `max_wait`.
    pub(super) async fn coalesced(&self, key: Key, token: &str) -> Result<Entry, AuthError> {
        let cache = self.inner.cache.as_ref();
        let outcome = match self
            .inner
            .flights
            .board(key, || cache.and_then(|c| c.get(&key)))
        {
            Boarding::Cached(entry) => return Ok(entry),
            Boarding::Joined(outcome) => outcome,
            Boarding::Started(flight, outcome) => {
                let Ok(handle) = tokio::runtime::Handle::try_current() else {
                    // No runtime to run the call on (nor a timer): make it here, unbounded.
                    return self.fly(key, token, flight).await;
                };
                let (this, token) = (self.clone(), token.to_owned());
                handle.spawn(async move {
                    let _ = this.fly(key, &token, flight).await;
                });
                outcome
            }
        };
        let wait = self.inner.max_wait;
        match tokio::time::timeout(wait, flight::outcome(outcome)).await {
            Ok(Some(result)) => result,
            Ok(None) => Err(UnavailableError::CallLost.into()),
            Err(_) => {
                tracing::warn!(url = %self.inner.endpoint, wait = ?wait, "the introspection call takes longer than max_wait; request answered 503, the call goes on");
                Err(UnavailableError::SlowCall {
                    url: self.inner.endpoint.clone(),
                }
                .into())
            }
        }
    }

    /// Makes the call of `flight`: caches a decided result, then hands it to the waiters, then
    /// takes the flight out of the map (also if cancelled, so that nothing is left behind).
    async fn fly(&self, key: Key, token: &str, flight: flight::Flight) -> Result<Entry, AuthError> {
        let _landing = self.inner.flights.landing(key, flight.clone());
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

    /// Checks an active response locally and wraps it into an entry.
    pub(super) fn check(&self, members: Map<String, Value>) -> Entry {
        match self.check_members(&members) {
            Err(e) => self.negative(e),
            Ok(exp) => {
                let claims = match &self.inner.scope_claim {
                    Some(name) => Claims::with_scope_claim(members, name),
                    None => Claims::new(members),
                };
                Entry::accepted(claims, exp, self.inner.ttl)
            }
        }
    }

    /// The local checks of an active response (see [`check_members`]).
    pub(super) fn check_members(
        &self,
        members: &Map<String, Value>,
    ) -> Result<Option<f64>, TokenError> {
        let inner = &*self.inner;
        check_members(members, &inner.issuer, &inner.audiences, inner.leeway)
    }

    /// The entry of a refused answer: kept for `negative_ttl`.
    pub(super) fn negative(&self, error: TokenError) -> Entry {
        Entry::refused(error, self.inner.negative_ttl)
    }

    /// Calls the endpoint once and turns the answer into a cacheable entry.
    pub(super) async fn introspect(&self, token: &str) -> Result<Entry, AuthError> {
        let inner = &*self.inner;
        let url = inner.endpoint.as_str();
        let _permit = match inner.calls.try_acquire() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout(inner.call_wait, inner.calls.acquire()).await {
                Ok(Ok(permit)) => permit,
                _ => {
                    tracing::warn!(url = %url, wait = ?inner.call_wait, "too many introspection calls under way; request refused");
                    return Err(UnavailableError::TooManyCalls {
                        url: url.to_owned(),
                    }
                    .into());
                }
            },
        };
        inner.counters.fetched();
        let mut request = inner
            .client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        if inner.auth == ClientAuth::Basic {
            request = request.basic_auth(
                form_encode(&inner.client_id),
                Some(form_encode(&inner.secret.0)),
            );
        }
        let request = request.body(self.form(token));
        let answer = fetch::exchange(request, url, inner.limits, readable).await;
        // Down: no answer, or an answer that is not one (an error status, unreadable).
        let down = match &answer {
            Ok((StatusCode::OK, _, body)) => parse_response(body).is_err(),
            Ok((_, _, body)) => token_refusal(body).is_none(),
            Err(_) => true,
        };
        inner.endpoint_down.store(down, Ordering::Relaxed);
        let body = match answer {
            Ok((StatusCode::OK, _, body)) => body,
            Ok((status, _, body)) => {
                return match token_refusal(&body) {
                    Some(code) => {
                        tracing::debug!(url = %url, error = code, "the authorization server refused to introspect the token");
                        Ok(self.negative(TokenError::Inactive))
                    }
                    None => Err(failure(
                        url,
                        &FetchError::Status {
                            url: url.to_owned(),
                            status: status.as_u16(),
                        },
                    )),
                };
            }
            Err(e) => return Err(failure(url, &e)),
        };
        match parse_response(&body) {
            Ok(Some(members)) => Ok(self.check(members)),
            Ok(None) => Ok(self.negative(TokenError::Inactive)),
            Err(e) => {
                tracing::warn!(url = %url, error = %e, "token introspection failed");
                Err(UnavailableError::IntrospectionResponse {
                    url: url.to_owned(),
                    cause: e,
                }
                .into())
            }
        }
    }

    /// The form body: the token, its type hint and, for [`ClientAuth::Post`], the credentials.
    fn form(&self, token: &str) -> String {
        let inner = &*self.inner;
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("token", token)
            .append_pair("token_type_hint", "access_token");
        if inner.auth == ClientAuth::Post {
            form.append_pair("client_id", &inner.client_id)
                .append_pair("client_secret", &inner.secret.0);
        }
        form.finish()
    }
}

impl IntrospectionValidator {
    /// Ready unless the last call to the endpoint failed; then the endpoint is asked again
    /// in the background (at most one probe per [`PROBE_INTERVAL`]), since a server that is
    /// not ready gets no requests that could find it back up.
    fn endpoint_readiness(&self) -> Readiness {
        if !self.inner.endpoint_down.load(Ordering::Relaxed) {
            return Readiness::Ready;
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            if self
                .inner
                .probing
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                let this = self.clone();
                handle.spawn(async move {
                    // Any answer about this made-up token (`active: false`) shows the
                    // endpoint up; `introspect` records the outcome.
                    let _ = this.introspect(PROBE_TOKEN).await;
                    tokio::time::sleep(PROBE_INTERVAL).await;
                    this.inner.probing.store(false, Ordering::Release);
                });
            }
        }
        Readiness::not_ready(ENDPOINT_DOWN)
    }
}

/// The token a readiness probe introspects: no token at all, so the answer is `active: false`.
const PROBE_TOKEN: &str = "bearer-guard-readiness-probe";

/// The shortest time between two readiness probes of the introspection endpoint.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_secs(2);

/// The readiness reason of an endpoint whose last call failed.
pub(crate) const ENDPOINT_DOWN: &str = "the last call to the introspection endpoint failed";

impl Validator for IntrospectionValidator {
    /// Ready unless the last call to the introspection endpoint failed (no answer, an error
    /// status, an answer that is not an introspection response). The endpoint is not called
    /// for the probe: the next request's call decides again.
    fn readiness(&self) -> Readiness {
        self.endpoint_readiness()
    }

    fn validate(&self, token: &str) -> ValidationFuture {
        let obs = Observation::start("introspection", &self.inner.issuer);
        if token.len() > self.inner.max_token_bytes {
            let result = Err(TokenError::TooLarge.into());
            obs.finish(&self.inner.counters, Source::Checked, &result);
            return ValidationFuture::ready(result);
        }
        let key = self.key(token);
        if let Some(entry) = self.inner.cache.as_ref().and_then(|c| c.get(&key)) {
            let result = entry.result.map_err(AuthError::from);
            obs.finish(&self.inner.counters, Source::Cache, &result);
            return ValidationFuture::ready(result);
        }
        let this = self.clone();
        let token = token.to_owned();
        ValidationFuture::pending(async move {
            if let Some(shared) = &this.inner.shared {
                if let Some(result) = this.shared_get(&**shared, key).await {
                    let result = result.map_err(AuthError::from);
                    obs.finish(&this.inner.counters, Source::Cache, &result);
                    return result;
                }
            }
            let result = match this.coalesced(key, &token).await {
                Ok(entry) => entry.result.map_err(AuthError::from),
                Err(e) => Err(e),
            };
            obs.finish(&this.inner.counters, Source::Checked, &result);
            result
        })
    }
}

/// Statuses whose body is read: 200, and 400 for the refusals of [`token_refusal`].
fn readable(status: StatusCode) -> bool {
    status == StatusCode::OK || status == StatusCode::BAD_REQUEST
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before going into HTTP Basic.
pub(super) fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Logs a failed call (URL and status or cause only) and makes it a 503.
fn failure(url: &str, e: &FetchError) -> AuthError {
    match e {
        FetchError::Status { status: 401, .. } => {
            tracing::warn!(url = %url, status = 401, "the introspection endpoint refused our client credentials");
        }
        FetchError::Status { status, .. } => {
            tracing::warn!(url = %url, status = *status, "token introspection failed");
        }
        _ => tracing::warn!(url = %url, error = %e, "token introspection failed"),
    }
    UnavailableError::Introspection(e.clone()).into()
}
