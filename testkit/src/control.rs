//! The HTTP control API under `/_testkit/` (test-only; mounted only when
//! [`TestServerBuilder::control_api`](super::TestServerBuilder::control_api) is on). Every
//! route is a thin layer over the Rust API of [`TestServer`](super::TestServer); the routes
//! and bodies are documented in the crate docs. This file: the router, errors and reading the
//! JSON bodies.
//!
//! | file | what |
//! |---|---|
//! | `guard.rs` | loopback only (bind address and `Host`) unless forced, `application/json` on every request that changes something |
//! | `tokens.rs` | minted tokens |
//! | `keys.rs` | keys: list, add, activate, retire |
//! | `faults.rs` | faults and request counts per endpoint |
//! | `records.rs` | the clients registered at run time |
//! | `openid.rs` | users, sign-ins and issuers by path |

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Extension, Json, Router};
use serde_json::{json, Map, Value};

use super::body::{error_body, read_body, too_large};
use super::config::{Endpoint, Fault};
use super::keys::KeyAlg;
use super::mint::{Defect, TokenBuilder};
use super::state::Inner;
use super::tenants::Tenants;

mod faults;
mod guard;
mod keys;
mod openid;
mod records;
mod tokens;

type Shared = State<Arc<Inner>>;

/// The routes, to be merged into the server's router, each behind [`guard::guard`] (loopback
/// `Host` unless `allow_remote`, JSON content type).
pub(crate) fn router(allow_remote: bool, tenants: Option<Arc<Tenants>>) -> Router<Arc<Inner>> {
    Router::new()
        .route("/_testkit/tokens", post(tokens::mint))
        .route("/_testkit/keys", get(keys::list_keys).post(keys::add_key))
        .route("/_testkit/keys/{kid}/activate", post(keys::activate_key))
        .route("/_testkit/keys/{kid}/retire", post(keys::retire_key))
        .route(
            "/_testkit/faults",
            get(faults::list_faults).delete(faults::clear_faults),
        )
        .route(
            "/_testkit/faults/{endpoint}",
            put(faults::set_fault).delete(faults::clear_fault),
        )
        .route(
            "/_testkit/counts",
            get(faults::counts).delete(faults::reset_counts),
        )
        .route("/_testkit/clients", get(records::registered_clients))
        .route("/_testkit/users", post(openid::add_user))
        .route(
            "/_testkit/users/{username}/sign-in",
            put(openid::set_sign_in),
        )
        .route(
            "/_testkit/issuers",
            get(openid::list_issuers).post(openid::add_issuer),
        )
        .route("/_testkit", any(not_found))
        .route("/_testkit/{*rest}", any(not_found))
        // Only the routes above: the server's other paths (and its 404s) stay as they are.
        .route_layer(Extension(tenants))
        .route_layer(axum::middleware::from_fn_with_state(
            allow_remote,
            guard::guard,
        ))
}

async fn not_found() -> Response {
    ControlError(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such control route".into(),
    )
    .into_response()
}

/// An error of the control API: `{"error", "error_description"}` with a status.
struct ControlError(StatusCode, &'static str, String);

fn bad_request(description: impl Into<String>) -> ControlError {
    ControlError(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description.into(),
    )
}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        (self.0, Json(error_body(self.1, &self.2))).into_response()
    }
}

type Answer = Result<Response, ControlError>;

/// The request body as a JSON object (an empty body is `{}`): the extractor of every control
/// route that takes a body; refused with 413 or 400 before the handler runs.
struct JsonObject(Map<String, Value>);

impl<S: Send + Sync> axum::extract::FromRequest<S> for JsonObject {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, _: &S) -> Result<Self, Response> {
        let (parts, body) = req.into_parts();
        json_object(&parts.headers, body).await.map(JsonObject)
    }
}

async fn json_object(headers: &HeaderMap, body: Body) -> Result<Map<String, Value>, Response> {
    let bytes = read_body(headers, body).await.map_err(|()| too_large())?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request("the body must be a JSON object").into_response()),
        Err(_) => Err(bad_request("the body is not valid JSON").into_response()),
    }
}

/// Refuses members other than `allowed` (to catch typos).
fn only(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ControlError> {
    match body.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(bad_request(format!(
            "unknown member {k:?} (allowed: {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn string<'a>(body: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, ControlError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad_request(format!("{name} must be a string"))),
    }
}

fn number(body: &Map<String, Value>, name: &str) -> Result<Option<u64>, ControlError> {
    match body.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad_request(format!("{name} must be a non-negative integer"))),
    }
}

fn boolean(body: &Map<String, Value>, name: &str) -> Result<bool, ControlError> {
    match body.get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(bad_request(format!("{name} must be true or false"))),
    }
}

fn object<'a>(
    body: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, ControlError> {
    match body.get(name) {
        None => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(bad_request(format!("{name} must be a JSON object"))),
    }
}

/// The answer of a handler: its response, or its error's.
fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}
