//! Registration data: clients, endpoints and injectable faults (users: `user.rs`); how the
//! control API is served.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// A registered OAuth client of the [`TestServer`](super::TestServer).
///
/// A client made with [`new`](Self::new) is confidential: it authenticates with
/// `client_secret_basic` or `client_secret_post`. One made with [`public`](Self::public)
/// authenticates with nothing but its `client_id` (`token_endpoint_auth_method` `none`, RFC
/// 6749 §2.1): it may use the authorization-code and refresh-token grants (PKCE is required
/// of every client anyway) and revoke its own tokens, but not `client_credentials` or
/// introspection. By default a client has no scopes, no redirect URIs, receives JWT access
/// tokens and (if confidential) may call the introspection endpoint.
///
/// Clients registered at run time by dynamic client registration (RFC 7591, see
/// [`TestServerBuilder::dynamic_registration`](super::TestServerBuilder::dynamic_registration))
/// are `Client`s too; [`Issuer::registered_clients`](super::Issuer::registered_clients)
/// lists them.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    pub(crate) id: String,
    pub(crate) secret: String,
    pub(crate) public: bool,
    /// The grant types the client registered, for a dynamically registered client (`None`:
    /// every grant the server has, but `client_credentials` for a public client).
    pub(crate) grant_types: Option<Vec<String>>,
    pub(crate) scopes: Vec<String>,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) opaque_tokens: bool,
    pub(crate) introspection: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("public", &self.public)
            .field("grant_types", &self.grant_types)
            .field("scopes", &self.scopes)
            .field("redirect_uris", &self.redirect_uris)
            .field("opaque_tokens", &self.opaque_tokens)
            .field("introspection", &self.introspection)
            .finish()
    }
}

impl Client {
    /// A confidential client with the given id and secret.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Client {
            id: id.into(),
            secret: secret.into(),
            public: false,
            grant_types: None,
            scopes: Vec::new(),
            redirect_uris: Vec::new(),
            opaque_tokens: false,
            introspection: true,
        }
    }

    /// A public client (RFC 6749 §2.1, `token_endpoint_auth_method` `none`): it has no
    /// secret and sends only its `client_id` to the token and revocation endpoints. It may
    /// not use `client_credentials` nor introspect tokens.
    pub fn public(id: impl Into<String>) -> Self {
        Client {
            public: true,
            introspection: false,
            ..Client::new(id, String::new())
        }
    }

    /// Sets the scopes this client may request (replaces previous ones).
    /// A token request without `scope` is granted all of them.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Registers a redirect URI (may be called several times). A requested redirect URI
    /// must equal a registered one exactly, except that for a loopback IP literal over
    /// `http` (`http://127.0.0.1/...` or `http://[::1]/...`, not `localhost`) any port is
    /// accepted (RFC 8252 §7.3): `http://127.0.0.1/callback` also allows
    /// `http://127.0.0.1:53117/callback`. The token request must then name the URI used.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// When `true`, access tokens issued to this client by the token endpoint
    /// are opaque random strings that can only be validated by introspection.
    pub fn opaque_tokens(mut self, opaque: bool) -> Self {
        self.opaque_tokens = opaque;
        self
    }

    /// Whether this client may call the introspection endpoint (default `true`; a public
    /// client never may).
    pub fn introspection(mut self, allowed: bool) -> Self {
        self.introspection = allowed && !self.public;
        self
    }

    /// The client id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether this is a public client (no secret, see [`public`](Self::public)).
    pub fn is_public(&self) -> bool {
        self.public
    }

    /// The client's redirect URIs.
    pub fn redirect_uris(&self) -> &[String] {
        &self.redirect_uris
    }

    /// The scopes this client may request.
    pub fn allowed_scopes(&self) -> &[String] {
        &self.scopes
    }

    /// Whether the client may use the grant type `grant` at the token endpoint: a registered
    /// client only the grants it registered, a public client never `client_credentials`.
    pub(crate) fn allows_grant(&self, grant: &str) -> bool {
        if self.public && grant == "client_credentials" {
            return false;
        }
        self.grant_types
            .as_ref()
            .is_none_or(|g| g.iter().any(|t| t == grant))
    }
}

/// An HTTP endpoint of the test server, for request counters and faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// `/.well-known/openid-configuration` and `/.well-known/oauth-authorization-server`.
    Discovery,
    /// `/jwks`.
    Jwks,
    /// `/token`.
    Token,
    /// `/introspect`.
    Introspection,
    /// `/revoke`.
    Revocation,
    /// `/authorize` (GET and POST).
    Authorize,
    /// `/register` (dynamic client registration, when enabled).
    Registration,
}

impl Endpoint {
    pub(crate) const ALL: [Endpoint; 7] = [
        Endpoint::Discovery,
        Endpoint::Jwks,
        Endpoint::Token,
        Endpoint::Introspection,
        Endpoint::Revocation,
        Endpoint::Authorize,
        Endpoint::Registration,
    ];

    /// The name used by the control API and the command line: `discovery`, `jwks`, `token`,
    /// `introspection`, `revocation`, `authorize`, `registration`.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Discovery => "discovery",
            Endpoint::Jwks => "jwks",
            Endpoint::Token => "token",
            Endpoint::Introspection => "introspection",
            Endpoint::Revocation => "revocation",
            Endpoint::Authorize => "authorize",
            Endpoint::Registration => "registration",
        }
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Endpoint::Discovery => 0,
            Endpoint::Jwks => 1,
            Endpoint::Token => 2,
            Endpoint::Introspection => 3,
            Endpoint::Revocation => 4,
            Endpoint::Authorize => 5,
            Endpoint::Registration => 6,
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Endpoint {
    type Err = String;

    /// Parses a name of [`as_str`](Self::as_str).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Endpoint::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                "unknown endpoint (discovery, jwks, token, introspection, revocation, authorize, \
                 registration)"
                    .to_owned()
            })
    }
}

/// A fault injected into one endpoint, for resilience tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Fault {
    /// Normal behaviour.
    #[default]
    None,
    /// Answer `503 Service Unavailable`.
    Unavailable,
    /// Never answer, until the fault is changed or the server shuts down
    /// (then the request gets a 503).
    Hang,
    /// Answer `200` with a body that is not JSON.
    Garbage,
    /// Answer `200` with a syntactically valid JSON object of exactly this many
    /// bytes (at least 2).
    Huge(usize),
    /// Answer with this HTTP status code and a small JSON error body
    /// (invalid codes become 500).
    Status(u16),
    /// Answer normally, after this delay (cut short when the fault is changed or the
    /// server shuts down).
    Delay(Duration),
}

/// How the control API is served: whether at all, and whether from outside the machine.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ControlOptions {
    /// Mount `/_testkit/` at all.
    pub(crate) enabled: bool,
    /// Serve it on a non-loopback address and answer any `Host`.
    pub(crate) allow_remote: bool,
}

impl ControlOptions {
    /// Refuses to serve the control API on `bind` when that is not a loopback address and
    /// remote control was not allowed.
    pub(crate) fn check_bind(self, bind: SocketAddr) -> Result<(), String> {
        if !self.enabled || self.allow_remote || bind.ip().to_canonical().is_loopback() {
            return Ok(());
        }
        Err(format!(
            "refusing to serve the unauthenticated control API on {bind}, which is not a \
             loopback address: bind to 127.0.0.1 or [::1], or allow it explicitly with \
             allow_remote_control(true) (command line: --allow-remote-control)"
        ))
    }
}
