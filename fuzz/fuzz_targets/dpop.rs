//! Fuzz target `dpop`: see `bearer_guard::fuzzing::dpop`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::dpop(data));
