//! OAuth 2.0 Protected Resource Metadata (RFC 9728): the document that tells clients which
//! authorization servers issue tokens for this API, and how to find it.
//!
//! A client that gets a 401 reads the `resource_metadata` parameter of the
//! `WWW-Authenticate` challenge, fetches the document from there, and learns where to get a
//! token. The Model Context Protocol authorization spec requires protected MCP servers to work
//! this way.
//!
//! - [`ResourceMetadata`] is the document (serde, public fields), made with
//!   [`ResourceMetadata::new`];
//! - [`ResourceMetadata::well_known_url`] is where it is served (RFC 9728 §3.1);
//! - [`ResourceMetadata::challenge`] makes every 401 point at it;
//! - [`ResourceMetadata::service`] serves it as a plain Tower service, and with the `axum`
//!   feature [`ResourceMetadata::router`] mounts it at the well-known path.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::post, Router};
//! use bearer_guard::{AuthLayer, JwtValidator, ResourceMetadata};
//!
//! let mut metadata = ResourceMetadata::new("https://api.example/mcp")?;
//! metadata.authorization_servers.push("https://issuer.example".into());
//! metadata.scopes_supported = vec!["tools:read".into(), "tools:call".into()];
//! metadata.resource_name = Some("Example MCP server".into());
//! let validator = JwtValidator::builder("https://issuer.example")
//!     .audience("https://api.example/mcp")
//!     .build()
//!     .await?;
//! let app: Router = Router::new()
//!     .route("/mcp", post(|| async { "ok" }))
//!     .layer(AuthLayer::new(validator).challenge(metadata.challenge()))
//!     // Merged after the layer: the document itself needs no token.
//!     .merge(metadata.router());
//! # let _ = app; Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::{ready, Ready};
use std::task::{Context, Poll};

use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use serde::{Deserialize, Serialize};
use tower_service::Service;

use crate::auth::SenderConstraint;
use crate::{error::Challenge, BuildError};

/// The well-known URI suffix of RFC 9728 §3.
pub const WELL_KNOWN_SUFFIX: &str = "/.well-known/oauth-protected-resource";

/// An RFC 9728 protected resource metadata document. Absent fields are left out of the JSON.
///
/// ```
/// use bearer_guard::ResourceMetadata;
/// let mut doc = ResourceMetadata::new("https://api.example").unwrap();
/// doc.authorization_servers.push("https://issuer.example".into());
/// assert_eq!(
///     serde_json::to_string(&doc).unwrap(),
///     r#"{"resource":"https://api.example","authorization_servers":["https://issuer.example"],"bearer_methods_supported":["header"]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// The resource identifier: an `https` URL without fragment; what clients use as the
    /// `resource` parameter (RFC 8707) and typically the tokens' audience.
    pub resource: String,
    /// Issuer identifiers of the authorization servers that issue tokens for this resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// Where this resource publishes its own signing keys (for signed responses), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Scopes used in authorization requests to access this resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How bearer tokens may be sent (`header`, `body`, `query`; RFC 6750). [`new`](Self::new)
    /// starts with `["header"]`, the only method this crate accepts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bearer_methods_supported: Vec<String>,
    /// JWS algorithms this resource signs its responses with, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_signing_alg_values_supported: Vec<String>,
    /// A human-readable name of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_name: Option<String>,
    /// A page with developer documentation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_documentation: Option<String>,
    /// A page about how client data is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_policy_uri: Option<String>,
    /// A page with the terms of service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_tos_uri: Option<String>,
    /// Whether tokens must be bound to a client certificate (RFC 8705).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_client_certificate_bound_access_tokens: Option<bool>,
    /// `authorization_details` types supported (RFC 9396).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authorization_details_types_supported: Vec<String>,
    /// JWS algorithms supported for DPoP proofs (RFC 9449).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Whether DPoP-bound tokens are always required (RFC 9449).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens_required: Option<bool>,
}

