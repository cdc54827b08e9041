//! A Linux-like IOAM transit router in one process, for differential tests
//! against the kernel (the interop suite).
//!
//! Reads one whole IPv6 packet as hex on stdin (whitespace ignored), adds
//! this node's record to every Pre-allocated Trace option (option code
//! 0x31) of the chosen namespace in the Hop-by-Hop header, as
//! `net/ipv6/ioam6.c` does, decrements the IPv6 Hop Limit like a forwarding
//! router, and prints the resulting packet as hex on stdout. What happened
//! to each trace goes to stderr.
//!
//! ```text
//! cargo run -q -p ioam-trace --example transit -- --ns 123 --node-id 1 \
//!     --in-if-id 11 --out-if-id 12 --ns-data 0xdeadbeef < packet.hex
//! ```
//!
//! Flags (numbers in decimal or `0x` hex; unset values take the Linux
//! defaults):
//!
//! | flag | field | default |
//! |---|---|---|
//! | `--ns N` | namespace the node is configured for (required) | |
//! | `--hop-limit-from-packet` | hop limit written = packet Hop Limit - 1 (Linux input path) | yes |
//! | `--hop-limit N` | hop limit written, as is | |
//! | `--node-id N` | bit 0 node id (`net.ipv6.ioam6_id`) | 0xffffff |
//! | `--node-id-wide N` | bit 8 node id (`net.ipv6.ioam6_id_wide`) | 2^56-1 |
//! | `--in-if-id N` / `--out-if-id N` | bit 1 (`conf.<if>.ioam6_id`) | 0xffff |
//! | `--in-if-id-wide N` / `--out-if-id-wide N` | bit 9 (`conf.<if>.ioam6_id_wide`) | 0xffffffff |
//! | `--ns-data N` / `--ns-data-wide N` | bits 5 and 10 (namespace `data` / `wide`) | all ones |
//! | `--schema-id N` / `--schema-data HEX` | bit 22 (`ip ioam schema`); without a schema the word 0x00ffffff | none |
//! | `--timestamp-secs N` / `--timestamp-frac N` | bits 2 and 3 (POSIX seconds, microseconds) | now |
//! | `--queue-depth N` | bit 6 (qdisc backlog in bytes) | 0 |
//! | `--local` | delivered locally: egress ids and queue depth unavailable | off |
//! | `--undefined-no-data` | bits 12-21: add no data (RFC 9197 option 2) instead of 0xffffffff words | off |
//! | `--lenient` | accept an empty trace type like the kernel | off |
//! | `--prepared` | write through `PreparedRecord` + `write_transit_hbh_prepared` (the per-node fast path), the record prepared for the trace type of the first Pre-allocated Trace | off |
//!
//! Exit status: 0 with the packet on stdout; 1 when Linux would drop the
//! packet (malformed IOAM option or trace, Hop Limit exhausted), with the
//! reason on stderr; 2 for bad arguments or input.

use std::io::Read;
use std::process::ExitCode;

use ioam_trace::writer::{NodeData, TransitConfig, TransitOutcome, UndefinedFill};
use ioam_trace::{
    write_transit_hbh, write_transit_hbh_prepared, IoamPacket, PreparedRecord, TraceError,
    TraceHeader,
};
use ioam_wire::ext::ExtKind;
use ioam_wire::ioam::IoamType;
use ioam_wire::Mode;

/// Node values and switches from the command line.
struct Args {
    ns: u16,
    hop_limit: Option<u8>,
    node: NodeData<'static>,
    schema: Option<(u32, Vec<u8>)>,
    local: bool,
    explicit_egress: [bool; 3],
    cfg: TransitConfig,
    prepared: bool,
}

fn parse_num(flag: &str, v: Option<String>) -> Result<u64, String> {
    let v = v.ok_or_else(|| format!("{flag} needs a value"))?;
    let r = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => v.parse(),
    };
    r.map_err(|e| format!("{flag} {v}: {e}"))
}

fn fit<T: TryFrom<u64>>(flag: &str, v: u64) -> Result<T, String> {
    T::try_from(v).map_err(|_| format!("{flag} {v:#x} does not fit the field"))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|p| {
            let s = core::str::from_utf8(p).map_err(|e| e.to_string())?;
            u8::from_str_radix(s, 16).map_err(|e| format!("bad hex {s:?}: {e}"))
        })
        .collect()
}

