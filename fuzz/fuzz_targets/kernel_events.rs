#![no_main]
//! Fuzz target `kernel_events`: the checks of `fuzz_replay::check_kernel_events`.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| fuzz_replay::check_kernel_events(data));
