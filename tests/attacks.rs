//! Hostile tokens, each sent as a real request through `AuthLayer` over loopback to an API
//! protected by a `JwtValidator` that takes its keys from the bundled authorization server.
//! Every one must be refused with `401 invalid_token` and the exact description of the rule
//! that stops it (a few are refused earlier, by the RFC 6750 header grammar, with 400).
//!
//! Cases already covered by `tests/jwt.rs` (alg `none` spellings with a dummy signature,
//! tampered signature and claims, HS256 with the RSA key, `jku`/`x5u`, unknown `crit`, `iss`
//! with a trailing slash or upper case, `aud` as a number, `typ: JWT` with `nonce`, oversized
//! tokens) are not repeated here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use bearer_guard::{crypto::Backend, jwks::KeySet};
use bearer_guard_testkit::{KeyAlg, TestServer};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::jwt::{b64, hs256_input, segments, unb64};
use support::{assert_invalid, call, jwks, jwt_api, me_url, now};

const MALFORMED: &str = "the token is malformed";
const NOT_ALLOWED: &str = "the signing algorithm is not allowed";
const BAD_SIGNATURE: &str = "the signature is invalid";
const KEY_MISMATCH: &str = "the signing key does not fit the token";
const UNKNOWN_KEY: &str = "the signing key is unknown";
const DUPLICATE: &str = "the token has duplicate members";
const INVALID_CLAIM: &str = "the token has an invalid claim";
const CRITICAL: &str = "the token uses an unsupported critical extension";
const ENCRYPTED: &str = "encrypted tokens are not accepted";
const WRONG_TYPE: &str = "the token type is not an access token";
const WRONG_ISSUER: &str = "the token issuer is not accepted";
const WRONG_AUDIENCE: &str = "the token audience is not accepted";
const EXPIRED: &str = "the token has expired";

/// The shared secret of the HMAC-only API, used where raw bytes (not UTF-8) must be signed.
const HMAC_SECRET: &[u8] = b"attack-suite-hmac-secret-0123456789abcdef";

/// The victim: an authorization server with an RSA (active), an EC P-256 and an Ed25519 key,
/// and an API that trusts it.
struct Env {
    server: TestServer,
    url: String,
    rsa: String,
    ec: String,
    ed: String,
}

async fn setup() -> Env {
    let server = TestServer::start().await;
    let rsa = server.active_kid();
    let ec = server.add_key(KeyAlg::Es256);
    let ed = server.add_key(KeyAlg::EdDsa);
    let url = me_url(support::validator(&server).await).await;
    Env {
        server,
        url,
        rsa,
        ec,
        ed,
    }
}

impl Env {
    /// Signs exactly `header` and `claims` with key `kid` (the key's algorithm, whatever the
    /// header says).
    fn sign(&self, kid: &str, header: &Value, claims: &str) -> String {
        self.server.sign_raw(kid, &header.to_string(), claims)
    }

    /// Signs with the RSA key, header `{"alg":"RS256","typ":"at+jwt","kid":…}`.
    fn rs256(&self, claims: &str) -> String {
        self.sign(&self.rsa, &header("RS256", &self.rsa), claims)
    }

    /// Good claims as a JSON text, for editing.
    fn claims(&self) -> Value {
        let now = now();
        json!({"iss": self.server.issuer(), "aud": "api", "sub": "alice",
               "iat": now, "exp": now + 300, "scope": "read"})
    }

    /// Good claims with `name` set to `value`, signed with the RSA key.
    fn rs256_with(&self, name: &str, value: Value) -> String {
        let mut claims = self.claims();
        claims[name] = value;
        self.rs256(&claims.to_string())
    }

    /// The JWK the server publishes for `kid`.
    async fn jwk(&self, kid: &str) -> Value {
        jwks(&self.server).await["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid)
            .unwrap()
            .clone()
    }
}

fn header(alg: &str, kid: &str) -> Value {
    json!({"alg": alg, "typ": "at+jwt", "kid": kid})
}

/// `header.payload.signature` from raw parts (signature as bytes).
fn assemble(header: &str, payload: &str, signature: &[u8]) -> String {
    format!("{header}.{payload}.{}", b64(signature))
}

/// An API protected by a validator that only knows an HMAC secret, so that tests can sign
/// any bytes at all.
async fn hmac_api(issuer: &str) -> String {
    jwt_api(issuer, |b| {
        b.algorithms([bearer_guard::jwt::Algorithm::HS256])
            .hmac_secret(HMAC_SECRET)
    })
    .await
}

fn hs256(secret: &[u8], header: &[u8], claims: &[u8]) -> String {
    hs256_input(secret, &format!("{}.{}", b64(header), b64(claims)))
}

/// Converts a raw `r || s` ECDSA signature into ASN.1 DER (`SEQUENCE { INTEGER r, INTEGER s }`).
fn der_signature(raw: &[u8]) -> Vec<u8> {
    fn int(bytes: &[u8]) -> Vec<u8> {
        let start = bytes
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(bytes.len() - 1);
        let mut v = bytes[start..].to_vec();
        if v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02, v.len() as u8];
        out.extend(v);
        out
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[tokio::test]
async fn stripped_signatures_and_empty_segments_are_malformed() {
    let env = setup().await;
    let token = env.server.mint().sign();
    let [h, p, _] = segments(&token);
    // Signature dropped altogether (two segments), and `alg: none` with the signature
    // stripped (tests/jwt.rs only checks the status of the latter).
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

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

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
