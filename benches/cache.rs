//! The verified-token cache when tokens do not repeat, and when they do.
//!
//! Run: `cargo bench --all-features --bench cache` (add `-- --pool 20000` for a quicker run).
//!
//! 1. **Miss overhead.** A pool of distinct RS256 tokens (default 100,000, more than the
//!    default cache of 10,000) is walked in order, so every request is a token the cache has
//!    not kept: once with the defaults (cache on), once with `no_cache()`. The two are timed in
//!    interleaved blocks of consecutive tokens, and the ratio of their medians is printed.
//! 2. **Hit rate on a skewed mix.** Requests drawn from a Zipf-like distribution over a
//!    population of HS256 tokens (the top 20% of tokens make about 80% of requests); the hit
//!    rate of the default cache is printed next to the best any cache could do (every request
//!    but the first of each token).
//!
//! Not criterion: a ratio of medians over interleaved blocks is steadier on a shared machine
//! than two separate criterion runs minutes apart.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bearer_guard::{jwks::KeySet, jwt::Algorithm, JwtValidator, Validator};
use bearer_guard_testkit::TestServer;

/// Polls a future that is expected to be ready at once (keys are in memory).
fn now<F: Future>(f: F) -> F::Output {
    match pin!(f)
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn build(builder: bearer_guard::jwt::JwtValidatorBuilder) -> JwtValidator {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(builder.build())
        .unwrap()
}

fn miss_overhead(pool: usize, rounds: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start());
    let jwks = rt
        .block_on(async { reqwest::get(server.jwks_uri()).await?.bytes().await })
        .unwrap();
    // `pool` tokens to measure with, and 10,000 more for the warm-up.
    let warm_up = 10_000;
    let minted = pool + warm_up;
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let tokens: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let server = &server;
                s.spawn(move || {
                    (t..minted)
                        .step_by(threads)
                        .map(|i| server.mint().jti(format!("one-time-{i}")).sign())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert_eq!(tokens.iter().collect::<HashSet<_>>().len(), minted);
    let (warm, tokens) = tokens.split_at(warm_up);
    println!(
        "minted {minted} RS256 tokens in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let validator = |cached: bool| {
        let b = JwtValidator::builder(server.issuer())
            .audience(server.audience())
            .algorithms([Algorithm::RS256])
            .key_set(KeySet::from_json(&jwks).unwrap());
        build(if cached { b } else { b.no_cache() })
    };
    compare(
        "RS256",
        warm,
        tokens,
        &validator(true),
        &validator(false),
        rounds,
    );
}

/// The same with HS256 tokens: a verification of about 2 µs makes the cost of a miss in the
/// cache easy to see in absolute terms.
fn miss_overhead_hs256(pool: usize, rounds: usize) {
    let warm: Vec<String> = (0..10_000).map(|i| hs256(10_000_000 + i)).collect();
    let tokens: Vec<String> = (0..pool).map(hs256).collect();
    let validator = |cached: bool| {
        let b = JwtValidator::builder("https://as.example")
            .audience("api")
            .hmac_secret(SECRET.to_vec())
            .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap());
        build(if cached { b } else { b.no_cache() })
    };
    compare(
        "HS256",
        &warm,
        &tokens,
        &validator(true),
        &validator(false),
        rounds,
    );
}

/// Times `default` and `uncached` over interleaved blocks of `tokens` (each used once), after
/// a warm-up on `warm`.
fn compare(
    alg: &str,
    warm: &[String],
    tokens: &[String],
    default: &JwtValidator,
    uncached: &JwtValidator,
    rounds: usize,
) {
    let pool = tokens.len();
    // Warm-up on other tokens: the default cache fills its room with them (they never come
    // back), so that what is measured is the cache once full.
    for t in warm {
        now(default.validate(t)).unwrap();
        now(uncached.validate(t)).unwrap();
    }
    // Every token is used once: 4 blocks a round, each of the next `block` tokens.
    let block = pool / (4 * rounds);
    let mut per = (Vec::new(), Vec::new());
    let mut offset = 0;
    let hits_before = default.stats().cache_hits;
    for _ in 0..rounds {
        // Each block takes the next tokens of the pool: no token is seen twice in a round
        // (a second sighting would be admitted, which is the other case).
        for (which, v) in [(0, default), (1, uncached), (1, uncached), (0, default)] {
            let start = offset;
            offset += block;
            let slice = tokens[start..start + block].iter();
            let started = Instant::now();
            for t in slice {
                black_box(now(v.validate(black_box(t))).unwrap());
            }
            let ns = started.elapsed().as_nanos() as f64 / block as f64;
            if which == 0 {
                per.0.push(ns);
            } else {
                per.1.push(ns);
            }
        }
    }
    let ratios: Vec<String> = per
        .0
        .chunks(2)
        .zip(per.1.chunks(2))
        .map(|(d, u)| format!("{:.3}", d.iter().sum::<f64>() / u.iter().sum::<f64>()))
        .collect();
    println!("  per-round ratios default/no_cache: {}", ratios.join(" "));
    let (d, u) = (median(&mut per.0), median(&mut per.1));
    let stats = default.stats();
    let hits = stats.cache_hits - hits_before;
    println!(
        "miss overhead, pool {pool} one-time {alg} tokens, blocks of {block}, {rounds} rounds:\n  \
         default (cache on)  {d:>8.0} ns/request (median)\n  \
         no_cache()          {u:>8.0} ns/request (median)\n  \
         ratio default/no_cache = {:.3}x  (cache hits while measured: {hits} of {})",
        d / u,
        rounds * 2 * block
    );
}

/// SplitMix64: a small deterministic generator for the request mix.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const SECRET: &[u8] = b"cache-bench-secret-cache-bench-secret";

fn hs256(i: usize) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"at+jwt"}"#);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": "https://as.example", "aud": "api", "sub": format!("user-{i}"),
        "iat": now, "exp": now + 3600, "jti": format!("zipf-{i}"),
    });
    let input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SECRET);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn zipf_hit_rate(population: usize, requests: usize, exponent: f64, capacity: u64) {
    let tokens: Vec<String> = (0..population).map(hs256).collect();
    // Cumulative weights 1/rank^s.
    let mut cdf = Vec::with_capacity(population);
    let mut total = 0.0;
    for rank in 1..=population {
        total += 1.0 / (rank as f64).powf(exponent);
        cdf.push(total);
    }
    let top_fifth = cdf[population / 5 - 1] / total;
    let v = build(
        JwtValidator::builder("https://as.example")
            .audience("api")
            .hmac_secret(SECRET.to_vec())
            .key_set(KeySet::from_json(br#"{"keys":[]}"#).unwrap())
            .cache_capacity(capacity),
    );
    let mut rng = Rng(42);
    let mut seen = HashSet::new();
    let started = Instant::now();
    for _ in 0..requests {
        let x = rng.unit() * total;
        let i = cdf.partition_point(|c| *c < x).min(population - 1);
        seen.insert(i);
        now(v.validate(&tokens[i])).unwrap();
    }
    let elapsed = started.elapsed();
    let hits = v.stats().cache_hits;
    let best = requests - seen.len();
    println!(
        "zipf s={exponent}: {population} tokens (top 20% make {:.0}% of requests), {requests} \
         requests, cache capacity {capacity}:\n  hit rate {:.1}% (best possible {:.1}%: every \
         request but each token's first), {:.0} ns/request",
        top_fifth * 100.0,
        hits as f64 * 100.0 / requests as f64,
        best as f64 * 100.0 / requests as f64,
        elapsed.as_nanos() as f64 / requests as f64
    );
}

fn main() {
    // `cargo bench` passes `--bench`; anything else is ours.
    let pool = arg("--pool", 100_000);
    let rounds = arg("--rounds", 10);
    let population = arg("--population", 100_000);
    let requests = arg("--requests", 1_000_000);
    zipf_hit_rate(population, requests, 0.95, 10_000);
    zipf_hit_rate(population, requests, 0.95, population as u64);
    miss_overhead_hs256(pool, rounds);
    miss_overhead(pool, rounds);
}
