//! [`Claims`]: the verified claim set, shared behind an `Arc`, and lookup by name or JSON
//! Pointer.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::pointer::lookup;
use super::Scopes;

/// The verified claims of an access token: standard claims by accessor, every claim by name,
/// and the whole set as any `serde::Deserialize` type.
#[derive(Debug, Clone)]
pub struct Claims(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    map: Map<String, Value>,
    scopes: Scopes,
}

impl Claims {
    /// Wraps a claim set, reading scopes from `scope` (space-delimited string) or, when absent,
    /// `scp` (array or string).
    pub fn new(map: Map<String, Value>) -> Self {
        let scopes = Scopes::from_claims(&map, None);
        Claims(Arc::new(Inner { map, scopes }))
    }

    /// Like [`Claims::new`], reading scopes from the claim named `scope_claim` only.
    pub fn with_scope_claim(map: Map<String, Value>, scope_claim: &str) -> Self {
        let scopes = Scopes::from_claims(&map, Some(scope_claim));
        Claims(Arc::new(Inner { map, scopes }))
    }

    /// Builds claims from a JSON value, which must be an object.
    pub fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self::new(map)),
            _ => None,
        }
    }

    fn str_claim(&self, name: &str) -> Option<&str> {
        self.0.map.get(name).and_then(Value::as_str)
    }

    fn time_claim(&self, name: &str) -> Option<i64> {
        let v = self.0.map.get(name)?;
        v.as_i64().or_else(|| {
            v.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f.floor() as i64)
        })
    }

    /// `iss`: the issuer.
    pub fn issuer(&self) -> Option<&str> {
        self.str_claim("iss")
    }

    /// `sub`: the subject (the user, or the client for client-credentials tokens).
    pub fn subject(&self) -> Option<&str> {
        self.str_claim("sub")
    }

    /// `aud`: the audiences, whether the claim is a string or an array.
    pub fn audiences(&self) -> impl Iterator<Item = &str> {
        let (single, many) = match self.0.map.get("aud") {
            Some(Value::String(s)) => (Some(s.as_str()), None),
            Some(Value::Array(a)) => (None, Some(a.iter().filter_map(Value::as_str))),
            _ => (None, None),
        };
        single.into_iter().chain(many.into_iter().flatten())
    }

    /// `exp`: expiry, in seconds since the Unix epoch.
    pub fn expires_at(&self) -> Option<i64> {
        self.time_claim("exp")
    }

    /// `iat`: issue time, in seconds since the Unix epoch.
    pub fn issued_at(&self) -> Option<i64> {
        self.time_claim("iat")
    }

    /// `nbf`: not-before time, in seconds since the Unix epoch.
    pub fn not_before(&self) -> Option<i64> {
        self.time_claim("nbf")
    }

    /// `acr`: the authentication context class the user authenticated with (OpenID Connect,
    /// RFC 9470), e.g. `"urn:example:mfa"`.
    pub fn authentication_context(&self) -> Option<&str> {
        self.str_claim("acr")
    }

    /// `auth_time`: when the user last authenticated, in seconds since the Unix epoch
    /// (OpenID Connect, RFC 9470).
    pub fn auth_time(&self) -> Option<i64> {
        self.time_claim("auth_time")
    }

    /// `jti`: the token's unique identifier.
    pub fn jwt_id(&self) -> Option<&str> {
        self.str_claim("jti")
    }

    /// `client_id`: the OAuth client the token was issued to (RFC 9068, RFC 7662).
    pub fn client_id(&self) -> Option<&str> {
        self.str_claim("client_id")
    }

    /// The scopes granted by the token.
    pub fn scopes(&self) -> &Scopes {
        &self.0.scopes
    }

    /// One claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.map.get(name)
    }

    /// One claim by name, or a value nested in the claims by RFC 6901 JSON Pointer when
    /// `path` starts with `/` (e.g. Keycloak's `/realm_access/roles`; `~1` stands for `/` and
    /// `~0` for `~` inside a member name).
    ///
    /// ```
    /// use bearer_guard::Claims;
    /// use serde_json::json;
    /// let claims = Claims::from_value(json!({
    ///     "realm_access": {"roles": ["admin"]},
    ///     "resource_access": {"my-api": {"roles": ["reader"]}},
    ///     "https://example.com/tenant": "acme",
    /// })).unwrap();
    /// assert_eq!(claims.pointer("/realm_access/roles"), Some(&json!(["admin"])));
    /// assert_eq!(claims.pointer("/resource_access/my-api/roles/0"), Some(&json!("reader")));
    /// assert_eq!(claims.pointer("/https:~1~1example.com~1tenant"), Some(&json!("acme")));
    /// assert_eq!(claims.pointer("realm_access"), claims.get("realm_access"));
    /// assert_eq!(claims.pointer("/nothing/here"), None);
    /// ```
    pub fn pointer(&self, path: &str) -> Option<&Value> {
        lookup(&self.0.map, path)
    }

    /// The whole claim set.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0.map
    }

    /// The claim set as your own type.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.0.map)
    }
}

impl serde::Serialize for Claims {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.map.serialize(s)
    }
}
