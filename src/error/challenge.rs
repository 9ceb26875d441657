//! [`Challenge`]: the parameters and the text of the `WWW-Authenticate` header.

use std::sync::Arc;

use http::HeaderValue;

use super::bearer::AuthScheme;
use super::BearerError;
use super::{AuthError, TokenError};

/// The parameters of the `WWW-Authenticate` challenge: realm, scheme, RFC 9728
/// `resource_metadata` and the base `scope`. Cheap to clone.
///
/// ```
/// use bearer_guard::{AuthError, error::BearerError, error::Challenge};
/// let c = Challenge::new()
///     .realm("example")
///     .resource_metadata("https://api.example/.well-known/oauth-protected-resource");
/// let v = c.header_for(&AuthError::Bearer(BearerError::Missing)).unwrap();
/// assert_eq!(v, r#"Bearer realm="example", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Challenge(Arc<ChallengeParams>);

#[derive(Debug, Clone, Default)]
struct ChallengeParams {
    realm: Option<String>,
    resource_metadata: Option<String>,
    /// The `scope` of 401 challenges (the scopes for basic access).
    scope: Option<String>,
    scheme: AuthScheme,
    /// The `algs` of DPoP challenges; `Some` when the layer accepts DPoP.
    dpop_algs: Option<String>,
    /// The layer accepts DPoP-bound tokens only: every challenge uses the `DPoP` scheme.
    dpop_only: bool,
}

