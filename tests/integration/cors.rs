//! CORS preflights and the auth layer, in process with `oneshot`: a preflight carries no
//! token, so put through `AuthLayer` it gets 401 and the browser gives up. The right
//! composition is tower-http's `CorsLayer` outside the auth layer; where that cannot be,
//! `AuthLayer::allow_preflight` lets preflights through untouched to a `CorsLayer` inside.

use std::convert::Infallible;

use axum::body::Body;
use axum::{routing::get, Extension, Router};
use bearer_guard::{AuthLayer, Claims, JwtValidator};
use http::{header, Method, Request, StatusCode};
use tower::ServiceExt;
use tower_http::cors::CorsLayer;

const ORIGIN: &str = "https://app.example";

async fn validator() -> JwtValidator {
    JwtValidator::builder("https://issuer.example")
        .audience("api")
        .algorithms([]) // HMAC only: no keys to fetch
        .hmac_secret(b"a shared secret of at least 32 bytes!!".to_vec())
        .build()
        .await
        .unwrap()
}

fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(ORIGIN.parse::<http::HeaderValue>().unwrap())
        .allow_methods([Method::GET])
        .allow_headers([header::AUTHORIZATION])
}

fn routes() -> Router {
    Router::new().route(
        "/me",
        get(|Extension(c): Extension<Claims>| async move { c.subject().unwrap_or("").to_owned() }),
    )
}

fn preflight() -> Request<Body> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/me")
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
        .body(Body::empty())
        .unwrap()
}

fn allowed(res: &http::Response<Body>) -> bool {
    res.status().is_success()
        && res
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .map(|v| v.as_bytes())
            == Some(ORIGIN.as_bytes())
}

async fn send(app: Router, req: Request<Body>) -> http::Response<Body> {
    let res: Result<_, Infallible> = app.oneshot(req).await;
    res.unwrap()
}

#[tokio::test]
async fn cors_outside_the_auth_layer_answers_preflights() {
    // `.layer` wraps what is there: the last one added is the outermost.
    let app = routes()
        .layer(AuthLayer::new(validator().await))
        .layer(cors());
    let res = send(app.clone(), preflight()).await;
    assert!(allowed(&res), "{:?}", res.headers());
    // The real request still needs its token, and a refusal still carries the CORS headers
    // (so the browser lets the page read the 401).
    let res = send(
        app,
        Request::get("/me")
            .header(header::ORIGIN, ORIGIN)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
}

#[tokio::test]
async fn cors_inside_the_auth_layer_needs_allow_preflight() {
    // The wrong order: the auth layer sees the preflight first, and it has no token.
    let app = routes()
        .layer(cors())
        .layer(AuthLayer::new(validator().await));
    let res = send(app, preflight()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let app = routes()
        .layer(cors())
        .layer(AuthLayer::new(validator().await).allow_preflight());
    let res = send(app.clone(), preflight()).await;
    assert!(allowed(&res), "{:?}", res.headers());
    // Only preflights: a plain OPTIONS, or one without Origin, still needs a token.
    let plain = Request::builder()
        .method(Method::OPTIONS)
        .uri("/me")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        send(app.clone(), plain).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut no_origin = preflight();
    no_origin.headers_mut().remove(header::ORIGIN);
    assert_eq!(
        send(app.clone(), no_origin).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut no_method = preflight();
    no_method
        .headers_mut()
        .remove(header::ACCESS_CONTROL_REQUEST_METHOD);
    assert_eq!(
        send(app.clone(), no_method).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // And a GET with preflight-looking headers is not a preflight.
    let get = Request::get("/me")
        .header(header::ORIGIN, ORIGIN)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(app, get).await.status(), StatusCode::UNAUTHORIZED);
}
