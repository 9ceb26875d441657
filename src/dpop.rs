//! DPoP (RFC 9449) at the resource server: sender-constrained access tokens.
//!
//! A DPoP-bound access token carries the SHA-256 thumbprint of the client's public key in
//! `cnf.jkt`. The client presents it as `Authorization: DPoP <token>` together with a `DPoP`
//! header: a fresh JWS over the request's method and URI, signed with that key. A stolen token
//! is then useless without the private key.
//!
//! DPoP is an opt-in of the layer, [`AuthLayer::dpop`](crate::AuthLayer::dpop): the
//! [`Validator`](crate::Validator) checks the token alone, as before, and the layer then checks
//! the binding against the request. With a [`DpopConfig`], for every request whose token has
//! `cnf.jkt` or is presented with the `DPoP` scheme, the layer requires exactly one `DPoP`
//! header and checks (RFC 9449 §4.3, §7.1):
//!
//! 1. the proof is a compact JWS of at most [`max_proof_bytes`](DpopConfig::max_proof_bytes),
//!    header and claims JSON objects without duplicate members, no `crit`;
//! 2. `typ` is `dpop+jwt`; `alg` is on the [allow-list](DpopConfig::algorithms) (asymmetric
//!    only: never `none` or HMAC);
//! 3. `jwk` is a public key (no private members such as `d`) that fits `alg`, and the
//!    signature verifies with it;
//! 4. `htm` equals the request method; `htu` equals the request URI without query and fragment
//!    (scheme, host, port and path compared after URL normalisation; see
//!    [`base_url`](DpopConfig::base_url) for how the request URI is known);
//! 5. `iat` lies within the [window](DpopConfig::iat_window) (default 60 s either side);
//! 6. `ath` is the base64url SHA-256 of the access token;
//! 7. the RFC 7638 SHA-256 thumbprint of `jwk` equals the token's `cnf.jkt`;
//! 8. the `jti` was not seen before (replay cache, keyed by the SHA-256 of `jti`, entries kept
//!    for the whole `iat` window so a proof cannot come back once it is forgotten).
//!
//! A token with `cnf.jkt` presented with the `Bearer` scheme is refused
//! ([`DpopError::BoundToken`], RFC 9449 §7.2), and so is a token without `cnf.jkt` presented
//! with the `DPoP` scheme ([`DpopError::NotBound`]).
//!
//! **Without** a `DpopConfig` the layer accepts only the `Bearer` scheme and still refuses
//! tokens with `cnf.jkt` (fail closed): such a token says it may only be used with a proof of
//! possession, which that layer cannot check.
//!
//! Server-provided nonces (`use_dpop_nonce`, RFC 9449 §8, §9) are not supported.
//!
//! ```
//! use std::time::Duration;
//! use bearer_guard::{Algorithm, DpopConfig};
//!
//! let dpop = DpopConfig::new()
//!     .algorithms([Algorithm::ES256, Algorithm::EdDSA])
//!     .iat_window(Duration::from_secs(30), Duration::from_secs(5))
//!     // The URL clients use, as seen outside any proxy.
//!     .base_url(url::Url::parse("https://api.example").unwrap());
//! // AuthLayer::new(validator).dpop(dpop)
//! # let _ = dpop;
//! ```

use std::fmt;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::header::HOST;
use http::{HeaderMap, Method, Request};
use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::bearer::Scheme;
use crate::crypto::Backend;
use crate::jwt::{
    decode_object, numeric_date, parse_alg, split_compact, unix_now, DEFAULT_ALGORITHMS,
};
use crate::{AuthError, Claims, DpopError, TokenError};

/// The `DPoP` request header.
pub const DPOP_HEADER: &str = "dpop";

