//! Per-request cost of the shared state on Redis (loopback) against the in-memory default,
//! measured in the same run: one DPoP replay check (insert-if-absent of a fresh `jti` hash),
//! and one introspection cache hit through `IntrospectionValidator::validate`.
//!
//! Run: `cargo bench --all-features --bench store` (needs `redis-server`; starts its own on a
//! free loopback port and stops it at the end; without it, prints why and measures nothing).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/redis.rs"]
mod redis_server;

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bearer_guard::store::{MemoryStore, RedisStore, ReplayStore};
use bearer_guard::{
    introspection::IntrospectionValidatorBuilder, IntrospectionValidator, Validator,
};
use bearer_guard_testkit::TestServer;
use criterion::{criterion_group, criterion_main, Criterion};
use redis_server::RedisServer;

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A fresh key per iteration: `run` (distinct per measurement) and the counter.
fn key(run: u64, i: u64) -> [u8; 32] {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&run.to_le_bytes());
    key[8..16].copy_from_slice(&i.to_le_bytes());
    key
}

/// Times `iters` fresh insertions into `store`, each awaited.
fn replay_run(
    rt: &tokio::runtime::Runtime,
    store: &dyn ReplayStore,
    run: u64,
    iters: u64,
) -> Duration {
    let expires_at = unix_now() + 5;
    rt.block_on(async {
        let start = Instant::now();
        for i in 0..iters {
            let fresh = store.insert_if_absent(key(run, i), expires_at).await;
            assert!(black_box(fresh).unwrap());
        }
        start.elapsed()
    })
}

fn bench(c: &mut Criterion) {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let shared = rt.block_on(async {
        RedisStore::builder(redis.url())
            .secret(b"the-store-secret-of-this-bench!!")
            .key_prefix("bench:")
            .connect()
            .await
            .unwrap()
    });

    let mut g = c.benchmark_group("replay_check");
    let mut run = 0;
    g.bench_function("memory", |b| {
        b.iter_custom(|iters| {
            run += 1;
            let store = MemoryStore::new(iters + 1);
            replay_run(&rt, &store, run, iters)
        })
    });
    g.bench_function("redis", |b| {
        b.iter_custom(|iters| {
            run += 1;
            replay_run(&rt, &shared, run, iters)
        })
    });
    g.finish();

    let server = rt.block_on(TestServer::start());
    let builder = || -> IntrospectionValidatorBuilder {
        IntrospectionValidator::builder(server.issuer())
            .client("api", "api-secret")
            .introspection_endpoint(server.introspection_endpoint())
            .audience("api")
    };
    let token = server.mint().opaque();
    let (memory, redis_backed) = rt.block_on(async {
        let memory = builder().build().await.unwrap();
        let redis_backed = builder()
            .shared_store(shared.clone())
            .build()
            .await
            .unwrap();
        // Warm both caches.
        memory.validate(&token).await.unwrap();
        redis_backed.validate(&token).await.unwrap();
        (memory, redis_backed)
    });
    let mut g = c.benchmark_group("introspection_cache_hit");
    g.bench_function("memory", |b| {
        b.iter(|| rt.block_on(memory.validate(black_box(&token))).unwrap())
    });
    g.bench_function("redis", |b| {
        b.iter(|| {
            rt.block_on(redis_backed.validate(black_box(&token)))
                .unwrap()
        })
    });
    g.finish();
    drop(redis);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
