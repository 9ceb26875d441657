//! Minting tokens directly from test code.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::state::{now, Claims, Inner};

/// Builder for a token minted directly by test code, returned by
/// [`TestServer::mint`](super::TestServer::mint).
///
/// Starts with RFC 9068 defaults: header `{"alg", "typ": "at+jwt", "kid"}` and
/// claims `iss` (the server issuer), `sub` `"alice"`, `aud` (the server
/// audience), `client_id` `"demo-client"`, `scope` `"read write"`, `iat` (now),
/// `exp` (now + token lifetime) and a random `jti`. Every claim can be changed
/// or removed, so the builder is also suited to negative tests.
#[must_use = "call .sign() or .opaque() to get a token"]
pub struct TokenBuilder {
    inner: Arc<Inner>,
    claims: Claims,
    header: Claims,
    kid: Option<String>,
    typ: Option<String>,
}

impl fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("claims", &self.claims)
            .field("header", &self.header)
            .field("kid", &self.kid)
            .field("typ", &self.typ)
            .finish_non_exhaustive()
    }
}

impl TokenBuilder {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        let claims = inner.base_claims("alice", "demo-client", "read write");
        TokenBuilder {
            inner,
            claims,
            header: Claims::new(),
            kid: None,
            typ: Some("at+jwt".into()),
        }
    }

    fn set(mut self, name: &str, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    fn iat(&self) -> u64 {
        self.claims
            .get("iat")
            .and_then(Value::as_u64)
            .unwrap_or_else(now)
    }

    /// Sets the `sub` claim.
    #[allow(clippy::should_implement_trait)] // `sub` is the JWT claim name
    pub fn sub(self, sub: impl Into<String>) -> Self {
        self.set("sub", Value::String(sub.into()))
    }

    /// Sets the `scope` claim (space-separated scopes).
    pub fn scope(self, scope: impl Into<String>) -> Self {
        self.set("scope", Value::String(scope.into()))
    }

    /// Sets the `client_id` claim.
    pub fn client_id(self, client_id: impl Into<String>) -> Self {
        self.set("client_id", Value::String(client_id.into()))
    }

    /// Sets `aud` to a single string.
    pub fn aud(self, aud: impl Into<String>) -> Self {
        self.set("aud", Value::String(aud.into()))
    }

    /// Sets `aud` to an array of strings.
    pub fn audiences<I, S>(self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let list = audiences
            .into_iter()
            .map(|a| Value::String(a.into()))
            .collect();
        self.set("aud", Value::Array(list))
    }

    /// Sets the `iss` claim (e.g. a wrong issuer for negative tests).
    pub fn issuer(self, iss: impl Into<String>) -> Self {
        self.set("iss", Value::String(iss.into()))
    }

    /// Sets the `jti` claim.
    pub fn jti(self, jti: impl Into<String>) -> Self {
        self.set("jti", Value::String(jti.into()))
    }

    /// Sets any claim to any JSON value (replacing defaults).
    pub fn claim(self, name: impl Into<String>, value: Value) -> Self {
        let name = name.into();
        self.set(&name, value)
    }

    /// Removes a claim (default or custom), e.g. `.remove("exp")`.
    pub fn remove(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Sets `exp` to `iat + lifetime`.
    pub fn lifetime(self, lifetime: Duration) -> Self {
        let exp = self.iat().saturating_add(lifetime.as_secs());
        self.set("exp", Value::from(exp))
    }

    /// Makes the token clearly expired: `iat` 20 minutes ago and `exp` 10
    /// minutes ago (beyond any reasonable clock-skew leeway).
    pub fn expired(self) -> Self {
        let t = now();
        self.set("iat", Value::from(t.saturating_sub(1200)))
            .set("exp", Value::from(t.saturating_sub(600)))
    }

    /// Sets `nbf` to now + `delay`, i.e. the token is not valid yet.
    pub fn not_before(self, delay: Duration) -> Self {
        self.set("nbf", Value::from(now().saturating_add(delay.as_secs())))
    }

    /// Sets `iat` (Unix seconds).
    pub fn issued_at(self, unix_secs: u64) -> Self {
        self.set("iat", Value::from(unix_secs))
    }

    /// Sets `exp` (Unix seconds).
    pub fn expires_at(self, unix_secs: u64) -> Self {
        self.set("exp", Value::from(unix_secs))
    }

    /// Chooses the `kid` written in the header. If it names a key of this
    /// server (published or retired) the token is signed with that key;
    /// otherwise it is signed with the active key but still carries this
    /// `kid` (useful for "unknown key" tests).
    pub fn kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Sets the header `typ` (`None` omits it). Default `"at+jwt"`.
    pub fn typ(mut self, typ: Option<&str>) -> Self {
        self.typ = typ.map(str::to_owned);
        self
    }

    /// Sets an extra header member. Applied last, so it can also override
    /// `alg`, `typ` or `kid` (the signature still uses the real key).
    pub fn header(mut self, name: impl Into<String>, value: Value) -> Self {
        self.header.insert(name.into(), value);
        self
    }

    /// Signs the token as a compact JWS.
    ///
    /// # Panics
    ///
    /// Only if the crypto backend fails to sign, which indicates a bug.
    pub fn sign(self) -> String {
        let key = self
            .kid
            .as_deref()
            .and_then(|k| self.inner.find_key(k))
            .unwrap_or_else(|| self.inner.active_key());
        let mut header = Claims::new();
        header.insert("alg".into(), Value::String(key.alg.as_str().into()));
        if let Some(typ) = &self.typ {
            header.insert("typ".into(), Value::String(typ.clone()));
        }
        let kid = self.kid.clone().unwrap_or_else(|| key.kid.clone());
        header.insert("kid".into(), Value::String(kid));
        header.extend(self.header);
        match self.inner.sign_claims(&key, &header, &self.claims) {
            Ok(token) => token,
            Err(e) => panic!("test server failed to sign a token: {e}"),
        }
    }

    /// Registers the claims server-side under a fresh opaque token and
    /// returns it. The token can only be validated through introspection
    /// (header options are ignored).
    pub fn opaque(self) -> String {
        self.inner.register_opaque(self.claims)
    }
}