/// Members of a JWK that hold private key material (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// How the layer checks DPoP proofs. Made by [`DpopConfig::new`] and passed to
/// [`AuthLayer::dpop`](crate::AuthLayer::dpop). See the [module docs](self) for the rules.
#[derive(Debug, Clone)]
pub struct DpopConfig {
    algorithms: Vec<Algorithm>,
    max_age: Duration,
    max_future: Duration,
    base_url: Option<Url>,
    default_scheme: http::uri::Scheme,
    replay_capacity: u64,
    max_proof_bytes: usize,
    backend: Backend,
}

impl Default for DpopConfig {
    fn default() -> Self {
        DpopConfig {
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            max_age: Duration::from_secs(60),
            max_future: Duration::from_secs(60),
            base_url: None,
            default_scheme: http::uri::Scheme::HTTPS,
            replay_capacity: 100_000,
            max_proof_bytes: 8 * 1024,
            backend: Backend::default(),
        }
    }
}

impl DpopConfig {
    /// The defaults: every asymmetric algorithm of
    /// [`DEFAULT_ALGORITHMS`], `iat` within 60 s either side,
    /// request URI from the request (or `https://` + `Host`), replay cache of 100,000 proofs,
    /// proofs of at most 8 KiB.
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the proof algorithm allow-list (sent as `algs` in challenges). HMAC algorithms
    /// are dropped: a proof must be signed with a private key.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms
            .into_iter()
            .filter(|a| !matches!(a, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512))
            .collect();
        self.algorithms.dedup();
        self
    }

    /// Accepts proofs whose `iat` is at most `past` old and at most `future` ahead of this
    /// server's clock (default 60 s each, each capped at 1 hour: a proof is meant to be
    /// fresh). Seen `jti`s are kept for `past + future`.
    pub fn iat_window(mut self, past: Duration, future: Duration) -> Self {
        const MAX: Duration = Duration::from_secs(3600);
        self.max_age = past.min(MAX);
        self.max_future = future.min(MAX);
        self
    }

    /// The external URL of this service, as clients see it (behind a proxy that rewrites
    /// scheme, host or port). When set, the URI a proof's `htu` must match is this URL's
    /// scheme, host and port, its path (without trailing `/`) followed by the request path.
    ///
    /// When not set, the URI is taken from the request: its absolute URI if it has one
    /// (HTTP/2, proxies), else the [default scheme](Self::default_scheme) with the `Host`
    /// header and the request path.
    pub fn base_url(mut self, url: Url) -> Self {
        self.base_url = Some(url);
        self
    }

    /// The scheme assumed for requests whose URI is not absolute and no
    /// [`base_url`](Self::base_url) is set (default `https`).
    pub fn default_scheme(mut self, scheme: http::uri::Scheme) -> Self {
        self.default_scheme = scheme;
        self
    }

    /// How many proof `jti`s the replay cache keeps (default 100,000). Size it above the number
    /// of DPoP requests expected within the `iat` window: a `jti` evicted early could be
    /// replayed.
    pub fn replay_cache(mut self, capacity: u64) -> Self {
        self.replay_capacity = capacity;
        self
    }

    /// The largest proof accepted, in bytes (default 8 KiB).
    pub fn max_proof_bytes(mut self, n: usize) -> Self {
        self.max_proof_bytes = n;
        self
    }

    /// The signature-verification backend (default [`Backend::default`]).
    pub fn backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }
}

