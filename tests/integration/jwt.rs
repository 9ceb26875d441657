//! Local JWT validation through a real protected API and the bundled authorization server:
//! every rule of the validator is broken in turn and must be refused.

use crate::support;

use std::time::Duration;

use bearer_guard::jwks::JwksConfig;
use bearer_guard_testkit::{Endpoint, Fault, KeyAlg, TestServer};
use serde_json::{json, Value};
use support::jwt::{b64, decode, hs256_input, segments, unb64, with_payload};
use support::{assert_invalid, call, jwt_api, me_url, now};

async fn setup() -> (TestServer, String) {
    let server = TestServer::start().await;
    let url = me_url(support::validator(&server).await).await;
    (server, url)
}

#[tokio::test]
async fn valid_token_reaches_the_handler_with_its_claims() {
    let (server, url) = setup().await;
    let token = server.mint().sub("alice").scope("read admin").sign();
    let (status, _, body) = call(&url, &token).await;
    assert_eq!(status, 200);
    let claims: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["scope"], "read admin");
    assert_eq!(claims["iss"], server.issuer());
}

#[tokio::test]
async fn every_algorithm_of_the_server_verifies() {
    let (server, url) = setup().await;
    let kids: Vec<_> = [KeyAlg::Es256, KeyAlg::EdDsa, KeyAlg::Ps256]
        .into_iter()
        .map(|alg| (alg, server.add_key(alg)))
        .collect();
    for (alg, kid) in kids {
        let token = server.mint().kid(&kid).sign();
        let r = call(&url, &token).await;
        assert_eq!(r.0, 200, "{alg:?} {r:?}");
    }
}

#[tokio::test]
async fn time_rules_with_leeway() {
    let (server, url) = setup().await;
    assert_invalid(
        &url,
        &server.mint().expired().sign(),
        "the token has expired",
    )
    .await;
    assert_invalid(
        &url,
        &server.mint().not_before(Duration::from_secs(600)).sign(),
        "the token is not valid yet",
    )
    .await;
    let now = now();
    assert_invalid(
        &url,
        &server.mint().issued_at(now + 600).sign(),
        "the token was issued in the future",
    )
    .await;
    // Default leeway is 60 s: 30 s past exp passes, 90 s past does not.
    let inside = server
        .mint()
        .issued_at(now - 300)
        .expires_at(now - 30)
        .sign();
    assert_eq!(call(&url, &inside).await.0, 200);
    let outside = server
        .mint()
        .issued_at(now - 300)
        .expires_at(now - 90)
        .sign();
    assert_invalid(&url, &outside, "the token has expired").await;
    assert_invalid(
        &url,
        &server.mint().remove("exp").sign(),
        "the token lacks a required claim",
    )
    .await;
}

#[tokio::test]
async fn issuer_and_audience_must_match() {
    let (server, url) = setup().await;
    assert_invalid(
        &url,
        &server.mint().issuer("https://evil.example").sign(),
        "the token issuer is not accepted",
    )
    .await;
    let slash = format!("{}/", server.issuer());
    assert_invalid(
        &url,
        &server.mint().issuer(slash).sign(),
        "the token issuer is not accepted",
    )
    .await;
    let upper = server.issuer().to_uppercase();
    assert_invalid(
        &url,
        &server.mint().issuer(upper).sign(),
        "the token issuer is not accepted",
    )
    .await;
    assert_invalid(
        &url,
        &server.mint().aud("other").sign(),
        "the token audience is not accepted",
    )
    .await;
    let many = server.mint().audiences(["other", "api"]).sign();
    assert_eq!(call(&url, &many).await.0, 200);
    assert_invalid(
        &url,
        &server.mint().claim("aud", json!(7)).sign(),
        "the token has an invalid claim",
    )
    .await;
}

#[tokio::test]
async fn typ_must_be_at_jwt_unless_disabled() {
    let (server, url) = setup().await;
    let id_token = server
        .mint()
        .typ(Some("JWT"))
        .claim("nonce", json!("n"))
        .sign();
    assert_invalid(&url, &id_token, "the token type is not an access token").await;
    assert_invalid(
        &url,
        &server.mint().typ(None).sign(),
        "the token type is not an access token",
    )
    .await;
    let media = server.mint().typ(Some("application/AT+JWT")).sign();
    assert_eq!(call(&url, &media).await.0, 200);

    let relaxed_url = jwt_api(server.issuer(), |b| b.require_typ(false)).await;
    assert_eq!(call(&relaxed_url, &id_token).await.0, 200);
}

