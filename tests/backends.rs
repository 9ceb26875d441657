//! Both signature backends, each with keys parsed once, give the same verdict on the same
//! tokens: valid ones of every algorithm, and the usual tamperings (signature bit flips,
//! payload edits, truncation, a signature moved to another key, ECDSA's high-S twin).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard::{Backend, JwtValidator, KeySet, Validator};
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
            let a = aws.validate(&t).await;
            let r = rust.validate(&t).await;
            let alg = &header["alg"];
            assert_eq!(a.is_ok(), expected, "aws-lc, {alg} {name}: {:?}", a.err());
            assert_eq!(
                r.is_ok(),
                expected,
                "RustCrypto, {alg} {name}: {:?}",
                r.err()
            );
            assert_eq!(
                a.err().map(|e| e.to_string()),
                r.err().map(|e| e.to_string()),
                "{alg} {name}: same error from both"
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked}");
}
