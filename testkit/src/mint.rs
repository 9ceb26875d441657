//! Minting tokens directly from test code.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::keys::{KeyAlg, SigningKey};
use super::state::{Claims, Inner};
use crate::util::{now, random_token};

/// Builder for a token minted directly by test code, returned by
/// [`Issuer::mint`](super::Issuer::mint).
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
    alg: Option<KeyAlg>,
    defect: Option<Defect>,
}

/// A token minted by [`TokenBuilder::build`], with what it carries.
pub(crate) struct Minted {
    pub(crate) token: String,
    pub(crate) header: Claims,
    pub(crate) claims: Claims,
}

/// A deliberate defect of a minted token, for negative tests
/// ([`TokenBuilder::defect`]); each one must make a resource server refuse the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Defect {
    /// Header `alg: "none"` and an empty signature (an unsecured JWS, RFC 7519 §6).
    AlgNone,
    /// A valid signature with one bit flipped.
    TamperedSignature,
    /// Signed by a freshly generated key of the same algorithm that the server never
    /// published, under the `kid` of the key it replaces (a wrong key for a known `kid`).
    ForeignKey,
    /// Signed by the chosen key, but the header names a random `kid` the JWKS does not
    /// have (unless [`TokenBuilder::kid`] names one).
    UnknownKid,
}

impl Defect {
    /// Every defect.
    pub const ALL: [Defect; 4] = [
        Defect::AlgNone,
        Defect::TamperedSignature,
        Defect::ForeignKey,
        Defect::UnknownKid,
    ];

    /// The name used by the control API: `alg_none`, `tampered_signature`, `foreign_key`,
    /// `unknown_kid`.
    pub fn as_str(self) -> &'static str {
        match self {
            Defect::AlgNone => "alg_none",
            Defect::TamperedSignature => "tampered_signature",
            Defect::ForeignKey => "foreign_key",
            Defect::UnknownKid => "unknown_kid",
        }
    }
}

impl fmt::Display for Defect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Defect {
    type Err = String;

    /// Parses a name of [`as_str`](Self::as_str).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Defect::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown defect (one of {})", names(&Defect::ALL)))
    }
}

fn names(defects: &[Defect]) -> String {
    defects
        .iter()
        .map(|d| d.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `token` with one bit of its signature flipped.
fn tamper(token: &str) -> Option<String> {
    let (input, sig) = token.rsplit_once('.')?;
    let mut raw = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let first = raw.first_mut()?;
    *first ^= 0x01;
    Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw)))
}

impl fmt::Debug for TokenBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenBuilder")
            .field("claims", &self.claims)
            .field("header", &self.header)
            .field("kid", &self.kid)
            .field("typ", &self.typ)
            .field("alg", &self.alg)
            .field("defect", &self.defect)
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
            alg: None,
            defect: None,
        }
    }

    /// The claims as they stand.
    pub(crate) fn claims(&self) -> &Claims {
        &self.claims
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

    /// Binds the token to a client certificate (RFC 8705 §3.1): sets
    /// `cnf: {"x5t#S256": <base64url SHA-256 of der>}`, where `der` is the DER encoding of
    /// the certificate the client presents in mutual TLS. Replaces any other `cnf`.
    pub fn bound_to_certificate(self, der: &[u8]) -> Self {
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(der));
        self.set("cnf", serde_json::json!({ "x5t#S256": thumbprint }))
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

    /// Signs with the newest key of algorithm `alg` (published keys first, then retired
    /// ones), unless [`kid`](Self::kid) names a key of this server. Add one with
    /// [`Issuer::add_key`](super::Issuer::add_key) first: [`sign`](Self::sign) panics
    /// if the server has no key of that algorithm.
    pub fn alg(mut self, alg: KeyAlg) -> Self {
        self.alg = Some(alg);
        self
    }

    /// Makes the token deliberately bad in one of the ways of [`Defect`] (the last call
    /// wins).
    pub fn defect(mut self, defect: Defect) -> Self {
        self.defect = Some(defect);
        self
    }

    /// Signs the token as a compact JWS.
    ///
    /// # Panics
    ///
    /// If [`alg`](Self::alg) asks for an algorithm the server has no key of, or if the
    /// crypto backend fails to sign, which indicates a bug.
    pub fn sign(self) -> String {
        match self.build() {
            Ok(minted) => minted.token,
            Err(e) => panic!("test server failed to mint a token: {e}"),
        }
    }

    /// The key to sign with: the key named by `kid`, else the newest of `alg`, else the
    /// active key.
    fn key(&self) -> Result<Arc<SigningKey>, String> {
        if let Some(key) = self.kid.as_deref().and_then(|k| self.inner.find_key(k)) {
            return Ok(key);
        }
        match self.alg {
            Some(alg) => self
                .inner
                .newest_key(alg)
                .ok_or_else(|| format!("the server has no {alg} key")),
            None => Ok(self.inner.active_key()),
        }
    }

    /// Signs the token; the error says why it could not be.
    pub(crate) fn build(self) -> Result<Minted, String> {
        let key = self.key()?;
        let mut header = Claims::new();
        let alg = match self.defect {
            Some(Defect::AlgNone) => "none",
            _ => key.alg.as_str(),
        };
        header.insert("alg".into(), Value::String(alg.into()));
        if let Some(typ) = &self.typ {
            header.insert("typ".into(), Value::String(typ.clone()));
        }
        let kid = match (&self.kid, self.defect) {
            (Some(kid), _) => kid.clone(),
            (None, Some(Defect::UnknownKid)) => format!("unknown-{}", random_token(6)),
            (None, _) => key.kid.clone(),
        };
        header.insert("kid".into(), Value::String(kid));
        header.extend(self.header);
        let header_json = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
        let claims_json = serde_json::to_vec(&self.claims).map_err(|e| e.to_string())?;
        let token = match self.defect {
            Some(Defect::AlgNone) => format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(&header_json),
                URL_SAFE_NO_PAD.encode(&claims_json)
            ),
            Some(Defect::ForeignKey) => {
                // A key of the same type that the server never published.
                let foreign = SigningKey::generate_with_kid(key.alg, key.kid.clone())
                    .map_err(|e| e.to_string())?;
                foreign
                    .sign_compact(&header_json, &claims_json)
                    .map_err(|e| e.to_string())?
            }
            Some(Defect::TamperedSignature) => {
                let token = key
                    .sign_compact(&header_json, &claims_json)
                    .map_err(|e| e.to_string())?;
                tamper(&token).ok_or("signing produced no signature")?
            }
            Some(Defect::UnknownKid) | None => key
                .sign_compact(&header_json, &claims_json)
                .map_err(|e| e.to_string())?,
        };
        Ok(Minted {
            token,
            header,
            claims: self.claims,
        })
    }

    /// Registers the claims server-side under a fresh opaque token and
    /// returns it. The token can only be validated through introspection
    /// (header options are ignored).
    pub fn opaque(self) -> String {
        self.inner.register_opaque(self.claims)
    }
}
