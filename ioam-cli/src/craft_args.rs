//! `ioam craft`: its arguments and how they become packets and a capture
//! (the packets are built by [`crate::craft`]). In the library so that the
//! argument handling is fuzzed (`fuzz/fuzz_targets/craft_args.rs`): every
//! argument is checked before anything is allocated or built.

use core::net::Ipv6Addr;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};

use crate::args::{parse_schema_id, parse_u16, parse_u32};
use crate::craft::{random, trace_packet, write_capture, LinkType, TraceSpec};
use ioam_capture::file::Timestamp;
use ioam_trace::TraceType;

/// `--linktype`: the names of [`LinkType::name`].
fn parse_linktype(s: &str) -> Result<LinkType, String> {
    LinkType::from_name(s).ok_or_else(|| {
        let names: Vec<_> = LinkType::ALL.iter().map(|l| l.name()).collect();
        format!("expected one of {}", names.join(", "))
    })
}

/// Arguments of `ioam craft`.
#[derive(Debug, Clone, clap::Args)]
pub struct CraftArgs {
    /// Output capture (`-` for standard output).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Link type of the capture.
    #[arg(long, default_value = "raw", value_parser = parse_linktype)]
    pub linktype: LinkType,
    /// Add an 802.1Q VLAN tag with this TCI (Ethernet only).
    #[arg(long, value_name = "TCI", value_parser = parse_u16)]
    pub vlan: Option<u16>,
    /// Write pcapng instead of pcap.
    #[arg(long)]
    pub pcapng: bool,
    /// IOAM namespace.
    #[arg(long, default_value = "123", value_parser = parse_u16)]
    pub ns: u16,
    /// IOAM trace type (24 bits).
    #[arg(long, default_value = "0x800002", value_parser = parse_u32)]
    pub trace_type: u32,
    /// Node-data space in bytes (multiple of 4, at most 244); default: room
    /// for the originator and every hop (capped at 244).
    #[arg(long, value_name = "BYTES")]
    pub space: Option<usize>,
    /// W3C traceparent whose span context the originator puts in its opaque
    /// state snapshot (needs trace type bit 22, 0x000002).
    #[arg(long, value_name = "TRACEPARENT")]
    pub traceparent: Option<String>,
    /// Schema ID of the CLT opaque state.
    #[arg(long, default_value = "0x434c54", value_parser = parse_schema_id)]
    pub clt_schema_id: u32,
    /// Put the span context in the legacy CLT header (24 bytes after the
    /// trace header) instead of the opaque state snapshot.
    #[arg(long, requires = "traceparent")]
    pub legacy_clt: bool,
    /// Do not write an originator record (the packet leaves empty).
    #[arg(long)]
    pub no_originator: bool,
    /// Node id of the originator.
    #[arg(long, default_value = "1", value_parser = parse_u32)]
    pub originator_id: u32,
    /// Number of simulated transit hops.
    #[arg(long, default_value_t = 3)]
    pub hops: usize,
    /// Node ids of the transit hops, in path order (default 2, 3, ...).
    #[arg(long, value_name = "ID,...", value_delimiter = ',', value_parser = parse_u32)]
    pub node_id: Vec<u32>,
    /// Number of packets.
    #[arg(long, default_value_t = 1)]
    pub count: usize,
    /// Source address.
    #[arg(long, default_value = "2001:db8::1")]
    pub src: Ipv6Addr,
    /// Destination address.
    #[arg(long, default_value = "2001:db8::2")]
    pub dst: Ipv6Addr,
    /// Hop limit the packet leaves the originator with.
    #[arg(long, default_value_t = 64)]
    pub hop_limit: u8,
    /// Capture time of the first packet, seconds since the Unix epoch
    /// (packets follow 1 ms apart; node timestamps derive from it).
    #[arg(long, default_value_t = 1_700_000_000)]
    pub time: u32,
    /// Write a reproducible corpus of valid and malformed packets of every
    /// IOAM option type instead.
    #[arg(long)]
    pub random: bool,
    /// Seed of the random corpus.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn packet_time(base: u32, index: usize) -> Timestamp {
    Timestamp {
        secs: i64::from(base) + (index / 1000) as i64,
        nanos: ((index % 1000) * 1_000_000) as u32,
    }
}

/// The most records a trace holds: 244 bytes of node data (RFC 9486 §4),
/// at least 4 bytes a record.
const MAX_HOPS: usize = 61;

