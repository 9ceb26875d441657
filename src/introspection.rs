//! Remote validation of opaque (or any) access tokens by OAuth 2.0 token introspection
//! (RFC 7662), cached and coalesced.
//!
//! [`IntrospectionValidator`] POSTs `token=…&token_type_hint=access_token` to the authorization
//! server's introspection endpoint, authenticating as a confidential client, and reads the
//! answer with [`parse_response`]:
//! - `active` must be the JSON boolean `true`; anything else (missing, a string, a number) is a
//!   failure, never "active". `active: false` is refused with `401 invalid_token`
//!   ([`TokenError::Inactive`]);
//! - when active, `exp`, `nbf`, `iss` and `aud` are still checked locally if present (with
//!   leeway): `iss` must equal the configured issuer, and `aud` is required and must name a
//!   configured audience (unless [`any_audience`](IntrospectionValidatorBuilder::any_audience)
//!   was chosen explicitly);
//! - an active answer must be about an access token: a `token_type` other than `Bearer` or
//!   `DPoP` (compared without case), or a `token_use` other than `access_token`, is refused
//!   with `401 invalid_token`, so that an authorization server that also answers `active: true`
//!   for refresh tokens does not make them access tokens here;
//! - the response's members (`scope`, `client_id`, `sub`, `username`, `token_type`, extensions)
//!   become the request's [`Claims`], so scope checks and extractors work as with JWTs.
//!
//! An answer about the token rather than the server, `400` with `"error":
//! "unsupported_token_type"` or `"invalid_token"` (as certified providers answer for a token
//! kind they do not introspect, such as a JWT), is a `401 invalid_token`, cached like an
//! inactive token: a client cannot turn its own bad token into a 503 or into load on the
//! authorization server.
//!
//! The endpoint being down, slow, redirecting, answering anything else than 200 (or the `400`s
//! above), sending something that is not a JSON object, sending too much, or refusing our own
//! client credentials makes the request fail closed with `503` ([`AuthError::Unavailable`])
//! and a `warn` log line naming the URL and the status. The token and the client secret never
//! appear in logs or errors.
//!
//! # Bounded load on the authorization server
//!
//! Every distinct uncached token costs one call. At most
//! [`max_concurrent_calls`](IntrospectionValidatorBuilder::max_concurrent_calls) (default 64)
//! calls are under way at once per validator; a request that would need one more fails fast
//! with `503` instead of queueing, so a flood of junk tokens can neither pile up waiting
//! requests nor multiply the calls to the authorization server.
//!
//! # Cache and revocation
//!
//! Results are cached under the SHA-256 of the token (the token itself is never stored). An
//! active result is kept at most until the token's `exp` and at most
//! [`cache_ttl`](IntrospectionValidatorBuilder::cache_ttl) (default 60 s); an inactive or
//! refused one for [`negative_ttl`](IntrospectionValidatorBuilder::negative_ttl) (default 10 s),
//! which blunts floods of junk tokens. Failures are not cached.
//!
//! **Trade-off:** a token revoked at the authorization server keeps being accepted here until
//! its cache entry ends, i.e. for up to the cache TTL. Lower the TTL where revocation must bite
//! sooner, or turn the cache off with [`cache(false)`](IntrospectionValidatorBuilder::cache) (one
//! introspection call per request).
//!
//! Concurrent requests carrying the same uncached token cause a single introspection call, with
//! the cache on or off.
//! A cache hit is decided synchronously ([`Validation::ready`]): no allocation, no await.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bearer_guard::BuildError> {
//! use std::time::Duration;
//! use bearer_guard::{AuthLayer, IntrospectionValidator};
//!
//! let validator = IntrospectionValidator::builder("https://issuer.example")
//!     .client("my-api", "my-api-secret")
//!     .audience("my-api")
//!     .cache_ttl(Duration::from_secs(30))
//!     .build() // discovers the introspection endpoint
//!     .await?;
//! let layer = AuthLayer::new(validator);
//! # let _ = layer; Ok(()) }
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use tokio::sync::{OnceCell, Semaphore};
use url::form_urlencoded;

