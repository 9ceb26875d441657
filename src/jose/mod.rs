//! The JOSE core (RFC 7515, RFC 7518, RFC 7519): every rule for reading a compact JWS and the
//! registered claims of its payload, written once.
//!
//! [`jwt`](crate::jwt) (access tokens), [`dpop`](crate::dpop) (proofs),
//! [`MultiIssuer`](crate::MultiIssuer) (routing by `iss`) and [`HybridValidator`](crate::HybridValidator) (routing by shape)
//! read tokens through it, and [`introspection`](crate::introspection) applies its time,
//! issuer and audience rules to introspection answers. Nothing else parses a JWS.
//!
//! The rules are crate-private; what a user may want is re-exported where it always was:
//! [`jwt::DEFAULT_ALGORITHMS`](crate::jwt::DEFAULT_ALGORITHMS) and
//! [`jwt::MAX_LEEWAY`](crate::jwt::MAX_LEEWAY).
//!
//! | file | what |
//! |---|---|
//! | `compact.rs` | the compact serialization: size cap, three non-empty segments (five, a JWE, refused), signing input |
//! | `json.rs` | base64url JSON objects; duplicate members refused |
//! | `header.rs` | the JOSE header: `alg`, `kid`, `typ`, `jwk`, and the refusals of `crit`, `enc` and `b64` |
//! | `alg.rs` | the one table of algorithm names (both directions, RFC 9864's `Ed25519`), the default allow-list, HMAC key sizes |
//! | `signature.rs` | signature verification through the chosen [`Backend`](crate::crypto::Backend) (ECDSA/EdDSA lengths first) |
//! | `time.rs` | the clock, NumericDate, `exp`/`nbf`/`iat` with leeway, [`MAX_LEEWAY`](crate::jwt::MAX_LEEWAY) |
//! | `claims.rs` | `iss` and `aud` |

mod alg;
mod claims;
mod compact;
mod header;
mod json;
mod signature;
mod time;

pub use alg::DEFAULT_ALGORITHMS;
pub use time::MAX_LEEWAY;

pub(crate) use alg::{alg_from_name, alg_name, hmac_min_len, is_hmac};
pub(crate) use claims::{
    check_audience, check_claim_value, check_issuer, check_issuer_template, IssuerTemplate,
    Presence,
};
pub(crate) use compact::{looks_like_jws, Compact, MAX_SIGNATURE_BYTES};
pub(crate) use header::{unverified_kid, AlgError, Header};
pub(crate) use json::parse_object;
pub(crate) use signature::{verify, SignatureError};
pub(crate) use time::{
    check_exp_nbf, check_iat, check_leeway, check_window, numeric_date, unix_now,
};
