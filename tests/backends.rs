//! Both signature backends, each with keys parsed once, give the same verdict on the same
//! tokens: valid ones of every algorithm, and the usual tamperings (signature bit flips,
//! payload edits, truncation, a signature moved to another key, ECDSA's high-S twin).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard::{crypto::Backend, jwks::KeySet, JwtValidator, Validator};
use bearer_guard_testkit::{KeyAlg, TestServer};

/// The order of the P-256 group (for the high-S twin of an ES256 signature).
const P256_N: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn parts(token: &str) -> (String, Vec<u8>) {
    let (input, sig) = token.rsplit_once('.').unwrap();
    (input.to_owned(), URL_SAFE_NO_PAD.decode(sig).unwrap())
}

/// `n - s` for a 64-byte ECDSA P-256 signature `r || s`.
fn high_s(sig: &[u8]) -> Vec<u8> {
    let (r, s) = sig.split_at(32);
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(P256_N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = d.rem_euclid(256) as u8;
    }
    [r, &out].concat()
}

/// Named variants of `token` and whether each must be accepted.
fn variants(token: &str, other_key_token: &str) -> Vec<(String, String, bool)> {
    let (input, sig) = parts(token);
    let (header, payload) = input.split_once('.').unwrap();
    let mut v = vec![("valid".to_owned(), token.to_owned(), true)];
    for i in [0, sig.len() / 2, sig.len() - 1] {
        let mut s = sig.clone();
        s[i] ^= 0x01;
        v.push((
            format!("sig bit flip at {i}"),
            format!("{input}.{}", b64(&s)),
            false,
        ));
    }
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["sub"] = "mallory".into();
    v.push((
        "payload edited".into(),
        format!(
            "{header}.{}.{}",
            b64(claims.to_string().as_bytes()),
            b64(&sig)
        ),
        false,
    ));
    v.push((
        "signature truncated".into(),
        format!("{input}.{}", b64(&sig[..sig.len() - 1])),
        false,
    ));
    v.push(("signature empty".into(), format!("{input}."), false));
    let (_, other_sig) = parts(other_key_token);
    v.push((
        "another key's signature".into(),
        format!("{input}.{}", b64(&other_sig)),
        false,
    ));
    v
}

/// Both validators accept `token` (or both refuse it, with the same error), as `expected`.
async fn agree(aws: &JwtValidator, rust: &JwtValidator, what: &str, token: &str, expected: bool) {
    let a = aws.validate(token).await;
    let r = rust.validate(token).await;
    assert_eq!(a.is_ok(), expected, "aws-lc, {what}: {:?}", a.err());
    assert_eq!(r.is_ok(), expected, "RustCrypto, {what}: {:?}", r.err());
    assert_eq!(
        a.err().map(|e| e.to_string()),
        r.err().map(|e| e.to_string()),
        "{what}: same error from both"
    );
}

