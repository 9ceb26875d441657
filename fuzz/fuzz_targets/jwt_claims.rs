//! Fuzz target `jwt_claims`: see `bearer_guard::fuzzing::jwt_claims`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::jwt_claims(data));
