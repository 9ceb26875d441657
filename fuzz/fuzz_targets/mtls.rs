//! Fuzz target `mtls`: see `bearer_guard::fuzzing::mtls`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::mtls(data));