use crate::discovery::{self, DiscoveryError, Metadata};
use crate::fetch::{self, FetchError, Limits};
use crate::jwt::{check_audience, numeric_date, parse_object, unix_now};
use crate::stats::{Counters, Observation, Source, Stats};
use crate::{AuthError, BuildError, Claims, TokenError, Validation, Validator};

/// How the resource server authenticates to the introspection endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the form-urlencoded id and secret (the default).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

/// Why an introspection response was not understood. Texts are fixed: they never quote the
/// response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// The body is not a JSON object.
    #[error("the introspection response is not a JSON object")]
    Malformed,
    /// The object has the same member twice.
    #[error("the introspection response has duplicate members")]
    DuplicateMember,
    /// `active` is missing or not a JSON boolean.
    #[error("the introspection response has no boolean \"active\"")]
    BadActive,
}

/// Parses an RFC 7662 introspection response: `Ok(Some(members))` for an active token,
/// `Ok(None)` for `"active": false`, an error for anything else. Duplicate members are refused,
/// and `active` must be a JSON boolean.
///
/// ```
/// use bearer_guard::introspection::{parse_response, ResponseError};
/// let active = parse_response(br#"{"active":true,"scope":"read"}"#).unwrap().unwrap();
/// assert_eq!(active["scope"], "read");
/// assert_eq!(parse_response(br#"{"active":false}"#), Ok(None));
/// assert_eq!(parse_response(br#"{"active":"true"}"#), Err(ResponseError::BadActive));
/// assert_eq!(
///     parse_response(br#"{"active":true,"active":false}"#),
///     Err(ResponseError::DuplicateMember)
/// );
/// ```
pub fn parse_response(bytes: &[u8]) -> Result<Option<Map<String, Value>>, ResponseError> {
    let map = parse_object(bytes).map_err(|e| match e {
        TokenError::DuplicateMember => ResponseError::DuplicateMember,
        _ => ResponseError::Malformed,
    })?;
    match map.get("active") {
        Some(Value::Bool(true)) => Ok(Some(map)),
        Some(Value::Bool(false)) => Ok(None),
        _ => Err(ResponseError::BadActive),
    }
}

/// The client secret; never shown by `Debug`.
#[derive(Clone, Default)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Configures an [`IntrospectionValidator`]. Made by [`IntrospectionValidator::builder`].
#[derive(Debug, Clone)]
pub struct IntrospectionValidatorBuilder {
    issuer: String,
    endpoint: Option<String>,
    client_id: Option<String>,
    secret: Secret,
    auth: ClientAuth,
    audiences: Vec<String>,
    leeway: Duration,
    scope_claim: Option<String>,
    timeout: Duration,
    max_bytes: usize,
    max_token_bytes: usize,
    client: Option<reqwest::Client>,
    cache: bool,
    ttl: Duration,
    negative_ttl: Duration,
    capacity: u64,
    any_audience: bool,
    max_calls: usize,
}

impl IntrospectionValidatorBuilder {
    /// The resource server's own client credentials at the authorization server (required).
    /// The secret is never logged.
    pub fn client(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.secret = Secret(secret.into());
        self
    }

    /// How to send the client credentials (default [`ClientAuth::Basic`]).
    pub fn auth_method(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// Uses this introspection endpoint instead of discovering it from the issuer.
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = Some(url.into());
        self
    }

