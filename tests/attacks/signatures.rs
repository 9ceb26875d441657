//! Signatures and keys: stripped or forged signatures, HMAC keyed with a public key, embedded
//! keys, hostile or mismatched `kid`s.

use super::*;

#[tokio::test]
async fn stripped_signatures_and_empty_segments_are_malformed() {
    let env = setup().await;
    let token = env.server.mint().sign();
    let [h, p, _] = segments(&token);
    // Signature dropped altogether (two segments), and `alg: none` with the signature
    // stripped (tests/integration/jwt.rs only checks the status of the latter).
    assert_invalid(&env.url, &format!("{h}.{p}"), MALFORMED).await;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let none = b64(json!({"alg": alg, "typ": "at+jwt"}).to_string());
        assert_invalid(&env.url, &format!("{none}.{p}."), MALFORMED).await;
    }
    for bad in [
        format!(".{p}.AAAA"),
        format!("{h}..AAAA"),
        format!("{h}.{p}."),
        "..".to_owned(),
        "...".to_owned(),
        ".".to_owned(),
        format!("{h}.{p}.AAAA."),
    ] {
        assert_invalid(&env.url, &bad, MALFORMED).await;
    }
}

#[tokio::test]
async fn hs256_keyed_with_the_ec_public_key_is_refused() {
    let env = setup().await;
    let jwk = env.jwk(&env.ec).await;
    let x = unb64(jwk["x"].as_str().unwrap());
    let y = unb64(jwk["y"].as_str().unwrap());
    let point = [&[4u8][..], &x, &y].concat();
    let secrets: Vec<Vec<u8>> = vec![
        point.clone(),
        [x.clone(), y.clone()].concat(),
        jwk.to_string().into_bytes(),
        jwk["x"].as_str().unwrap().as_bytes().to_vec(),
    ];
    let claims = env.claims().to_string();
    let head = header("HS256", &env.ec).to_string();
    for secret in &secrets {
        let token = hs256(secret, head.as_bytes(), claims.as_bytes());
        assert_invalid(&env.url, &token, NOT_ALLOWED).await;
    }
    // Even where HS256 is allowed (with a secret of its own), a published key never becomes
    // the HMAC key: the EC kid is ignored and the configured secret does not match.
    let url = jwt_api(env.server.issuer(), |b| b.hmac_secret(HMAC_SECRET)).await;
    let genuine = hs256(HMAC_SECRET, head.as_bytes(), claims.as_bytes());
    assert_eq!(call(&url, &genuine).await.0, 200, "baseline");
    for secret in &secrets {
        let token = hs256(secret, head.as_bytes(), claims.as_bytes());
        assert_invalid(&url, &token, BAD_SIGNATURE).await;
    }
}

#[tokio::test]
async fn embedded_jwk_header_is_ignored() {
    // CVE-2018-0114: the token carries the attacker's public key in `jwk` and is signed with
    // the matching private key.
    let env = setup().await;
    let attacker = TestServer::start().await;
    let kid = attacker.active_kid();
    let jwk = jwks(&attacker).await["keys"][0].clone();
    let claims = env.claims().to_string();
    let own = attacker.sign_raw(
        &kid,
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": kid, "jwk": jwk}).to_string(),
        &claims,
    );
    assert_invalid(&env.url, &own, UNKNOWN_KEY).await;
    for head in [
        json!({"alg": "RS256", "typ": "at+jwt", "kid": env.rsa, "jwk": jwk}),
        // Without kid, the only RS256 key of the issuer is chosen, never the embedded one.
        json!({"alg": "RS256", "typ": "at+jwt", "jwk": jwk}),
    ] {
        let token = attacker.sign_raw(&kid, &head.to_string(), &claims);
        assert_invalid(&env.url, &token, BAD_SIGNATURE).await;
    }
    // The same header signed by the issuer does pass: it is the key, not `jwk`, that decides.
    let genuine = env.sign(
        &env.rsa,
        &json!({"alg": "RS256", "typ": "at+jwt", "kid": env.rsa, "jwk": jwk}),
        &claims,
    );
    assert_eq!(call(&env.url, &genuine).await.0, 200);
}

