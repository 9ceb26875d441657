//! Every state of the [`Auth`](super::Auth) service, in process with `oneshot`: no header,
//! anonymous, bad header, a validation decided at once or later, refused or unavailable, and a
//! token bound to a key the layer cannot check.

use std::convert::Infallible;
use std::time::Duration;

use http::{header, Request, Response, StatusCode};
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};

use super::{Anonymous, AuthLayer};
use crate::error::Challenge;
use crate::validator::{ValidationFuture, Validator};
use crate::{error::TokenError, AuthError, Claims};

/// Accepts `good` (and `bound`, whose `cnf.x5t#S256` a layer without mtls cannot check);
/// answers `slow-*` tokens after a yield; `down` is unavailable; anything else is expired.
#[derive(Clone)]
struct Fake;

fn decide(token: &str) -> Result<Claims, AuthError> {
    let token = token.strip_prefix("slow-").unwrap_or(token);
    match token {
        "good" => Ok(Claims::from_value(json!({"sub": "alice", "scope": "read"})).unwrap()),
        "bound" => Ok(Claims::from_value(json!({"sub": "a", "cnf": {"x5t#S256": "x"}})).unwrap()),
        "down" => Err(AuthError::Unavailable(
            crate::error::UnavailableError::Other("issuer down".into()),
        )),
        _ => Err(TokenError::Expired.into()),
    }
}

impl Validator for Fake {
    fn validate(&self, token: &str) -> ValidationFuture {
        if token.starts_with("slow-") {
            let token = token.to_owned();
            ValidationFuture::pending(async move {
                tokio::time::sleep(Duration::from_millis(1)).await;
                decide(&token)
            })
        } else {
            ValidationFuture::ready(decide(token))
        }
    }
}

/// The inner service: 200 with the subject it saw (or "anonymous"), and whether the layer's
/// challenge came along.
async fn inner(req: Request<String>) -> Result<Response<String>, Infallible> {
    let who = match (
        req.extensions().get::<Claims>(),
        req.extensions().get::<Anonymous>(),
    ) {
        (Some(c), None) => c.subject().unwrap_or("?").to_owned(),
        (None, Some(_)) => "anonymous".to_owned(),
        _ => "nobody".to_owned(),
    };
    let challenge = req.extensions().get::<Challenge>().is_some();
    Ok(Response::new(format!("{who} challenge={challenge}")))
}

async fn call(layer: &AuthLayer<Fake>, authorization: Option<&str>) -> Response<String> {
    let mut req = Request::get("/r");
    if let Some(a) = authorization {
        req = req.header(header::AUTHORIZATION, a);
    }
    layer
        .layer(service_fn(inner))
        .oneshot(req.body(String::new()).unwrap())
        .await
        .unwrap()
}

fn challenge(res: &Response<String>) -> &str {
    res.headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn every_state_of_the_service() {
    let layer = AuthLayer::new(Fake).realm("r");
    let cases: [(Option<&str>, StatusCode, &str); 9] = [
        (None, StatusCode::UNAUTHORIZED, r#"Bearer realm="r""#),
        (
            Some("Basic abc"),
            StatusCode::UNAUTHORIZED,
            r#"Bearer realm="r""#,
        ),
        (Some("Bearer "), StatusCode::BAD_REQUEST, "invalid_request"),
        (Some("Bearer good"), StatusCode::OK, ""),
        (Some("Bearer slow-good"), StatusCode::OK, ""),
        (
            Some("Bearer expired"),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (
            Some("Bearer slow-expired"),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
        (Some("Bearer down"), StatusCode::SERVICE_UNAVAILABLE, ""),
        (
            Some("Bearer slow-bound"),
            StatusCode::UNAUTHORIZED,
            "invalid_token",
        ),
    ];
    for (authorization, status, in_challenge) in cases {
        let res = call(&layer, authorization).await;
        assert_eq!(res.status(), status, "{authorization:?}");
        assert!(
            challenge(&res).contains(in_challenge),
            "{authorization:?}: {}",
            challenge(&res)
        );
        if status == StatusCode::OK {
            assert_eq!(res.body(), "alice challenge=true");
        } else {
            assert_eq!(res.body(), "", "the inner service was not called");
        }
    }
    assert_eq!(call(&layer, Some("Bearer bound")).await.status(), 401);
}

#[tokio::test]
async fn an_optional_layer_lets_anonymous_requests_through_but_not_bad_tokens() {
    let layer = AuthLayer::new(Fake).optional();
    let res = call(&layer, None).await;
    assert_eq!(
        (res.status(), res.body().as_str()),
        (StatusCode::OK, "anonymous challenge=true")
    );
    assert_eq!(call(&layer, Some("Bearer expired")).await.status(), 401);
    assert_eq!(
        call(&layer, Some("Bearer slow-good")).await.body(),
        "alice challenge=true"
    );
}

#[tokio::test]
async fn a_closure_is_an_error_handler_and_the_inner_service_is_reachable() {
    let layer = AuthLayer::new(Fake).error_handler(|error: &AuthError, _: &Challenge| {
        let mut res = Response::new(format!("refused: {}", error.description()));
        *res.status_mut() = error.status();
        res
    });
    let mut svc = layer.layer(service_fn(inner));
    let _: &_ = svc.get_ref();
    let _: &mut _ = svc.get_mut();
    let req = Request::get("/").header(header::AUTHORIZATION, "Bearer expired");
    let res = svc
        .clone()
        .oneshot(req.body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(res.body(), "refused: the token has expired");
    let _inner = svc.into_inner();
}

/// Rule (RFC 6750 §2.3): a success answer to a request whose token came in the query string
/// carries `Cache-Control: private` (after a validation decided at once or later), unless the
/// service set its own; a header token's answer is left alone, and so is a refusal.
#[tokio::test]
async fn a_query_token_makes_a_success_answer_private() {
    use crate::source::TokenSources;
    let layer = AuthLayer::new(Fake).token_sources(TokenSources::new().query_parameter());
    let cache_control = |res: &Response<String>| {
        let value = res.headers().get(header::CACHE_CONTROL);
        value.map(|v| v.to_str().unwrap().to_owned())
    };
    let by_query = |token: &str, service_sets: Option<&'static str>| {
        let req = Request::get(format!("/p?access_token={token}"))
            .body(String::new())
            .unwrap();
        let service = service_fn(move |req: Request<String>| async move {
            let mut res = inner(req).await?;
            if let Some(value) = service_sets {
                let value = http::HeaderValue::from_static(value);
                res.headers_mut().insert(header::CACHE_CONTROL, value);
            }
            Ok::<_, Infallible>(res)
        });
        layer.layer(service).oneshot(req)
    };
    for token in ["good", "slow-good"] {
        let res = by_query(token, None).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{token}");
        assert_eq!(cache_control(&res).as_deref(), Some("private"), "{token}");
    }
    let own = by_query("good", Some("no-store")).await.unwrap();
    assert_eq!(cache_control(&own).as_deref(), Some("no-store"));
    let refused = by_query("expired", None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(cache_control(&refused), None);
    let by_header = call(&layer, Some("Bearer good")).await;
    assert_eq!(by_header.status(), StatusCode::OK);
    assert_eq!(cache_control(&by_header), None);
}
