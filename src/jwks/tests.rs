use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::Algorithm;

use super::cache::{later, max_age, MAX_LIFETIME};
use super::roca::tests::{hex, NOT_ROCA_MOD04, ROCA_MOD03};
use super::{JwksConfig, KeySet, Lookup};

#[test]
fn cache_control() {
    assert_eq!(
        max_age("public, max-age=600"),
        Some(Duration::from_secs(600))
    );
    assert_eq!(max_age("max-age=\"60\""), Some(Duration::from_secs(60)));
    assert_eq!(max_age("no-store"), Some(Duration::ZERO));
    assert_eq!(max_age("public"), None);
    assert_eq!(max_age("max-age=-1"), None);
    let c = JwksConfig::default();
    assert_eq!(c.lifetime(Some(Duration::ZERO)), Duration::from_secs(300));
    assert_eq!(
        c.lifetime(Some(Duration::from_secs(1 << 40))),
        Duration::from_secs(86400)
    );
    assert_eq!(
        c.lifetime(Some(Duration::from_secs(3600))),
        Duration::from_secs(3600)
    );
}

#[test]
fn lifetimes_never_overflow_instant() {
    let now = Instant::now();
    assert_eq!(later(now, Duration::MAX), now + MAX_LIFETIME);
    assert_eq!(
        later(now, Duration::from_secs(60)),
        now + Duration::from_secs(60)
    );
    let c = JwksConfig::default().max_refresh(Duration::MAX);
    let huge = max_age("max-age=18446744073709551615");
    assert_eq!(later(now, c.lifetime(huge)), now + MAX_LIFETIME);
    // max_stale is added to such a refresh time, capped the same way.
    let c = c.max_stale(Duration::MAX);
    let fresh_until = later(now, c.lifetime(huge));
    assert_eq!(
        later(fresh_until, c.max_stale),
        now + MAX_LIFETIME + MAX_LIFETIME
    );
}

#[test]
fn key_constraints() {
    let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let doc = format!(
        r#"{{"keys":[
        {{"kty":"OKP","crv":"Ed25519","kid":"sig","x":"{x}"}},
        {{"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":"{x}"}},
        {{"kty":"OKP","crv":"Ed25519","kid":"ops","key_ops":["sign"],"x":"{x}"}},
        {{"kty":"OKP","crv":"Ed25519","kid":"rs","alg":"RS256","x":"{x}"}},
        {{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}},
        {{"kty":"OKP","crv":"Ed25519","kid":"short","x":"AAAA"}}
    ]}}"#
    );
    let set = KeySet::from_json(doc.as_bytes()).unwrap();
    assert_eq!(set.len(), 4);
    assert_eq!(set.skipped(), 2);
    assert!(matches!(
        set.lookup(Some("sig"), Algorithm::EdDSA),
        Lookup::Found(_)
    ));
    assert!(matches!(
        set.lookup(Some("sig"), Algorithm::RS256),
        Lookup::Mismatch
    ));
    assert!(matches!(
        set.lookup(Some("enc"), Algorithm::EdDSA),
        Lookup::Mismatch
    ));
    assert!(matches!(
        set.lookup(Some("ops"), Algorithm::EdDSA),
        Lookup::Mismatch
    ));
    assert!(matches!(
        set.lookup(Some("rs"), Algorithm::EdDSA),
        Lookup::Mismatch
    ));
    assert!(matches!(
        set.lookup(Some("hmac"), Algorithm::HS256),
        Lookup::Unknown
    ));
    assert!(matches!(
        set.lookup(Some("nope"), Algorithm::EdDSA),
        Lookup::Unknown
    ));
    assert!(KeySet::from_json(b"[]").is_err());
}

/// The RSA key of RFC 7517 Appendix A.1 (2048 bits, e = 65537).
const RFC7517_N: &str = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn rsa_jwk(kid: &str, n: &[u8], e: &[u8]) -> String {
    format!(
        r#"{{"kty":"RSA","kid":"{kid}","alg":"RS256","n":"{}","e":"{}"}}"#,
        b64(n),
        b64(e)
    )
}

fn ec_jwk(kid: &str, crv: &str, x: &[u8], y: &[u8]) -> String {
    format!(
        r#"{{"kty":"EC","kid":"{kid}","crv":"{crv}","x":"{}","y":"{}"}}"#,
        b64(x),
        b64(y)
    )
}

