//! Fuzz target `jsonrpc`: see `bearer_guard::fuzzing::jsonrpc`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::jsonrpc(data));
