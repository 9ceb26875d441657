//! The trust boundary: what comes back from the network (redirects, introspection answers
//! about the token, floods of distinct tokens) and what tokens claim (`cnf` methods, scope
//! arrays, token kinds) must never let a request through that the layer cannot vouch for, and
//! a client's own bad token must never become a 503.

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use bearer_guard::{
    dpop::DpopConfig, error::DiscoveryError, error::FetchError, introspection::ClientAuth,
    introspection::IntrospectionValidatorBuilder, AuthError, AuthLayer, BuildError,
    IntrospectionValidator, JwtValidator, RequireScopeLayer, Validator,
};
use bearer_guard_testkit::{Endpoint, TestServer};
use serde_json::{json, Value};
use tower::{Layer, ServiceExt};

/// A loopback server that answers every request with `status` and `body`, and counts them.
async fn stub(status: u16, body: Value) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().fallback(move || {
        let (counter, body) = (counter.clone(), body.clone());
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            (
                StatusCode::from_u16(status).unwrap(),
                [(header::CONTENT_TYPE, "application/json")],
                body.to_string(),
            )
        }
    });
    (support::serve(app).await, hits)
}

/// A loopback server that redirects every request to the same path on `target`.
async fn redirector(status: u16, target: &str) -> String {
    let target = target.to_owned();
    let app = Router::new().fallback(move |uri: axum::http::Uri| {
        let location = format!("{target}{}", uri.path());
        async move {
            (
                StatusCode::from_u16(status).unwrap(),
                [(header::LOCATION, location)],
            )
                .into_response()
        }
    });
    support::serve(app).await
}

fn introspection(issuer: &str, endpoint: &str) -> IntrospectionValidatorBuilder {
    IntrospectionValidator::builder(issuer)
        .client("api", "api-secret")
        .introspection_endpoint(endpoint)
        .audience("api")
}

/// Validates `token` in process; the error's text, or "ok".
async fn outcome(validator: &impl Validator, token: &str) -> Result<(), AuthError> {
    validator.validate(token).await.map(|_| ())
}

/// The text of a 503 with its causes (`: `-separated).
fn unavailable_text(result: Result<(), AuthError>) -> String {
    match result {
        Err(AuthError::Unavailable(e)) => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                text.push_str(": ");
                text.push_str(&cause.to_string());
                source = cause.source();
            }
            text
        }
        other => panic!("expected 503, got {other:?}"),
    }
}

const ACTIVE: fn() -> Value =
    || json!({"active": true, "iss": "https://as.example", "aud": "api", "sub": "alice"});

mod outbound;
mod settings;
