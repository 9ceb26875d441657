//! [`TestServer`]: the running server (listener, root issuer, issuers by path) and its
//! shutdown.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::issuer::Issuer;
use crate::keys::KeyAlg;
use crate::tenants::Tenants;
use crate::TestServerBuilder;

/// A running test authorization server. Stops when dropped (or use
/// [`shutdown`](Self::shutdown) to wait for it).
///
/// Several servers can run side by side in one process; each has its own
/// keys, clients, tokens, counters and faults.
pub struct TestServer {
    pub(crate) root: Issuer,
    pub(crate) tenants: Arc<Tenants>,
    pub(crate) addr: SocketAddr,
    pub(crate) shutdown_tx: Option<oneshot::Sender<()>>,
    pub(crate) task: Option<JoinHandle<()>>,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("issuer", &self.root.inner.issuer)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server with the default configuration on `127.0.0.1:0`.
    ///
    /// # Panics
    ///
    /// If binding the loopback listener fails (this is a test helper; use
    /// [`builder`](Self::builder) to handle the error).
    pub async fn start() -> TestServer {
        match Self::builder().start().await {
            Ok(server) => server,
            Err(e) => panic!("failed to start the test authorization server: {e}"),
        }
    }

    /// A builder with the default configuration (see the [crate docs](crate)).
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// Adds an issuer served under a path of this server, `{issuer}/{name}` (e.g.
    /// `http://127.0.0.1:PORT/tenant-a`), configured like the root issuer (audience, clients,
    /// users, lifetimes, resources, registration, auto-approval, control API) but with its
    /// own keys (a new one of `alg`, default the root's), grants, sign-ins, counters and
    /// faults: discovery at `{issuer}/{name}/.well-known/openid-configuration` (and RFC 8414's
    /// `{issuer}/.well-known/oauth-authorization-server/{name}`), JWKS, token, authorization,
    /// userinfo... each under `{issuer}/{name}/`. For testing several issuers
    /// (`MultiIssuer`, tenant mix-ups) against one process.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `name` is not 1 to 64 of `a-z`, `0-9`, `-`, `_` (starting with a
    /// letter or digit), is the name of an endpoint (`jwks`, `token`, ...) or is taken;
    /// another error if key generation fails.
    pub fn add_issuer(&self, name: &str, alg: Option<KeyAlg>) -> io::Result<Issuer> {
        self.tenants
            .add(name, alg)
            .map(|inner| Issuer { inner })
            .map_err(|e| match e {
                crate::tenants::TenantError::Key(e) => e,
                other => io::Error::new(io::ErrorKind::InvalidInput, other.to_string()),
            })
    }

    /// The issuer served under path `name` (see [`add_issuer`](Self::add_issuer)).
    pub fn issuer_at(&self, name: &str) -> Option<Issuer> {
        self.tenants.get(name).map(|inner| Issuer { inner })
    }

    /// The issuers served under a path, by name.
    pub fn issuers_by_path(&self) -> Vec<(String, Issuer)> {
        self.tenants
            .list()
            .into_iter()
            .map(|(name, inner)| (name, Issuer { inner }))
            .collect()
    }

    /// The root issuer's handle (also reached by dereferencing the server).
    pub fn root(&self) -> &Issuer {
        &self.root
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits (up to 5 s) for in-flight requests;
    /// requests parked by [`Fault::Hang`](crate::Fault::Hang) are answered with 503.
    pub async fn shutdown(mut self) {
        self.signal_shutdown();
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    fn signal_shutdown(&mut self) {
        self.root.inner.begin_shutdown();
        self.tenants.begin_shutdown();
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Graceful shutdown continues in the background.
        self.signal_shutdown();
    }
}

/// The server's root issuer: `server.mint()`, `server.issuer()`, `server.add_key(...)`...
impl Deref for TestServer {
    type Target = Issuer;

    fn deref(&self) -> &Issuer {
        &self.root
    }
}
