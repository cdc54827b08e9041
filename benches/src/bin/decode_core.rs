//! The core crates alone over a whole capture: for every packet of a
//! LINKTYPE_RAW pcap (what `ioam craft` writes by default), locate and
//! validate the trace, read every field of every record, and look up the
//! CLT context, without building any output. This is the part of
//! `ioam decode` that the core crates do; `benches/decode_throughput.sh`
//! runs it beside the CLI to show what the rest costs.
//!
//! ```text
//! decode_core <capture.pcap>
//! ```

use std::process::ExitCode;
use std::time::Instant;

use clt_context::{find_context, CLT_SCHEMA_ID};

/// Reads a little- or big-endian u32 at `at`.
fn u32_at(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    })
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: decode_core <capture.pcap>");
        return ExitCode::FAILURE;
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let le = match data.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => true,
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => false,
        _ => {
            eprintln!("{path}: not a pcap file");
            return ExitCode::FAILURE;
        }
    };
    if u32_at(&data, 20, le) != Some(101) {
        eprintln!("{path}: link type must be RAW (101)");
        return ExitCode::FAILURE;
    }
    let start = Instant::now();
    let (mut packets, mut traces, mut contexts, mut acc) = (0u64, 0u64, 0u64, 0u64);
    let mut pos = 24;
    while let Some(caplen) = u32_at(&data, pos + 8, le) {
        let from = pos + 16;
        let Some(packet) = data.get(from..from + caplen as usize) else {
            break;
        };
        pos = from + caplen as usize;
        packets += 1;
        if let Some(t) = ioam_benches::locate_trace(packet) {
            traces += 1;
            acc = acc.wrapping_add(ioam_benches::iterate_fields(&t));
            if find_context(&t, CLT_SCHEMA_ID).context().is_some() {
                contexts += 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "decode_core: {packets} packets, {traces} traces, {contexts} CLT contexts in {secs:.3} s: \
         {:.0} packets/s, {:.1} ns/packet (checksum {acc:x})",
        packets as f64 / secs,
        secs * 1e9 / packets.max(1) as f64
    );
    ExitCode::SUCCESS
}
