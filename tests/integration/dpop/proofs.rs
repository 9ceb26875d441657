//! Every rule of the proof check broken in turn, over loopback with tokens of the test server;
//! the scheme and the binding.

use super::*;

#[tokio::test]
async fn server_issues_bound_tokens_and_the_api_accepts_them_with_proofs() {
    let Setup {
        server,
        client,
        url,
    } = setup().await;
    let response = client.token(&server).await;
    assert_eq!(response["token_type"], "DPoP");
    let token = response["access_token"].as_str().unwrap();
    let (_, claims) = decode(token);
    assert_eq!(claims["cnf"]["jkt"], client.jkt());

    for _ in 0..2 {
        let proof = client.proof_for("GET", &url, Some(token));
        let (status, _, body) = call(&url, dpop(token), &[&proof]).await;
        assert_eq!(status, 200, "{body}");
        let seen: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(seen["cnf"]["jkt"], client.jkt());
    }
    // The scheme name is case-insensitive; htu is compared after normalisation.
    let upper = url.replace("http://", "HTTP://");
    let proof = client.proof_for("GET", &format!("{upper}?x=1#f"), Some(token));
    let r = call(&url, Some(format!("dpop {token}")), &[&proof]).await;
    assert_eq!(r.0, 200, "{r:?}");
}

#[tokio::test]
async fn token_endpoint_without_proof_issues_bearer_and_refuses_bad_proofs() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let plain: Value = json(
        reqwest::Client::new()
            .post(server.token_endpoint())
            .basic_auth("demo-client", Some("demo-secret"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(plain["token_type"], "Bearer");

    let wrong_htu = client.proof_for("POST", &format!("{}/other", server.issuer()), None);
    let res = reqwest::Client::new()
        .post(server.token_endpoint())
        .basic_auth("demo-client", Some("demo-secret"))
        .header("dpop", wrong_htu)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_dpop_proof");
}

#[tokio::test]
async fn a_proof_is_required() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    bad_proof(
        call(&s.url, dpop(&token), &[]).await,
        "a DPoP proof is required",
        &[&token],
    );
}

#[tokio::test]
async fn exactly_one_proof() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let a = s.client.proof_for("GET", &s.url, Some(&token));
    let b = s.client.proof_for("GET", &s.url, Some(&token));
    bad_proof(
        call(&s.url, dpop(&token), &[&a, &b]).await,
        "more than one DPoP proof",
        &[&token, &a, &b],
    );
}

#[tokio::test]
async fn proof_for_another_method() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof_for("POST", &s.url, Some(&token));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof is for another HTTP method",
        &[&token, &proof],
    );
}

#[tokio::test]
async fn proof_for_another_url() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let other = s.url.replace("/me", "/you");
    for htu in [
        other,
        s.url.replace("http://", "https://"),
        format!("{}/", s.url),
    ] {
        let proof = s.client.proof_for("GET", &htu, Some(&token));
        bad_proof(
            call(&s.url, dpop(&token), &[&proof]).await,
            "the DPoP proof is for another URI",
            &[&token, &proof],
        );
    }
}

#[tokio::test]
async fn stale_or_future_iat() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    for iat in [now() - 300, now() + 300] {
        let mut claims = s.client.claims("GET", &s.url, Some(&token));
        claims["iat"] = json!(iat);
        let proof = s.client.sign(&s.client.header(), &claims);
        bad_proof(
            call(&s.url, dpop(&token), &[&proof]).await,
            "the DPoP proof is too old or too far in the future",
            &[&token, &proof],
        );
    }
}

#[tokio::test]
async fn replayed_jti() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof_for("GET", &s.url, Some(&token));
    assert_eq!(call(&s.url, dpop(&token), &[&proof]).await.0, 200);
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof was already used",
        &[&token, &proof],
    );
    // A new proof reusing the jti is a replay too.
    let (_, first) = decode(&proof);
    let mut claims = s.client.claims("GET", &s.url, Some(&token));
    claims["jti"] = first["jti"].clone();
    let again = s.client.sign(&s.client.header(), &claims);
    bad_proof(
        call(&s.url, dpop(&token), &[&again]).await,
        "the DPoP proof was already used",
        &[&token],
    );
}

#[tokio::test]
async fn wrong_ath() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let other = s.client.access_token(&s.server).await;
    let proof = s.client.proof_for("GET", &s.url, Some(&other));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof is for another access token",
        &[&token, &proof],
    );
    let mut claims = s.client.claims("GET", &s.url, None);
    claims.as_object_mut().unwrap().remove("ath");
    let proof = s.client.sign(&s.client.header(), &claims);
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof lacks a required claim",
        &[&token],
    );
}

#[tokio::test]
async fn proof_by_another_key_than_the_binding() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let thief = DpopClient::new();
    let proof = thief.proof_for("GET", &s.url, Some(&token));
    assert_refused(
        call(&s.url, dpop(&token), &[&proof]).await,
        "invalid_token",
        "the DPoP proof key does not match the token binding",
        &[&token, &proof],
    );
}

