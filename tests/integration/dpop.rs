//! DPoP (RFC 9449) end to end over loopback: a client with its own EC P-256 key gets a
//! DPoP-bound token from the bundled authorization server and calls a protected API with
//! `Authorization: DPoP` and a proof. Every rule of the proof check is then broken in turn, each
//! time changing only that one thing in an otherwise valid request, and must be refused with its
//! own description.

use crate::support;

use aws_lc_rs::encoding::AsBigEndian;
use std::time::Duration;

use axum::{routing::get, Extension, Json, Router};
use bearer_guard::{dpop::DpopConfig, validator::ValidationFuture, AuthLayer, Claims, Validator};
use bearer_guard_testkit::TestServer;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use support::dpop::DpopClient;
use support::jwt::{b64, decode, hs256_input, with_payload};
use support::{answer, bind, json, now, serve_on};
use tower::ServiceExt as _;

const ALGS: &str = "RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA";

impl DpopClient {
    /// Gets a token from the server's token endpoint with a DPoP proof for it.
    async fn token(&self, server: &TestServer) -> Value {
        let proof = self.proof_for("POST", &server.token_endpoint(), None);
        json(
            reqwest::Client::new()
                .post(server.token_endpoint())
                .basic_auth("demo-client", Some("demo-secret"))
                .header("dpop", proof)
                .form(&[("grant_type", "client_credentials"), ("scope", "read")]),
        )
        .await
    }

    async fn access_token(&self, server: &TestServer) -> String {
        let v = self.token(server).await;
        v["access_token"].as_str().unwrap().to_owned()
    }
}

struct Setup {
    server: TestServer,
    client: DpopClient,
    /// `{api}/me`
    url: String,
}

/// `{api}/me` of an API on loopback, with `dpop` (and this API's `127.0.0.1:port` as its one
/// [allowed host](DpopConfig::allowed_hosts)) if given.
async fn api(server: &TestServer, dpop: Option<DpopConfig>) -> String {
    let (listener, base) = bind().await;
    let mut layer = AuthLayer::new(support::validator(server).await).realm("test");
    if let Some(dpop) = dpop {
        let authority = base.trim_start_matches("http://").to_owned();
        layer = layer.dpop(dpop.allowed_hosts([authority])).unwrap();
    }
    let app = Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Claims>| async move { Json(c) })
                .post(|Extension(c): Extension<Claims>| async move { Json(c) }),
        )
        .layer(layer);
    serve_on(listener, app);
    format!("{base}/me")
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let dpop = DpopConfig::new().default_scheme(http::uri::Scheme::HTTP);
    let url = api(&server, Some(dpop)).await;
    Setup {
        server,
        client: DpopClient::new(),
        url,
    }
}

/// GETs `url` with `authorization` and the given `DPoP` headers; returns status, challenge and
/// body.
async fn call(url: &str, authorization: Option<String>, proofs: &[&str]) -> (u16, String, String) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    for p in proofs {
        req = req.header("dpop", *p);
    }
    answer(req.send().await.unwrap()).await
}

fn dpop(token: &str) -> Option<String> {
    Some(format!("DPoP {token}"))
}

/// Asserts 401 with a DPoP challenge carrying `code` and `description`, echoing no secret.
fn assert_refused(r: (u16, String, String), code: &str, description: &str, secrets: &[&str]) {
    assert_eq!(r.0, 401, "{r:?}");
    assert_eq!(
        r.1,
        format!(
            r#"DPoP realm="test", error="{code}", error_description="{description}", algs="{ALGS}""#
        )
    );
    for s in secrets {
        assert!(!r.1.contains(s) && !r.2.contains(s));
    }
}

fn bad_proof(r: (u16, String, String), description: &str, secrets: &[&str]) {
    assert_refused(r, "invalid_dpop_proof", description, secrets);
}

mod in_process;
mod nonces;
mod proofs;
