//! JSON objects in JOSE: a header, a claim set, an introspection answer. Duplicate member
//! names are refused (RFC 7515 §5.2 allows refusing them; doing so means no two readers can
//! see different values).

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::error::TokenError;

/// Decodes a base64url segment holding a JSON object whose members are all distinct.
pub(crate) fn decode_object(segment: &str) -> Result<Map<String, Value>, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)?;
    parse_object(&bytes)
}

/// Parses a JSON object, refusing duplicate member names ([`TokenError::DuplicateMember`]);
/// anything else than a JSON object is [`TokenError::Malformed`].
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, TokenError> {
    match serde_json::from_slice::<UniqueObject>(bytes) {
        Ok(UniqueObject(map)) => Ok(map),
        Err(e) if e.to_string().starts_with(DUPLICATE) => Err(TokenError::DuplicateMember),
        Err(_) => Err(TokenError::Malformed),
    }
}

/// Whether a base64url segment decodes to a JSON object, duplicate members allowed: a test of
/// shape for routing only, never a parse whose result is used.
pub(super) fn is_object_segment(segment: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(segment)
        .ok()
        .is_some_and(|bytes| serde_json::from_slice::<Map<String, Value>>(&bytes).is_ok())
}

const DUPLICATE: &str = "duplicate member";

struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    match map.entry(k) {
                        Entry::Vacant(slot) => {
                            slot.insert(v);
                        }
                        Entry::Occupied(_) => return Err(serde::de::Error::custom(DUPLICATE)),
                    }
                }
                Ok(UniqueObject(map))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_members_are_refused() {
        assert_eq!(
            parse_object(br#"{"a":1,"a":2}"#),
            Err(TokenError::DuplicateMember)
        );
        assert!(parse_object(br#"{"a":{"b":1},"c":2}"#).is_ok());
        assert_eq!(parse_object(b"[1]"), Err(TokenError::Malformed));
        assert_eq!(parse_object(b"\xff"), Err(TokenError::Malformed));
    }
}
