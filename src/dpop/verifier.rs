//! [`ProofVerifier`]: DPoP proofs checked on their own, outside the layer (e.g. at a token
//! endpoint).

use http::{HeaderMap, Method};
use url::Url;

use super::proof::{Accepted, DpopVerifier, Target};
use super::{DpopConfig, Nonce};
use crate::{AuthError, BuildError};

/// Checks DPoP proofs on their own, outside [`AuthLayer`](crate::AuthLayer): for instance at an
/// authorization server's token endpoint (RFC 9449 §5), which binds the tokens it issues to the
/// key of the proof (`cnf.jkt`, see [`VerifiedProof::jkt`]).
///
/// A proof is checked by the rules 1–5, 8 and 9 of the [module docs](super), with the same
/// [`DpopConfig`] settings as the layer (algorithms, `iat` window, nonces, replay cache, size
/// limit): there is no access token here, so no `ath` and no `cnf.jkt` comparison. The URI is
/// the caller's (e.g. the token endpoint's configured URL), so [`DpopConfig::base_url`] and
/// [`DpopConfig::allowed_hosts`] are not needed here, and not used. The replay cache lives in
/// the verifier: share one verifier (e.g. in an `Arc`) between all requests.
///
/// ```
/// use bearer_guard::dpop::{ProofVerifier, DPOP_HEADER};
/// use bearer_guard::{AuthError, dpop::DpopConfig, error::DpopError};
/// use http::{HeaderMap, HeaderValue, Method};
/// use url::Url;
///
/// /// The thumbprint to bind a new token to, if the token request carries a proof.
/// fn binding(
///     verifier: &ProofVerifier,
///     headers: &HeaderMap,
///     token_endpoint: &Url,
/// ) -> Result<Option<String>, AuthError> {
///     if !headers.contains_key(DPOP_HEADER) {
///         return Ok(None);
///     }
///     let proof = verifier.verify_proof(headers, &Method::POST, token_endpoint)?;
///     Ok(Some(proof.jkt().to_owned()))
/// }
///
/// let verifier = ProofVerifier::new(DpopConfig::new()).unwrap();
/// let endpoint = Url::parse("https://as.example/token").unwrap();
/// assert_eq!(binding(&verifier, &HeaderMap::new(), &endpoint), Ok(None));
///
/// let mut headers = HeaderMap::new();
/// headers.insert(DPOP_HEADER, HeaderValue::from_static("not.a.proof"));
/// assert_eq!(
///     binding(&verifier, &headers, &endpoint),
///     Err(AuthError::Dpop(DpopError::Malformed))
/// );
/// ```
#[derive(Debug)]
pub struct ProofVerifier {
    inner: DpopVerifier,
}

impl ProofVerifier {
    /// A verifier with the rules of `config` and an empty replay cache.
    ///
    /// # Errors
    ///
    /// [`BuildError::Invalid`] when the [nonce secret](DpopConfig::nonce_secret) is shorter
    /// than 32 bytes, or an [`allowed_hosts`](DpopConfig::allowed_hosts) entry is not a plain
    /// `host[:port]`: the same settings that make [`AuthLayer::dpop`](crate::AuthLayer::dpop)
    /// fail, but for the request URI source, which this verifier does not use.
    pub fn new(config: DpopConfig) -> Result<Self, BuildError> {
        Ok(ProofVerifier {
            inner: DpopVerifier::new(config)?,
        })
    }

    /// Verifies the one `DPoP` header in `headers` as a proof for a `method` request to `uri`
    /// (compared with `htu` without query and fragment), now. Records its `jti` once
    /// everything else holds, so the same proof is refused the next time
    /// ([`DpopError::Replayed`](crate::error::DpopError::Replayed)).
    ///
    /// # Errors
    ///
    /// [`AuthError::Dpop`] with the [`DpopError`](crate::error::DpopError) of the first rule the proof breaks:
    /// [`DpopError::Missing`](crate::error::DpopError::Missing) without a `DPoP` header, [`DpopError::Multiple`](crate::error::DpopError::Multiple) with more than
    /// one, and with nonces on [`DpopError::UseNonce`](crate::error::DpopError::UseNonce) carrying a fresh nonce for the client to
    /// retry with. [`AuthError::Unavailable`] when the replay cache is full of proofs that are
    /// still inside the `iat` window (fail closed; answer 503).
    pub fn verify_proof(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
    ) -> Result<VerifiedProof, AuthError> {
        self.inner
            .verify(&proof_only(headers, method, uri))
            .map(VerifiedProof::from)
    }

    /// [`verify_proof`](Self::verify_proof), awaiting the shared replay store when the config
    /// has one ([`DpopConfig::shared_store`]; `verify_proof` refuses such a config with
    /// [`AuthError::Misconfigured`]). Without one it answers at once, as `verify_proof`.
    ///
    /// # Errors
    ///
    /// As [`verify_proof`](Self::verify_proof); also [`AuthError::Unavailable`] when the shared
    /// replay store cannot answer (fail closed).
    pub async fn verify_proof_async(
        &self,
        headers: &HeaderMap,
        method: &Method,
        uri: &Url,
    ) -> Result<VerifiedProof, AuthError> {
        self.inner
            .verify_async(&proof_only(headers, method, uri))
            .await
            .map(VerifiedProof::from)
    }
}

/// A proof checked on its own: no access token (`ath`) and no binding (`cnf.jkt`) to compare.
fn proof_only<'a>(headers: &'a HeaderMap, method: &'a Method, uri: &'a Url) -> Target<'a> {
    Target {
        headers,
        method,
        uri,
        token: None,
        jkt: None,
    }
}

impl From<Accepted> for VerifiedProof {
    fn from(accepted: Accepted) -> Self {
        VerifiedProof {
            jkt: accepted.jkt,
            nonce: accepted.nonce,
        }
    }
}

/// A DPoP proof that [`ProofVerifier::verify_proof`] accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    jkt: String,
    nonce: Option<Nonce>,
}

impl VerifiedProof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's key, base64url-encoded: the `cnf.jkt` of
    /// a token bound to that key (see [`jwk_thumbprint`](super::jwk_thumbprint)).
    pub fn jkt(&self) -> &str {
        &self.jkt
    }

    /// A fresh nonce to send back in the [`DPoP-Nonce`](super::NONCE_HEADER) response header: only
    /// with [nonces](DpopConfig::nonces) on, when the proof's nonce is past half its lifetime.
    pub fn fresh_nonce(&self) -> Option<Nonce> {
        self.nonce
    }
}
