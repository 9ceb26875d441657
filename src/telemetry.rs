//! Observability: per-validator counters a user can export, and one `tracing` span per
//! validation (target `bearer_guard`, level DEBUG) with its outcome, issuer, key id, cache use
//! and latency. Neither ever records the token.
//!
//! # Tracing
//!
//! Each validation opens a span (target `bearer_guard`, DEBUG) with `validator`, `issuer`,
//! `kid`, `cache` (hit/miss), `outcome` and `micros`. Every refusal also leaves one DEBUG event
//! (target `bearer_guard::…`) naming the check and, for fields that are not secret, what was
//! expected and what was found: `check="aud" expected=["api"] found=["api://y"]`,
//! `check="typ" expected="at+jwt" found="JWT"`, `check="exp"` with the times, or "the token is
//! not a JWT; if your issuer issues opaque tokens, validate them with IntrospectionValidator".
//! The client's answer stays a fixed text. Turn it on with `RUST_LOG=bearer_guard=debug`.
//!
//! # Counters
//!
//! `JwtValidator::stats()` and `IntrospectionValidator::stats()` return counters (accepted,
//! rejected, unavailable, cache hits, fetches) to export to your metrics system:
//!
//! ```no_run
//! # async fn demo(validator: bearer_guard::JwtValidator) {
//! let stats = validator.stats();
//! println!("accepted {} rejected {} cache hits {}", stats.accepted, stats.rejected, stats.cache_hits);
//! # }
//! ```
//!
//! # Metrics (feature `metrics`)
//!
//! The same events go through the [`metrics`](https://docs.rs/metrics) facade, so any exporter
//! (Prometheus, StatsD, OpenTelemetry) picks them up (`examples/metrics.rs`). Labels are bounded
//! sets chosen by the crate: never a token, a subject or any other claim value.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `bearer_guard_validations_total` (`VALIDATIONS`) | counter | `validator` (`jwt`, `introspection`), `outcome` (`accepted`, `rejected`, `unavailable`), `cache` (`hit`, `miss`) |
//! | `bearer_guard_fetches_total` (`FETCHES`) | counter | `purpose` (`discovery`, `jwks`, `introspection`), `result` (`ok`, `error`) |
//! | `bearer_guard_fetch_duration_seconds` (`FETCH_SECONDS`) | histogram | as `FETCHES` |
//! | `bearer_guard_dpop_refusals_total` (`DPOP_REFUSALS`) | counter | `reason` (the `DpopError` variant: `Replayed`, `WrongUri`, `BoundToken`…) |

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::{AuthError, Claims};

/// A snapshot of a validator's counters since it was built.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// Tokens accepted.
    pub accepted: u64,
    /// Tokens refused (401).
    pub rejected: u64,
    /// Validations that could not decide (503: issuer, keys or introspection unreachable).
    pub unavailable: u64,
    /// Validations answered from the validator's cache.
    pub cache_hits: u64,
    /// Fetches from the authorization server (JWKS documents or introspection calls).
    pub fetches: u64,
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    accepted: AtomicU64,
    rejected: AtomicU64,
    unavailable: AtomicU64,
    cache_hits: AtomicU64,
    fetches: AtomicU64,
}

impl Counters {
    pub(crate) fn fetched(&self) {
        self.fetches.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            accepted: self.accepted.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            unavailable: self.unavailable.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            fetches: self.fetches.load(Ordering::Relaxed),
        }
    }
}

/// Counter of validations, labelled `validator` (`jwt`, `introspection`), `outcome`
/// (`accepted`, `rejected`, `unavailable`) and `cache` (`hit`, `miss`).
#[cfg(feature = "metrics")]
pub const VALIDATIONS: &str = "bearer_guard_validations_total";
/// Counter of fetches from the authorization server, labelled `purpose` (`discovery`, `jwks`,
/// `introspection`) and `result` (`ok`, `error`).
#[cfg(feature = "metrics")]
pub const FETCHES: &str = "bearer_guard_fetches_total";
/// Histogram of fetch durations in seconds, labelled like [`FETCHES`].
#[cfg(feature = "metrics")]
pub const FETCH_SECONDS: &str = "bearer_guard_fetch_duration_seconds";
/// Counter of requests refused for their DPoP proof or binding, labelled `reason` (the
/// [`DpopError`](crate::error::DpopError) variant, e.g. `Replayed`, `WrongUri`).
#[cfg(feature = "metrics")]
pub const DPOP_REFUSALS: &str = "bearer_guard_dpop_refusals_total";

