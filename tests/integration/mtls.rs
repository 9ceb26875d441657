//! Certificate-bound access tokens (RFC 8705) over real mutual-TLS loopback connections,
//! with certificates made in the test (rcgen) and the server of `examples/shared/mtls.rs`
//! (tokio-rustls + hyper, `ClientCertificate` from the connection); and through the header
//! of a trusted proxy. Each case for JWTs and for introspection (opaque tokens).

use crate::support;

#[path = "../../examples/shared/mtls.rs"]
mod shared;

use std::net::SocketAddr;

use axum::{routing::get, Extension, Router};
use bearer_guard::mtls::{MtlsConfig, ProxyHeader};
use bearer_guard::{
    error::TokenError, AuthLayer, Claims, IntrospectionValidator, ResourceMetadata, Validator,
};
use bearer_guard_testkit::{TestServer, TokenBuilder};
use sha2::{Digest, Sha256};
use shared::{Identity, TestCa};

const NGINX: &str = "x-ssl-client-cert";

#[derive(Debug, Clone, Copy)]
enum Kind {
    Jwt,
    Introspection,
}

fn app<V: Validator>(validator: V, mtls: Option<MtlsConfig>) -> Router {
    let layer = AuthLayer::new(validator).realm("test");
    let layer = match mtls {
        Some(config) => layer.mtls(config),
        None => layer,
    };
    Router::new()
        .route(
            "/me",
            get(|Extension(c): Extension<Claims>| async move {
                c.subject().unwrap_or("?").to_owned()
            }),
        )
        .layer(layer)
}

/// `/me` behind a layer with `mtls`, validating with `kind`.
async fn api(server: &TestServer, kind: Kind, mtls: Option<MtlsConfig>) -> Router {
    match kind {
        Kind::Jwt => app(support::validator(server).await, mtls),
        Kind::Introspection => app(
            IntrospectionValidator::builder(server.issuer())
                .client("api", "api-secret")
                .introspection_endpoint(server.introspection_endpoint())
                .audience("api")
                .build()
                .await
                .unwrap(),
            mtls,
        ),
    }
}

fn token(kind: Kind, builder: TokenBuilder) -> String {
    match kind {
        Kind::Jwt => builder.sign(),
        Kind::Introspection => builder.opaque(),
    }
}

struct Tls {
    ca: TestCa,
    alice: Identity,
    mallory: Identity,
    server: Identity,
}

fn tls() -> Tls {
    let ca = TestCa::new().unwrap();
    Tls {
        alice: ca.issue("alice").unwrap(),
        mallory: ca.issue("mallory").unwrap(),
        server: ca.issue("api").unwrap(),
        ca,
    }
}

async fn serve_tls(tls: &Tls, app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = tls.ca.server_config(&tls.server).unwrap();
    tokio::spawn(shared::serve_mtls(listener, config, app));
    addr
}

async fn over_tls(
    tls: &Tls,
    addr: SocketAddr,
    client: Option<&Identity>,
    token: &str,
) -> (u16, String) {
    let config = tls.ca.client_config(client).unwrap();
    let (status, challenge, body) = shared::get(addr, config, "/me", token).await.unwrap();
    (status, if status == 200 { body } else { challenge })
}

