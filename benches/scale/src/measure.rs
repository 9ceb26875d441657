//! Calling the guards in process: correctness checks, timed passes over a token pool with N
//! concurrent tasks, and the RSS pass over a streamed token file.

use std::io::BufRead as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{header, HeaderValue, Request, StatusCode};
use axum::Router;
use tower::{Service, ServiceExt};

use crate::backend::{self, Jwt11, Scoped};
use crate::peers::{self, Guard};
use crate::tokens::{self, Pool};

/// One request through `svc` (in process), with `auth` as the `Authorization` header.
pub async fn call(
    svc: &mut Router,
    jwt11: Jwt11,
    auth: Option<HeaderValue>,
) -> Result<StatusCode, String> {
    let mut b = Request::builder().uri("/");
    if let Some(v) = auth {
        b = b.header(header::AUTHORIZATION, v);
    }
    let req = b.body(Body::empty()).map_err(|e| e.to_string())?;
    let ready = match ServiceExt::<Request<Body>>::ready(svc).await {
        Ok(s) => s,
        Err(never) => match never {},
    };
    let fut = std::pin::pin!(ready.call(req));
    match Scoped::new(jwt11, fut).await {
        Ok(resp) => Ok(resp.status()),
        Err(never) => match never {},
    }
}

/// Before any measurement: waits (10 s at most) until the first sample is accepted (some
/// guards load keys in the background), then requires 200 for every sample, 401 for a
/// tampered sample and for no token (200 for `plain`), and that jsonwebtoken 11's default
/// provider was used with the backend the guard must have, or not at all.
pub async fn check(guard: Guard, svc: &Router, samples: &[String]) -> Result<(), String> {
    let name = guard.name();
    let mut svc = svc.clone();
    let first = samples.first().ok_or("no sample token")?;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = call(&mut svc, guard.jwt11(), Some(tokens::bearer(first)?)).await?;
        if s == StatusCode::OK {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{name}: a valid token is still answered {s} after 10 s"
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = backend::start_counting();
    let result = async {
        for t in samples {
            let s = call(&mut svc, guard.jwt11(), Some(tokens::bearer(t)?)).await?;
            if s != StatusCode::OK {
                return Err(format!("{name}: valid token answered {s}"));
            }
        }
        let expected = if guard == Guard::Plain {
            StatusCode::OK
        } else {
            StatusCode::UNAUTHORIZED
        };
        let bad = tokens::tamper(first).ok_or("cannot tamper with the sample")?;
        let s = call(&mut svc, guard.jwt11(), Some(tokens::bearer(&bad)?)).await?;
        if s != expected {
            return Err(format!(
                "{name}: tampered token answered {s}, expected {expected}"
            ));
        }
        let s = call(&mut svc, guard.jwt11(), None).await?;
        if s != expected {
            return Err(format!(
                "{name}: no token answered {s}, expected {expected}"
            ));
        }
        Ok(())
    }
    .await;
    let after = backend::stop_counting();
    result?;
    let expected = if guard == Guard::Plain {
        Jwt11::Unused
    } else {
        guard.jwt11()
    };
    backend::check_calls(expected, before, after).map_err(|e| format!("{name}: {e}"))
}

/// `requests` requests through clones of `svc` from `tasks` tasks, each taking the next token
/// of `pool` (round robin from `cursor`). Every answer must be 200. Returns the wall time and
/// the cursor after the pass.
pub async fn pass(
    guard: Guard,
    svc: &Router,
    pool: &Arc<Vec<HeaderValue>>,
    cursor: usize,
    tasks: usize,
    requests: usize,
) -> Result<(Duration, usize), String> {
    let next = Arc::new(AtomicUsize::new(cursor));
    let end = cursor + requests;
    let bad = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    let started = Instant::now();
    for _ in 0..tasks {
        let mut svc = svc.clone();
        let (next, bad, pool) = (next.clone(), bad.clone(), pool.clone());
        let jwt11 = guard.jwt11();
        set.spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::Relaxed);
                if k >= end {
                    break;
                }
                let auth = pool[k % pool.len()].clone();
                if !matches!(call(&mut svc, jwt11, Some(auth)).await, Ok(StatusCode::OK)) {
                    bad.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| format!("{}: task failed: {e}", guard.name()))?;
    }
    let elapsed = started.elapsed();
    let bad = bad.load(Ordering::Relaxed);
    if bad > 0 {
        return Err(format!(
            "{}: {bad} of {requests} valid tokens were not answered 200",
            guard.name()
        ));
    }
    Ok((elapsed, end))
}

