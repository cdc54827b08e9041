#![no_main]
//! Fuzz target `e2e`: the checks of `fuzz_replay::check_e2e`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_e2e(data));
