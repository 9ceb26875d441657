//! Where the access token is taken from: the `Authorization` header (always), and, when
//! configured on the layer with [`AuthLayer::token_sources`](crate::AuthLayer::token_sources),
//! a named cookie, the `access_token` query parameter (RFC 6750 §2.3) or an entry of the
//! `Sec-WebSocket-Protocol` header.
//!
//! A request presents its token in exactly one place: a token in two places (the header and a
//! cookie, two cookies of that name, two query parameters, two protocol entries) is refused
//! with 400 `invalid_request` (RFC 6750 §2, [`BearerError::SeveralPlaces`]). The `DPoP` scheme
//! exists only in the header, so DPoP-bound tokens (`cnf.jkt`) are accepted only there.
//!
//! * **Cookie**: for browser clients (server-sent events, `<img>`, downloads) where a cookie
//!   set by your login flow travels by itself. Protect state-changing routes against CSRF
//!   (`SameSite`, an anti-forgery token) as for any cookie authentication.
//! * **Query parameter**: the last resort of RFC 6750 §2.3, for clients that can set neither
//!   a header nor a cookie. URLs end up in browser history, proxy and server logs: the layer
//!   never logs the URI, and removes the parameter from the URI the inner service sees, so
//!   that logging inside the layer (e.g. `tower_http::trace`) does not record it (with feature
//!   `axum`, from axum's `OriginalUri` too). Logging *outside* the layer sees the original URI:
//!   keep it off there, or redact it. A success answer to such a request gets
//!   `Cache-Control: private` (RFC 6750 §2.3: no shared cache keeps it), unless the service
//!   set a `Cache-Control` of its own.
//! * **WebSocket subprotocol**: browsers cannot set headers on a WebSocket handshake, but they
//!   can offer subprotocols. The client offers its real protocol and the token as a second
//!   entry, `Sec-WebSocket-Protocol: graphql-ws, <prefix><token>` (Kubernetes and Hasura use
//!   this convention). The layer takes the token from the entry with the configured prefix and
//!   removes that entry from the header the inner service sees, so the WebSocket upgrade
//!   (e.g. axum's `WebSocketUpgrade::protocols`) picks and echoes the real protocol, never the
//!   token. Browsers refuse the upgrade if the answer echoes no protocol: configure yours.
//!
//! ```
//! use http::{header, Request};
//! use bearer_guard::source::{TokenSource, TokenSources};
//! use bearer_guard::error::BearerError;
//!
//! let sources = TokenSources::new().cookie("access_token").query_parameter();
//! let req = Request::get("/events?access_token=abc.def").body(()).unwrap();
//! let found = sources.find(&req, false).unwrap();
//! assert_eq!((found.source, &*found.token), (TokenSource::Query, "abc.def"));
//!
//! let both = Request::get("/events?access_token=abc.def")
//!     .header(header::COOKIE, "theme=dark; access_token=abc.def")
//!     .body(())
//!     .unwrap();
//! assert_eq!(sources.find(&both, false).err(), Some(BearerError::SeveralPlaces));
//! ```

use std::borrow::Cow;
use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue, COOKIE, SEC_WEBSOCKET_PROTOCOL};
use http::uri::PathAndQuery;
use http::{Request, Uri};

use crate::bearer::{self, AuthScheme};
use crate::error::BearerError;

/// The query parameter of RFC 6750 §2.3.
pub const QUERY_PARAMETER: &str = "access_token";

/// Where a token was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenSource {
    /// The `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1).
    Header,
    /// The configured cookie.
    Cookie,
    /// The `access_token` query parameter (RFC 6750 §2.3).
    Query,
    /// An entry of `Sec-WebSocket-Protocol` with the configured prefix.
    WebSocketProtocol,
}

/// The places a layer takes tokens from: the `Authorization` header always, the others only
/// when named here. Cheap to clone.
///
/// ```
/// use bearer_guard::source::TokenSources;
/// let sources = TokenSources::new()
///     .cookie("session_token")
///     .websocket_protocol("bearer-token.");
/// # let _ = sources;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenSources {
    cookie: Option<Arc<str>>,
    query: bool,
    websocket: Option<Arc<str>>,
}

/// A token and where it was found. Made by [`TokenSources::find`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FoundToken<'a> {
    /// The place.
    pub source: TokenSource,
    /// `DPoP` only from the `Authorization` header; `Bearer` everywhere else.
    pub scheme: AuthScheme,
    /// The token text (decoded, for the query parameter).
    pub token: Cow<'a, str>,
}

