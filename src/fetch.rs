//! Bounded HTTP fetches of documents from the authorization server: every response is read
//! with a size cap, every request has the client's timeout, and no redirect is ever followed.
//!
//! Redirects are refused, not followed: a redirect to another host would hand the resource
//! server another host's keys (JWKS) or another host's verdict on a token (introspection), and
//! on 307/308 re-send the token and client credentials there. A 3xx answer is a
//! [`FetchError::Redirect`] naming the `Location`, and fails like any unreachable endpoint
//! (503 for requests that need the answer). The default client follows no redirect; with a
//! client of your own ([`http_client`](crate::jwt::JwtValidatorBuilder::http_client)), disable
//! redirects too (`reqwest::redirect::Policy::none()`): an answer that comes from any other URL
//! than the one requested is refused all the same, but by then the request has been sent there.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};

use crate::error::{BuildError, FetchError};

/// Limits applied to every fetch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub timeout: Duration,
    pub max_bytes: usize,
    /// What the fetch is for ("discovery", "jwks", "introspection"): a metrics label.
    pub purpose: &'static str,
}

/// Sends `request` and reads the body of a 200 answer, up to `limits.max_bytes`.
pub(crate) async fn send(
    request: RequestBuilder,
    url: &str,
    limits: Limits,
) -> Result<(Response, Vec<u8>), FetchError> {
    // Any other status is a `FetchError::Status` from `exchange` itself.
    let (_, response, body) = exchange(request, url, limits, |s| s == StatusCode::OK).await?;
    Ok((response, body))
}

/// Sends `request`, refuses redirects, and reads the body (up to `limits.max_bytes`) of an
/// answer whose status `read_body` accepts; other answers are a [`FetchError::Status`].
pub(crate) async fn exchange(
    request: RequestBuilder,
    url: &str,
    limits: Limits,
    read_body: impl Fn(StatusCode) -> bool,
) -> Result<(StatusCode, Response, Vec<u8>), FetchError> {
    let fail = |e: reqwest::Error| FetchError::Request {
        url: url.to_owned(),
        reason: describe(e),
    };
    let work = async {
        let mut response = request.send().await.map_err(fail)?;
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
                .unwrap_or_default();
            return Err(redirect(url, &location));
        }
        // A client of the user's own may have followed a redirect already: never take an
        // answer from anywhere but the URL asked.
        if !same_resource(url, response.url()) {
            return Err(redirect(url, response.url().as_str()));
        }
        if !read_body(status) {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: status.as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            url: url.to_owned(),
            limit: limits.max_bytes,
        };
        if response
            .content_length()
            .is_some_and(|len| len > limits.max_bytes as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(fail)? {
            if body.len() + chunk.len() > limits.max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((status, response, body))
    };
    // The client may have no timeout of its own (a user-supplied client); bound the whole
    // exchange, body included, here.
    let started = std::time::Instant::now();
    let result = match tokio::time::timeout(limits.timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Request {
            url: url.to_owned(),
            reason: format!("timed out after {:?}", limits.timeout),
        }),
    };
    crate::telemetry::fetched(limits.purpose, result.is_ok(), started.elapsed());
    result
}

/// Whether the answer came from the URL asked (fragments aside: they are never sent).
fn same_resource(asked: &str, answered: &url::Url) -> bool {
    let Ok(mut asked) = url::Url::parse(asked) else {
        return false;
    };
    let mut answered = answered.clone();
    asked.set_fragment(None);
    answered.set_fragment(None);
    asked == answered
}

/// The error for a redirect from `url` to `location` (shortened: it is the server's text).
fn redirect(url: &str, location: &str) -> FetchError {
    FetchError::Redirect {
        url: url.to_owned(),
        location: location.chars().take(200).collect(),
    }
}

