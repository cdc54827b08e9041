#![no_main]
//! Fuzz target `traceparent`: the checks of `fuzz_replay::check_traceparent`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_traceparent(data));
