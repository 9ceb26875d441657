//! [`TestServerBuilder`]: the configuration of a [`TestServer`] and its start.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::config::{Client, ControlOptions};
use crate::issuer::Issuer;
use crate::keys::KeyAlg;
use crate::registry::RegistrationOptions;
use crate::state::{Inner, Settings};
use crate::tenants::Tenants;
use crate::user::User;
use crate::{routes, TestServer};

/// Configures and starts a [`TestServer`]. Created by [`TestServer::builder`].
///
/// Starts from the defaults described in the [crate docs](crate);
/// [`client`](Self::client) and [`user`](Self::user) add entries or replace
/// the one with the same id / username.
#[derive(Debug, Clone)]
#[must_use = "call .start().await"]
pub struct TestServerBuilder {
    audience: String,
    clients: Vec<Client>,
    users: Vec<User>,
    token_lifetime: Duration,
    code_lifetime: Duration,
    key: KeyAlg,
    bind: SocketAddr,
    issuer_url: Option<String>,
    auto_approve: Option<String>,
    resources: Vec<String>,
    registration: RegistrationOptions,
    issuer_paths: Vec<String>,
    pub(crate) control: ControlOptions,
}

impl Default for TestServerBuilder {
    fn default() -> Self {
        TestServerBuilder {
            audience: "api".into(),
            clients: vec![
                Client::new("demo-client", "demo-secret")
                    .scopes(["read", "write", "admin"])
                    .redirect_uri("http://127.0.0.1/callback"),
                Client::new("api", "api-secret"),
            ],
            users: vec![User::new("alice", "password")],
            token_lifetime: Duration::from_secs(300),
            code_lifetime: Duration::from_secs(60),
            key: KeyAlg::Rs256,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            issuer_url: None,
            auto_approve: None,
            resources: Vec::new(),
            registration: RegistrationOptions::default(),
            issuer_paths: Vec::new(),
            control: ControlOptions::default(),
        }
    }
}

