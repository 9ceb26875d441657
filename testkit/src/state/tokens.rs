//! Tokens of one issuer: access tokens (JWT or opaque), ID tokens, their verification,
//! activity and revocation.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

use super::{AuthInfo, Claims, Inner};
use crate::config::Client;
use crate::keys::{KeyAlg, KeyError, SigningKey};
use crate::util::{lock, now, random_token, read};

impl Inner {
    /// Default RFC 9068 access-token claims.
    pub(crate) fn base_claims(&self, sub: &str, client_id: &str, scope: &str) -> Claims {
        let iat = now();
        let mut c = Claims::new();
        c.insert("iss".into(), Value::String(self.issuer.clone()));
        c.insert("sub".into(), Value::String(sub.into()));
        c.insert("aud".into(), Value::String(self.audience.clone()));
        c.insert("client_id".into(), Value::String(client_id.into()));
        // An empty scope is no scope value (RFC 6749 §3.3): leave the claim out.
        if !scope.is_empty() {
            c.insert("scope".into(), Value::String(scope.into()));
        }
        c.insert("iat".into(), Value::from(iat));
        c.insert(
            "exp".into(),
            Value::from(iat.saturating_add(self.token_lifetime.as_secs())),
        );
        c.insert("jti".into(), Value::String(random_token(16)));
        c
    }

    /// Signs `claims` as an `at+jwt` with `key`.
    pub(crate) fn sign_claims(
        &self,
        key: &SigningKey,
        header: &Claims,
        claims: &Claims,
    ) -> Result<String, KeyError> {
        let header = serde_json::to_vec(header).map_err(|e| KeyError(e.to_string()))?;
        let claims = serde_json::to_vec(claims).map_err(|e| KeyError(e.to_string()))?;
        key.sign_compact(&header, &claims)
    }

    pub(crate) fn default_header(key: &SigningKey) -> Claims {
        let mut h = Claims::new();
        h.insert("alg".into(), Value::String(key.alg.as_str().into()));
        h.insert("typ".into(), Value::String("at+jwt".into()));
        h.insert("kid".into(), Value::String(key.kid.clone()));
        h
    }

    /// Issues an access token for `client` (JWT or opaque, per client
    /// settings), bound to the DPoP key with thumbprint `jkt` if given
    /// (`cnf.jkt`, RFC 9449 §6). Its `aud` is `resources` (one: a string, several: an
    /// array; none: the default audience). `extra` claims (a sign-in's `auth_time`, `acr` and
    /// the user's claims; an earlier `exp`) are set over the defaults. Returns the token and
    /// its `jti`.
    pub(crate) fn issue_access_token(
        &self,
        client: &Client,
        sub: &str,
        scope: &str,
        resources: &[String],
        jkt: Option<&str>,
        extra: &Claims,
    ) -> Result<(String, String), KeyError> {
        let mut claims = self.base_claims(sub, &client.id, scope);
        claims.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        match resources {
            [] => {}
            [one] => {
                claims.insert("aud".into(), Value::String(one.clone()));
            }
            several => {
                claims.insert("aud".into(), Value::from(several.to_vec()));
            }
        }
        if let Some(jkt) = jkt {
            claims.insert("cnf".into(), serde_json::json!({ "jkt": jkt }));
        }
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if client.opaque_tokens {
            Ok((self.register_opaque(claims), jti))
        } else {
            let key = self.active_key();
            let token = self.sign_claims(&key, &Self::default_header(&key), &claims)?;
            Ok((token, jti))
        }
    }

    /// Stores `claims` under a fresh opaque token.
    pub(crate) fn register_opaque(&self, claims: Claims) -> String {
        let token = random_token(32);
        lock(&self.grants).opaque.insert(token.clone(), claims);
        token
    }

    /// Verifies a JWT against the published keys; returns its claims.
    pub(crate) fn verify_jwt(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (h, p, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).ok()?).ok()?;
        let kid = header.get("kid")?.as_str()?;
        let key = read(&self.keys).find_published(kid)?;
        if header.get("alg")?.as_str()? != key.alg.as_str() {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(s).ok()?;
        let signing_input = token.get(..h.len() + 1 + p.len())?;
        if !key.verify(signing_input.as_bytes(), &sig) {
            return None;
        }
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    }

    /// Claims of `token` if it is an opaque token or a JWT of ours, without
    /// checking time, issuer or revocation.
    pub(crate) fn lookup(&self, token: &str) -> Option<Claims> {
        if let Some(c) = lock(&self.grants).opaque.get(token) {
            return Some(c.clone());
        }
        self.verify_jwt(token)
    }