/// Checks DPoP proofs; holds the replay cache. Shared by all services of a layer.
pub(crate) struct DpopVerifier {
    config: DpopConfig,
    algs: String,
    seen: moka::sync::Cache<[u8; 32], ()>,
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DpopVerifier {
    pub(crate) fn new(config: DpopConfig) -> Self {
        let algs = config
            .algorithms
            .iter()
            .filter_map(|a| alg_name(*a))
            .collect::<Vec<_>>()
            .join(" ");
        let ttl = (config.max_age + config.max_future).max(Duration::from_secs(1));
        let seen = moka::sync::Cache::builder()
            .max_capacity(config.replay_capacity)
            .time_to_live(ttl)
            .build();
        DpopVerifier { config, algs, seen }
    }

    /// The accepted algorithms, space-separated (the `algs` challenge parameter).
    pub(crate) fn algs(&self) -> &str {
        &self.algs
    }

    /// Checks the DPoP binding of a request whose token, presented with `scheme`, was
    /// validated into `claims`.
    pub(crate) fn check_request<B>(
        &self,
        req: &Request<B>,
        scheme: Scheme,
        token: &str,
        claims: &Claims,
    ) -> Result<(), AuthError> {
        let jkt = bound_key(claims)?;
        match (scheme, jkt) {
            (Scheme::Bearer, None) => Ok(()),
            (Scheme::Bearer, Some(_)) => Err(DpopError::BoundToken.into()),
            (Scheme::DPoP, jkt) => {
                let uri = self.request_uri(req).ok_or(DpopError::WrongUri)?;
                self.verify(req.headers(), req.method(), &uri, Some(token), jkt)?;
                if jkt.is_none() {
                    return Err(DpopError::NotBound.into());
                }
                Ok(())
            }
        }
    }

    /// The absolute URI the request was sent to, as far as `htu` is concerned.
    fn request_uri<B>(&self, req: &Request<B>) -> Option<Url> {
        let path = req.uri().path();
        let text = if let Some(base) = &self.config.base_url {
            let mut base = base.clone();
            base.set_query(None);
            base.set_fragment(None);
            format!("{}{}", base.as_str().trim_end_matches('/'), path)
        } else if let (Some(scheme), Some(authority)) = (req.uri().scheme(), req.uri().authority())
        {
            format!("{scheme}://{authority}{path}")
        } else {
            let mut hosts = req.headers().get_all(HOST).iter();
            let host = hosts.next()?.to_str().ok()?;
            if hosts.next().is_some() || host.contains(['/', '?', '#', '@']) {
                return None;
            }
            format!("{}://{host}{path}", self.config.default_scheme)
        };
        Url::parse(&text).ok()
    }

    /// Verifies the one `DPoP` proof in `headers` for a request `method` to `uri`; with
    /// `token`, `ath` must be its hash; with `jkt`, the proof key must have that thumbprint.
    /// Records the proof's `jti` once everything else holds. Returns the key's thumbprint.
    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
        token: Option<&str>,
        jkt: Option<&str>,
    ) -> Result<String, DpopError> {
        let mut proofs = headers.get_all(DPOP_HEADER).iter();
        let proof = proofs.next().ok_or(DpopError::Missing)?;
        if proofs.next().is_some() {
            return Err(DpopError::Multiple);
        }
        let proof = proof.to_str().map_err(|_| DpopError::Malformed)?;
        let (thumbprint, claims) = self.verify_jws(proof)?;

        let string = |name: &str| match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.as_str()),
            _ => Err(DpopError::MissingClaim),
        };
        let jti = string("jti")?;
        let htm = string("htm")?;
        let htu = string("htu")?;
        let iat = numeric_date(&claims, "iat")
            .map_err(|_| DpopError::MissingClaim)?
            .ok_or(DpopError::MissingClaim)?;

        if htm != method.as_str() {
            return Err(DpopError::WrongMethod);
        }
        if !same_target(htu, uri) {
            return Err(DpopError::WrongUri);
        }
        let now = unix_now();
        if iat < now - self.config.max_age.as_secs_f64()
            || iat > now + self.config.max_future.as_secs_f64()
        {
            return Err(DpopError::OutsideWindow);
        }
        if let Some(token) = token {
            let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
            if string("ath")? != expected {
                return Err(DpopError::WrongTokenHash);
            }
        }
        if jkt.is_some_and(|jkt| jkt != thumbprint) {
            return Err(DpopError::KeyMismatch);
        }
        let key: [u8; 32] = Sha256::digest(jti.as_bytes()).into();
        if !self.seen.entry(key).or_insert_with(|| ()).is_fresh() {
            return Err(DpopError::Replayed);
        }
        Ok(thumbprint)
    }

    /// Checks the proof's shape, header, key and signature; returns the key's thumbprint and
    /// the (now authenticated) claims.
    fn verify_jws(&self, proof: &str) -> Result<(String, Map<String, Value>), DpopError> {
        let [header, payload, signature] =
            split_compact(proof, self.config.max_proof_bytes).map_err(|_| DpopError::Malformed)?;
        let signing_input = proof
            .get(..header.len() + 1 + payload.len())
            .ok_or(DpopError::Malformed)?;
        let header = decode_object(header).map_err(|_| DpopError::Malformed)?;
        if header.contains_key("crit") {
            return Err(DpopError::Malformed);
        }
        match header.get("typ") {
            Some(Value::String(t)) if t.eq_ignore_ascii_case("dpop+jwt") => {}
            _ => return Err(DpopError::WrongType),
        }
        let alg = match header.get("alg") {
            Some(Value::String(name)) => parse_alg(name)
                .filter(|a| self.config.algorithms.contains(a))
                .ok_or(DpopError::AlgorithmNotAllowed)?,
            _ => return Err(DpopError::Malformed),
        };
        let jwk = match header.get("jwk") {
            Some(Value::Object(jwk)) => jwk,
            _ => return Err(DpopError::InvalidKey),
        };
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(DpopError::PrivateKey);
        }
        let thumbprint = thumbprint(jwk).ok_or(DpopError::InvalidKey)?;
        let (_, key) = crate::jwks::parse_jwk(Value::Object(jwk.clone()))
            .filter(|(_, key)| key.accepts(alg))
            .ok_or(DpopError::InvalidKey)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| DpopError::Malformed)?;
        match self
            .config
            .backend
            .verify(alg, &key.decoding, signing_input.as_bytes(), &signature)
        {
            Ok(true) => {}
            Ok(false) => return Err(DpopError::InvalidSignature),
            Err(()) => return Err(DpopError::InvalidKey),
        }
        let claims = decode_object(payload).map_err(|_| DpopError::Malformed)?;
        Ok((thumbprint, claims))
    }
}

