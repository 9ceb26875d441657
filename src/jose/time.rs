//! Time: the clock, NumericDate (RFC 7519 §2) and the `exp`, `nbf` and `iat` checks with
//! leeway, for JWT claims and introspection answers alike.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::claims::Presence;
use crate::{error::TokenError, BuildError};

/// The largest clock skew a validator accepts: 5 minutes. More would all but switch the time
/// checks off (`leeway(Duration::MAX)` would never let a token expire).
pub const MAX_LEEWAY: Duration = Duration::from_secs(5 * 60);

/// Refuses a leeway over [`MAX_LEEWAY`]; shared by every validator builder.
pub(crate) fn check_leeway(leeway: Duration) -> Result<(), BuildError> {
    if leeway > MAX_LEEWAY {
        return Err(BuildError::Invalid("the leeway is over 5 minutes"));
    }
    Ok(())
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z. Anything later (up to `1e308`, or
/// integers past `u64::MAX` that JSON parsing rounds to a float) cannot be a meant date: an
/// `exp` like that would be a token that never expires.
const MAX_NUMERIC_DATE: f64 = 253_402_300_799.0;

/// Reads a NumericDate claim (RFC 7519 §2): a JSON number, possibly non-integer, between 0
/// (the epoch) and [`MAX_NUMERIC_DATE`]. Strings, booleans, negative, non-finite and larger
/// values are invalid.
pub(crate) fn numeric_date(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<f64>, TokenError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|f| (0.0..=MAX_NUMERIC_DATE).contains(f))
            .map(Some)
            .ok_or(TokenError::InvalidClaim),
        Some(_) => Err(TokenError::InvalidClaim),
    }
}

/// The validity window at `now` (seconds), with `leeway` (seconds) on both ends: expired at
/// `exp + leeway` ([`TokenError::Expired`]), valid from `nbf - leeway`
/// ([`TokenError::NotYetValid`]). `exp` is checked first.
pub(crate) fn check_window(
    exp: Option<f64>,
    nbf: Option<f64>,
    now: f64,
    leeway: f64,
) -> Result<(), TokenError> {
    if let Some(exp) = exp.filter(|exp| now >= exp + leeway) {
        tracing::debug!(check = "exp", exp, now, leeway, "token refused: expired");
        return Err(TokenError::Expired);
    }
    if let Some(nbf) = nbf.filter(|nbf| now + leeway < *nbf) {
        tracing::debug!(
            check = "nbf",
            nbf,
            now,
            leeway,
            "token refused: not valid yet"
        );
        return Err(TokenError::NotYetValid);
    }
    Ok(())
}

/// Reads and checks `exp` (required or not), then `nbf`, against the window of
/// [`check_window`]; returns `exp`.
pub(crate) fn check_exp_nbf(
    claims: &Map<String, Value>,
    exp: Presence,
    now: f64,
    leeway: f64,
) -> Result<Option<f64>, TokenError> {
    let exp = match (numeric_date(claims, "exp")?, exp) {
        (None, Presence::Required) => return Err(TokenError::MissingClaim),
        (exp, _) => exp,
    };
    check_window(exp, None, now, leeway)?;
    check_window(None, numeric_date(claims, "nbf")?, now, leeway)?;
    Ok(exp)
}

/// Refuses an `iat` later than `now + leeway` ([`TokenError::IssuedInFuture`]).
pub(crate) fn check_iat(
    claims: &Map<String, Value>,
    now: f64,
    leeway: f64,
) -> Result<(), TokenError> {
    match numeric_date(claims, "iat")? {
        Some(iat) if iat > now + leeway => Err(TokenError::IssuedInFuture),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leeway_up_to_five_minutes_is_accepted_and_no_more() {
        assert_eq!(MAX_LEEWAY, Duration::from_secs(300));
        for ok in [Duration::ZERO, Duration::from_secs(66), MAX_LEEWAY] {
            assert!(check_leeway(ok).is_ok(), "{ok:?}");
        }
        for over in [
            MAX_LEEWAY + Duration::from_nanos(1),
            Duration::from_secs(301),
            Duration::MAX,
        ] {
            assert!(check_leeway(over).is_err(), "{over:?}");
        }
    }

    #[test]
    fn iat_up_to_now_plus_leeway_is_accepted() {
        let iat = |t: f64| serde_json::json!({ "iat": t }).as_object().unwrap().clone();
        let (now, leeway) = (1_000_000.0, 60.0);
        assert_eq!(check_iat(&iat(now + leeway), now, leeway), Ok(()));
        assert_eq!(
            check_iat(&iat(now + leeway + 0.5), now, leeway),
            Err(TokenError::IssuedInFuture)
        );
        assert_eq!(check_iat(&Map::new(), now, leeway), Ok(()));
    }

    #[test]
    fn numeric_dates_are_numbers_from_the_epoch_to_year_9999() {
        let claims = |v: Value| serde_json::json!({ "exp": v }).as_object().unwrap().clone();
        for good in [
            serde_json::json!(0),
            serde_json::json!(1.5),
            serde_json::json!(253_402_300_799u64),
        ] {
            assert!(numeric_date(&claims(good.clone()), "exp").is_ok(), "{good}");
        }
        for bad in [
            serde_json::json!(-1),
            serde_json::json!(1e308),
            serde_json::json!(253_402_300_800u64),
            serde_json::json!(u64::MAX),
            serde_json::json!("1"),
        ] {
            assert_eq!(
                numeric_date(&claims(bad.clone()), "exp"),
                Err(TokenError::InvalidClaim),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_window_has_leeway_on_both_ends() {
        assert_eq!(check_window(Some(100.0), None, 159.0, 60.0), Ok(()));
        assert_eq!(
            check_window(Some(100.0), None, 160.0, 60.0),
            Err(TokenError::Expired)
        );
        assert_eq!(check_window(None, Some(100.0), 40.0, 60.0), Ok(()));
        assert_eq!(
            check_window(None, Some(100.0), 39.0, 60.0),
            Err(TokenError::NotYetValid)
        );
        // exp first.
        assert_eq!(
            check_window(Some(0.0), Some(1e9), 100.0, 0.0),
            Err(TokenError::Expired)
        );
        let claims = serde_json::json!({"nbf": "soon"});
        let claims = claims.as_object().unwrap();
        assert_eq!(
            check_exp_nbf(claims, Presence::Optional, 0.0, 0.0),
            Err(TokenError::InvalidClaim)
        );
        assert_eq!(
            check_exp_nbf(&Map::new(), Presence::Required, 0.0, 0.0),
            Err(TokenError::MissingClaim)
        );
    }
}
