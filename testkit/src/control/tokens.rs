//! `POST /_testkit/tokens`: tokens minted as the body describes.

use super::*;

pub(super) async fn mint(State(inner): Shared, JsonObject(body): JsonObject) -> Response {
    answer(mint_inner(inner, &body))
}

fn mint_inner(inner: Arc<Inner>, body: &Map<String, Value>) -> Answer {
    only(
        body,
        &[
            "claims",
            "header",
            "lifetime",
            "expired",
            "not_before",
            "kid",
            "alg",
            "typ",
            "defect",
            "opaque",
        ],
    )?;
    let mut builder = TokenBuilder::new(inner);
    if let Some(secs) = number(body, "lifetime")? {
        builder = builder.lifetime(Duration::from_secs(secs));
    }
    if boolean(body, "expired")? {
        builder = builder.expired();
    }
    if let Some(secs) = number(body, "not_before")? {
        builder = builder.not_before(Duration::from_secs(secs));
    }
    // Claims last, so that an explicit `exp`, `iat` or `nbf` wins.
    for (name, value) in object(body, "claims")?.into_iter().flatten() {
        builder = match value {
            Value::Null => builder.remove(name),
            v => builder.claim(name.clone(), v.clone()),
        };
    }
    if let Some(kid) = string(body, "kid")? {
        builder = builder.kid(kid);
    }
    if let Some(alg) = string(body, "alg")? {
        builder = builder.alg(alg.parse::<KeyAlg>().map_err(bad_request)?);
    }
    match body.get("typ") {
        None => {}
        Some(Value::Null) => builder = builder.typ(None),
        Some(Value::String(typ)) => builder = builder.typ(Some(typ)),
        Some(_) => return Err(bad_request("typ must be a string or null")),
    }
    for (name, value) in object(body, "header")?.into_iter().flatten() {
        builder = builder.header(name.clone(), value.clone());
    }
    if let Some(defect) = string(body, "defect")? {
        builder = builder.defect(defect.parse::<Defect>().map_err(bad_request)?);
    }
    if boolean(body, "opaque")? {
        let claims = builder.claims().clone();
        let token = builder.opaque();
        return Ok(Json(json!({ "access_token": token, "claims": claims })).into_response());
    }
    let minted = builder.build().map_err(bad_request)?;
    Ok(Json(json!({
        "access_token": minted.token,
        "header": minted.header,
        "claims": minted.claims,
    }))
    .into_response())
}
