#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![cfg_attr(not(test), warn(clippy::indexing_slicing))]

pub mod auth;
pub mod bearer;
pub mod claims;
pub mod crypto;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod fetch;
pub mod introspection;
mod jose;
#[cfg(feature = "mcp")]
pub mod jsonrpc;
pub mod jwks;
pub mod jwt;
pub mod mtls;
pub mod profiles;
pub mod resource_metadata;
pub mod scope;
pub mod source;
pub mod store;
pub mod telemetry;
pub mod validator;

#[cfg(feature = "axum")]
pub mod axum;
#[cfg(feature = "tonic")]
pub mod tonic;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

// What a user needs in the first hour; everything else is reached through its module.
pub use auth::AuthLayer;
pub use claims::Claims;
pub use error::{AuthError, BuildError};
pub use introspection::IntrospectionValidator;
pub use jwt::JwtValidator;
pub use resource_metadata::ResourceMetadata;
pub use scope::{RequireScopeLayer, Requirement};
pub use validator::{HybridValidator, MultiIssuer, Validator};
