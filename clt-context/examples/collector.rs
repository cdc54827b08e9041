//! A CLT collector in a few lines: an IPv6 packet in, its W3C traceparent
//! and every hop's node id out.
//!
//! ```text
//! cargo run -p clt-context --example collector            # a packet Linux routers filled
//! cargo run -p clt-context --example collector -- <hex of an IPv6 packet>
//! ```
//!
//! The built-in packet is frame 4 of `data/sample-linux.pcap`: a trace of
//! type 0x800002 sent through three Linux 6.18 IOAM routers.

use clt_context::{CltView, IoamPacket, Mode, OptionBody, CLT_SCHEMA_ID};

const LINUX_PACKET: &str = "60074e240083003d20010db800010000000000000000000120010db800040000\
    0000000000000002110a0100314e0000007b0800800002003d0a000302005eed7233646174610000\
    3e0a000200ffffff3f0a000100ffffff405e000107434c544bf92f3577b34da6a3ce929d0e0e4736\
    00f067aa0ba902040100000001020000a8bb270f002bfd80696f616d2d696e7465726f702073616d\
    706c6520342074797065203078383030303032";

fn main() -> Result<(), Box<dyn core::error::Error>> {
    let hex = std::env::args()
        .nth(1)
        .unwrap_or_else(|| LINUX_PACKET.into());
    let packet = unhex(&hex).ok_or("the argument is not an even number of hex digits")?;

    for item in IoamPacket::new(&packet, Mode::Strict)? {
        if let OptionBody::PreallocatedTrace(trace) = item?.body()? {
            let clt = CltView::new(trace, CLT_SCHEMA_ID);
            if let Some(ctx) = clt.context().context() {
                println!("traceparent {ctx}");
            }
            for hop in clt.hops() {
                let hop = hop?;
                println!("hop {} node {:?}", hop.index(), hop.record().node_id());
            }
        }
    }
    Ok(())
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
