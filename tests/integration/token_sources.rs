//! Token sources beyond the `Authorization` header, over the real layer on loopback: a cookie,
//! the `access_token` query parameter (kept out of logs and of the URI the app sees), one place
//! per request, DPoP-bound tokens in the header only.

use crate::support;

use axum::extract::OriginalUri;
use axum::{routing::get, Extension, Router};
use bearer_guard::source::TokenSources;
use bearer_guard::{dpop::DpopConfig, AuthLayer, Claims, JwtValidator};
use bearer_guard_testkit::TestServer;
use serde_json::json;
use support::{answer, serve};

/// `/uri` answers the URI the app saw, after `sub`; behind a layer taking tokens also from
/// `sources`, configured further by `layer`.
async fn api(
    issuer: &TestServer,
    sources: TokenSources,
    layer: impl FnOnce(AuthLayer<JwtValidator>) -> AuthLayer<JwtValidator>,
) -> String {
    let validator = JwtValidator::builder(issuer.issuer())
        .audience(issuer.audience())
        .build()
        .await
        .unwrap();
    let app = Router::new()
        .route(
            "/uri",
            get(
                |Extension(c): Extension<Claims>, uri: http::Uri, original: OriginalUri| async move {
                    format!("{} {uri} {}", c.subject().unwrap_or("?"), original.0)
                },
            ),
        )
        .route(
            "/protocols",
            get(|headers: http::HeaderMap| async move {
                let seen: Vec<_> = headers
                    .get_all("sec-websocket-protocol")
                    .iter()
                    .map(|v| v.to_str().unwrap().to_owned())
                    .collect();
                seen.join(" | ")
                },
            ),
        )
        .layer(layer(
            AuthLayer::new(validator).realm("t").token_sources(sources),
        ));
    serve(app).await
}

#[tokio::test]
async fn the_query_parameter_reaches_neither_the_app_nor_the_logs() {
    let (logs, _guard) = support::logs::capture();
    let issuer = TestServer::start().await;
    let base = api(&issuer, TokenSources::new().query_parameter(), |l| l).await;
    let token = issuer.mint().sub("alice").sign();
    let res = reqwest::get(format!("{base}/uri?a=1&access_token={token}&b=2"))
        .await
        .unwrap();
    let (status, _, body) = answer(res).await;
    assert_eq!(status, 200);
    assert_eq!(body, "alice /uri?a=1&b=2 /uri?a=1&b=2");
    // A refused one is not logged with its URI either.
    let res = reqwest::get(format!("{base}/uri?access_token={token}x"))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // (Other tests' threads may leave this one's events uncaught: only the absence is
    // asserted.)
    let logs = logs.text();
    assert!(!logs.contains(&token), "the token was logged: {logs}");
}

#[tokio::test]
async fn the_protocol_entry_with_the_token_does_not_reach_the_app() {
    let issuer = TestServer::start().await;
    let base = api(
        &issuer,
        TokenSources::new().websocket_protocol("bearer-token."),
        |l| l,
    )
    .await;
    let token = issuer.mint().sign();
    let res = reqwest::Client::new()
        .get(format!("{base}/protocols"))
        .header(
            "sec-websocket-protocol",
            format!("chat.v1, bearer-token.{token}, chat.v2"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        answer(res).await,
        (200, String::new(), "chat.v1, chat.v2".to_owned())
    );
}

#[tokio::test]
async fn sources_are_opt_in() {
    let issuer = TestServer::start().await;
    let base = api(&issuer, TokenSources::new(), |l| l).await;
    let token = issuer.mint().sign();
    let res = reqwest::get(format!("{base}/uri?access_token={token}"))
        .await
        .unwrap();
    assert_eq!(answer(res).await.0, 401);
    let res = reqwest::Client::new()
        .get(format!("{base}/uri"))
        .header("cookie", format!("at={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(res).await.0, 401);
}

#[tokio::test]
async fn a_token_in_two_places_is_400_invalid_request() {
    let issuer = TestServer::start().await;
    let sources = TokenSources::new().cookie("at").query_parameter();
    let base = api(&issuer, sources, |l| l).await;
    let token = issuer.mint().sub("alice").sign();
    let client = reqwest::Client::new();
    let cookie = client
        .get(format!("{base}/uri"))
        .header("cookie", format!("at={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer(cookie).await.0, 200);
    for (query, headers) in [
        (true, vec![("cookie", format!("at={token}"))]),
        (
            false,
            vec![
                ("cookie", format!("at={token}")),
                ("authorization", format!("Bearer {token}")),
            ],
        ),
        (true, vec![("authorization", format!("Bearer {token}"))]),
    ] {
        let url = match query {
            true => format!("{base}/uri?access_token={token}"),
            false => format!("{base}/uri"),
        };
        let mut req = client.get(url);
        for (name, value) in &headers {
            req = req.header(*name, value);
        }
        let (status, challenge, _) = answer(req.send().await.unwrap()).await;
        assert_eq!(status, 400, "{headers:?}");
        assert_eq!(
            challenge,
            r#"Bearer realm="t", error="invalid_request", error_description="the token is presented in more than one place""#
        );
    }
}

#[tokio::test]
async fn dpop_bound_tokens_are_refused_outside_the_header() {
    let issuer = TestServer::start().await;
    let base = api(&issuer, TokenSources::new().cookie("at"), |l| {
        l.dpop(DpopConfig::new().allowed_hosts(["127.0.0.1"]))
            .unwrap()
    })
    .await;
    let bound = issuer
        .mint()
        .claim(
            "cnf",
            json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}),
        )
        .sign();
    let res = reqwest::Client::new()
        .get(format!("{base}/uri"))
        .header("cookie", format!("at={bound}"))
        .send()
        .await
        .unwrap();
    let (status, challenge, _) = answer(res).await;
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}
