//! Replays every fuzz corpus and regression file (`fuzz/corpus/<target>/*`,
//! `fuzz/regressions/<target>/*`) through the same entry points the fuzz targets use, so that
//! a plain `cargo test` keeps every input the fuzzers found interesting passing.
//!
//! The seed tokens of the `jwt` target are signed with keys whose public halves are in
//! `src/fuzzing/jwks.json`; `regenerate_jwt_seeds` (ignored; signs with the test server of
//! `bearer-guard-testkit`) makes new ones of both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fuzz_corpus/issue24.rs"]
mod issue24;
mod support;

use std::path::{Path, PathBuf};

use bearer_guard::fuzzing;
use bearer_guard::{error::DpopError, AuthError};

type Entry = fn(&[u8]);

/// Every fuzz target, by the name of its corpus directory.
const TARGETS: [(&str, Entry); 12] = [
    ("bearer_header", fuzzing::bearer_header),
    ("jwt", fuzzing::jwt),
    ("jwt_claims", fuzzing::jwt_claims),
    ("jwks", fuzzing::jwks),
    ("discovery", fuzzing::discovery),
    ("scopes", fuzzing::scopes),
    ("introspection", fuzzing::introspection),
    ("dpop", fuzzing::dpop),
    ("jsonrpc", fuzzing::jsonrpc),
    ("mtls", fuzzing::mtls),
    ("store", fuzzing::store),
    ("jwt_differential", fuzzing::jwt_differential),
];

pub(crate) fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none if it does not exist.
pub(crate) fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn entry(target: &str) -> Entry {
    TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no fuzz entry point for directory {target:?}"))
        .1
}

/// Replays all files under `root/<target>/`; returns how many there were.
fn replay(root: &Path) -> usize {
    let mut count = 0;
    let Ok(dirs) = std::fs::read_dir(root) else {
        return 0;
    };
    for dir in dirs {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let target = dir.file_name().unwrap().to_str().unwrap().to_owned();
        let run = entry(&target);
        for file in files(&dir) {
            let data = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{target} panicked on {}", file.display());
            count += 1;
        }
    }
    count
}

#[test]
fn every_target_has_a_seed_corpus() {
    for (target, _) in TARGETS {
        let n = files(&fuzz_dir().join("corpus").join(target)).len();
        assert!(n >= 3, "fuzz/corpus/{target} has {n} files");
    }
}

#[test]
fn corpus_and_regressions_replay_without_panic() {
    assert!(replay(&fuzz_dir().join("corpus")) >= 15);
    replay(&fuzz_dir().join("regressions"));
}

#[test]
fn jwt_seeds_decide_as_their_names_say() {
    assert!(fuzzing::jwt_validator().is_some());
    let mut valid = 0;
    for file in files(&fuzz_dir().join("corpus").join("jwt")) {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let outcome = fuzzing::jwt_outcome(&std::fs::read(&file).unwrap());
        if name.starts_with("valid-") {
            assert!(matches!(outcome, Some(Ok(_))), "{name}: {outcome:?}");
            valid += 1;
        } else if name.starts_with("invalid-") {
            assert!(
                matches!(outcome, Some(Err(AuthError::InvalidToken(_)))),
                "{name}: {outcome:?}"
            );
        }
    }
    // One accepted seed per key type, so the fuzzer starts from the accepting path of each.
    assert!(valid >= 4, "{valid} valid seeds");
}

#[test]
fn jwt_claims_seeds_named_valid_are_accepted() {
    let mut valid = 0;
    for file in files(&fuzz_dir().join("corpus").join("jwt_claims")) {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let token = fuzzing::hs256_token(&std::fs::read(&file).unwrap());
        let outcome = fuzzing::jwt_outcome(token.as_bytes());
        assert_eq!(
            matches!(outcome, Some(Ok(_))),
            name.starts_with("valid"),
            "{name}: {outcome:?}"
        );
        valid += usize::from(name.starts_with("valid"));
    }
    assert!(valid >= 2);
}

