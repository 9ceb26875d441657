//! The test authorization server's tests, one binary (`cargo test -p bearer-guard-testkit
//! --test integration`): each module one subject, over real HTTP on loopback (the `cli`
//! module runs the `bearer-guard-testkit` binary, hence the `cli` feature). Shared helpers in
//! `support/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

// The endpoints, by standard.
mod conformance;
mod exchange;
mod openid;
mod registration;
mod resources;
mod server;
mod step_up;

// Several issuers, the control API, the binary.
mod cli;
mod control_api;
mod control_guard;
mod control_openid;
mod issuers;
