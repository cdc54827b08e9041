#![no_main]
//! Fuzz target `hbh_insert_remove`: the checks of `fuzz_replay::check_hbh_insert_remove`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_hbh_insert_remove(data));
