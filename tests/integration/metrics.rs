//! The `metrics` feature: validations, fetches and DPoP refusals are counted through the
//! `metrics` facade with bounded labels, and no label ever carries a token or a claim value.

use crate::support;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::{header, Request};
use bearer_guard::telemetry::{DPOP_REFUSALS, FETCHES, FETCH_SECONDS, VALIDATIONS};
use bearer_guard::{dpop::DpopConfig, AuthLayer};
use bearer_guard_testkit::TestServer;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use serde_json::json;
use tower::{service_fn, Layer, ServiceExt};

#[tokio::test]
async fn validations_fetches_and_dpop_refusals_are_counted_without_secrets() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    // This thread's recorder only: the other tests of the binary run on other threads.
    let _recorder = metrics::set_default_local_recorder(&recorder);

    let server = TestServer::start().await;
    let validator = support::validator(&server).await;
    let svc = AuthLayer::new(validator)
        .dpop(DpopConfig::new().allowed_hosts(["api.example"]))
        .unwrap()
        .layer(service_fn(|_: Request<Body>| async {
            Ok::<_, std::convert::Infallible>(axum::http::Response::new(Body::empty()))
        }));
    let good = server.mint().sub("alice-unique-subject").sign();
    let bound = server.mint().claim("cnf", json!({"jkt": "abc"})).sign();
    let expired = server.mint().expired().sign();
    for token in [&good, &good, &expired, &bound] {
        let req = Request::get("https://api.example/r")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        svc.clone().oneshot(req).await.unwrap();
    }

    let mut seen: HashMap<(String, Vec<(String, String)>), DebugValue> = HashMap::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        labels.sort();
        for (_, v) in &labels {
            for secret in [
                good.as_str(),
                bound.as_str(),
                expired.as_str(),
                "alice-unique-subject",
            ] {
                assert!(!v.contains(secret), "a label carries a token or claim: {v}");
            }
        }
        seen.insert((key.name().to_owned(), labels), value);
    }
    let counter = |name: &str, labels: &[(&str, &str)]| {
        let mut l: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        l.sort();
        match seen.get(&(name.to_owned(), l)) {
            Some(DebugValue::Counter(n)) => *n,
            other => panic!("{name} {labels:?}: {other:?} in {seen:#?}"),
        }
    };
    assert_eq!(
        counter(
            VALIDATIONS,
            &[
                ("validator", "jwt"),
                ("outcome", "accepted"),
                ("cache", "miss")
            ]
        ),
        2
    );
    assert_eq!(
        counter(
            VALIDATIONS,
            &[
                ("validator", "jwt"),
                ("outcome", "accepted"),
                ("cache", "hit")
            ]
        ),
        1
    );
    assert_eq!(
        counter(
            VALIDATIONS,
            &[
                ("validator", "jwt"),
                ("outcome", "rejected"),
                ("cache", "miss")
            ]
        ),
        1
    );
    assert_eq!(counter(DPOP_REFUSALS, &[("reason", "BoundToken")]), 1);
    assert!(counter(FETCHES, &[("purpose", "jwks"), ("result", "ok")]) >= 1);
    assert!(counter(FETCHES, &[("purpose", "discovery"), ("result", "ok")]) >= 1);
    assert!(matches!(
        seen.get(&(FETCH_SECONDS.to_owned(), vec![("purpose".into(), "jwks".into()), ("result".into(), "ok".into())])),
        Some(DebugValue::Histogram(v)) if !v.is_empty()
    ));
}