fn parse_args() -> Result<Args, String> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut a = Args {
        ns: 0,
        hop_limit: None,
        node: NodeData {
            timestamp_secs: now.as_secs() as u32,
            timestamp_frac: now.subsec_micros(),
            queue_depth: 0,
            ..NodeData::unavailable()
        },
        schema: None,
        local: false,
        explicit_egress: [false; 3],
        cfg: TransitConfig::default(),
        prepared: false,
    };
    let mut ns = None;
    let mut schema_id = None;
    let mut schema_data = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let f = flag.as_str();
        match f {
            "--hop-limit-from-packet" => a.hop_limit = None,
            "--local" => a.local = true,
            "--undefined-no-data" => a.cfg.undefined_bits = UndefinedFill::NoData,
            "--lenient" => a.cfg.mode = Mode::Lenient,
            "--prepared" => a.prepared = true,
            "--schema-data" => {
                schema_data = parse_hex(&it.next().ok_or("--schema-data needs a value")?)?
            }
            "-h" | "--help" => return Err(String::new()),
            _ => {
                let v = parse_num(f, it.next())?;
                match f {
                    "--ns" => ns = Some(fit::<u16>(f, v)?),
                    "--hop-limit" => a.hop_limit = Some(fit(f, v)?),
                    "--node-id" => a.node.node_id = fit(f, v)?,
                    "--node-id-wide" => a.node.node_id_wide = v,
                    "--in-if-id" => a.node.ingress_if_id = fit(f, v)?,
                    "--out-if-id" => {
                        a.node.egress_if_id = fit(f, v)?;
                        a.explicit_egress[0] = true;
                    }
                    "--in-if-id-wide" => a.node.ingress_if_id_wide = fit(f, v)?,
                    "--out-if-id-wide" => {
                        a.node.egress_if_id_wide = fit(f, v)?;
                        a.explicit_egress[1] = true;
                    }
                    "--ns-data" => a.node.namespace_data = fit(f, v)?,
                    "--ns-data-wide" => a.node.namespace_data_wide = v,
                    "--schema-id" => schema_id = Some(fit::<u32>(f, v)?),
                    "--timestamp-secs" => a.node.timestamp_secs = fit(f, v)?,
                    "--timestamp-frac" => a.node.timestamp_frac = fit(f, v)?,
                    "--queue-depth" => {
                        a.node.queue_depth = fit(f, v)?;
                        a.explicit_egress[2] = true;
                    }
                    _ => return Err(format!("unknown flag {f}")),
                }
            }
        }
    }
    a.ns = ns.ok_or("--ns is required")?;
    if a.local {
        // Linux: the egress device is loopback when the packet is delivered locally.
        if !a.explicit_egress[0] {
            a.node.egress_if_id = 0xffff;
        }
        if !a.explicit_egress[1] {
            a.node.egress_if_id_wide = 0xffff_ffff;
        }
        if !a.explicit_egress[2] {
            a.node.queue_depth = 0xffff_ffff;
        }
    }
    if let Some(id) = schema_id {
        a.schema = Some((id, schema_data));
    } else if !schema_data.is_empty() {
        return Err("--schema-data needs --schema-id".into());
    }
    Ok(a)
}

fn run() -> Result<Vec<u8>, (u8, String)> {
    let args = parse_args().map_err(|e| {
        let usage =
            "usage: transit --ns N [--hop-limit-from-packet | --hop-limit N] [--node-id N] \
                     [--node-id-wide N] [--in-if-id N] [--out-if-id N] [--in-if-id-wide N] \
                     [--out-if-id-wide N] [--ns-data N] [--ns-data-wide N] [--schema-id N \
                     [--schema-data HEX]] [--timestamp-secs N] [--timestamp-frac N] \
                     [--queue-depth N] [--local] [--undefined-no-data] [--lenient] [--prepared] \
                     < packet.hex";
        (
            2,
            if e.is_empty() {
                usage.into()
            } else {
                format!("{e}\n{usage}")
            },
        )
    })?;
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| (2, format!("stdin: {e}")))?;
    let mut packet = parse_hex(&input).map_err(|e| (2, e))?;
    if packet.len() < 40 {
        return Err((2, "packet shorter than an IPv6 header".into()));
    }

    let received_hop_limit = packet[7];
    let node = NodeData {
        hop_limit: args
            .hop_limit
            .unwrap_or(NodeData::linux_hop_limit(received_hop_limit)),
        oss: args.schema.as_ref().map(|(id, d)| (*id, &d[..])),
        ..args.node
    };
    let report = |off: usize, outcome: TransitOutcome| match outcome {
        TransitOutcome::Written { offset, len } => {
            eprintln!("trace at {off}: wrote {len} bytes at {}", off + offset)
        }
        other => eprintln!("trace at {off}: {other:?}"),
    };
    if args.prepared {
        transit_prepared(&mut packet, args.ns, &node, &args.cfg, report)
            .map_err(|e| (1, format!("drop: {e}")))?;
    } else {
        write_transit_hbh(&mut packet, args.ns, &node, &args.cfg, report)
            .map_err(|e| (1, format!("drop: {e}")))?;
    }
    if received_hop_limit <= 1 {
        return Err((1, "drop: hop limit exceeded".into()));
    }
    packet[7] = received_hop_limit - 1;
    Ok(packet)
}

/// The per-node fast path: the record is prepared once for the trace type
/// of the first Pre-allocated Trace of the Hop-by-Hop header, then copied
/// into every Pre-allocated Trace by `write_transit_hbh_prepared` (a trace
/// of another type is reported as skipped).
fn transit_prepared(
    packet: &mut [u8],
    ns: u16,
    node: &NodeData<'_>,
    cfg: &TransitConfig,
    report: impl FnMut(usize, TransitOutcome),
) -> Result<usize, TraceError> {
    let first = IoamPacket::new(packet, Mode::Strict)?
        .filter_map(Result::ok)
        .find(|i| i.header == ExtKind::HopByHop && i.ioam_type() == IoamType::PreallocatedTrace);
    let Some(first) = first else {
        return Ok(0);
    };
    let trace_type = TraceHeader::new_checked(first.option.body)
        .map_err(|e| e.with_base(first.body_offset()))?
        .trace_type();
    let rec = PreparedRecord::new(trace_type, node, cfg)?;
    write_transit_hbh_prepared(packet, ns, &rec, report)
}

fn main() -> ExitCode {
    match run() {
        Ok(p) => {
            let hex: String = p.iter().map(|b| format!("{b:02x}")).collect();
            println!("{hex}");
            ExitCode::SUCCESS
        }
        Err((code, msg)) => {
            eprintln!("{msg}");
            ExitCode::from(code)
        }
    }
}
