//! Several issuers in one server: issuers by path (`{root issuer}/tenant-a`), each an
//! [`Inner`] of its own (keys, clients, grants, counters, faults) with its own router, mounted
//! under its path prefix behind the root issuer's listener. A request whose path the root
//! router does not know reaches [`Tenants::dispatch`]: `/{name}/...` goes to issuer `name` as
//! `/...`, and `/.well-known/oauth-authorization-server/{name}` (the RFC 8414 §3.1 location
//! for an issuer with a path) to its discovery document.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, RwLock};

use axum::body::Body;
use axum::http::{Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt as _;

use crate::config::ControlOptions;
use crate::keys::KeyAlg;
use crate::state::{Inner, Settings};
use crate::util::{read, write};

/// Path segments of the root issuer's own endpoints, which no issuer may be named.
const RESERVED: [&str; 8] = [
    "jwks",
    "token",
    "introspect",
    "revoke",
    "authorize",
    "register",
    "userinfo",
    "favicon.ico",
];

const WELL_KNOWN_AS: &str = "/.well-known/oauth-authorization-server";

/// Why an issuer could not be added.
#[derive(Debug)]
pub(crate) enum TenantError {
    /// Not 1 to 64 of `a-z`, `0-9`, `-`, `_` starting with a letter or digit, or reserved.
    InvalidName,
    /// An issuer of that name exists.
    Exists,
    /// Key generation failed.
    Key(io::Error),
}

impl std::fmt::Display for TenantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TenantError::InvalidName => f.write_str(
                "an issuer name is 1 to 64 of a-z, 0-9, '-', '_', starting with a letter or \
                 digit, and not the name of an endpoint (jwks, token, authorize, ...)",
            ),
            TenantError::Exists => f.write_str("an issuer of that name exists"),
            TenantError::Key(e) => write!(f, "key generation failed: {e}"),
        }
    }
}

struct Tenant {
    inner: Arc<Inner>,
    router: Router,
}

/// Makes the router of an issuer (given by the server, which knows its routes).
pub(crate) type MakeRouter = fn(Arc<Inner>, ControlOptions) -> Router;

/// The issuers served under a path of the root issuer.
pub(crate) struct Tenants {
    /// The root issuer, without trailing `/`.
    base: String,
    settings: Settings,
    router: MakeRouter,
    map: RwLock<BTreeMap<String, Tenant>>,
}

impl Tenants {
    pub(crate) fn new(base: String, settings: Settings, router: MakeRouter) -> Self {
        Tenants {
            base,
            settings,
            router,
            map: RwLock::new(BTreeMap::new()),
        }
    }

    /// Adds issuer `{base}/{name}`, configured like the root issuer, with a new key of `key`
    /// (default: the root issuer's algorithm).
    pub(crate) fn add(&self, name: &str, key: Option<KeyAlg>) -> Result<Arc<Inner>, TenantError> {
        if !valid_name(name) {
            return Err(TenantError::InvalidName);
        }
        if read(&self.map).contains_key(name) {
            return Err(TenantError::Exists);
        }
        let issuer = format!("{}/{name}", self.base);
        let inner = Arc::new(Inner::new(issuer, &self.settings, key).map_err(TenantError::Key)?);
        let router = (self.router)(inner.clone(), self.settings.control);
        let mut map = write(&self.map);
        if map.contains_key(name) {
            return Err(TenantError::Exists);
        }
        map.insert(
            name.to_owned(),
            Tenant {
                inner: inner.clone(),
                router,
            },
        );
        Ok(inner)
    }

    /// Issuer `name`.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Inner>> {
        read(&self.map).get(name).map(|t| t.inner.clone())
    }

    /// Every issuer by path, by name.
    pub(crate) fn list(&self) -> Vec<(String, Arc<Inner>)> {
        read(&self.map)
            .iter()
            .map(|(name, t)| (name.clone(), t.inner.clone()))
            .collect()
    }

    /// Releases the requests parked by faults of every issuer.
    pub(crate) fn begin_shutdown(&self) {
        for t in read(&self.map).values() {
            t.inner.begin_shutdown();
        }
    }

    /// Answers a request the root router has no route for: to the issuer its path names,
    /// else `404`.
    pub(crate) async fn dispatch(&self, mut req: Request<Body>) -> Response {
        let Some((name, path)) = split(req.uri().path()) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let Some(router) = read(&self.map).get(name).map(|t| t.router.clone()) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        let path_and_query = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path.to_owned(),
        };
        let mut parts = req.uri().clone().into_parts();
        parts.path_and_query = path_and_query.parse().ok();
        match Uri::from_parts(parts) {
            Ok(uri) => *req.uri_mut() = uri,
            Err(_) => return StatusCode::NOT_FOUND.into_response(),
        }
        match router.oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        }
    }
}

/// The issuer name and the path within it of a request path: `/{name}/rest` → `(name,
/// /rest)`, `/{name}` → `(name, /)`, `/.well-known/oauth-authorization-server/{name}` →
/// `(name, /.well-known/oauth-authorization-server)`.
fn split(path: &str) -> Option<(&str, &str)> {
    if let Some(name) = path
        .strip_prefix(WELL_KNOWN_AS)
        .and_then(|rest| rest.strip_prefix('/'))
    {
        return (!name.contains('/')).then_some((name, WELL_KNOWN_AS));
    }
    let rest = path.strip_prefix('/')?;
    match rest.find('/') {
        Some(i) => Some((rest.get(..i)?, rest.get(i..)?)),
        None => Some((rest, "/")),
    }
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && !RESERVED.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_names() {
        assert_eq!(split("/tenant-a/token"), Some(("tenant-a", "/token")));
        assert_eq!(split("/tenant-a"), Some(("tenant-a", "/")));
        assert_eq!(
            split("/.well-known/oauth-authorization-server/tenant-a"),
            Some(("tenant-a", WELL_KNOWN_AS))
        );
        assert_eq!(split("/.well-known/oauth-authorization-server/a/b"), None);
        assert!(valid_name("tenant-a"));
        assert!(!valid_name("_testkit"));
        assert!(!valid_name(".well-known"));
        assert!(!valid_name("token"));
        assert!(!valid_name("Tenant"));
        assert!(!valid_name(""));
    }
}
