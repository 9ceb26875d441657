//! [`IntrospectionValidatorBuilder`]: the settings of an [`IntrospectionValidator`], checked
//! when it is built.

use std::fmt;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::cache::{EntryExpiry, Settings};
use super::client::{ClientAuth, Secret};
use super::flight::Flights;
use super::validator::{Inner, IntrospectionValidator};
use crate::discovery::IssuerMetadata;
use crate::error::DiscoveryError;
use crate::fetch::Limits;
use crate::fetch::{acceptable_url, check_tls, http_client};
use crate::jose::check_leeway;
use crate::store::IntrospectionStore;
use crate::telemetry::Counters;
use crate::validator::{audiences, check_cache_ttl};
use crate::BuildError;

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
    call_wait: Duration,
    max_wait: Duration,
    shared: Option<SharedCache>,
}

/// A shared [`IntrospectionStore`]; `Debug` shows only that there is one.
#[derive(Clone)]
pub(super) struct SharedCache(pub(super) Arc<dyn IntrospectionStore>);

impl fmt::Debug for SharedCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IntrospectionStore(..)")
    }
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

    /// Uses this introspection endpoint instead of discovering it from the issuer (the
    /// `introspection_endpoint` of RFC 8414 metadata).
    pub fn introspection_endpoint(mut self, url: impl Into<String>) -> Self {
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
    /// [`JwtValidatorBuilder::any_audience`](crate::jwt::JwtValidatorBuilder::any_audience) does.
    /// Only for authorization servers that issue tokens for this resource server alone.
    pub fn any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Most introspection calls under way at once (default 64). A request whose token would
    /// need one more call waits for a free slot for at most
    /// [`max_call_wait`](Self::max_call_wait), then fails with `503`; see the
    /// [module docs](crate::introspection).
    pub fn max_concurrent_calls(mut self, n: usize) -> Self {
        self.max_calls = n;
        self
    }

    /// How long a request waits for one of the
    /// [`max_concurrent_calls`](Self::max_concurrent_calls) slots when all are taken (default
    /// 1 s), before it fails with `503`. A burst of junk tokens holding every slot then delays
    /// legitimate uncached tokens briefly instead of refusing them at once; the wait is bounded,
    /// so requests never pile up behind a hanging authorization server. Zero refuses at once.
    pub fn max_call_wait(mut self, wait: Duration) -> Self {
        self.call_wait = wait;
        self
    }

    /// How long a request waits for the introspection call of its token, its own or one it
    /// joined (default 2 s). Past it the request is answered
    /// [`AuthError::Unavailable`](crate::AuthError::Unavailable) (503 with `Retry-After`)
    /// while the call goes on, up to [`timeout`](Self::timeout), and its answer is cached for
    /// the requests that follow: a slow or hanging authorization server holds a request for at
    /// most this long, not for the whole call timeout. The wait for a free slot
    /// ([`max_call_wait`](Self::max_call_wait)) is part of the call, so of this bound too.
    /// Zero answers 503 at once and leaves the call to run. The same word as
    /// [`JwksConfig::max_wait`](crate::jwks::JwksConfig::max_wait).
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
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

    /// Calls the endpoint for every request: no cache of results (it is on by default). See
    /// the [module docs](crate::introspection) for the revocation trade-off. Concurrent
    /// requests with the same token still share one call.
    pub fn no_cache(mut self) -> Self {
        self.cache = false;
        self
    }

    /// Longest time an active result is cached (default 60 s, at most
    /// [`MAX_CACHE_TTL`](crate::validator::MAX_CACHE_TTL)); never beyond the token's `exp`.
    pub fn cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long an inactive or refused result is cached (default 10 s, at most
    /// [`MAX_CACHE_TTL`](crate::validator::MAX_CACHE_TTL)).
    pub fn negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// Keeps results in `store`, shared by every instance that uses it, instead of this
    /// validator's own cache: a token decided by any instance is served from the store by all
    /// the others, without calling the authorization server again (several instances behind
    /// a load balancer; see [`store`](crate::store) and, with the `redis` feature,
    /// `RedisStore`). Lifetimes are as for the own cache (`cache_ttl`, never past `exp`;
    /// `negative_ttl`); [`cache_capacity`](Self::cache_capacity) is then unused.
    ///
    /// The validator then keeps no result in the process, so that
    /// [`forget`](IntrospectionValidator::forget) takes effect on every instance at once; a
    /// cache hit costs one round trip to the store. A store that cannot answer is a miss
    /// (the authorization server is asked, never "active" by default); one that cannot store
    /// is logged. Concurrent requests of one process still share one call. Off with
    /// [`no_cache`](Self::no_cache).
    pub fn shared_store(mut self, store: impl IntrospectionStore) -> Self {
        self.shared = Some(SharedCache(Arc::new(store)));
        self
    }

    /// Most results kept in the cache (default 10,000).
    pub fn cache_capacity(mut self, n: u64) -> Self {
        self.capacity = n;
        self
    }

    /// Builds the validator. Without
    /// [`introspection_endpoint`](Self::introspection_endpoint), discovers the introspection
    /// endpoint from the issuer's metadata (the only network call made here).
    pub async fn build(self) -> Result<IntrospectionValidator, BuildError> {
        let Some(client_id) = self.client_id else {
            return Err(BuildError::Invalid(
                "no client credentials for introspection",
            ));
        };
        let audiences = audiences(self.audiences, self.any_audience)?;
        check_leeway(self.leeway)?;
        check_cache_ttl(self.ttl, "the introspection cache_ttl is over 24 hours")?;
        check_cache_ttl(
            self.negative_ttl,
            "the introspection negative_ttl is over 24 hours",
        )?;
        if self.max_calls == 0 {
            return Err(BuildError::Invalid(
                "max_concurrent_calls must be at least 1",
            ));
        }
        let limits = Limits {
            timeout: self.timeout,
            max_bytes: self.max_bytes,
            purpose: "introspection",
        };
        let custom = self.client.is_some();
        check_tls(self.endpoint.as_deref().unwrap_or(&self.issuer), custom)?;
        let client = http_client(self.client, self.timeout)?;
        let endpoint = match self.endpoint {
            Some(url) => url,
            None => IssuerMetadata::discover_with(&client, &self.issuer, Limits::DISCOVERY)
                .await?
                .introspection_endpoint
                .ok_or(DiscoveryError::Missing("introspection_endpoint"))?,
        };
        check_tls(&endpoint, custom)?;
        let endpoint = acceptable_url(endpoint)?;
        let shared = self.shared.filter(|_| self.cache).map(|s| s.0);
        let cache = (self.cache && shared.is_none()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(self.capacity)
                .expire_after(EntryExpiry)
                .build()
        });
        let keyer = Settings {
            issuer: &self.issuer,
            endpoint: &endpoint,
            client_id: &client_id,
            audiences: &audiences,
            scope_claim: self.scope_claim.as_deref(),
            ttl: self.ttl,
            negative_ttl: self.negative_ttl,
        }
        .keyer();
        Ok(IntrospectionValidator {
            inner: Arc::new(Inner {
                issuer: self.issuer,
                endpoint,
                client_id,
                secret: self.secret,
                auth: self.auth,
                audiences,
                leeway: self.leeway.as_secs_f64(),
                scope_claim: self.scope_claim,
                limits,
                max_token_bytes: self.max_token_bytes,
                client,
                ttl: self.ttl,
                negative_ttl: self.negative_ttl,
                cache,
                shared,
                flights: Flights::default(),
                calls: Semaphore::new(self.max_calls.min(Semaphore::MAX_PERMITS)),
                call_wait: self.call_wait,
                max_wait: self.max_wait,
                counters: Counters::default(),
                keyer,
                endpoint_down: AtomicBool::new(false),
                probing: AtomicBool::new(false),
            }),
        })
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
            call_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(2),
            shared: None,
        }
    }
}
