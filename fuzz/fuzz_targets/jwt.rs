//! Fuzz target `jwt`: see `bearer_guard::fuzzing::jwt`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::jwt(data));
