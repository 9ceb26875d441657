//! `GET /_testkit/clients`: the clients registered at run time.

use super::*;

pub(super) async fn registered_clients(State(inner): Shared) -> Response {
    let clients: Vec<Value> = inner
        .clients
        .registered()
        .iter()
        .map(|c| {
            json!({
                "client_id": c.id(),
                "public": c.is_public(),
                "redirect_uris": c.redirect_uris(),
                "scope": c.allowed_scopes().join(" "),
            })
        })
        .collect();
    Json(json!({ "registered": clients })).into_response()
}
