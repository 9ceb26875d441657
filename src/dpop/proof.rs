//! Checking a request's DPoP proof (RFC 9449 §4.3, §7.1): the JWS through the JOSE core, then
//! its claims, nonce, `jti` and binding to the access token.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::{HeaderMap, Method, Request};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::nonce::Nonces;
use super::thumbprint::thumbprint;
use super::uri::{allowed_hosts, request_uri, same_target, AllowedHost};
use super::{DpopConfig, DPOP_HEADER};
use crate::bearer::AuthScheme;
use crate::error::dpop::Nonce;
use crate::error::UnavailableError;
use crate::jose::{
    self, alg_name, numeric_date, unix_now, AlgError, Compact, Header, SignatureError,
    MAX_SIGNATURE_BYTES,
};
use crate::jwks::parse_jwk;
use crate::store::replay::{ReplayCache, Seen};
use crate::store::ReplayStore;
use crate::{error::DpopError, error::TokenError, AuthError, BuildError};

/// The `typ` of a proof (RFC 9449 §4.2), compared without case.
const PROOF_TYPE: &str = "dpop+jwt";

/// Members of a JWK that hold private key material (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// What a verified proof yields.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The RFC 7638 thumbprint of the proof key (read by [`ProofVerifier`](super::ProofVerifier)
    /// and the fuzz targets; the layer compares it with `cnf.jkt` before accepting).
    pub(crate) jkt: String,
    /// A fresh nonce to send with the response: the proof's nonce is past half its lifetime.
    pub(crate) nonce: Option<Nonce>,
}

/// The request a proof is checked against: its `DPoP` headers, method and URI, and for a bound
/// token the token (`ath` must be its hash) and its `cnf.jkt` (the proof key's thumbprint).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) headers: &'a HeaderMap,
    pub(crate) method: &'a Method,
    pub(crate) uri: &'a Url,
    pub(crate) token: Option<&'a str>,
    pub(crate) jkt: Option<&'a str>,
}

/// Checks DPoP proofs; holds the replay cache. Shared by all services of a layer.
pub(crate) struct DpopVerifier {
    pub(super) config: DpopConfig,
    /// [`DpopConfig::allowed_hosts`], parsed.
    pub(super) hosts: Vec<AllowedHost>,
    algs: String,
    seen: Replay,
    nonces: Option<Nonces>,
}

/// Where accepted `jti`s are remembered.
enum Replay {
    /// In the process, decided synchronously (the default).
    Memory(ReplayCache),
    /// In a shared store ([`DpopConfig::shared_store`]), awaited.
    Shared(Arc<dyn ReplayStore>),
}

/// A check that waits for the shared replay store.
pub(crate) type PendingCheck<T> = Pin<Box<dyn Future<Output = Result<T, AuthError>> + Send>>;

/// The outcome of a proof check: decided, or waiting for the shared replay store.
pub(crate) enum Checked<T> {
    /// Decided (in-memory replay cache).
    Done(T),
    /// Everything but the replay check holds; this future makes it.
    Pending(PendingCheck<T>),
}

impl fmt::Debug for DpopVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DpopVerifier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl DpopVerifier {
    /// The verifier of the layer: [`new`](Self::new), and the request URI must not depend on
    /// the client alone ([`DpopConfig::base_url`] or [`DpopConfig::allowed_hosts`]).
    pub(crate) fn for_layer(config: DpopConfig) -> Result<Self, BuildError> {
        config.check_request_uri()?;
        Self::new(config)
    }

    /// A verifier of proofs for URIs given by the caller; refuses a nonce secret under 32
    /// bytes and `allowed_hosts` entries that are not a plain `host[:port]`.
    pub(crate) fn new(config: DpopConfig) -> Result<Self, BuildError> {
        config.check()?;
        let hosts = allowed_hosts(&config.allowed_hosts)?;
        let algs = config
            .algorithms
            .iter()
            .filter_map(|a| alg_name(*a))
            .collect::<Vec<_>>()
            .join(" ");
        let seen = match &config.shared_store {
            Some(store) => Replay::Shared(store.0.clone()),
            None => Replay::Memory(ReplayCache::new(config.replay_capacity)),
        };
        let nonces = config
            .nonce_lifetime
            .map(|lifetime| Nonces::new(lifetime, config.nonce_secret.as_ref()));
        Ok(DpopVerifier {
            config,
            hosts,
            algs,
            seen,
            nonces,
        })
    }

