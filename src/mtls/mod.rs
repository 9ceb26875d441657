//! Certificate-bound access tokens (RFC 8705 mutual TLS) at the resource server.
//!
//! A certificate-bound access token carries the SHA-256 thumbprint of the client's X.509
//! certificate in `cnf.x5t#S256` (base64url of the SHA-256 of its DER encoding, RFC 8705
//! §3.1). The resource server accepts it only over a TLS connection on which the client
//! authenticated with that very certificate (§3): a stolen token is useless without the
//! certificate's private key.
//!
//! Certificate binding is an opt-in of the layer, [`AuthLayer::mtls`](crate::AuthLayer::mtls).
//! The [`Validator`](crate::Validator) checks the token alone, JWT and introspection alike;
//! the layer then checks the binding of every token that has `cnf.x5t#S256`:
//!
//! 1. the request must come with a client certificate, else 401 `invalid_token`
//!    ([`TokenError::CertificateRequired`]);
//! 2. the base64url SHA-256 of its DER encoding must equal `cnf.x5t#S256` (compared in
//!    constant time), else 401 `invalid_token` ([`TokenError::CertificateMismatch`]).
//!
//! Tokens without `cnf.x5t#S256` are not affected: they pass with or without a client
//! certificate, and the certificate is not even read. A token bound both to a DPoP key
//! (`cnf.jkt`) and to a certificate must satisfy both checks (the layer then also needs
//! [`AuthLayer::dpop`](crate::AuthLayer::dpop)). Any other confirmation method stays refused
//! ([`TokenError::UnsupportedConfirmation`]).
//!
//! **Without** [`AuthLayer::mtls`](crate::AuthLayer::mtls), tokens with `cnf.x5t#S256` are
//! refused with [`TokenError::UnsupportedConfirmation`] (fail closed).
//!
//! # Where the certificate comes from
//!
//! The layer does not terminate TLS. It learns the client certificate in one of two ways, both
//! explicit:
//!
//! - **From the connection (recommended).** The server's TLS acceptor asks for client
//!   certificates and, for every request of a connection on which the client presented one,
//!   inserts a [`ClientCertificate`] into the request extensions. With `tokio-rustls`, the
//!   certificate is the first entry of `ServerConnection::peer_certificates()`.
//!   `examples/mtls.rs` serves hyper this way. A request without the extension has no
//!   client certificate.
//! - **From a trusted TLS-terminating proxy**, with [`MtlsConfig::trusted_proxy_header`]: a
//!   request header in which the proxy forwards the certificate it verified, either the
//!   URL-encoded PEM of nginx's `$ssl_client_escaped_cert` ([`ProxyHeader::escaped_pem`]) or
//!   Envoy's `x-forwarded-client-cert` ([`ProxyHeader::envoy_xfcc`]). The header is parsed
//!   strictly and bounded in size ([`MtlsConfig::max_header_bytes`]); anything else is 401
//!   ([`TokenError::MalformedCertificate`]).
//!
//!   **Danger:** this header is only as trustworthy as the proxy. Turn it on only when every
//!   request reaches this server through that proxy and the proxy removes (or overwrites) the
//!   header on every client request; otherwise any client can claim any certificate by
//!   sending the header itself. nginx: `proxy_set_header X-SSL-Client-Cert
//!   $ssl_client_escaped_cert;` sets it on every proxied request (and drops it when there is
//!   no client certificate); Envoy: `forward_client_cert_details: SANITIZE_SET`.
//!
//! A [`ClientCertificate`] extension, when present, wins over the proxy header.
//!
//! ```
//! use bearer_guard::mtls::{MtlsConfig, ProxyHeader};
//! use http::HeaderName;
//!
//! // The certificate from the TLS connection (ClientCertificate extension) only:
//! let direct = MtlsConfig::new();
//! // Behind nginx, which forwards $ssl_client_escaped_cert in X-SSL-Client-Cert:
//! let nginx = MtlsConfig::new().trusted_proxy_header(ProxyHeader::escaped_pem(
//!     HeaderName::from_static("x-ssl-client-cert"),
//! ));
//! // AuthLayer::new(validator).mtls(direct)
//! # let _ = (direct, nginx);
//! ```
//!
//! `ResourceMetadata::tls_client_certificate_bound_access_tokens = Some(true)` advertises
//! the requirement (RFC 9728 §2), and the test server of `bearer-guard-testkit` mints bound
//! tokens with `server.mint().bound_to_certificate(&der)`.
//!
//! [`TokenError::CertificateRequired`]: crate::error::TokenError::CertificateRequired
//! [`TokenError::CertificateMismatch`]: crate::error::TokenError::CertificateMismatch
//! [`TokenError::MalformedCertificate`]: crate::error::TokenError::MalformedCertificate
//! [`TokenError::UnsupportedConfirmation`]: crate::error::TokenError::UnsupportedConfirmation

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use http::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::TokenError;

