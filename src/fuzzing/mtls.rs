//! The `mtls` target: the client certificate as trusted proxies forward it (nginx's escaped
//! PEM, Envoy's XFCC) and the DER check behind both.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};

use crate::error::TokenError;
use crate::mtls::ProxyHeader;

/// The longest header the [`mtls`] target reads (the configured cap of a deployment).
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// `mtls`: first the input as the value of each proxy header: a thumbprint comes only out of
/// a well-formed header (escaped PEM: exactly the certificate a plain reading of the PEM
/// gives; XFCC: one element whose `Hash=` is the thumbprint, or which carries a `Cert=`),
/// an empty header is no certificate, and anything else is refused. Then the input as a DER
/// certificate, forwarded well-formed in both formats: its thumbprint is found exactly when it
/// is one DER SEQUENCE, equals [`mtls::thumbprint`](crate::mtls::thumbprint) of it, and a
/// `Hash=` that disagrees with the `Cert=` is refused.
pub fn mtls(data: &[u8]) {
    if let Ok(value) = HeaderValue::from_bytes(data) {
        let pem = read(&ProxyHeader::escaped_pem(pem_header()), &value);
        let text = value.to_str().ok().map(str::trim);
        match (&pem, text) {
            (Ok(None), Some("")) | (Err(()), _) => {}
            (Ok(None), _) => panic!("a non-empty header read as no certificate"),
            (Ok(Some(hash)), Some(text)) => {
                let der = plain_escaped_pem(text);
                assert_eq!(
                    der.map(|d| sha256(&d)),
                    Some(*hash),
                    "thumbprint of a header a plain reading refuses"
                );
            }
            (Ok(Some(_)), None) => panic!("a thumbprint from a header that is not text"),
        }
        if let (Err(()), Some(text)) = (&pem, text) {
            assert!(
                text.is_empty()
                    || plain_escaped_pem(text).is_none()
                    || value.len() > MAX_HEADER_BYTES,
                "a well-formed escaped PEM refused"
            );
        }
        let xfcc = read(&ProxyHeader::envoy_xfcc(), &value);
        if let Ok(Some(hash)) = xfcc {
            let lower = value.to_str().unwrap_or_default().to_ascii_lowercase();
            assert!(
                !has_unquoted_comma(&lower),
                "an XFCC header of several elements read"
            );
            let hex = hex(&hash);
            assert!(
                lower.contains(&hex) || lower.contains("cert="),
                "an XFCC thumbprint that is neither its Hash= nor from a Cert="
            );
            for pair in split_unquoted(&lower, ';') {
                if let Some((key, value)) = pair.split_once('=') {
                    if key.trim() == "hash" {
                        let value = value.trim().trim_matches('"').replace('\\', "");
                        assert_eq!(
                            value, hex,
                            "a Hash= that disagrees with the thumbprint read"
                        );
                    }
                }
            }
        }
    }
    forwarded_der(data);
}

/// The thumbprint the layer reads from `value` as nginx's escaped PEM (`xfcc` false) or as
/// Envoy's XFCC header: `Ok(None)` no certificate, an error when refused (the seeds' names say
/// which).
pub fn mtls_thumbprint(xfcc: bool, value: &[u8]) -> Result<Option<[u8; 32]>, TokenError> {
    let value = HeaderValue::from_bytes(value).map_err(|_| TokenError::MalformedCertificate)?;
    let header = if xfcc {
        ProxyHeader::envoy_xfcc()
    } else {
        ProxyHeader::escaped_pem(pem_header())
    };
    let mut headers = HeaderMap::new();
    headers.insert(header.name().clone(), value);
    header.read(&headers, MAX_HEADER_BYTES)
}

