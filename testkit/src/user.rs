//! [`User`]: a resource owner, with the claims of their ID tokens and userinfo and the
//! authentication levels (`acr`) they can sign in at.

use std::fmt;

use serde_json::{Map, Value};

/// Claims the server sets itself in ID tokens, userinfo answers and access tokens; a user's
/// [`claim`](User::claim) of one of these names is ignored.
pub(crate) const PROTOCOL_CLAIMS: [&str; 17] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "c_hash",
    "scope",
    "client_id",
    "cnf",
];

/// A resource owner who can log in at the authorization endpoint.
///
/// Their [`claim`](Self::claim)s (e.g. [`email`](Self::email), [`name`](Self::name),
/// [`groups`](Self::groups), [`roles`](Self::roles)) go into their ID tokens, the userinfo
/// answer and the access tokens issued to them by the authorization-code flow. Their
/// [`acr_values`](Self::acr_values) are the authentication levels they can sign in at (for
/// step-up tests, RFC 9470).
#[derive(Clone, PartialEq)]
pub struct User {
    pub(crate) username: String,
    pub(crate) password: String,
    pub(crate) claims: Map<String, Value>,
    pub(crate) acr_values: Vec<String>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("claims", &self.claims)
            .field("acr_values", &self.acr_values)
            .finish()
    }
}

impl User {
    /// A user with the given name (also the `sub` of their tokens) and password, no claims
    /// and no `acr`.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        User {
            username: username.into(),
            password: password.into(),
            claims: Map::new(),
            acr_values: Vec::new(),
        }
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// Sets a claim of this user (replacing one of the same name). Names the server sets
    /// itself (`iss`, `sub`, `aud`, `exp`, `iat`, `nbf`, `jti`, `auth_time`, `nonce`, `acr`,
    /// `amr`, `azp`, `at_hash`, `c_hash`, `scope`, `client_id`, `cnf`) are ignored.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        let name = name.into();
        if !PROTOCOL_CLAIMS.contains(&name.as_str()) {
            self.claims.insert(name, value.into());
        }
        self
    }

    /// Sets `email` and `email_verified: true`.
    pub fn email(self, email: impl Into<String>) -> Self {
        self.claim("email", email.into())
            .claim("email_verified", true)
    }

    /// Sets `name` (the full name).
    pub fn name(self, name: impl Into<String>) -> Self {
        self.claim("name", name.into())
    }

    /// Sets `groups` (an array of strings).
    pub fn groups<I, S>(self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.claim("groups", strings(groups))
    }

    /// Sets `roles` (an array of strings).
    pub fn roles<I, S>(self, roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.claim("roles", strings(roles))
    }

    /// The authentication context classes (`acr`) this user can sign in at, the default one
    /// first (replaces earlier calls). An authorization request's `acr_values` picks the first
    /// of its values the user has; without `acr_values`, or when the user has none of them,
    /// the user signs in at the default. Without any, tokens carry no `acr`.
    pub fn acr_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.acr_values = values.into_iter().map(Into::into).collect();
        self
    }

    /// The user's claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The `acr` a sign-in answering `requested` (an authorization request's `acr_values`,
    /// in order of preference) reaches.
    pub(crate) fn acr_for(&self, requested: &[String]) -> Option<String> {
        requested
            .iter()
            .find(|r| self.acr_values.contains(r))
            .or_else(|| self.acr_values.first())
            .cloned()
    }
}

fn strings<I, S>(values: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    Value::Array(
        values
            .into_iter()
            .map(|s| Value::String(s.into()))
            .collect(),
    )
}
