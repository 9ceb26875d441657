//! Fuzz target `store`: see `bearer_guard::fuzzing::store`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::store(data));
