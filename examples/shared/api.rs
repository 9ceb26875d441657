//! The demo API shared by `protected_api` and `demo`: three routes behind bearer-guard.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{AuthError, AuthLayer, Challenge, Claims, Validator};

/// `GET /health` (open), `GET /me` (any valid token), `GET /admin` (scope `admin`).
pub fn app<V: Validator>(validator: V) -> Router {
    let protected = Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .layer(AuthLayer::new(validator).realm("demo"));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(protected)
}

async fn me(Extension(claims): Extension<Claims>) -> Json<Claims> {
    Json(claims)
}

async fn admin(
    Extension(claims): Extension<Claims>,
    Extension(challenge): Extension<Challenge>,
) -> Response {
    if !claims.scopes().contains("admin") {
        let error = AuthError::InsufficientScope {
            required: "admin".into(),
        };
        return error.to_response::<axum::body::Body>(&challenge);
    }
    (
        StatusCode::OK,
        format!("welcome, {}", claims.subject().unwrap_or("admin")),
    )
        .into_response()
}
