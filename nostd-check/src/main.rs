//! Links the core crates into a binary without `std`. If any of them (or a
//! dependency) pulls in `std`, this fails to build with a duplicate
//! `panic_impl` lang item or a missing `eh_personality`.
#![no_std]
#![no_main]

use core::panic::PanicInfo;

// Force each core crate into the link even before the calls below use it.
extern crate clt_context;
extern crate ioam_trace;
extern crate ioam_wire;

// The C runtime provides `_start` and `__libc_start_main`; nothing else of libc is used.
#[link(name = "c")]
extern "C" {}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// C entry point; the C runtime calls this.
#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    let packet = core::hint::black_box([0u8; 64]);
    let n = core::hint::black_box(&packet).len();
    n as i32 - 64 + nostd_touch()
}

fn nostd_touch() -> i32 {
    0
}