#[tokio::test]
async fn signature_must_verify() {
    let (server, url) = setup().await;
    let token = server.mint().sign();
    let (head, sig) = token.rsplit_once('.').unwrap();
    let mut bytes = unb64(sig);
    bytes[10] ^= 1;
    let tampered = format!("{head}.{}", b64(&bytes));
    assert_invalid(&url, &tampered, "the signature is invalid").await;
    // Claims changed after signing.
    let (_, mut claims) = decode(&token);
    claims["scope"] = json!("admin");
    let forged = with_payload(&token, &claims);
    assert_invalid(&url, &forged, "the signature is invalid").await;
    // Signature stripped.
    assert_invalid(&url, &format!("{head}."), "the token is malformed").await;
}

#[tokio::test]
async fn unknown_kid_is_refused() {
    let (server, url) = setup().await;
    let token = server.mint().header("kid", json!("no-such-key")).sign();
    assert_invalid(&url, &token, "the signing key is unknown").await;
}

#[tokio::test]
async fn alg_none_in_every_spelling_is_refused() {
    let (server, url) = setup().await;
    let (_, claims) = decode(&server.mint().sign());
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "at+jwt", "kid": server.active_kid()});
        let token = format!(
            "{}.{}.AAAA",
            b64(header.to_string()),
            b64(claims.to_string())
        );
        assert_invalid(&url, &token, "the signing algorithm is not allowed").await;
        let unsigned = format!("{}.{}.", b64(header.to_string()), b64(claims.to_string()));
        assert_eq!(call(&url, &unsigned).await.0, 401);
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    let (server, url) = setup().await;
    // CVE-2015-9235: the attacker uses the published RSA key as an HMAC secret.
    let jwks = support::jwks(&server).await;
    let n = jwks["keys"][0]["n"].as_str().unwrap().to_owned();
    let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": server.active_kid()});
    let t = server.mint().sign();
    let payload = t.split('.').nth(1).unwrap();
    let input = format!("{}.{payload}", b64(header.to_string()));
    for secret in [n.as_bytes().to_vec(), jwks.to_string().into_bytes()] {
        let token = hs256_input(&secret, &input);
        assert_invalid(&url, &token, "the signing algorithm is not allowed").await;
    }
}

#[tokio::test]
async fn oversized_tokens_are_refused_before_parsing() {
    let (server, url) = setup().await;
    let big = server.mint().claim("pad", json!("x".repeat(9000))).sign();
    assert_invalid(&url, &big, "the token is too large").await;
    let just_fits = server.mint().claim("pad", json!("x".repeat(5000))).sign();
    assert!(just_fits.len() < 8192);
    assert_eq!(call(&url, &just_fits).await.0, 200);
}

#[tokio::test]
async fn unknown_crit_is_refused() {
    let (server, url) = setup().await;
    let token = server
        .mint()
        .header("crit", json!(["urn:example:x"]))
        .header("urn:example:x", json!(1))
        .sign();
    assert_invalid(
        &url,
        &token,
        "the token uses an unsupported critical extension",
    )
    .await;
}

#[tokio::test]
async fn jku_and_x5u_are_never_fetched() {
    let (server, url) = setup().await;
    let attacker = TestServer::start().await;
    let kid = attacker.active_kid();
    // Signed by the attacker's key, pointing at the attacker's JWKS.
    let [_, payload, _] = segments(&server.mint().sign());
    let claims = String::from_utf8(unb64(&payload)).unwrap();
    for param in ["jku", "x5u"] {
        let header =
            json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, param: attacker.jwks_uri()});
        let token = attacker.sign_raw(&kid, &header.to_string(), &claims);
        let (status, _, _) = call(&url, &token).await;
        assert_eq!(status, 401);
    }
    // The victim's own kid with a jku: still verified with the victim's keys only.
    let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": server.active_kid(), "jku": attacker.jwks_uri()});
    let token = attacker.sign_raw(&kid, &header.to_string(), &claims);
    assert_invalid(&url, &token, "the signature is invalid").await;
    assert_eq!(
        attacker.count(Endpoint::Jwks),
        0,
        "the attacker's JWKS was fetched"
    );
    assert_eq!(attacker.count(Endpoint::Discovery), 0);
}

