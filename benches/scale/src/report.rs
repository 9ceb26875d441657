//! The Markdown printed at the end: machine, command, tables.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::measure::RssLine;
use crate::peers::Guard;

/// Per-round ns/request of each guard in one cell (pool, tasks).
pub type Cell = HashMap<Guard, Vec<f64>>;

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Machine and run description (Markdown list).
pub fn header(threads: usize, command: &str, settings: &str, pools: &[String]) -> String {
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1048576.0)
        });
    let kernel = read("/proc/sys/kernel/osrelease").trim().to_string();
    let load = read("/proc/loadavg");
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    let mut s = String::new();
    let _ = writeln!(s, "- command: `{command}`");
    let _ = writeln!(
        s,
        "- machine: nproc {nproc} ({cpus} CPUs in /proc/cpuinfo), {model}, {mem} RAM, Linux {kernel}, load average at start {}",
        load.join(" ")
    );
    let _ = writeln!(
        s,
        "- tokio multi-thread runtime, {threads} worker threads; {settings}"
    );
    let _ = writeln!(
        s,
        "- token pools (RS256, testkit-minted, 30-day expiry): {}",
        pools.join("; ")
    );
    let _ = writeln!(s, "- crates (Cargo.lock): {}", env!("SCALE_VERSIONS"));
    if let Ok(info) = std::env::var("SCALE_BUILD_INFO") {
        let _ = writeln!(s, "- build: {info}");
    }
    s
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// `x` rounded, with thousands separators.
pub fn thousands(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(x: f64, reference: Option<f64>) -> String {
    match reference {
        Some(r) if r > 0.0 && x.is_finite() => format!("{:.2}×", x / r),
        _ => "-".into(),
    }
}

/// Rows of one cell: guard, backend, median ns/req, req/s, spread, ratios.
fn rows(out: &mut String, prefix: &str, guards: &[Guard], cell: &Cell) {
    let med = |g: Guard| cell.get(&g).map(|v| median(v));
    let nocache = med(Guard::BgNoCache);
    let floor = med(Guard::Floor);
    for &g in guards {
        let Some(v) = cell.get(&g) else { continue };
        let m = median(v);
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let spread = if m > 0.0 { (hi - lo) / m * 100.0 } else { 0.0 };
        let _ = writeln!(
            out,
            "| {prefix}{} | {} | {} | {} | {:.0}% | {} | {} |",
            g.name(),
            g.backend(),
            thousands(m),
            thousands(1e9 / m),
            spread,
            ratio(m, nocache),
            ratio(m, floor)
        );
    }
}

/// The table by pool size, all at `tasks` concurrent tasks.
pub fn pool_table(
    tasks: usize,
    pools: &[usize],
    guards: &[Guard],
    cells: &HashMap<(usize, usize), Cell>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### Cost per request by token pool size ({tasks} concurrent tasks)\n"
    );
    let _ = writeln!(
        s,
        "| pool | guard | RS256 backend | ns/req (median) | req/s | spread | × bg-nocache | × floor |"
    );
    let _ = writeln!(s, "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for &p in pools {
        if let Some(cell) = cells.get(&(p, tasks)) {
            rows(&mut s, &format!("{} | ", thousands(p as f64)), guards, cell);
        }
    }
    s
}

/// The table by concurrency, for one pool.
pub fn concurrency_table(
    pool: usize,
    tasks: &[usize],
    guards: &[Guard],
    cells: &HashMap<(usize, usize), Cell>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "### Cost per request by concurrency (pool of {} tokens)\n",
        thousands(pool as f64)
    );
    let _ = writeln!(
        s,
        "| tasks | guard | RS256 backend | ns/req (median) | req/s | spread | × bg-nocache | × floor |"
    );
    let _ = writeln!(s, "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for &t in tasks {
        if let Some(cell) = cells.get(&(pool, t)) {
            rows(&mut s, &format!("{t} | "), guards, cell);
        }
    }
    s
}

/// The RSS table.
pub fn rss_table(lines: &[RssLine], tasks: usize) -> String {
    let mut s = String::new();
    let n = lines.first().map_or(0, |l| l.tokens);
    let _ = writeln!(
        s,
        "### Memory: {} distinct valid tokens through each guard (own process, {tasks} tasks, tokens streamed from the file)\n",
        thousands(n as f64)
    );
    let _ = writeln!(
        s,
        "| guard | RSS before guard (MiB) | RSS before pass (MiB) | RSS after pass (MiB) | growth in pass (MiB) | bytes/token | peak VmHWM (MiB) | pass s |"
    );
    let _ = writeln!(
        s,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    let mib = |kib: u64| format!("{:.1}", kib as f64 / 1024.0);
    for l in lines {
        let growth = l.after_kib as f64 - l.before_kib as f64;
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.1} | {:.0} | {} | {:.1} |",
            l.guard.name(),
            mib(l.base_kib),
            mib(l.before_kib),
            mib(l.after_kib),
            growth / 1024.0,
            growth * 1024.0 / l.tokens.max(1) as f64,
            mib(l.hwm_kib),
            l.secs
        );
    }
    s
}