/// The input as a DER certificate, forwarded well-formed.
fn forwarded_der(der: &[u8]) {
    let escaped = escape(&pem_of(der));
    let expected = is_one_der_sequence(der).then(|| sha256(der));
    let Ok(value) = HeaderValue::from_str(&escaped) else {
        panic!("an escaped PEM is always a valid header value");
    };
    let pem = read(&ProxyHeader::escaped_pem(pem_header()), &value);
    let fits = value.len() <= MAX_HEADER_BYTES;
    match (pem, expected) {
        (Ok(Some(hash)), Some(expected)) => {
            assert_eq!(hash, expected, "escaped PEM: wrong thumbprint");
            let thumbprint = crate::mtls::thumbprint(der);
            assert_eq!(thumbprint, URL_SAFE_NO_PAD.encode(hash), "x5t#S256 differs");
        }
        (Err(()), None) => {}
        (Err(()), Some(_)) if !fits => {}
        (other, expected) => panic!("escaped PEM: read {other:?}, expected {expected:?}"),
    }
    let hash = hex(&sha256(der));
    let mut wrong = sha256(der);
    wrong[0] ^= 1;
    let cases = [
        (format!("Hash={hash};Cert=\"{escaped}\""), expected),
        (
            format!("By=spiffe://a/b;Hash={hash};Subject=\"CN=x, O=y\""),
            Some(sha256(der)),
        ),
        (format!("Hash={};Cert=\"{escaped}\"", hex(&wrong)), None),
        (format!("Hash={hash},Hash={hash}"), None),
        (format!("Hash={hash};Hash={hash}"), None),
    ];
    for (xfcc, expected) in cases {
        let Ok(value) = HeaderValue::from_str(&xfcc) else {
            panic!("an XFCC value made here is always a valid header value");
        };
        let read = read(&ProxyHeader::envoy_xfcc(), &value);
        if value.len() <= MAX_HEADER_BYTES {
            assert_eq!(read, expected.map(Some).ok_or(()), "XFCC {xfcc:?}");
        }
    }
}

fn pem_header() -> HeaderName {
    HeaderName::from_static("x-ssl-client-cert")
}

/// What the layer reads from `value` in `header`.
fn read(header: &ProxyHeader, value: &HeaderValue) -> Result<Option<[u8; 32]>, ()> {
    let mut headers = HeaderMap::new();
    headers.insert(header.name().clone(), value.clone());
    header.read(&headers, MAX_HEADER_BYTES).map_err(|_| ())
}

fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A PEM as nginx writes it: the block with 64-character lines.
fn pem_of(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .filter_map(|c| std::str::from_utf8(c).ok())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Percent-encodes everything but letters, digits and `-._~` (as nginx's escaped cert).
fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A second, plain reading of an escaped PEM, written apart from the library's: the DER of
/// its one certificate block.
fn plain_escaped_pem(text: &str) -> Option<Vec<u8>> {
    let mut decoded = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let pair = std::str::from_utf8(tail.get(..2)?).ok()?;
            if !pair.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            decoded.push(u8::from_str_radix(pair, 16).ok()?);
            rest = tail.get(2..)?;
        } else {
            decoded.push(b);
            rest = tail;
        }
    }
    let pem = String::from_utf8(decoded).ok()?;
    let pem = pem.trim_matches(char::is_whitespace);
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    if pem.matches(BEGIN).count() != 1 || pem.matches(END).count() != 1 {
        return None;
    }
    let body = pem.strip_prefix(BEGIN)?.strip_suffix(END)?;
    let compact: String = body
        .split([' ', '\t', '\r', '\n'])
        .collect::<Vec<_>>()
        .concat();
    let der = STANDARD.decode(compact).ok()?;
    is_one_der_sequence(&der).then_some(der)
}

/// A plain DER check: tag SEQUENCE, a definite length (short form, or 1 to 4 length bytes)
/// that is not zero and covers exactly the rest. (Like the library, it does not insist on the
/// minimal length encoding: the proxy verified the certificate; this only refuses what cannot
/// be one.)
fn is_one_der_sequence(der: &[u8]) -> bool {
    let Some((&0x30, rest)) = der.split_first() else {
        return false;
    };
    let Some((&first, rest)) = rest.split_first() else {
        return false;
    };
    let (length, content) = if first & 0x80 == 0 {
        (u64::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return false;
        }
        let (len_bytes, content) = rest.split_at(n);
        let length = len_bytes
            .iter()
            .fold(0u64, |acc, &b| acc * 256 + u64::from(b));
        (length, content)
    };
    length > 0 && length == content.len() as u64
}

/// Whether `s` has a comma outside double quotes (with `\` escapes inside them).
fn has_unquoted_comma(s: &str) -> bool {
    split_unquoted(s, ',').len() > 1
}

/// The parts of `s` between `sep`s outside double quotes (with `\` escapes inside them).
fn split_unquoted(s: &str, sep: char) -> Vec<String> {
    let (mut quoted, mut escaped) = (false, false);
    let mut parts = vec![String::new()];
    for c in s.chars() {
        match (quoted, escaped, c) {
            (_, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => quoted = !quoted,
            (false, false, c) if c == sep => {
                parts.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}
