//! Helpers of the server tests: JSON answers, calls to the control API, the clock, the
//! authorization-code flow ([`flow`]), and compact JWS taken apart by hand (the crate's
//! [`jwt`]).
#![allow(dead_code)]

pub mod flow;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use bearer_guard_testkit::jwt;

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

/// A JSON call to the control API: (status, body). Every call but a `GET` says
/// `Content-Type: application/json`, with a body or without.
pub async fn control(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (reqwest::StatusCode, Value) {
    let mut req = reqwest::Client::new().request(method.clone(), url);
    if let Some(body) = body {
        req = req.json(&body);
    } else if method != reqwest::Method::GET {
        req = req.header(reqwest::header::CONTENT_TYPE, "application/json");
    }
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, body)
}
