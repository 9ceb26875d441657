//! Claims and keys from the issuer: time claims, audience, issuer, ID tokens, leeway, cache
//! lifetimes, RSA exponent one.

use super::*;

#[tokio::test]
async fn time_claims_of_the_wrong_type_or_range_are_invalid() {
    let env = setup().await;
    let now = now();
    let bad_values = [
        json!(format!("{}", now + 300)),
        json!(true),
        json!(null),
        json!([now + 300]),
        json!({"t": now + 300}),
        json!(1e308),
        json!(-1),
        json!(-1.5),
        json!(-1e308),
        json!(253_402_300_800u64),
        json!(u64::MAX),
    ];
    for name in ["exp", "nbf", "iat"] {
        for value in &bad_values {
            let token = env.rs256_with(name, value.clone());
            let (status, challenge, _) = call(&env.url, &token).await;
            assert_eq!(status, 401, "{name}={value}");
            assert!(
                challenge.contains(INVALID_CLAIM),
                "{name}={value}: {challenge}"
            );
        }
        // Integers past u64::MAX (JSON parsing turns them into floats), and a number past
        // the f64 range (which the JSON parser itself refuses).
        for (text, verdict) in [
            ("18446744073709551616", INVALID_CLAIM),
            ("123456789012345678901234567890", INVALID_CLAIM),
            ("1e400", MALFORMED),
        ] {
            let mut claims = env.claims();
            claims.as_object_mut().unwrap().remove(name);
            let claims = claims
                .to_string()
                .replacen('{', &format!("{{\"{name}\":{text},"), 1);
            assert_invalid(&env.url, &env.rs256(&claims), verdict).await;
        }
    }
    // Non-integer dates are NumericDates too (RFC 7519 §2): honoured, not rounded away.
    let mut claims = env.claims();
    claims["exp"] = json!(now as f64 - 120.5);
    assert_invalid(&env.url, &env.rs256(&claims.to_string()), EXPIRED).await;
    claims["exp"] = json!(now as f64 + 120.5);
    assert_eq!(call(&env.url, &env.rs256(&claims.to_string())).await.0, 200);
    // The last second of year 9999 is still a date.
    claims["exp"] = json!(253_402_300_799u64);
    assert_eq!(call(&env.url, &env.rs256(&claims.to_string())).await.0, 200);
}

#[tokio::test]
async fn audience_of_the_wrong_type_or_value() {
    let env = setup().await;
    for aud in [
        json!({"aud": "api"}),
        json!(["api", 1]),
        json!([1, "api"]),
        json!(["api", null]),
        json!([["api"]]),
        json!(true),
        json!(null),
    ] {
        assert_invalid(&env.url, &env.rs256_with("aud", aud), INVALID_CLAIM).await;
    }
    for aud in [
        json!([]),
        json!("API"),
        json!("api "),
        json!(["apix", "ap"]),
    ] {
        assert_invalid(&env.url, &env.rs256_with("aud", aud), WRONG_AUDIENCE).await;
    }
}

#[tokio::test]
async fn issuer_variants_are_refused() {
    let env = setup().await;
    let iss = env.server.issuer().to_owned();
    let localhost = iss.replace("127.0.0.1", "localhost");
    for value in [
        json!([iss]),
        json!(null),
        json!({"iss": iss}),
        json!(format!("{iss} ")),
        json!(format!(" {iss}")),
        json!(format!("{iss}#")),
        json!(format!("{iss}?")),
        json!(format!("{iss}/.")),
        json!(localhost),
        json!(""),
    ] {
        assert_invalid(&env.url, &env.rs256_with("iss", value), WRONG_ISSUER).await;
    }
    let mut claims = env.claims();
    claims.as_object_mut().unwrap().remove("iss");
    assert_invalid(
        &env.url,
        &env.rs256(&claims.to_string()),
        "the token lacks a required claim",
    )
    .await;
}

#[tokio::test]
async fn id_tokens_are_not_access_tokens() {
    let env = setup().await;
    let now = now();
    // An OpenID Connect ID token of the same issuer: typ JWT, aud = the client, nonce, azp.
    let id_claims = json!({"iss": env.server.issuer(), "sub": "alice", "aud": "demo-client",
        "azp": "demo-client", "nonce": "n-0S6_WzA2Mj", "iat": now, "exp": now + 300,
        "auth_time": now});
    for typ in [json!("JWT"), json!("jwt"), json!(null), json!(["at+jwt"])] {
        let head = json!({"alg": "RS256", "typ": typ, "kid": env.rsa});
        let token = env.sign(&env.rsa, &head, &id_claims.to_string());
        assert_invalid(&env.url, &token, WRONG_TYPE).await;
    }
    for typ in [
        "at+jwt ",
        "at+jwt;x",
        "application/at+jwt+x",
        "at-jwt",
        "application/jwt",
    ] {
        let head = json!({"alg": "RS256", "typ": typ, "kid": env.rsa});
        let token = env.sign(&env.rsa, &head, &env.claims().to_string());
        assert_invalid(&env.url, &token, WRONG_TYPE).await;
    }
    // With the typ check off, the audience still keeps the ID token out.
    let url = jwt_api(env.server.issuer(), |b| b.require_typ(false)).await;
    let head = json!({"alg": "RS256", "typ": "JWT", "kid": env.rsa});
    let token = env.sign(&env.rsa, &head, &id_claims.to_string());
    assert_invalid(&url, &token, WRONG_AUDIENCE).await;
}

