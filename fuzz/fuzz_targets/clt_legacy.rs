#![no_main]
//! Fuzz target `clt_legacy`: the checks of `fuzz_replay::check_clt_legacy`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_clt_legacy(data));