/// Writes a new key set to `src/fuzzing/jwks.json` (and `fuzz/corpus/jwks/`) and the `jwt`
/// seed tokens signed with it. Run with
/// `cargo test --all-features --test fuzz_corpus -- --ignored regenerate_jwt_seeds`.
#[tokio::test]
#[ignore = "rewrites checked-in files"]
async fn regenerate_jwt_seeds() {
    use bearer_guard_testkit::{KeyAlg, TestServer};
    use serde_json::json;
    use support::jwt::{b64, hs256_input};

    let server = TestServer::start().await;
    let rsa = server.active_kid();
    let ec = server.add_key(KeyAlg::Es256);
    let ed = server.add_key(KeyAlg::EdDsa);
    let jwks = serde_json::to_string_pretty(&support::jwks(&server).await).unwrap() + "\n";
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(root.join("src/fuzzing/jwks.json"), &jwks).unwrap();
    std::fs::write(root.join("fuzz/corpus/jwks/issuer-jwks.json"), &jwks).unwrap();

    // Valid until 2100, so that the seeds stay on the accepting path.
    const EXP: u64 = 4_102_444_800;
    const IAT: u64 = 1_700_000_000;
    let good = |kid: &str| {
        server
            .mint()
            .issuer(fuzzing::ISSUER)
            .aud(fuzzing::AUDIENCE)
            .issued_at(IAT)
            .expires_at(EXP)
            .jti("seed")
            .kid(kid)
    };
    let claims = json!({"iss": fuzzing::ISSUER, "aud": fuzzing::AUDIENCE, "sub": "alice",
        "scope": "read write", "iat": IAT, "exp": EXP});
    let hs_input = format!(
        "{}.{}",
        b64(json!({"alg": "HS256", "typ": "at+jwt"}).to_string()),
        b64(claims.to_string())
    );
    let hs256 = hs256_input(fuzzing::HMAC_SECRET, &hs_input);
    let dup_claims = claims
        .to_string()
        .replacen('{', r#"{"iss":"https://evil.example","#, 1);
    let seeds = [
        ("valid-rs256", good(&rsa).sign()),
        ("valid-es256", good(&ec).sign()),
        ("valid-eddsa", good(&ed).sign()),
        ("valid-hs256", hs256),
        (
            "valid-scp-array",
            good(&rsa).claim("scp", json!(["a", "b"])).sign(),
        ),
        ("invalid-expired", good(&rsa).expires_at(IAT + 60).sign()),
        ("invalid-audience", good(&ec).aud("other").sign()),
        (
            "invalid-kid-mismatch",
            good(&ed).header("kid", json!(rsa)).sign(),
        ),
        (
            "invalid-duplicate-iss",
            server.sign_raw(
                &rsa,
                &json!({"alg": "RS256", "typ": "at+jwt", "kid": rsa}).to_string(),
                &dup_claims,
            ),
        ),
        (
            "invalid-alg-none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none","typ":"at+jwt"}"#),
                b64(claims.to_string())
            ),
        ),
    ];
    let dir = root.join("fuzz/corpus/jwt");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, token) in seeds {
        std::fs::write(dir.join(name), token).unwrap();
    }
}

/// What the `dpop` seeds must get from the target's two verifiers (without and with nonces):
/// `Ok` for an accepted proof, else the refusal. The `claims-*` seeds are checked as the
/// claims of a signed proof (the second way `fuzzing::dpop` uses its input), the others as the
/// `DPoP` header value.
const DPOP_SEEDS: [(&str, Option<DpopError>, Option<DpopError>); 16] = [
    ("es256", None, Some(DpopError::Missing)),
    ("eddsa", None, Some(DpopError::Missing)),
    ("nonce", None, None),
    ("nonce-number", None, Some(DpopError::Missing)),
    (
        "private-d",
        Some(DpopError::PrivateKey),
        Some(DpopError::PrivateKey),
    ),
    (
        "alg-none",
        Some(DpopError::Malformed),
        Some(DpopError::Malformed),
    ),
    (
        "hs256",
        Some(DpopError::AlgorithmNotAllowed),
        Some(DpopError::AlgorithmNotAllowed),
    ),
    (
        "bad-base64",
        Some(DpopError::Malformed),
        Some(DpopError::Malformed),
    ),
    (
        "two-segments",
        Some(DpopError::Malformed),
        Some(DpopError::Malformed),
    ),
    (
        "four-segments",
        Some(DpopError::Malformed),
        Some(DpopError::Malformed),
    ),
    (
        "duplicate-htm",
        Some(DpopError::Malformed),
        Some(DpopError::Malformed),
    ),
    (
        "huge-iat",
        Some(DpopError::MissingClaim),
        Some(DpopError::MissingClaim),
    ),
    (
        "huge-iat-integer",
        Some(DpopError::MissingClaim),
        Some(DpopError::MissingClaim),
    ),
    (
        "wrong-ath",
        Some(DpopError::WrongTokenHash),
        Some(DpopError::Missing),
    ),
    ("claims-valid.json", None, Some(DpopError::Missing)),
    ("claims-nonce.json", None, None),
];

/// Whether `outcome` is what `expected` says; `Some(Missing)` stands for any `UseNonce`.
fn dpop_matches(outcome: &Result<String, DpopError>, expected: Option<DpopError>) -> bool {
    match (outcome, expected) {
        (Ok(_), None) => true,
        (Err(DpopError::UseNonce(_)), Some(DpopError::Missing)) => true,
        (Err(e), Some(x)) => *e == x && x != DpopError::Missing,
        _ => false,
    }
}

#[test]
fn dpop_seeds_decide_as_the_table_says() {
    let dir = fuzz_dir().join("corpus").join("dpop");
    let names: Vec<String> = files(&dir)
        .iter()
        .map(|f| f.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), DPOP_SEEDS.len(), "{names:?}");
    for (name, plain, nonces) in DPOP_SEEDS {
        let data = std::fs::read(dir.join(name)).unwrap();
        let proof = if name.starts_with("claims-") {
            fuzzing::dpop_signed_proof(&data).into_bytes()
        } else {
            data
        };
        let (got_plain, got_nonces) = fuzzing::dpop_outcomes(&proof).unwrap();
        assert!(dpop_matches(&got_plain, plain), "{name}: {got_plain:?}");
        assert!(dpop_matches(&got_nonces, nonces), "{name}: {got_nonces:?}");
    }
}

