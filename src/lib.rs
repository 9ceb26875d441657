#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
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

pub use auth::{Anonymous, Auth, AuthLayer, SenderConstraint};
pub use bearer::Scheme;
pub use claims::{Claims, Confirmation, Scopes};
pub use crypto::Backend;
pub use discovery::Metadata;
pub use dpop::DpopConfig;
pub use error::{
    AuthError, BearerError, BuildError, Challenge, DefaultErrorHandler, DiscoveryError, DpopError,
    ErrorHandler, FetchError, JwksError, RequestError, TokenError,
};
pub use introspection::{ClientAuth, IntrospectionValidator, IntrospectionValidatorBuilder};
#[cfg(feature = "mcp")]
pub use jsonrpc::{BindMcpSessionLayer, McpRequirements, RequireMcpScopeLayer};
pub use jsonwebtoken::Algorithm;
pub use jwks::{JwksCache, JwksConfig, KeySet};
pub use jwt::{JwtValidator, JwtValidatorBuilder, Prefetch};
pub use mtls::MtlsConfig;
pub use resource_metadata::{ResourceMetadata, ResourceMetadataService};
pub use scope::{RequireScope, RequireScopeLayer, Requirement, ScopeMap};
pub use telemetry::Stats;
pub use validator::{
    HybridValidator, MultiIssuer, MultiIssuerBuilder, Readiness, ReadinessService, Validation,
    Validator,
};