    /// Requires `aud` in the response to name this audience (may be called several times;
    /// any one matches). An audience, or [`any_audience`](Self::any_audience), is required.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audiences.push(audience.into());
        self
    }

    /// Accepts answers for any audience (`aud` unchecked), as
    /// [`JwtValidatorBuilder::any_audience`](crate::JwtValidatorBuilder::any_audience) does.
    /// Only for authorization servers that issue tokens for this resource server alone.
    pub fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Most introspection calls under way at once (default 64). A request whose token would
    /// need one more call fails at once with `503`; see the [module docs](self).
    pub fn max_concurrent_calls(mut self, n: usize) -> Self {
        self.max_calls = n;
        self
    }

    /// Clock skew allowed on `exp` and `nbf` (default 60 s, at most
    /// [`MAX_LEEWAY`](crate::jwt::MAX_LEEWAY)).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Reads scopes from this member only (default: `scope`, then `scp`).
    pub fn scope_claim(mut self, name: impl Into<String>) -> Self {
        self.scope_claim = Some(name.into());
        self
    }

    /// Bound on the whole introspection exchange, body included (default 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest introspection response accepted, in bytes (default 64 KiB).
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_bytes = n;
        self
    }

    /// Largest token accepted, in bytes (default 8 KiB). Longer tokens are refused without
    /// calling the endpoint.
    pub fn max_token_bytes(mut self, n: usize) -> Self {
        self.max_token_bytes = n;
        self
    }

    /// The HTTP client for discovery and introspection (default: rustls, with the timeout).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Whether to cache results (default `true`). See the [module docs](self) for the
    /// revocation trade-off.
    pub fn cache(mut self, enabled: bool) -> Self {
        self.cache = enabled;
        self
    }

    /// Longest time an active result is cached (default 60 s, at most
    /// [`MAX_CACHE_TTL`]); never beyond the token's `exp`.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long an inactive or refused result is cached (default 10 s, at most
    /// [`MAX_CACHE_TTL`]).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// Most results kept in the cache (default 10,000).
    pub fn cache_capacity(mut self, n: u64) -> Self {
        self.capacity = n;
        self
    }

    /// Builds the validator. Without [`endpoint`](Self::endpoint), discovers the introspection
    /// endpoint from the issuer's metadata (the only network call made here).
    pub async fn build(self) -> Result<IntrospectionValidator, BuildError> {
        let Some(client_id) = self.client_id else {
            return Err(BuildError::Invalid(
                "no client credentials for introspection",
            ));
        };
        if self.audiences.is_empty() && !self.any_audience {
            return Err(BuildError::NoAudience);
        }
        crate::jwt::check_leeway(self.leeway)?;
        if self.ttl > MAX_CACHE_TTL {
            return Err(BuildError::Invalid(
                "the introspection cache_ttl is over 24 hours",
            ));
        }
        if self.negative_ttl > MAX_CACHE_TTL {
            return Err(BuildError::Invalid(
                "the introspection negative_ttl is over 24 hours",
            ));
        }
        if self.max_calls == 0 {
            return Err(BuildError::Invalid(
                "max_concurrent_calls must be at least 1",
            ));
        }
        let limits = Limits {
            timeout: self.timeout,
            max_bytes: self.max_bytes,
        };
        let client = match self.client {
            Some(c) => c,
            None => {
                fetch::default_client(self.timeout).map_err(|e| BuildError::Http(e.to_string()))?
            }
        };
        let endpoint = match self.endpoint {
            Some(url) => url,
            None => Metadata::discover_with(&client, &self.issuer, Limits::DISCOVERY)
                .await?
                .introspection_endpoint
                .ok_or(DiscoveryError::Missing("introspection_endpoint"))?,
        };
        let parsed =
            url::Url::parse(&endpoint).map_err(|_| BuildError::BadUrl(endpoint.clone()))?;
        if !discovery::is_acceptable_url(&parsed) {
            return Err(BuildError::BadUrl(endpoint));
        }
        let cache = self.cache.then(|| {
            moka::sync::Cache::builder()
                .max_capacity(self.capacity)
                .expire_after(EntryExpiry)
                .build()
        });
        Ok(IntrospectionValidator {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                endpoint,
                client_id,
                secret: self.secret,
                auth: self.auth,
                audiences: if self.any_audience {
                    Vec::new()
                } else {
                    self.audiences
                },
                leeway: self.leeway.as_secs_f64(),
                scope_claim: self.scope_claim,
                limits,
                max_token_bytes: self.max_token_bytes,
                client,
                ttl: self.ttl,
                negative_ttl: self.negative_ttl,
                cache,
                flights: Mutex::default(),
                calls: Semaphore::new(self.max_calls.min(Semaphore::MAX_PERMITS)),
                counters: Counters::default(),
            }),
        })
    }
}

