//! [`StoreError`]: why a shared store could not answer.

use std::fmt;

/// Why a store could not answer. Its text names the store and the cause, never a key's
/// origin (token or `jti`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError(String);

impl StoreError {
    /// An error with this description.
    pub fn new(reason: impl Into<String>) -> Self {
        StoreError(reason.into())
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}