    /// The accepted algorithms, space-separated (the `algs` challenge parameter).
    pub(crate) fn algs(&self) -> &str {
        &self.algs
    }

    /// Checks the DPoP binding of a request whose token, presented with `scheme`, was
    /// validated and is bound to `jkt` (its `cnf.jkt`, read by
    /// [`Claims::confirmation`](crate::Claims::confirmation)). Returns the fresh nonce to send
    /// with the response, if any.
    pub(crate) fn check_request<B>(
        &self,
        req: &Request<B>,
        scheme: AuthScheme,
        token: &str,
        jkt: Option<&str>,
    ) -> Result<Checked<Option<Nonce>>, AuthError> {
        match (scheme, jkt) {
            (AuthScheme::Bearer, None) => Ok(Checked::Done(None)),
            (AuthScheme::Bearer, Some(_)) => Err(DpopError::BoundToken.into()),
            // Refused before the proof is looked at: a proof with an unbound token must not
            // use up room in the replay cache (nor its `jti`).
            (AuthScheme::DPoP, None) => Err(DpopError::NotBound.into()),
            (AuthScheme::DPoP, Some(jkt)) => {
                let uri = request_uri(&self.config, &self.hosts, req)?;
                let target = Target {
                    headers: req.headers(),
                    method: req.method(),
                    uri: &uri,
                    token: Some(token),
                    jkt: Some(jkt),
                };
                Ok(match self.check_at(&target, unix_now())? {
                    Checked::Done(accepted) => Checked::Done(accepted.nonce),
                    Checked::Pending(check) => {
                        Checked::Pending(Box::pin(async move { Ok(check.await?.nonce) }))
                    }
                })
            }
        }
    }

    /// Verifies the one `DPoP` proof of `target`: its `headers`, for a request `method` to
    /// `uri`; with `token`, `ath` must be its hash; with `jkt`, the proof key must have that
    /// thumbprint. With nonces on, the proof must carry a valid `nonce`. Records the proof's
    /// `jti` once everything else holds; a refusal is an [`AuthError::Dpop`], or
    /// [`AuthError::Unavailable`] when the replay cache is full or the shared replay store
    /// cannot answer.
    pub(crate) async fn verify_async(&self, target: &Target<'_>) -> Result<Accepted, AuthError> {
        match self.check_at(target, unix_now())? {
            Checked::Done(accepted) => Ok(accepted),
            Checked::Pending(check) => check.await,
        }
    }

    /// [`verify_async`](Self::verify_async) for a verifier without a shared replay store;
    /// with one, refused as a misconfiguration (it must be awaited).
    pub(crate) fn verify(&self, target: &Target<'_>) -> Result<Accepted, AuthError> {
        self.verify_at(target, unix_now())
    }

    /// [`verify`](Self::verify) with the clock read as `now` (seconds since the Unix epoch),
    /// for the `iat` window, nonce ages and replay-cache expiry; the fuzz target fixes it to
    /// stay deterministic.
    pub(crate) fn verify_at(&self, target: &Target<'_>, now: f64) -> Result<Accepted, AuthError> {
        match self.check_at(target, now)? {
            Checked::Done(accepted) => Ok(accepted),
            Checked::Pending(_) => Err(AuthError::Misconfigured(
                "a DPoP verifier with a shared replay store must be awaited \
                 (ProofVerifier::verify_proof_async)",
            )),
        }
    }

    /// Every check, the replay check last (after the binding to `target.jkt`, so that a
    /// proof that does not hold the token's key uses up neither room nor its `jti`): decided
    /// at once with the in-memory cache, or a future that asks the shared store.
    pub(super) fn check_at(
        &self,
        target: &Target<'_>,
        now: f64,
    ) -> Result<Checked<Accepted>, AuthError> {
        let (accepted, key, iat) = self.check_proof(target, now)?;
        // The proof passes the window while `iat >= now - max_age`: keep its jti until then
        // (rounded up; `as` saturates, and `iat` is a finite date before the year 10000).
        let expiry = (iat + self.config.max_age.as_secs_f64()).ceil() as u64;
        let seen = match &self.seen {
            Replay::Memory(seen) => seen,
            Replay::Shared(store) => {
                let store = store.clone();
                return Ok(Checked::Pending(Box::pin(async move {
                    match store.insert_if_absent(key, expiry).await {
                        Ok(true) => Ok(accepted),
                        Ok(false) => Err(DpopError::Replayed.into()),
                        Err(e) => Err(UnavailableError::ReplayStore(e).into()),
                    }
                })));
            }
        };
        Ok(Checked::Done(match seen.insert(key, expiry, now as u64) {
            Seen::Fresh => accepted,
            Seen::Replayed => return Err(DpopError::Replayed.into()),
            Seen::Full => {
                return Err(UnavailableError::ReplayCacheFull {
                    capacity: seen.capacity,
                }
                .into())
            }
        }))
    }

