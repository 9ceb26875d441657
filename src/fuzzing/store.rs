//! The `store` target: what the shared stores read back. Only the introspection cache reads
//! values back (sealed on Redis, then decoded); the DPoP replay set reads nothing back but the
//! answer of `SET NX`, so it has no encoding to fuzz.

use serde_json::Value;

use crate::introspection::{decode_entry, encode_entry};
use crate::jose::parse_object;
use crate::store::seal::Sealer;

/// The store secret of the [`store`] target.
const SECRET: &[u8] = b"bearer-guard-fuzzing-store-secret";
/// The Redis key the [`store`] target seals under, and another one.
const KEY: &str = "bearer-guard:introspection:00";
const OTHER_KEY: &str = "bearer-guard:introspection:01";

/// `store`: the input as a cached introspection outcome (read back from a shared store) and as
/// a sealed Redis value. A value decodes only when it is exactly what the encoder writes: one
/// JSON object without duplicate members, with either `claims` (an object: an acceptance, whose
/// claims are exactly that object) or `refused` (a known reason), never both, so that no value
/// turns a refusal into an acceptance; what decodes encodes back to the same outcome. A sealed
/// value opens only under its key and only untouched, and what opens is what was sealed.
pub fn store(data: &[u8]) {
    for scope_claim in [None, Some("scp")] {
        let Some(decoded) = decode_entry(data, scope_claim) else {
            continue;
        };
        let Ok(object) = parse_object(data) else {
            panic!("a value that is not one object without duplicate members decoded");
        };
        match &decoded {
            Ok(claims) => {
                assert!(
                    !object.contains_key("refused"),
                    "a refusal decoded as an acceptance"
                );
                assert_eq!(
                    object.get("claims"),
                    Some(&Value::Object(claims.as_map().clone())),
                    "the claims decoded are not the value's"
                );
            }
            Err(refused) => {
                assert!(
                    !object.contains_key("claims"),
                    "claims next to a refusal decoded"
                );
                assert_eq!(
                    object.get("refused"),
                    Some(&Value::String(format!("{refused:?}"))),
                    "another refusal decoded than the value's"
                );
            }
        }
        let Some(again) = encode_entry(&decoded).and_then(|v| decode_entry(&v, scope_claim)) else {
            panic!("a decoded outcome does not encode and decode again");
        };
        match (&decoded, &again) {
            (Ok(a), Ok(b)) => assert_eq!(a.as_map(), b.as_map(), "claims changed on the way"),
            (Err(a), Err(b)) => assert_eq!(a, b, "refusal changed on the way"),
            _ => panic!("an outcome changed kind on the way"),
        }
    }
    sealed(data);
}

/// What the shared cache makes of `data` read back: `Some(true)` an acceptance, `Some(false)`
/// a refusal, `None` a miss (the seeds' names say which).
pub fn store_outcome(data: &[u8]) -> Option<bool> {
    decode_entry(data, None).map(|outcome| outcome.is_ok())
}

/// The sealing of Redis values (HMAC-SHA256 over key and value, tag in front).
fn sealed(data: &[u8]) {
    let Some(sealer) = Sealer::new(SECRET) else {
        panic!("the fuzzing store secret is refused");
    };
    if let Some(value) = sealer.open(KEY, data) {
        assert_eq!(
            sealer.seal(KEY, &value),
            data,
            "opened a value not sealed here"
        );
    }
    let sealed = sealer.seal(KEY, data);
    assert_eq!(
        sealer.open(KEY, &sealed).as_deref(),
        Some(data),
        "a sealed value does not open"
    );
    assert_eq!(
        sealer.open(OTHER_KEY, &sealed),
        None,
        "opened under another key"
    );
    let mut tampered = sealed.clone();
    let at = data.first().map_or(0, |b| usize::from(*b)) % tampered.len();
    if let Some(byte) = tampered.get_mut(at) {
        *byte ^= 0x01;
    }
    assert_eq!(sealer.open(KEY, &tampered), None, "opened a tampered value");
    assert_eq!(
        sealer.open(KEY, sealed.get(..sealed.len() - 1).unwrap_or_default()),
        None,
        "opened a truncated value"
    );
}