mod header;

pub use header::ProxyHeader;

/// The default of [`MtlsConfig::max_header_bytes`]: 16 KiB.
const DEFAULT_MAX_HEADER_BYTES: usize = 16 * 1024;

/// The client certificate of the TLS connection a request came over: its DER encoding, as the
/// client presented it (the end-entity certificate, the first of its chain).
///
/// Put into the request extensions by the server's TLS acceptor, for every request of a
/// connection on which the client authenticated with a certificate; read by a layer with
/// [`AuthLayer::mtls`](crate::AuthLayer::mtls). Cloning it costs a reference count. Its
/// `Debug` shows the length only.
///
/// ```
/// use bearer_guard::mtls::ClientCertificate;
/// # let der: Vec<u8> = vec![0x30, 0x00];
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(ClientCertificate::new(der));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCertificate(Arc<[u8]>);

impl ClientCertificate {
    /// Wraps the DER encoding of the client's end-entity certificate.
    pub fn new(der: impl Into<Arc<[u8]>>) -> Self {
        ClientCertificate(der.into())
    }

    /// The DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.0
    }

    /// Its RFC 8705 thumbprint: what a token bound to it carries in `cnf.x5t#S256`.
    ///
    /// ```
    /// use bearer_guard::mtls::ClientCertificate;
    /// let cert = ClientCertificate::new(b"not really DER".as_slice());
    /// assert_eq!(cert.thumbprint(), bearer_guard::mtls::thumbprint(b"not really DER"));
    /// ```
    pub fn thumbprint(&self) -> String {
        thumbprint(&self.0)
    }
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("der_len", &self.0.len())
            .finish_non_exhaustive()
    }
}

/// The RFC 8705 §3.1 thumbprint of a certificate: the base64url (unpadded) SHA-256 of its DER
/// encoding, as in `cnf.x5t#S256`.
pub fn thumbprint(der: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(der))
}

/// How a layer checks certificate-bound tokens; passed to
/// [`AuthLayer::mtls`](crate::AuthLayer::mtls). See the [module](self) for the rules.
#[derive(Debug, Clone)]
pub struct MtlsConfig {
    proxy: Option<ProxyHeader>,
    max_header_bytes: usize,
}

impl Default for MtlsConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl MtlsConfig {
    /// Certificate binding with the certificate of the TLS connection only: the
    /// [`ClientCertificate`] request extension that the server's TLS acceptor inserts.
    pub fn new() -> Self {
        MtlsConfig {
            proxy: None,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
        }
    }

    /// Also reads the client certificate from `header`, which a trusted TLS-terminating proxy
    /// sets, when the request has no [`ClientCertificate`] extension.
    ///
    /// **Only** when every request comes through that proxy and the proxy removes or
    /// overwrites this header on every client request: otherwise a client can name any
    /// certificate it likes, and certificate binding protects nothing.
    pub fn trusted_proxy_header(mut self, header: ProxyHeader) -> Self {
        self.proxy = Some(header);
        self
    }

    /// The longest proxy header value accepted, in bytes (default 16 KiB); a longer one is
    /// refused with [`TokenError::MalformedCertificate`].
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// The SHA-256 of the DER certificate the request came with, if any: the connection's
    /// first, then the proxy header (when configured).
    fn presented<B>(&self, req: &Request<B>) -> Result<Option<[u8; 32]>, TokenError> {
        if let Some(cert) = req.extensions().get::<ClientCertificate>() {
            return Ok(Some(Sha256::digest(cert.der()).into()));
        }
        match &self.proxy {
            Some(proxy) => proxy.read(req.headers(), self.max_header_bytes),
            None => Ok(None),
        }
    }
}

/// The certificate binding rule (RFC 8705 §3), for a token whose `cnf.x5t#S256` is `x5t`:
/// nothing to check without it; refused when the layer does not check certificates (`mtls`
/// is `None`); else the request's client certificate must have that thumbprint.
pub(crate) fn check_binding<B>(
    mtls: Option<&MtlsConfig>,
    req: &Request<B>,
    x5t: Option<&str>,
) -> Result<(), TokenError> {
    let Some(expected) = x5t else {
        return Ok(());
    };
    let Some(mtls) = mtls else {
        return Err(TokenError::UnsupportedConfirmation);
    };
    let presented = mtls
        .presented(req)?
        .ok_or(TokenError::CertificateRequired)?;
    let presented = URL_SAFE_NO_PAD.encode(presented);
    if bool::from(presented.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(TokenError::CertificateMismatch)
    }
}

#[cfg(test)]
mod tests;
