//! [`ProxyHeader`]: the client certificate as a trusted TLS-terminating proxy forwards it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use http::{HeaderMap, HeaderName};
use sha2::{Digest, Sha256};

use crate::error::TokenError;

/// The name of Envoy's header.
const XFCC: &str = "x-forwarded-client-cert";

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// A request header in which a trusted TLS-terminating proxy forwards the client certificate
/// it verified; set with [`MtlsConfig::trusted_proxy_header`](super::MtlsConfig::trusted_proxy_header).
/// See the [module](super) for when this is safe (only when the proxy strips the header from
/// client requests).
///
/// A request without the header has no client certificate (as does one whose header is
/// empty). The header is refused ([`TokenError::MalformedCertificate`]) when it is repeated,
/// longer than [`max_header_bytes`](super::MtlsConfig::max_header_bytes), or not exactly in
/// its format.
///
/// ```
/// use bearer_guard::mtls::ProxyHeader;
/// let nginx = ProxyHeader::escaped_pem(http::HeaderName::from_static("x-ssl-client-cert"));
/// let envoy = ProxyHeader::envoy_xfcc();
/// assert_eq!(envoy.name(), "x-forwarded-client-cert");
/// # let _ = nginx;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyHeader {
    name: HeaderName,
    format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    EscapedPem,
    Xfcc,
}

impl ProxyHeader {
    /// The header `name` holds one URL-encoded (percent-encoded) PEM certificate, as nginx's
    /// `$ssl_client_escaped_cert` (`proxy_set_header X-SSL-Client-Cert
    /// $ssl_client_escaped_cert;`). Exactly one `CERTIFICATE` block, with nothing but
    /// whitespace around it.
    pub fn escaped_pem(name: HeaderName) -> Self {
        ProxyHeader {
            name,
            format: Format::EscapedPem,
        }
    }

    /// Envoy's `x-forwarded-client-cert` (XFCC) header, with exactly one element (Envoy's
    /// `forward_client_cert_details: SANITIZE_SET`; several elements, from a chain of proxies,
    /// are refused). The element must carry `Hash=` (the hex SHA-256 of the DER certificate)
    /// or `Cert=` (the URL-encoded PEM), or both, which must then agree; its other keys
    /// (`By`, `Subject`, `URI`, `DNS`, `Chain`) are ignored.
    pub fn envoy_xfcc() -> Self {
        ProxyHeader {
            name: HeaderName::from_static(XFCC),
            format: Format::Xfcc,
        }
    }

    /// The header's name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The SHA-256 of the DER certificate forwarded in `headers`, if any.
    pub(crate) fn read(
        &self,
        headers: &HeaderMap,
        max_bytes: usize,
    ) -> Result<Option<[u8; 32]>, TokenError> {
        let mut values = headers.get_all(&self.name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() || value.len() > max_bytes {
            return Err(TokenError::MalformedCertificate);
        }
        let value = value
            .to_str()
            .map_err(|_| TokenError::MalformedCertificate)?
            .trim();
        if value.is_empty() {
            return Ok(None);
        }
        let hash = match self.format {
            Format::EscapedPem => escaped_pem_hash(value),
            Format::Xfcc => xfcc_hash(value),
        };
        hash.map(Some).ok_or(TokenError::MalformedCertificate)
    }
}

/// The SHA-256 of the certificate in a URL-encoded PEM.
fn escaped_pem_hash(value: &str) -> Option<[u8; 32]> {
    let pem = percent_decode(value)?;
    let der = pem_to_der(&pem)?;
    Some(Sha256::digest(der).into())
}

/// Strict percent-decoding: `%` must start two hex digits; `+` stays `+` (PEM base64 uses it).
fn percent_decode(value: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hi = hex_digit(bytes.next()?)?;
            let lo = hex_digit(bytes.next()?)?;
            out.push((hi << 4) | lo);
        } else {
            out.push(b);
        }
    }
    Some(out)
}

fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The DER of the one `CERTIFICATE` block of a PEM text (RFC 7468), with only whitespace
/// around it and inside its base64.
fn pem_to_der(pem: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?.trim();
    let body = text.strip_prefix(PEM_BEGIN)?.strip_suffix(PEM_END)?;
    let base64: String = body
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    // Another block, headers, or anything else but base64 fails here.
    let der = STANDARD.decode(base64).ok()?;
    is_der_sequence(&der).then_some(der)
}

/// Whether `der` is one DER SEQUENCE (as every X.509 certificate is) and nothing after it.
fn is_der_sequence(der: &[u8]) -> bool {
    let (Some(&0x30), Some(&first)) = (der.first(), der.get(1)) else {
        return false;
    };
    let (header, length) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let count = usize::from(first & 0x7f);
        if !(1..=4).contains(&count) {
            return false;
        }
        let Some(bytes) = der.get(2..2 + count) else {
            return false;
        };
        let length = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (2 + count, length)
    };
    header.checked_add(length) == Some(der.len()) && length > 0
}

/// The SHA-256 of the certificate in an Envoy XFCC header of one element.
fn xfcc_hash(value: &str) -> Option<[u8; 32]> {
    let elements = split_unquoted(value, ',')?;
    let [element] = elements.as_slice() else {
        return None;
    };
    let mut hash = None;
    let mut cert = None;
    for pair in split_unquoted(element, ';')? {
        let (key, raw) = pair.split_once('=')?;
        let value = unquote(raw.trim())?;
        let slot = match key.trim().to_ascii_lowercase().as_str() {
            "hash" => &mut hash,
            "cert" => &mut cert,
            "by" | "subject" | "uri" | "dns" | "chain" => continue,
            _ => return None,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let hash = match hash {
        Some(hex) => Some(hex_hash(&hex)?),
        None => None,
    };
    let cert = match cert {
        Some(cert) => Some(escaped_pem_hash(&cert)?),
        None => None,
    };
    match (hash, cert) {
        (Some(hash), Some(cert)) => (hash == cert).then_some(hash),
        (hash, cert) => hash.or(cert),
    }
}

/// 64 hex digits as 32 bytes.
fn hex_hash(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *byte = (hex_digit(*hi)? << 4) | hex_digit(*lo)?;
    }
    Some(out)
}

/// Splits `s` at every `sep` outside double quotes (where `\` escapes the next character);
/// `None` for an unterminated quote.
fn split_unquoted(s: &str, sep: char) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut quoted, mut escaped, mut start) = (false, false, 0);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(s.get(start..i)?);
            start = i + c.len_utf8();
        }
    }
    if quoted || escaped {
        return None;
    }
    parts.push(s.get(start..)?);
    Some(parts)
}

/// A value as it is (no quotes in it) or a quoted string without its quotes and escapes.
fn unquote(raw: &str) -> Option<String> {
    let Some(inner) = raw.strip_prefix('"') else {
        return (!raw.contains(['"', '\\'])).then(|| raw.to_owned());
    };
    let inner = inner.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}