#[tokio::test]
async fn both_backends_agree_on_every_algorithm_and_tampering() {
    let server = TestServer::start().await;
    for alg in [KeyAlg::Ps256, KeyAlg::Es256, KeyAlg::EdDsa] {
        server.add_key(alg);
    }
    let jwks = reqwest::get(server.jwks_uri())
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let validator = |backend: Backend| {
        JwtValidator::builder(server.issuer())
            .audience(server.audience())
            .key_set(KeySet::from_json(&jwks).unwrap())
            .leeway(Duration::from_secs(5))
            .backend(backend)
            .no_cache()
            .build()
    };
    let aws = validator(Backend::AwsLc).await.unwrap();
    let rust = validator(Backend::RustCrypto).await.unwrap();

    let kids = server.kids();
    assert_eq!(kids.len(), 4, "RS256, PS256, ES256, EdDSA");
    let mut checked = 0;
    for (i, kid) in kids.iter().enumerate() {
        let token = server.mint().kid(kid).sign();
        let other = server.mint().kid(&kids[(i + 1) % kids.len()]).sign();
        let mut cases = variants(&token, &other);
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        if header["alg"] == "ES256" {
            let (input, sig) = parts(&token);
            // Both backends accept the high-S twin (neither enforces low-S, RFC 7518 does not
            // ask for it); what matters is that they agree.
            cases.push((
                "high-S twin".into(),
                format!("{input}.{}", b64(&high_s(&sig))),
                true,
            ));
        }
        for (name, t, expected) in cases {
            let what = format!("{} {name}", header["alg"]);
            agree(&aws, &rust, &what, &t, expected).await;
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}

/// Signs a signing input.
type Signer<'a> = Box<dyn Fn(&[u8]) -> Vec<u8> + 'a>;

/// A token with `header` members `alg` and `kid`, signed by `sign` over the signing input.
fn signed(alg: &str, kid: &str, sign: &dyn Fn(&[u8]) -> Vec<u8>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": kid});
    let claims = serde_json::json!({
        "iss": "https://as.example", "aud": "api", "sub": "alice", "iat": now, "exp": now + 600,
    });
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let sig = sign(input.as_bytes());
    format!("{input}.{}", b64(&sig))
}

#[tokio::test]
async fn both_backends_agree_on_the_other_algorithms_and_on_padded_rsa_members() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, KeyPair, RsaKeyPair};

    let rng = SystemRandom::new();
    let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let n = rsa
        .public_key()
        .modulus()
        .big_endian_without_leading_zero()
        .to_vec();
    let e = rsa
        .public_key()
        .exponent()
        .big_endian_without_leading_zero()
        .to_vec();
    let p384 = EcdsaKeyPair::generate(&sig::ECDSA_P384_SHA384_FIXED_SIGNING).unwrap();
    let point = p384.public_key().as_ref().to_vec(); // 0x04 || x || y
    let secret = [0x5a_u8; 64];
    // The same RSA key twice: once as published by most issuers, once with `n` and `e` carrying
    // a leading zero byte (allowed by neither RFC 7518 nor refused by real key sets).
    let padded = |bytes: &[u8]| b64(&[&[0u8][..], bytes].concat());
    let jwks = serde_json::json!({"keys": [
        {"kty": "RSA", "kid": "rsa", "n": b64(&n), "e": b64(&e)},
        {"kty": "RSA", "kid": "rsa-padded", "n": padded(&n), "e": padded(&e)},
        {"kty": "EC", "crv": "P-384", "kid": "p384", "x": b64(&point[1..49]), "y": b64(&point[49..])},
    ]})
    .to_string();
    let validator = |backend: Backend| {
        JwtValidator::builder("https://as.example")
            .audience("api")
            .algorithms(
                bearer_guard::jwt::DEFAULT_ALGORITHMS
                    .iter()
                    .copied()
                    .chain([
                        bearer_guard::jwt::Algorithm::HS256,
                        bearer_guard::jwt::Algorithm::HS384,
                        bearer_guard::jwt::Algorithm::HS512,
                    ]),
            )
            .key_set(KeySet::from_json(jwks.as_bytes()).unwrap())
            .hmac_secret(secret.to_vec())
            .backend(backend)
            .no_cache()
            .build()
    };
    let aws = validator(Backend::AwsLc).await.unwrap();
    let rust = validator(Backend::RustCrypto).await.unwrap();

    let rsa_sign = |padding: &'static dyn sig::RsaEncoding| {
        let rsa = &rsa;
        let rng = &rng;
        move |m: &[u8]| {
            let mut out = vec![0; rsa.public_modulus_len()];
            rsa.sign(padding, rng, m, &mut out).unwrap();
            out
        }
    };
    let hmac = |alg: aws_lc_rs::hmac::Algorithm| {
        move |m: &[u8]| {
            let key = aws_lc_rs::hmac::Key::new(alg, &secret);
            aws_lc_rs::hmac::sign(&key, m).as_ref().to_vec()
        }
    };
    let es384 = |m: &[u8]| p384.sign(&rng, m).unwrap().as_ref().to_vec();
    let cases: Vec<(&str, &str, Signer)> = vec![
        ("RS384", "rsa", Box::new(rsa_sign(&sig::RSA_PKCS1_SHA384))),
        ("RS512", "rsa", Box::new(rsa_sign(&sig::RSA_PKCS1_SHA512))),
        ("PS384", "rsa", Box::new(rsa_sign(&sig::RSA_PSS_SHA384))),
        ("PS512", "rsa", Box::new(rsa_sign(&sig::RSA_PSS_SHA512))),
        (
            "RS256",
            "rsa-padded",
            Box::new(rsa_sign(&sig::RSA_PKCS1_SHA256)),
        ),
        (
            "PS256",
            "rsa-padded",
            Box::new(rsa_sign(&sig::RSA_PSS_SHA256)),
        ),
        ("ES384", "p384", Box::new(es384)),
        (
            "HS256",
            "hmac",
            Box::new(hmac(aws_lc_rs::hmac::HMAC_SHA256)),
        ),
        (
            "HS384",
            "hmac",
            Box::new(hmac(aws_lc_rs::hmac::HMAC_SHA384)),
        ),
        (
            "HS512",
            "hmac",
            Box::new(hmac(aws_lc_rs::hmac::HMAC_SHA512)),
        ),
    ];
    for (alg, kid, sign) in &cases {
        let token = signed(alg, kid, sign.as_ref());
        let (input, mut s) = parts(&token);
        s[0] ^= 1;
        let flipped = format!("{input}.{}", b64(&s));
        for (name, t, expected) in [("valid", &token, true), ("bit flip", &flipped, false)] {
            agree(&aws, &rust, &format!("{alg} {name}"), t, expected).await;
        }
    }
}
