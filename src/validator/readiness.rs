//! [`Readiness`]: whether a validator can decide tokens now.

use std::borrow::Cow;
use std::fmt;

/// Whether a validator can decide tokens now. See the [module docs](super#readiness).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// It can.
    Ready,
    /// It cannot, for this reason: one line, no token, secret or key in it.
    NotReady(Cow<'static, str>),
}

impl Readiness {
    /// Not ready, for a fixed reason.
    pub const fn not_ready(reason: &'static str) -> Self {
        Readiness::NotReady(Cow::Borrowed(reason))
    }

    /// Whether it is [`Readiness::Ready`].
    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready)
    }

    /// Why it is not ready, if it is not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Readiness::Ready => None,
            Readiness::NotReady(reason) => Some(reason),
        }
    }

    /// Ready only if both are; otherwise the first reason.
    ///
    /// ```
    /// use bearer_guard::validator::Readiness;
    /// let down = Readiness::not_ready("down");
    /// assert_eq!(Readiness::Ready.and(down.clone()), down);
    /// assert!(Readiness::Ready.and(Readiness::Ready).is_ready());
    /// ```
    pub fn and(self, other: Readiness) -> Readiness {
        match self {
            Readiness::Ready => other,
            not_ready => not_ready,
        }
    }

    /// The same readiness, its reason prefixed with `context` (an issuer, say).
    pub(crate) fn context(self, context: &str) -> Readiness {
        match self {
            Readiness::Ready => Readiness::Ready,
            Readiness::NotReady(reason) => {
                Readiness::NotReady(format!("{context}: {reason}").into())
            }
        }
    }
}

impl fmt::Display for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Readiness::Ready => f.write_str("ready"),
            Readiness::NotReady(reason) => write!(f, "not ready: {reason}"),
        }
    }
}
