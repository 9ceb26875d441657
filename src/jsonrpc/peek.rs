//! The peeker: what a JSON-RPC body asks for, read the one way every check reads it.
//!
//! The body is parsed once with `serde_json` (the parser MCP servers in Rust use), refusing
//! duplicate members at every depth: two readers of `{"method":"ping","method":"tools/call"}`
//! could otherwise see two different methods. What the checks need of each message is taken
//! from that one parse.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use crate::error::RequestError;

/// The `tools/call` method: checked by `params.name`.
pub const TOOLS_CALL: &str = "tools/call";
/// The `prompts/get` method: checked by `params.name`.
pub const PROMPTS_GET: &str = "prompts/get";
/// The `resources/read` method: checked by `params.uri`.
pub const RESOURCES_READ: &str = "resources/read";

/// One message of a JSON-RPC body, as far as the checks need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    /// A request or notification.
    Call {
        /// Its `method`.
        method: String,
        /// What a `tools/call`, `prompts/get` or `resources/read` names.
        target: Option<Target>,
    },
    /// A response to a request of the server (`id` and `result` or `error`, no `method`):
    /// MCP clients post those too (sampling, elicitation).
    Response,
}

/// The tool, prompt or resource a call names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `tools/call` `params.name`.
    Tool(String),
    /// `prompts/get` `params.name`.
    Prompt(String),
    /// `resources/read` `params.uri`.
    Resource(String),
}

/// The messages of a JSON-RPC body: one object, or a non-empty batch array of objects.
///
/// Refused: bytes that are not JSON ([`RequestError::NotJson`]), a duplicate member anywhere
/// ([`RequestError::DuplicateMember`]), an empty batch ([`RequestError::EmptyBatch`]), and
/// anything else that is not a JSON-RPC message ([`RequestError::NotJsonRpc`]): another JSON
/// value, a batch element that is not an object, a `method` that is not a string, an object
/// that is neither a call nor a response, a checked call without its string parameter.
pub(crate) fn peek(bytes: &[u8]) -> Result<Vec<Message>, RequestError> {
    let value = match serde_json::from_slice::<Unique>(bytes) {
        Ok(Unique(value)) => value,
        Err(e) if e.is_data() && e.to_string().starts_with(DUPLICATE) => {
            return Err(RequestError::DuplicateMember)
        }
        Err(_) => return Err(RequestError::NotJson),
    };
    match value {
        Value::Object(message) => Ok(vec![read(&message)?]),
        Value::Array(batch) if batch.is_empty() => Err(RequestError::EmptyBatch),
        Value::Array(batch) => batch
            .iter()
            .map(|m| m.as_object().ok_or(RequestError::NotJsonRpc).and_then(read))
            .collect(),
        _ => Err(RequestError::NotJsonRpc),
    }
}

/// One message object.
fn read(message: &Map<String, Value>) -> Result<Message, RequestError> {
    let Some(method) = message.get("method") else {
        let response = message.contains_key("id")
            && (message.contains_key("result") != message.contains_key("error"));
        return if response {
            Ok(Message::Response)
        } else {
            Err(RequestError::NotJsonRpc)
        };
    };
    let method = method.as_str().ok_or(RequestError::NotJsonRpc)?;
    let param = |name: &str| {
        message
            .get("params")
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or(RequestError::NotJsonRpc)
    };
    let target = match method {
        TOOLS_CALL => Some(Target::Tool(param("name")?)),
        PROMPTS_GET => Some(Target::Prompt(param("name")?)),
        RESOURCES_READ => Some(Target::Resource(param("uri")?)),
        _ => None,
    };
    Ok(Message::Call {
        method: method.to_owned(),
        target,
    })
}

const DUPLICATE: &str = "duplicate member";

/// A JSON value whose objects, at every depth, have distinct member names. (serde_json's
/// recursion limit still bounds the depth.)
struct Unique(Value);

impl<'de> Deserialize<'de> for Unique {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueVisitor).map(Unique)
    }
}

struct UniqueVisitor;

impl<'de> Visitor<'de> for UniqueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Unique(item)) = access.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, Unique(value))) = access.next_entry::<String, Unique>()? {
            match map.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(value);
                }
                Entry::Occupied(_) => return Err(serde::de::Error::custom(DUPLICATE)),
            }
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, target: Option<Target>) -> Message {
        Message::Call {
            method: method.into(),
            target,
        }
    }

    #[test]
    fn single_batch_and_targets() {
        assert_eq!(
            peek(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#),
            Ok(vec![call("tools/list", None)])
        );
        assert_eq!(
            peek(
                br#"[{"method":"tools/call","params":{"name":"t"}},
                    {"method":"prompts/get","params":{"name":"p"}},
                    {"method":"resources/read","params":{"uri":"file:///x"}},
                    {"id":7,"result":{}}]"#
            ),
            Ok(vec![
                call("tools/call", Some(Target::Tool("t".into()))),
                call("prompts/get", Some(Target::Prompt("p".into()))),
                call("resources/read", Some(Target::Resource("file:///x".into()))),
                Message::Response,
            ])
        );
    }

    #[test]
    fn what_is_not_json_rpc_is_refused() {
        for (body, error) in [
            (&b"{\"method\": \"tools/call\""[..], RequestError::NotJson),
            (b"", RequestError::NotJson),
            (b"\xff", RequestError::NotJson),
            (b"{} x", RequestError::NotJson),
            (b"[]", RequestError::EmptyBatch),
            (b"\"tools/call\"", RequestError::NotJsonRpc),
            (b"null", RequestError::NotJsonRpc),
            (b"{}", RequestError::NotJsonRpc),
            (b"[[{\"method\":\"ping\"}]]", RequestError::NotJsonRpc),
            (b"[{\"method\":\"ping\"}, 1]", RequestError::NotJsonRpc),
            (b"{\"method\":1}", RequestError::NotJsonRpc),
            (b"{\"method\":null}", RequestError::NotJsonRpc),
            (
                b"{\"id\":1,\"result\":1,\"error\":{}}",
                RequestError::NotJsonRpc,
            ),
            (b"{\"method\":\"tools/call\"}", RequestError::NotJsonRpc),
            (
                b"{\"method\":\"tools/call\",\"params\":{\"name\":3}}",
                RequestError::NotJsonRpc,
            ),
            (
                b"{\"method\":\"resources/read\",\"params\":{\"name\":\"x\"}}",
                RequestError::NotJsonRpc,
            ),
        ] {
            assert_eq!(peek(body), Err(error), "{}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn duplicate_members_are_refused_at_every_depth() {
        for body in [
            &br#"{"method":"ping","method":"tools/call","params":{"name":"t"}}"#[..],
            br#"{"method":"tools/call","params":{"name":"open","name":"admin"}}"#,
            br#"[{"method":"ping"},{"method":"x","params":{"a":[{"b":1,"b":2}]}}]"#,
        ] {
            assert_eq!(peek(body), Err(RequestError::DuplicateMember));
        }
    }

    #[test]
    fn escapes_are_read_like_the_server_reads_them() {
        assert_eq!(
            peek(br#"{"method":"tools\/call","params":{"name":"p\u0075rge"}}"#),
            Ok(vec![call("tools/call", Some(Target::Tool("purge".into())))])
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000);
        assert_eq!(peek(deep.as_bytes()), Err(RequestError::NotJson));
    }
}