/// Validates tokens by asking the authorization server (RFC 7662), with a cache. Cheap to
/// clone; clones share the cache. See the [module docs](self).
#[derive(Clone)]
pub struct IntrospectionValidator {
    inner: Arc<Inner>,
}

type Key = [u8; 32];
type Flight = Arc<OnceCell<Result<Entry, AuthError>>>;

struct Inner {
    issuer: String,
    endpoint: String,
    client_id: String,
    secret: Secret,
    auth: ClientAuth,
    audiences: Vec<String>,
    leeway: f64,
    scope_claim: Option<String>,
    limits: Limits,
    max_token_bytes: usize,
    client: reqwest::Client,
    ttl: Duration,
    negative_ttl: Duration,
    /// Read synchronously, so that a cache hit needs no allocation or await.
    cache: Option<moka::sync::Cache<Key, Entry>>,
    /// In-flight calls, so that identical concurrent calls share one.
    flights: Mutex<HashMap<Key, Flight>>,
    /// One permit per call under way (`max_concurrent_calls`).
    calls: Semaphore,
    counters: Counters,
}

/// A cached outcome and how long it may be kept.
#[derive(Clone)]
struct Entry {
    result: Result<Claims, TokenError>,
    ttl: Duration,
}

struct EntryExpiry;

impl moka::Expiry<Key, Entry> for EntryExpiry {
    fn expire_after_create(&self, _: &Key, value: &Entry, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
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
            .finish_non_exhaustive()
    }
}

impl IntrospectionValidator {
    /// Starts configuring a validator for tokens of `issuer` (used for discovery and compared
    /// with `iss` when the response has one).
    pub fn builder(issuer: impl Into<String>) -> IntrospectionValidatorBuilder {
        IntrospectionValidatorBuilder {
            issuer: issuer.into(),
            endpoint: None,
            client_id: None,
            secret: Secret::default(),
            auth: ClientAuth::Basic,
            audiences: Vec::new(),
            leeway: Duration::from_secs(60),
            scope_claim: None,
            timeout: Duration::from_secs(5),
            max_bytes: 64 * 1024,
            max_token_bytes: 8 * 1024,
            client: None,
            cache: true,
            ttl: Duration::from_secs(60),
            negative_ttl: Duration::from_secs(10),
            capacity: 10_000,
            any_audience: false,
            max_calls: 64,
        }
    }

    /// The introspection endpoint in use.
    pub fn endpoint(&self) -> &str {
        &self.inner.endpoint
    }

    /// Counters since the validator was built (`fetches` counts introspection calls).
    pub fn stats(&self) -> Stats {
        self.inner.counters.snapshot()
    }

