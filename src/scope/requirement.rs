//! [`Requirement`]: what the verified claims of a request must satisfy.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::{claims::Scopes, AuthError, Claims};

type Predicate = dyn Fn(&Claims) -> bool + Send + Sync;

/// What the claims of a request must satisfy: scopes (or your own rule), and optionally how
/// the user authenticated (RFC 9470 step-up: [`acr`](Requirement::acr),
/// [`max_age`](Requirement::max_age)). Cheap to clone.
#[derive(Clone)]
pub struct Requirement(Arc<Inner>);

#[derive(Clone)]
struct Inner {
    rule: Rule,
    /// Space-separated text sent as the challenge's `scope` parameter.
    required: String,
    step_up: StepUp,
}

#[derive(Clone)]
enum Rule {
    All(Vec<String>),
    Any(Vec<String>),
    Predicate(Arc<Predicate>),
    Authenticated,
    /// Values of another claim (roles, groups, permissions): (claim, values, all?).
    Claim(String, Vec<String>, bool),
}

/// RFC 9470: the authentication behind the token must be strong and recent enough.
#[derive(Clone, Default)]
struct StepUp {
    /// Acceptable `acr` values; empty: any.
    acr: Vec<String>,
    /// Longest time since `auth_time`.
    max_age: Option<Duration>,
}

/// How far `auth_time` may lie in the future (clock skew) before it counts as unknown.
const AUTH_TIME_SKEW: u64 = 60;

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
        Self::new(Rule::Predicate(Arc::new(f)), required.into())
    }

    /// Every one of `values` must be in the claim `claim` (a name, or an RFC 6901 JSON Pointer
    /// such as `/realm_access/roles`; see [`Claims::pointer`]), read like scopes: a
    /// space-delimited string, or an array whose string elements are each one whole value.
    /// For roles, groups or permissions that live beside the scopes. A missing claim fails,
    /// even with an empty `values` list (a claim that is neither a string nor an array counts
    /// as missing); a present claim with an empty list passes.
    /// The values are named in the 403 challenge's `scope` parameter.
    ///
    /// ```
    /// use bearer_guard::{Claims, Requirement};
    /// let keycloak = Claims::from_value(serde_json::json!({
    ///     "scope": "openid",
    ///     "realm_access": {"roles": ["admin", "user"]},
    ///     "resource_access": {"my-api": {"roles": ["reader"]}},
    /// })).unwrap();
    /// assert!(Requirement::claim_all("/realm_access/roles", ["admin"]).check(&keycloak).is_ok());
    /// assert!(Requirement::claim_all("/resource_access/my-api/roles", ["writer"])
    ///     .check(&keycloak)
    ///     .is_err());
    /// ```
    pub fn claim_all<I, S>(claim: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        let required = values.join(" ");
        Self::new(Rule::Claim(claim.into(), values, true), required)
    }

    /// At least one of `values` must be in the claim `claim` (see [`Requirement::claim_all`]).
    /// An empty list is never satisfied (fail closed).
    ///
    /// ```
    /// use bearer_guard::{Claims, Requirement};
    /// let entra = Claims::from_value(serde_json::json!({"roles": ["Reports.Read"]})).unwrap();
    /// let readers = Requirement::claim_any("roles", ["Reports.Read", "Reports.Admin"]);
    /// assert!(readers.check(&entra).is_ok());
    /// ```
    pub fn claim_any<I, S>(claim: impl Into<String>, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let values: Vec<String> = values.into_iter().map(Into::into).collect();
        let required = values.join(" ");
        Self::new(Rule::Claim(claim.into(), values, false), required)
    }

    /// Any verified claims will do (a valid token is enough).
    pub fn authenticated() -> Self {
        Self::new(Rule::Authenticated, String::new())
    }

    fn new(rule: Rule, required: String) -> Self {
        Requirement(Arc::new(Inner {
            rule,
            required,
            step_up: StepUp::default(),
        }))
    }

    /// Also requires the user's authentication to have been one of these `acr` values (RFC 9470
    /// step-up). A token whose `acr` claim is missing or another value is answered 401
    /// `insufficient_user_authentication` with `acr_values="…"` naming them, so the client can
    /// ask the authorization server for a stronger authentication.
    ///
    /// ```
    /// use bearer_guard::{AuthError, Claims, Requirement};
    /// let mfa = Requirement::authenticated().acr(["urn:example:mfa"]);
    /// let c = |v| Claims::from_value(v).unwrap();
    /// assert!(mfa.check(&c(serde_json::json!({"acr": "urn:example:mfa"}))).is_ok());
    /// let err = mfa.check(&c(serde_json::json!({"acr": "urn:example:pwd"}))).unwrap_err();
    /// assert_eq!(err.code(), Some("insufficient_user_authentication"));
    /// ```
    pub fn acr<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Arc::make_mut(&mut self.0).step_up.acr = values.into_iter().map(Into::into).collect();
        self
    }

    /// Also requires the user to have authenticated at most `max_age` ago (RFC 9470 step-up):
    /// the token's `auth_time` must be present and recent. Otherwise the answer is 401
    /// `insufficient_user_authentication` with `max_age="…"` (in seconds).
    ///
    /// ```
    /// use std::time::{Duration, SystemTime, UNIX_EPOCH};
    /// use bearer_guard::{Claims, Requirement};
    /// let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    /// let recent = Requirement::authenticated().max_age(Duration::from_secs(300));
    /// let c = |v| Claims::from_value(v).unwrap();
    /// assert!(recent.check(&c(serde_json::json!({"auth_time": now - 10}))).is_ok());
    /// assert!(recent.check(&c(serde_json::json!({"auth_time": now - 3600}))).is_err());
    /// assert!(recent.check(&c(serde_json::json!({}))).is_err());
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        Arc::make_mut(&mut self.0).step_up.max_age = Some(max_age);
        self
    }

    /// Whether `self` and `other` are clones of the same requirement.
    #[cfg_attr(not(feature = "mcp"), allow(dead_code))]
    pub(crate) fn same(&self, other: &Requirement) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The text sent as the challenge's `scope` parameter.
    pub fn required(&self) -> &str {
        &self.0.required
    }

    /// Whether `claims` meet the requirement; if not, the error to answer with:
    /// [`AuthError::InsufficientScope`] (checked first: a stronger authentication would not
    /// add the scope), then [`AuthError::InsufficientUserAuthentication`].
    pub fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        let ok = match &self.0.rule {
            Rule::All(scopes) => claims.scopes().contains_all(scopes),
            Rule::Any(scopes) => claims.scopes().contains_any(scopes),
            Rule::Predicate(f) => f(claims),
            Rule::Authenticated => true,
            Rule::Claim(claim, values, all) => {
                // A missing claim fails even for an empty `claim_all` list (which `contains_all`
                // alone would find vacuously satisfied); so does a value that cannot be read
                // like scopes (null, a number, an object).
                let present = matches!(
                    claims.pointer(claim),
                    Some(serde_json::Value::String(_) | serde_json::Value::Array(_))
                );
                let granted = Scopes::from_claims(claims.as_map(), Some(claim));
                present
                    && if *all {
                        granted.contains_all(values)
                    } else {
                        granted.contains_any(values)
                    }
            }
        };
        if !ok {
            return Err(AuthError::InsufficientScope {
                required: self.0.required.clone(),
            });
        }
        self.0.step_up.check(claims)
    }
}

