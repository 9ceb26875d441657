//! `examples/websocket.rs` over loopback: a real WebSocket client (tokio-tungstenite) offering
//! the token as a subprotocol entry, and an HTTP client reading the server-sent events with the
//! token in a cookie; each without a token, with a bad one and with a good one.

#[path = "../../examples/shared/realtime.rs"]
mod example;

use bearer_guard::JwtValidator;
use bearer_guard_testkit::TestServer;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

async fn setup() -> (TestServer, String) {
    let issuer = TestServer::start().await;
    let validator = JwtValidator::builder(issuer.issuer())
        .audience(issuer.audience())
        .build()
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, example::app(validator)).await });
    (issuer, addr.to_string())
}

/// Opens `/ws` offering `protocols` (as a browser's `new WebSocket(url, protocols)` does).
async fn connect(
    addr: &str,
    protocols: &str,
) -> Result<
    (
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
        tungstenite::handshake::client::Response,
    ),
    tungstenite::Error,
> {
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocols.parse().unwrap());
    tokio_tungstenite::connect_async(request).await
}

fn refused_status(result: Result<impl Sized, tungstenite::Error>) -> (u16, String) {
    match result {
        Err(tungstenite::Error::Http(response)) => (
            response.status().as_u16(),
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
        ),
        Err(other) => panic!("not an HTTP refusal: {other}"),
        Ok(_) => panic!("the upgrade was accepted"),
    }
}

#[tokio::test]
async fn websocket_upgrade_needs_a_good_token_and_echoes_only_the_app_protocol() {
    let (issuer, addr) = setup().await;

    let (status, challenge) = refused_status(connect(&addr, example::PROTOCOL).await);
    assert_eq!(
        (status, challenge.as_str()),
        (401, r#"Bearer realm="realtime""#)
    );

    let bad = format!("{}, {}not-a-jwt", example::PROTOCOL, example::TOKEN_PREFIX);
    let (status, challenge) = refused_status(connect(&addr, &bad).await);
    assert_eq!(status, 401);
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );

    let token = issuer.mint().sub("alice").sign();
    let good = format!("{}, {}{token}", example::PROTOCOL, example::TOKEN_PREFIX);
    let (mut socket, response) = connect(&addr, &good).await.unwrap();
    // The browser's rule: the answer names one protocol it offered; never the token.
    let echoed: Vec<_> = response
        .headers()
        .get_all("sec-websocket-protocol")
        .iter()
        .collect();
    assert_eq!(echoed, [example::PROTOCOL]);
    let hello = socket.next().await.unwrap().unwrap();
    assert_eq!(hello, Message::text("hello alice"));
    socket.send(Message::text("ping")).await.unwrap();
    assert_eq!(socket.next().await.unwrap().unwrap(), Message::text("ping"));
}

#[tokio::test]
async fn a_token_both_in_the_header_and_the_protocol_is_400() {
    let (issuer, addr) = setup().await;
    let token = issuer.mint().sign();
    let mut request = format!("ws://{addr}/ws").into_client_request().unwrap();
    let protocols = format!("{}, {}{token}", example::PROTOCOL, example::TOKEN_PREFIX);
    request
        .headers_mut()
        .insert("sec-websocket-protocol", protocols.parse().unwrap());
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (status, challenge) = refused_status(tokio_tungstenite::connect_async(request).await);
    assert_eq!(status, 400);
    assert!(
        challenge.contains(r#"error="invalid_request""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn event_stream_needs_a_good_token_in_the_cookie() {
    let (issuer, addr) = setup().await;
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/events");

    let none = client.get(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);

    let bad = client
        .get(&url)
        .header("cookie", format!("{}=not-a-jwt", example::COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);

    let token = issuer.mint().sub("alice").sign();
    let mut good = client
        .get(&url)
        .header("cookie", format!("theme=dark; {}={token}", example::COOKIE))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    assert_eq!(good.headers()["content-type"], "text/event-stream");
    let mut stream = String::new();
    while let Some(chunk) = good.chunk().await.unwrap() {
        stream.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert_eq!(
        stream,
        "event: tick\ndata: alice 1\n\nevent: tick\ndata: alice 2\n\nevent: tick\ndata: alice 3\n\n"
    );
}
