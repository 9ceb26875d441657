//! Fuzz target `scopes`: see `bearer_guard::fuzzing::scopes`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::scopes(data));