    /// Every check of [`verify_at`](Self::verify_at) but the replay cache; returns what an
    /// accepted proof yields, the SHA-256 of its `jti` and its `iat`.
    fn check_proof(
        &self,
        target: &Target<'_>,
        now: f64,
    ) -> Result<(Accepted, [u8; 32], f64), DpopError> {
        let Target {
            headers,
            method,
            uri,
            token,
            jkt,
        } = *target;
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
        let mut fresh = None;
        if let Some(nonces) = &self.nonces {
            // Whole seconds; `as` saturates (and the clock is after 1970).
            let now = now as u64;
            let age = match claims.get("nonce") {
                Some(Value::String(nonce)) => nonces.age(nonce, now),
                _ => None,
            };
            match age {
                None => return Err(DpopError::UseNonce(nonces.mint(now))),
                Some(age) if age.saturating_mul(2) > nonces.lifetime => {
                    fresh = Some(nonces.mint(now));
                }
                Some(_) => {}
            }
        }
        let accepted = Accepted {
            jkt: thumbprint,
            nonce: fresh,
        };
        Ok((accepted, Sha256::digest(jti.as_bytes()).into(), iat))
    }

    /// Checks the proof's shape, header, key and signature; returns the key's thumbprint and
    /// the (now authenticated) claims.
    fn verify_jws(&self, proof: &str) -> Result<(String, Map<String, Value>), DpopError> {
        let jws =
            Compact::split(proof, self.config.max_proof_bytes).map_err(|_| DpopError::Malformed)?;
        let header = Header::decode(jws.header).map_err(|_| DpopError::Malformed)?;
        if header.has_crit() {
            return Err(DpopError::Malformed);
        }
        if !header.typ_is(&[PROOF_TYPE]) {
            return Err(DpopError::WrongType);
        }
        let alg = header
            .alg(|a| self.config.algorithms.contains(a))
            .map_err(|e| match e {
                AlgError::Malformed => DpopError::Malformed,
                AlgError::NotAllowed => DpopError::AlgorithmNotAllowed,
            })?;
        let jwk = header.jwk().ok_or(DpopError::InvalidKey)?;
        if PRIVATE_MEMBERS.iter().any(|m| jwk.contains_key(*m)) {
            return Err(DpopError::PrivateKey);
        }
        let thumbprint = thumbprint(jwk).ok_or(DpopError::InvalidKey)?;
        let key = parse_jwk(Value::Object(jwk.clone()), alg, self.config.backend)
            .filter(|key| key.accepts(alg))
            .ok_or(DpopError::InvalidKey)?;
        let mut buf = [0; MAX_SIGNATURE_BYTES];
        let signature = jws.signature_into(&mut buf).map_err(|e| match e {
            TokenError::InvalidSignature => DpopError::InvalidSignature,
            _ => DpopError::Malformed,
        })?;
        let message = jws.signing_input.as_bytes();
        match jose::verify(self.config.backend, alg, &key.prepared, message, signature) {
            Ok(()) => {}
            Err(SignatureError::Invalid) => return Err(DpopError::InvalidSignature),
            Err(SignatureError::KeyUnusable) => return Err(DpopError::InvalidKey),
        }
        let claims = jws.payload_object().map_err(|_| DpopError::Malformed)?;
        Ok((thumbprint, claims))
    }
}

/// The check of a layer without DPoP support: tokens bound with `cnf.jkt` are refused.
pub(crate) fn refuse_bound(jkt: Option<&str>) -> Result<(), AuthError> {
    match jkt {
        None => Ok(()),
        Some(_) => Err(DpopError::BoundToken.into()),
    }
}