    /// Calls the endpoint once and turns the answer into a cacheable entry.
    async fn introspect(&self, token: &str) -> Result<Entry, AuthError> {
        let inner = &*self.inner;
        let url = inner.endpoint.as_str();
        let Ok(_permit) = inner.calls.try_acquire() else {
            tracing::warn!(url = %url, "too many introspection calls under way; request refused");
            return Err(AuthError::Unavailable(format!("{url}: {TOO_MANY_CALLS}")));
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
        let body = match fetch::exchange(request, url, inner.limits, readable).await {
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
                Err(AuthError::Unavailable(format!("{url}: {e}")))
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

    fn negative(&self, error: TokenError) -> Entry {
        Entry {
            result: Err(error),
            ttl: self.inner.negative_ttl,
        }
    }

    /// Checks an active response locally and wraps it into an entry.
    fn check(&self, members: Map<String, Value>) -> Entry {
        match self.check_members(&members) {
            Err(e) => self.negative(e),
            Ok(exp) => {
                let inner = &*self.inner;
                // Clamped before converting: `exp` may be any finite number (1e300...).
                let ttl = match exp {
                    Some(exp) => Duration::try_from_secs_f64(
                        (exp - unix_now()).clamp(0.0, inner.ttl.as_secs_f64()),
                    )
                    .unwrap_or(Duration::ZERO),
                    None => inner.ttl,
                };
                let claims = match &inner.scope_claim {
                    Some(name) => Claims::with_scope_claim(members, name),
                    None => Claims::new(members),
                };
                Entry {
                    result: Ok(claims),
                    ttl,
                }
            }
        }
    }

    /// The local checks of an active response; returns its `exp`.
    fn check_members(&self, members: &Map<String, Value>) -> Result<Option<f64>, TokenError> {
        let inner = &*self.inner;
        match members.get("iss") {
            None => {}
            Some(Value::String(iss)) if *iss == inner.issuer => {}
            Some(_) => return Err(TokenError::WrongIssuer),
        }
        check_audience(members, &inner.audiences)?;
        check_token_kind(members)?;
        let now = unix_now();
        let exp = numeric_date(members, "exp")?;
        if exp.is_some_and(|exp| now >= exp + inner.leeway) {
            return Err(TokenError::Expired);
        }
        if numeric_date(members, "nbf")?.is_some_and(|nbf| now + inner.leeway < nbf) {
            return Err(TokenError::NotYetValid);
        }
        Ok(exp)
    }

    /// One call for all concurrent identical requests; the result is cached (unless it is a
    /// failure) before the waiters are released.
    async fn coalesced(&self, key: Key, token: &str) -> Result<Entry, AuthError> {
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
                result
            })
            .await
            .clone()
    }
}

impl Inner {
    fn lock_flights(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Flight>> {
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

impl Validator for IntrospectionValidator {
    fn validate(&self, token: &str) -> Validation {
        let obs = Observation::start("introspection", &self.inner.issuer);
        if token.len() > self.inner.max_token_bytes {
            let result = Err(TokenError::TooLarge.into());
            obs.finish(&self.inner.counters, Source::Checked, &result);
            return Validation::ready(result);
        }
        let key: Key = Sha256::digest(token.as_bytes()).into();
        if let Some(entry) = self.inner.cache.as_ref().and_then(|c| c.get(&key)) {
            let result = entry.result.map_err(AuthError::from);
            obs.finish(&self.inner.counters, Source::Cache, &result);
            return Validation::ready(result);
        }
        let this = self.clone();
        let token = token.to_owned();
        Validation::pending(async move {
            let result = match this.coalesced(key, &token).await {
                Ok(entry) => entry.result.map_err(AuthError::from),
                Err(e) => Err(e),
            };
            obs.finish(&this.inner.counters, Source::Checked, &result);
            result
        })
    }
}

/// The longest [`cache_ttl`](IntrospectionValidatorBuilder::cache_ttl) and
/// [`negative_ttl`](IntrospectionValidatorBuilder::negative_ttl) accepted: 24 hours.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

const TOO_MANY_CALLS: &str = "too many introspection calls under way";

/// Statuses whose body is read: 200, and 400 for the refusals of [`token_refusal`].
fn readable(status: StatusCode) -> bool {
    status == StatusCode::OK || status == StatusCode::BAD_REQUEST
}

/// The error code of a `400` answer that is about the token, not about the server or our
/// request (RFC 7009 §2.2.1 `unsupported_token_type`, RFC 6750 §3.1 `invalid_token`).
fn token_refusal(body: &[u8]) -> Option<&'static str> {
    let map = parse_object(body).ok()?;
    match map.get("error")?.as_str()? {
        "unsupported_token_type" => Some("unsupported_token_type"),
        "invalid_token" => Some("invalid_token"),
        _ => None,
    }
}

/// An active answer must be about an access token: `token_type` (RFC 7662 §2.2) `Bearer` or
/// `DPoP` when present, and `token_use` (as some servers add) `access_token` when present.
fn check_token_kind(members: &Map<String, Value>) -> Result<(), TokenError> {
    match members.get("token_type") {
        None => {}
        Some(Value::String(t))
            if t.eq_ignore_ascii_case("bearer") || t.eq_ignore_ascii_case("dpop") => {}
        Some(_) => return Err(TokenError::WrongType),
    }
    match members.get("token_use") {
        None => Ok(()),
        Some(Value::String(u)) if u == "access_token" => Ok(()),
        Some(_) => Err(TokenError::WrongType),
    }
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before going into HTTP Basic.
fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Logs a failed call (URL and status or cause only) and makes it a 503.
fn failure(url: &str, e: &FetchError) -> AuthError {
    match e {
        FetchError::Status { status: 401, .. } => {
            tracing::warn!(url = %url, status = 401, "the introspection endpoint refused our client credentials");
            AuthError::Unavailable(format!(
                "{url} refused the resource server's client credentials (401)"
            ))
        }
        FetchError::Status { status, .. } => {
            tracing::warn!(url = %url, status = *status, "token introspection failed");
            AuthError::Unavailable(e.to_string())
        }
        _ => {
            tracing::warn!(url = %url, error = %e, "token introspection failed");
            AuthError::Unavailable(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    async fn validator(b: IntrospectionValidatorBuilder) -> IntrospectionValidator {
        b.client("api", "secret")
            .endpoint("http://127.0.0.1:1/introspect")
            .build()
            .await
            .unwrap()
    }

    fn members(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn active_must_be_a_boolean() {
        for bad in [
            &br#"{"active":"true"}"#[..],
            br#"{"active":1}"#,
            br#"{"active":null}"#,
            br#"{"active":[true]}"#,
            br#"{"scope":"read"}"#,
        ] {
            assert_eq!(parse_response(bad), Err(ResponseError::BadActive));
        }
        assert_eq!(parse_response(br#"{"active":false,"sub":"x"}"#), Ok(None));
        assert!(parse_response(br#"{"active":true}"#).unwrap().is_some());
    }

    #[test]
    fn duplicates_and_garbage_are_refused() {
        assert_eq!(
            parse_response(br#"{"active":false,"active":true}"#),
            Err(ResponseError::DuplicateMember)
        );
        assert_eq!(
            parse_response(br#"{"active":true,"scope":"a","scope":"admin"}"#),
            Err(ResponseError::DuplicateMember)
        );
        for bad in [
            &b""[..],
            b"<html>",
            b"true",
            b"[{\"active\":true}]",
            b"{\"active\":true",
            b"\xff\xfe",
        ] {
            assert_eq!(parse_response(bad), Err(ResponseError::Malformed));
        }
    }

    #[tokio::test]
    async fn local_checks_on_active_responses() {
        let v =
            validator(IntrospectionValidator::builder("https://as.example").audience("api")).await;
        let now = unix_now() as i64;
        let ok = json!({"active": true, "iss": "https://as.example", "aud": ["x", "api"], "exp": now + 100});
        assert!(v.check_members(&members(ok)).is_ok());
        let cases = [
            (
                json!({"active": true, "aud": "api", "exp": now - 1000}),
                TokenError::Expired,
            ),
            (
                json!({"active": true, "aud": "api", "nbf": now + 1000}),
                TokenError::NotYetValid,
            ),
            (
                json!({"active": true, "aud": "api", "iss": "https://evil.example"}),
                TokenError::WrongIssuer,
            ),
            (
                json!({"active": true, "aud": "api", "iss": 5}),
                TokenError::WrongIssuer,
            ),
            (
                json!({"active": true, "aud": "other"}),
                TokenError::WrongAudience,
            ),
            (json!({"active": true}), TokenError::MissingClaim),
            (
                json!({"active": true, "aud": "api", "exp": "soon"}),
                TokenError::InvalidClaim,
            ),
        ];
        for (m, expected) in cases {
            assert_eq!(v.check_members(&members(m.clone())), Err(expected), "{m}");
        }
    }

    #[tokio::test]
    async fn cancelled_calls_leave_no_flight_behind() {
        use std::future::Future;
        use std::task::Poll;
        /// Polls once, so that the call has joined (or started) its flight.
        async fn start(call: &mut Validation) {
            std::future::poll_fn(|cx| {
                assert!(std::pin::Pin::new(&mut *call).poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
        }
        // An endpoint that accepts connections and never answers.
        let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let v = IntrospectionValidator::builder("https://as.example")
            .client("api", "secret")
            .audience("api")
            .endpoint(format!(
                "http://{}/introspect",
                silent.local_addr().unwrap()
            ))
            .build()
            .await
            .unwrap();
        // Callers waiting on each flight (the map holds one more reference).
        let waiters = || {
            let mut n: Vec<usize> = v
                .inner
                .lock_flights()
                .values()
                .map(Arc::strong_count)
                .collect();
            n.sort_unstable();
            n.into_iter().map(|n| n - 1).collect::<Vec<_>>()
        };
        let (mut lonely, mut a, mut b) = (v.validate("x"), v.validate("y"), v.validate("y"));
        for call in [&mut lonely, &mut a, &mut b] {
            start(call).await;
        }
        assert_eq!(waiters(), [1, 2]);
        drop(lonely);
        assert_eq!(waiters(), [2]);
        // `b` still waits on the flight it shares with `a`, so the flight stays...
        drop(a);
        assert_eq!(waiters(), [1]);
        // ... and a new caller joins it rather than starting another.
        let mut c = v.validate("y");
        start(&mut c).await;
        assert_eq!(waiters(), [2]);
        drop((b, c));
        assert_eq!(waiters(), [] as [usize; 0]);
    }

    #[tokio::test]
    async fn no_audience_configured_means_aud_unchecked() {
        let v =
            validator(IntrospectionValidator::builder("https://as.example").any_audience()).await;
        assert!(v
            .check_members(&members(json!({"active": true, "aud": "other"})))
            .is_ok());
    }

    #[tokio::test]
    async fn cache_lifetime_is_bounded_by_exp_and_ttl() {
        let v = validator(
            IntrospectionValidator::builder("https://as.example")
                .any_audience()
                .cache_ttl(Duration::from_secs(60)),
        )
        .await;
        let now = unix_now();
        let e = v.check(members(json!({"active": true, "exp": now + 5.0})));
        assert!(e.result.is_ok());
        assert!(e.ttl <= Duration::from_secs(5), "{:?}", e.ttl);
        let e = v.check(members(json!({"active": true, "exp": now + 5000.0})));
        assert_eq!(e.ttl, Duration::from_secs(60));
        let e = v.check(members(json!({"active": true})));
        assert_eq!(e.ttl, Duration::from_secs(60));
        // Absurd but finite `exp` values must neither panic nor extend the TTL: they are
        // refused as claims (no real date lies past year 9999).
        let e = v.check(members(json!({"active": true, "exp": 1e300})));
        assert!(matches!(e.result, Err(TokenError::InvalidClaim)));
        assert!(e.ttl <= Duration::from_secs(60));
        let e = v.check(members(json!({"active": true, "exp": now - 30.0})));
        assert!(e.result.is_ok(), "within leeway");
        assert_eq!(e.ttl, Duration::ZERO);
    }

    #[tokio::test]
    async fn secret_is_redacted_in_debug() {
        let b = IntrospectionValidator::builder("https://as.example")
            .client("api", "hunter2")
            .audience("api");
        assert!(!format!("{b:?}").contains("hunter2"));
        let v = b
            .endpoint("http://127.0.0.1:1/introspect")
            .build()
            .await
            .unwrap();
        assert!(!format!("{v:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn credentials_are_required_and_urls_checked() {
        let b = IntrospectionValidator::builder("https://as.example")
            .audience("api")
            .endpoint("http://127.0.0.1:1/introspect");
        assert!(matches!(
            b.clone().build().await,
            Err(BuildError::Invalid(_))
        ));
        let b = b.client("a", "b").endpoint("http://as.example/introspect");
        assert!(matches!(b.build().await, Err(BuildError::BadUrl(_))));
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        assert_eq!(form_encode("a b:c%/é"), "a+b%3Ac%25%2F%C3%A9");
    }
}
