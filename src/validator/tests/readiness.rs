//! `Readiness` and `ReadinessService` with validators made up for the purpose; the real
//! validators are tested over HTTP in `tests/integration/readiness.rs`.

use std::convert::Infallible;

use http::{header, Method, Request, StatusCode};
use tower::ServiceExt;

use crate::validator::{Readiness, ReadinessService};
use crate::validator::{ValidationFuture, Validator};
use crate::{error::TokenError, AuthLayer, HybridValidator, MultiIssuer};

/// Never accepts a token; ready or not as told.
struct Fixed(Readiness);

impl Validator for Fixed {
    fn validate(&self, _: &str) -> ValidationFuture {
        ValidationFuture::ready(Err(TokenError::Malformed.into()))
    }

    fn readiness(&self) -> Readiness {
        self.0.clone()
    }
}

async fn probe<V: Validator>(service: ReadinessService<V>, method: Method) -> (u16, String) {
    let res: Result<_, Infallible> = service
        .oneshot(Request::builder().method(method).body(()).unwrap())
        .await;
    let res = res.unwrap();
    if res.status() != StatusCode::METHOD_NOT_ALLOWED {
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
    (res.status().as_u16(), res.into_body())
}

#[tokio::test]
async fn the_probe_answers_200_or_503_with_one_line() {
    let ready = ReadinessService::new(Fixed(Readiness::Ready));
    assert_eq!(
        probe(ready.clone(), Method::GET).await,
        (200, "ready\n".into())
    );
    assert_eq!(
        probe(ready.clone(), Method::HEAD).await,
        (200, String::new())
    );
    assert_eq!(probe(ready, Method::POST).await.0, 405);

    let down = ReadinessService::new(Fixed(Readiness::NotReady("a\r\nb".into())));
    assert_eq!(
        probe(down.clone(), Method::GET).await,
        (503, "not ready: a  b\n".into())
    );
    assert_eq!(probe(down, Method::HEAD).await, (503, String::new()));
}

#[tokio::test]
async fn the_layer_reports_its_validators_readiness() {
    let layer = AuthLayer::new(Fixed(Readiness::not_ready("keys")));
    assert_eq!(layer.readiness(), Readiness::not_ready("keys"));
    assert_eq!(probe(layer.readiness_service(), Method::GET).await.0, 503);
}

#[test]
fn a_validator_is_ready_unless_it_says_otherwise() {
    struct Plain;
    impl Validator for Plain {
        fn validate(&self, _: &str) -> ValidationFuture {
            ValidationFuture::ready(Err(TokenError::Malformed.into()))
        }
    }
    assert!(Plain.readiness().is_ready());
    // Arc and Box pass the question on.
    let boxed: Box<dyn Validator> = Box::new(Fixed(Readiness::not_ready("x")));
    assert_eq!(boxed.readiness().reason(), Some("x"));
    let shared = std::sync::Arc::new(Fixed(Readiness::not_ready("y")));
    assert_eq!(Validator::readiness(&shared).reason(), Some("y"));
}

#[test]
fn combined_validators_are_ready_when_all_are() {
    let ready = || Fixed(Readiness::Ready);
    let down = |why| Fixed(Readiness::not_ready(why));
    assert!(HybridValidator::new(ready(), ready())
        .readiness()
        .is_ready());
    assert_eq!(
        HybridValidator::new(ready(), down("remote"))
            .readiness()
            .reason(),
        Some("remote")
    );
    assert_eq!(
        HybridValidator::new(down("local"), down("remote"))
            .readiness()
            .reason(),
        Some("local")
    );
    let multi = MultiIssuer::builder()
        .validator("https://b.example", down("b down"))
        .validator("https://a.example", ready())
        .validator("https://c.example", down("c down"))
        .build()
        .unwrap();
    assert_eq!(
        multi.readiness().reason(),
        Some("https://b.example: b down")
    );
    let all = MultiIssuer::builder()
        .validator("https://a.example", ready())
        .build()
        .unwrap();
    assert!(all.readiness().is_ready());
}
