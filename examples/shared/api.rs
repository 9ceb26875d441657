//! The demo API shared by `protected_api` and `demo`: three routes behind bearer-guard.

use axum::{routing::get, Json, Router};
use bearer_guard::axum::Authenticated;
use bearer_guard::{AuthLayer, Claims, RequireScopeLayer, Validator};

/// `GET /health` (open), `GET /me` (any valid token), `GET /admin` (scope `admin`).
pub fn app<V: Validator>(validator: V) -> Router {
    let protected = Router::new()
        .route("/me", get(me))
        .route(
            "/admin",
            get(admin).route_layer(RequireScopeLayer::all(["admin"])),
        )
        .layer(AuthLayer::new(validator).realm("demo"));
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .merge(protected)
}

async fn me(Authenticated(claims): Authenticated<Claims>) -> Json<Claims> {
    Json(claims)
}

async fn admin(Authenticated(claims): Authenticated<Claims>) -> String {
    format!("welcome, {}", claims.subject().unwrap_or("admin"))
}