/// Parses a key set of the one `jwk`; whether it was kept (else it must count as skipped).
fn kept(jwk: &str) -> bool {
    let set = KeySet::from_json(format!(r#"{{"keys":[{jwk}]}}"#).as_bytes()).unwrap();
    assert_eq!(set.len() + set.skipped(), 1);
    set.len() == 1
}

#[test]
fn weak_rsa_keys_are_skipped() {
    let n = URL_SAFE_NO_PAD.decode(RFC7517_N).unwrap();
    let mut even = n.clone();
    *even.last_mut().unwrap() &= 0xfe;
    let mut bits_2047 = n.clone();
    bits_2047[0] = 0x7f;
    let bits_2040 = [&[0u8][..], &n[1..]].concat();
    let bits_2040_long = [&[0u8, 0, 0][..], &n[1..]].concat();
    let zero_prefixed = [&[0u8][..], &n[..]].concat();
    let roca = hex(ROCA_MOD03);
    let near_roca = hex(NOT_ROCA_MOD04);
    let f4: &[u8] = &[1, 0, 1];
    let cases: [(&str, &[u8], &[u8], bool); 17] = [
        ("valid", &n, f4, true),
        ("e=3", &n, &[3], true),
        ("e=2^33-1", &n, &[1, 255, 255, 255, 255], true),
        ("e=65537 with leading zeros", &n, &[0, 0, 1, 0, 1], true),
        ("n with a leading zero octet", &zero_prefixed, f4, true),
        ("n on 30 of the 38 ROCA primes", &near_roca, f4, true),
        ("e=1", &n, &[1], false),
        ("e=0", &n, &[0], false),
        ("e=2", &n, &[2], false),
        ("e=65536", &n, &[1, 0, 0], false),
        ("e=2^33+1", &n, &[2, 0, 0, 0, 1], false),
        ("e of 9 octets", &n, &[1, 0, 0, 0, 0, 0, 0, 0, 1], false),
        ("even n", &even, f4, false),
        ("2047-bit n", &bits_2047, f4, false),
        ("2040-bit n in 256 octets", &bits_2040, f4, false),
        ("2040-bit n in 258 octets", &bits_2040_long, f4, false),
        ("ROCA n", &roca, f4, false),
    ];
    for (what, n, e, keep) in cases {
        assert_eq!(kept(&rsa_jwk("k", n, e)), keep, "{what}");
    }
}

#[test]
fn ec_points_off_their_curve_are_skipped() {
    use aws_lc_rs::signature::{
        EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING,
        ECDSA_P384_SHA384_FIXED_SIGNING,
    };
    // The P-256 key of RFC 7517 Appendix A.1, and fresh P-256 and P-384 keys.
    let rfc_x = URL_SAFE_NO_PAD
        .decode("MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4")
        .unwrap();
    let rfc_y = URL_SAFE_NO_PAD
        .decode("4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM")
        .unwrap();
    let mut points = vec![("P-256", rfc_x, rfc_y)];
    for (crv, alg, size) in [
        ("P-256", &ECDSA_P256_SHA256_FIXED_SIGNING, 32),
        ("P-384", &ECDSA_P384_SHA384_FIXED_SIGNING, 48),
    ] {
        let pair = EcdsaKeyPair::generate(alg).unwrap();
        let point = pair.public_key().as_ref();
        assert_eq!((point.len(), point[0]), (1 + 2 * size, 4));
        let (x, y) = point[1..].split_at(size);
        points.push((crv, x.to_vec(), y.to_vec()));
    }
    for (crv, x, y) in points {
        assert!(kept(&ec_jwk("k", crv, &x, &y)), "{crv}: valid point");
        let mut bad_y = y.clone();
        *bad_y.last_mut().unwrap() ^= 1;
        assert!(!kept(&ec_jwk("k", crv, &x, &bad_y)), "{crv}: y changed");
        let mut bad_x = x.clone();
        bad_x[0] ^= 0x80;
        assert!(!kept(&ec_jwk("k", crv, &bad_x, &y)), "{crv}: x changed");
        let ones = vec![0xff; x.len()];
        assert!(!kept(&ec_jwk("k", crv, &ones, &y)), "{crv}: x >= p");
        let zero = vec![0; x.len()];
        assert!(!kept(&ec_jwk("k", crv, &zero, &zero)), "{crv}: (0, 0)");
    }
}

#[test]
fn weak_keys_are_named_by_kid_in_one_warning() {
    use std::io::Write;
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    let n = URL_SAFE_NO_PAD.decode(RFC7517_N).unwrap();
    let roca = hex(ROCA_MOD03);
    let doc = format!(
        r#"{{"keys":[{},{},{},{{"kty":"XYZ","kid":"future"}}]}}"#,
        rsa_jwk("good", &n, &[1, 0, 1]),
        rsa_jwk("exponent-one", &n, &[1]),
        rsa_jwk("roca-key", &roca, &[1, 0, 1]),
    );
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let set = tracing::subscriber::with_default(subscriber, || {
        KeySet::from_json(doc.as_bytes()).unwrap()
    });
    assert_eq!((set.len(), set.skipped()), (1, 3));
    let logs = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 1, "{logs}");
    let line = lines[0];
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("weak or invalid keys skipped"), "{line}");
    assert!(line.contains("count=2"), "{line}");
    assert!(
        line.contains(r#""exponent-one": RSA exponent under 3"#),
        "{line}"
    );
    assert!(
        line.contains(r#""roca-key": RSA modulus with the ROCA"#),
        "{line}"
    );
    assert!(!line.contains("good") && !line.contains("future"), "{line}");
    // No key material: neither modulus appears, in base64url or hex.
    for material in [b64(&n), b64(&roca), ROCA_MOD03.into()] {
        assert!(!line.contains(&material[..16]), "{line}");
    }
}

#[test]
fn a_jwk_alg_of_ed25519_fits_eddsa_tokens() {
    // RFC 9864 names EdDSA with Ed25519 `Ed25519`; both names are one algorithm here.
    let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let doc = format!(
        r#"{{"keys":[
        {{"kty":"OKP","crv":"Ed25519","kid":"new","alg":"Ed25519","x":"{x}"}},
        {{"kty":"OKP","crv":"Ed25519","kid":"old","alg":"EdDSA","x":"{x}"}},
        {{"kty":"OKP","crv":"Ed25519","kid":"448","alg":"Ed448","x":"{x}"}}
    ]}}"#
    );
    let set = KeySet::from_json(doc.as_bytes()).unwrap();
    for kid in ["new", "old"] {
        assert!(matches!(
            set.lookup(Some(kid), Algorithm::EdDSA),
            Lookup::Found(_)
        ));
    }
    assert!(matches!(
        set.lookup(Some("448"), Algorithm::EdDSA),
        Lookup::Mismatch
    ));
}

