//! Fuzz target `introspection`: see `bearer_guard::fuzzing::introspection`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::introspection(data));
