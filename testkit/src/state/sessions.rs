//! The users' sign-ins: when the user last authenticated and at which level (`auth_time`,
//! `acr`), and whether an authorization request (OpenID Connect `prompt`, `max_age`,
//! `acr_values`) needs a new sign-in.

use super::Inner;
use crate::user::User;
use crate::util::{lock, now};

/// One sign-in of a user: when (`auth_time`, Unix seconds) and at which level (`acr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthInfo {
    pub(crate) auth_time: u64,
    pub(crate) acr: Option<String>,
}

/// What an authorization request asks of the user's sign-in (OpenID Connect Core §3.1.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SignIn {
    /// `max_age`: the longest time since the last sign-in (0: sign in again).
    pub(crate) max_age: Option<u64>,
    /// `acr_values`, in order of preference.
    pub(crate) acr_values: Vec<String>,
    /// `prompt=login`: sign in again.
    pub(crate) login: bool,
    /// `prompt=none`: no sign-in may be asked for.
    pub(crate) none: bool,
}

impl SignIn {
    /// Whether `last`, a sign-in of `user`, no longer answers this request.
    fn wants_new(&self, user: &User, last: &AuthInfo) -> bool {
        let too_old = self
            .max_age
            .is_some_and(|max| max == 0 || now().saturating_sub(last.auth_time) > max);
        // Another level is asked for, and the user can sign in at one of them.
        let level = !self.acr_values.is_empty()
            && !last
                .acr
                .as_ref()
                .is_some_and(|acr| self.acr_values.contains(acr))
            && user
                .acr_for(&self.acr_values)
                .is_some_and(|acr| self.acr_values.contains(&acr));
        self.login || too_old || level
    }
}

impl Inner {
    /// The sign-in of `user` that answers `req` without a login form (auto-approval): the
    /// last one if it still does, else a new one now. `None` when a new one is needed but
    /// `prompt=none` forbids it.
    pub(crate) fn silent_sign_in(&self, user: &User, req: &SignIn) -> Option<AuthInfo> {
        let mut sessions = lock(&self.sessions);
        if let Some(last) = sessions.get(&user.username) {
            if !req.wants_new(user, last) {
                return Some(last.clone());
            }
        }
        if req.none {
            return None;
        }
        let info = fresh(user, req);
        sessions.insert(user.username.clone(), info.clone());
        Some(info)
    }

    /// A sign-in of `user` now, with the login form, answering `req`.
    pub(crate) fn sign_in_now(&self, user: &User, req: &SignIn) -> AuthInfo {
        let info = fresh(user, req);
        lock(&self.sessions).insert(user.username.clone(), info.clone());
        info
    }

    /// Records a sign-in of `username` as if it had happened at `auth_time` at level `acr`.
    pub(crate) fn set_session(&self, username: &str, info: AuthInfo) {
        lock(&self.sessions).insert(username.to_owned(), info);
    }
}

fn fresh(user: &User, req: &SignIn) -> AuthInfo {
    AuthInfo {
        auth_time: now(),
        acr: user.acr_for(&req.acr_values),
    }
}
