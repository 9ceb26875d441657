//! The HTTP control API under `/_testkit/` (test-only; mounted only when
//! [`TestServerBuilder::control_api`](super::TestServerBuilder::control_api) is on). Every
//! route is a thin layer over the Rust API of [`TestServer`](super::TestServer); the routes
//! and bodies are documented in the crate docs. `guard.rs`: loopback only (bind address and
//! `Host`) unless forced, `application/json` on every request that changes something;
//! `openid.rs`: users, sign-ins and issuers by path.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};
use axum::{Json, Router};
use serde_json::{json, Map, Value};

use super::config::{Endpoint, Fault};
use super::body::{error_body, read_body, too_large};
use super::keys::KeyAlg;
use super::mint::{Defect, TokenBuilder};
use super::state::Inner;

mod guard;
mod openid;

type Shared = State<Arc<Inner>>;

/// The routes, to be merged into the server's router, each behind [`guard::guard`] (loopback
/// `Host` unless `allow_remote`, JSON content type).
pub(crate) fn router(allow_remote: bool) -> Router<Arc<Inner>> {
    Router::new()
        .route("/_testkit/tokens", post(mint))
        .route("/_testkit/keys", get(list_keys).post(add_key))
        .route("/_testkit/keys/{kid}/activate", post(activate_key))
        .route("/_testkit/keys/{kid}/retire", post(retire_key))
        .route("/_testkit/faults", get(list_faults).delete(clear_faults))
        .route(
            "/_testkit/faults/{endpoint}",
            put(set_fault).delete(clear_fault),
        )
        .route("/_testkit/counts", get(counts).delete(reset_counts))
        .route("/_testkit/clients", get(registered_clients))
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

/// The request body as a JSON object; an empty body is `{}`.
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

// ----- tokens ----------------------------------------------------------------------

async fn mint(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    match json_object(&headers, body).await {
        Ok(body) => answer(mint_inner(inner, &body)),
        Err(r) => r,
    }
}

fn answer(result: Answer) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

fn mint_inner(inner: Arc<Inner>, body: &Map<String, Value>) -> Answer {
    only(
        body,
        &[
            "claims",
            "header",
            "lifetime",
            "expired",
            "not_before",
            "kid",
            "alg",
            "typ",
            "defect",
            "opaque",
        ],
    )?;
    let mut builder = TokenBuilder::new(inner);
    if let Some(secs) = number(body, "lifetime")? {
        builder = builder.lifetime(Duration::from_secs(secs));
    }
    if boolean(body, "expired")? {
        builder = builder.expired();
    }
    if let Some(secs) = number(body, "not_before")? {
        builder = builder.not_before(Duration::from_secs(secs));
    }
    // Claims last, so that an explicit `exp`, `iat` or `nbf` wins.
    for (name, value) in object(body, "claims")?.into_iter().flatten() {
        builder = match value {
            Value::Null => builder.remove(name),
            v => builder.claim(name.clone(), v.clone()),
        };
    }
    if let Some(kid) = string(body, "kid")? {
        builder = builder.kid(kid);
    }
    if let Some(alg) = string(body, "alg")? {
        builder = builder.alg(alg.parse::<KeyAlg>().map_err(bad_request)?);
    }
    match body.get("typ") {
        None => {}
        Some(Value::Null) => builder = builder.typ(None),
        Some(Value::String(typ)) => builder = builder.typ(Some(typ)),
        Some(_) => return Err(bad_request("typ must be a string or null")),
    }
    for (name, value) in object(body, "header")?.into_iter().flatten() {
        builder = builder.header(name.clone(), value.clone());
    }
    if let Some(defect) = string(body, "defect")? {
        builder = builder.defect(defect.parse::<Defect>().map_err(bad_request)?);
    }
    if boolean(body, "opaque")? {
        let claims = builder.claims().clone();
        let token = builder.opaque();
        return Ok(Json(json!({ "access_token": token, "claims": claims })).into_response());
    }
    let minted = builder.build().map_err(bad_request)?;
    Ok(Json(json!({
        "access_token": minted.token,
        "header": minted.header,
        "claims": minted.claims,
    }))
    .into_response())
}

// ----- keys ------------------------------------------------------------------------

fn key_list(inner: &Inner) -> Value {
    let keys: Vec<Value> = inner
        .key_list()
        .into_iter()
        .map(|(kid, alg, published, active)| {
            json!({ "kid": kid, "alg": alg.as_str(), "published": published, "active": active })
        })
        .collect();
    json!({ "active": inner.active_key().kid, "keys": keys })
}

async fn list_keys(State(inner): Shared) -> Response {
    Json(key_list(&inner)).into_response()
}

async fn add_key(State(inner): Shared, headers: HeaderMap, body: Body) -> Response {
    let body = match json_object(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    answer((|| {
        only(&body, &["alg", "activate"])?;
        let alg = match string(&body, "alg")? {
            Some(name) => name.parse::<KeyAlg>().map_err(bad_request)?,
            None => KeyAlg::Rs256,
        };
        let kid = inner.add_key(alg).map_err(|_| {
            ControlError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "key generation failed".into(),
            )
        })?;
        let activate = boolean(&body, "activate")?;
        if activate {
            inner.use_key(&kid);
        }
        Ok((
            StatusCode::CREATED,
            Json(json!({ "kid": kid, "alg": alg.as_str(), "active": activate })),
        )
            .into_response())
    })())
}

fn unknown_kid() -> ControlError {
    ControlError(StatusCode::NOT_FOUND, "not_found", "unknown kid".into())
}

async fn activate_key(State(inner): Shared, Path(kid): Path<String>) -> Response {
    if inner.use_key(&kid) {
        Json(key_list(&inner)).into_response()
    } else {
        unknown_kid().into_response()
    }
}

async fn retire_key(State(inner): Shared, Path(kid): Path<String>) -> Response {
    if inner.find_key(&kid).is_none() {
        return unknown_kid().into_response();
    }
    inner.retire_key(&kid);
    Json(key_list(&inner)).into_response()
}

// ----- faults ----------------------------------------------------------------------

/// A fault as JSON: `{"fault": "none" | "unavailable" | "hang" | "garbage" | "huge" |
/// "status" | "delay", "bytes": N, "status": N, "millis": N}`.
fn fault_json(fault: Fault) -> Value {
    match fault {
        Fault::None => json!({ "fault": "none" }),
        Fault::Unavailable => json!({ "fault": "unavailable" }),
        Fault::Hang => json!({ "fault": "hang" }),
        Fault::Garbage => json!({ "fault": "garbage" }),
        Fault::Huge(bytes) => json!({ "fault": "huge", "bytes": bytes }),
        Fault::Status(status) => json!({ "fault": "status", "status": status }),
        Fault::Delay(d) => {
            json!({ "fault": "delay", "millis": u64::try_from(d.as_millis()).unwrap_or(u64::MAX) })
        }
    }
}

fn parse_fault(body: &Map<String, Value>) -> Result<Fault, ControlError> {
    let kind = string(body, "fault")?.ok_or_else(|| bad_request("missing fault"))?;
    let (fault, extra): (Fault, &[&str]) = match kind {
        "none" => (Fault::None, &[]),
        "unavailable" => (Fault::Unavailable, &[]),
        "hang" => (Fault::Hang, &[]),
        "garbage" => (Fault::Garbage, &[]),
        "huge" => {
            let bytes = number(body, "bytes")?.ok_or_else(|| bad_request("missing bytes"))?;
            let bytes = usize::try_from(bytes)
                .ok()
                .filter(|b| *b <= 64 * 1024 * 1024)
                .ok_or_else(|| bad_request("bytes must be at most 67108864"))?;
            (Fault::Huge(bytes), &["bytes"])
        }
        "status" => {
            let status = number(body, "status")?.ok_or_else(|| bad_request("missing status"))?;
            let status = u16::try_from(status)
                .ok()
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| bad_request("status must be between 100 and 999"))?;
            (Fault::Status(status), &["status"])
        }
        "delay" => {
            let millis = number(body, "millis")?.ok_or_else(|| bad_request("missing millis"))?;
            (Fault::Delay(Duration::from_millis(millis)), &["millis"])
        }
        _ => {
            return Err(bad_request(
                "unknown fault (none, unavailable, hang, garbage, huge, status, delay)",
            ))
        }
    };
    let mut allowed = vec!["fault"];
    allowed.extend_from_slice(extra);
    only(body, &allowed)?;
    Ok(fault)
}