#[tokio::test]
async fn key_rotation_is_picked_up_through_the_unknown_kid_path() {
    let (server, url) = setup().await;
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 1);
    let old = server.active_kid();
    let new = server.add_key(KeyAlg::Es256);
    server.use_key(&new);
    server.retire_key(&old);
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 2);
    // A forged kid right after does not cause another fetch (cooldown).
    let forged = server.mint().header("kid", json!("forged")).sign();
    assert_invalid(&url, &forged, "the signing key is unknown").await;
    assert_invalid(&url, &forged, "the signing key is unknown").await;
    assert_eq!(server.count(Endpoint::Jwks), 2);
}

#[tokio::test]
async fn issuer_down_after_first_fetch_keeps_known_keys_serving() {
    let server = TestServer::start().await;
    // Keys go stale at once, so every request wants a refresh.
    server.set_jwks_max_age(Some(0));
    let url = jwt_api(server.issuer(), |b| {
        b.jwks_config(
            JwksConfig::default()
                .min_refresh(Duration::ZERO)
                .cooldown(Duration::from_millis(100))
                .timeout(Duration::from_millis(300)),
        )
    })
    .await;
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
    for fault in [
        Fault::Unavailable,
        Fault::Garbage,
        Fault::Huge(1 << 20),
        Fault::Hang,
        Fault::Status(500),
    ] {
        server.set_fault(Endpoint::Jwks, fault);
        for _ in 0..3 {
            assert_eq!(call(&url, &server.mint().sign()).await.0, 200, "{fault:?}");
            tokio::time::sleep(Duration::from_millis(120)).await;
        }
        // A kid we have never seen cannot be told from a forged one: fail closed with 503.
        let unknown = server.mint().header("kid", json!("new-key")).sign();
        let (status, challenge, _) = call(&url, &unknown).await;
        assert_eq!(status, 503, "{fault:?}");
        assert!(challenge.is_empty());
    }
    assert!(server.count(Endpoint::Jwks) > 3, "refreshes were attempted");
    // Recovery: the issuer comes back with a rotated key.
    server.clear_faults();
    let new = server.add_key(KeyAlg::Rs256);
    server.use_key(&new);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
}

