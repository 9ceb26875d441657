//! Claims by name, or by RFC 6901 JSON Pointer.

use serde_json::{Map, Value};

/// A claim by name, or by RFC 6901 JSON Pointer when `path` starts with `/`.
pub(crate) fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let Some(pointer) = path.strip_prefix('/') else {
        return map.get(path);
    };
    let (first, rest) = match pointer.find('/') {
        Some(i) => (pointer.get(..i)?, pointer.get(i..)?),
        None => (pointer, ""),
    };
    let first = first.replace("~1", "/").replace("~0", "~");
    map.get(&first)?.pointer(rest)
}
