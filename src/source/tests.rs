use http::header::{AUTHORIZATION, COOKIE, SEC_WEBSOCKET_PROTOCOL};
use http::Request;

use super::*;

fn all() -> TokenSources {
    TokenSources::new()
        .cookie("at")
        .query_parameter()
        .websocket_protocol("bearer-token.")
}

fn req(uri: &str, headers: &[(http::HeaderName, &str)]) -> Request<()> {
    let mut builder = Request::get(uri);
    for (name, value) in headers {
        builder = builder.header(name, *value);
    }
    builder.body(()).unwrap()
}

fn find(sources: &TokenSources, req: &Request<()>) -> Result<(TokenSource, String), BearerError> {
    sources
        .find(req, false)
        .map(|f| (f.source, f.token.into_owned()))
}

#[test]
fn each_place_gives_its_token() {
    let s = all();
    let ok = |source, token: &str| Ok((source, token.to_owned()));
    assert_eq!(
        find(&s, &req("/", &[(AUTHORIZATION, "Bearer a.b")])),
        ok(TokenSource::Header, "a.b")
    );
    assert_eq!(
        find(&s, &req("/", &[(COOKIE, "x=1; at=a.b; y=2")])),
        ok(TokenSource::Cookie, "a.b")
    );
    assert_eq!(
        find(&s, &req("/", &[(COOKIE, "at=\"a.b\"")])),
        ok(TokenSource::Cookie, "a.b")
    );
    assert_eq!(
        find(&s, &req("/p?x=1&access_token=a%2Bb&y", &[])),
        ok(TokenSource::Query, "a+b")
    );
    assert_eq!(
        find(
            &s,
            &req(
                "/",
                &[(SEC_WEBSOCKET_PROTOCOL, "graphql-ws, bearer-token.a.b")]
            )
        ),
        ok(TokenSource::WebSocketProtocol, "a.b")
    );
}

#[test]
fn places_not_configured_are_not_read() {
    let s = TokenSources::new();
    let r = req(
        "/?access_token=a",
        &[(COOKIE, "at=a"), (SEC_WEBSOCKET_PROTOCOL, "bearer-token.a")],
    );
    assert_eq!(find(&s, &r), Err(BearerError::Missing));
    assert_eq!(
        find(&s, &req("/", &[(AUTHORIZATION, "Basic eA==")])),
        Err(BearerError::OtherScheme)
    );
}

#[test]
fn a_token_in_two_places_is_refused() {
    let s = all();
    for r in [
        req("/?access_token=a", &[(AUTHORIZATION, "Bearer a")]),
        req("/", &[(AUTHORIZATION, "Bearer a"), (COOKIE, "at=a")]),
        req("/?access_token=a", &[(COOKIE, "at=a")]),
        req("/?access_token=a&access_token=a", &[]),
        req("/?access_token=a&access%5Ftoken=b", &[]),
        req("/", &[(COOKIE, "at=a"), (COOKIE, "at=b")]),
        req("/", &[(COOKIE, "at=a; at=b")]),
        req(
            "/",
            &[(SEC_WEBSOCKET_PROTOCOL, "bearer-token.a, bearer-token.b")],
        ),
        req(
            "/",
            &[
                (SEC_WEBSOCKET_PROTOCOL, "bearer-token.a"),
                (AUTHORIZATION, "Bearer a"),
            ],
        ),
    ] {
        assert_eq!(find(&s, &r), Err(BearerError::SeveralPlaces), "{r:?}");
    }
    // Basic credentials in the header are no token: the cookie is the one.
    let basic = req("/", &[(AUTHORIZATION, "Basic eA=="), (COOKIE, "at=a")]);
    assert_eq!(find(&s, &basic), Ok((TokenSource::Cookie, "a".to_owned())));
}

#[test]
fn tokens_elsewhere_follow_the_header_syntax() {
    let s = all();
    assert_eq!(
        find(&s, &req("/?access_token=a+b", &[])),
        Err(BearerError::Malformed)
    );
    assert_eq!(
        find(&s, &req("/?access_token=", &[])),
        Err(BearerError::Empty)
    );
    assert_eq!(
        find(&s, &req("/", &[(COOKIE, "at=a,b")])),
        Err(BearerError::Malformed)
    );
    // An empty cookie (a browser's leftover) is no cookie.
    assert_eq!(
        find(&s, &req("/", &[(COOKIE, "at=")])),
        Err(BearerError::Missing)
    );
    assert_eq!(
        find(&s, &req("/", &[(SEC_WEBSOCKET_PROTOCOL, "bearer-token.")])),
        Err(BearerError::Empty)
    );
    assert_eq!(
        find(&s, &req("/", &[(AUTHORIZATION, "Bearer a b")])),
        Err(BearerError::Malformed)
    );
}

#[test]
fn the_dpop_scheme_is_only_read_when_accepted() {
    let s = all();
    let r = req("/", &[(AUTHORIZATION, "DPoP a")]);
    assert_eq!(s.find(&r, true).map(|f| f.scheme), Ok(AuthScheme::DPoP));
    assert_eq!(find(&s, &r), Err(BearerError::OtherScheme));
}

#[test]
fn scrubbing_removes_the_token_and_only_it() {
    let s = all();
    let mut r = req("http://api.example/p?x=1&access_token=a&y=%2F", &[]);
    s.scrub(&mut r, TokenSource::Query);
    assert_eq!(r.uri(), "http://api.example/p?x=1&y=%2F");
    let mut r = req("/p?access%5Ftoken=a", &[]);
    s.scrub(&mut r, TokenSource::Query);
    assert_eq!(r.uri(), "/p");

    let mut r = req(
        "/",
        &[
            (SEC_WEBSOCKET_PROTOCOL, "graphql-ws, bearer-token.a.b"),
            (SEC_WEBSOCKET_PROTOCOL, "v2"),
        ],
    );
    s.scrub(&mut r, TokenSource::WebSocketProtocol);
    let left: Vec<_> = r.headers().get_all(SEC_WEBSOCKET_PROTOCOL).iter().collect();
    assert_eq!(left, ["graphql-ws, v2"]);
    let mut r = req("/", &[(SEC_WEBSOCKET_PROTOCOL, "bearer-token.a.b")]);
    s.scrub(&mut r, TokenSource::WebSocketProtocol);
    assert!(r.headers().get(SEC_WEBSOCKET_PROTOCOL).is_none());
}
