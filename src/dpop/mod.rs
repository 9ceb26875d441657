//! DPoP (RFC 9449) at the resource server: sender-constrained access tokens.
//!
//! A DPoP-bound access token carries the SHA-256 thumbprint of the client's public key in
//! `cnf.jkt`. The client presents it as `Authorization: DPoP <token>` together with a `DPoP`
//! header: a fresh JWS over the request's method and URI, signed with that key. A stolen token
//! is then useless without the private key.
//!
//! DPoP is an opt-in of the layer, [`AuthLayer::dpop`](crate::AuthLayer::dpop): the
//! [`Validator`](crate::Validator) checks the token alone, as before, and the layer then checks
//! the binding against the request. With a [`DpopConfig`], for every request whose token has
//! `cnf.jkt` or is presented with the `DPoP` scheme, the layer requires exactly one `DPoP`
//! header and checks (RFC 9449 §4.3, §7.1):
//!
//! 1. the proof is a compact JWS of at most [`max_proof_bytes`](DpopConfig::max_proof_bytes),
//!    header and claims JSON objects without duplicate members, no `crit`;
//! 2. `typ` is `dpop+jwt`; `alg` is on the [allow-list](DpopConfig::algorithms) (asymmetric
//!    only: never `none` or HMAC);
//! 3. `jwk` is a public key (no private members such as `d`) that fits `alg`, and the
//!    signature verifies with it;
//! 4. `htm` equals the request method; `htu` equals the request URI without query and fragment
//!    (scheme, host, port and path compared after URL normalisation). The request URI is
//!    [`base_url`](DpopConfig::base_url) followed by the request path when `base_url` is set
//!    (the safe setting, and the one for services behind a proxy). Otherwise it is taken from
//!    the request (`Host` header, or the authority of an absolute request URI), whose
//!    authority must be a plain `host[:port]` on the
//!    [`allowed_hosts`](DpopConfig::allowed_hosts) list, else the proof is refused
//!    ([`DpopError::WrongUri`]): a proof and token made for another resource server (whose
//!    audience also covers this one) cannot be replayed here under that server's name, and a
//!    value such as `api.example\admin` is not normalised into another path. A layer with
//!    neither setting is not built. A request path with a dot segment (`.` or `..`, also
//!    written with `%2e` or `%2E`) or a backslash (`\`, `%5c`) is refused before any of this
//!    ([`DpopError::AmbiguousPath`]): URL normalisation would resolve it, so a proof captured
//!    for `/public/x` would also name `/admin/%2e%2e/public/x`;
//! 5. `iat` lies within the [window](DpopConfig::iat_window) (default 60 s either side);
//! 6. `ath` is the base64url SHA-256 of the access token;
//! 7. the RFC 7638 SHA-256 thumbprint of `jwk` equals the token's `cnf.jkt`;
//! 8. only with [`nonces`](DpopConfig::nonces) turned on: `nonce` is a string that this server
//!    (or another sharing its [secret](DpopConfig::nonce_secret), of at least 32 bytes)
//!    issued at most the nonce lifetime ago (RFC 9449 §9). Otherwise the request is refused
//!    with `DPoP error="use_dpop_nonce"` and a fresh nonce in the `DPoP-Nonce` response header
//!    ([`DpopError::UseNonce`]); the client retries with a new proof carrying it;
//! 9. the `jti` was not seen before (replay cache, keyed by the SHA-256 of `jti`). An accepted
//!    `jti` is kept until its proof's `iat` is too old to pass the window again, and never
//!    dropped earlier: when the [cache](DpopConfig::cache_capacity) is full of such entries, new
//!    proofs are refused with 503 ([`AuthError::Unavailable`], fail closed) rather than
//!    accepted and forgotten. The `jti` is recorded last: a proof refused by an earlier step,
//!    in particular one whose key is not the token's (rule 7) or that comes with a token not
//!    bound at all ([`DpopError::NotBound`]), uses up neither its `jti` nor room in the cache.
//!    Behind a load balancer, [`shared_store`](DpopConfig::shared_store) shares the set
//!    between instances (see [`store`](crate::store)); a store that cannot answer refuses
//!    with 503 too.
//!
//! A token with `cnf.jkt` presented with the `Bearer` scheme is refused
//! ([`DpopError::BoundToken`], RFC 9449 §7.2), and so is a token without `cnf.jkt` presented
//! with the `DPoP` scheme ([`DpopError::NotBound`], before its proof is looked at).
//!
//! [`AuthLayer::dpop`](crate::AuthLayer::dpop) returns a [`BuildError`](crate::BuildError)
//! rather than a layer that is unsafe or cannot work: without
//! [`base_url`](DpopConfig::base_url) or [`allowed_hosts`](DpopConfig::allowed_hosts), with an
//! `allowed_hosts` entry that is not a plain `host[:port]`, or with a
//! [nonce secret](DpopConfig::nonce_secret) under 32 bytes.
//!
//! **Without** a `DpopConfig` the layer accepts only the `Bearer` scheme and still refuses
//! tokens with `cnf.jkt` (fail closed): such a token says it may only be used with a proof of
//! possession, which that layer cannot check.
//!
//! [`ProofVerifier`] checks proofs outside the layer (at a token endpoint, say) and hands back
//! the key's thumbprint; the test server of `bearer-guard-testkit` uses it to issue bound
//! tokens (`token_type: "DPoP"`) when a token request carries a proof.
//!
//! # Server-provided nonces
//!
//! Nonces (RFC 9449 §9) are off by default. With [`DpopConfig::nonces`], proofs must carry a
//! recent `nonce` issued by this server, which limits how far ahead of time a client (or an
//! attacker holding its key for a while) can make proofs. Nonces are stateless: the issue time
//! and an HMAC-SHA256 of it under a secret, so every instance that shares the
//! [secret](DpopConfig::nonce_secret) accepts the nonces of the others. When an accepted
//! proof's nonce is older than half its lifetime, the successful response carries a fresh one
//! in `DPoP-Nonce` so that clients can move on before theirs expires.
//!
//! ```
//! use std::time::Duration;
//! use bearer_guard::{jwt::Algorithm, dpop::DpopConfig};
//!
//! let dpop = DpopConfig::new()
//!     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
//!     .iat_window(Duration::from_secs(30), Duration::from_secs(5))
//!     // The URL clients use, as seen outside any proxy.
//!     .base_url(url::Url::parse("https://api.example").unwrap());
//! // AuthLayer::new(validator).dpop(dpop)?
//! # let _ = dpop;
//! ```
//!
//! [`AuthError::Unavailable`]: crate::AuthError::Unavailable
//! [`DpopError::AmbiguousPath`]: crate::error::DpopError::AmbiguousPath
//! [`DpopError::BoundToken`]: crate::error::DpopError::BoundToken
//! [`DpopError::NotBound`]: crate::error::DpopError::NotBound
//! [`DpopError::UseNonce`]: crate::error::DpopError::UseNonce
//! [`DpopError::WrongUri`]: crate::error::DpopError::WrongUri

mod config;
mod nonce;
mod proof;
mod thumbprint;
mod uri;
mod verifier;

pub use crate::error::dpop::{Nonce, NONCE_HEADER};
pub use config::{DpopConfig, MAX_IAT_WINDOW};
pub use thumbprint::jwk_thumbprint;
pub use verifier::{ProofVerifier, VerifiedProof};

/// The request a proof is checked against, for callers that fix the clock (tests, fuzzing).
#[cfg(feature = "fuzzing")]
pub(crate) use proof::Target;
pub(crate) use proof::{refuse_bound, Checked, DpopVerifier, PendingCheck};

/// The `DPoP` request header.
pub const DPOP_HEADER: &str = "dpop";

#[cfg(test)]
mod tests;