impl TokenSources {
    /// The `Authorization` header only (the default of every layer).
    pub fn new() -> Self {
        Self::default()
    }

    /// Also takes the token from the cookie `name` (RFC 6265; a value in double quotes is
    /// taken without them; an empty value counts as no cookie).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(Arc::from(name.into()));
        self
    }

    /// Also takes the token from the `access_token` query parameter (RFC 6750 §2.3). A last
    /// resort: see the [module documentation](self) for why, and what the layer does about it.
    pub fn query_parameter(mut self) -> Self {
        self.query = true;
        self
    }

    /// Also takes the token from the `Sec-WebSocket-Protocol` entry that starts with `prefix`
    /// (e.g. `"bearer-token."`, or Kubernetes' `"base64url.bearer.authorization.k8s.io."`):
    /// the rest of the entry is the token. The entry is removed from the header before the
    /// request goes on.
    pub fn websocket_protocol(mut self, prefix: impl Into<String>) -> Self {
        self.websocket = Some(Arc::from(prefix.into()));
        self
    }

    /// Whether tokens come only from the `Authorization` header.
    pub fn is_header_only(&self) -> bool {
        self.cookie.is_none() && !self.query && self.websocket.is_none()
    }

    /// Finds the one token of `req`. `dpop`: whether the `DPoP` scheme is accepted in the
    /// header (as with [`AuthLayer::dpop`](crate::AuthLayer::dpop)).
    ///
    /// # Errors
    ///
    /// [`BearerError::Missing`] when no place has a token (or the header has another
    /// scheme and no other place has one: [`BearerError::OtherScheme`]);
    /// [`BearerError::SeveralPlaces`] when more than one has; the header's errors, and
    /// [`BearerError::Empty`] or [`BearerError::Malformed`] for a token elsewhere that is not
    /// an RFC 6750 `b64token`.
    pub fn find<'a, B>(
        &self,
        req: &'a Request<B>,
        dpop: bool,
    ) -> Result<FoundToken<'a>, BearerError> {
        let headers = req.headers();
        let header = if dpop {
            bearer::extract_any(headers)
        } else {
            bearer::extract(headers).map(|token| (AuthScheme::Bearer, token))
        };
        let mut found = match header {
            Ok((scheme, token)) => Some(FoundToken {
                source: TokenSource::Header,
                scheme,
                token: Cow::Borrowed(token),
            }),
            // Another scheme (e.g. Basic) is no token here, unless nothing else has one.
            Err(BearerError::Missing | BearerError::OtherScheme) => None,
            Err(e) => return Err(e),
        };
        if self.is_header_only() {
            return match found {
                Some(found) => Ok(found),
                None => Err(header.err().unwrap_or(BearerError::Missing)),
            };
        }
        let mut add = |source, token: Option<Cow<'a, str>>| match (token, &found) {
            (None, _) => Ok(()),
            (Some(_), Some(_)) => Err(BearerError::SeveralPlaces),
            (Some(token), None) => {
                found = Some(FoundToken {
                    source,
                    scheme: AuthScheme::Bearer,
                    token,
                });
                Ok(())
            }
        };
        if let Some(name) = &self.cookie {
            add(
                TokenSource::Cookie,
                cookie(headers, name)?.map(Cow::Borrowed),
            )?;
        }
        if self.query {
            add(TokenSource::Query, query(req.uri())?)?;
        }
        if let Some(prefix) = &self.websocket {
            let token = websocket(headers, prefix)?.map(Cow::Borrowed);
            add(TokenSource::WebSocketProtocol, token)?;
        }
        match found {
            Some(found) => Ok(found),
            None => Err(header.err().unwrap_or(BearerError::Missing)),
        }
    }

    /// Takes the token out of what the inner service sees: the query parameter from the URI,
    /// the protocol entry from `Sec-WebSocket-Protocol`. Header and cookie stay as they are.
    pub(crate) fn scrub<B>(&self, req: &mut Request<B>, source: TokenSource) {
        match source {
            TokenSource::Query => {
                *req.uri_mut() = without_query_token(req.uri());
                // axum keeps the URI as it came in, for `OriginalUri` (nested routers).
                #[cfg(feature = "axum")]
                if let Some(original) = req
                    .extensions_mut()
                    .get_mut::<::axum::extract::OriginalUri>()
                {
                    original.0 = without_query_token(&original.0);
                }
            }
            TokenSource::WebSocketProtocol => {
                if let Some(prefix) = &self.websocket {
                    without_protocol_token(req.headers_mut(), prefix);
                }
            }
            TokenSource::Header | TokenSource::Cookie => {}
        }
    }
}

