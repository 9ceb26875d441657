//! [`ErrorHandler`]: how a refused request is answered.

use http::Response;

use super::{AuthError, Challenge};

/// Turns an [`AuthError`] into the response a rejected request gets.
///
/// The default, [`DefaultErrorHandler`], answers with [`AuthError::to_response`]. Implement this
/// trait to add a body (e.g. JSON) or headers; it is also how the gRPC mapping plugs in.
///
/// ```
/// use bearer_guard::{AuthError, error::Challenge, error::ErrorHandler};
///
/// #[derive(Clone)]
/// struct JsonErrors;
///
/// impl ErrorHandler<String> for JsonErrors {
///     fn respond(&self, error: &AuthError, challenge: &Challenge) -> http::Response<String> {
///         let mut res = error.to_response::<String>(challenge);
///         *res.body_mut() = format!(r#"{{"error":"{}"}}"#, error.code().unwrap_or("unavailable"));
///         res
///     }
/// }
/// ```
pub trait ErrorHandler<B>: Clone + Send + Sync + 'static {
    /// Builds the response for `error`.
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B>;
}

/// A closure is an error handler too:
///
/// ```
/// use bearer_guard::{AuthError, AuthLayer, error::Challenge, JwtValidator};
/// # async fn demo(validator: JwtValidator) {
/// let layer = AuthLayer::new(validator).error_handler(|error: &AuthError, challenge: &Challenge| {
///     let mut res = error.to_response::<String>(challenge);
///     *res.body_mut() = format!(r#"{{"error":"{}"}}"#, error.code().unwrap_or("unavailable"));
///     res
/// });
/// # let _ = layer; }
/// ```
impl<B, F> ErrorHandler<B> for F
where
    F: Fn(&AuthError, &Challenge) -> Response<B> + Clone + Send + Sync + 'static,
{
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B> {
        self(error, challenge)
    }
}

/// Answers with status and `WWW-Authenticate` challenge, and an empty body.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultErrorHandler;

impl<B: Default> ErrorHandler<B> for DefaultErrorHandler {
    fn respond(&self, error: &AuthError, challenge: &Challenge) -> Response<B> {
        error.to_response(challenge)
    }
}
