#![no_main]
//! Fuzz target `decode`: the checks of `fuzz_replay::check_decode`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_decode(data));
