//! Verified claims and the scopes they grant.
//!
//! A validator puts one [`Claims`] into the request extensions. It is an `Arc` inside, so
//! cloning it (as extractors do) costs a reference count, not a copy of the claim map.
//!
//! ```
//! use bearer_guard::Claims;
//! use serde_json::json;
//!
//! let claims = Claims::from_value(json!({
//!     "iss": "https://issuer.example", "sub": "alice", "aud": ["api", "other"],
//!     "exp": 1900000000, "scope": "read write", "tenant": "acme"
//! })).unwrap();
//! assert_eq!(claims.subject(), Some("alice"));
//! assert!(claims.audiences().any(|a| a == "api"));
//! assert!(claims.scopes().contains("write"));
//!
//! #[derive(serde::Deserialize)]
//! struct Mine { sub: String, tenant: String }
//! let mine: Mine = claims.deserialize().unwrap();
//! assert_eq!(mine.tenant, "acme");
//! ```

mod confirmation;
mod pointer;
mod scopes;
mod verified;

pub use confirmation::Confirmation;
#[cfg(feature = "fuzzing")]
pub(crate) use pointer::lookup;
pub use scopes::Scopes;
pub use verified::Claims;

#[cfg(test)]
mod tests;
