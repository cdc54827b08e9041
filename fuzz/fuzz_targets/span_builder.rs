#![no_main]
//! Fuzz target `span_builder`: the checks of `fuzz_replay::check_span_builder`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_span_builder(data));
