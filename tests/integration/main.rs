//! The integration tests, one binary (`cargo test --all-features --test integration`): each
//! module is one subject, tested through the public API, in process with `oneshot` or over
//! loopback against the test authorization server (`bearer-guard-testkit`). The shared helpers
//! are in `tests/support/` (also used by the `attacks` and `fuzz_corpus` binaries). The
//! features it needs are the `required-features` of its `[[test]]` in `Cargo.toml`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

#[path = "../support/mod.rs"]
mod support;

// Local JWT validation and its issuers.
mod algorithm_names;
mod jwt;
mod multi;
mod profiles;
mod readiness;
mod slow_issuer;
mod spiffe;
mod trust_boundary;

// Introspection and a third-party authorization server.
mod interop_mock_server;
mod introspection;

// Where the token comes from, what it must be bound to, what it must allow.
mod cors;
mod dpop;
mod dpop_edges;
mod mtls;
mod nested_claims;
mod resource_metadata;
mod scopes;
mod sender_constraints;
mod token_sources;

// Frameworks and protocols around the layer, and the examples that show them.
mod axum;
mod cli;
mod hyper_server;
mod mcp;
mod realtime;
mod tonic;

// Shared state, logs and metrics.
mod logging;
mod metrics;
mod observability;
mod redis;
