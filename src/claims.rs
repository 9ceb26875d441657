//! Verified claims and the scopes they grant.
//!
//! A validator puts one [`Claims`] into the request extensions. It is an `Arc` inside, so
//! cloning it (as extractors do) costs a reference count, not a copy of the claim map.
//!
//! ```
//! use bearer_guard::Claims;
//! use serde_json::json;
//!
//! let claims = Claims::from_value(json!({
//!     "iss": "https://issuer.example", "sub": "alice", "aud": ["api", "other"],
//!     "exp": 1900000000, "scope": "read write", "tenant": "acme"
//! })).unwrap();
//! assert_eq!(claims.subject(), Some("alice"));
//! assert!(claims.audiences().any(|a| a == "api"));
//! assert!(claims.scopes().contains("write"));
//!
//! #[derive(serde::Deserialize)]
//! struct Mine { sub: String, tenant: String }
//! let mine: Mine = claims.deserialize().unwrap();
//! assert_eq!(mine.tenant, "acme");
//! ```

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::TokenError;

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

    /// How the token is bound to its client (its `cnf` claim, RFC 7800): the confirmation
    /// methods this crate can check, `jkt` (DPoP, RFC 9449 §6) and `x5t#S256` (mutual TLS,
    /// RFC 8705 §3.1); both empty for a token without `cnf`. Fails closed: a `cnf` that is not
    /// a JSON object, or that holds any other confirmation method (`jwk`, `jku`, `kid`...), is
    /// [`TokenError::UnsupportedConfirmation`], since such a token may only be used by a client
    /// that proves possession of something this crate cannot check; a `jkt` or `x5t#S256`
    /// that is not a string is [`TokenError::InvalidClaim`].
    ///
    /// Which of these methods a layer accepts is its own choice: see
    /// [`AuthLayer::dpop`](crate::AuthLayer::dpop) and
    /// [`AuthLayer::mtls`](crate::AuthLayer::mtls).
    ///
    /// ```
    /// use bearer_guard::{Claims, TokenError};
    /// use serde_json::json;
    /// let bound = |cnf| Claims::from_value(json!({ "cnf": cnf })).unwrap();
    /// let cnf = bound(json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}));
    /// let cnf = cnf.confirmation().unwrap();
    /// assert_eq!(cnf.x5t_s256, Some("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"));
    /// assert_eq!(cnf.jkt, None);
    /// assert!(cnf.is_bound());
    /// assert_eq!(bound(json!({"jwk": {}})).confirmation(), Err(TokenError::UnsupportedConfirmation));
    /// assert_eq!(bound(json!({"x5t#S256": 1})).confirmation(), Err(TokenError::InvalidClaim));
    /// assert!(!Claims::from_value(json!({"sub": "a"})).unwrap().confirmation().unwrap().is_bound());
    /// ```
    pub fn confirmation(&self) -> Result<Confirmation<'_>, TokenError> {
        let mut confirmation = Confirmation::default();
        let Some(cnf) = self.0.map.get("cnf") else {
            return Ok(confirmation);
        };
        let Value::Object(methods) = cnf else {
            return Err(TokenError::UnsupportedConfirmation);
        };
        for (method, value) in methods {
            let slot = match method.as_str() {
                "jkt" => &mut confirmation.jkt,
                "x5t#S256" => &mut confirmation.x5t_s256,
                _ => return Err(TokenError::UnsupportedConfirmation),
            };
            match value {
                Value::String(s) => *slot = Some(s.as_str()),
                _ => return Err(TokenError::InvalidClaim),
            }
        }
        Ok(confirmation)
    }

    /// The JWK thumbprint the token is bound to (`cnf.jkt`, RFC 9449 §6), if it has a `cnf`
    /// claim at all. Fails closed like [`Claims::confirmation`], and also refuses a token
    /// bound to a client certificate (`x5t#S256`, RFC 8705) with
    /// [`TokenError::UnsupportedConfirmation`]: a caller that reads only `jkt` would let such
    /// a token through unchecked.
    ///
    /// ```
    /// use bearer_guard::{Claims, TokenError};
    /// use serde_json::json;
    /// let bound = |cnf| Claims::from_value(json!({ "cnf": cnf })).unwrap();
    /// assert_eq!(bound(json!({"jkt": "0ZcOCORZNYy"})).bound_jkt(), Ok(Some("0ZcOCORZNYy")));
    /// assert_eq!(
    ///     bound(json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"})).bound_jkt(),
    ///     Err(TokenError::UnsupportedConfirmation)
    /// );
    /// assert_eq!(Claims::from_value(json!({"sub": "a"})).unwrap().bound_jkt(), Ok(None));
    /// ```
    pub fn bound_jkt(&self) -> Result<Option<&str>, TokenError> {
        let confirmation = self.confirmation()?;
        if confirmation.x5t_s256.is_some() {
            return Err(TokenError::UnsupportedConfirmation);
        }
        Ok(confirmation.jkt)
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

/// The confirmation methods of a token's `cnf` claim (RFC 7800) that this crate can check;
/// read with [`Claims::confirmation`]. A token may carry both: a layer then requires both to
/// hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Confirmation<'a> {
    /// `jkt`: the RFC 7638 SHA-256 thumbprint of the client's DPoP key (RFC 9449 §6).
    pub jkt: Option<&'a str>,
    /// `x5t#S256`: the base64url SHA-256 of the DER client certificate the token must be
    /// presented with over mutual TLS (RFC 8705 §3.1).
    pub x5t_s256: Option<&'a str>,
}

