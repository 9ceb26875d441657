//! Every state of the [`RequireScope`](super::RequireScope) service, in process with
//! `oneshot`: requirement met or not, an anonymous request, no auth layer at all, and a path a
//! [`ScopeMap`] does not know.

use std::convert::Infallible;

use http::{header, Extensions, Request, Response, StatusCode};
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};

use super::*;
use crate::auth::Anonymous;
use crate::error::Challenge;

fn c(v: serde_json::Value) -> Claims {
    Claims::from_value(v).unwrap()
}

async fn ok(_: Request<String>) -> Result<Response<String>, Infallible> {
    Ok(Response::new("inner".to_owned()))
}

/// Calls `layer` on `path` with these extensions.
async fn call(layer: &RequireScopeLayer, path: &str, ext: Extensions) -> Response<String> {
    let mut req = Request::get(path).body(String::new()).unwrap();
    *req.extensions_mut() = ext;
    layer.layer(service_fn(ok)).oneshot(req).await.unwrap()
}

fn with_claims(scope: &str) -> Extensions {
    let mut ext = Extensions::new();
    ext.insert(c(json!({"sub": "a", "scope": scope})));
    ext.insert(Challenge::new().realm("r"));
    ext
}

#[tokio::test]
async fn every_state_of_the_service() {
    let layer = RequireScopeLayer::all(["read", "write"]);
    let res = call(&layer, "/", with_claims("write read")).await;
    assert_eq!(
        (res.status(), res.body().as_str()),
        (StatusCode::OK, "inner")
    );

    let res = call(&layer, "/", with_claims("read")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer realm="r", error="insufficient_scope", error_description="the token lacks the required scope", scope="read write""#
    );
    assert_eq!(res.body(), "");

    let mut anonymous = Extensions::new();
    anonymous.insert(Anonymous);
    anonymous.insert(Challenge::new().realm("r"));
    let res = call(&layer, "/", anonymous).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        r#"Bearer realm="r""#
    );

    let res = call(&layer, "/", Extensions::new()).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn a_map_picks_by_path_and_fails_closed_on_unknown_paths() {
    let layer = RequireScopeLayer::map(
        ScopeMap::new()
            .route("/p.S/Read", Requirement::all(["read"]))
            .route("/p.S/Admin", Requirement::all(["admin"])),
    );
    assert_eq!(
        call(&layer, "/p.S/Read", with_claims("read"))
            .await
            .status(),
        200
    );
    assert_eq!(
        call(&layer, "/p.S/Admin", with_claims("read"))
            .await
            .status(),
        403
    );
    assert_eq!(
        call(&layer, "/p.S/Other", with_claims("admin"))
            .await
            .status(),
        500
    );
}

#[tokio::test]
async fn the_former_constructor_names_still_build_the_layer() {
    #[allow(deprecated)]
    let layer = RequireScope::any(["read", "admin"]);
    assert_eq!(call(&layer, "/", with_claims("read")).await.status(), 200);
    assert_eq!(call(&layer, "/", with_claims("write")).await.status(), 403);
}

#[test]
fn the_inner_service_is_reachable() {
    let mut svc = RequireScopeLayer::all(["a"]).layer(7u8);
    assert_eq!(*svc.get_ref(), 7);
    *svc.get_mut() = 8;
    assert_eq!(svc.into_inner(), 8);
}

#[test]
fn any_with_no_scopes_fails_closed() {
    assert!(Requirement::any(Vec::<String>::new())
        .check(&c(json!({"scope": "a"})))
        .is_err());
}

#[test]
fn map_lookup_order() {
    let m = ScopeMap::new()
        .route("/p.S/A", Requirement::all(["a"]))
        .service("/p.S", Requirement::all(["s"]));
    assert_eq!(m.get("/p.S/A").unwrap().required(), "a");
    assert_eq!(m.get("/p.S/B").unwrap().required(), "s");
    assert!(m.get("/p.SX/B").is_none());
    assert!(m.get("/other").is_none());
    let m = m.fallback(Requirement::all(["f"]));
    assert_eq!(m.get("/other").unwrap().required(), "f");
}

#[test]
fn anonymous_is_401_no_layer_is_500() {
    let mut ext = Extensions::new();
    assert_eq!(claims(&ext).unwrap_err().status(), 500);
    ext.insert(Anonymous);
    assert_eq!(claims(&ext).unwrap_err().status(), 401);
}
