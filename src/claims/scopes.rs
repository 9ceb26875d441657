//! [`Scopes`]: a set of OAuth scopes (RFC 6749 §3.3).

use serde_json::{Map, Value};

use super::pointer::lookup;

/// A set of OAuth scopes (RFC 6749 §3.3).
///
/// ```
/// use bearer_guard::claims::Scopes;
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
    /// Pointer such as `/realm_access/roles`, see [`Claims::pointer`](crate::Claims::pointer)), else `scope` and then
    /// `scp`.
    /// A string claim is space-delimited; an array claim holds one value per string element,
    /// kept whole: an element with a space in it (a group named `"not admin"`) is that one
    /// value, never split into `not` and `admin`.
    ///
    /// ```
    /// use bearer_guard::claims::Scopes;
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
