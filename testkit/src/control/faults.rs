//! `/_testkit/faults` and `/_testkit/counts`: faults and request counts per endpoint.

use super::*;

/// A fault as JSON: `{"fault": "none" | "unavailable" | "hang" | "garbage" | "huge" |
/// "status" | "delay", "bytes": N, "status": N, "millis": N}`.
fn fault_json(fault: Fault) -> Value {
    match fault {
        Fault::None => json!({ "fault": "none" }),
        Fault::Unavailable => json!({ "fault": "unavailable" }),
        Fault::Hang => json!({ "fault": "hang" }),
        Fault::Garbage => json!({ "fault": "garbage" }),
        Fault::Huge(bytes) => json!({ "fault": "huge", "bytes": bytes }),
        Fault::Status(status) => json!({ "fault": "status", "status": status }),
        Fault::Delay(d) => {
            json!({ "fault": "delay", "millis": u64::try_from(d.as_millis()).unwrap_or(u64::MAX) })
        }
    }
}

fn parse_fault(body: &Map<String, Value>) -> Result<Fault, ControlError> {
    let kind = string(body, "fault")?.ok_or_else(|| bad_request("missing fault"))?;
    let (fault, extra): (Fault, &[&str]) = match kind {
        "none" => (Fault::None, &[]),
        "unavailable" => (Fault::Unavailable, &[]),
        "hang" => (Fault::Hang, &[]),
        "garbage" => (Fault::Garbage, &[]),
        "huge" => {
            let bytes = number(body, "bytes")?.ok_or_else(|| bad_request("missing bytes"))?;
            let bytes = usize::try_from(bytes)
                .ok()
                .filter(|b| *b <= 64 * 1024 * 1024)
                .ok_or_else(|| bad_request("bytes must be at most 67108864"))?;
            (Fault::Huge(bytes), &["bytes"])
        }
        "status" => {
            let status = number(body, "status")?.ok_or_else(|| bad_request("missing status"))?;
            let status = u16::try_from(status)
                .ok()
                .filter(|s| (100..=999).contains(s))
                .ok_or_else(|| bad_request("status must be between 100 and 999"))?;
            (Fault::Status(status), &["status"])
        }
        "delay" => {
            let millis = number(body, "millis")?.ok_or_else(|| bad_request("missing millis"))?;
            (Fault::Delay(Duration::from_millis(millis)), &["millis"])
        }
        _ => {
            return Err(bad_request(
                "unknown fault (none, unavailable, hang, garbage, huge, status, delay)",
            ))
        }
    };
    let mut allowed = vec!["fault"];
    allowed.extend_from_slice(extra);
    only(body, &allowed)?;
    Ok(fault)
}

fn endpoint(name: &str) -> Result<Endpoint, ControlError> {
    name.parse::<Endpoint>()
        .map_err(|e| ControlError(StatusCode::NOT_FOUND, "not_found", e))
}

fn fault_list(inner: &Inner) -> Value {
    let map: Map<String, Value> = Endpoint::ALL
        .into_iter()
        .map(|ep| (ep.as_str().to_owned(), fault_json(inner.fault(ep))))
        .collect();
    Value::Object(map)
}

pub(super) async fn list_faults(State(inner): Shared) -> Response {
    Json(fault_list(&inner)).into_response()
}

pub(super) async fn set_fault(
    State(inner): Shared,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Response {
    answer((|| {
        let ep = endpoint(&name)?;
        let fault = parse_fault(&body)?;
        inner.set_fault(ep, fault);
        Ok(Json(fault_list(&inner)).into_response())
    })())
}

pub(super) async fn clear_fault(State(inner): Shared, Path(name): Path<String>) -> Response {
    answer(endpoint(&name).map(|ep| {
        inner.set_fault(ep, Fault::None);
        Json(fault_list(&inner)).into_response()
    }))
}

pub(super) async fn clear_faults(State(inner): Shared) -> Response {
    for ep in Endpoint::ALL {
        inner.set_fault(ep, Fault::None);
    }
    Json(fault_list(&inner)).into_response()
}

fn count_list(inner: &Inner) -> Value {
    let map: Map<String, Value> = Endpoint::ALL
        .into_iter()
        .map(|ep| (ep.as_str().to_owned(), Value::from(inner.count(ep))))
        .collect();
    Value::Object(map)
}

pub(super) async fn counts(State(inner): Shared) -> Response {
    Json(count_list(&inner)).into_response()
}

pub(super) async fn reset_counts(State(inner): Shared) -> Response {
    inner.reset_counts();
    Json(count_list(&inner)).into_response()
}
