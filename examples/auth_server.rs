//! Runs the bundled test authorization server standalone. **For testing only.**
//!
//! ```text
//! cargo run --example auth_server -- --bind 127.0.0.1:9000 [--config path.json]
//! ```
//!
//! Prints `issuer http://127.0.0.1:9000` once listening, then serves until
//! Ctrl-C. The optional JSON config (all fields optional):
//!
//! ```json
//! {
//!   "audience": "api",
//!   "token_lifetime_secs": 300,
//!   "key": "RS256",
//!   "replace_defaults": false,
//!   "clients": [
//!     { "id": "shop", "secret": "shop-secret", "scopes": ["read"],
//!       "redirect_uris": ["http://127.0.0.1:8080/cb"], "opaque_tokens": false,
//!       "introspection": true }
//!   ],
//!   "users": [ { "username": "bob", "password": "hunter2" } ]
//! }
//! ```
//!
//! Clients and users are added to the defaults (`demo-client`, `api`,
//! `alice`), replacing entries with the same id, unless `replace_defaults`
//! is true.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bearer_guard_testkit::{Client, KeyAlg, TestServer, User};
use serde::Deserialize;

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
}

const USAGE: &str = "usage: auth_server [--bind ADDR:PORT] [--config FILE.json]";

fn parse_args() -> Result<(SocketAddr, Option<String>), String> {
    let mut bind: SocketAddr = ([127, 0, 0, 1], 9000).into();
    let mut config = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bind" => {
                let v = args.next().ok_or("--bind needs a value")?;
                bind = v.parse().map_err(|e| format!("bad --bind {v:?}: {e}"))?;
            }
            "--config" => config = Some(args.next().ok_or("--config needs a value")?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok((bind, config))
}

fn key_alg(name: &str) -> Result<KeyAlg, String> {
    match name {
        "RS256" => Ok(KeyAlg::Rs256),
        "PS256" => Ok(KeyAlg::Ps256),
        "ES256" => Ok(KeyAlg::Es256),
        "EdDSA" => Ok(KeyAlg::EdDsa),
        other => Err(format!(
            "unsupported key {other:?} (RS256, PS256, ES256, EdDSA)"
        )),
    }
}

async fn run() -> Result<(), String> {
    let (bind, config_path) = parse_args()?;
    let config: Config = match &config_path {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?;
            serde_json::from_str(&text).map_err(|e| format!("parsing {path}: {e}"))?
        }
        None => Config::default(),
    };

    let mut builder = TestServer::builder().bind(bind);
    if config.replace_defaults {
        builder = builder.clear_clients().clear_users();
    }
    if let Some(aud) = config.audience {
        builder = builder.audience(aud);
    }
    if let Some(secs) = config.token_lifetime_secs {
        builder = builder.token_lifetime(Duration::from_secs(secs));
    }
    if let Some(key) = &config.key {
        builder = builder.key(key_alg(key)?);
    }
    for c in config.clients {
        let mut client = Client::new(c.id, c.secret)
            .scopes(c.scopes)
            .opaque_tokens(c.opaque_tokens)
            .introspection(c.introspection);
        for uri in c.redirect_uris {
            client = client.redirect_uri(uri);
        }
        builder = builder.client(client);
    }
    for u in config.users {
        builder = builder.user(User::new(u.username, u.password));
    }

    let server = builder
        .start()
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    println!("issuer {}", server.issuer());
    eprintln!("discovery {}", server.discovery_uri());
    eprintln!("jwks      {}", server.jwks_uri());
    eprintln!("token     {}", server.token_endpoint());
    eprintln!("TEST SERVER ONLY - not for production. Ctrl-C to stop.");

    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("waiting for Ctrl-C: {e}"))?;
    server.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
