//! The header of an access token (RFC 9068 §2.1, RFC 8725): its checks, and a memo of the
//! headers that passed them.
//!
//! An issuer signs every token with the same few headers (`alg`, `typ`, `kid`), so the same
//! header segment comes back request after request. A header's verdict depends only on its
//! bytes and the validator's settings, so the verdict of a header that passed is kept, keyed
//! by the exact segment, and the next token with that segment skips its base64 and JSON. Only
//! passing headers are kept, at most [`MEMO_CAPACITY`]; a client sending many headers only
//! makes the memo evict.

use std::collections::HashSet;
use std::sync::Arc;

use jsonwebtoken::Algorithm;
use quick_cache::sync::{Cache, DefaultLifecycle};
use quick_cache::UnitWeighter;

use crate::error::TokenError;
use crate::jose::{AlgError, Header};

/// The `typ` values of an access token (RFC 9068 §2.1), compared without case.
const ACCESS_TOKEN_TYPES: [&str; 2] = ["at+jwt", "application/at+jwt"];

/// How many distinct passing headers are remembered.
pub(super) const MEMO_CAPACITY: u64 = 64;

/// What the signature check needs from a header that passed.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Checked {
    pub(super) alg: Algorithm,
    pub(super) kid: Option<Arc<str>>,
}

/// Headers that passed, by their exact base64url segment.
pub(super) struct HeaderMemo(Cache<Box<str>, Checked, UnitWeighter, foldhash::fast::RandomState>);

impl HeaderMemo {
    pub(super) fn new() -> Self {
        HeaderMemo(Cache::with(
            MEMO_CAPACITY as usize,
            MEMO_CAPACITY,
            UnitWeighter,
            foldhash::fast::RandomState::default(),
            DefaultLifecycle::default(),
        ))
    }

    /// The verdict of the header `segment`, from the memo or checked now.
    pub(super) fn check(
        &self,
        segment: &str,
        algorithms: &HashSet<Algorithm>,
        require_typ: bool,
    ) -> Result<Checked, TokenError> {
        if let Some(checked) = self.0.get(segment) {
            return Ok(checked);
        }
        let checked = check(segment, algorithms, require_typ)?;
        self.0.insert(segment.into(), checked.clone());
        Ok(checked)
    }
}

/// Checks a header segment: `alg` on the allow-list, no `crit`, `enc` or `b64`, `typ` of an
/// access token (unless `require_typ` is off), `kid` a string if present.
fn check(
    segment: &str,
    algorithms: &HashSet<Algorithm>,
    require_typ: bool,
) -> Result<Checked, TokenError> {
    let header = Header::decode(segment)?;
    let alg = header
        .alg(|a| algorithms.contains(a))
        .map_err(|e| match e {
            AlgError::Malformed => TokenError::Malformed,
            AlgError::NotAllowed => TokenError::AlgorithmNotAllowed,
        })?;
    header.refuse_extensions()?;
    if require_typ && !header.typ_is(&ACCESS_TOKEN_TYPES) {
        tracing::debug!(
            check = "typ",
            expected = "at+jwt",
            found = %header.typ_shown(),
            "token refused: not an RFC 9068 access token (require_typ(false) accepts it)"
        );
        return Err(TokenError::WrongType);
    }
    let kid = header.kid()?.map(Arc::from);
    Ok(Checked { alg, kid })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::jwt::cache::tests::{sign, validator};
    use crate::{error::TokenError, AuthError, Validator};

    fn refusal(result: Result<crate::Claims, AuthError>) -> TokenError {
        match result {
            Err(AuthError::InvalidToken(e)) => e,
            other => panic!("{:?}", other.map(|_| ())),
        }
    }

    #[tokio::test]
    async fn a_remembered_header_does_not_vouch_for_a_longer_one() {
        let v = validator(100, Duration::from_secs(60)).await;
        let good = r#"{"alg":"HS256","typ":"at+jwt"}"#;
        v.validate(&sign(good, "a", 600.0)).await.unwrap();
        assert_eq!(
            v.inner.headers.0.len(),
            1,
            "the passing header is remembered"
        );
        // The same header with a `crit` member after it, twice (memo or not): refused.
        let with_crit = r#"{"alg":"HS256","typ":"at+jwt","crit":["exp"]}"#;
        for _ in 0..2 {
            let e = refusal(v.validate(&sign(with_crit, "b", 600.0)).await);
            assert_eq!(e, TokenError::UnsupportedCritical);
        }
        let wrong_typ = r#"{"alg":"HS256","typ":"JWT"}"#;
        for _ in 0..2 {
            let e = refusal(v.validate(&sign(wrong_typ, "c", 600.0)).await);
            assert_eq!(e, TokenError::WrongType);
        }
        assert_eq!(
            v.inner.headers.0.len(),
            1,
            "refused headers are not remembered"
        );
        // The remembered header still passes, from the memo.
        v.validate(&sign(good, "d", 600.0)).await.unwrap();
    }
}
