#![no_main]
//! Fuzz target `ext_headers`: the checks of `fuzz_replay::check_ext_headers`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_ext_headers(data));
