//! The resource server's client credentials at the introspection endpoint: [`ClientAuth`]
//! and the secret, which `Debug` never shows.

use std::fmt;

/// How the resource server authenticates to the introspection endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the form-urlencoded id and secret (the default).
    #[default]
    Basic,
    /// `client_id` and `client_secret` in the form body.
    Post,
}

/// The client secret; never shown by `Debug`.
#[derive(Clone, Default)]
pub(super) struct Secret(pub(super) String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}
