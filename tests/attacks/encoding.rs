//! Encodings: duplicate members, segments that are not UTF-8 or JSON, JWE and nested JWTs,
//! `b64`/`crit`, non-canonical base64url.

use super::*;

#[tokio::test]
async fn duplicate_members_are_refused_in_header_and_claims() {
    let env = setup().await;
    let (iss, rsa) = (env.server.issuer().to_owned(), env.rsa.clone());
    let exp = now() + 300;
    let good = format!(r#""iss":"{iss}","aud":"api","sub":"alice","exp":{exp}"#);
    let claims = format!("{{{good}}}");
    let headers = [
        format!(r#"{{"alg":"RS256","alg":"none","typ":"at+jwt","kid":"{rsa}"}}"#),
        format!(r#"{{"alg":"none","alg":"RS256","typ":"at+jwt","kid":"{rsa}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{rsa}","kid":"other"}}"#),
        format!(r#"{{"alg":"RS256","typ":"JWT","typ":"at+jwt","kid":"{rsa}"}}"#),
        format!(r#"{{"alg":"RS256","typ":"at+jwt","kid":"{rsa}","crit":[],"crit":[]}}"#),
        // The same name spelled with an escape is the same member.
        format!(r#"{{"alg":"RS256","\u0061lg":"HS256","typ":"at+jwt","kid":"{rsa}"}}"#),
    ];
    for head in &headers {
        let token = env.server.sign_raw(&rsa, head, &claims);
        assert_invalid(&env.url, &token, DUPLICATE).await;
    }
    let evil = "https://evil.example";
    let bodies = [
        format!(r#"{{{good},"iss":"{evil}"}}"#),
        format!(r#"{{"iss":"{evil}",{good}}}"#),
        format!(r#"{{{good},"exp":1}}"#),
        format!(r#"{{"exp":1,{good}}}"#),
        format!(r#"{{{good},"exp":{exp}}}"#),
        format!(r#"{{{good},"aud":"other"}}"#),
        format!(r#"{{{good},"sub":"admin"}}"#),
        format!(r#"{{{good},"scope":"read","scope":"admin"}}"#),
        format!(r#"{{{good},"\u0069ss":"{evil}"}}"#),
        format!(r#"{{{good},"sub":"alice"}}"#),
    ];
    for body in &bodies {
        assert_invalid(&env.url, &env.rs256(body), DUPLICATE).await;
    }
    assert_eq!(call(&env.url, &env.rs256(&claims)).await.0, 200, "baseline");
}

#[tokio::test]
async fn non_utf8_and_non_json_segments_are_malformed() {
    let env = setup().await;
    let claims = env.claims().to_string();
    let p = b64(&claims);
    let sig = "AAAA";
    let nested = format!("{}1{}", "[".repeat(1000), "]".repeat(1000));
    let headers: Vec<Vec<u8>> = vec![
        b"\xff\xfe\x00{".to_vec(),
        b"{\"alg\":\"RS256\xff\",\"typ\":\"at+jwt\"}".to_vec(),
        b"not json".to_vec(),
        b"".to_vec(),
        b"[\"RS256\"]".to_vec(),
        b"\"RS256\"".to_vec(),
        b"null".to_vec(),
        b"{}".to_vec(),
        b"{\"alg\":null}".to_vec(),
        b"{\"alg\":[\"RS256\"]}".to_vec(),
        b"\xef\xbb\xbf{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}".to_vec(),
        b"{\"alg\":\"RS256\",\"typ\":\"at+jwt\"} trailing".to_vec(),
        b"{\"alg\":\"RS256\",\"typ\":\"at+jwt\"}{}".to_vec(),
        b"{\"alg\":\"RS256\",\"typ\":\"at+jwt\"".to_vec(),
        b"{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"x\":\"\\ud800\"}".to_vec(),
        format!("{{\"alg\":\"RS256\",\"typ\":\"at+jwt\",\"x\":{nested}}}").into_bytes(),
    ];
    for head in &headers {
        let token = format!("{}.{p}.{sig}", b64(head));
        assert_invalid(&env.url, &token, MALFORMED).await;
    }

    // Claims are read after the signature: sign them for real. Any text: with the RSA key.
    let head = header("RS256", &env.rsa);
    for body in [
        "not json".to_owned(),
        "[]".to_owned(),
        "null".to_owned(),
        "42".to_owned(),
        format!("{claims} trailing"),
        format!("{claims}{claims}"),
        claims.replace('}', r#","x":"\udc00"}"#),
        format!("{{\"x\":{nested}}}"),
    ] {
        assert_invalid(&env.url, &env.sign(&env.rsa, &head, &body), MALFORMED).await;
    }
    // Any bytes: with the HMAC-only API.
    let url = hmac_api(env.server.issuer()).await;
    let hs_head = json!({"alg": "HS256", "typ": "at+jwt"}).to_string();
    let genuine = hs256(HMAC_SECRET, hs_head.as_bytes(), claims.as_bytes());
    assert_eq!(call(&url, &genuine).await.0, 200, "baseline");
    for (from, to) in [
        (&b"alice"[..], &b"al\xe9ice"[..]), // Latin-1, not UTF-8
        (b"alice", b"al\xc3"),              // truncated sequence
        (b"alice", b"al\xc0\xafice"),       // overlong encoding of '/'
        (b"alice", b"al\xed\xa0\x80ice"),   // UTF-8-encoded surrogate
        (b"alice", b"al\x00ice"),           // raw control character in a string
        (b"alice", b"al\\ud800ice"),        // lone surrogate escape
    ] {
        let body = replace_bytes(claims.as_bytes(), from, to);
        let token = hs256(HMAC_SECRET, hs_head.as_bytes(), &body);
        assert_invalid(&url, &token, MALFORMED).await;
    }
    let token = hs256(HMAC_SECRET, hs_head.as_bytes(), b"\xff\xfe\xfd");
    assert_invalid(&url, &token, MALFORMED).await;
}

fn replace_bytes(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = haystack
        .windows(from.len())
        .position(|w| w == from)
        .unwrap();
    [&haystack[..at], to, &haystack[at + from.len()..]].concat()
}

#[tokio::test]
async fn jwe_and_nested_jwts_are_refused() {
    let env = setup().await;
    let inner = env.server.mint().sign();
    let [h, p, s] = segments(&inner);
    // JWE compact serialization: five segments.
    assert_invalid(&env.url, &format!("{h}.AAAA.AAAA.{p}.{s}"), ENCRYPTED).await;
    let jwe_head = b64(json!({"alg": "RSA-OAEP", "enc": "A256GCM", "typ": "at+jwt"}).to_string());
    assert_invalid(
        &env.url,
        &format!("{jwe_head}.AAAA.AAAA.AAAA.AAAA"),
        ENCRYPTED,
    )
    .await;
    // Four and six segments are neither JWS nor JWE.
    assert_invalid(&env.url, &format!("{h}.{p}.{s}.AAAA"), MALFORMED).await;
    assert_invalid(&env.url, &format!("{h}.{p}.{s}.AAAA.AAAA.AAAA"), MALFORMED).await;
    // A JWS header with `enc` claims to be a JWE.
    let head = json!({"alg": "RS256", "enc": "A256GCM", "typ": "at+jwt", "kid": env.rsa});
    let token = env.sign(&env.rsa, &head, &env.claims().to_string());
    assert_invalid(&env.url, &token, ENCRYPTED).await;
    // Nested JWT (RFC 7519 §5.2, `cty: JWT`): the payload is a whole token, signed by the
    // issuer. It is not a claim set, so nothing inside is trusted.
    let head = json!({"alg": "RS256", "typ": "at+jwt", "cty": "JWT", "kid": env.rsa});
    for payload in [inner.clone(), Value::String(inner.clone()).to_string()] {
        let token = env.sign(&env.rsa, &head, &payload);
        assert_invalid(&env.url, &token, MALFORMED).await;
    }
}

#[tokio::test]
async fn b64_false_and_crit_are_refused() {
    let env = setup().await;
    let claims = env.claims().to_string();
    let rsa = env.rsa.as_str();
    for head in [
        json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "b64": false, "crit": ["b64"]}),
        json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "b64": false}),
        json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "b64": "false"}),
        json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "b64": true, "crit": ["b64"]}),
        json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "crit": []}),
        json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "crit": ["exp"], "exp": 1}),
    ] {
        assert_invalid(&env.url, &env.sign(rsa, &head, &claims), CRITICAL).await;
    }
    // An unencoded payload (RFC 7797) signed over the raw claims: refused before any
    // signature check.
    let head = json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa, "b64": false, "crit": ["b64"]});
    let token = format!("{}.{}.AAAA", b64(head.to_string()), b64(&claims));
    assert_invalid(&env.url, &token, CRITICAL).await;
}

#[tokio::test]
async fn non_canonical_base64url_is_refused() {
    let env = setup().await;
    // A header member chosen so that its encoding contains `-` and `_` (`???` is `Pz8_` and
    // `>>>` is `Pj4-` when aligned; five in a row are aligned once).
    let head = json!({"alg": "RS256", "typ": "at+jwt", "kid": env.rsa, "x": "?????>>>>>"});
    let token = env.sign(&env.rsa, &head, &env.claims().to_string());
    assert_eq!(call(&env.url, &token).await.0, 200, "baseline");
    let [h, p, s] = segments(&token);
    assert!(h.contains('_') || h.contains('-'));
    // Standard alphabet (`+` and `/`) instead of the URL-safe one.
    let std_h = STANDARD_NO_PAD.encode(unb64(&h));
    let std_s = STANDARD_NO_PAD.encode(unb64(&s));
    assert_ne!(std_h, h);
    assert_invalid(&env.url, &format!("{std_h}.{p}.{s}"), MALFORMED).await;
    if std_s != s {
        assert_invalid(&env.url, &format!("{h}.{p}.{std_s}"), MALFORMED).await;
    }
    // Padding at the end passes the RFC 6750 b64token grammar but not base64url.
    assert_eq!(s.len() % 4, 2);
    assert_invalid(&env.url, &format!("{h}.{p}.{s}=="), MALFORMED).await;
    // Padding inside the token is not even a b64token: refused as a malformed request.
    let (status, challenge, _) = call(&env.url, &format!("{h}==.{p}.{s}")).await;
    assert_eq!(status, 400);
    assert!(challenge.contains("invalid_request"), "{challenge}");
    // Non-canonical trailing bits: the last character of a segment whose length is 2 or 3
    // mod 4 carries unused low bits; setting one decodes to the same bytes in a lenient
    // decoder, which would make signatures malleable.
    let tweak = |seg: &str| {
        assert!(matches!(seg.len() % 4, 2 | 3));
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let last = seg.as_bytes()[seg.len() - 1];
        let v = ALPHABET.iter().position(|&c| c == last).unwrap();
        let c = ALPHABET[v ^ 1] as char;
        format!("{}{c}", &seg[..seg.len() - 1])
    };
    assert_invalid(&env.url, &format!("{h}.{p}.{}", tweak(&s)), MALFORMED).await;
    if h.len() % 4 != 0 {
        assert_invalid(&env.url, &format!("{}.{p}.{s}", tweak(&h)), MALFORMED).await;
    }
    // The payload is decoded only after the signature verifies, so sign the misencoded
    // payload for real (HMAC-only API) to reach its decoding.
    let url = hmac_api(env.server.issuer()).await;
    let hs_head = b64(json!({"alg": "HS256", "typ": "at+jwt"}).to_string());
    let mut claims = env.claims();
    claims["x"] = json!("?????>>>>>");
    let mut tweaked = 0;
    for pad in 0..3 {
        claims["pad"] = json!("x".repeat(pad));
        let payload = b64(claims.to_string());
        let genuine = hs256_input(HMAC_SECRET, &format!("{hs_head}.{payload}"));
        assert_eq!(call(&url, &genuine).await.0, 200, "baseline");
        let std_payload = STANDARD_NO_PAD.encode(claims.to_string());
        assert_ne!(std_payload, payload);
        let token = hs256_input(HMAC_SECRET, &format!("{hs_head}.{std_payload}"));
        assert_invalid(&url, &token, MALFORMED).await;
        if payload.len() % 4 != 0 {
            let token = hs256_input(HMAC_SECRET, &format!("{hs_head}.{}", tweak(&payload)));
            assert_invalid(&url, &token, MALFORMED).await;
            tweaked += 1;
        }
    }
    assert!(tweaked >= 2);
}
