#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod bearer;
pub mod claims;
pub mod crypto;
pub mod discovery;
pub mod error;
pub mod fetch;
pub mod jwks;
pub mod jwt;
pub mod layer;
pub mod validator;

#[cfg(feature = "test-server")]
pub mod server;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use bearer::BearerError;
pub use claims::{Claims, Scopes};
pub use crypto::Backend;
pub use discovery::{DiscoveryError, Metadata};
pub use error::{AuthError, Challenge, DefaultErrorHandler, ErrorHandler, TokenError};
pub use fetch::FetchError;
pub use jsonwebtoken::Algorithm;
pub use jwks::{JwksCache, JwksConfig, JwksError, KeySet};
pub use jwt::{BuildError, JwtValidator, JwtValidatorBuilder};
pub use layer::{AuthLayer, AuthService, ResponseFuture};
pub use validator::{Validation, Validator};