impl Challenge {
    /// A challenge without realm.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the `realm` parameter (RFC 6750 §3).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).realm = Some(realm.into());
        self
    }

    /// Sets the RFC 9728 `resource_metadata` parameter: the URL of this resource's
    /// protected-resource metadata document.
    pub fn resource_metadata(mut self, url: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).resource_metadata = Some(url.into());
        self
    }

    /// Sets the `scope` parameter of the 401 challenges that send the client to the
    /// authorization server (RFC 6750 §3): no token or another scheme, and `invalid_token`.
    /// The MCP authorization spec reads it as the scopes a client needs for basic access and
    /// asks for them when it (re)authorizes.
    ///
    /// Not sent with 400 `invalid_request` (the client must fix its request, not its token),
    /// nor with DPoP proof errors or 401 step-up (`insufficient_user_authentication`); a 403
    /// `insufficient_scope` names the scopes of the refused operation instead.
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::BearerError, error::Challenge, error::TokenError};
    /// let c = Challenge::new().resource_metadata("https://mcp.example/.well-known/oauth-protected-resource").scope("mcp:tools");
    /// assert_eq!(
    ///     c.header_for(&BearerError::Missing.into()).unwrap(),
    ///     r#"Bearer scope="mcp:tools", resource_metadata="https://mcp.example/.well-known/oauth-protected-resource""#
    /// );
    /// let admin = AuthError::InsufficientScope { required: "mcp:tools mcp:admin".into() };
    /// assert!(c.header_for(&admin).unwrap().to_str().unwrap().contains(r#"scope="mcp:tools mcp:admin""#));
    /// ```
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.0).scope = Some(scope.into());
        self
    }

    /// The scheme the token of this request was presented with; the challenge uses it.
    pub fn scheme(&self) -> AuthScheme {
        self.0.scheme
    }

    /// The space-separated DPoP proof algorithms sent as `algs`, when DPoP is accepted.
    pub fn dpop_algs(&self) -> Option<&str> {
        self.0.dpop_algs.as_deref()
    }

    /// The same challenge for a server that accepts DPoP proofs signed with `algs`.
    pub(crate) fn with_dpop_algs(mut self, algs: String) -> Self {
        Arc::make_mut(&mut self.0).dpop_algs = Some(algs);
        self
    }

    /// The same challenge for a layer that accepts DPoP-bound tokens only (with
    /// [`with_dpop_algs`](Self::with_dpop_algs)): no `Bearer` challenge is offered.
    pub(crate) fn dpop_only(mut self) -> Self {
        Arc::make_mut(&mut self.0).dpop_only = true;
        self
    }

    /// The same challenge for a request that used `scheme`.
    pub(crate) fn with_scheme(mut self, scheme: AuthScheme) -> Self {
        Arc::make_mut(&mut self.0).scheme = scheme;
        self
    }

    /// The `WWW-Authenticate` value for an error, or `None` where no challenge is sent
    /// (503, 500, and the refusals of [`AuthError::Request`]).
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::Challenge, error::DpopError};
    /// // Without DPoP support, even DPoP errors are answered with a Bearer challenge.
    /// let v = Challenge::new().header_for(&AuthError::Dpop(DpopError::BoundToken)).unwrap();
    /// assert_eq!(v, r#"Bearer error="invalid_token", error_description="the token is bound to a DPoP key""#);
    /// ```
    pub fn header_for(&self, error: &AuthError) -> Option<HeaderValue> {
        if matches!(
            error,
            AuthError::Unavailable(_) | AuthError::Misconfigured(_) | AuthError::Request(_)
        ) {
            return None;
        }
        let dpop = match &self.0.dpop_algs {
            Some(algs)
                if self.0.scheme == AuthScheme::DPoP
                    || self.0.dpop_only
                    || matches!(error, AuthError::Dpop(_)) =>
            {
                Some(algs.as_str())
            }
            _ => None,
        };
        let mut value = self.challenge(
            if dpop.is_some() {
                AuthScheme::DPoP
            } else {
                AuthScheme::Bearer
            },
            error,
            dpop,
        );
        if let (
            None,
            Some(algs),
            AuthError::Bearer(BearerError::Missing | BearerError::OtherScheme)
            | AuthError::InvalidToken(TokenError::NotSenderConstrained),
        ) = (dpop, &self.0.dpop_algs, error)
        {
            // Both schemes are accepted: offer both (RFC 9449 §7.1).
            value.push_str(", ");
            value.push_str(&self.challenge(AuthScheme::DPoP, error, Some(algs)));
        }
        // Every part is either a fixed text or configuration passed through `push_quoted`,
        // which keeps only visible ASCII and spaces, so this cannot fail; fall back to the
        // bare scheme all the same.
        Some(HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("Bearer")))
    }

    /// One challenge: `scheme` followed by its parameters.
    fn challenge(&self, scheme: AuthScheme, error: &AuthError, algs: Option<&str>) -> String {
        let mut params: Vec<(&str, &str)> = Vec::with_capacity(6);
        if let Some(realm) = &self.0.realm {
            params.push(("realm", realm));
        }
        if let Some(code) = error.code() {
            params.push(("error", code));
            params.push(("error_description", error.description()));
        }
        let max_age;
        match error {
            AuthError::InsufficientScope { required } => params.push(("scope", required)),
            AuthError::Bearer(BearerError::Missing | BearerError::OtherScheme)
            | AuthError::InvalidToken(_) => {
                if let Some(scope) = &self.0.scope {
                    params.push(("scope", scope));
                }
            }
            AuthError::InsufficientUserAuthentication {
                acr_values,
                max_age: age,
            } => {
                if let Some(acr) = acr_values {
                    params.push(("acr_values", acr));
                }
                if let Some(age) = age {
                    max_age = age.to_string();
                    params.push(("max_age", &max_age));
                }
            }
            AuthError::Bearer(_)
            | AuthError::Dpop(_)
            | AuthError::Request(_)
            | AuthError::Unavailable(_)
            | AuthError::Misconfigured(_) => {}
        }
        if let Some(url) = &self.0.resource_metadata {
            params.push(("resource_metadata", url));
        }
        if let Some(algs) = algs {
            params.push(("algs", algs));
        }
        let mut value = String::from(scheme.as_str());
        for (i, (name, val)) in params.iter().enumerate() {
            value.push_str(if i == 0 { " " } else { ", " });
            value.push_str(name);
            value.push_str("=\"");
            push_quoted(&mut value, val);
            value.push('"');
        }
        value
    }
}

/// Appends `text` as the content of an RFC 7230 quoted-string: `"` and `\` are escaped and
/// characters that may not appear in a header are dropped.
fn push_quoted(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            _ => {}
        }
    }
}