impl TestServerBuilder {
    /// The `aud` of issued tokens (default `"api"`).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = audience.into();
        self
    }

    /// Registers a client, replacing any client with the same id.
    pub fn client(mut self, client: Client) -> Self {
        self.clients.retain(|c| c.id != client.id);
        self.clients.push(client);
        self
    }

    /// Removes all clients, including the defaults.
    pub fn clear_clients(mut self) -> Self {
        self.clients.clear();
        self
    }

    /// Registers a user, replacing any user with the same username.
    pub fn user(mut self, user: User) -> Self {
        self.users.retain(|u| u.username != user.username);
        self.users.push(user);
        self
    }

    /// Removes all users, including the default.
    pub fn clear_users(mut self) -> Self {
        self.users.clear();
        self
    }

    /// Lifetime of issued and minted access tokens (default 300 s).
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Lifetime of authorization codes, in whole seconds (default 60 s). A code is refused
    /// with `invalid_grant` once it has lived this long; `Duration::ZERO` makes every code
    /// expired on arrival, for tests of that path.
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// Algorithm of the initial signing key (default [`KeyAlg::Rs256`]).
    pub fn key(mut self, alg: KeyAlg) -> Self {
        self.key = alg;
        self
    }

    /// Address to listen on (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The issuer identifier to announce and put in tokens instead of
    /// `http://{bound address}`, for a server reached through another address than the one
    /// it listens on (a container's port mapping, a proxy). An origin only: `http` or
    /// `https`, a host, an optional port, no path (a trailing `/` is dropped).
    pub fn issuer_url(mut self, url: impl Into<String>) -> Self {
        self.issuer_url = Some(url.into());
        self
    }

    /// Makes the authorization endpoint approve every valid request at once as `username`
    /// (a registered user), redirecting with a code instead of showing the login form, so
    /// that a test can follow the authorization-code flow without a browser.
    pub fn auto_approve(mut self, username: impl Into<String>) -> Self {
        self.auto_approve = Some(username.into());
        self
    }

    /// The resources (RFC 8707 resource indicators) this server issues tokens for: a client
    /// may name one or several of them in the `resource` parameter of its authorization and
    /// token requests, and the access token's `aud` is then that resource (several: an array
    /// of them). Each must be an absolute URI without fragment (RFC 8707 §2), compared as an
    /// exact string (an MCP server's canonical URI such as `http://127.0.0.1:8080/mcp`, as
    /// its protected resource metadata announces it). Replaces earlier calls. Without it, the
    /// server serves one resource: the [`audience`](Self::audience) (if that is an absolute
    /// URI). A request without `resource` gets a token for the audience, as always.
    pub fn resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources = resources.into_iter().map(Into::into).collect();
        self
    }

    /// Mounts the HTTP control API under `/_testkit/` (off by default; **test-only**: it
    /// lets anyone who can reach the server mint tokens, change keys and inject faults,
    /// without authentication). See the [crate docs](crate#the-http-control-api) for the
    /// routes. When off, every `/_testkit/` path is a `404`.
    ///
    /// With it on, [`start`](Self::start) refuses a [`bind`](Self::bind) address that is not
    /// loopback, and the control routes answer only requests whose `Host` is loopback, unless
    /// [`allow_remote_control`](Self::allow_remote_control) is set.
    pub fn control_api(mut self, enabled: bool) -> Self {
        self.control.enabled = enabled;
        self
    }

    /// Lets the control API be served on a non-loopback address (a container's `0.0.0.0`)
    /// and answer requests of any `Host` (default `false`). **Anyone who can reach the server
    /// can then mint tokens**: use it only on an isolated test network. Requests that change
    /// something must still be `Content-Type: application/json`.
    pub fn allow_remote_control(mut self, allow: bool) -> Self {
        self.control.allow_remote = allow;
        self
    }

    /// Turns on dynamic client registration (RFC 7591) at `{issuer}/register`, advertised as
    /// `registration_endpoint` (default off; see the [crate docs](crate#dynamic-client-registration)).
    /// Anyone who can reach the server can then register clients, up to
    /// [`max_registrations`](Self::max_registrations).
    pub fn dynamic_registration(mut self, enabled: bool) -> Self {
        self.registration.enabled = enabled;
        self
    }

    /// How many clients may be registered at run time (default 1000); once reached,
    /// registration answers `403 access_denied`.
    pub fn max_registrations(mut self, max: usize) -> Self {
        self.registration.max = max;
        self
    }

    /// Also serves an issuer under path `name`, `{issuer}/{name}`, configured like the root
    /// issuer but with its own keys and state (see
    /// [`TestServer::add_issuer`](crate::TestServer::add_issuer), which adds one at run
    /// time). Repeatable.
    pub fn issuer_path(mut self, name: impl Into<String>) -> Self {
        self.issuer_paths.push(name.into());
        self
    }

    /// Generates the key, binds the listener and starts serving.
    ///
    /// # Errors
    ///
    /// If the address cannot be bound, key generation fails, the
    /// [`issuer_url`](Self::issuer_url) is not an origin, the
    /// [`auto_approve`](Self::auto_approve) user is not registered, a
    /// [`resources`](Self::resources) entry is not an absolute URI without fragment, an
    /// [`issuer_path`](Self::issuer_path) is not a valid name (or given twice), or the
    /// control API would
    /// be served on a non-loopback address without
    /// [`allow_remote_control`](Self::allow_remote_control).
    pub async fn start(self) -> io::Result<TestServer> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        self.control.check_bind(self.bind).map_err(invalid)?;
        if let Some(user) = &self.auto_approve {
            if !self.users.iter().any(|u| &u.username == user) {
                return Err(invalid(format!("auto_approve: unknown user {user:?}")));
            }
        }
        if let Some(bad) = self
            .resources
            .iter()
            .find(|r| !crate::endpoints::resource_syntax_ok(r))
        {
            return Err(invalid(format!(
                "resources: {bad:?} is not an absolute URI without fragment"
            )));
        }
        let issuer_url = match &self.issuer_url {
            Some(url) => Some(origin(url).ok_or_else(|| {
                invalid(format!(
                    "issuer_url {url:?} is not an http(s) origin without a path"
                ))
            })?),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let issuer = issuer_url.unwrap_or_else(|| format!("http://{addr}"));
        let resources = if self.resources.is_empty() {
            vec![self.audience.clone()]
        } else {
            self.resources
        };
        let settings = Settings {
            audience: self.audience,
            token_lifetime: self.token_lifetime,
            code_lifetime: self.code_lifetime,
            clients: self.clients,
            users: self.users,
            resources,
            auto_approve: self.auto_approve,
            registration: self.registration,
            key: self.key,
            control: self.control,
        };
        let tenants = Arc::new(Tenants::new(
            issuer.clone(),
            settings.clone(),
            |inner, control| routes::router(inner, control, None),
        ));
        for name in &self.issuer_paths {
            tenants
                .add(name, None)
                .map_err(|e| invalid(format!("issuer_path {name:?}: {e}")))?;
        }
        let inner = Arc::new(Inner::new(issuer, &settings, None)?);
        let app = routes::router(inner.clone(), self.control, Some(tenants.clone()));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(TestServer {
            root: Issuer { inner },
            tenants,
            addr,
            shutdown_tx: Some(tx),
            task: Some(task),
        })
    }
}

/// `url` as an origin (`scheme://host[:port]`, no trailing `/`), if it is an `http` or
/// `https` URL without path, query, fragment or credentials.
fn origin(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let plain = matches!(parsed.scheme(), "http" | "https")
        && parsed.host().is_some()
        && parsed.path() == "/"
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    plain.then(|| parsed.as_str().trim_end_matches('/').to_owned())
}
