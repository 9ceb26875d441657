//! Criterion benchmarks of the hot path. Run: `cargo bench --all-features --bench validation`.
//!
//! Each figure has a baseline measured in the same run: raw `jsonwebtoken::decode` of the same
//! token for verification, and the bare no-op service for the layer.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bearer_guard::{
    claims::Scopes, crypto::Backend, jwks::KeySet, AuthLayer, JwtValidator, Validator,
};
use bearer_guard_testkit::{KeyAlg, TestServer};
use criterion::{criterion_group, criterion_main, Criterion};
use http::{header::AUTHORIZATION, HeaderValue, Request, Response};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use tower::{Layer, Service};

/// Polls a future that is expected to be ready at once (the cached paths are synchronous).
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

struct Fixture {
    _rt: tokio::runtime::Runtime,
    server: TestServer,
    jwks: Vec<u8>,
}

fn fixture() -> Fixture {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start());
    for alg in [KeyAlg::Ps256, KeyAlg::Es256, KeyAlg::EdDsa] {
        server.add_key(alg);
    }
    let jwks = rt
        .block_on(async { reqwest::get(server.jwks_uri()).await?.bytes().await })
        .unwrap()
        .to_vec();
    Fixture {
        _rt: rt,
        server,
        jwks,
    }
}

fn validator(f: &Fixture, backend: Backend, cached: bool) -> JwtValidator {
    let builder = JwtValidator::builder(f.server.issuer())
        .audience("api")
        .key_set(KeySet::from_json(&f.jwks).unwrap())
        .hmac_secret(b"bench-secret-bench-secret-bench-secret".to_vec())
        .backend(backend);
    let builder = if cached { builder } else { builder.no_cache() };
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(builder.build())
        .unwrap()
}

#[allow(clippy::vec_init_then_push)] // the pushes depend on features
fn backends() -> Vec<(&'static str, Backend)> {
    let mut v = Vec::new();
    #[cfg(feature = "aws_lc_rs")]
    v.push(("aws_lc", Backend::AwsLc));
    #[cfg(feature = "rust_crypto")]
    v.push(("rust_crypto", Backend::RustCrypto));
    v
}

fn bench(c: &mut Criterion) {
    // jsonwebtoken's own functions need a process-wide provider when both features are on.
    #[cfg(feature = "aws_lc_rs")]
    let _ = jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER.install_default();
    let f = fixture();
    let jwk_set: JwkSet = serde_json::from_slice(&f.jwks).unwrap();

    let mut tokens: Vec<(String, Algorithm, String, DecodingKey)> = Vec::new();
    for kid in f.server.kids() {
        let jwk = jwk_set.find(&kid).unwrap();
        let alg: Algorithm = jwk
            .common
            .key_algorithm
            .unwrap()
            .to_string()
            .parse()
            .unwrap();
        let token = f.server.mint().kid(&kid).sign();
        tokens.push((
            format!("{alg:?}"),
            alg,
            token,
            DecodingKey::from_jwk(jwk).unwrap(),
        ));
    }
    // HS256 with the shared secret.
    let claims: serde_json::Value = {
        let t = f.server.mint().sign();
        let payload = t.split('.').nth(1).unwrap();
        use base64::Engine as _;
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    let secret = b"bench-secret-bench-secret-bench-secret";
    let mut header = Header::new(Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let hs =
        jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(secret).unwrap()).unwrap();
    tokens.push((
        "HS256".into(),
        Algorithm::HS256,
        hs,
        DecodingKey::from_secret(secret).unwrap(),
    ));

    let mut g = c.benchmark_group("verify");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for (name, alg, token, key) in &tokens {
        let mut v = jsonwebtoken::Validation::new(*alg);
        v.set_issuer(&[f.server.issuer()]);
        v.set_audience(&["api"]);
        g.bench_function(format!("{name}/jsonwebtoken-decode"), |b| {
            b.iter(|| jsonwebtoken::decode::<serde_json::Value>(black_box(token), key, &v).unwrap())
        });
        for (backend_name, backend) in backends() {
            let val = validator(&f, backend, false);
            g.bench_function(format!("{name}/bearer-guard-{backend_name}"), |b| {
                b.iter(|| now(val.validate(black_box(token))).unwrap())
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("hot-path");
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let (_, _, rs_token, _) = &tokens[0];
    let cached = validator(&f, Backend::default(), true);
    now(cached.validate(rs_token)).unwrap();
    g.bench_function("token-cache-hit", |b| {
        b.iter(|| now(cached.validate(black_box(rs_token))).unwrap())
    });
    let header = HeaderValue::from_str(&format!("Bearer {rs_token}")).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert(AUTHORIZATION, header.clone());
    g.bench_function("bearer-extract", |b| {
        b.iter(|| {
            bearer_guard::bearer::extract(black_box(&headers))
                .unwrap()
                .len()
        })
    });
    let scopes = Scopes::parse("read write admin items:read items:write");
    g.bench_function("scope-check", |b| {
        b.iter(|| black_box(&scopes).contains_all(["items:read", "admin"]))
    });

    let noop = tower::service_fn(|_req: Request<()>| async {
        Ok::<_, std::convert::Infallible>(Response::new(()))
    });
    let mut bare = noop;
    let mut guarded = AuthLayer::new(cached.clone()).layer(noop);
    let request = || {
        let mut req = Request::new(());
        req.headers_mut().insert(AUTHORIZATION, header.clone());
        req
    };
    g.bench_function("request/no-op-service", |b| {
        b.iter(|| now(bare.call(request())).unwrap())
    });
    g.bench_function("request/auth-layer-cached", |b| {
        b.iter(|| {
            let res = now(guarded.call(request())).unwrap();
            assert_eq!(res.status(), 200);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