/// The token's `cnf.jkt`, if it has one; a `cnf.jkt` that is not a string is invalid.
fn bound_key(claims: &Claims) -> Result<Option<&str>, AuthError> {
    match claims.get("cnf").and_then(|cnf| cnf.get("jkt")) {
        None => Ok(None),
        Some(Value::String(jkt)) => Ok(Some(jkt)),
        Some(_) => Err(TokenError::InvalidClaim.into()),
    }
}

/// The check of a layer without DPoP support: tokens bound with `cnf.jkt` are refused.
pub(crate) fn refuse_bound(claims: &Claims) -> Result<(), AuthError> {
    match bound_key(claims)? {
        None => Ok(()),
        Some(_) => Err(DpopError::BoundToken.into()),
    }
}

/// Whether `htu` names `uri` (RFC 9449 §4.3 point 9): both parsed and normalised as URLs, then
/// scheme, host, port and path compared; query and fragment ignored.
fn same_target(htu: &str, uri: &Url) -> bool {
    let Ok(htu) = Url::parse(htu) else {
        return false;
    };
    htu.scheme() == uri.scheme()
        && htu.host_str().is_some()
        && htu.host_str() == uri.host_str()
        && htu.port_or_known_default() == uri.port_or_known_default()
        && htu.path() == uri.path()
        && htu.username() == uri.username()
        && htu.password() == uri.password()
}

