//! The seeds of the targets of issue 24 (`jwt_differential`, `store`, `mtls`) decide as
//! their names say, so that the targets' invariants are not vacuous.

use bearer_guard::fuzzing;

use super::{files, fuzz_dir};

#[test]
fn jwt_differential_reference_decides_the_seeds_as_the_validator() {
    // Not vacuous: the reference (jsonwebtoken with the intended differences) accepts the
    // valid seeds and refuses the invalid ones, as the validator does.
    let dir = fuzz_dir().join("corpus").join("jwt_differential");
    let mut compared = 0;
    for file in files(&dir) {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with("claims-") {
            continue;
        }
        let token = std::fs::read_to_string(&file).unwrap();
        let expected = name.starts_with("valid-");
        assert_eq!(
            fuzzing::jwt_reference(token.trim()),
            Some(expected),
            "{name}"
        );
        compared += 1;
    }
    assert!(compared >= 8, "{compared} seeds compared");
}

#[test]
fn store_seeds_decode_as_their_names_say() {
    let dir = fuzz_dir().join("corpus").join("store");
    for file in files(&dir) {
        let name = file.file_name().unwrap().to_str().unwrap().to_owned();
        let outcome = fuzzing::store_outcome(&std::fs::read(&file).unwrap());
        let expected = match name.split('-').next() {
            Some("accept") => Some(true),
            Some("refuse") => Some(false),
            // Sealed values do not decode before they are opened.
            Some("miss" | "sealed") => None,
            _ => panic!("{name}: name it accept-, refuse-, miss- or sealed-"),
        };
        assert_eq!(outcome, expected, "{name}");
    }
}

#[test]
fn mtls_seeds_read_as_their_names_say() {
    let dir = fuzz_dir().join("corpus").join("mtls");
    let der = std::fs::read(dir.join("der-certificate")).unwrap();
    let thumbprint: [u8; 32] = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&der).into()
    };
    let read = |name: &str, xfcc: bool| {
        fuzzing::mtls_thumbprint(xfcc, &std::fs::read(dir.join(name)).unwrap())
    };
    // A PEM that needs no escaping (here: spaces for newlines) reads the same unescaped.
    for name in [
        "pem-escaped",
        "pem-escaped-lowercase-hex",
        "pem-raw-newlines-as-spaces",
    ] {
        assert_eq!(read(name, false), Ok(Some(thumbprint)), "{name}");
    }
    for name in ["xfcc-hash", "xfcc-hash-and-cert", "xfcc-cert-only"] {
        assert_eq!(read(name, true), Ok(Some(thumbprint)), "{name}");
    }
    for name in ["pem-two-blocks", "pem-bad-percent"] {
        assert!(read(name, false).is_err(), "{name}");
    }
    for name in [
        "xfcc-disagreeing-hash",
        "xfcc-two-elements",
        "xfcc-unknown-key",
        "xfcc-unterminated-quote",
    ] {
        assert!(read(name, true).is_err(), "{name}");
    }
    assert_eq!(read("empty", false), Ok(None));
    assert_eq!(read("empty", true), Ok(None));
}
