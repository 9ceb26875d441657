//! Cost per request of JWT guards called in process (tower, no sockets), by token pool size
//! and by concurrency, and RSS growth over N distinct tokens (one child process per guard).
//! See README.md.

#![forbid(unsafe_code)]

mod backend;
mod measure;
mod peers;
mod report;
mod tokens;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;

use axum::http::HeaderValue;
use clap::Parser;

use peers::Guard;
use report::Cell;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "scale",
    about = "In-process cost per request and RSS of JWT guards"
)]
struct Args {
    /// Token pool sizes (distinct valid RS256 tokens, walked round robin).
    #[arg(long, value_delimiter = ',', default_value = "1,1000,100000")]
    pools: Vec<usize>,
    /// Concurrent tasks for the concurrency table.
    #[arg(long, value_delimiter = ',', default_value = "1,2,8,64")]
    concurrency: Vec<usize>,
    /// Concurrent tasks for the pool-size table [default: worker threads].
    #[arg(long)]
    pool_concurrency: Option<usize>,
    /// Pools for the concurrency table [default: those of --pools from 2 to 100,000].
    #[arg(long, value_delimiter = ',')]
    conc_pools: Option<Vec<usize>>,
    /// Requests per measured pass.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Unmeasured requests per guard and cell before the rounds (at least one walk of pools
    /// up to 20,000 tokens).
    #[arg(long, default_value_t = 2_000)]
    warmup: usize,
    /// Measured passes per guard and cell, interleaved (order rotates each round).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Guards [default: all: plain,bg,bg-nocache,jwta,toauth2,toauth2-awslc,ajwt,floor].
    #[arg(long, value_delimiter = ',')]
    guards: Option<Vec<String>>,
    /// Distinct tokens for the RSS table (0: no RSS table).
    #[arg(long, default_value_t = 1_000_000)]
    rss_tokens: usize,
    /// Guards for the RSS table [default: those of --guards].
    #[arg(long, value_delimiter = ',')]
    rss_guards: Option<Vec<String>>,
    /// Concurrent tasks of the RSS pass.
    #[arg(long, default_value_t = 8)]
    rss_concurrency: usize,
    /// Tokio worker threads, also the minting threads [default: available parallelism].
    #[arg(long)]
    threads: Option<usize>,
    /// Where token pools are cached [default: $CARGO_TARGET_DIR, else the target dir of this
    /// binary].
    #[arg(long)]
    token_dir: Option<PathBuf>,
    /// Internal: run the RSS pass of one guard and print its `RSS ...` line.
    #[arg(long, hide = true)]
    only: Option<String>,
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("scale: runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = backend::install().and_then(|()| rt.block_on(run(args, threads)));
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scale: FAILED: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn parse_guards(list: &Option<Vec<String>>, default: &[Guard]) -> Result<Vec<Guard>, String> {
    match list {
        None => Ok(default.to_vec()),
        Some(names) => names
            .iter()
            .map(|n| Guard::parse(n).ok_or_else(|| format!("unknown guard {n:?}")))
            .collect(),
    }
}

fn token_dir(args: &Args) -> PathBuf {
    if let Some(d) = &args.token_dir {
        return d.clone();
    }
    if let Some(d) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(d);
    }
    // <target>/release/scale -> <target>
    std::env::current_exe()
        .ok()
        .and_then(|p| Some(p.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| PathBuf::from("target"))
}

async fn run(args: Args, threads: usize) -> Result<(), String> {
    let dir = token_dir(&args);
    let guards = parse_guards(&args.guards, &Guard::ALL)?;
    if let Some(only) = &args.only {
        let guard = Guard::parse(only).ok_or_else(|| format!("unknown guard {only:?}"))?;
        let pool = tokens::ensure(&dir, args.rss_tokens, threads).await?;
        let url = tokens::serve_jwks(&[&pool]).await?;
        let line = measure::rss_pass(guard, &pool, &url, args.rss_concurrency).await?;
        println!("{}", line.to_line());
        return Ok(());
    }
    if args.requests == 0 || args.rounds == 0 || args.pools.contains(&0) {
        return Err("--requests, --rounds and pool sizes must be positive".into());
    }
    let pool_conc = args.pool_concurrency.unwrap_or(threads);
    let conc_pools = args.conc_pools.clone().unwrap_or_else(|| {
        args.pools
            .iter()
            .copied()
            .filter(|&p| (2..=100_000).contains(&p))
            .collect()
    });

    // Pools: cached or minted now.
    let mut sizes: Vec<usize> = args.pools.iter().chain(&conc_pools).copied().collect();
    sizes.sort_unstable();
    sizes.dedup();
    let mut pools = HashMap::new();
    let mut minting = Vec::new();
    for &n in &sizes {
        let p = tokens::ensure(&dir, n, threads).await?;
        minting.push(mint_note(&p));
        pools.insert(n, p);
    }
    let rss_pool = if args.rss_tokens > 0 {
        let p = tokens::ensure(&dir, args.rss_tokens, threads).await?;
        if !sizes.contains(&args.rss_tokens) {
            minting.push(mint_note(&p));
        }
        Some(p)
    } else {
        None
    };
    let all: Vec<&tokens::Pool> = pools.values().collect();
    let jwks_url = tokens::serve_jwks(&all).await?;

    // Cells: (pool, tasks), each measured once and shown in every table it belongs to.
    let mut cells_order: Vec<(usize, usize)> = args.pools.iter().map(|&p| (p, pool_conc)).collect();
    for &p in &conc_pools {
        for &t in &args.concurrency {
            cells_order.push((p, t));
        }
    }
    let mut seen = std::collections::HashSet::new();
    cells_order.retain(|c| seen.insert(*c));
    let mut cells: HashMap<(usize, usize), Cell> = HashMap::new();
    let mut loaded: HashMap<usize, (Arc<Vec<HeaderValue>>, Vec<String>)> = HashMap::new();
    for &(p, t) in &cells_order {
        if let std::collections::hash_map::Entry::Vacant(slot) = loaded.entry(p) {
            let pool = &pools[&p];
            let headers = tokens::load(pool)?;
            let raw = |i: usize| {
                headers[i]
                    .to_str()
                    .ok()
                    .and_then(|s| s.strip_prefix("Bearer "))
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{}: bad line {i}", pool.path.display()))
            };
            let mut samples = vec![raw(0)?, raw(headers.len() / 2)?, raw(headers.len() - 1)?];
            samples.dedup();
            slot.insert((Arc::new(headers), samples));
        }
        let (headers, samples) = &loaded[&p];
        let jwk = &pools[&p].meta.jwk;
        let cell = run_cell(&args, &guards, headers, samples, jwk, &jwks_url, p, t).await?;
        cells.insert((p, t), cell);
    }
    drop(loaded);

    // RSS: one child process per guard.
    let mut rss_lines = Vec::new();
    if let Some(pool) = &rss_pool {
        let rss_guards = parse_guards(&args.rss_guards, &guards)?;
        for g in rss_guards {
            eprintln!(
                "RSS pass: {} through {} (child process)",
                pool.meta.n,
                g.name()
            );
            rss_lines.push(rss_child(&args, &dir, threads, g)?);
        }
    }

    // Report.
    let command = std::env::args()
        .map(|a| if a.contains(' ') { format!("'{a}'") } else { a })
        .collect::<Vec<_>>()
        .join(" ");
    let settings = format!(
        "{} measured passes of {} requests per guard and cell, interleaved (median shown; spread = (max-min)/median), warm-up max({}, min(pool, 20,000)) requests",
        args.rounds, args.requests, args.warmup,
    );
    println!("{}", report::header(threads, &command, &settings, &minting));
    println!(
        "{}",
        report::pool_table(pool_conc, &args.pools, &guards, &cells)
    );
    for &p in &conc_pools {
        println!(
            "{}",
            report::concurrency_table(p, &args.concurrency, &guards, &cells)
        );
    }
    if !rss_lines.is_empty() {
        println!("{}", report::rss_table(&rss_lines, args.rss_concurrency));
    }
    Ok(())
}

fn mint_note(p: &tokens::Pool) -> String {
    let how = if p.minted_now { "minted now" } else { "cached" };
    format!(
        "{} {how} (minting took {:.1} s on {} threads, {:.0} tokens/s)",
        report::thousands(p.meta.n as f64),
        p.meta.mint_secs,
        p.meta.mint_threads,
        p.meta.n as f64 / p.meta.mint_secs.max(1e-9)
    )
}

/// Builds and checks every guard for one (pool, tasks) cell, warms each up, then measures
/// `rounds` passes per guard, interleaved with the order rotating each round.
#[allow(clippy::too_many_arguments)]
async fn run_cell(
    args: &Args,
    guards: &[Guard],
    pool: &Arc<Vec<HeaderValue>>,
    samples: &[String],
    jwk: &serde_json::Value,
    jwks_url: &str,
    pool_n: usize,
    tasks: usize,
) -> Result<Cell, String> {
    eprintln!("cell: pool {pool_n}, {tasks} tasks");
    let mut built = Vec::new();
    for &g in guards {
        let b = peers::build(g, jwks_url, jwk).await?;
        measure::check(g, &b.svc, samples).await?;
        built.push((g, b));
    }
    eprintln!("  checks passed: 200 for valid tokens, 401 for tampered and missing ones");
    let warm = args.warmup.max(pool_n.min(20_000));
    let mut cursor = vec![0usize; built.len()];
    for (i, (g, b)) in built.iter().enumerate() {
        let (_, c) = measure::pass(*g, &b.svc, pool, 0, tasks, warm).await?;
        cursor[i] = c;
    }
    let mut cell = Cell::new();
    for r in 0..args.rounds {
        for j in 0..built.len() {
            let i = (r + j) % built.len();
            let (g, b) = &built[i];
            let (elapsed, c) =
                measure::pass(*g, &b.svc, pool, cursor[i], tasks, args.requests).await?;
            cursor[i] = c;
            let ns = elapsed.as_nanos() as f64 / args.requests as f64;
            cell.entry(*g).or_default().push(ns);
        }
    }
    let summary: Vec<String> = guards
        .iter()
        .filter_map(|g| Some(format!("{} {:.0}", g.name(), cell.get(g)?.last()?)))
        .collect();
    eprintln!("  ns/req (last round): {}", summary.join(", "));
    Ok(cell)
}

/// Runs this binary again with `--only guard` and parses its `RSS ...` line.
fn rss_child(
    args: &Args,
    dir: &std::path::Path,
    threads: usize,
    g: Guard,
) -> Result<measure::RssLine, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .arg("--only")
        .arg(g.name())
        .arg("--rss-tokens")
        .arg(args.rss_tokens.to_string())
        .arg("--rss-concurrency")
        .arg(args.rss_concurrency.to_string())
        .arg("--threads")
        .arg(threads.to_string())
        .arg("--token-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("RSS child for {}: {e}", g.name()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "RSS child for {} failed ({}): {stdout}",
            g.name(),
            out.status
        ));
    }
    stdout
        .lines()
        .find_map(measure::RssLine::parse)
        .ok_or_else(|| format!("RSS child for {}: no RSS line in {stdout:?}", g.name()))
}