#[test]
fn a_refreshed_set_takes_over_unchanged_keys_and_retires_the_others() {
    let x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    let rsa = rsa_jwk(
        "rsa",
        &URL_SAFE_NO_PAD.decode(RFC7517_N).unwrap(),
        &[1, 0, 1],
    );
    let okp = |kid: &str, alg: &str| {
        format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"{kid}","alg":"{alg}","x":"{x}"}}"#)
    };
    let set = |members: &[String]| {
        KeySet::from_json(format!(r#"{{"keys":[{}]}}"#, members.join(",")).as_bytes()).unwrap()
    };
    let found = |set: &KeySet, kid: &str, alg: Algorithm| match set.lookup(Some(kid), alg) {
        Lookup::Found(key) => key,
        _ => panic!("{kid} not found"),
    };
    let old = set(&[rsa.clone(), okp("ed", "EdDSA"), okp("gone", "EdDSA")]);
    let (old_rsa, old_ed, gone) = (
        found(&old, "rsa", Algorithm::RS256),
        found(&old, "ed", Algorithm::EdDSA),
        found(&old, "gone", Algorithm::EdDSA),
    );
    // "rsa" is unchanged; "ed" keeps its kid but its JWK changed; "gone" is gone.
    let mut new = set(&[rsa, okp("ed", "Ed25519")]);
    new.succeed(&old);
    let new_rsa = found(&new, "rsa", Algorithm::RS256);
    assert!(
        Arc::ptr_eq(&new_rsa, &old_rsa),
        "an unchanged key is taken over"
    );
    assert!(!old_rsa.is_retired());
    let new_ed = found(&new, "ed", Algorithm::EdDSA);
    assert!(!Arc::ptr_eq(&new_ed, &old_ed));
    assert!(
        old_ed.is_retired(),
        "a changed JWK under the same kid is another key"
    );
    assert!(gone.is_retired());
    assert!(!new_ed.is_retired());
    // An empty set retires everything.
    let mut empty = set(&[]);
    empty.succeed(&new);
    assert!(new_rsa.is_retired() && new_ed.is_retired());
}

/// The eight points of small order (the identity, one of order 2, two of order 4, four of
/// order 8) in their canonical encodings: libsodium's and ed25519-dalek's blacklist with both
/// signs of x.
const SMALL_ORDER_CANONICAL: [&str; 8] = [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
];

/// Non-canonical encodings of small-order points: x = 0 with the sign bit set (identity,
/// order 2), and y = p (0) and y = p + 1 (1) with either sign.
const SMALL_ORDER_NON_CANONICAL: [&str; 6] = [
    "0100000000000000000000000000000000000000000000000000000000000080",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// The Ed25519 key of RFC 8037 Appendix A.2.
const RFC8037_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

fn okp_jwk(kid: &str, x: &str) -> String {
    format!(r#"{{"kty":"OKP","crv":"Ed25519","kid":"{kid}","x":"{x}"}}"#)
}

#[test]
fn small_order_ed25519_keys_are_skipped() {
    assert!(kept(&okp_jwk("k", RFC8037_X)), "valid key");
    for point in SMALL_ORDER_CANONICAL
        .iter()
        .chain(&SMALL_ORDER_NON_CANONICAL)
    {
        assert!(!kept(&okp_jwk("k", &b64(&hex(point)))), "{point}");
    }
    // One set: only the valid key is kept, every small-order point counts as skipped.
    let members: Vec<String> = SMALL_ORDER_CANONICAL
        .iter()
        .enumerate()
        .map(|(i, point)| okp_jwk(&format!("weak{i}"), &b64(&hex(point))))
        .chain([okp_jwk("good", RFC8037_X)])
        .collect();
    let doc = format!(r#"{{"keys":[{}]}}"#, members.join(","));
    let set = KeySet::from_json(doc.as_bytes()).unwrap();
    assert_eq!((set.len(), set.skipped()), (1, 8));
    // A DPoP proof's `jwk` goes through the same vetting, for every backend.
    for backend in backends() {
        for point in SMALL_ORDER_CANONICAL
            .iter()
            .chain(&SMALL_ORDER_NON_CANONICAL)
        {
            let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&hex(point))});
            assert!(
                super::parse_jwk(jwk, Algorithm::EdDSA, backend).is_none(),
                "{backend:?}: {point}"
            );
        }
        let jwk = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X});
        assert!(super::parse_jwk(jwk, Algorithm::EdDSA, backend).is_some());
    }
}

