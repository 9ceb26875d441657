//! Token pools: minted once with the bundled test authorization server (all cores), cached
//! in files, and a loopback JWKS server that publishes the public keys they were signed with.
//!
//! The testkit generates a fresh signing key at every start and does not export it, so a
//! cached pool comes with the public JWK of the key that signed it
//! (`scale-tokens-<n>.json`, next to the tokens in `scale-tokens-<n>.txt`, one a line). The
//! JWKS server of a run publishes the JWKs of every pool it uses; every pool has the same
//! fixed issuer ([`ISSUER`]), so tokens stay valid across runs until they expire.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use bearer_guard_testkit::TestServer;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// `iss` of every token and the issuer every guard expects. Never contacted: every guard is
/// given the JWKS URL of this run's loopback server.
pub const ISSUER: &str = "https://issuer.scale-bench.test";
/// `aud` of every token and the audience every guard requires (the testkit's default).
pub const AUDIENCE: &str = "api";
/// Lifetime of minted tokens.
const LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
/// A cached pool with less validity left than this is minted again.
const MIN_LEFT: u64 = 12 * 3600;
/// Bumped when the pool format or token contents change.
const FORMAT: u32 = 1;
/// Tokens minted between two writes (bounds memory while minting large pools).
const BATCH: usize = 10_000;

/// What is known about a cached pool (`scale-tokens-<n>.json`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PoolMeta {
    format: u32,
    issuer: String,
    audience: String,
    /// Number of tokens.
    pub n: usize,
    /// Earliest `exp` of the pool (Unix seconds).
    pub exp: u64,
    /// The public JWK (with `kid`) of the key that signed the pool.
    pub jwk: Value,
    /// Seconds the minting took.
    pub mint_secs: f64,
    /// Signing threads used for minting.
    pub mint_threads: usize,
}

/// A pool ready to use: its metadata and where its tokens are.
#[derive(Clone, Debug)]
pub struct Pool {
    /// Metadata (JWK, expiry...).
    pub meta: PoolMeta,
    /// The token file.
    pub path: PathBuf,
    /// Whether this run minted it (else it came from the cache).
    pub minted_now: bool,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn paths(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("scale-tokens-{n}.txt")),
        dir.join(format!("scale-tokens-{n}.json")),
    )
}

/// The cached pool of `n` tokens in `dir` if it is still usable, else a freshly minted one.
pub async fn ensure(dir: &Path, n: usize, threads: usize) -> Result<Pool, String> {
    let (txt, meta_path) = paths(dir, n);
    if let Some(meta) = cached(&txt, &meta_path, n) {
        return Ok(Pool {
            meta,
            path: txt,
            minted_now: false,
        });
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let meta = mint(&txt, &meta_path, n, threads).await?;
    Ok(Pool {
        meta,
        path: txt,
        minted_now: true,
    })
}

fn cached(txt: &Path, meta_path: &Path, n: usize) -> Option<PoolMeta> {
    let meta: PoolMeta = serde_json::from_slice(&std::fs::read(meta_path).ok()?).ok()?;
    let usable = meta.format == FORMAT
        && meta.issuer == ISSUER
        && meta.audience == AUDIENCE
        && meta.n == n
        && meta.exp > now() + MIN_LEFT
        && txt.is_file();
    usable.then_some(meta)
}

async fn mint(txt: &Path, meta_path: &Path, n: usize, threads: usize) -> Result<PoolMeta, String> {
    let server = TestServer::builder()
        .issuer_url(ISSUER)
        .audience(AUDIENCE)
        .token_lifetime(LIFETIME)
        .start()
        .await
        .map_err(|e| format!("test authorization server: {e}"))?;
    let jwk = active_jwk(&server).await?;
    let exp = now() + LIFETIME.as_secs();
    let tmp = txt.with_extension("txt.tmp");
    let threads = threads.max(1);
    eprintln!(
        "minting {n} RS256 tokens on {threads} threads -> {}",
        txt.display()
    );
    let started = Instant::now();
    let server_ref = &server;
    let tmp_ref = &tmp;
    tokio::task::block_in_place(move || -> Result<(), String> {
        let file = File::create(tmp_ref).map_err(|e| format!("{}: {e}", tmp_ref.display()))?;
        let mut out = BufWriter::new(file);
        let mut done = 0;
        while done < n {
            let batch = BATCH.min(n - done);
            for token in mint_batch(server_ref, done, batch, threads)? {
                writeln!(out, "{token}").map_err(|e| e.to_string())?;
            }
            done += batch;
            if n >= 10 * BATCH {
                eprintln!("  {done}/{n} ({:.0} s)", started.elapsed().as_secs_f64());
            }
        }
        out.flush().map_err(|e| e.to_string())
    })?;
    let mint_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "minted {n} tokens in {mint_secs:.1} s ({:.0} tokens/s)",
        n as f64 / mint_secs.max(1e-9)
    );
    server.shutdown().await;
    std::fs::rename(&tmp, txt).map_err(|e| format!("{}: {e}", txt.display()))?;
    let meta = PoolMeta {
        format: FORMAT,
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        n,
        exp,
        jwk,
        mint_secs,
        mint_threads: threads,
    };
    let json = serde_json::to_vec_pretty(&meta).map_err(|e| e.to_string())?;
    let meta_tmp = meta_path.with_extension("json.tmp");
    std::fs::write(&meta_tmp, json).map_err(|e| format!("{}: {e}", meta_tmp.display()))?;
    std::fs::rename(&meta_tmp, meta_path).map_err(|e| format!("{}: {e}", meta_path.display()))?;
    Ok(meta)
}