#[tokio::test]
async fn leeway_edges() {
    let env = setup().await;
    let leeway = Duration::from_secs(60);
    let url = jwt_api(env.server.issuer(), |b| b.leeway(leeway)).await;
    let now = now();
    let l = leeway.as_secs();
    // Five seconds either side of the edge: enough margin for a slow test machine.
    let cases: [(&str, u64, Option<&str>); 6] = [
        ("exp", now - l + 5, None),
        ("exp", now - l - 5, Some(EXPIRED)),
        ("nbf", now + l - 5, None),
        ("nbf", now + l + 5, Some("the token is not valid yet")),
        ("iat", now + l - 5, None),
        (
            "iat",
            now + l + 5,
            Some("the token was issued in the future"),
        ),
    ];
    for (name, value, verdict) in cases {
        let mut claims = env.claims();
        claims["iat"] = json!(now - 600);
        claims[name] = json!(value);
        let token = env.rs256(&claims.to_string());
        match verdict {
            None => assert_eq!(call(&url, &token).await.0, 200, "{name} inside"),
            Some(d) => assert_invalid(&url, &token, d).await,
        }
    }
    // Without leeway, a token expired five seconds ago is expired.
    let strict_url = jwt_api(env.server.issuer(), |b| b.leeway(Duration::ZERO)).await;
    let token = env.rs256_with("exp", json!(now - 5));
    assert_invalid(&strict_url, &token, EXPIRED).await;
}

#[tokio::test]
async fn huge_cache_lifetimes_from_the_issuer_do_not_panic() {
    // A "never refresh" configuration meets `Cache-Control: max-age=u64::MAX` from the issuer
    // (and a failing issuer meets an endless cooldown): `Instant` arithmetic must not
    // overflow, or the request would die with a panic instead of an answer.
    let server = TestServer::start().await;
    server.set_jwks_max_age(Some(u64::MAX));
    let forever = bearer_guard::jwks::JwksConfig::default()
        .min_refresh(Duration::MAX)
        .max_refresh(Duration::MAX)
        .cooldown(Duration::MAX)
        .max_stale(Duration::MAX);
    let url = jwt_api(server.issuer(), |b| b.jwks_config(forever)).await;
    assert_eq!(call(&url, &server.mint().sign()).await.0, 200);

    let down = TestServer::start().await;
    down.set_fault(
        bearer_guard_testkit::Endpoint::Jwks,
        bearer_guard_testkit::Fault::Unavailable,
    );
    let url = jwt_api(down.issuer(), |b| b.jwks_config(forever)).await;
    assert_eq!(call(&url, &down.mint().sign()).await.0, 503);
}

#[tokio::test]
async fn rsa_exponent_one_forgeries_meet_no_key() {
    // With e = 1, RSA "verification" computes s^1 mod n = s: the EMSA-PKCS1-v1_5 encoding of a
    // token's hash is a valid RS256 signature that anyone can compute, without any private
    // key. A JWKS publishing such a key (a broken issuer, or an attacker who can add a member)
    // must not make tokens forgeable: the key is skipped when the set is parsed, whatever
    // the backend would say.
    let env = setup().await;
    let n = env.jwk(&env.rsa).await["n"].as_str().unwrap().to_owned();
    let doc = json!({"keys": [{"kty": "RSA", "kid": "e1", "alg": "RS256", "n": n, "e": "AQ"}]})
        .to_string();
    let input = format!(
        "{}.{}",
        b64(header("RS256", "e1").to_string()),
        b64(env.claims().to_string())
    );
    let digest_info = hex("3031300d060960864801650304020105000420");
    let digest = Sha256::digest(input.as_bytes());
    let k = unb64(&n).len();
    let mut em = vec![0x00, 0x01];
    em.resize(k - 1 - digest_info.len() - digest.len(), 0xff);
    em.push(0x00);
    em.extend_from_slice(&digest_info);
    em.extend_from_slice(&digest);
    assert_eq!(em.len(), k);
    let forged = format!("{input}.{}", b64(&em));

    let mut backends = Vec::new();
    #[cfg(feature = "aws_lc_rs")]
    backends.push(Backend::AwsLc);
    #[cfg(feature = "rust_crypto")]
    backends.push(Backend::RustCrypto);
    for backend in backends {
        let set = KeySet::from_json(doc.as_bytes()).unwrap();
        assert_eq!((set.len(), set.skipped()), (0, 1));
        let url = jwt_api(env.server.issuer(), |b| b.key_set(set).backend(backend)).await;
        assert_invalid(&url, &forged, UNKNOWN_KEY).await;
    }
}
