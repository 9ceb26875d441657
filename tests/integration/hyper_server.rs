//! `examples/hyper_server.rs` over loopback: plain hyper 1 with `AuthLayer` and the claims read
//! in the handler, without any framework.

#[path = "../../examples/shared/hyper_app.rs"]
mod hyper_app;

use bearer_guard::JwtValidator;
use bearer_guard_testkit::TestServer;

#[tokio::test]
async fn plain_hyper_behind_the_layer() {
    let issuer = TestServer::start().await;
    let validator = JwtValidator::builder(issuer.issuer())
        .audience(issuer.audience())
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(hyper_app::serve(listener, validator));
    let client = reqwest::Client::new();

    let none = client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert_eq!(
        none.headers()["www-authenticate"],
        r#"Bearer realm="hyper""#
    );

    let bad = client.get(&url).bearer_auth("a.b.c").send().await.unwrap();
    assert_eq!(bad.status(), 401);

    let token = issuer.mint().sub("alice").sign();
    let good = client.get(&url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(good.text().await.unwrap(), "hello alice");
}
