//! Fuzz target `discovery`: see `bearer_guard::fuzzing::discovery`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bearer_guard::fuzzing::discovery(data));
