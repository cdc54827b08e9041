#![no_main]
//! Fuzz target `incremental_insert`: the checks of `fuzz_replay::check_incremental_insert`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_incremental_insert(data));