/// Run `ioam craft`: the capture goes to `--output` (a file, or `-` for
/// standard output).
pub fn run(args: &CraftArgs) -> Result<()> {
    let crafted = if args.output.as_os_str() == "-" {
        craft_into(args, || Ok(std::io::stdout().lock()))?
    } else {
        let path = &args.output;
        craft_into(args, || {
            let f = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
            Ok(std::io::BufWriter::new(f))
        })
        .with_context(|| format!("{}", path.display()))?
    };
    if let Some(summary) = crafted.summary {
        eprintln!("ioam craft: {summary}");
    }
    Ok(())
}

/// Check every argument, then build the packets one at a time and stream
/// them as a capture into the writer `open` gives (called only once the
/// arguments and the first packet are known to be good, so that a refused
/// spec leaves no file behind). Returns the number of packets written.
/// `args.output` is not used.
pub fn craft_into<W: std::io::Write>(
    args: &CraftArgs,
    open: impl FnOnce() -> Result<W>,
) -> Result<Crafted> {
    if let Some(space) = args.space {
        if space > 244 || space % 4 != 0 {
            bail!("--space {space}: a trace's node data is a multiple of 4 of at most 244 bytes (RFC 9486 §4)");
        }
    }
    if args.hops > MAX_HOPS {
        bail!(
            "--hops {}: a trace holds at most {MAX_HOPS} records (244 bytes of node data, RFC 9486 §4)",
            args.hops
        );
    }
    let written = if args.random {
        let mut counts = std::collections::BTreeMap::<&str, usize>::new();
        let packets =
            random::corpus_iter(args.seed, args.count)
                .enumerate()
                .map(|(i, (p, label))| {
                    *counts.entry(label).or_default() += 1;
                    Ok((packet_time(args.time, i), p))
                });
        let n = write_capture(open()?, args.linktype, args.vlan, args.pcapng, packets)?;
        let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
        return Ok(Crafted {
            packets: n,
            summary: Some(format!(
                "{n} packets from seed {}: {}",
                args.seed,
                summary.join(", ")
            )),
        });
    } else {
        let ctx = match &args.traceparent {
            Some(tp) => Some(
                clt_context::traceparent::parse(tp)
                    .map_err(|e| anyhow!("--traceparent: {e}"))?
                    .ctx,
            ),
            None => None,
        };
        let tt = TraceType::from_bits(args.trace_type).ok_or_else(|| {
            anyhow!(
                "--trace-type 0x{:x} does not fit in 24 bits",
                args.trace_type
            )
        })?;
        if ctx.is_some() && !args.legacy_clt && !tt.has_oss() {
            bail!(
                "--traceparent needs trace type bit 22 (0x000002) for the opaque state snapshot, or --legacy-clt"
            );
        }
        if args.node_id.len() > args.hops {
            bail!(
                "{} node ids given for {} hops (set --hops)",
                args.node_id.len(),
                args.hops
            );
        }
        let hops: Vec<u32> = (0..args.hops)
            .map(|j| args.node_id.get(j).copied().unwrap_or(j as u32 + 2))
            .collect();
        let spec = TraceSpec {
            ns: args.ns,
            trace_type: tt,
            space: args.space,
            ctx,
            schema_id: args.clt_schema_id,
            legacy: args.legacy_clt,
            originator: (!args.no_originator).then_some(args.originator_id),
            hops,
            src: args.src,
            dst: args.dst,
            hop_limit: args.hop_limit,
            time: args.time,
        };
        // The first packet is built before the output is created, so that a
        // spec the builders refuse leaves no file behind.
        let first = if args.count > 0 {
            Some(trace_packet(&spec, 0)?)
        } else {
            None
        };
        let packets = first
            .into_iter()
            .map(|p| Ok((packet_time(args.time, 0), p)))
            .chain(
                (1..args.count).map(|i| Ok((packet_time(args.time, i), trace_packet(&spec, i)?))),
            );
        write_capture(open()?, args.linktype, args.vlan, args.pcapng, packets)?
    };
    debug_assert!(written <= args.count);
    Ok(Crafted {
        packets: written,
        summary: None,
    })
}

/// What [`craft_into`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crafted {
    /// Packets written.
    pub packets: usize,
    /// For `--random`: the count of each kind of packet, one line.
    pub summary: Option<String>,
}
