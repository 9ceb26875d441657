//! The router of one issuer: its endpoints, the control API when it is on, and, at the root
//! issuer, the issuers served under its path.

use std::sync::Arc;

use axum::extract::Request;
use axum::Router;

use crate::config::ControlOptions;
use crate::state::Inner;
use crate::tenants::Tenants;
use crate::{control, endpoints};

/// Every route of the issuer `inner`: the control API's if `control` has it on; a path no
/// route knows goes to the issuers by path (`tenants`, the root issuer's only), else `404`.
pub(crate) fn router(
    inner: Arc<Inner>,
    control: ControlOptions,
    tenants: Option<Arc<Tenants>>,
) -> Router {
    let mut router = endpoints::routes(&inner);
    if control.enabled {
        router = router.merge(control::router(control.allow_remote, tenants.clone()));
    }
    if let Some(tenants) = tenants {
        router = router.fallback(move |req: Request| async move { tenants.dispatch(req).await });
    }
    router.with_state(inner)
}
