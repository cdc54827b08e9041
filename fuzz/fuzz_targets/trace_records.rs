#![no_main]
//! Fuzz target `trace_records`: the checks of `fuzz_replay::check_trace_records`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_trace_records(data));
