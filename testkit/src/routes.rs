//! The router of one issuer: its endpoints, the control API when it is on, and the issuers
//! served under its path.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::config::ControlOptions;
use crate::state::Inner;
use crate::{control, endpoints};

/// Every route of the issuer `inner`, the control API's if `control` has it on.
pub(crate) fn router(inner: Arc<Inner>, control: ControlOptions) -> Router {
    let mut router = endpoints::routes(&inner);
    if control.enabled {
        router = router.merge(control::router(control.allow_remote));
    }
    router.fallback(by_path).with_state(inner)
}

/// A path no route knows: an issuer served under a path of this one, if it names one.
async fn by_path(State(inner): State<Arc<Inner>>, req: Request) -> Response {
    match &inner.tenants {
        Some(tenants) => tenants.dispatch(req).await,
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