impl StepUp {
    fn check(&self, claims: &Claims) -> Result<(), AuthError> {
        let acr_ok = self.acr.is_empty()
            || claims
                .authentication_context()
                .is_some_and(|acr| self.acr.iter().any(|a| a == acr));
        let age_ok = self.max_age.is_none_or(|max_age| {
            // Whole seconds of the one clock (`as` saturates; the clock is never negative).
            let now = crate::jose::unix_now() as u64;
            claims.auth_time().is_some_and(|t| {
                u64::try_from(t).is_ok_and(|t| {
                    t <= now.saturating_add(AUTH_TIME_SKEW)
                        && now.saturating_sub(t) <= max_age.as_secs()
                })
            })
        });
        if acr_ok && age_ok {
            return Ok(());
        }
        Err(AuthError::InsufficientUserAuthentication {
            acr_values: (!self.acr.is_empty()).then(|| self.acr.join(" ")),
            max_age: self.max_age.map(|d| d.as_secs()),
        })
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.0.rule {
            Rule::All(_) => "all",
            Rule::Any(_) => "any",
            Rule::Predicate(_) => "predicate",
            Rule::Authenticated => "authenticated",
            Rule::Claim(_, _, true) => "claim_all",
            Rule::Claim(_, _, false) => "claim_any",
        };
        f.debug_struct("Requirement")
            .field("kind", &kind)
            .field("required", &self.0.required)
            .field("acr", &self.0.step_up.acr)
            .field("max_age", &self.0.step_up.max_age)
            .finish()
    }
}
