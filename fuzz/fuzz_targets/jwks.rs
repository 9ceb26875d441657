//! Fuzz target `jwks`: see `bearer_guard::fuzzing::jwks`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::jwks(data));
