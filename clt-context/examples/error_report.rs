//! What a malformed packet looks like to a collector: every error on one
//! line, and the same facts (layer, rule, offset in the packet, hop,
//! lengths) through `Diagnostic`.
//!
//! ```text
//! cargo run -p clt-context --example error_report            # a damaged Linux packet
//! cargo run -p clt-context --example error_report -- <hex of an IPv6 packet>
//! ```
//!
//! The built-in packet is frame 4 of `data/sample-linux.pcap` with the
//! originator's opaque state Length raised from 7 to 9 words: the record
//! walk runs past the end of the trace at the oldest record.

use clt_context::prelude::*;
use clt_context::{IoamPacket, Mode};

const DAMAGED_PACKET: &str = "60074e240083003d20010db800010000000000000000000120010db800040000\
    0000000000000002110a0100314e0000007b0800800002003d0a000302005eed7233646174610000\
    3e0a000200ffffff3f0a000100ffffff405e000109434c544bf92f3577b34da6a3ce929d0e0e4736\
    00f067aa0ba902040100000001020000a8bb270f002bfd80696f616d2d696e7465726f702073616d\
    706c6520342074797065203078383030303032";

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let hex = std::env::args()
        .nth(1)
        .unwrap_or_else(|| DAMAGED_PACKET.into());
    let packet = unhex(&hex).ok_or("the argument is not an even number of hex digits")?;

    let walk = match IoamPacket::new(&packet, Mode::Strict) {
        Ok(walk) => walk,
        Err(e) => {
            report(&e);
            return Ok(());
        }
    };
    for item in walk {
        let body = match item.and_then(|i| i.body()) {
            Ok(body) => body,
            Err(e) => {
                report(&e);
                continue;
            }
        };
        if let Some(trace) = body.trace() {
            for record in trace.records() {
                if let Err(e) = record {
                    report(&e);
                }
            }
        }
    }
    Ok(())
}

fn report(e: &impl Diagnostic) {
    println!("error: {e}");
    println!("  layer:  {}", e.layer());
    println!("  rule:   {}", e.rule());
    if let Some(offset) = e.offset() {
        println!("  offset: {offset} (from the first byte of the IPv6 header)");
    }
    if let Some(hop) = e.hop() {
        println!("  hop:    record {hop} in wire order (0 is the last router's)");
    }
    if let Some(l) = e.lengths() {
        println!("  bytes:  {} required, {} present", l.required, l.actual);
    }
}

/// Bytes of a hex string (white space ignored).
fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    digits
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(*p.get(1)?)?))
        .collect()
}
