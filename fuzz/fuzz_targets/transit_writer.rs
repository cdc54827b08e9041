#![no_main]
//! Fuzz target `transit_writer`: the checks of `fuzz_replay::check_transit_writer`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_transit_writer(data));
