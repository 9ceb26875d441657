//! Mutual TLS for certificate-bound tokens (RFC 8705), shared by `examples/mtls.rs` and
//! `tests/integration/mtls.rs`: a throwaway certificate authority made with rcgen, an HTTPS server
//! (tokio-rustls + hyper) that asks for client certificates and hands each request's
//! certificate to bearer-guard as a [`ClientCertificate`] extension, and a client that
//! presents one.
//!
//! [`serve_mtls`] is the part to copy into a real server: the TLS acceptor is the only place
//! that knows which certificate the client authenticated with, so it is the one that inserts
//! [`ClientCertificate`] into every request of the connection.
#![allow(dead_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::Router;
use bearer_guard::mtls::ClientCertificate;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::crypto::{aws_lc_rs, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};
use tower::ServiceExt;

/// Errors of setting things up.
pub type BoxError = Box<dyn Error + Send + Sync>;

/// A certificate and its private key.
pub struct Identity {
    /// The DER certificate: what a bound token's `cnf.x5t#S256` is the SHA-256 of.
    pub cert: CertificateDer<'static>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key.clone_key())
    }
}

/// A certificate authority that issues server and client certificates for `localhost`.
pub struct TestCa {
    root: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

/// The crypto provider, named explicitly: with both rustls providers compiled in, none is the
/// process default.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(aws_lc_rs::default_provider())
}

impl TestCa {
    /// A new authority with a fresh key.
    pub fn new() -> Result<Self, BoxError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "bearer-guard test CA");
        let key = KeyPair::generate()?;
        let root = params.self_signed(&key)?.der().clone();
        Ok(TestCa {
            root,
            issuer: Issuer::new(params, key),
        })
    }

    /// A certificate for `localhost` with the common name `name` and a fresh key (each call
    /// gives another certificate, so another thumbprint).
    pub fn issue(&self, name: &str) -> Result<Identity, BoxError> {
        let mut params = CertificateParams::new(vec!["localhost".to_owned()])?;
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?.der().clone();
        Ok(Identity {
            cert,
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    fn roots(&self) -> Result<Arc<RootCertStore>, BoxError> {
        let mut roots = RootCertStore::empty();
        roots.add(self.root.clone())?;
        Ok(Arc::new(roots))
    }

    /// A TLS server configuration with `server`'s certificate that asks every client for a
    /// certificate issued by this authority, and also lets clients without one connect (their
    /// requests then carry no [`ClientCertificate`]: bound tokens are refused, others pass).
    pub fn server_config(&self, server: &Identity) -> Result<Arc<ServerConfig>, BoxError> {
        let verifier = WebPkiClientVerifier::builder_with_provider(self.roots()?, provider())
            .allow_unauthenticated()
            .build()?;
        let config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![server.cert.clone()], server.key())?;
        Ok(Arc::new(config))
    }

    /// A TLS client configuration that trusts this authority and presents `client`'s
    /// certificate, if any.
    pub fn client_config(&self, client: Option<&Identity>) -> Result<Arc<ClientConfig>, BoxError> {
        let builder = ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_root_certificates(self.roots()?);
        let config = match client {
            Some(id) => builder.with_client_auth_cert(vec![id.cert.clone()], id.key())?,
            None => builder.with_no_client_auth(),
        };
        Ok(Arc::new(config))
    }
}

/// Serves `app` over HTTPS on `listener`, with `config` (which asks for client certificates).
/// Every request of a connection on which the client authenticated with a certificate gets
/// that certificate as a [`ClientCertificate`] extension. Runs until the task is dropped.
pub async fn serve_mtls(listener: TcpListener, config: Arc<ServerConfig>, app: Router) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let (acceptor, app) = (acceptor.clone(), app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            // The end-entity certificate the client authenticated with (rustls has verified
            // the chain against the configured roots during the handshake).
            let certificate = tls
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|cert| ClientCertificate::new(cert.as_ref()));
            let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
                if let Some(cert) = &certificate {
                    req.extensions_mut().insert(cert.clone());
                }
                app.clone().oneshot(req.map(Body::new))
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// `GET https://localhost:PORT{path}` over a new TLS connection made with `config`, with
/// `token` as a bearer token; the status, the `WWW-Authenticate` header and the body.
pub async fn get(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    path: &str,
    token: &str,
) -> Result<(u16, String, String), BoxError> {
    let tcp = TcpStream::connect(addr).await?;
    let tls = TlsConnector::from(config)
        .connect(ServerName::try_from("localhost")?, tcp)
        .await?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    let req = http::Request::get(path)
        .header(http::header::HOST, "localhost")
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get(http::header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((
        status,
        challenge,
        String::from_utf8_lossy(&body).into_owned(),
    ))
}
