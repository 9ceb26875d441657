//! Settings checks that every validator builder shares.

use std::time::Duration;

use crate::error::BuildError;

/// The longest cache lifetime accepted by the validator builders
/// ([`JwtValidatorBuilder::cache_ttl`](crate::jwt::JwtValidatorBuilder::cache_ttl),
/// [`IntrospectionValidatorBuilder::cache_ttl`](crate::introspection::IntrospectionValidatorBuilder::cache_ttl) and
/// [`negative_ttl`](crate::introspection::IntrospectionValidatorBuilder::negative_ttl) accepted: 24 hours.
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The audiences a validator checks: those configured, or none at all with `any_audience`
/// chosen explicitly; neither is [`BuildError::NoAudience`]. Shared by every validator builder.
pub(crate) fn audiences(
    configured: Vec<String>,
    any_audience: bool,
) -> Result<Vec<String>, BuildError> {
    match (configured.is_empty(), any_audience) {
        (_, true) => Ok(Vec::new()),
        (true, false) => Err(BuildError::NoAudience),
        (false, false) => Ok(configured),
    }
}

/// Refuses a cache lifetime over [`MAX_CACHE_TTL`] with the message `over` (which names the
/// setting).
pub(crate) fn check_cache_ttl(ttl: Duration, over: &'static str) -> Result<(), BuildError> {
    if ttl > MAX_CACHE_TTL {
        return Err(BuildError::Invalid(over));
    }
    Ok(())
}
