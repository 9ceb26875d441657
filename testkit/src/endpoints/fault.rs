//! Faults per endpoint ([`Fault`]), as one axum layer on the endpoints' routes.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::config::{Endpoint, Fault};
use crate::state::Inner;

/// The state of the fault layer of one route: the issuer and the endpoint the route serves.
#[derive(Clone)]
pub(super) struct Gate {
    inner: Arc<Inner>,
    endpoint: Endpoint,
}

impl Gate {
    pub(super) fn new(inner: Arc<Inner>, endpoint: Endpoint) -> Self {
        Gate { inner, endpoint }
    }
}

/// The fault layer (`axum::middleware::from_fn_with_state` with a [`Gate`], on each route of
/// an [`Endpoint`]): counts the request, then applies the endpoint's fault before the handler
/// runs (an error answer instead of it, a hang until the fault changes or the server shuts
/// down, a delay).
pub(super) async fn check(State(gate): State<Gate>, req: Request, next: Next) -> Response {
    match gate_answer(&gate.inner, gate.endpoint).await {
        Some(answer) => answer,
        None => next.run(req).await,
    }
}

/// Counts the request and applies the endpoint's fault: `Some` answer instead of the handler's.
async fn gate_answer(inner: &Inner, ep: Endpoint) -> Option<Response> {
    inner.hit(ep);
    let mut rx = inner.fault_tx.subscribe();
    loop {
        match inner.fault(ep) {
            Fault::None => return None,
            Fault::Hang => {
                if inner.shutting_down.load(Ordering::SeqCst) || rx.changed().await.is_err() {
                    return Some(fault_response(Fault::Unavailable));
                }
            }
            Fault::Delay(delay) => {
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = rx.changed() => {}
                }
                return None;
            }
            other => return Some(fault_response(other)),
        }
    }
}

fn fault_response(fault: Fault) -> Response {
    let json_ct = [(header::CONTENT_TYPE, "application/json")];
    match fault {
        Fault::None | Fault::Unavailable | Fault::Hang | Fault::Delay(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            json_ct,
            r#"{"error":"temporarily_unavailable"}"#,
        )
            .into_response(),
        Fault::Garbage => (StatusCode::OK, json_ct, "<html>\u{0}not json {{{").into_response(),
        Fault::Huge(n) => (StatusCode::OK, json_ct, huge_json(n)).into_response(),
        Fault::Status(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, json_ct, r#"{"error":"server_error"}"#).into_response()
        }
    }
}

/// A valid JSON object of exactly `n` bytes (minimum 2).
fn huge_json(n: usize) -> Vec<u8> {
    const HEAD: &[u8] = br#"{"keys":[],"padding":""#;
    const TAIL: &[u8] = br#""}"#;
    if n >= HEAD.len() + TAIL.len() {
        let mut body = Vec::with_capacity(n);
        body.extend_from_slice(HEAD);
        body.resize(n - TAIL.len(), b'a');
        body.extend_from_slice(TAIL);
        body
    } else {
        let mut body = vec![b' '; n.max(2)];
        if let Some(first) = body.first_mut() {
            *first = b'{';
        }
        if let Some(last) = body.last_mut() {
            *last = b'}';
        }
        body
    }
}
