#![no_main]
//! Fuzz target `craft_args`: the checks of `fuzz_replay::check_craft_args`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_craft_args(data));
