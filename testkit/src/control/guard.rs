//! What keeps the unauthenticated control API on the local machine and out of a browser's
//! reach: it is served on a loopback address only (unless forced), every control request must
//! name a loopback `Host` (a DNS-rebinding page reaches `127.0.0.1` under its own host name),
//! and every request that changes something must be `application/json` (a cross-site HTML form
//! cannot send that type, and `fetch` cannot without a CORS preflight, which the control API
//! never answers).

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ControlError;

/// The middleware over every control route: a loopback `Host` (unless `allow_remote`), then
/// `application/json` on every method but `GET` and `HEAD`. Refusals are control API errors:
/// `403 access_denied` and `415 invalid_request`.
pub(crate) async fn guard(State(allow_remote): State<bool>, req: Request, next: Next) -> Response {
    if !allow_remote && !loopback_authority(&req) {
        return ControlError(
            StatusCode::FORBIDDEN,
            "access_denied",
            "the control API answers only requests to a loopback Host (127.0.0.1, localhost, \
             [::1]); see allow_remote_control"
                .into(),
        )
        .into_response();
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD) && !is_json(req.headers()) {
        return ControlError(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "control requests other than GET must have Content-Type: application/json".into(),
        )
        .into_response();
    }
    next.run(req).await
}

/// Whether the request names a loopback host: its `Host` header (required), and the
/// authority of its target when that is in absolute form.
fn loopback_authority(req: &Request) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok());
    host.is_some_and(is_loopback_host)
        && req
            .uri()
            .authority()
            .is_none_or(|a| is_loopback_host(a.as_str()))
}

/// `127.0.0.1`, `localhost` (any case) or `[::1]`, each with an optional `:port`.
pub(crate) fn is_loopback_host(host: &str) -> bool {
    // (whether the name is one of the three, what follows it: "" or ":port")
    let (name_ok, rest) = match host.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((inside, rest)) => (inside == "::1", rest),
            None => return false,
        },
        None => {
            let end = host.find(':').unwrap_or(host.len());
            let (name, rest) = host.split_at_checked(end).unwrap_or((host, ""));
            (
                name == "127.0.0.1" || name.eq_ignore_ascii_case("localhost"),
                rest,
            )
        }
    };
    let port_ok = rest.is_empty()
        || rest.strip_prefix(':').is_some_and(|digits| {
            (1..=5).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
        });
    name_ok && port_ok
}

/// Whether `Content-Type` is `application/json` (any case, parameters such as `charset`
/// allowed).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;
    use crate::config::ControlOptions;

    #[test]
    fn the_bind_address_must_be_loopback_unless_forced() {
        let on = ControlOptions {
            enabled: true,
            allow_remote: false,
        };
        let forced = ControlOptions {
            allow_remote: true,
            ..on
        };
        let off = ControlOptions::default();
        for bind in [
            "127.0.0.1:0",
            "127.0.0.2:9000",
            "[::1]:0",
            "[::ffff:127.0.0.1]:0",
        ] {
            let bind = bind.parse().unwrap();
            assert!(on.check_bind(bind).is_ok(), "{bind}");
        }
        for bind in ["0.0.0.0:0", "[::]:0", "192.0.2.1:80", "[2001:db8::1]:0"] {
            let bind = bind.parse().unwrap();
            assert!(on.check_bind(bind).is_err(), "{bind}");
            assert!(forced.check_bind(bind).is_ok(), "{bind}");
            assert!(off.check_bind(bind).is_ok(), "{bind}");
        }
    }

    #[test]
    fn loopback_hosts() {
        for host in [
            "127.0.0.1",
            "127.0.0.1:9000",
            "localhost",
            "LocalHost:1",
            "[::1]",
            "[::1]:65535",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "",
            "evil.test",
            "evil.test:9000",
            "127.0.0.1.evil.test",
            "localhost.evil.test",
            "localhost.",
            "127.0.0.2",
            "0.0.0.0",
            "::1",
            "[::1",
            "[::2]:80",
            "[::ffff:127.0.0.1]",
            "127.0.0.1:",
            "127.0.0.1:x",
            "127.0.0.1:123456",
            "127.0.0.1:80:80",
            "localhost@evil.test",
            "[::1]evil",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
