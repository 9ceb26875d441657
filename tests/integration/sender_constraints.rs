//! Sender-constrained tokens required (`AuthLayer::require_sender_constraint`): every mode
//! against every kind of token, through the real layer with a real `JwtValidator`, tokens of
//! the test authorization server, DPoP proofs signed here and client certificates in the
//! request extensions; the challenges of each refusal; the RFC 9728 flags that match.

use crate::support;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
use bearer_guard::mtls::ClientCertificate;
use bearer_guard::{
    auth::SenderConstraint, dpop::DpopConfig, mtls::MtlsConfig, AuthLayer, ResourceMetadata,
    Validator,
};
use bearer_guard_testkit::TestServer;
use http::{header, Request, Response, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use support::jwt::b64;
use support::now;
use tower::{service_fn, Layer, ServiceExt};

const URL: &str = "https://api.example/me";
const CERT: &[u8] = b"the DER of the client's certificate";

/// A DPoP key and the proofs it signs.
struct Dpop {
    key: EcdsaKeyPair,
    jwk: Value,
}

impl Dpop {
    fn new() -> Self {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let point = key.public_key().as_ref().to_vec();
        let jwk =
            json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])});
        Dpop { key, jwk }
    }

    fn jkt(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        b64(Sha256::digest(canonical.as_bytes()))
    }

    fn proof(&self, token: &str) -> String {
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk});
        let jti = format!("{:016x}", rand_u64());
        let claims = json!({"jti": jti, "htm": "GET", "htu": URL, "iat": now(),
            "ath": b64(Sha256::digest(token.as_bytes()))});
        let input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let sig = self
            .key
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap();
        format!("{input}.{}", b64(sig.as_ref()))
    }
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    aws_lc_rs::rand::fill(&mut b).unwrap();
    u64::from_le_bytes(b)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Plain,
    DpopBound,
    CertBound,
}

struct Setup {
    server: TestServer,
    dpop: Dpop,
}

impl Setup {
    async fn new() -> Self {
        Setup {
            server: TestServer::start().await,
            dpop: Dpop::new(),
        }
    }

    /// A request of `kind`, presented as it should be (scheme, proof, certificate).
    fn request(&self, kind: Kind) -> Request<String> {
        let mint = self.server.mint().sub("alice");
        let token = match kind {
            Kind::Plain => mint.sign(),
            Kind::DpopBound => mint.claim("cnf", json!({"jkt": self.dpop.jkt()})).sign(),
            Kind::CertBound => mint.bound_to_certificate(CERT).sign(),
        };
        let mut req = Request::get(URL);
        req = match kind {
            Kind::DpopBound => req
                .header(header::AUTHORIZATION, format!("DPoP {token}"))
                .header("dpop", self.dpop.proof(&token)),
            _ => req.header(header::AUTHORIZATION, format!("Bearer {token}")),
        };
        let mut req = req.body(String::new()).unwrap();
        // The client has a certificate in every case: only the token's binding differs.
        req.extensions_mut().insert(ClientCertificate::new(CERT));
        req
    }

    async fn layer(&self, required: Option<SenderConstraint>) -> AuthLayer<impl Validator> {
        let base = url::Url::parse("https://api.example").unwrap();
        let mut layer = AuthLayer::new(support::validator(&self.server).await)
            .dpop(DpopConfig::new().base_url(base))
            .unwrap()
            .mtls(MtlsConfig::new());
        if let Some(required) = required {
            layer = layer.require_sender_constraint(required);
        }
        layer
    }
}

async fn send<V: Validator>(layer: &AuthLayer<V>, req: Request<String>) -> Response<String> {
    layer
        .layer(service_fn(|_: Request<String>| async {
            Ok::<_, std::convert::Infallible>(Response::new("ok".to_owned()))
        }))
        .oneshot(req)
        .await
        .unwrap()
}

fn challenge(res: &Response<String>) -> &str {
    res.headers()
        .get(header::WWW_AUTHENTICATE)
        .map_or("", |v| v.to_str().unwrap())
}

const ALGS: &str = r#"algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 EdDSA""#;

