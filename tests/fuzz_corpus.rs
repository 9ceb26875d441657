//! Replays every fuzz corpus and regression file (`fuzz/corpus/<target>/*`,
//! `fuzz/regressions/<target>/*`) through the same entry points the fuzz targets use, so that
//! a plain `cargo test` keeps every input the fuzzers found interesting passing.
//!
//! The seed tokens of the `jwt` target are signed with keys whose public halves are in
//! `src/fuzzing/jwks.json`; `regenerate_jwt_seeds` (ignored, needs `test-server`) makes new
//! ones of both.
#![cfg(feature = "fuzzing")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "test-server")]
mod support;

use std::path::{Path, PathBuf};

use bearer_guard::fuzzing;
use bearer_guard::AuthError;

type Entry = fn(&[u8]);

/// Every fuzz target, by the name of its corpus directory.
const TARGETS: [(&str, Entry); 7] = [
    ("bearer_header", fuzzing::bearer_header),
    ("jwt", fuzzing::jwt),
    ("jwt_claims", fuzzing::jwt_claims),
    ("jwks", fuzzing::jwks),
    ("discovery", fuzzing::discovery),
    ("scopes", fuzzing::scopes),
    ("introspection", fuzzing::introspection),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
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
#[cfg(feature = "test-server")]
#[tokio::test]
#[ignore = "rewrites checked-in files"]
async fn regenerate_jwt_seeds() {
    use bearer_guard::server::{KeyAlg, TestServer};
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
