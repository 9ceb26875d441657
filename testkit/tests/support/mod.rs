//! The few helpers of the library's `tests/support` that the server tests use: JSON answers,
//! the clock, and compact JWS taken apart by hand (in [`jwt`]).
#![allow(dead_code)]

pub mod flow;
pub mod jwt;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;

/// Sends `req` and reads its answer as JSON, whatever the status.
pub async fn json<T: DeserializeOwned>(req: reqwest::RequestBuilder) -> T {
    req.send().await.unwrap().json().await.unwrap()
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