#[tokio::test]
async fn every_mode_against_every_kind_of_token() {
    use Kind::*;
    use SenderConstraint::*;
    let s = Setup::new().await;
    let cases: [(Option<SenderConstraint>, Kind, Result<(), &str>); 12] = [
        (None, Plain, Ok(())),
        (None, DpopBound, Ok(())),
        (None, CertBound, Ok(())),
        (
            Some(Dpop),
            Plain,
            Err(
                r#"DPoP error="invalid_token", error_description="a DPoP-bound token is required", "#,
            ),
        ),
        (Some(Dpop), DpopBound, Ok(())),
        (
            Some(Dpop),
            CertBound,
            Err(
                r#"DPoP error="invalid_token", error_description="a DPoP-bound token is required", "#,
            ),
        ),
        (
            Some(Mtls),
            Plain,
            Err(
                r#"Bearer error="invalid_token", error_description="a certificate-bound token is required""#,
            ),
        ),
        (
            Some(Mtls),
            DpopBound,
            // Presented with the DPoP scheme: answered in that scheme.
            Err(
                r#"DPoP error="invalid_token", error_description="a certificate-bound token is required", "#,
            ),
        ),
        (Some(Mtls), CertBound, Ok(())),
        (
            Some(Either),
            Plain,
            Err(
                r#"Bearer error="invalid_token", error_description="a sender-constrained token is required", DPoP error="invalid_token", error_description="a sender-constrained token is required", "#,
            ),
        ),
        (Some(Either), DpopBound, Ok(())),
        (Some(Either), CertBound, Ok(())),
    ];
    for (mode, kind, expected) in cases {
        let layer = s.layer(mode).await;
        let res = send(&layer, s.request(kind)).await;
        match expected {
            Ok(()) => assert_eq!(
                res.status(),
                StatusCode::OK,
                "{mode:?} {kind:?}: {}",
                challenge(&res)
            ),
            Err(prefix) => {
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{mode:?} {kind:?}");
                let got = challenge(&res);
                assert!(got.starts_with(prefix), "{mode:?} {kind:?}: {got}");
                if prefix.starts_with("DPoP") || prefix.ends_with(", ") {
                    assert!(got.ends_with(ALGS), "{mode:?} {kind:?}: {got}");
                }
            }
        }
    }
}

#[tokio::test]
async fn without_credentials_dpop_only_offers_dpop_only() {
    let s = Setup::new().await;
    let bare = || Request::get(URL).body(String::new()).unwrap();
    let res = send(&s.layer(Some(SenderConstraint::Dpop)).await, bare()).await;
    assert_eq!(res.status(), 401);
    assert_eq!(challenge(&res), format!("DPoP {ALGS}"));
    for mode in [
        None,
        Some(SenderConstraint::Mtls),
        Some(SenderConstraint::Either),
    ] {
        let res = send(&s.layer(mode).await, bare()).await;
        assert_eq!(challenge(&res), format!("Bearer, DPoP {ALGS}"), "{mode:?}");
    }
}

#[tokio::test]
async fn a_bound_token_must_still_pass_its_binding() {
    let s = Setup::new().await;
    // Certificate-bound token, another certificate: the binding check refuses it.
    let layer = s.layer(Some(SenderConstraint::Either)).await;
    let mut req = s.request(Kind::CertBound);
    req.extensions_mut()
        .insert(ClientCertificate::new(b"another".as_slice()));
    let res = send(&layer, req).await;
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).contains("the token is bound to another client certificate"));
    // DPoP-bound token without its proof.
    let mut req = s.request(Kind::DpopBound);
    req.headers_mut().remove("dpop");
    let res = send(&s.layer(Some(SenderConstraint::Dpop)).await, req).await;
    assert!(
        challenge(&res).contains("a DPoP proof is required"),
        "{}",
        challenge(&res)
    );
}

#[test]
fn resource_metadata_matches_the_mode() {
    let flags = |mode| {
        let mut doc = ResourceMetadata::new("https://api.example").unwrap();
        doc.set_sender_constraint(mode);
        (
            doc.dpop_bound_access_tokens_required,
            doc.tls_client_certificate_bound_access_tokens,
        )
    };
    assert_eq!(flags(SenderConstraint::Dpop), (Some(true), Some(false)));
    assert_eq!(flags(SenderConstraint::Mtls), (Some(false), Some(true)));
    assert_eq!(flags(SenderConstraint::Either), (Some(false), Some(true)));
}