/// Records one fetch (with the `metrics` feature; nothing otherwise).
pub(crate) fn fetched(purpose: &'static str, ok: bool, elapsed: std::time::Duration) {
    #[cfg(feature = "metrics")]
    {
        let result = if ok { "ok" } else { "error" };
        metrics::counter!(FETCHES, "purpose" => purpose, "result" => result).increment(1);
        metrics::histogram!(FETCH_SECONDS, "purpose" => purpose, "result" => result)
            .record(elapsed.as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (purpose, ok, elapsed);
}

/// Records a refused request (with the `metrics` feature; nothing otherwise): a DPoP refusal
/// counts in [`DPOP_REFUSALS`] by its reason. Logging is separate ([`AuthError::log`]).
pub(crate) fn refused(error: &AuthError) {
    #[cfg(feature = "metrics")]
    if let AuthError::Dpop(e) = error {
        metrics::counter!(DPOP_REFUSALS, "reason" => e.name()).increment(1);
    }
    #[cfg(not(feature = "metrics"))]
    let _ = error;
}

/// How a validation was decided, for the span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// From the validator's cache of earlier results.
    Cache,
    /// Checked now (signature verified, or introspection made).
    Checked,
}

/// One validation being observed: its span and start time (taken only when the span is
/// enabled, so an unobserved validation pays for neither).
pub(crate) struct Observation {
    span: tracing::Span,
    started: Option<Instant>,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    validator: &'static str,
}

impl Observation {
    /// Starts observing a validation by `validator` ("jwt", "introspection") for `issuer`.
    pub(crate) fn start(validator: &'static str, issuer: &str) -> Self {
        let span = tracing::debug_span!(
            target: "bearer_guard",
            "validate",
            validator,
            issuer,
            kid = tracing::field::Empty,
            cache = tracing::field::Empty,
            outcome = tracing::field::Empty,
            micros = tracing::field::Empty,
        );
        let started = (!span.is_disabled()).then(Instant::now);
        Observation {
            span,
            started,
            validator,
        }
    }

    /// Whether anyone listens (worth computing optional fields).
    pub(crate) fn enabled(&self) -> bool {
        self.started.is_some()
    }

    /// Records the key id named by the token (shortened; it is attacker-chosen text).
    pub(crate) fn kid(&self, kid: &str) {
        let short: String = kid.chars().take(64).collect();
        self.span.record("kid", short.as_str());
    }

    /// Counts the outcome and closes the span with it.
    pub(crate) fn finish(
        self,
        counters: &Counters,
        source: Source,
        result: &Result<Claims, AuthError>,
    ) {
        let (counter, outcome) = match result {
            Ok(_) => (&counters.accepted, "accepted"),
            Err(AuthError::Unavailable(_)) => (&counters.unavailable, "unavailable"),
            Err(_) => (&counters.rejected, "rejected"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        if source == Source::Cache {
            counters.cache_hits.fetch_add(1, Ordering::Relaxed);
        }
        #[cfg(feature = "metrics")]
        record_validation(self.validator, outcome, source);
        if let Some(started) = self.started {
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.span.record("outcome", outcome);
            self.span.record(
                "cache",
                match source {
                    Source::Cache => "hit",
                    Source::Checked => "miss",
                },
            );
            self.span.record("micros", micros);
            let _entered = self.span.enter();
            match result {
                Ok(_) => tracing::debug!(target: "bearer_guard", "token accepted"),
                Err(e) => tracing::debug!(target: "bearer_guard", reason = %e, "token refused"),
            }
        }
    }
}

/// Counts one validation in [`VALIDATIONS`]. Its keys are `static`, one per combination of
/// labels, so recording allocates nothing (the `counter!` macro builds its label list on the
/// heap on every call, even with no recorder installed).
#[cfg(feature = "metrics")]
fn record_validation(validator: &'static str, outcome: &'static str, source: Source) {
    use metrics::{Level, Metadata};

    static METADATA: Metadata<'static> =
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()));
    let cache = match source {
        Source::Cache => "hit",
        Source::Checked => "miss",
    };
    match validation_key(validator, outcome, cache) {
        Some(key) => metrics::with_recorder(|r| r.register_counter(key, &METADATA).increment(1)),
        // A validator name not in the table: the same counter, built per call.
        None => metrics::counter!(
            VALIDATIONS,
            "validator" => validator,
            "outcome" => outcome,
            "cache" => cache,
        )
        .increment(1),
    }
}

/// The static key of [`VALIDATIONS`] with these labels.
#[cfg(feature = "metrics")]
fn validation_key(validator: &str, outcome: &str, cache: &str) -> Option<&'static metrics::Key> {
    use metrics::{Key, Label};

    macro_rules! keys {
        ($found:expr; $(($v:literal, $o:literal, $c:literal)),* $(,)?) => {
            match $found {
                $(($v, $o, $c) => {
                    static LABELS: [Label; 3] = [
                        Label::from_static_parts("validator", $v),
                        Label::from_static_parts("outcome", $o),
                        Label::from_static_parts("cache", $c),
                    ];
                    static KEY: Key = Key::from_static_parts(VALIDATIONS, &LABELS);
                    Some(&KEY)
                })*
                _ => None,
            }
        };
    }
    keys![
        (validator, outcome, cache);
        ("jwt", "accepted", "hit"),
        ("jwt", "accepted", "miss"),
        ("jwt", "rejected", "hit"),
        ("jwt", "rejected", "miss"),
        ("jwt", "unavailable", "hit"),
        ("jwt", "unavailable", "miss"),
        ("introspection", "accepted", "hit"),
        ("introspection", "accepted", "miss"),
        ("introspection", "rejected", "hit"),
        ("introspection", "rejected", "miss"),
        ("introspection", "unavailable", "hit"),
        ("introspection", "unavailable", "miss"),
    ]
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::validation_key;

    #[test]
    fn every_validation_the_validators_record_has_a_static_key() {
        for validator in ["jwt", "introspection"] {
            for outcome in ["accepted", "rejected", "unavailable"] {
                for cache in ["hit", "miss"] {
                    let key = validation_key(validator, outcome, cache)
                        .unwrap_or_else(|| panic!("{validator} {outcome} {cache}"));
                    let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
                    assert_eq!(
                        labels,
                        [
                            ("validator", validator),
                            ("outcome", outcome),
                            ("cache", cache)
                        ]
                    );
                }
            }
        }
    }
}