/// A token must be an RFC 6750 `b64token` wherever it comes from.
fn checked(token: &str) -> Result<&str, BearerError> {
    if token.is_empty() {
        Err(BearerError::Empty)
    } else if bearer::is_b64token(token.as_bytes()) {
        Ok(token)
    } else {
        Err(BearerError::Malformed)
    }
}

/// The value of cookie `name` (RFC 6265 §4.2.1: `name=value` pairs separated by `;`), in
/// every `Cookie` header; two of that name are [`BearerError::SeveralPlaces`].
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, BearerError> {
    let mut found = None;
    for value in headers.get_all(COOKIE) {
        // Cookie values are ASCII; a header that is not cannot hold our token.
        let Ok(value) = value.to_str() else { continue };
        for pair in value.split(';') {
            let Some((key, value)) = pair.trim_matches([' ', '\t']).split_once('=') else {
                continue;
            };
            if key != name {
                continue;
            }
            let value = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            if value.is_empty() {
                continue;
            }
            if found.replace(checked(value)?).is_some() {
                return Err(BearerError::SeveralPlaces);
            }
        }
    }
    Ok(found)
}

/// Whether one `&`-separated piece of a query is the `access_token` parameter; its decoded
/// value if so.
fn query_token(piece: &str) -> Option<Cow<'_, str>> {
    let (key, value) = url::form_urlencoded::parse(piece.as_bytes()).next()?;
    (key == QUERY_PARAMETER).then_some(value)
}

/// The decoded `access_token` query parameter; two are [`BearerError::SeveralPlaces`].
fn query(uri: &Uri) -> Result<Option<Cow<'_, str>>, BearerError> {
    let mut found = None;
    for piece in uri.query().unwrap_or_default().split('&') {
        if let Some(value) = query_token(piece) {
            checked(&value)?;
            if found.replace(value).is_some() {
                return Err(BearerError::SeveralPlaces);
            }
        }
    }
    Ok(found)
}

/// `uri` without its `access_token` parameters. Should the rest not make a URI again, the
/// query goes as a whole: the token must not go on.
fn without_query_token(uri: &Uri) -> Uri {
    let Some(query) = uri.query() else {
        return uri.clone();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|piece| query_token(piece).is_none())
        .collect();
    let path = uri.path();
    let rebuilt = |path_and_query: String| {
        let mut parts = uri.clone().into_parts();
        parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
        Uri::from_parts(parts).ok()
    };
    let with_rest = if kept.is_empty() {
        rebuilt(path.to_owned())
    } else {
        rebuilt(format!("{path}?{}", kept.join("&")))
    };
    with_rest
        .or_else(|| rebuilt(path.to_owned()))
        .unwrap_or_else(|| Uri::from_static("/"))
}

/// The entries of every `Sec-WebSocket-Protocol` header (comma-separated, RFC 6455 §11.3.4).
fn protocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|entry| entry.trim_matches([' ', '\t']))
        .filter(|entry| !entry.is_empty())
}

/// The token of the protocol entry with `prefix`; two such entries are
/// [`BearerError::SeveralPlaces`].
fn websocket<'a>(headers: &'a HeaderMap, prefix: &str) -> Result<Option<&'a str>, BearerError> {
    let mut found = None;
    for entry in protocols(headers) {
        if let Some(token) = entry.strip_prefix(prefix) {
            if found.replace(checked(token)?).is_some() {
                return Err(BearerError::SeveralPlaces);
            }
        }
    }
    Ok(found)
}

/// Rewrites `Sec-WebSocket-Protocol` to the entries without `prefix` (none: no header).
fn without_protocol_token(headers: &mut HeaderMap, prefix: &str) {
    let kept = protocols(headers)
        .filter(|entry| !entry.starts_with(prefix))
        .collect::<Vec<_>>()
        .join(", ");
    let value = HeaderValue::from_str(&kept)
        .ok()
        .filter(|_| !kept.is_empty());
    headers.remove(SEC_WEBSOCKET_PROTOCOL);
    if let Some(value) = value {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, value);
    }
}

#[cfg(test)]
mod tests;
