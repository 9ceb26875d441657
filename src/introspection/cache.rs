//! Cached outcomes: an active answer until the token's `exp` and at most `cache_ttl`, an
//! inactive or refused one for `negative_ttl`. Keyed by the SHA-256 of the token (the token
//! itself is never stored).

use std::time::{Duration, Instant};

use super::IntrospectionValidator;
use crate::jose::unix_now;
use serde_json::{Map, Value};

use crate::{Claims, TokenError};

/// The SHA-256 of a token.
pub(super) type Key = [u8; 32];

/// The longest [`cache_ttl`](super::IntrospectionValidatorBuilder::cache_ttl) and
/// [`negative_ttl`](super::IntrospectionValidatorBuilder::negative_ttl) accepted: 24 hours.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

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

impl IntrospectionValidator {
    /// The entry of an accepted answer: kept until the token's `exp`, and at most
    /// `cache_ttl`.
    pub(super) fn positive(&self, claims: Claims, exp: Option<f64>) -> Entry {
        let max = self.inner.ttl;
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

    /// The entry of a refused answer: kept for `negative_ttl`.
    pub(super) fn negative(&self, error: TokenError) -> Entry {
        Entry {
            result: Err(error),
            ttl: self.inner.negative_ttl,
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
pub(super) fn encode(result: &Result<Claims, TokenError>) -> Option<Vec<u8>> {
    let mut object = Map::new();
    match result {
        Ok(claims) => object.insert("claims".into(), Value::Object(claims.as_map().clone())),
        Err(e) => object.insert("refused".into(), Value::String(format!("{e:?}"))),
    };
    serde_json::to_vec(&object).ok()
}

/// The outcome of a shared cache value; `None` (a miss) for anything not made by [`encode`].
pub(super) fn decode(
    bytes: &[u8],
    scope_claim: Option<&str>,
) -> Option<Result<Claims, TokenError>> {
    let Ok(Value::Object(mut object)) = serde_json::from_slice::<Value>(bytes) else {
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
