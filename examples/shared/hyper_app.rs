//! The service of `examples/hyper_server.rs`: a plain Tower service (no framework) behind
//! `AuthLayer`, served by hyper 1 through `hyper_util`'s service adapter. Shared with
//! `tests/integration/hyper_server.rs`.

use std::convert::Infallible;

use bearer_guard::{AuthLayer, Claims, Validator};
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::{service_fn, Layer};

/// The handler: the claims the layer put into the request's extensions.
async fn hello(req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let subject = req
        .extensions()
        .get::<Claims>()
        .and_then(Claims::subject)
        .unwrap_or("?");
    Ok(Response::new(Full::from(format!("hello {subject}"))))
}

/// Serves every connection of `listener` with `hello` behind `AuthLayer::new(validator)`.
pub async fn serve<V: Validator + Send + Sync + 'static>(listener: TcpListener, validator: V) {
    let service = AuthLayer::new(validator)
        .realm("hyper")
        .layer(service_fn(hello));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
