#![no_main]
//! Fuzz target `injector`: the checks of `fuzz_replay::check_injector`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_injector(data));