fn endpoint(name: &str) -> Result<Endpoint, ControlError> {
    name.parse::<Endpoint>()
        .map_err(|e| ControlError(StatusCode::NOT_FOUND, "not_found", e))
}

fn fault_list(inner: &Inner) -> Value {
    let map: Map<String, Value> = Endpoint::ALL
        .into_iter()
        .map(|ep| (ep.as_str().to_owned(), fault_json(inner.fault(ep))))
        .collect();
    Value::Object(map)
}

async fn list_faults(State(inner): Shared) -> Response {
    Json(fault_list(&inner)).into_response()
}

async fn set_fault(
    State(inner): Shared,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let body = match json_object(&headers, body).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    answer((|| {
        let ep = endpoint(&name)?;
        let fault = parse_fault(&body)?;
        inner.set_fault(ep, fault);
        Ok(Json(fault_list(&inner)).into_response())
    })())
}

async fn clear_fault(State(inner): Shared, Path(name): Path<String>) -> Response {
    answer(endpoint(&name).map(|ep| {
        inner.set_fault(ep, Fault::None);
        Json(fault_list(&inner)).into_response()
    }))
}

async fn clear_faults(State(inner): Shared) -> Response {
    for ep in Endpoint::ALL {
        inner.set_fault(ep, Fault::None);
    }
    Json(fault_list(&inner)).into_response()
}

// ----- counters --------------------------------------------------------------------

fn count_list(inner: &Inner) -> Value {
    let map: Map<String, Value> = Endpoint::ALL
        .into_iter()
        .map(|ep| (ep.as_str().to_owned(), Value::from(inner.count(ep))))
        .collect();
    Value::Object(map)
}

async fn counts(State(inner): Shared) -> Response {
    Json(count_list(&inner)).into_response()
}

async fn reset_counts(State(inner): Shared) -> Response {
    inner.reset_counts();
    Json(count_list(&inner)).into_response()
}

// ----- registered clients ----------------------------------------------------------

async fn registered_clients(State(inner): Shared) -> Response {
    let clients: Vec<Value> = inner
        .clients
        .registered()
        .iter()
        .map(|c| {
            json!({
                "client_id": c.id(),
                "public": c.is_public(),
                "redirect_uris": c.redirect_uris(),
                "scope": c.allowed_scopes().join(" "),
            })
        })
        .collect();
    Json(json!({ "registered": clients })).into_response()
}