/// Tokens `first..first + count`, minted on `threads` threads, in order. Each carries a
/// distinct `sub` (`user-<i>`) and a random `jti`, `typ: at+jwt`, `nbf` = `iat` and
/// `exp` = `iat` + 30 days; the other claims are the testkit's defaults (`iss`, `aud`,
/// `client_id`, `scope`).
fn mint_batch(
    server: &TestServer,
    first: usize,
    count: usize,
    threads: usize,
) -> Result<Vec<String>, String> {
    let per = count.div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let lo = first + (t * per).min(count);
                let hi = first + ((t + 1) * per).min(count);
                s.spawn(move || {
                    (lo..hi)
                        .map(|i| {
                            server
                                .mint()
                                .sub(format!("user-{i}"))
                                .claim("nbf", json!(now()))
                                .lifetime(LIFETIME)
                                .sign()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(count);
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| "a minting thread panicked".to_string())?,
            );
        }
        Ok(out)
    })
}

/// The public JWK of the server's signing key, read from its JWKS endpoint.
async fn active_jwk(server: &TestServer) -> Result<Value, String> {
    let url = format!("http://{}/jwks", server.addr());
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .map_err(|e| e.to_string())?;
    let body = client
        .get(&url)
        .send()
        .await
        .map_err(|e| format!("{url}: {e}"))?
        .bytes()
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let jwks: Value = serde_json::from_slice(&body).map_err(|e| format!("{url}: {e}"))?;
    let kid = server.active_kid();
    jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid.as_str()))
        .cloned()
        .ok_or_else(|| format!("{url}: no key {kid}"))
}

/// `Authorization` header value for a token.
pub fn bearer(token: &str) -> Result<HeaderValue, String> {
    HeaderValue::from_maybe_shared(Bytes::from(format!("Bearer {token}")))
        .map_err(|e| format!("token is not a header value: {e}"))
}

/// All tokens of a pool, as `Authorization` header values.
pub fn load(pool: &Pool) -> Result<Vec<HeaderValue>, String> {
    let mut out = Vec::with_capacity(pool.meta.n);
    for line in open(pool)?.lines() {
        let line = line.map_err(|e| format!("{}: {e}", pool.path.display()))?;
        out.push(bearer(&line)?);
    }
    if out.len() != pool.meta.n {
        return Err(format!(
            "{}: {} tokens, expected {} (delete it to mint again)",
            pool.path.display(),
            out.len(),
            pool.meta.n
        ));
    }
    Ok(out)
}

/// The token file, for streaming.
pub fn open(pool: &Pool) -> Result<BufReader<File>, String> {
    let f = File::open(&pool.path).map_err(|e| format!("{}: {e}", pool.path.display()))?;
    Ok(BufReader::with_capacity(1 << 16, f))
}

/// Serves `{"keys": [...]}` with the JWKs of `pools` (one per `kid`) at
/// `http://127.0.0.1:PORT/jwks` until the runtime stops; returns that URL.
pub async fn serve_jwks(pools: &[&Pool]) -> Result<String, String> {
    let mut keys: Vec<Value> = Vec::new();
    for p in pools {
        if !keys.iter().any(|k| k["kid"] == p.meta.jwk["kid"]) {
            keys.push(p.meta.jwk.clone());
        }
    }
    let body = serde_json::to_string(&json!({ "keys": keys })).map_err(|e| e.to_string())?;
    let app = Router::new().route(
        "/jwks",
        get(move || {
            let body = body.clone();
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "application/json"),
                        (header::CACHE_CONTROL, "max-age=300"),
                    ],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("JWKS server: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{addr}/jwks"))
}

/// `token` with one bit of its signature flipped.
pub fn tamper(token: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let (input, sig) = token.rsplit_once('.')?;
    let mut raw = URL_SAFE_NO_PAD.decode(sig).ok()?;
    *raw.first_mut()? ^= 0x01;
    Some(format!("{input}.{}", URL_SAFE_NO_PAD.encode(raw)))
}
