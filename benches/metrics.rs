//! The cost of the `metrics` feature on the hot path: a cached token validated with no
//! recorder installed (the facade's no-op) and with a Prometheus recorder, in the same run.
//! Run: `cargo bench --all-features --bench metrics`.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use bearer_guard::{JwtValidator, Validator};
use criterion::{criterion_group, criterion_main, Criterion};
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::json;

fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

/// An HS256 access token for the validator below, signed by hand (aws-lc HMAC).
fn hs256(secret: &[u8]) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let header = json!({"alg": "HS256", "typ": "at+jwt"});
    let claims =
        json!({"iss": "https://as.example", "aud": "api", "sub": "a", "exp": 4_000_000_000u64});
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

fn bench(c: &mut Criterion) {
    let secret = b"bench-secret-bench-secret-bench-secret".to_vec();
    let token = hs256(&secret);
    let validator = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(
            JwtValidator::builder("https://as.example")
                .audience("api")
                .algorithms([])
                .hmac_secret(secret)
                .build(),
        )
        .unwrap();
    assert!(now(validator.validate(&token)).is_ok());
    let recorder = PrometheusBuilder::new().build_recorder();
    let mut group = c.benchmark_group("metrics/cached-token");
    group.bench_function("no recorder", |b| {
        b.iter(|| black_box(now(validator.validate(black_box(&token))).is_ok()))
    });
    group.bench_function("prometheus recorder", |b| {
        metrics::with_local_recorder(&recorder, || {
            b.iter(|| black_box(now(validator.validate(black_box(&token))).is_ok()))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
