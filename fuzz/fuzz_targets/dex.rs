#![no_main]
//! Fuzz target `dex`: the checks of `fuzz_replay::check_dex`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_dex(data));
