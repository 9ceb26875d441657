//! Bounded HTTP fetches of documents from the authorization server: every response is read
//! with a size cap, and every request has the client's timeout.

use std::time::Duration;

use reqwest::{Client, RequestBuilder, Response};

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
}

/// Sends `request` and reads the body of a 200 answer, up to `limits.max_bytes`.
pub(crate) async fn send(
    request: RequestBuilder,
    url: &str,
    limits: Limits,
) -> Result<(Response, Vec<u8>), FetchError> {
    let fail = |e: reqwest::Error| FetchError::Request {
        url: url.to_owned(),
        reason: describe(e),
    };
    let work = async {
        let mut response = request.send().await.map_err(fail)?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
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
        Ok((response, body))
    };
    // The client may have no timeout of its own (a user-supplied client); bound the whole
    // exchange, body included, here.
    match tokio::time::timeout(limits.timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Request {
            url: url.to_owned(),
            reason: format!("timed out after {:?}", limits.timeout),
        }),
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

/// The default HTTP client: rustls, timeouts, no redirects to other schemes.
pub(crate) fn default_client(timeout: Duration) -> Result<Client, reqwest::Error> {
    Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::limited(3))
        .build()
}
