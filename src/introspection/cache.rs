//! Cached outcomes: an active answer until the token's `exp` and at most `cache_ttl`, an
//! inactive or refused one for `negative_ttl`. Keyed by a SHA-256 of the validator's settings
//! and the token (the token itself is never stored), so that validators sharing a store never
//! read each other's outcomes.

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::jose::unix_now;
use serde_json::{Map, Value};

use crate::{error::TokenError, Claims};

/// The SHA-256 of the validator's [settings](Settings) and a token.
pub(super) type Key = [u8; 32];

/// What an outcome was decided under: the settings that make two validators decide the same
/// token differently, or keep the outcome for different times.
pub(super) struct Settings<'a> {
    pub(super) issuer: &'a str,
    pub(super) endpoint: &'a str,
    pub(super) client_id: &'a str,
    pub(super) audiences: &'a [String],
    pub(super) scope_claim: Option<&'a str>,
    pub(super) ttl: Duration,
    pub(super) negative_ttl: Duration,
}

impl Settings<'_> {
    /// A SHA-256 that has taken in these settings: a token's key is this hasher, cloned, over
    /// the token. Every field is length-prefixed; audiences are sorted, so their order does
    /// not matter.
    pub(super) fn keyer(&self) -> Sha256 {
        fn field(hasher: &mut Sha256, bytes: &[u8]) {
            hasher.update((bytes.len() as u64).to_be_bytes());
            hasher.update(bytes);
        }
        let mut hasher = Sha256::new();
        field(&mut hasher, b"bearer-guard introspection outcome v1");
        field(&mut hasher, self.issuer.as_bytes());
        field(&mut hasher, self.endpoint.as_bytes());
        field(&mut hasher, self.client_id.as_bytes());
        let mut audiences: Vec<&str> = self.audiences.iter().map(String::as_str).collect();
        audiences.sort_unstable();
        audiences.dedup();
        hasher.update((audiences.len() as u64).to_be_bytes());
        for audience in audiences {
            field(&mut hasher, audience.as_bytes());
        }
        match self.scope_claim {
            Some(name) => field(&mut hasher, name.as_bytes()),
            None => hasher.update([0xff; 8]),
        }
        hasher.update(self.ttl.as_millis().to_be_bytes());
        hasher.update(self.negative_ttl.as_millis().to_be_bytes());
        hasher
    }
}

/// A cached outcome and how long it may be kept.
#[derive(Clone)]
pub(super) struct Entry {
    pub(super) result: Result<Claims, TokenError>,
    pub(super) ttl: Duration,
}

pub(super) struct EntryExpiry;

impl moka::Expiry<Key, Entry> for EntryExpiry {
    fn expire_after_create(&self, _: &Key, value: &Entry, _: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
}

impl Entry {
    /// The entry of an accepted answer: kept until the token's `exp`, and at most `max`
    /// (`cache_ttl`).
    pub(super) fn accepted(claims: Claims, exp: Option<f64>, max: Duration) -> Entry {
        // Clamped before converting: `exp` may be any finite number (1e300...).
        let ttl = match exp {
            Some(exp) => {
                Duration::try_from_secs_f64((exp - unix_now()).clamp(0.0, max.as_secs_f64()))
                    .unwrap_or(Duration::ZERO)
            }
            None => max,
        };
        Entry {
            result: Ok(claims),
            ttl,
        }
    }

    /// The entry of a refused answer: kept for `ttl` (`negative_ttl`).
    pub(super) fn refused(error: TokenError, ttl: Duration) -> Entry {
        Entry {
            result: Err(error),
            ttl,
        }
    }
}

/// Every reason a cached refusal can carry, by name, for the shared cache's encoding.
const REFUSALS: [TokenError; 19] = [
    TokenError::TooLarge,
    TokenError::Malformed,
    TokenError::Encrypted,
    TokenError::DuplicateMember,
    TokenError::AlgorithmNotAllowed,
    TokenError::WrongType,
    TokenError::UnsupportedCritical,
    TokenError::UnknownKey,
    TokenError::KeyMismatch,
    TokenError::InvalidSignature,
    TokenError::Expired,
    TokenError::NotYetValid,
    TokenError::IssuedInFuture,
    TokenError::WrongIssuer,
    TokenError::WrongAudience,
    TokenError::MissingClaim,
    TokenError::InvalidClaim,
    TokenError::Inactive,
    TokenError::UnsupportedConfirmation,
];

/// The shared cache's value of an outcome: `{"claims": {...}}` or `{"refused": "<reason>"}`.
pub(crate) fn encode(result: &Result<Claims, TokenError>) -> Option<Vec<u8>> {
    let mut object = Map::new();
    match result {
        Ok(claims) => object.insert("claims".into(), Value::Object(claims.as_map().clone())),
        Err(e) => object.insert("refused".into(), Value::String(format!("{e:?}"))),
    };
    serde_json::to_vec(&object).ok()
}

/// The outcome of a shared cache value; `None` (a miss) for anything not made by [`encode`].
/// A value with duplicate members is not [`encode`]'s: a miss, so that no two
/// readers of one value can see different outcomes or claims.
pub(crate) fn decode(
    bytes: &[u8],
    scope_claim: Option<&str>,
) -> Option<Result<Claims, TokenError>> {
    let Ok(mut object) = crate::jose::parse_object(bytes) else {
        return None;
    };
    match (object.remove("claims"), object.remove("refused")) {
        (Some(Value::Object(map)), None) => Some(Ok(match scope_claim {
            Some(name) => Claims::with_scope_claim(map, name),
            None => Claims::new(map),
        })),
        (None, Some(Value::String(name))) => REFUSALS
            .iter()
            .find(|e| format!("{e:?}") == name)
            .map(|e| Err(*e)),
        _ => None,
    }
}