impl ResourceMetadata {
    /// A document for the resource identified by `resource`: an `https` URL without fragment
    /// (`http` is allowed on loopback hosts, for tests and local development; RFC 9728 §2),
    /// [`BuildError::BadUrl`] otherwise. Every other field starts empty, except
    /// [`bearer_methods_supported`](Self::bearer_methods_supported), `["header"]`; set them
    /// directly:
    ///
    /// ```
    /// use bearer_guard::ResourceMetadata;
    /// let mut doc = ResourceMetadata::new("https://api.example/mcp")?;
    /// doc.authorization_servers.push("https://issuer.example".into());
    /// doc.scopes_supported = vec!["tools:read".into(), "tools:call".into()];
    /// doc.resource_name = Some("Example MCP server".into());
    /// # Ok::<(), bearer_guard::BuildError>(())
    /// ```
    pub fn new(resource: impl Into<String>) -> Result<Self, BuildError> {
        let resource = resource.into();
        well_known_url(&resource)?;
        Ok(ResourceMetadata {
            resource,
            authorization_servers: Vec::new(),
            jwks_uri: None,
            scopes_supported: Vec::new(),
            bearer_methods_supported: vec!["header".to_owned()],
            resource_signing_alg_values_supported: Vec::new(),
            resource_name: None,
            resource_documentation: None,
            resource_policy_uri: None,
            resource_tos_uri: None,
            tls_client_certificate_bound_access_tokens: None,
            authorization_details_types_supported: Vec::new(),
            dpop_signing_alg_values_supported: Vec::new(),
            dpop_bound_access_tokens_required: None,
        })
    }

    /// Sets the two RFC 9728 flags that tell clients what an
    /// [`AuthLayer::require_sender_constraint`](crate::AuthLayer::require_sender_constraint)
    /// layer requires: `dpop_bound_access_tokens_required` (true for
    /// [`Dpop`](SenderConstraint::Dpop) only: with the others a certificate-bound token will
    /// do) and `tls_client_certificate_bound_access_tokens` (true when certificate-bound
    /// tokens are accepted: [`Mtls`](SenderConstraint::Mtls),
    /// [`Either`](SenderConstraint::Either)).
    ///
    /// ```
    /// use bearer_guard::{auth::SenderConstraint, ResourceMetadata};
    /// let mut doc = ResourceMetadata::new("https://api.example")?;
    /// doc.set_sender_constraint(SenderConstraint::Dpop);
    /// assert_eq!(doc.dpop_bound_access_tokens_required, Some(true));
    /// assert_eq!(doc.tls_client_certificate_bound_access_tokens, Some(false));
    /// # Ok::<(), bearer_guard::BuildError>(())
    /// ```
    pub fn set_sender_constraint(&mut self, constraint: SenderConstraint) {
        let (dpop_required, mtls) = match constraint {
            SenderConstraint::Dpop => (true, false),
            SenderConstraint::Mtls | SenderConstraint::Either => (false, true),
        };
        self.dpop_bound_access_tokens_required = Some(dpop_required);
        self.tls_client_certificate_bound_access_tokens = Some(mtls);
    }

    /// The URL this document is served at (RFC 9728 §3.1): the well-known suffix inserted
    /// between the host and the path of [`resource`](Self::resource).
    ///
    /// ```
    /// use bearer_guard::ResourceMetadata;
    /// let doc = ResourceMetadata::new("https://api.example/mcp").unwrap();
    /// assert_eq!(doc.well_known_url(), "https://api.example/.well-known/oauth-protected-resource/mcp");
    /// ```
    pub fn well_known_url(&self) -> String {
        // `new` checked that the resource parses; fall back to the plain suffix otherwise.
        well_known_url(&self.resource).unwrap_or_else(|_| WELL_KNOWN_SUFFIX.to_owned())
    }

    /// The path part of [`well_known_url`](Self::well_known_url), for routing (without any
    /// query).
    ///
    /// ```
    /// use bearer_guard::ResourceMetadata;
    /// let doc = ResourceMetadata::new("https://api.example/mcp").unwrap();
    /// assert_eq!(doc.well_known_path(), "/.well-known/oauth-protected-resource/mcp");
    /// ```
    pub fn well_known_path(&self) -> String {
        match url::Url::parse(&self.resource) {
            Ok(url) => well_known_path(&url),
            Err(_) => WELL_KNOWN_SUFFIX.to_owned(),
        }
    }