#[tokio::test]
async fn stale_keys_stop_verifying_after_max_stale_until_a_refresh_succeeds() {
    // An attacker who keeps the JWKS endpoint failing must not keep a key the issuer removed
    // verifying forever.
    let server = TestServer::start().await;
    server.set_jwks_max_age(Some(0)); // keys are due for refresh as soon as fetched
    let url = jwt_api(server.issuer(), |b| {
        b.jwks_config(
            JwksConfig::default()
                .min_refresh(Duration::ZERO)
                .cooldown(Duration::from_millis(100))
                .max_stale(Duration::from_millis(1500)),
        )
    })
    .await;
    let cached = server.mint().sign();
    assert_eq!(call(&url, &cached).await.0, 200);
    server.set_fault(Endpoint::Jwks, Fault::Status(500));
    // Within max_stale the last good keys still verify, new tokens and cached ones alike.
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
    assert_eq!(call(&url, &cached).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // Past it: 503 (cannot decide), also for the token in the verified-token cache.
    for (what, token) in [("new", server.mint().sign()), ("cached", cached.clone())] {
        let (status, challenge, _) = call(&url, &token).await;
        assert_eq!(status, 503, "{what} token");
        assert!(challenge.is_empty());
    }
    let failed = server.count(Endpoint::Jwks);
    // The endpoint recovers: after the cooldown a request refreshes and is accepted.
    server.clear_faults();
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
    assert_eq!(call(&url, &cached).await.0, 200);
    assert!(server.count(Endpoint::Jwks) > failed);
}

#[tokio::test]
async fn issuer_down_from_the_start_is_503_not_401() {
    let server = TestServer::start().await;
    server.set_fault(Endpoint::Jwks, Fault::Unavailable);
    let url = me_url(support::validator(&server).await).await;
    let (status, _, _) = call(&url, &server.mint().sign()).await;
    assert_eq!(status, 503);
    // Within the cooldown, no new fetch is made.
    let (status, _, _) = call(&url, &server.mint().sign()).await;
    assert_eq!(status, 503);
    assert_eq!(server.count(Endpoint::Jwks), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_cold_requests_cause_one_jwks_fetch() {
    let server = TestServer::start().await;
    let url = jwt_api(server.issuer(), |b| b.jwks_uri(server.jwks_uri())).await;
    let token = server.mint().sign();
    support::concurrent_ok(&url, &token, 1000).await;
    assert_eq!(server.count(Endpoint::Jwks), 1);
}

#[tokio::test]
async fn malformed_authorization_headers_get_the_right_status() {
    let (_server, url) = setup().await;
    let client = reqwest::Client::new();
    let get = |headers: Vec<&'static str>| {
        let mut req = client.get(&url);
        for h in headers {
            req = req.header("authorization", h);
        }
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), support::challenge(&res))
        }
    };
    assert_eq!(
        get(vec![]).await,
        (401, r#"Bearer realm="test""#.to_owned())
    );
    assert_eq!(
        get(vec!["Basic dXNlcjpwYXNz"]).await,
        (401, r#"Bearer realm="test""#.to_owned())
    );
    let bad = |d: &str| {
        (
            400,
            format!(r#"Bearer realm="test", error="invalid_request", error_description="{d}""#),
        )
    };
    assert_eq!(get(vec!["Bearer "]).await, bad("the Bearer token is empty"));
    assert_eq!(
        get(vec!["Bearer a b"]).await,
        bad("the Bearer token is malformed")
    );
    assert_eq!(
        get(vec!["Bearer a", "Bearer b"]).await,
        bad("more than one Authorization header")
    );
    // A well-formed but meaningless token is an invalid token.
    assert_invalid(&url, "abc", "the token is malformed").await;
}

#[tokio::test]
async fn cached_tokens_still_expire_and_cannot_be_forged() {
    let server = TestServer::start().await;
    let url = jwt_api(server.issuer(), |b| b.leeway(Duration::ZERO)).await;
    let token = server.mint().lifetime(Duration::from_secs(2)).sign();
    assert_eq!(call(&url, &token).await.0, 200);
    assert_eq!(call(&url, &token).await.0, 200); // served from the verified-token cache
                                                 // Same signature, other claims: not a cache hit.
    let (_, mut claims) = decode(&token);
    claims["sub"] = json!("mallory");
    let forged = with_payload(&token, &claims);
    assert_invalid(&url, &forged, "the signature is invalid").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_invalid(&url, &token, "the token has expired").await;
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_leaves_the_key_set() {
    let (server, url) = setup().await;
    let old = server.active_kid();
    let cached = server.mint().sign();
    assert_eq!(call(&url, &cached).await.0, 200);
    assert_eq!(call(&url, &cached).await.0, 200, "served from the cache");
    // The issuer rotates and removes the old key; a token of the new key makes us refresh.
    let new = server.add_key(KeyAlg::Es256);
    server.use_key(&new);
    server.retire_key(&old);
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);
    assert_eq!(server.count(Endpoint::Jwks), 2);
    // The old key is gone: its cached tokens are no longer served (and cannot verify).
    assert_invalid(&url, &cached, "the signing key is unknown").await;
}

#[tokio::test]
async fn publishing_an_empty_key_set_revokes_every_key() {
    let server = TestServer::start().await;
    // Keys are due for refresh as soon as fetched.
    server.set_jwks_max_age(Some(0));
    let url = jwt_api(server.issuer(), |b| {
        b.jwks_config(
            JwksConfig::default()
                .min_refresh(Duration::ZERO)
                .cooldown(Duration::from_millis(100)),
        )
    })
    .await;
    let cached = server.mint().sign();
    assert_eq!(call(&url, &cached).await.0, 200);
    // The issuer withdraws its only key: the JWKS is `{"keys": []}`.
    server.retire_key(&server.active_kid());
    assert!(server.kids().is_empty());
    // A request may still be served by the keys at hand while the refresh it starts runs.
    let _ = call(&url, &server.mint().sign()).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        let (status, _, _) = call(&url, &server.mint().sign()).await;
        if status == 401 {
            break;
        }
        assert_eq!(status, 200);
        assert!(
            std::time::Instant::now() < deadline,
            "the empty key set never replaced the old one"
        );
    }
    assert_invalid(&url, &server.mint().sign(), "the signing key is unknown").await;
    assert_invalid(&url, &cached, "the signing key is unknown").await;
}