#[tokio::test]
async fn private_key_in_jwk() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let d = s.client.key().private_key().as_be_bytes().unwrap();
    let mut header = s.client.header();
    header["jwk"]["d"] = Value::String(b64(d.as_ref()));
    let proof = s
        .client
        .sign(&header, &s.client.claims("GET", &s.url, Some(&token)));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof key contains private key material",
        &[&token, &proof],
    );
}

#[tokio::test]
async fn none_and_hmac_proofs() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let claims = s.client.claims("GET", &s.url, Some(&token));
    let mut header = s.client.header();
    header["alg"] = json!("none");
    let none = format!(
        "{}.{}.{}",
        b64(header.to_string()),
        b64(claims.to_string()),
        b64("x")
    );
    bad_proof(
        call(&s.url, dpop(&token), &[&none]).await,
        "the DPoP proof algorithm is not allowed",
        &[&token],
    );
    header["alg"] = json!("HS256");
    let claims = s.client.claims("GET", &s.url, Some(&token));
    let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
    let hs = hs256_input(b"shared", &input);
    bad_proof(
        call(&s.url, dpop(&token), &[&hs]).await,
        "the DPoP proof algorithm is not allowed",
        &[&token],
    );
}

#[tokio::test]
async fn wrong_typ_and_bad_signature() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let mut header = s.client.header();
    header["typ"] = json!("jwt");
    let proof = s
        .client
        .sign(&header, &s.client.claims("GET", &s.url, Some(&token)));
    bad_proof(
        call(&s.url, dpop(&token), &[&proof]).await,
        "the DPoP proof type is not dpop+jwt",
        &[&token],
    );
    // Claims swapped after signing.
    let good = s.client.proof_for("GET", &s.url, Some(&token));
    let other = s.client.claims("GET", &s.url, Some(&token));
    let forged = with_payload(&good, &other);
    bad_proof(
        call(&s.url, dpop(&token), &[&forged]).await,
        "the DPoP proof signature is invalid",
        &[&token],
    );
}

#[tokio::test]
async fn bound_token_as_bearer_is_refused() {
    let s = setup().await;
    let token = s.client.access_token(&s.server).await;
    let proof = s.client.proof_for("GET", &s.url, Some(&token));
    assert_refused(
        call(&s.url, Some(format!("Bearer {token}")), &[&proof]).await,
        "invalid_token",
        "the token is bound to a DPoP key",
        &[&token],
    );
}

#[tokio::test]
async fn unbound_token_with_dpop_scheme_is_refused_and_plain_bearer_still_works() {
    let s = setup().await;
    let plain = s.server.mint().sign();
    let r = call(&s.url, Some(format!("Bearer {plain}")), &[]).await;
    assert_eq!(r.0, 200, "{r:?}");
    let proof = s.client.proof_for("GET", &s.url, Some(&plain));
    assert_refused(
        call(&s.url, dpop(&plain), &[&proof]).await,
        "invalid_token",
        "the token is not bound to a DPoP key",
        &[&plain],
    );
    // Without credentials, both schemes are offered.
    let r = call(&s.url, None, &[]).await;
    assert_eq!(r.0, 401);
    assert_eq!(
        r.1,
        format!(r#"Bearer realm="test", DPoP realm="test", algs="{ALGS}""#)
    );
}

#[tokio::test]
async fn validator_errors_use_the_dpop_challenge_for_dpop_requests() {
    let s = setup().await;
    let expired = s
        .server
        .mint()
        .expired()
        .claim("cnf", json!({"jkt": s.client.jkt()}))
        .sign();
    let proof = s.client.proof_for("GET", &s.url, Some(&expired));
    assert_refused(
        call(&s.url, dpop(&expired), &[&proof]).await,
        "invalid_token",
        "the token has expired",
        &[&expired],
    );
}

#[tokio::test]
async fn without_dpop_support_bound_tokens_are_refused() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let url = api(&server, None).await;
    let token = client.access_token(&server).await;
    let proof = client.proof_for("GET", &url, Some(&token));
    let r = call(&url, Some(format!("Bearer {token}")), &[&proof]).await;
    assert_eq!(r.0, 401);
    assert_eq!(
        r.1,
        r#"Bearer realm="test", error="invalid_token", error_description="the token is bound to a DPoP key""#
    );
    let r = call(&url, dpop(&token), &[&proof]).await;
    assert_eq!(r.0, 401);
    assert_eq!(r.1, r#"Bearer realm="test""#);
}

#[tokio::test]
async fn configured_base_url_is_what_htu_must_name() {
    let server = TestServer::start().await;
    let client = DpopClient::new();
    let dpop_config =
        DpopConfig::new().base_url(url::Url::parse("https://api.example/prefix/").unwrap());
    let url = api(&server, Some(dpop_config)).await;
    let token = client.access_token(&server).await;
    let external = "https://api.example/prefix/me";
    let proof = client.proof_for("GET", external, Some(&token));
    let r = call(&url, dpop(&token), &[&proof]).await;
    assert_eq!(r.0, 200, "{r:?}");
    // The loopback address the request really went to is not the external URL.
    let proof = client.proof_for("GET", &url, Some(&token));
    let r = call(&url, dpop(&token), &[&proof]).await;
    assert_eq!(r.0, 401);
    assert!(r.1.contains("the DPoP proof is for another URI"), "{r:?}");
}
