//! The agent's per-packet work without its threads and I/O: for every
//! packet of a LINKTYPE_RAW pcap, `clt_otlp::SpanBuilder::packet` (locate
//! the traces, read the CLT context and every hop, build the `IoamSpan`
//! with its collector attributes), and per batch of 512 spans the OTLP
//! protobuf request body (`clt_otlp::proto::RequestEncoder`, as the
//! exporter keeps one), on one core. Spent spans lend their buffers to the
//! next ones (`clt_otlp::span::SpanBatch`), as in the agent, where the
//! export thread hands them back.
//! `benches/agent_throughput.sh` runs it beside `ioam agent --read`.
//!
//! ```text
//! span_core <capture.pcap>
//! ```

use std::process::ExitCode;
use std::time::Instant;

use clt_otlp::proto::{RequestEncoder, Resource};
use clt_otlp::{SpanBatch, SpanBuilder, SpanConfig};

/// The agent's default batch size.
const BATCH: usize = 512;

fn u32_at(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let w: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
    Some(if le {
        u32::from_le_bytes(w)
    } else {
        u32::from_be_bytes(w)
    })
}

/// The packets of a LINKTYPE_RAW pcap.
fn packets(data: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    let le = match data.get(..4) {
        Some([0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1]) => true,
        Some([0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d]) => false,
        _ => return Err("not a pcap file"),
    };
    if u32_at(data, 20, le) != Some(101) {
        return Err("link type must be RAW (101)");
    }
    let mut out = Vec::new();
    let mut pos = 24;
    while let Some(caplen) = u32_at(data, pos + 8, le) {
        let from = pos + 16;
        let Some(p) = data.get(from..from + caplen as usize) else {
            break;
        };
        out.push(p);
        pos = from + caplen as usize;
    }
    Ok(out)
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: span_core <capture.pcap>");
        return ExitCode::FAILURE;
    };
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let packets = match packets(&data) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let builder = SpanBuilder::new(SpanConfig::default());
    let resource = Resource::new("span_core");
    let n = packets.len() as f64;
    let report = |what: &str, secs: f64, spans: u64, bytes: usize| {
        println!(
            "span_core {what}: {n} packets, {spans} spans in {secs:.3} s: {:.0} packets/s, \
             {:.1} ns/packet, {:.1} ns/span, {bytes} bytes of protobuf",
            n / secs,
            secs * 1e9 / n.max(1.0),
            secs * 1e9 / (spans.max(1) as f64),
        );
    };
    // Spans only, then spans and the request bodies.
    for encode in [false, true] {
        let mut batch = SpanBatch::default();
        let mut encoder = RequestEncoder::default();
        let (mut spans, mut bytes) = (0u64, 0usize);
        let start = Instant::now();
        for p in &packets {
            builder.packet(p, 0, &mut batch);
            if batch.spans.len() >= BATCH {
                spans += batch.spans.len() as u64;
                if encode {
                    bytes += encoder.encode(&resource, &batch.spans).len();
                }
                batch.spare.append(&mut batch.spans);
            }
        }
        spans += batch.spans.len() as u64;
        if encode && !batch.spans.is_empty() {
            bytes += encoder.encode(&resource, &batch.spans).len();
        }
        let secs = start.elapsed().as_secs_f64();
        report(
            if encode {
                "decode -> span -> protobuf"
            } else {
                "decode -> span"
            },
            secs,
            spans,
            bytes,
        );
    }
    ExitCode::SUCCESS
}
