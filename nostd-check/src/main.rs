//! Links the core crates into a binary without `std`. If any of them (or a
//! dependency) pulls in `std`, this fails to build with a duplicate
//! `panic_impl` lang item or a missing `eh_personality`. The calls below make
//! sure the parsers, the transit writer and the injector are really linked.
#![no_std]
#![no_main]

use ioam_wire::prelude::*;
use ioam_wire::Mode;
use core::panic::PanicInfo;

use clt_context::injector::{HopByHopInjector, BODY_OFFSET};
use clt_context::{traceparent, CltView, CLT_SCHEMA_ID};
use ioam_trace::writer::{write_transit, TransitConfig};
use ioam_trace::{NodeData, Trace, TraceType};
use ioam_wire::packet::IoamOptions;

// The C runtime provides `_start` and `__libc_start_main`; nothing else of libc is used.
#[link(name = "c")]
extern "C" {}

/// The precompiled `core` refers to an unwinding personality routine even
/// with `panic = "abort"`; nothing ever unwinds here, so it is never called.
#[no_mangle]
pub extern "C" fn rust_eh_personality() {}

#[panic_handler]
fn panic(_info: &PanicInfo<'_>) -> ! {
    loop {}
}

/// C entry point; the C runtime calls this. Returns 0 when every step worked.
#[no_mangle]
pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
    match run() {
        Some(()) => 0,
        None => 1,
    }
}

fn run() -> Option<()> {
    let tp = traceparent::parse(core::hint::black_box(
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ))
    .ok()?;
    let t = TraceType::HOP_LIM_NODE_ID | TraceType::OPAQUE_STATE;
    let me = NodeData {
        hop_limit: 64,
        node_id: 1,
        ..NodeData::unavailable()
    };
    let injector = HopByHopInjector { namespace_id: 123, trace_type: t, extra_hops: 2, sender: me, ctx: tp.ctx, ..Default::default() };
    let hbh = injector.build().ok()?;
    let body_end = BODY_OFFSET + injector.layout().ok()?.body_len;

    // An IPv6/UDP packet carrying the header, walked by the packet scanner.
    let mut packet = [0u8; 256];
    let hbh = hbh.as_bytes();
    let total = 40 + hbh.len() + 8;
    packet[0] = 0x60;
    packet[4..6].copy_from_slice(&((hbh.len() + 8) as u16).to_be_bytes());
    packet[6] = 0;
    packet[7] = 64;
    packet[40..40 + hbh.len()].copy_from_slice(hbh);
    packet[40] = 17;
    let found = IoamOptions::new(&packet[..total], Mode::Strict)
        .ok()?
        .count();

    let router = NodeData {
        hop_limit: 63,
        node_id: 2,
        ..NodeData::unavailable()
    };
    let body = &mut packet[40 + BODY_OFFSET..40 + body_end];
    write_transit(body, 123, &router, &TransitConfig::default()).ok()?;
    let trace = Trace::parse_preallocated(body, Mode::Strict).ok()?;
    let view = CltView::new(trace, CLT_SCHEMA_ID);
    let ok = found == 1 && view.context().context() == Some(tp.ctx);
    ok.then_some(())
}
