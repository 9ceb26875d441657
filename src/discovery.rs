//! Authorization server metadata (RFC 8414) and OpenID Connect discovery.
//!
//! [`IssuerMetadata::discover`] fetches the issuer's metadata document and checks that it speaks for
//! that issuer; the JWT and introspection validators use it to find their endpoints.

use serde::Deserialize;

use crate::error::{DiscoveryError, FetchError};
use crate::fetch::{self, is_acceptable_url, Limits};

/// The parts of an authorization server's metadata this crate uses.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuerMetadata {
    /// The issuer identifier; equal to the one asked for.
    pub issuer: String,
    /// Where the signing keys are published.
    pub jwks_uri: Option<String>,
    /// The RFC 7662 introspection endpoint.
    pub introspection_endpoint: Option<String>,
    /// The token endpoint.
    pub token_endpoint: Option<String>,
    /// Signature algorithms of access tokens, if announced.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Scopes the server announces.
    #[serde(default)]
    pub scopes_supported: Vec<String>,
}

impl IssuerMetadata {
    /// Fetches the metadata of `issuer`: first
    /// `{issuer}/.well-known/openid-configuration`, then the RFC 8414 location
    /// `{origin}/.well-known/oauth-authorization-server{path}`. The document's `issuer` must equal
    /// `issuer` exactly.
    pub async fn discover(
        client: &reqwest::Client,
        issuer: &str,
    ) -> Result<IssuerMetadata, DiscoveryError> {
        Self::discover_with(client, issuer, Limits::DISCOVERY).await
    }

    pub(crate) async fn discover_with(
        client: &reqwest::Client,
        issuer: &str,
        limits: Limits,
    ) -> Result<IssuerMetadata, DiscoveryError> {
        let urls = well_known_urls(issuer)?;
        let limits = Limits {
            purpose: "discovery",
            ..limits
        };
        let mut last_error = None;
        for url in urls {
            match fetch::get_json::<IssuerMetadata>(client, &url, limits).await {
                Ok((_, doc)) => return doc.checked(issuer),
                Err(e) => {
                    tracing::debug!(url = %url, error = %e, "metadata not found here");
                    last_error = Some(e)
                }
            }
        }
        Err(last_error
            .map(DiscoveryError::Fetch)
            .unwrap_or_else(|| DiscoveryError::BadIssuer(issuer.to_owned())))
    }

    /// Fetches the metadata document at `url` itself (no well-known location is derived) and
    /// checks that it speaks for `issuer`: for issuers whose document is not where RFC 8414
    /// puts it (Entra ID's v1.0 and multi-tenant documents), and for tests.
    pub(crate) async fn fetch_from(
        client: &reqwest::Client,
        url: &str,
        issuer: &str,
        limits: Limits,
    ) -> Result<IssuerMetadata, DiscoveryError> {
        let limits = Limits {
            purpose: "discovery",
            ..limits
        };
        let (_, doc) = fetch::get_json::<IssuerMetadata>(client, url, limits).await?;
        doc.checked(issuer)
    }

    /// Parses a metadata document and checks it against `issuer`.
    ///
    /// ```
    /// use bearer_guard::discovery::IssuerMetadata;
    /// let doc = br#"{"issuer":"https://as.example","jwks_uri":"https://as.example/jwks"}"#;
    /// let m = IssuerMetadata::from_json(doc, "https://as.example").unwrap();
    /// assert_eq!(m.jwks_uri.as_deref(), Some("https://as.example/jwks"));
    /// assert!(IssuerMetadata::from_json(doc, "https://as.example/").is_err());
    /// ```
    pub fn from_json(bytes: &[u8], issuer: &str) -> Result<IssuerMetadata, DiscoveryError> {
        let doc: IssuerMetadata = serde_json::from_slice(bytes).map_err(|e| {
            DiscoveryError::Fetch(FetchError::Invalid {
                url: issuer.to_owned(),
                reason: e.to_string(),
            })
        })?;
        doc.checked(issuer)
    }

    fn checked(self, issuer: &str) -> Result<IssuerMetadata, DiscoveryError> {
        if self.issuer != issuer {
            return Err(DiscoveryError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: self.issuer,
            });
        }
        Ok(self)
    }
}

impl Limits {
    pub(crate) const DISCOVERY: Limits = Limits {
        timeout: std::time::Duration::from_secs(10),
        max_bytes: 64 * 1024,
        purpose: "discovery",
    };
}

fn well_known_urls(issuer: &str) -> Result<[String; 2], DiscoveryError> {
    let bad = || DiscoveryError::BadIssuer(issuer.to_owned());
    let url = url::Url::parse(issuer).map_err(|_| bad())?;
    if !is_acceptable_url(&url) || url.query().is_some() || url.fragment().is_some() {
        return Err(bad());
    }
    let trimmed = issuer.trim_end_matches('/');
    let openid = format!("{trimmed}/.well-known/openid-configuration");
    let path = url.path().trim_end_matches('/');
    let origin = url.origin().ascii_serialization();
    let rfc8414 = format!("{origin}/.well-known/oauth-authorization-server{path}");
    Ok([openid, rfc8414])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_locations() {
        let [a, b] = well_known_urls("https://as.example/tenant1").unwrap();
        assert_eq!(
            a,
            "https://as.example/tenant1/.well-known/openid-configuration"
        );
        assert_eq!(
            b,
            "https://as.example/.well-known/oauth-authorization-server/tenant1"
        );
        let [a, b] = well_known_urls("http://127.0.0.1:9000").unwrap();
        assert_eq!(a, "http://127.0.0.1:9000/.well-known/openid-configuration");
        assert_eq!(
            b,
            "http://127.0.0.1:9000/.well-known/oauth-authorization-server"
        );
        assert!(well_known_urls("http://as.example").is_err());
        assert!(well_known_urls("ftp://as.example").is_err());
        assert!(well_known_urls("not a url").is_err());
    }
}