    /// Claims of `token` if it is currently active.
    pub(crate) fn active_claims(&self, token: &str) -> Option<Claims> {
        let claims = self.lookup(token)?;
        let t = now();
        let exp = claims.get("exp")?.as_u64()?;
        if exp <= t {
            return None;
        }
        if let Some(nbf) = claims.get("nbf") {
            if nbf.as_u64()? > t {
                return None;
            }
        }
        if claims.get("iss")?.as_str()? != self.issuer {
            return None;
        }
        if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
            if lock(&self.grants).revoked_jtis.contains(jti) {
                return None;
            }
        }
        Some(claims)
    }

    /// Revokes an access or refresh token. If `client_id` is given, only
    /// tokens issued to that client are revoked. Unknown tokens are ignored.
    pub(crate) fn revoke(&self, token: &str, client_id: Option<&str>) {
        let owned = |cid: Option<&str>| client_id.is_none() || cid == client_id;
        {
            let mut g = lock(&self.grants);
            let owned_family = g
                .refresh
                .get(token)
                .filter(|r| owned(Some(&r.client_id)))
                .map(|r| r.family);
            if let Some(family) = owned_family {
                g.revoke_family(family);
                return;
            }
        }
        if let Some(claims) = self.lookup(token) {
            if owned(claims.get("client_id").and_then(Value::as_str)) {
                if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
                    lock(&self.grants).revoked_jtis.insert(jti.to_owned());
                }
            }
        }
    }

    /// An OpenID Connect ID token (Core §2) for `client_id` about `sub`, signed with the
    /// active key: `iss`, `sub`, `aud` (the client id alone, so `azp` is not needed), `exp`,
    /// `iat`, `auth_time`, `acr` when known, `nonce` when the authorization request had one,
    /// `at_hash` of `access_token` (Core §3.1.3.6), and the user's claims.
    pub(crate) fn issue_id_token(
        &self,
        client_id: &str,
        sub: &str,
        auth: &AuthInfo,
        nonce: Option<&str>,
        access_token: &str,
    ) -> Result<String, KeyError> {
        let key = self.active_key();
        let mut claims = self
            .clients
            .user(sub)
            .map(|u| u.claims.clone())
            .unwrap_or_default();
        let iat = now();
        claims.insert("iss".into(), Value::String(self.issuer.clone()));
        claims.insert("sub".into(), Value::String(sub.into()));
        claims.insert("aud".into(), Value::String(client_id.into()));
        claims.insert("iat".into(), Value::from(iat));
        claims.insert(
            "exp".into(),
            Value::from(iat.saturating_add(self.token_lifetime.as_secs())),
        );
        claims.insert("auth_time".into(), Value::from(auth.auth_time));
        if let Some(acr) = &auth.acr {
            claims.insert("acr".into(), Value::String(acr.clone()));
        }
        if let Some(nonce) = nonce {
            claims.insert("nonce".into(), Value::String(nonce.into()));
        }
        claims.insert(
            "at_hash".into(),
            Value::String(token_hash(key.alg, access_token)),
        );
        let mut header = Claims::new();
        header.insert("alg".into(), Value::String(key.alg.as_str().into()));
        header.insert("typ".into(), Value::String("JWT".into()));
        header.insert("kid".into(), Value::String(key.kid.clone()));
        self.sign_claims(&key, &header, &claims)
    }

    /// The claims an access token issued after `sub`'s sign-in carries besides the defaults:
    /// the user's claims, `auth_time` and `acr` (when known).
    pub(crate) fn sign_in_claims(&self, sub: &str, auth: &AuthInfo) -> Claims {
        let mut claims = self
            .clients
            .user(sub)
            .map(|u| u.claims.clone())
            .unwrap_or_default();
        claims.insert("auth_time".into(), Value::from(auth.auth_time));
        if let Some(acr) = &auth.acr {
            claims.insert("acr".into(), Value::String(acr.clone()));
        }
        claims
    }
}

/// `at_hash` (OpenID Connect Core §3.1.3.6): the left half of the hash of the token's ASCII
/// octets, base64url, with the hash of the signing algorithm (SHA-256 for RS256, PS256 and
/// ES256; SHA-512 for EdDSA with Ed25519, as OpenID Connect's errata and client libraries
/// read it).
pub(crate) fn token_hash(alg: KeyAlg, token: &str) -> String {
    let digest: Vec<u8> = match alg {
        KeyAlg::EdDsa => Sha512::digest(token.as_bytes()).to_vec(),
        _ => Sha256::digest(token.as_bytes()).to_vec(),
    };
    let half = digest.get(..digest.len() / 2).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(half)
}