/// The RFC 7638 SHA-256 thumbprint of a public JWK, base64url-encoded: the required members in
/// lexicographic order, as JSON without whitespace. `None` for other key types or when a
/// required member is not a string.
///
/// ```
/// # use serde_json::json;
/// // The example of RFC 7638 §3.1.
/// let jwk = json!({
///     "kty": "RSA", "e": "AQAB", "alg": "RS256", "kid": "2011-04-29",
///     "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
/// });
/// assert_eq!(
///     bearer_guard::dpop::jwk_thumbprint(jwk.as_object().unwrap()).unwrap(),
///     "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
/// );
/// ```
pub fn jwk_thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    thumbprint(jwk)
}

fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "OKP" => &["crv", "kty", "x"],
        "RSA" => &["e", "kty", "n"],
        _ => return None,
    };
    let mut canonical = String::from("{");
    for (i, name) in members.iter().enumerate() {
        let value = jwk.get(*name)?.as_str()?;
        if i > 0 {
            canonical.push(',');
        }
        canonical.push_str(&serde_json::to_string(name).ok()?);
        canonical.push(':');
        canonical.push_str(&serde_json::to_string(value).ok()?);
    }
    canonical.push('}');
    Some(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The JOSE name of an algorithm.
fn alg_name(alg: Algorithm) -> Option<&'static str> {
    Some(match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn htu_comparison_normalises() {
        let uri = Url::parse("https://api.example/a/b").unwrap();
        assert!(same_target("https://api.example/a/b", &uri));
        assert!(same_target("HTTPS://API.example:443/a/b?x=1#f", &uri));
        assert!(!same_target("https://api.example/a/b/", &uri));
        assert!(!same_target("http://api.example/a/b", &uri));
        assert!(!same_target("https://api.example:8443/a/b", &uri));
        assert!(!same_target("https://other.example/a/b", &uri));
        assert!(!same_target("/a/b", &uri));
    }

    #[test]
    fn thumbprints_of_ec_and_okp() {
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "kid": "ignored"});
        let expected = URL_SAFE_NO_PAD.encode(Sha256::digest(
            br#"{"crv":"P-256","kty":"EC","x":"a","y":"b"}"#,
        ));
        assert_eq!(thumbprint(ec.as_object().unwrap()), Some(expected));
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "a"});
        let expected =
            URL_SAFE_NO_PAD.encode(Sha256::digest(br#"{"crv":"Ed25519","kty":"OKP","x":"a"}"#));
        assert_eq!(thumbprint(okp.as_object().unwrap()), Some(expected));
        assert_eq!(
            thumbprint(json!({"kty": "oct", "k": "a"}).as_object().unwrap()),
            None
        );
        assert_eq!(
            thumbprint(
                json!({"kty": "EC", "crv": "P-256", "x": "a"})
                    .as_object()
                    .unwrap()
            ),
            None
        );
    }

    #[test]
    fn huge_iat_window_is_capped_not_a_panic() {
        let config = DpopConfig::new().iat_window(Duration::MAX, Duration::MAX);
        assert_eq!(config.max_age, Duration::from_secs(3600));
        assert_eq!(config.max_future, Duration::from_secs(3600));
        let _ = DpopVerifier::new(config);
    }

    #[test]
    fn request_uri_sources() {
        let v = DpopVerifier::new(DpopConfig::new());
        let req = Request::get("/p?q=1")
            .header(HOST, "api.example:8443")
            .body(())
            .unwrap();
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://api.example:8443/p"
        );
        let req = Request::get("http://h.example/p").body(()).unwrap();
        assert_eq!(v.request_uri(&req).unwrap().as_str(), "http://h.example/p");
        let v = DpopVerifier::new(
            DpopConfig::new().base_url(Url::parse("https://ext.example/api/").unwrap()),
        );
        assert_eq!(
            v.request_uri(&req).unwrap().as_str(),
            "https://ext.example/api/p"
        );
        let v = DpopVerifier::new(DpopConfig::new());
        let req = Request::get("/p").header(HOST, "evil/x").body(()).unwrap();
        assert!(v.request_uri(&req).is_none());
    }
}