/// Writes the `dpop` seeds, signed with the fixed keys of `bearer_guard::fuzzing`. Run with
/// `cargo test --all-features --test fuzz_corpus -- --ignored regenerate_dpop_seeds`.
#[test]
#[ignore = "rewrites checked-in files"]
fn regenerate_dpop_seeds() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use serde_json::{json, Value};
    use sha2::{Digest, Sha256};

    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let jwk = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    let es_header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk(fuzzing::DPOP_ES256_JWK)});
    let ed_header = json!({"typ": "dpop+jwt", "alg": "EdDSA", "jwk": jwk(fuzzing::DPOP_EDDSA_JWK)});
    let ath = b64(&Sha256::digest(fuzzing::DPOP_TOKEN.as_bytes()));
    let claims = |jti: &str| {
        json!({"jti": jti, "htm": fuzzing::DPOP_METHOD, "htu": fuzzing::DPOP_URI,
            "iat": fuzzing::DPOP_NOW, "ath": ath})
    };
    let sign = |es256: bool, header: &Value, claims: &Value| {
        fuzzing::dpop_sign(
            es256,
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
        )
    };
    // The nonce the verifier with nonces asks for at DPOP_NOW.
    let eddsa = sign(false, &ed_header, &claims("eddsa"));
    let Some((_, Err(DpopError::UseNonce(nonce)))) = fuzzing::dpop_outcomes(eddsa.as_bytes())
    else {
        panic!("no nonce asked for");
    };
    let with = |mut claims: Value, name: &str, value: Value| {
        claims[name] = value;
        claims
    };
    let mut private = es_header.clone();
    private["jwk"]["d"] = json!("INBHbo2moNk1u-nDmSDUTmObywRM6gG7jwO6bGrsmec");
    let unsigned = |header: &Value, claims: &Value, signature: &str| {
        format!(
            "{}.{}.{signature}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        )
    };
    let duplicate = claims("duplicate")
        .to_string()
        .replacen('{', r#"{"htm":"POST","#, 1);
    let nonce_claims = with(claims("claims-nonce"), "nonce", json!(nonce.as_str()));
    let seeds: [(&str, String); 16] = [
        ("es256", sign(true, &es_header, &claims("es256"))),
        ("eddsa", eddsa),
        (
            "nonce",
            sign(
                false,
                &ed_header,
                &with(claims("nonce"), "nonce", json!(nonce.as_str())),
            ),
        ),
        (
            "nonce-number",
            sign(
                false,
                &ed_header,
                &with(claims("nonce-number"), "nonce", json!(12345)),
            ),
        ),
        ("private-d", sign(true, &private, &claims("private-d"))),
        (
            "alg-none",
            unsigned(
                &json!({"typ": "dpop+jwt", "alg": "none", "jwk": jwk(fuzzing::DPOP_ES256_JWK)}),
                &claims("none"),
                "",
            ),
        ),
        (
            "hs256",
            unsigned(
                &json!({"typ": "dpop+jwt", "alg": "HS256", "jwk": jwk(fuzzing::DPOP_ES256_JWK)}),
                &claims("hs256"),
                &b64(&[7; 32]),
            ),
        ),
        (
            "bad-base64",
            "eyJ0eXAiOiJkcG9w*K2p3dCJ9.e30!.AAAA".to_owned(),
        ),
        (
            "two-segments",
            format!("{}.{}", b64(es_header.to_string().as_bytes()), b64(b"{}")),
        ),
        (
            "four-segments",
            format!("{}.e30.AAAA.AAAA", b64(es_header.to_string().as_bytes())),
        ),
        (
            "duplicate-htm",
            fuzzing::dpop_sign(
                false,
                ed_header.to_string().as_bytes(),
                duplicate.as_bytes(),
            ),
        ),
        (
            "huge-iat",
            sign(
                false,
                &ed_header,
                &with(claims("huge-iat"), "iat", json!(1e300)),
            ),
        ),
        (
            "huge-iat-integer",
            fuzzing::dpop_sign(
                false,
                ed_header.to_string().as_bytes(),
                claims("huge-iat-integer")
                    .to_string()
                    .replace(
                        &fuzzing::DPOP_NOW.to_string(),
                        "123456789012345678901234567890",
                    )
                    .as_bytes(),
            ),
        ),
        (
            "wrong-ath",
            sign(
                true,
                &es_header,
                &with(claims("wrong-ath"), "ath", json!(b64(&[0; 32]))),
            ),
        ),
        ("claims-valid.json", claims("claims-valid").to_string()),
        ("claims-nonce.json", nonce_claims.to_string()),
    ];
    let dir = fuzz_dir().join("corpus").join("dpop");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, seed) in seeds {
        std::fs::write(dir.join(name), seed).unwrap();
    }
}
