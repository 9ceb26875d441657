//! The `jsonrpc` target: the MCP body peeker and the per-operation check behind
//! [`RequireMcpScope`](crate::jsonrpc::RequireMcpScope).

use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use crate::jsonrpc::peek::{peek, Message, Target};
use crate::{jsonrpc::McpRequirements, Claims, Requirement};

/// The requirements of the target: the base scope `base`; `admin` for the tool
/// `admin_tool`, the prompt `secret`, the resource `secret://x` and the method
/// `admin/method`.
fn requirements() -> &'static McpRequirements {
    static REQUIREMENTS: OnceLock<McpRequirements> = OnceLock::new();
    REQUIREMENTS.get_or_init(|| {
        let admin = Requirement::all(["admin"]);
        McpRequirements::new()
            .base(Requirement::all(["base"]))
            .tool("admin_tool", admin.clone())
            .prompt("secret", admin.clone())
            .resource("secret://x", admin.clone())
            .method("admin/method", admin)
    })
}

fn claims(scope: &str) -> Option<Claims> {
    Claims::from_value(json!({"sub": "fuzz", "scope": scope}))
}

/// `jsonrpc`: the peeker (`jsonrpc::peek`) of the input as a request body, and
/// [`McpRequirements::check_body`] with and without the `admin` scope.
///
/// * An accepted body is JSON a plain `serde_json` parse reads the same way: one message per
///   object (the body, or each element of a non-empty batch), each reported method the
///   string `method` of its object, each tool, prompt or resource the string its method is
///   checked by.
/// * A body whose plain parse holds a call of something restricted never passes the check
///   without `admin` (whatever the peeker makes of it).
/// * With every scope, the check passes exactly when the peeker accepts the body.
pub fn jsonrpc(data: &[u8]) {
    let outcome = peek(data);
    let plain = serde_json::from_slice::<Value>(data).ok();
    if let Ok(messages) = &outcome {
        let objects: Vec<&Map<String, Value>> = match &plain {
            Some(Value::Object(message)) => vec![message],
            Some(Value::Array(batch)) => batch.iter().filter_map(Value::as_object).collect(),
            _ => panic!("a body that is not a JSON object or array was accepted"),
        };
        assert!(!objects.is_empty(), "an empty batch was accepted");
        assert_eq!(objects.len(), messages.len(), "messages lost or invented");
        for (message, object) in messages.iter().zip(objects) {
            check_message(message, object);
        }
    }
    let (Some(base), Some(all)) = (claims("base"), claims("base admin")) else {
        panic!("the fuzzing claims could not be built");
    };
    let requirements = requirements();
    if plain.as_ref().is_some_and(restricted) {
        assert!(
            requirements.check_body(data, &base).is_err(),
            "a restricted call passed without its scope"
        );
    }
    assert_eq!(
        requirements.check_body(data, &all).is_ok(),
        outcome.is_ok(),
        "with every scope, the check and the peeker disagree"
    );
}

/// One reported message against its object in the plain parse.
fn check_message(message: &Message, object: &Map<String, Value>) {
    let param = |name: &str| object.get("params")?.get(name)?.as_str();
    match message {
        Message::Response => assert!(object.get("method").is_none(), "a call read as a response"),
        Message::Call { method, target } => {
            assert_eq!(
                object.get("method").and_then(Value::as_str),
                Some(method.as_str()),
                "a method that is not the object's"
            );
            let expected = match method.as_str() {
                "tools/call" => param("name").map(|n| Target::Tool(n.to_owned())),
                "prompts/get" => param("name").map(|n| Target::Prompt(n.to_owned())),
                "resources/read" => param("uri").map(|u| Target::Resource(u.to_owned())),
                _ => None,
            };
            assert_eq!(target, &expected, "a target that is not the object's");
        }
    }
}

/// Whether the plain parse of a body holds a call of something that needs `admin`.
fn restricted(value: &Value) -> bool {
    let one = |m: &Value| {
        let param = |name: &str| {
            m.get("params")
                .and_then(|p| p.get(name))
                .and_then(Value::as_str)
        };
        match m.get("method").and_then(Value::as_str) {
            Some("tools/call") => param("name") == Some("admin_tool"),
            Some("prompts/get") => param("name") == Some("secret"),
            Some("resources/read") => param("uri") == Some("secret://x"),
            Some("admin/method") => true,
            _ => false,
        }
    };
    match value {
        Value::Array(batch) => batch.iter().any(one),
        other => one(other),
    }
}
