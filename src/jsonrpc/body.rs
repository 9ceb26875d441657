//! The bounded reader: how much of a request body may be read, and what a failed read means.

use http::{header, HeaderMap};
use http_body::Body;
use http_body_util::LengthLimitError;

use crate::error::RequestError;

/// The largest body read by default: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// Whether the request says beforehand that its body is larger than `max`: by its
/// `Content-Length`, or by the body's own size hint (what a server knows of it). Such a body
/// is refused before a byte of it is read. A `Content-Length` that is not a number is left to
/// the server (hyper refuses it) and to the limit while reading.
pub(super) fn declared_too_large<B: Body>(headers: &HeaderMap, body: &B, max: usize) -> bool {
    let max = u64::try_from(max).unwrap_or(u64::MAX);
    let declared = headers
        .get_all(header::CONTENT_LENGTH)
        .iter()
        .filter_map(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
        .any(|len| len > max);
    declared || body.size_hint().lower() > max
}

/// The refusal for a body that could not be read to its end within the limit.
pub(super) fn read_error(error: &(dyn std::error::Error + Send + Sync + 'static)) -> RequestError {
    if error.is::<LengthLimitError>() {
        RequestError::BodyTooLarge
    } else {
        RequestError::BodyUnreadable
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full, Limited};

    use super::*;

    #[test]
    fn content_length_over_the_limit() {
        let body = Full::new(Bytes::from_static(b"{}"));
        let mut headers = HeaderMap::new();
        assert!(!declared_too_large(&headers, &body, 10));
        headers.insert(header::CONTENT_LENGTH, "11".parse().unwrap());
        assert!(declared_too_large(&headers, &body, 10));
        headers.insert(header::CONTENT_LENGTH, "10".parse().unwrap());
        assert!(!declared_too_large(&headers, &body, 10));
        headers.insert(header::CONTENT_LENGTH, "x".parse().unwrap());
        assert!(!declared_too_large(&headers, &body, 10));
        // The body's own exact size counts too.
        assert!(declared_too_large(&HeaderMap::new(), &body, 1));
    }

    #[tokio::test]
    async fn reading_past_the_limit_is_too_large() {
        let body = Limited::new(Full::new(Bytes::from_static(b"0123456789")), 4);
        let error = body.collect().await.unwrap_err();
        assert_eq!(read_error(error.as_ref()), RequestError::BodyTooLarge);
        let other: Box<dyn std::error::Error + Send + Sync> = "reset".into();
        assert_eq!(read_error(other.as_ref()), RequestError::BodyUnreadable);
    }
}
