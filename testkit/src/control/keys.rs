//! `/_testkit/keys`: the key list, new keys, activation and retirement.

use super::*;

fn key_list(inner: &Inner) -> Value {
    let keys: Vec<Value> = inner
        .key_list()
        .into_iter()
        .map(|(kid, alg, published, active)| {
            json!({ "kid": kid, "alg": alg.as_str(), "published": published, "active": active })
        })
        .collect();
    json!({ "active": inner.active_key().kid, "keys": keys })
}

pub(super) async fn list_keys(State(inner): Shared) -> Response {
    Json(key_list(&inner)).into_response()
}

pub(super) async fn add_key(State(inner): Shared, JsonObject(body): JsonObject) -> Response {
    answer((|| {
        only(&body, &["alg", "activate"])?;
        let alg = match string(&body, "alg")? {
            Some(name) => name.parse::<KeyAlg>().map_err(bad_request)?,
            None => KeyAlg::Rs256,
        };
        let kid = inner.add_key(alg).map_err(|_| {
            ControlError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "key generation failed".into(),
            )
        })?;
        let activate = boolean(&body, "activate")?;
        if activate {
            inner.use_key(&kid);
        }
        Ok((
            StatusCode::CREATED,
            Json(json!({ "kid": kid, "alg": alg.as_str(), "active": activate })),
        )
            .into_response())
    })())
}

fn unknown_kid() -> ControlError {
    ControlError(StatusCode::NOT_FOUND, "not_found", "unknown kid".into())
}

pub(super) async fn activate_key(State(inner): Shared, Path(kid): Path<String>) -> Response {
    if inner.use_key(&kid) {
        Json(key_list(&inner)).into_response()
    } else {
        unknown_kid().into_response()
    }
}

pub(super) async fn retire_key(State(inner): Shared, Path(kid): Path<String>) -> Response {
    if inner.find_key(&kid).is_none() {
        return unknown_kid().into_response();
    }
    inner.retire_key(&kid);
    Json(key_list(&inner)).into_response()
}
