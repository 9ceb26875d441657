//! The command line of the test authorization server: flags, the JSON config file, start,
//! the issuer line on standard output, and serving until Ctrl-C or SIGTERM. **For testing
//! only.**

use std::collections::BTreeMap;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bearer_guard_testkit::{Client, KeyAlg, TestServer, TestServerBuilder, User};
use clap::{CommandFactory as _, FromArgMatches as _, Parser};
use serde::Deserialize;

const ABOUT: &str =
    "A small, real OAuth 2.0 authorization server for tests. TEST ONLY: not for production.";

const AFTER_HELP: &str = "\
Prints the issuer URL on a line of its own on standard output once listening (everything \
else goes to standard error), then serves until Ctrl-C or SIGTERM.

Defaults: clients demo-client:demo-secret (scopes read write admin, redirect URI \
http://127.0.0.1/callback, any port) and api:api-secret (no scopes, may introspect); user \
alice:password; audience api; token lifetime 300 s; one RS256 key. --client and --user add \
to them (replacing entries with the same name).

The optional JSON config (all fields optional):
  {\"audience\": \"api\", \"token_lifetime_secs\": 300, \"key\": \"RS256\", \"replace_defaults\": false,
   \"clients\": [{\"id\": \"shop\", \"secret\": \"s\", \"scopes\": [\"read\"],
                \"redirect_uris\": [\"http://127.0.0.1/cb\"], \"opaque_tokens\": false,
                \"introspection\": true}],
   \"users\": [{\"username\": \"bob\", \"password\": \"hunter2\",
              \"claims\": {\"email\": \"bob@example.com\", \"groups\": [\"staff\"]},
              \"acr_values\": [\"urn:example:pwd\", \"urn:example:mfa\"]}],
   \"issuer_paths\": [\"tenant-a\"]}
Flags override and add to the config.

OpenID Connect: scope=openid on the authorization-code flow yields an id_token (nonce, \
at_hash, auth_time, acr); {issuer}/userinfo answers a Bearer access token with scope openid \
with the user's claims (--user-claim). Step-up: acr_values, max_age and prompt=login|none on \
the authorization request; a user signs in at the first of its --user-acr levels the request \
names (else at its first one), and the auto-approved user's last sign-in is reused until a \
request asks for a new one. Token exchange (RFC 8693): grant_type \
urn:ietf:params:oauth:grant-type:token-exchange with subject_token (an active access token of \
this server), audience / resource (served ones only) and scope (a subset).

Several issuers in one process: --issuer-path tenant-a serves issuer {issuer}/tenant-a with \
its own keys, discovery, JWKS, token endpoint and control API (same clients and users).

For MCP clients (and any client that signs in with only a URL): --dynamic-registration \
serves RFC 7591 registration at {issuer}/register (public clients with \
token_endpoint_auth_method none, or confidential ones; redirect URIs https, or http on \
127.0.0.1, [::1] or localhost), --resource URL (repeatable) names the MCP server URLs that \
tokens may be requested for (RFC 8707; the token's aud is the resource), and --auto-approve \
USER answers GET /authorize with the redirect at once (code, state, iss), without a browser:
  bearer-guard-testkit --dynamic-registration --auto-approve alice \
      --resource http://127.0.0.1:8080/mcp

The control API (--control-api) is documented in the crate docs of bearer-guard-testkit: \
POST /_testkit/tokens, GET|POST /_testkit/keys, POST /_testkit/keys/{kid}/activate|retire, \
GET|DELETE /_testkit/faults, PUT|DELETE /_testkit/faults/{endpoint}, GET|DELETE \
/_testkit/counts, GET /_testkit/clients, POST /_testkit/users, PUT \
/_testkit/users/{username}/sign-in, GET|POST /_testkit/issuers (and the same under \
/{name}/_testkit/ for an issuer by path). It is served on a loopback --bind address only and answers only a loopback \
Host (127.0.0.1, localhost, [::1]), unless --allow-remote-control; every request but GET \
must be Content-Type: application/json.";

/// The flags.
#[derive(Debug, Parser)]
#[command(version, about = ABOUT, after_help = AFTER_HELP)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9000")]
    bind: SocketAddr,

    /// Issuer identifier to announce and put in tokens, when the server is reached through
    /// another address than --bind (a container port mapping, a proxy): an http(s) origin.
    #[arg(long, value_name = "URL")]
    issuer_url: Option<String>,

    /// A client: id, secret and optional space-separated scopes (repeatable).
    #[arg(long = "client", value_name = "ID:SECRET[:SCOPE SCOPE…]", value_parser = parse_client)]
    clients: Vec<ClientArg>,

    /// A redirect URI for a client given by --client or the config (repeatable).
    #[arg(long = "redirect-uri", value_name = "ID:URI", value_parser = parse_redirect)]
    redirect_uris: Vec<(String, String)>,

    /// A user who can log in at the authorization endpoint (repeatable).
    #[arg(long = "user", value_name = "NAME:PASSWORD", value_parser = parse_user)]
    users: Vec<(String, String)>,

    /// A claim of a user given by --user or the config, for ID tokens, userinfo and access
    /// tokens: VALUE is JSON if it parses as JSON, else a string (repeatable), e.g.
    /// alice:email=alice@example.com or alice:groups=["staff"].
    #[arg(long = "user-claim", value_name = "USER:NAME=VALUE", value_parser = parse_user_claim)]
    user_claims: Vec<(String, String, serde_json::Value)>,

    /// An authentication level (acr) a user can sign in at, the default first (repeatable),
    /// e.g. alice:urn:example:mfa.
    #[arg(long = "user-acr", value_name = "USER:ACR", value_parser = parse_user_acr)]
    user_acrs: Vec<(String, String)>,

    /// Also serve an issuer under this path, {issuer}/NAME, with its own keys and state
    /// (repeatable): several issuers in one process.
    #[arg(long = "issuer-path", value_name = "NAME")]
    issuer_paths: Vec<String>,

    /// Approve every authorization request at once as this user, redirecting with a code
    /// instead of showing the login form.
    #[arg(long, value_name = "USER")]
    auto_approve: Option<String>,

    /// Serve dynamic client registration (RFC 7591) at {issuer}/register, for clients that
    /// sign in with nothing but a URL (MCP clients): anyone who can reach the server can
    /// register public or confidential clients.
    #[arg(long)]
    dynamic_registration: bool,

    /// How many clients --dynamic-registration accepts (default 1000).
    #[arg(long, value_name = "N", requires = "dynamic_registration")]
    max_registrations: Option<usize>,

    /// A resource (RFC 8707) the server issues tokens for, e.g. an MCP server's URL
    /// http://127.0.0.1:8080/mcp (repeatable; default: the audience alone). A token
    /// requested with resource=URL has that URL as its audience.
    #[arg(long = "resource", value_name = "URL")]
    resources: Vec<String>,

    /// Lifetime of access tokens, in seconds (default 300).
    #[arg(long, value_name = "SECONDS")]
    token_ttl: Option<u64>,

    /// Algorithm of the signing key: RS256, PS256, ES256 or EdDSA (default RS256).
    #[arg(long, value_name = "ALG", value_parser = parse_alg)]
    alg: Option<KeyAlg>,

    /// The audience (`aud`) of issued tokens (default api).
    #[arg(long, value_name = "AUD")]
    audience: Option<String>,

    /// Serve the HTTP control API under /_testkit/ (TEST ONLY: unauthenticated minting,
    /// key rotation and fault injection).
    #[arg(long)]
    control_api: bool,

    /// Let the control API be served on a non-loopback --bind address (0.0.0.0 in a
    /// container) and answer any Host header. Without it, the server refuses to start with
    /// --control-api on such an address. Anyone who can reach the server can mint tokens.
    #[arg(long, requires = "control_api")]
    allow_remote_control: bool,

    /// A JSON config file (format below).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// `--client ID:SECRET[:SCOPES]`.
#[derive(Debug, Clone)]
struct ClientArg {
    id: String,
    secret: String,
    scopes: Vec<String>,
}

fn parse_client(value: &str) -> Result<ClientArg, String> {
    let (id, rest) = value
        .split_once(':')
        .ok_or("expected ID:SECRET[:SCOPE SCOPE…]")?;
    let (secret, scopes) = rest.split_once(':').unwrap_or((rest, ""));
    if id.is_empty() || secret.is_empty() {
        return Err("the client id and secret must not be empty".into());
    }
    Ok(ClientArg {
        id: id.to_owned(),
        secret: secret.to_owned(),
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
    })
}

fn parse_user(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((name, password)) if !name.is_empty() && !password.is_empty() => {
            Ok((name.to_owned(), password.to_owned()))
        }
        _ => Err("expected NAME:PASSWORD".into()),
    }
}

fn parse_user_claim(value: &str) -> Result<(String, String, serde_json::Value), String> {
    let bad = || "expected USER:NAME=VALUE".to_owned();
    let (user, rest) = value.split_once(':').ok_or_else(bad)?;
    let (name, raw) = rest.split_once('=').ok_or_else(bad)?;
    if user.is_empty() || name.is_empty() {
        return Err(bad());
    }
    let value = serde_json::from_str(raw).unwrap_or_else(|_| serde_json::Value::from(raw));
    Ok((user.to_owned(), name.to_owned(), value))
}

fn parse_user_acr(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((user, acr)) if !user.is_empty() && !acr.is_empty() => {
            Ok((user.to_owned(), acr.to_owned()))
        }
        _ => Err("expected USER:ACR".into()),
    }
}

fn parse_redirect(value: &str) -> Result<(String, String), String> {
    match value.split_once(':') {
        Some((id, uri)) if !id.is_empty() && url::Url::parse(uri).is_ok() => {
            Ok((id.to_owned(), uri.to_owned()))
        }
        _ => Err("expected CLIENT_ID:URI with an absolute URI".into()),
    }
}

fn parse_alg(value: &str) -> Result<KeyAlg, String> {
    value.parse()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    audience: Option<String>,
    token_lifetime_secs: Option<u64>,
    key: Option<String>,
    #[serde(default)]
    replace_defaults: bool,
    #[serde(default)]
    clients: Vec<ClientConfig>,
    #[serde(default)]
    users: Vec<UserConfig>,
    #[serde(default)]
    issuer_paths: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientConfig {
    id: String,
    secret: String,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    opaque_tokens: bool,
    #[serde(default = "yes")]
    introspection: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserConfig {
    username: String,
    password: String,
    #[serde(default)]
    claims: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    acr_values: Vec<String>,
}

/// The server builder the config file and the flags describe.
fn builder(args: Args) -> Result<TestServerBuilder, String> {
    let config: Config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            serde_json::from_str(&text).map_err(|e| format!("parsing {}: {e}", path.display()))?
        }
        None => Config::default(),
    };

    let mut builder = TestServer::builder().bind(args.bind);
    if config.replace_defaults {
        builder = builder.clear_clients().clear_users();
    }
    if let Some(aud) = args.audience.or(config.audience) {
        builder = builder.audience(aud);
    }
    if let Some(secs) = args.token_ttl.or(config.token_lifetime_secs) {
        builder = builder.token_lifetime(Duration::from_secs(secs));
    }
    let alg = match (args.alg, &config.key) {
        (Some(alg), _) => Some(alg),
        (None, Some(name)) => Some(
            name.parse::<KeyAlg>()
                .map_err(|e| format!("config key {name:?}: {e}"))?,
        ),
        (None, None) => None,
    };
    if let Some(alg) = alg {
        builder = builder.key(alg);
    }

    // Clients of the config, then of the flags (a later one replaces an earlier one).
    let mut clients: BTreeMap<String, Client> = BTreeMap::new();
    for c in config.clients {
        let mut client = Client::new(c.id.clone(), c.secret)
            .scopes(c.scopes)
            .opaque_tokens(c.opaque_tokens)
            .introspection(c.introspection);
        for uri in c.redirect_uris {
            client = client.redirect_uri(uri);
        }
        clients.insert(c.id, client);
    }
    for c in args.clients {
        clients.insert(c.id.clone(), Client::new(c.id, c.secret).scopes(c.scopes));
    }
    for (id, uri) in args.redirect_uris {
        let client = clients.remove(&id).ok_or_else(|| {
            format!("--redirect-uri: client {id:?} is not given by --client or --config")
        })?;
        clients.insert(id, client.redirect_uri(uri));
    }
    for client in clients.into_values() {
        builder = builder.client(client);
    }
    // Users of the config, then of the flags; then their claims and levels.
    let mut users: BTreeMap<String, User> = BTreeMap::new();
    for u in config.users {
        let mut user = User::new(u.username.clone(), u.password).acr_values(u.acr_values);
        for (name, value) in u.claims {
            user = user.claim(name, value);
        }
        users.insert(u.username, user);
    }
    for (name, password) in args.users {
        users.insert(name.clone(), User::new(name, password));
    }
    for (username, name, value) in args.user_claims {
        let user = users.remove(&username).ok_or_else(|| {
            format!("--user-claim: user {username:?} is not given by --user or --config")
        })?;
        users.insert(username, user.claim(name, value));
    }
    let mut acrs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (username, acr) in args.user_acrs {
        acrs.entry(username).or_default().push(acr);
    }
    for (username, levels) in acrs {
        let user = users.remove(&username).ok_or_else(|| {
            format!("--user-acr: user {username:?} is not given by --user or --config")
        })?;
        users.insert(username, user.acr_values(levels));
    }
    for user in users.into_values() {
        builder = builder.user(user);
    }
    for name in config.issuer_paths.into_iter().chain(args.issuer_paths) {
        builder = builder.issuer_path(name);
    }
    if let Some(user) = args.auto_approve {
        builder = builder.auto_approve(user);
    }
    if let Some(url) = args.issuer_url {
        builder = builder.issuer_url(url);
    }
    if !args.resources.is_empty() {
        builder = builder.resources(args.resources);
    }
    if let Some(max) = args.max_registrations {
        builder = builder.max_registrations(max);
    }
    Ok(builder
        .dynamic_registration(args.dynamic_registration)
        .control_api(args.control_api)
        .allow_remote_control(args.allow_remote_control))
}

async fn run(args: Args) -> Result<(), String> {
    let bind = args.bind;
    let control_api = args.control_api;
    let registration = args.dynamic_registration;
    let server = builder(args)?
        .start()
        .await
        .map_err(|e| format!("cannot start on {bind}: {e}"))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", server.issuer())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("writing to stdout: {e}"))?;
    drop(stdout);
    eprintln!("listening {}", server.addr());
    eprintln!("discovery {}", server.discovery_uri());
    eprintln!("jwks      {}", server.jwks_uri());
    eprintln!("token     {}", server.token_endpoint());
    eprintln!("userinfo  {}", server.userinfo_endpoint());
    for (_, issuer) in server.issuers_by_path() {
        eprintln!("issuer    {} (by path)", issuer.issuer());
    }
    if registration {
        eprintln!("register  {}", server.registration_endpoint());
    }
    if control_api {
        eprintln!(
            "control   {}/_testkit/ (TEST ONLY, unauthenticated)",
            server.issuer()
        );
    }
    eprintln!("TEST SERVER ONLY - not for production. Ctrl-C to stop.");

    stopped().await?;
    server.shutdown().await;
    Ok(())
}

/// Waits for Ctrl-C, or SIGTERM on Unix.
async fn stopped() -> Result<(), String> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("listening for SIGTERM: {e}"))?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map_err(|e| format!("waiting for Ctrl-C: {e}")),
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .map_err(|e| format!("waiting for Ctrl-C: {e}"))
    }
}

/// Parses the command line, runs the server and returns the exit code:
/// 0 after a signal, 1 on errors, 2 for bad flags (`--help` and `--version` print on stdout
/// and exit 0).
pub fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(args) => args,
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
