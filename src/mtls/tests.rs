//! The binding rule and the proxy header formats, in process: `check_binding` directly and
//! through an `AuthLayer` with `oneshot`.

use std::convert::Infallible;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};
use tower::{service_fn, Layer, ServiceExt};

use super::*;
use crate::validator::{ValidationFuture, Validator};
use crate::{AuthLayer, Claims};

const NGINX: &str = "x-ssl-client-cert";

/// A DER SEQUENCE of `n` content bytes (not a certificate, but all the layer looks at).
fn der(n: usize, fill: u8) -> Vec<u8> {
    let mut out = vec![0x30];
    if n < 0x80 {
        out.push(n as u8);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend(std::iter::repeat_n(fill, n));
    out
}

fn pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Percent-encodes every byte but ASCII letters and digits, like nginx's escaped cert.
fn escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn nginx() -> MtlsConfig {
    MtlsConfig::new().trusted_proxy_header(ProxyHeader::escaped_pem(HeaderName::from_static(NGINX)))
}

fn envoy() -> MtlsConfig {
    MtlsConfig::new().trusted_proxy_header(ProxyHeader::envoy_xfcc())
}

fn request(headers: &[(&str, &str)], cert: Option<&[u8]>) -> Request<()> {
    let mut req = Request::new(());
    for (name, value) in headers {
        req.headers_mut().append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    if let Some(cert) = cert {
        req.extensions_mut()
            .insert(ClientCertificate::new(cert.to_vec()));
    }
    req
}

/// What the proxy header of `req` yields under `config` (the extension is not consulted when
/// absent).
fn presented(config: &MtlsConfig, req: &Request<()>) -> Result<Option<[u8; 32]>, TokenError> {
    config.presented(req)
}

#[test]
fn the_binding_rule() {
    let cert = der(40, 1);
    let other = der(40, 2);
    let x5t = thumbprint(&cert);
    let config = MtlsConfig::new();
    let with = request(&[], Some(&cert));
    let without = request(&[], None);
    let another = request(&[], Some(&other));
    // Unbound tokens: nothing to check, with or without a certificate or a layer config.
    assert_eq!(check_binding(None, &with, None), Ok(()));
    assert_eq!(check_binding(Some(&config), &without, None), Ok(()));
    // Bound tokens without certificate support: refused, as before.
    assert_eq!(
        check_binding(None, &with, Some(&x5t)),
        Err(TokenError::UnsupportedConfirmation)
    );
    assert_eq!(check_binding(Some(&config), &with, Some(&x5t)), Ok(()));
    assert_eq!(
        check_binding(Some(&config), &without, Some(&x5t)),
        Err(TokenError::CertificateRequired)
    );
    assert_eq!(
        check_binding(Some(&config), &another, Some(&x5t)),
        Err(TokenError::CertificateMismatch)
    );
    // A thumbprint of another length, or padded, is not equal.
    assert_eq!(
        check_binding(Some(&config), &with, Some(&format!("{x5t}="))),
        Err(TokenError::CertificateMismatch)
    );
    assert_eq!(
        check_binding(Some(&config), &with, Some("")),
        Err(TokenError::CertificateMismatch)
    );
}

#[test]
fn the_proxy_header_is_read_only_when_configured_and_the_extension_wins() {
    let cert = der(40, 1);
    let other = der(40, 2);
    let x5t = thumbprint(&cert);
    let header = escape(&pem(&cert));
    let req = request(&[(NGINX, &header)], None);
    assert_eq!(
        check_binding(Some(&MtlsConfig::new()), &req, Some(&x5t)),
        Err(TokenError::CertificateRequired)
    );
    assert_eq!(check_binding(Some(&nginx()), &req, Some(&x5t)), Ok(()));
    // The connection's certificate is the one that counts.
    let req = request(&[(NGINX, &header)], Some(&other));
    assert_eq!(
        check_binding(Some(&nginx()), &req, Some(&x5t)),
        Err(TokenError::CertificateMismatch)
    );
    // A garbage header does not matter for unbound tokens: it is not read.
    let req = request(&[(NGINX, "%zz")], None);
    assert_eq!(check_binding(Some(&nginx()), &req, None), Ok(()));
    assert_eq!(
        check_binding(Some(&nginx()), &req, Some(&x5t)),
        Err(TokenError::MalformedCertificate)
    );
}

#[test]
fn nginx_escaped_pem() {
    for n in [3, 200, 1500] {
        let cert = der(n, 0xfb); // base64 of 0xfb.. has '+' and '/'
        let hash: [u8; 32] = Sha256::digest(&cert).into();
        let value = escape(&pem(&cert));
        assert_eq!(
            presented(&nginx(), &request(&[(NGINX, &value)], None)),
            Ok(Some(hash)),
            "{n}"
        );
        // Lower-case escapes, and PEM characters left unescaped, decode the same.
        let lower = escape(&pem(&cert))
            .replace("%0A", "%0a")
            .replace("%2B", "%2b");
        assert_eq!(
            presented(&nginx(), &request(&[(NGINX, &lower)], None)),
            Ok(Some(hash))
        );
        let mixed = pem(&cert).replace('\n', "%0a");
        assert_eq!(
            presented(&nginx(), &request(&[(NGINX, &mixed)], None)),
            Ok(Some(hash))
        );
    }
    // No header, or an empty one: no certificate.
    assert_eq!(presented(&nginx(), &request(&[], None)), Ok(None));
    assert_eq!(
        presented(&nginx(), &request(&[(NGINX, "")], None)),
        Ok(None)
    );
}

#[test]
fn nginx_garbage_is_refused() {
    let cert = der(40, 1);
    let good = escape(&pem(&cert));
    let two_blocks = escape(&format!("{}{}", pem(&cert), pem(&cert)));
    let trailing = escape(&format!("{}junk", pem(&cert)));
    let key = escape(&pem(&cert).replace("CERTIFICATE", "PRIVATE KEY"));
    let not_sequence = escape(&pem(&[0x04, 0x01, 0x00]));
    let der_trailing = escape(&pem(&[0x30, 0x01, 0x00, 0x00]));
    let der_short = escape(&pem(&[0x30, 0x05, 0x00]));
    let der_huge_length = escape(&pem(&[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    let bad_base64 = escape(&pem(&cert).replace('A', "*"));
    let bad_utf8 = "%ff%fe";
    let truncated_escape = &good[..good.len() - 1];
    for value in [
        "%zz",
        "%4",
        "garbage",
        bad_utf8,
        truncated_escape,
        &two_blocks,
        &trailing,
        &key,
        &not_sequence,
        &der_trailing,
        &der_short,
        &der_huge_length,
        &bad_base64,
    ] {
        assert_eq!(
            presented(&nginx(), &request(&[(NGINX, value)], None)),
            Err(TokenError::MalformedCertificate),
            "{value}"
        );
    }
    // Repeated, or larger than the limit.
    assert_eq!(
        presented(&nginx(), &request(&[(NGINX, &good), (NGINX, &good)], None)),
        Err(TokenError::MalformedCertificate)
    );
    let small = nginx().max_header_bytes(good.len() - 1);
    assert_eq!(
        presented(&small, &request(&[(NGINX, &good)], None)),
        Err(TokenError::MalformedCertificate)
    );
    let big = escape(&pem(&der(20_000, 7)));
    assert_eq!(
        presented(&nginx(), &request(&[(NGINX, &big)], None)),
        Err(TokenError::MalformedCertificate)
    );
    // Not visible ASCII (obs-text).
    let mut req = request(&[], None);
    req.headers_mut()
        .insert(NGINX, HeaderValue::from_bytes(b"\xe9t\xe9").unwrap());
    assert_eq!(
        presented(&nginx(), &req),
        Err(TokenError::MalformedCertificate)
    );
}

#[test]
fn envoy_xfcc() {
    const XFCC: &str = "x-forwarded-client-cert";
    let cert = der(300, 0xfb);
    let hash: [u8; 32] = Sha256::digest(&cert).into();
    let other: [u8; 32] = Sha256::digest(der(300, 1)).into();
    let escaped = escape(&pem(&cert));
    let by = "By=spiffe://cluster.local/ns/default/sa/api";
    let subject = r#"Subject="CN=client,O=Acme \"Inc\";x""#;
    let good = [
        format!("{by};Hash={}", hex(&hash)),
        format!(
            "Hash={};{subject};URI=spiffe://client",
            hex(&hash).to_uppercase()
        ),
        format!("{by};Cert=\"{escaped}\";{subject}"),
        format!("hash={};cert={escaped}", hex(&hash)),
        format!(
            "{by};Hash={};Cert=\"{escaped}\";Chain=\"{escaped}\";DNS=a.example",
            hex(&hash)
        ),
    ];
    for value in &good {
        assert_eq!(
            presented(&envoy(), &request(&[(XFCC, value)], None)),
            Ok(Some(hash)),
            "{value}"
        );
    }
    let bad = [
        // Two elements (a chain of proxies).
        format!("Hash={0},Hash={0}", hex(&hash)),
        format!("{by};Hash={}, {by};Hash={}", hex(&hash), hex(&other)),
        // Hash and Cert disagree.
        format!("Hash={};Cert=\"{escaped}\"", hex(&other)),
        // Neither Hash nor Cert.
        format!("{by};{subject}"),
        // Not 64 hex digits.
        format!("Hash={}", &hex(&hash)[1..]),
        format!("Hash={}0", hex(&hash)),
        format!("Hash={}g", &hex(&hash)[1..]),
        // Twice the same key, an unknown key, a pair without `=`.
        format!("Hash={0};Hash={0}", hex(&hash)),
        format!("Hash={};Evil=1", hex(&hash)),
        format!("Hash={};Subject", hex(&hash)),
        // Quotes: unterminated, stray, a trailing escape.
        format!("Hash={};Subject=\"CN=x", hex(&hash)),
        format!("Hash={};Subject=CN\"x\"", hex(&hash)),
        format!("Hash=\"{}\\\"", hex(&hash)),
        // A Cert that is not one.
        "Cert=\"%zz\"".to_owned(),
    ];
    for value in &bad {
        assert_eq!(
            presented(&envoy(), &request(&[(XFCC, value)], None)),
            Err(TokenError::MalformedCertificate),
            "{value}"
        );
    }
}

/// Accepts every token; `bound` is bound to the certificate `der(40, 1)`.
struct Fake;

impl Validator for Fake {
    fn validate(&self, token: &str) -> ValidationFuture {
        let claims = match token {
            "bound" => json!({"sub": "a", "cnf": {"x5t#S256": thumbprint(&der(40, 1))}}),
            "both" => json!({"sub": "a", "cnf": {"x5t#S256": thumbprint(&der(40, 1)), "jkt": "k"}}),
            "other" => json!({"sub": "a", "cnf": {"x5t#S256": thumbprint(&der(40, 1)), "jwk": {}}}),
            _ => json!({"sub": "a"}),
        };
        ValidationFuture::ready(Ok(Claims::from_value(claims).unwrap()))
    }
}

async fn call(layer: &AuthLayer<Fake>, token: &str, cert: Option<&[u8]>) -> Response<String> {
    let service = layer.layer(service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    }));
    let auth = format!("Bearer {token}");
    service
        .oneshot(request(&[("authorization", &auth)], cert))
        .await
        .unwrap()
}

fn description(res: &Response<String>) -> &str {
    res.headers()["www-authenticate"].to_str().unwrap()
}

#[tokio::test]
async fn through_the_layer() {
    let cert = der(40, 1);
    let other = der(40, 2);
    let plain = AuthLayer::new(Fake);
    let mtls = AuthLayer::new(Fake).mtls(MtlsConfig::new());
    assert_eq!(
        call(&mtls, "bound", Some(&cert)).await.status(),
        StatusCode::OK
    );
    for (layer, token, cert, text) in [
        (&mtls, "bound", None, TokenError::CertificateRequired),
        (
            &mtls,
            "bound",
            Some(&other),
            TokenError::CertificateMismatch,
        ),
        (
            &plain,
            "bound",
            Some(&cert),
            TokenError::UnsupportedConfirmation,
        ),
        (
            &mtls,
            "other",
            Some(&cert),
            TokenError::UnsupportedConfirmation,
        ),
    ] {
        let res = call(layer, token, cert.map(Vec::as_slice)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{token}");
        let header = description(&res);
        assert!(header.contains(r#"error="invalid_token""#), "{header}");
        assert!(header.contains(text.description()), "{header}");
    }
    // Bound to a DPoP key too: the layer without DPoP refuses it even with the certificate.
    let res = call(&mtls, "both", Some(&cert)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(description(&res).contains(crate::error::DpopError::BoundToken.description()));
    // Unbound tokens: with or without a certificate, with or without mtls.
    for layer in [&plain, &mtls] {
        for cert in [None, Some(cert.as_slice())] {
            assert_eq!(call(layer, "plain", cert).await.status(), StatusCode::OK);
        }
    }
}

#[test]
fn debug_shows_no_certificate() {
    let cert = ClientCertificate::new(vec![0x30, 0x03, 0xab, 0xcd, 0xef]);
    let debug = format!("{cert:?}");
    assert_eq!(debug, "ClientCertificate { der_len: 5, .. }");
}

#[test]
fn the_thumbprint_is_the_base64url_sha256_of_the_der() {
    // SHA-256("abc") (FIPS 180-2 test vector) in base64url without padding.
    assert_eq!(
        ClientCertificate::new(b"abc".as_slice()).thumbprint(),
        "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0"
    );
}

#[test]
fn a_header_of_exactly_max_header_bytes_is_read() {
    let value = escape(&pem(&der(40, 1)));
    let read = |max: usize| {
        presented(
            &nginx().max_header_bytes(max),
            &request(&[(NGINX, &value)], None),
        )
    };
    assert!(matches!(read(value.len()), Ok(Some(_))));
    assert_eq!(read(value.len() - 1), Err(TokenError::MalformedCertificate));
}

#[test]
fn der_lengths_at_their_edges() {
    let read = |der: &[u8]| presented(&nginx(), &request(&[(NGINX, &escape(&pem(der)))], None));
    // The long form with one length byte (128 to 255 content bytes).
    let mut one_byte = vec![0x30, 0x81, 200];
    one_byte.extend(std::iter::repeat_n(7, 200));
    assert_eq!(read(&one_byte), Ok(Some(Sha256::digest(&one_byte).into())));
    // 0x80 is BER's indefinite length, never DER, even with 128 bytes after it.
    let mut indefinite = vec![0x30, 0x80];
    indefinite.extend(std::iter::repeat_n(7, 128));
    assert_eq!(read(&indefinite), Err(TokenError::MalformedCertificate));
    // An empty SEQUENCE is no certificate.
    assert_eq!(read(&[0x30, 0x00]), Err(TokenError::MalformedCertificate));
}