    /// A challenge whose `resource_metadata` parameter names this document, for
    /// [`AuthLayer::challenge`](crate::AuthLayer::challenge). Add a realm with
    /// [`Challenge::realm`].
    ///
    /// ```
    /// use bearer_guard::{AuthError, error::BearerError, ResourceMetadata};
    /// let doc = ResourceMetadata::new("https://api.example/mcp").unwrap();
    /// let value = doc.challenge().header_for(&AuthError::Bearer(BearerError::Missing)).unwrap();
    /// assert_eq!(
    ///     value,
    ///     r#"Bearer resource_metadata="https://api.example/.well-known/oauth-protected-resource/mcp""#
    /// );
    /// ```
    pub fn challenge(&self) -> Challenge {
        Challenge::new().resource_metadata(self.well_known_url())
    }

    /// The document as JSON.
    pub fn to_json(&self) -> String {
        // Serializing strings, lists and booleans cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A Tower service answering every `GET` or `HEAD` with this document
    /// (`200`, `Content-Type: application/json`) and other methods with `405`. Mount it at
    /// [`well_known_path`](Self::well_known_path) with any framework, outside the
    /// authentication layer.
    pub fn service(&self) -> ResourceMetadataService {
        ResourceMetadataService {
            json: self.to_json(),
        }
    }

    /// An axum router serving this document at [`well_known_path`](Self::well_known_path);
    /// merge it into the application after (outside) the authentication layer.
    ///
    /// # Panics
    ///
    /// If axum refuses the path as a route, which only happens for a resource path containing
    /// axum route syntax (`{` or `}` are percent-encoded by URL parsing, so this does not
    /// happen for a resource accepted by [`ResourceMetadata::new`]).
    #[cfg(feature = "axum")]
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        axum::Router::new().route_service(&self.well_known_path(), self.service())
    }
}

/// The RFC 9728 §3.1 metadata URL of the resource identified by `resource`: the well-known
/// suffix inserted between the host and the path (a lone `/` path is dropped), query kept.
///
/// ```
/// use bearer_guard::resource_metadata::well_known_url;
/// assert_eq!(
///     well_known_url("https://api.example").unwrap(),
///     "https://api.example/.well-known/oauth-protected-resource"
/// );
/// assert_eq!(
///     well_known_url("https://api.example:8443/tenant/mcp?v=1").unwrap(),
///     "https://api.example:8443/.well-known/oauth-protected-resource/tenant/mcp?v=1"
/// );
/// assert!(well_known_url("https://api.example/#frag").is_err());
/// assert!(well_known_url("http://api.example/").is_err());
/// ```
pub fn well_known_url(resource: &str) -> Result<String, BuildError> {
    let bad = || BuildError::BadUrl(resource.to_owned());
    let url = url::Url::parse(resource).map_err(|_| bad())?;
    if !crate::fetch::is_acceptable_url(&url) || url.fragment().is_some() {
        return Err(bad());
    }
    let mut out = url.origin().ascii_serialization();
    out.push_str(&well_known_path(&url));
    if let Some(query) = url.query() {
        out.push('?');
        out.push_str(query);
    }
    Ok(out)
}

fn well_known_path(url: &url::Url) -> String {
    match url.path() {
        "" | "/" => WELL_KNOWN_SUFFIX.to_owned(),
        path => format!("{WELL_KNOWN_SUFFIX}{path}"),
    }
}

/// Serves a [`ResourceMetadata`] document: `GET`/`HEAD` get `200` with the JSON, other methods
/// `405`. Made by [`ResourceMetadata::service`]; answers any request it is given (routing is
/// the framework's job). Cheap to clone.
#[derive(Debug, Clone)]
pub struct ResourceMetadataService {
    json: String,
}

impl<B> Service<Request<B>> for ResourceMetadataService {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let mut res = Response::new(String::new());
        let headers = res.headers_mut();
        match *req.method() {
            Method::GET | Method::HEAD => {
                headers.insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                // A public document, fetched by browser-based clients too.
                headers.insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
                if req.method() == Method::GET {
                    *res.body_mut() = self.json.clone();
                }
            }
            _ => {
                headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
                *res.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
            }
        }
        ready(Ok(res))
    }
}

#[cfg(test)]
mod tests;
