//! SPIFFE JWT-SVIDs (`profiles::spiffe_jwt_svid`) over loopback HTTP: a trust bundle served
//! with `use: "jwt-svid"` keys (the test authorization server's keys, re-served as a SPIFFE
//! bundle), tokens minted by the test server with a SPIFFE ID as `sub` and `typ: JWT`.

use crate::support;

use axum::{routing::get, Json, Router};
use bearer_guard::{jwks::KeySet, JwtValidator};
use bearer_guard_testkit::TestServer;
use serde_json::{json, Value};
use support::{call, me_url, serve};

const AUDIENCE: &str = "spiffe://example.org/api";
const BILLING: &str = "spiffe://example.org/ns/prod/sa/billing";

/// The server's JWKS as a SPIFFE bundle: every key with `use: "jwt-svid"`, bundle members.
async fn bundle(server: &TestServer) -> Value {
    let mut jwks = support::jwks(server).await;
    for key in jwks["keys"].as_array_mut().unwrap() {
        key["use"] = json!("jwt-svid");
    }
    jwks["spiffe_sequence"] = json!(1);
    jwks["spiffe_refresh_hint"] = json!(300);
    jwks
}

/// Serves `bundle` at `/bundle`; its URL.
async fn bundle_url(bundle: Value) -> String {
    let app = Router::new().route("/bundle", get(move || async move { Json(bundle) }));
    format!("{}/bundle", serve(app).await)
}

fn svid(server: &TestServer, sub: &str) -> String {
    server.mint().sub(sub).aud(AUDIENCE).typ(Some("JWT")).sign()
}

#[tokio::test]
async fn jwt_svids_verify_with_the_keys_of_the_bundle() {
    let server = TestServer::start().await;
    let url = bundle_url(bundle(&server).await).await;
    let validator = bearer_guard::profiles::spiffe_jwt_svid(server.issuer(), &url, AUDIENCE)
        .claim_values("sub", [BILLING])
        .build()
        .await
        .unwrap();
    let api = me_url(validator).await;
    let (status, challenge, body) = call(&api, &svid(&server, BILLING)).await;
    assert_eq!(status, 200, "{challenge}");
    assert!(body.contains(BILLING));
    // Another workload, another audience, no sub: refused.
    let other = svid(&server, "spiffe://example.org/ns/prod/sa/other");
    assert_eq!(call(&api, &other).await.0, 401);
    let elsewhere = server
        .mint()
        .sub(BILLING)
        .aud("spiffe://example.org/other")
        .sign();
    assert_eq!(call(&api, &elsewhere).await.0, 401);
    let anonymous = server.mint().remove("sub").aud(AUDIENCE).sign();
    assert_eq!(call(&api, &anonymous).await.0, 401);
}

#[tokio::test]
async fn jwt_svid_keys_are_refused_unless_their_use_is_accepted() {
    let server = TestServer::start().await;
    let url = bundle_url(bundle(&server).await).await;
    // The same bundle without `accept_use`: the keys are there, but not for signatures.
    let plain = JwtValidator::builder(server.issuer())
        .audience(AUDIENCE)
        .jwks_uri(&url)
        .require_typ(false)
        .build()
        .await
        .unwrap();
    let (status, challenge, _) = call(&me_url(plain).await, &svid(&server, BILLING)).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains("the signing key does not fit the token"),
        "{challenge}"
    );

    // A fixed key set read as a bundle works the same way.
    let doc = bundle(&server).await.to_string();
    assert_eq!(
        KeySet::from_json(doc.as_bytes()).unwrap().len(),
        KeySet::from_json_with_use(doc.as_bytes(), "jwt-svid")
            .unwrap()
            .len()
    );
    let fixed = JwtValidator::builder(server.issuer())
        .audience(AUDIENCE)
        .require_typ(false)
        .key_set(KeySet::from_json_with_use(doc.as_bytes(), "jwt-svid").unwrap())
        .build()
        .await
        .unwrap();
    assert_eq!(
        call(&me_url(fixed).await, &svid(&server, BILLING)).await.0,
        200
    );
    // `use: "enc"` stays refused whatever is accepted.
    let enc = doc.replace("jwt-svid", "enc");
    let fixed = JwtValidator::builder(server.issuer())
        .audience(AUDIENCE)
        .require_typ(false)
        .key_set(KeySet::from_json_with_use(enc.as_bytes(), "jwt-svid").unwrap())
        .build()
        .await
        .unwrap();
    assert_eq!(
        call(&me_url(fixed).await, &svid(&server, BILLING)).await.0,
        401
    );
}
