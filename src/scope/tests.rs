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
fn claim_all_with_no_values_needs_the_claim() {
    let none = Vec::<String>::new;
    // Missing claim (by name and by JSON Pointer): refused, even with nothing to find in it.
    assert!(Requirement::claim_all("roles", none())
        .check(&c(json!({"scope": "a"})))
        .is_err());
    assert!(Requirement::claim_all("/realm_access/roles", none())
        .check(&c(json!({"realm_access": {}})))
        .is_err());
    // A value that is not read like scopes counts as missing.
    assert!(Requirement::claim_all("roles", none())
        .check(&c(json!({"roles": null})))
        .is_err());
    assert!(Requirement::claim_all("roles", none())
        .check(&c(json!({"roles": 7})))
        .is_err());
    // Present claim: every one of no values is in it (the docs: only a missing claim fails).
    assert!(Requirement::claim_all("roles", none())
        .check(&c(json!({"roles": ["x"]})))
        .is_ok());
    assert!(Requirement::claim_all("roles", none())
        .check(&c(json!({"roles": []})))
        .is_ok());
    assert!(Requirement::claim_all("/realm_access/roles", none())
        .check(&c(json!({"realm_access": {"roles": "x y"}})))
        .is_ok());
    // And the missing claim is still refused when values are named; claim_any stays closed.
    assert!(Requirement::claim_all("roles", ["x"])
        .check(&c(json!({})))
        .is_err());
    assert!(Requirement::claim_any("roles", none())
        .check(&c(json!({"roles": ["x"]})))
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

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims_ext(v: serde_json::Value) -> Extensions {
    let mut ext = Extensions::new();
    ext.insert(c(v));
    ext.insert(Challenge::new().realm("r"));
    ext
}

fn www(res: &Response<String>) -> &str {
    res.headers()[header::WWW_AUTHENTICATE].to_str().unwrap()
}

#[tokio::test]
async fn step_up_acr_is_a_401_naming_the_acceptable_values() {
    let layer = RequireScopeLayer::new(Requirement::all(["pay"]).acr(["urn:x:mfa", "urn:x:hw"]));
    for acr in [
        json!(null),
        json!("urn:x:pwd"),
        json!(["urn:x:mfa"]),
        json!(5),
    ] {
        let res = call(&layer, "/", claims_ext(json!({"scope": "pay", "acr": acr}))).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{acr}");
        assert_eq!(
            www(&res),
            r#"Bearer realm="r", error="insufficient_user_authentication", error_description="a stronger or more recent user authentication is required", acr_values="urn:x:mfa urn:x:hw""#
        );
        assert_eq!(res.body(), "");
    }
    let ok = claims_ext(json!({"scope": "pay", "acr": "urn:x:hw"}));
    assert_eq!(call(&layer, "/", ok).await.status(), StatusCode::OK);
    // Scope first: stepping up would not add the scope.
    let res = call(
        &layer,
        "/",
        claims_ext(json!({"scope": "read", "acr": "urn:x:pwd"})),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn step_up_max_age_needs_a_recent_auth_time() {
    let layer = RequireScopeLayer::new(
        Requirement::authenticated()
            .acr(["urn:x:mfa"])
            .max_age(std::time::Duration::from_secs(300)),
    );
    let t = now();
    for auth_time in [
        json!(null),
        json!(t - 301),
        json!(t + 3600),
        json!("recent"),
        json!(-5),
    ] {
        let res = call(
            &layer,
            "/",
            claims_ext(json!({"acr": "urn:x:mfa", "auth_time": auth_time})),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth_time}");
        assert!(
            www(&res).ends_with(r#"acr_values="urn:x:mfa", max_age="300""#),
            "{}",
            www(&res)
        );
    }
    for auth_time in [
        json!(t - 299),
        json!(t),
        json!(t + 30),
        json!((t - 10) as f64 + 0.5),
    ] {
        let res = call(
            &layer,
            "/",
            claims_ext(json!({"acr": "urn:x:mfa", "auth_time": auth_time})),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{auth_time}");
    }
    let only_age = RequireScopeLayer::new(
        Requirement::authenticated().max_age(std::time::Duration::from_secs(60)),
    );
    let res = call(&only_age, "/", claims_ext(json!({"auth_time": t - 61}))).await;
    assert!(www(&res).ends_with(r#"error_description="a stronger or more recent user authentication is required", max_age="60""#), "{}", www(&res));
}

#[cfg(feature = "tonic")]
#[test]
fn step_up_is_unauthenticated_in_grpc() {
    let e = Requirement::authenticated()
        .acr(["a"])
        .check(&c(json!({})))
        .unwrap_err();
    assert_eq!(e.grpc_code(), tonic::Code::Unauthenticated);
}

/// An inner service that is never ready (a full concurrency limit, a buffer at capacity).
struct NeverReady;

impl tower::Service<Request<String>> for NeverReady {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        std::task::Poll::Pending
    }

    fn call(&mut self, _: Request<String>) -> Self::Future {
        std::future::ready(Ok(Response::new(String::new())))
    }
}

#[test]
fn the_scope_service_is_ready_only_when_its_inner_service_is() {
    // Back-pressure passes through: a scope layer that said "ready" on its own would let
    // requests reach an inner service that has no room for them.
    let mut svc = RequireScopeLayer::all(["read"]).layer(NeverReady);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(tower::Service::poll_ready(&mut svc, &mut cx).is_pending());
}