/// GETs `url` and parses the 200 answer as JSON of type `T`.
pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
    client: &Client,
    url: &str,
    limits: Limits,
) -> Result<(Response, T), FetchError> {
    let request = client
        .get(url)
        .header(reqwest::header::ACCEPT, "application/json");
    let (response, body) = send(request, url, limits).await?;
    let doc = serde_json::from_slice(&body).map_err(|e| FetchError::Invalid {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    Ok((response, doc))
}

/// A short cause for a reqwest error, without the URL (the caller adds it).
fn describe(e: reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "connection failed".to_owned()
    } else {
        e.without_url().to_string()
    }
}

/// The default HTTP client: TLS as the `tls-*` feature chose, timeouts, no redirects (see the
/// [module docs](self)).
///
/// With `tls-ring` alone, rustls has no process-wide crypto provider unless the application
/// installed one; ring's is installed then (an application's own choice, made before, stays).
pub(crate) fn default_client(timeout: Duration) -> Result<Client, reqwest::Error> {
    #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one meanwhile: that one serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
    Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// Whether `url` may be used to fetch security material: `https`, or `http` to a loopback
/// address (for tests and local development).
pub(crate) fn is_acceptable_url(url: &url::Url) -> bool {
    match url.scheme() {
        "https" => url.host().is_some(),
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// The configured HTTP client, or the default one with `timeout`.
pub(crate) fn http_client(
    configured: Option<reqwest::Client>,
    timeout: Duration,
) -> Result<reqwest::Client, BuildError> {
    match configured {
        Some(client) => Ok(client),
        None => default_client(timeout).map_err(BuildError::Http),
    }
}

/// Whether this build's default HTTP client speaks TLS (one of the `tls-*` features).
pub(crate) const DEFAULT_CLIENT_HAS_TLS: bool = cfg!(any(
    feature = "tls-aws-lc",
    feature = "tls-ring",
    feature = "tls-native"
));

/// Refuses to fetch the `https` URL `url` with the default client of a build without TLS
/// ([`BuildError::NoTls`]); `custom_client`: the caller gave its own client, whose TLS is its
/// own business.
pub(crate) fn check_tls(url: &str, custom_client: bool) -> Result<(), BuildError> {
    let https = url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"));
    if https && !custom_client && !DEFAULT_CLIENT_HAS_TLS {
        return Err(BuildError::NoTls(url.to_owned()));
    }
    Ok(())
}

/// `uri`, if it is acceptable to fetch from: https, or http on a loopback host
/// ([`BuildError::BadUrl`] otherwise).
pub(crate) fn acceptable_url(uri: String) -> Result<String, BuildError> {
    match url::Url::parse(&uri) {
        Ok(parsed) if is_acceptable_url(&parsed) => Ok(uri),
        _ => Err(BuildError::BadUrl(uri)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whatever the TLS feature, the default client builds (rustls without a provider would
    /// panic here) and follows no redirect.
    #[test]
    fn the_default_client_builds_in_every_tls_configuration() {
        assert!(default_client(Duration::from_secs(1)).is_ok());
        // Tests share reqwest with dev-dependencies that bring aws-lc; without them, rustls
        // would have no provider but the one installed here.
        #[cfg(all(feature = "tls-ring", not(feature = "tls-aws-lc")))]
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
    }

    #[test]
    fn https_needs_a_tls_feature_unless_the_client_is_given() {
        let refused = check_tls("HTTPS://issuer.example", false);
        if DEFAULT_CLIENT_HAS_TLS {
            assert!(refused.is_ok());
        } else {
            let message = refused.unwrap_err().to_string();
            assert!(
                message.contains("tls-aws-lc, tls-ring or tls-native"),
                "{message}"
            );
        }
        assert!(check_tls("https://issuer.example", true).is_ok());
        assert!(check_tls("http://127.0.0.1:8080", false).is_ok());
    }

    /// Without a TLS feature, the builders refuse an https URL before any fetch.
    #[cfg(not(any(feature = "tls-aws-lc", feature = "tls-ring", feature = "tls-native")))]
    #[tokio::test]
    async fn validators_of_https_urls_are_refused_at_build_time_without_tls() {
        let jwt = crate::JwtValidator::builder("https://issuer.example")
            .audience("api")
            .build()
            .await;
        assert!(matches!(jwt, Err(BuildError::NoTls(url)) if url == "https://issuer.example"));
        let jwks = crate::JwtValidator::builder("https://issuer.example")
            .audience("api")
            .jwks_uri("https://issuer.example/jwks")
            .build()
            .await;
        assert!(matches!(jwks, Err(BuildError::NoTls(_))));
        let introspection = crate::IntrospectionValidator::builder("https://issuer.example")
            .client("api", "secret")
            .any_audience()
            .build()
            .await;
        assert!(matches!(introspection, Err(BuildError::NoTls(_))));
    }
}
