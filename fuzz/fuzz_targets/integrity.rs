#![no_main]
//! Fuzz target `integrity`: the checks of `fuzz_replay::check_integrity`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_integrity(data));
