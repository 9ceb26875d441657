//! [`Requirement`]: what the verified claims of a request must satisfy.

use std::fmt;
use std::sync::Arc;

use crate::{AuthError, Claims};

type Predicate = dyn Fn(&Claims) -> bool + Send + Sync;

/// What the claims of a request must satisfy. Cheap to clone.
#[derive(Clone)]
pub struct Requirement(Arc<Inner>);

struct Inner {
    rule: Rule,
    /// Space-separated text sent as the challenge's `scope` parameter.
    required: String,
}

enum Rule {
    All(Vec<String>),
    Any(Vec<String>),
    Predicate(Box<Predicate>),
    Authenticated,
}

impl Requirement {
    /// Every one of `scopes` must be granted (an empty list asks only for a valid token,
    /// like [`Requirement::authenticated`]).
    ///
    /// ```
    /// use bearer_guard::{Claims, Requirement};
    /// let c = Claims::from_value(serde_json::json!({"scope": "a b"})).unwrap();
    /// assert!(Requirement::all(["a", "b"]).check(&c).is_ok());
    /// assert!(Requirement::all(["a", "c"]).check(&c).is_err());
    /// ```
    pub fn all<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        Self::new(Rule::All(scopes.clone()), scopes.join(" "))
    }

    /// At least one of `scopes` must be granted. The challenge names all of them.
    ///
    /// An empty list is never satisfied (fail closed).
    pub fn any<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        Self::new(Rule::Any(scopes.clone()), scopes.join(" "))
    }

    /// Your own rule on the claims (a role in a nested claim, `azp`, a tenant, …).
    ///
    /// `required` is sent as the challenge's `scope` parameter when the rule fails, so make
    /// it a short scope-like text such as `"role:admin"`; it is configuration, never request
    /// data.
    ///
    /// ```
    /// use bearer_guard::{Claims, Requirement};
    /// let admin = Requirement::predicate(
    ///     |c: &Claims| c.get("realm_access").and_then(|r| r["roles"].as_array())
    ///         .is_some_and(|roles| roles.iter().any(|r| r == "admin")),
    ///     "role:admin",
    /// );
    /// let c = Claims::from_value(serde_json::json!({"realm_access": {"roles": ["admin"]}})).unwrap();
    /// assert!(admin.check(&c).is_ok());
    /// ```
    pub fn predicate<F>(f: F, required: impl Into<String>) -> Self
    where
        F: Fn(&Claims) -> bool + Send + Sync + 'static,
    {
        Self::new(Rule::Predicate(Box::new(f)), required.into())
    }

    /// Any verified claims will do (a valid token is enough).
    pub fn authenticated() -> Self {
        Self::new(Rule::Authenticated, String::new())
    }

    fn new(rule: Rule, required: String) -> Self {
        Requirement(Arc::new(Inner { rule, required }))
    }

    /// The text sent as the challenge's `scope` parameter.
    pub fn required(&self) -> &str {
        &self.0.required
    }

    /// Whether `claims` meet the requirement; if not, the
    /// [`AuthError::InsufficientScope`] to answer with.
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        let ok = match &self.0.rule {
            Rule::All(scopes) => claims.scopes().contains_all(scopes),
            Rule::Any(scopes) => claims.scopes().contains_any(scopes),
            Rule::Predicate(f) => f(claims),
            Rule::Authenticated => true,
        };
        if ok {
            Ok(())
        } else {
            Err(AuthError::InsufficientScope {
                required: self.0.required.clone(),
            })
        }
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0.rule {
            Rule::All(_) => "all",
            Rule::Any(_) => "any",
            Rule::Predicate(_) => "predicate",
            Rule::Authenticated => "authenticated",
        };
        f.debug_struct("Requirement")
            .field("kind", &kind)
            .field("required", &self.0.required)
            .finish()
    }
}