impl Confirmation<'_> {
    /// Whether the token is bound at all (has `jkt` or `x5t#S256`).
    pub fn is_bound(&self) -> bool {
        self.jkt.is_some() || self.x5t_s256.is_some()
    }
}

/// A claim by name, or by RFC 6901 JSON Pointer when `path` starts with `/`.
pub(crate) fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let Some(pointer) = path.strip_prefix('/') else {
        return map.get(path);
    };
    let (first, rest) = match pointer.find('/') {
        Some(i) => (pointer.get(..i)?, pointer.get(i..)?),
        None => (pointer, ""),
    };
    let first = first.replace("~1", "/").replace("~0", "~");
    map.get(&first)?.pointer(rest)
}

/// A set of OAuth scopes (RFC 6749 §3.3).
///
/// ```
/// use bearer_guard::Scopes;
/// let s = Scopes::parse("read  write");
/// assert!(s.contains("read") && s.contains_all(["read", "write"]));
/// assert!(!s.contains_any(["admin"]));
/// assert_eq!(s.len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-delimited scope string; empty parts are skipped.
    pub fn parse(s: &str) -> Self {
        Self::from_strings(std::iter::once(s))
    }

    /// Scopes from space-delimited strings: split, then as [`Scopes::from_values`].
    fn from_strings<'a>(strings: impl Iterator<Item = &'a str>) -> Self {
        Self::from_values(strings.flat_map(|s| s.split(' ')))
    }

    /// Scopes from single values, each kept whole: empty ones skipped, sorted, deduplicated.
    fn from_values<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut v: Vec<String> = values
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect();
        v.sort_unstable();
        v.dedup();
        Scopes(v)
    }

    /// Reads scopes from a claim set: the claim `name` if given (a name, or an RFC 6901 JSON
    /// Pointer such as `/realm_access/roles`, see [`Claims::pointer`]), else `scope` and then
    /// `scp`.
    /// A string claim is space-delimited; an array claim holds one value per string element,
    /// kept whole: an element with a space in it (a group named `"not admin"`) is that one
    /// value, never split into `not` and `admin`.
    ///
    /// ```
    /// use bearer_guard::Scopes;
    /// use serde_json::json;
    /// let claims = json!({"groups": ["not admin", "staff"], "scope": "read write"});
    /// let groups = Scopes::from_claims(claims.as_object().unwrap(), Some("groups"));
    /// assert!(groups.contains("not admin") && groups.contains("staff"));
    /// assert!(!groups.contains("admin"));
    /// let scopes = Scopes::from_claims(claims.as_object().unwrap(), None);
    /// assert!(scopes.contains_all(["read", "write"]));
    /// ```
    pub fn from_claims(claims: &Map<String, Value>, name: Option<&str>) -> Self {
        let value = match name {
            Some(n) => lookup(claims, n),
            None => claims.get("scope").or_else(|| claims.get("scp")),
        };
        match value {
            Some(Value::String(s)) => Self::parse(s),
            Some(Value::Array(items)) => Self::from_values(items.iter().filter_map(Value::as_str)),
            _ => Scopes::default(),
        }
    }

    /// Whether `scope` is granted.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.binary_search_by(|s| s.as_str().cmp(scope)).is_ok()
    }

    /// Whether every scope in `scopes` is granted.
    pub fn contains_all<I, S>(&self, scopes: I) -> bool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        scopes.into_iter().all(|s| self.contains(s.as_ref()))
    }

    /// Whether at least one scope in `scopes` is granted.
    pub fn contains_any<I, S>(&self, scopes: I) -> bool
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        scopes.into_iter().any(|s| self.contains(s.as_ref()))
    }

    /// The scopes, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// How many distinct scopes there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no scope is granted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
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
}