/// What the child of `--only GUARD` reports: `RSS guard=.. tokens=.. base_kib=.. ...`.
#[derive(Clone, Debug)]
pub struct RssLine {
    /// The guard.
    pub guard: Guard,
    /// Tokens streamed.
    pub tokens: usize,
    /// VmRSS before the guard was built.
    pub base_kib: u64,
    /// VmRSS after it was built and checked, before the pass.
    pub before_kib: u64,
    /// VmRSS after the pass.
    pub after_kib: u64,
    /// VmHWM (peak RSS) after the pass.
    pub hwm_kib: u64,
    /// Seconds the pass took.
    pub secs: f64,
}

impl RssLine {
    /// The line the child prints.
    pub fn to_line(&self) -> String {
        format!(
            "RSS guard={} tokens={} base_kib={} before_kib={} after_kib={} hwm_kib={} secs={:.3}",
            self.guard.name(),
            self.tokens,
            self.base_kib,
            self.before_kib,
            self.after_kib,
            self.hwm_kib,
            self.secs
        )
    }

    /// Parses [`to_line`](Self::to_line).
    pub fn parse(line: &str) -> Option<RssLine> {
        let rest = line.strip_prefix("RSS ")?;
        let kv: std::collections::HashMap<&str, &str> = rest
            .split_whitespace()
            .filter_map(|p| p.split_once('='))
            .collect();
        Some(RssLine {
            guard: Guard::parse(kv.get("guard")?)?,
            tokens: kv.get("tokens")?.parse().ok()?,
            base_kib: kv.get("base_kib")?.parse().ok()?,
            before_kib: kv.get("before_kib")?.parse().ok()?,
            after_kib: kv.get("after_kib")?.parse().ok()?,
            hwm_kib: kv.get("hwm_kib")?.parse().ok()?,
            secs: kv.get("secs")?.parse().ok()?,
        })
    }
}

/// `VmRSS` and `VmHWM` of this process, in KiB.
pub fn rss() -> Result<(u64, u64), String> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("/proc/self/status: no {name}"))
    };
    Ok((field("VmRSS:")?, field("VmHWM:")?))
}

/// The child's work: builds `guard`, checks it, then streams every token of `pool` through it
/// from the file (chunks of 256 lines, `tasks` tasks) and reports RSS before and after.
pub async fn rss_pass(
    guard: Guard,
    pool: &Pool,
    jwks_url: &str,
    tasks: usize,
) -> Result<RssLine, String> {
    let (base_kib, _) = rss()?;
    let mut samples = Vec::new();
    for line in tokens::open(pool)?.lines().take(3) {
        samples.push(line.map_err(|e| e.to_string())?);
    }
    let built = peers::build(guard, jwks_url, &pool.meta.jwk).await?;
    check(guard, &built.svc, &samples).await?;
    let (before_kib, _) = rss()?;
    let lines = Arc::new(Mutex::new(tokens::open(pool)?.lines()));
    let seen = Arc::new(AtomicUsize::new(0));
    let bad = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..tasks {
        let mut svc = built.svc.clone();
        let (lines, seen, bad) = (lines.clone(), seen.clone(), bad.clone());
        set.spawn(async move {
            loop {
                let chunk: Vec<String> = {
                    let Ok(mut it) = lines.lock() else { return };
                    it.by_ref().take(256).map_while(Result::ok).collect()
                };
                if chunk.is_empty() {
                    return;
                }
                seen.fetch_add(chunk.len(), Ordering::Relaxed);
                for t in chunk {
                    let ok = match tokens::bearer(&t) {
                        Ok(v) => matches!(
                            call(&mut svc, guard.jwt11(), Some(v)).await,
                            Ok(StatusCode::OK)
                        ),
                        Err(_) => false,
                    };
                    if !ok {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r.map_err(|e| format!("{}: task failed: {e}", guard.name()))?;
    }
    let secs = started.elapsed().as_secs_f64();
    let (after_kib, hwm_kib) = rss()?;
    let (seen, bad) = (seen.load(Ordering::Relaxed), bad.load(Ordering::Relaxed));
    if seen != pool.meta.n || bad > 0 {
        return Err(format!(
            "{}: streamed {seen} of {} tokens, {bad} not answered 200",
            guard.name(),
            pool.meta.n
        ));
    }
    drop(built);
    Ok(RssLine {
        guard,
        tokens: seen,
        base_kib,
        before_kib,
        after_kib,
        hwm_kib,
        secs,
    })
}
