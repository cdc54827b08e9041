#![no_main]
//! Fuzz target `capture_file`: the checks of `fuzz_replay::check_capture_file`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_capture_file(data));
