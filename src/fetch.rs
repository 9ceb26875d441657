//! Bounded HTTP fetches of documents from the authorization server: every response is read
//! with a size cap, every request has the client's timeout, and no redirect is ever followed.
//!
//! Redirects are refused, not followed: a redirect to another host would hand the resource
//! server another host's keys (JWKS) or another host's verdict on a token (introspection), and
//! on 307/308 re-send the token and client credentials there. A 3xx answer is a
//! [`FetchError::Redirect`] naming the `Location`, and fails like any unreachable endpoint
//! (503 for requests that need the answer). The default client follows no redirect; with a
//! client of your own ([`http_client`](crate::JwtValidatorBuilder::http_client)), disable
//! redirects too (`reqwest::redirect::Policy::none()`): an answer that comes from any other URL
//! than the one requested is refused all the same, but by then the request has been sent there.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response, StatusCode};

/// Why a document could not be fetched. Texts carry URLs and statuses, never tokens or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The request failed (connection refused, DNS, TLS, timeout...).
    #[error("request to {url} failed: {reason}")]
    Request {
        /// The URL requested.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The server answered with a redirect (3xx), which is never followed, or a client of
    /// your own followed one (the answer came from another URL than the one requested).
    #[error("{url} redirected to {location:?}; redirects are not followed")]
    Redirect {
        /// The URL requested.
        url: String,
        /// Where the answer sent us (the `Location` header or the URL the answer came from;
        /// empty when there was none), shortened to 200 characters.
        location: String,
    },
    /// The server answered with a status other than 200.
    #[error("{url} answered with status {status}")]
    Status {
        /// The URL requested.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The body was larger than allowed.
    #[error("{url} sent more than {limit} bytes")]
    TooLarge {
        /// The URL requested.
        url: String,
        /// The limit in bytes.
        limit: usize,
    },
    /// The body is not the JSON expected.
    #[error("{url} sent an invalid document: {reason}")]
    Invalid {
        /// The URL requested.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

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
    crate::stats::fetched(limits.purpose, result.is_ok(), started.elapsed());
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
}