fn refused(answer: &(u16, String), error: TokenError) {
    assert_eq!(answer.0, 401, "{answer:?}");
    assert!(answer.1.contains(r#"error="invalid_token""#), "{answer:?}");
    let description = format!(r#"error_description="{}""#, error.description());
    assert!(answer.1.contains(&description), "{answer:?} {error:?}");
}

#[tokio::test]
async fn bound_tokens_need_their_certificate_over_mutual_tls() {
    let server = TestServer::start().await;
    let tls = tls();
    for kind in [Kind::Jwt, Kind::Introspection] {
        let addr = serve_tls(&tls, api(&server, kind, Some(MtlsConfig::new())).await).await;
        let bound = token(
            kind,
            server
                .mint()
                .sub("alice")
                .bound_to_certificate(&tls.alice.cert),
        );
        assert_eq!(
            over_tls(&tls, addr, Some(&tls.alice), &bound).await,
            (200, "alice".to_owned()),
            "{kind:?}"
        );
        refused(
            &over_tls(&tls, addr, Some(&tls.mallory), &bound).await,
            TokenError::CertificateMismatch,
        );
        refused(
            &over_tls(&tls, addr, None, &bound).await,
            TokenError::CertificateRequired,
        );
        // Unbound tokens pass with or without a certificate.
        let plain = token(kind, server.mint().sub("bob"));
        for client in [Some(&tls.alice), None] {
            assert_eq!(
                over_tls(&tls, addr, client, &plain).await,
                (200, "bob".to_owned()),
                "{kind:?}"
            );
        }
    }
}

#[tokio::test]
async fn without_mtls_on_the_layer_bound_tokens_stay_refused() {
    let server = TestServer::start().await;
    let tls = tls();
    for kind in [Kind::Jwt, Kind::Introspection] {
        let addr = serve_tls(&tls, api(&server, kind, None).await).await;
        let bound = token(kind, server.mint().bound_to_certificate(&tls.alice.cert));
        refused(
            &over_tls(&tls, addr, Some(&tls.alice), &bound).await,
            TokenError::UnsupportedConfirmation,
        );
        let plain = token(kind, server.mint().sub("bob"));
        assert_eq!(over_tls(&tls, addr, Some(&tls.alice), &plain).await.0, 200);
    }
}

/// Every byte but letters and digits as `%XX`, like nginx's `$ssl_client_escaped_cert`.
fn escaped_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let body: Vec<String> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        body.join("\n")
    );
    pem.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn get_with(url: &str, token: &str, header: Option<(&str, &str)>) -> (u16, String) {
    let mut req = reqwest::Client::new().get(url).bearer_auth(token);
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let (status, challenge, body) = support::answer(req.send().await.unwrap()).await;
    (status, if status == 200 { body } else { challenge })
}

#[tokio::test]
async fn the_certificate_of_a_trusted_proxy_counts_only_when_configured() {
    let server = TestServer::start().await;
    let tls = tls();
    let alice = escaped_pem(&tls.alice.cert);
    let mallory = escaped_pem(&tls.mallory.cert);
    let xfcc = format!(
        "By=spiffe://api;Hash={};Subject=\"CN=alice\"",
        Sha256::digest(&tls.alice.cert)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let nginx =
        || MtlsConfig::new().trusted_proxy_header(ProxyHeader::escaped_pem(NGINX.parse().unwrap()));
    for kind in [Kind::Jwt, Kind::Introspection] {
        let direct = format!(
            "{}/me",
            support::serve(api(&server, kind, Some(MtlsConfig::new())).await).await
        );
        let behind_nginx = format!(
            "{}/me",
            support::serve(api(&server, kind, Some(nginx())).await).await
        );
        let envoy = MtlsConfig::new().trusted_proxy_header(ProxyHeader::envoy_xfcc());
        let behind_envoy = format!(
            "{}/me",
            support::serve(api(&server, kind, Some(envoy)).await).await
        );
        let bound = token(
            kind,
            server
                .mint()
                .sub("alice")
                .bound_to_certificate(&tls.alice.cert),
        );

        assert_eq!(
            get_with(&behind_nginx, &bound, Some((NGINX, &alice))).await,
            (200, "alice".to_owned()),
            "{kind:?}"
        );
        assert_eq!(
            get_with(
                &behind_envoy,
                &bound,
                Some(("x-forwarded-client-cert", &xfcc))
            )
            .await,
            (200, "alice".to_owned()),
            "{kind:?}"
        );
        // Not configured: the header is just a header.
        refused(
            &get_with(&direct, &bound, Some((NGINX, &alice))).await,
            TokenError::CertificateRequired,
        );
        refused(
            &get_with(&behind_nginx, &bound, Some((NGINX, &mallory))).await,
            TokenError::CertificateMismatch,
        );
        refused(
            &get_with(&behind_nginx, &bound, None).await,
            TokenError::CertificateRequired,
        );
        refused(
            &get_with(&behind_nginx, &bound, Some((NGINX, "-----BEGIN%20garbage"))).await,
            TokenError::MalformedCertificate,
        );
        // Unbound tokens do not look at the header at all.
        let plain = token(kind, server.mint().sub("bob"));
        for header in [
            None,
            Some((NGINX, "garbage")),
            Some((NGINX, alice.as_str())),
        ] {
            assert_eq!(
                get_with(&behind_nginx, &plain, header).await,
                (200, "bob".to_owned())
            );
        }
    }
}

#[test]
fn resource_metadata_advertises_certificate_bound_tokens() {
    let mut doc = ResourceMetadata::new("https://api.example").unwrap();
    doc.authorization_servers
        .push("https://issuer.example".to_owned());
    doc.tls_client_certificate_bound_access_tokens = Some(true);
    assert!(doc
        .to_json()
        .contains(r#""tls_client_certificate_bound_access_tokens":true"#));
}
