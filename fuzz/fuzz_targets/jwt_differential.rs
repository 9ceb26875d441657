//! Fuzz target `jwt_differential`: see `bearer_guard::fuzzing::jwt_differential`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::jwt_differential(data));
