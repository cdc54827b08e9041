#![no_main]
//! Fuzz target `pot`: the checks of `fuzz_replay::check_pot`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_pot(data));
