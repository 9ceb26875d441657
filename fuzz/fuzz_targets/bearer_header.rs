//! Fuzz target `bearer_header`: see `bearer_guard::fuzzing::bearer_header`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::bearer_header(data));