#[tokio::test]
async fn hostile_kid_values_are_unknown_keys() {
    let env = setup().await;
    let claims = env.claims().to_string();
    for kid in [
        "../../etc/passwd",
        "/dev/zero",
        "' OR 1=1 --",
        "\"; DROP TABLE keys; --",
        "\u{0}",
        "",
        "*",
        "RS256",
    ] {
        let token = env.sign(&env.rsa, &header("RS256", kid), &claims);
        assert_invalid(&env.url, &token, UNKNOWN_KEY).await;
    }
    // A kid just small enough for the token to fit the 8 KiB limit, and one just too big.
    let base = env.sign(&env.rsa, &header("RS256", ""), &claims).len();
    let fits = (8192 - base) * 3 / 4 - 3;
    let token = env.sign(&env.rsa, &header("RS256", &"k".repeat(fits)), &claims);
    assert!((8100..=8192).contains(&token.len()), "{}", token.len());
    assert_invalid(&env.url, &token, UNKNOWN_KEY).await;
    let token = env.sign(&env.rsa, &header("RS256", &"k".repeat(fits + 8)), &claims);
    assert!(token.len() > 8192);
    assert_invalid(&env.url, &token, "the token is too large").await;
    // A kid that is not a string.
    for kid in [
        json!(1),
        json!(null),
        json!([env.rsa]),
        json!({"kid": env.rsa}),
    ] {
        let head = json!({"alg": "RS256", "typ": "at+jwt", "kid": kid});
        assert_invalid(&env.url, &env.sign(&env.rsa, &head, &claims), MALFORMED).await;
    }
}

#[tokio::test]
async fn a_kid_of_another_key_type_does_not_fit() {
    let env = setup().await;
    let claims = env.claims().to_string();
    // Signed with the RSA key, naming the EC key: RSA must never be verified with an EC key.
    let token = env.sign(&env.rsa, &header("RS256", &env.ec), &claims);
    assert_invalid(&env.url, &token, KEY_MISMATCH).await;
    // EdDSA-signed, naming the RSA key.
    let token = env.sign(&env.ed, &header("EdDSA", &env.rsa), &claims);
    assert_invalid(&env.url, &token, KEY_MISMATCH).await;
    // ES256-signed, naming the Ed25519 key; PS256 (RSA family, other alg than the JWK's).
    let token = env.sign(&env.ec, &header("ES256", &env.ed), &claims);
    assert_invalid(&env.url, &token, KEY_MISMATCH).await;
    let token = env.sign(&env.rsa, &header("PS256", &env.rsa), &claims);
    assert_invalid(&env.url, &token, KEY_MISMATCH).await;
    // Baselines: each key verifies its own algorithm.
    for (alg, kid) in [("RS256", &env.rsa), ("ES256", &env.ec), ("EdDSA", &env.ed)] {
        let token = env.sign(kid, &header(alg, kid), &claims);
        assert_eq!(call(&env.url, &token).await.0, 200, "{alg}");
    }
}

#[tokio::test]
async fn forged_and_misencoded_signatures_are_refused() {
    let env = setup().await;
    let claims = env.claims().to_string();
    let es = env.sign(&env.ec, &header("ES256", &env.ec), &claims);
    assert_eq!(call(&env.url, &es).await.0, 200, "baseline ES256");
    let [h, p, s] = segments(&es);
    let raw = unb64(&s);
    assert_eq!(raw.len(), 64);
    // CVE-2022-21449 ("psychic signatures"): r = s = 0; and r = s = n, the group order.
    let n = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let mut bad: Vec<Vec<u8>> = vec![vec![0; 64], [n.clone(), n].concat()];
    // DER (what OpenSSL-style APIs produce) instead of the JOSE r || s form.
    bad.push(der_signature(&raw));
    // Wrong lengths: truncated, extended, halved, doubled.
    bad.push(raw[..63].to_vec());
    bad.push([&raw[..], &[0u8][..]].concat());
    bad.push([&[0u8][..], &raw[..]].concat());
    bad.push(raw[..32].to_vec());
    bad.push([raw.clone(), raw.clone()].concat());
    for sig in &bad {
        assert_invalid(&env.url, &assemble(&h, &p, sig), BAD_SIGNATURE).await;
    }

    let ed = env.sign(&env.ed, &header("EdDSA", &env.ed), &claims);
    assert_eq!(call(&env.url, &ed).await.0, 200, "baseline EdDSA");
    let [h, p, s] = segments(&ed);
    let raw = unb64(&s);
    for sig in [
        vec![0; 64],
        raw[..63].to_vec(),
        [&raw[..], &[0u8][..]].concat(),
        [raw.clone(), raw.clone()].concat(),
    ] {
        assert_invalid(&env.url, &assemble(&h, &p, &sig), BAD_SIGNATURE).await;
    }

    let rs = env.rs256(&claims);
    let [h, p, s] = segments(&rs);
    let raw = unb64(&s);
    assert_eq!(raw.len(), 256);
    for sig in [
        vec![0; 256],
        raw[..255].to_vec(),
        [&[0u8][..], &raw[..]].concat(),
        [&raw[..], &[0u8][..]].concat(),
        vec![0xff; 256],
    ] {
        assert_invalid(&env.url, &assemble(&h, &p, &sig), BAD_SIGNATURE).await;
    }
}
