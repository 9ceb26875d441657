//! The answers: statuses, challenges and headers for each kind of refusal.

use super::*;
use crate::bearer::AuthScheme;

fn header(err: AuthError, c: &Challenge) -> String {
    c.header_for(&err)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[test]
fn missing_token_has_no_error_code() {
    let c = Challenge::new().realm("api");
    assert_eq!(
        header(BearerError::Missing.into(), &c),
        r#"Bearer realm="api""#
    );
    assert_eq!(
        header(BearerError::Missing.into(), &Challenge::new()),
        "Bearer"
    );
}

#[test]
fn scope_is_named_in_403() {
    let err = AuthError::InsufficientScope {
        required: "a b".into(),
    };
    assert_eq!(err.status(), 403);
    assert_eq!(
        header(err, &Challenge::new()),
        r#"Bearer error="insufficient_scope", error_description="the token lacks the required scope", scope="a b""#
    );
}

#[test]
fn quoted_values_are_escaped() {
    let c = Challenge::new().realm("a\"b\\c\nd");
    assert_eq!(
        header(BearerError::Missing.into(), &c),
        r#"Bearer realm="a\"b\\cd""#
    );
}

#[test]
fn dpop_challenges() {
    let c = Challenge::new()
        .realm("api")
        .with_dpop_algs("ES256 EdDSA".into());
    assert_eq!(
        header(DpopError::Replayed.into(), &c),
        r#"DPoP realm="api", error="invalid_dpop_proof", error_description="the DPoP proof was already used", algs="ES256 EdDSA""#
    );
    assert_eq!(
        header(BearerError::Missing.into(), &c),
        r#"Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA""#
    );
    assert_eq!(
        header(TokenError::Expired.into(), &c),
        r#"Bearer realm="api", error="invalid_token", error_description="the token has expired""#
    );
    let d = c.with_scheme(AuthScheme::DPoP);
    assert_eq!(
        header(TokenError::Expired.into(), &d),
        r#"DPoP realm="api", error="invalid_token", error_description="the token has expired", algs="ES256 EdDSA""#
    );
    assert_eq!(AuthError::from(DpopError::Missing).status(), 401);
}

#[test]
fn use_nonce_challenge_and_header() {
    let nonce = Nonce::test("n".repeat(32).as_bytes());
    let err = AuthError::from(DpopError::UseNonce(nonce));
    assert_eq!(err.code(), Some("use_dpop_nonce"));
    let c = Challenge::new()
        .realm("api")
        .resource_metadata("https://api.example/meta")
        .with_dpop_algs("ES256".into());
    let res: Response<()> = err.to_response(&c);
    assert_eq!(res.status(), 401);
    assert_eq!(
        res.headers()[header::WWW_AUTHENTICATE],
        r#"DPoP realm="api", error="use_dpop_nonce", error_description="the DPoP proof lacks a valid server nonce", resource_metadata="https://api.example/meta", algs="ES256""#
    );
    assert_eq!(res.headers()["dpop-nonce"], "n".repeat(32));
    let res: Response<()> = AuthError::from(DpopError::Replayed).to_response(&c);
    assert!(res.headers().get("dpop-nonce").is_none());
}

#[test]
fn unavailable_is_503_without_challenge() {
    let err = AuthError::Unavailable(super::UnavailableError::SlowKeyFetch);
    let res: Response<()> = err.to_response(&Challenge::new());
    assert_eq!(res.status(), 503);
    assert!(res.headers().get(header::WWW_AUTHENTICATE).is_none());
}

#[test]
fn display_and_description_are_the_same_literal() {
    use crate::error::BearerError;
    assert_eq!(
        TokenError::Expired.to_string(),
        TokenError::Expired.description()
    );
    assert_eq!(
        DpopError::Replayed.to_string(),
        DpopError::Replayed.description()
    );
    assert_eq!(
        BearerError::Multiple.to_string(),
        BearerError::Multiple.description()
    );
    let e = AuthError::from(TokenError::WrongAudience);
    assert_eq!(e.to_string(), e.description());
    assert_eq!(
        AuthError::from(BearerError::Missing).description(),
        "no Authorization header"
    );
}

#[test]
fn base_scope_goes_on_401s_that_send_the_client_to_the_authorization_server() {
    let c = Challenge::new()
        .resource_metadata("https://mcp.example/meta")
        .scope("mcp:tools");
    for err in [
        AuthError::from(BearerError::Missing),
        AuthError::from(BearerError::OtherScheme),
    ] {
        assert_eq!(
            header(err, &c),
            r#"Bearer scope="mcp:tools", resource_metadata="https://mcp.example/meta""#
        );
    }
    assert_eq!(
        header(TokenError::Expired.into(), &c),
        r#"Bearer error="invalid_token", error_description="the token has expired", scope="mcp:tools", resource_metadata="https://mcp.example/meta""#
    );
    // Not on a 400: the request is malformed, a token with other scopes would not help.
    let bad = header(BearerError::Malformed.into(), &c);
    assert!(
        bad.contains("invalid_request") && !bad.contains("scope="),
        "{bad}"
    );
    // On a 403 the operation's scope, never the base one.
    let forbidden = header(
        AuthError::InsufficientScope {
            required: "mcp:tools mcp:admin".into(),
        },
        &c,
    );
    assert!(
        forbidden.contains(r#"scope="mcp:tools mcp:admin""#),
        "{forbidden}"
    );
    assert_eq!(forbidden.matches("scope=").count(), 1, "{forbidden}");
    // Not on a step-up 401: the scopes are those of the operation, which it does not name.
    let step_up = header(
        AuthError::InsufficientUserAuthentication {
            acr_values: Some("mfa".into()),
            max_age: None,
        },
        &c,
    );
    assert!(!step_up.contains("scope="), "{step_up}");
    // Offered with both schemes when DPoP is accepted.
    let both = header(
        BearerError::Missing.into(),
        &c.clone().with_dpop_algs("ES256".into()),
    );
    assert_eq!(both.matches(r#"scope="mcp:tools""#).count(), 2, "{both}");
}

#[test]
fn request_refusals_have_their_status_and_no_challenge() {
    let c = Challenge::new().realm("api").scope("mcp:tools");
    for (err, status) in [
        (RequestError::BodyTooLarge, 413),
        (RequestError::NotJson, 400),
        (RequestError::NotJsonRpc, 400),
        (RequestError::EmptyBatch, 400),
        (RequestError::DuplicateMember, 400),
        (RequestError::BodyUnreadable, 400),
        (RequestError::UnknownSession, 404),
    ] {
        let err = AuthError::from(err);
        assert_eq!(err.status(), status, "{err}");
        assert_eq!(err.code(), None);
        assert!(c.header_for(&err).is_none(), "{err}");
        let res: http::Response<()> = err.to_response(&c);
        assert_eq!(res.status(), status);
        assert!(res.headers().is_empty());
    }
}
