//! Claims, confirmation and scopes.

use serde_json::{Map, Value};

use super::*;
use serde_json::json;

fn map(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn scope_string_and_scp_array() {
    let s = Scopes::from_claims(&map(json!({"scope": "a b"})), None);
    assert!(s.contains_all(["a", "b"]));
    let s = Scopes::from_claims(&map(json!({"scp": ["a", "b"]})), None);
    assert!(s.contains_all(["a", "b"]));
    let s = Scopes::from_claims(&map(json!({"scp": "a b"})), None);
    assert!(s.contains_all(["a", "b"]));
    let s = Scopes::from_claims(&map(json!({"roles": ["x"], "scope": "a"})), Some("roles"));
    assert!(s.contains("x") && !s.contains("a"));
    let s = Scopes::from_claims(&map(json!({"scope": 5})), None);
    assert!(s.is_empty());
}

#[test]
fn audience_string_or_array() {
    let c = Claims::new(map(json!({"aud": "x"})));
    assert_eq!(c.audiences().collect::<Vec<_>>(), ["x"]);
    let c = Claims::new(map(json!({"aud": ["x", 3, "y"]})));
    assert_eq!(c.audiences().collect::<Vec<_>>(), ["x", "y"]);
}
