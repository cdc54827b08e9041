#![no_main]
//! Fuzz target `options`: the checks of `fuzz_replay::check_options`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_options(data));