fn backends() -> Vec<crate::crypto::Backend> {
    vec![
        #[cfg(feature = "aws_lc_rs")]
        crate::crypto::Backend::AwsLc,
        #[cfg(feature = "rust_crypto")]
        crate::crypto::Backend::RustCrypto,
    ]
}

/// With a small-order key, the verification equation no longer depends on the message: for the
/// identity (in any encoding), `R` = identity and `S` = 0 "sign" anything, and both backends
/// accept such a signature. The token must be refused because the key never enters the set.
#[tokio::test]
async fn a_token_signed_for_a_small_order_key_is_refused() {
    use crate::error::TokenError;
    use crate::{AuthError, JwtValidator, Validator as _};
    let now = crate::jose::unix_now() as i64;
    let header = b64(br#"{"alg":"EdDSA","typ":"at+jwt","kid":"weak"}"#);
    let claims = serde_json::json!({
        "iss": "https://as.example", "aud": "api", "sub": "mallory",
        "client_id": "c", "jti": "j", "iat": now, "exp": now + 600,
    });
    let payload = b64(claims.to_string().as_bytes());
    // The identity: canonical, with the sign bit set, and as y = p + 1.
    let identities = [
        SMALL_ORDER_CANONICAL[0],
        SMALL_ORDER_NON_CANONICAL[0],
        SMALL_ORDER_NON_CANONICAL[4],
    ];
    for identity in identities {
        let key = hex(identity);
        let signature = [&hex(SMALL_ORDER_CANONICAL[0])[..], &[0u8; 32][..]].concat();
        let token = format!("{header}.{payload}.{}", b64(&signature));
        let doc = format!(r#"{{"keys":[{}]}}"#, okp_jwk("weak", &b64(&key)));
        for backend in backends() {
            let validator = JwtValidator::builder("https://as.example")
                .audience("api")
                .key_set(KeySet::from_json(doc.as_bytes()).unwrap())
                .backend(backend)
                .no_cache()
                .build()
                .await
                .unwrap();
            let outcome = validator.validate(&token).await;
            assert!(
                matches!(
                    outcome,
                    Err(AuthError::InvalidToken(TokenError::UnknownKey))
                ),
                "{backend:?}, {identity}: {outcome:?}"
            );
        }
    }
}
