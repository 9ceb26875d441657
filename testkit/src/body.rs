//! Request bodies and JSON error bodies, shared by the endpoints and the control API: the
//! size limit (and the drain that lets a client still sending see the `413`), `Connection:
//! close`, `{"error", "error_description"}` with the characters RFC 6749 allows, `no-store`.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Largest request body taken (the forms and JSON documents the server reads are small).
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// A larger body (up to this size) is still read to its end before the `413` answer, so that
/// the client, still sending, sees the answer instead of a reset connection.
const MAX_DRAIN: usize = 16 * 1024 * 1024;

/// Reads the request body, at most [`MAX_BODY`] bytes. `Err` when it is larger or cannot
/// be read; the answer to such a request must close the connection ([`close`]).
pub(crate) async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, ()> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_DRAIN as u64) {
        return Err(());
    }
    match axum::body::to_bytes(body, MAX_DRAIN).await {
        Ok(bytes) if bytes.len() <= MAX_BODY => Ok(bytes),
        _ => Err(()),
    }
}

/// Marks `resp` as the last answer on its connection (`Connection: close`); for requests
/// whose body was not read to its end.
pub(crate) fn close(mut resp: Response) -> Response {
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// `413` with a JSON `invalid_request`, closing the connection.
pub(crate) fn too_large() -> Response {
    let body = error_body(
        "invalid_request",
        "the request body is too large or could not be read",
    );
    close((StatusCode::PAYLOAD_TOO_LARGE, no_store(), axum::Json(body)).into_response())
}

/// `text` with every character outside the set RFC 6749 allows in `error_description`
/// (§5.2, §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E) replaced by `?`. Every error description
/// the server sends goes through here, whatever its source.
pub(crate) fn error_description(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\x20'..='\x21' | '\x23'..='\x5b' | '\x5d'..='\x7e' => c,
            _ => '?',
        })
        .collect()
}

/// A JSON error body `{"error", "error_description"}`.
pub(crate) fn error_body(error: &str, description: &str) -> Value {
    json!({ "error": error, "error_description": error_description(description) })
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, on every answer that carries a token,
/// a secret or an error.
pub(crate) fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}
