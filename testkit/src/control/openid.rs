//! Control routes of the OpenID side: users with claims and `acr` levels, their sign-ins
//! (`auth_time`, `acr`), and issuers by path.

use super::*;
use crate::state::AuthInfo;
use crate::tenants::{TenantError, Tenants};
use crate::user::User;
use crate::util::now;

/// `POST /_testkit/users`: `{"username", "password", "claims": {...}, "acr_values": [...]}`.
pub(super) async fn add_user(State(inner): Shared, JsonObject(body): JsonObject) -> Response {
    answer((|| {
        only(&body, &["username", "password", "claims", "acr_values"])?;
        let username = string(&body, "username")?
            .filter(|u| !u.is_empty())
            .ok_or_else(|| bad_request("missing username"))?;
        let password = string(&body, "password")?
            .filter(|p| !p.is_empty())
            .ok_or_else(|| bad_request("missing password"))?;
        let mut user = User::new(username, password);
        for (name, value) in object(&body, "claims")?.into_iter().flatten() {
            user = user.claim(name.clone(), value.clone());
        }
        let acr_values = match body.get("acr_values") {
            None => Vec::new(),
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad_request("acr_values must be an array of strings"))?,
            Some(_) => return Err(bad_request("acr_values must be an array of strings")),
        };
        user = user.acr_values(acr_values);
        let claims = user.claims().clone();
        inner.clients.add_user(user);
        Ok((
            StatusCode::CREATED,
            Json(json!({ "username": username, "claims": claims })),
        )
            .into_response())
    })())
}

/// `PUT /_testkit/users/{username}/sign-in`: `{"auth_time": UNIX_SECONDS, "acr": "..."}`
/// (defaults: now, none).
pub(super) async fn set_sign_in(
    State(inner): Shared,
    Path(username): Path<String>,
    JsonObject(body): JsonObject,
) -> Response {
    answer((|| {
        only(&body, &["auth_time", "acr"])?;
        if inner.clients.user(&username).is_none() {
            return Err(ControlError(
                StatusCode::NOT_FOUND,
                "not_found",
                "unknown user".into(),
            ));
        }
        let info = AuthInfo {
            auth_time: number(&body, "auth_time")?.unwrap_or_else(now),
            acr: string(&body, "acr")?.map(str::to_owned),
        };
        let answer = json!({ "username": username, "auth_time": info.auth_time, "acr": info.acr });
        inner.set_session(&username, info);
        Ok(Json(answer).into_response())
    })())
}

/// The issuers by path of the root issuer (`tenants`); none at an issuer by path.
type ByPath = Extension<Option<Arc<Tenants>>>;

fn issuer_list(tenants: Option<&Tenants>) -> Value {
    let list: Vec<Value> = tenants
        .iter()
        .flat_map(|t| t.list())
        .map(|(name, t)| json!({ "name": name, "issuer": t.issuer }))
        .collect();
    json!({ "issuers": list })
}

/// `GET /_testkit/issuers`: the issuers by path.
pub(super) async fn list_issuers(Extension(tenants): ByPath) -> Response {
    Json(issuer_list(tenants.as_deref())).into_response()
}

/// `POST /_testkit/issuers`: `{"name": "tenant-a", "alg": "ES256"}` (root issuer only).
pub(super) async fn add_issuer(
    Extension(tenants): ByPath,
    JsonObject(body): JsonObject,
) -> Response {
    answer((|| {
        only(&body, &["name", "alg"])?;
        let Some(tenants) = &tenants else {
            return Err(ControlError(
                StatusCode::NOT_FOUND,
                "not_found",
                "issuers by path are added at the root issuer".into(),
            ));
        };
        let name = string(&body, "name")?.ok_or_else(|| bad_request("missing name"))?;
        let alg = match string(&body, "alg")? {
            Some(a) => Some(a.parse::<KeyAlg>().map_err(bad_request)?),
            None => None,
        };
        let added = tenants.add(name, alg).map_err(|e| match e {
            TenantError::Key(_) => ControlError(
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                e.to_string(),
            ),
            other => bad_request(other.to_string()),
        })?;
        Ok((
            StatusCode::CREATED,
            Json(json!({ "name": name, "issuer": added.issuer })),
        )
            .into_response())
    })())
}
