//! The app of `examples/websocket.rs`: a WebSocket and a server-sent-events route behind
//! bearer-guard, for browser clients that cannot set an `Authorization` header. Shared with
//! `tests/integration/realtime.rs`.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event, Sse};
use axum::response::IntoResponse;
use axum::{routing::get, Router};
use bearer_guard::axum::Authenticated;
use bearer_guard::source::TokenSources;
use bearer_guard::{AuthLayer, Claims, Validator};
use futures_util::Stream;

/// The application protocol of `/ws`: the one the server picks and echoes. Browsers offer it
/// together with the token entry, `new WebSocket(url, ["chat.v1", "bearer-token." + token])`,
/// and refuse an upgrade that echoes no protocol.
pub const PROTOCOL: &str = "chat.v1";

/// The prefix of the `Sec-WebSocket-Protocol` entry that carries the token.
pub const TOKEN_PREFIX: &str = "bearer-token.";

/// The cookie that carries the token for `EventSource` (`withCredentials: true`).
pub const COOKIE: &str = "access_token";

/// `GET /ws` (WebSocket: greets the token's subject, then echoes) and `GET /events` (server-sent
/// events: three ticks for the token's subject), both behind `AuthLayer`, which takes the token
/// from the header, the `access_token` cookie or the `bearer-token.` subprotocol entry.
pub fn app<V: Validator>(validator: V) -> Router {
    let sources = TokenSources::new()
        .cookie(COOKIE)
        .websocket_protocol(TOKEN_PREFIX);
    Router::new()
        .route("/ws", get(ws))
        .route("/events", get(events))
        .layer(
            AuthLayer::new(validator)
                .realm("realtime")
                .token_sources(sources),
        )
}

async fn ws(
    upgrade: WebSocketUpgrade,
    Authenticated(claims): Authenticated<Claims>,
) -> impl IntoResponse {
    let subject = claims.subject().unwrap_or("?").to_owned();
    // The layer removed the token entry: only the real protocol is left to pick and echo.
    upgrade
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| chat(socket, subject))
}

async fn chat(mut socket: WebSocket, subject: String) {
    if socket
        .send(Message::text(format!("hello {subject}")))
        .await
        .is_err()
    {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        if let Message::Text(text) = message {
            if socket.send(Message::Text(text)).await.is_err() {
                return;
            }
        }
    }
}

async fn events(
    Authenticated(claims): Authenticated<Claims>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let subject = claims.subject().unwrap_or("?").to_owned();
    let ticks = (1..=3).map(move |n| {
        Ok(Event::default()
            .event("tick")
            .data(format!("{subject} {n}")))
    });
    Sse::new(futures_util::stream::iter(ticks))
        .keep_alive(axum::response::sse::KeepAlive::new().interval(Duration::from_secs(15)))
}
