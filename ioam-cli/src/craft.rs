//! The packets and captures behind `ioam craft`, for tests, demos and
//! benchmarks (the command and its arguments live in the binary).
//!
//! Two modes:
//! - a CLT-tagged trace: a pre-allocated trace (namespace, trace type,
//!   space) whose originator record carries the span context of a
//!   `traceparent`, then N simulated transit hops written by
//!   `ioam_trace::write_transit` (the same writer a router would run);
//! - `--random --seed S --count N`: a reproducible corpus mixing valid
//!   packets of every IOAM option type with malformed variants.
//!
//! Packets are assembled from the builders of the core crates
//! (`ioam_wire::build::OptionsBuilder`, the option reprs, the trace header
//! and node-record writers); the malformed variants are made by changing
//! bytes of valid packets at offsets found with the `ioam_wire` parsers.

use core::net::Ipv6Addr;
use std::io::Write;

use anyhow::{anyhow, bail, Result};

use clt_context::{oss, SpanContext};
use ioam_trace::encap::PreallocatedTraceBuilder;
use ioam_trace::{write_transit, NodeData, TraceType};
use ioam_trace::{TransitConfig, TransitOutcome};
use ioam_wire::build::{Body, OptionSpec, OptionsBuilder};
use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::ipv6::{Ipv6HeaderRepr, IPV6_HEADER_LEN};
use ioam_wire::proto;

use ioam_capture::file::{linktype, Timestamp};
use ioam_capture::link::ipv6_link_header;
use ioam_capture::write::{PcapNgWriter, PcapWriter};

/// Link types `ioam craft` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkType {
    /// LINKTYPE_RAW (101): the IPv6 packet alone.
    Raw,
    /// LINKTYPE_IPV6 (229).
    Ipv6,
    /// Ethernet II (1); `--vlan` adds an 802.1Q tag.
    Ethernet,
    /// BSD loopback, host byte order (0).
    Null,
    /// OpenBSD loopback, network byte order (108).
    Loop,
    /// Linux cooked capture v1 (113).
    Sll,
    /// Linux cooked capture v2 (276).
    Sll2,
}

impl LinkType {
    /// Every link type, in the order of their names.
    pub const ALL: [LinkType; 7] = [
        LinkType::Raw,
        LinkType::Ipv6,
        LinkType::Ethernet,
        LinkType::Null,
        LinkType::Loop,
        LinkType::Sll,
        LinkType::Sll2,
    ];

    /// The lowercase name (`raw`, `ipv6`, `ethernet`, `null`, `loop`,
    /// `sll`, `sll2`).
    pub fn name(self) -> &'static str {
        match self {
            LinkType::Raw => "raw",
            LinkType::Ipv6 => "ipv6",
            LinkType::Ethernet => "ethernet",
            LinkType::Null => "null",
            LinkType::Loop => "loop",
            LinkType::Sll => "sll",
            LinkType::Sll2 => "sll2",
        }
    }

    /// The link type of a [`LinkType::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }

    /// The LINKTYPE_ value.
    pub fn value(self) -> u32 {
        match self {
            LinkType::Raw => linktype::RAW,
            LinkType::Ipv6 => linktype::IPV6,
            LinkType::Ethernet => linktype::ETHERNET,
            LinkType::Null => linktype::NULL,
            LinkType::Loop => linktype::LOOP,
            LinkType::Sll => linktype::LINUX_SLL,
            LinkType::Sll2 => linktype::LINUX_SLL2,
        }
    }
}

/// A CLT-tagged trace to craft: what [`trace_packet`] builds.
#[derive(Debug, Clone)]
pub struct TraceSpec {
    /// Namespace.
    pub ns: u16,
    /// Trace type.
    pub trace_type: TraceType,
    /// Node-data space in bytes; `None` sizes it for every record.
    pub space: Option<usize>,
    /// Span context for the originator's snapshot.
    pub ctx: Option<SpanContext>,
    /// CLT schema id.
    pub schema_id: u32,
    /// Legacy CLT header instead of the snapshot.
    pub legacy: bool,
    /// Originator node id (`None`: no originator record).
    pub originator: Option<u32>,
    /// Transit node ids, path order.
    pub hops: Vec<u32>,
    /// Source address.
    pub src: Ipv6Addr,
    /// Destination address.
    pub dst: Ipv6Addr,
    /// Hop limit at the originator.
    pub hop_limit: u8,
    /// Base time (seconds) for node timestamps.
    pub time: u32,
}

/// The record the originator writes for packet `index`.
fn originator_data<'a>(spec: &TraceSpec, id: u32, index: usize, oss: &'a [u8]) -> NodeData<'a> {
    NodeData {
        hop_limit: spec.hop_limit,
        node_id: id,
        ingress_if_id: 0xffff,
        egress_if_id: 1,
        timestamp_secs: spec.time,
        timestamp_frac: ((index * 1000) % 1_000_000) as u32,
        transit_delay: 0xffff_ffff,
        namespace_data: id,
        queue_depth: 0,
        checksum_complement: 0xffff_ffff,
        node_id_wide: u64::from(id),
        ingress_if_id_wide: 0xffff_ffff,
        egress_if_id_wide: 1,
        namespace_data_wide: u64::from(id),
        buffer_occupancy: 0xffff_ffff,
        oss: if spec.ctx.is_some() && !spec.legacy {
            Some((spec.schema_id, oss))
        } else {
            None
        },
    }
}

/// The record transit hop `j` (1-based) writes; `received` is the hop limit
/// it received the packet with.
fn transit_data(
    spec: &TraceSpec,
    id: u32,
    j: usize,
    index: usize,
    received: u8,
) -> NodeData<'static> {
    let j32 = j as u32;
    NodeData {
        hop_limit: NodeData::linux_hop_limit(received),
        node_id: id,
        ingress_if_id: (j32 * 100 + 1) as u16,
        egress_if_id: (j32 * 100 + 2) as u16,
        timestamp_secs: spec.time,
        timestamp_frac: ((index * 1000 + j * 10) % 1_000_000) as u32,
        transit_delay: 1000 * j32,
        namespace_data: 0xd000_0000 | j32,
        queue_depth: 0,
        checksum_complement: 0xffff_ffff,
        node_id_wide: u64::from(id),
        ingress_if_id_wide: j32 * 100 + 1,
        egress_if_id_wide: j32 * 100 + 2,
        namespace_data_wide: 0xd0d0_0000_0000_0000 | u64::from(j32),
        buffer_occupancy: 0xffff_ffff,
        oss: None,
    }
}

/// Build one IPv6/UDP packet whose Hop-by-Hop header carries the trace of
/// `spec` after the originator and every transit hop wrote their records.
pub fn trace_packet(spec: &TraceSpec, index: usize) -> Result<Vec<u8>> {
    let tt = spec.trace_type;
    ioam_trace::writer::check_encap_trace_type(tt)
        .map_err(|e| anyhow!("trace type 0x{:06x}: {e}", tt.bits()))?;
    let oss_data = spec.ctx.map(|c| oss::encode(&c)).unwrap_or([0; 28]);
    let orig = spec
        .originator
        .map(|id| originator_data(spec, id, index, &oss_data));
    let nodes = spec.hops.len() + usize::from(orig.is_some());
    let oss_words = if spec.ctx.is_some() && !spec.legacy {
        oss::OSS_DATA_LEN / 4
    } else {
        0
    };
    let space = spec
        .space
        .unwrap_or_else(|| ioam_trace::encap::trace_space_for(nodes, tt, 0, oss_words));
    // The encapsulator's builder writes the header and the originator's
    // record; each simulated hop then runs the transit writer.
    let mut builder = PreallocatedTraceBuilder::new(spec.ns, tt, space);
    if let Some(o) = &orig {
        builder = builder.with_originator(o);
    }
    let mut body = vec![0u8; builder.body_len()];
    builder
        .emit_body(&mut body)
        .map_err(|e| anyhow!("trace of {space} bytes: {e}"))?;
    let cfg = TransitConfig::default();
    let mut hop_limit = spec.hop_limit;
    for (j, id) in spec.hops.iter().enumerate() {
        let node = transit_data(spec, *id, j + 1, index, hop_limit);
        match write_transit(&mut body, spec.ns, &node, &cfg) {
            Ok(TransitOutcome::Written { .. })
            | Ok(TransitOutcome::Overflowed)
            | Ok(TransitOutcome::Skipped(_)) => {}
            Err(e) => bail!("hop {}: {e}", j + 1),
        }
        hop_limit = hop_limit.saturating_sub(1);
    }
    if spec.legacy {
        if let Some(ctx) = spec.ctx {
            let ids = clt_context::legacy::LegacyIds::from(ctx);
            let mut out = vec![0u8; body.len() + clt_context::legacy::LEGACY_IDS_LEN];
            let n = clt_context::legacy::to_legacy_body(&body, &ids, &mut out)
                .map_err(|e| anyhow!("legacy CLT header: {e}"))?;
            out.truncate(n);
            body = out;
        }
    }
    let specs = [OptionSpec::Ioam {
        option_type: OPT_IOAM,
        ioam_type: IoamType::PreallocatedTrace,
        body: Body::Bytes(&body),
    }];
    let hbh = options_header(&specs)?;
    let payload = format!("ioam craft packet {}", index + 1);
    Ok(ipv6_udp_packet(
        spec.src.octets(),
        spec.dst.octets(),
        hop_limit,
        &[(proto::HOP_BY_HOP, hbh)],
        payload.as_bytes(),
    ))
}

/// A Hop-by-Hop or Destination Options header holding `specs` (its Next
/// Header byte is set by [`ipv6_udp_packet`]).
pub fn options_header(specs: &[OptionSpec<'_>]) -> Result<Vec<u8>> {
    let b = OptionsBuilder::new(proto::NO_NEXT, specs);
    let len = b.buffer_len().map_err(|e| anyhow!("options header: {e}"))?;
    let mut out = vec![0u8; len];
    b.emit(&mut out)
        .map_err(|e| anyhow!("options header: {e}"))?;
    Ok(out)
}

/// UDP source port of crafted packets.
pub const UDP_SRC_PORT: u16 = 40_000;
/// UDP destination port of crafted packets.
pub const UDP_DST_PORT: u16 = 9_999;

/// The Internet checksum of the UDP datagram `udp` over IPv6 (RFC 8200 §8.1).
fn udp_checksum(src: &[u8; 16], dst: &[u8; 16], udp: &[u8]) -> u16 {
    let mut sum: u64 = 0;
    let mut add = |bytes: &[u8]| {
        for pair in bytes.chunks(2) {
            let hi = u64::from(pair[0]) << 8;
            let lo = pair.get(1).copied().map_or(0, u64::from);
            sum += hi | lo;
        }
    };
    add(src);
    add(dst);
    add(&(udp.len() as u32).to_be_bytes());
    add(&[0, 0, 0, proto::UDP]);
    add(udp);
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    if c == 0 {
        0xffff
    } else {
        c
    }
}

/// An IPv6 packet: the fixed header, the extension headers `ext` (each a
/// whole header tagged with its protocol number; its Next Header byte is
/// rewritten to chain them), then a UDP datagram carrying `payload`.
pub fn ipv6_udp_packet(
    src: [u8; 16],
    dst: [u8; 16],
    hop_limit: u8,
    ext: &[(u8, Vec<u8>)],
    payload: &[u8],
) -> Vec<u8> {
    let mut udp = Vec::with_capacity(8 + payload.len());
    udp.extend_from_slice(&UDP_SRC_PORT.to_be_bytes());
    udp.extend_from_slice(&UDP_DST_PORT.to_be_bytes());
    udp.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let c = udp_checksum(&src, &dst, &udp);
    udp[6..8].copy_from_slice(&c.to_be_bytes());

    let ext_len: usize = ext.iter().map(|(_, h)| h.len()).sum();
    let mut pkt = vec![0u8; IPV6_HEADER_LEN];
    let first = ext.first().map_or(proto::UDP, |(p, _)| *p);
    let repr = Ipv6HeaderRepr {
        traffic_class: 0,
        flow_label: 0,
        payload_len: (ext_len + udp.len()).min(0xffff) as u16,
        next_header: first,
        hop_limit,
        src_addr: src,
        dst_addr: dst,
    };
    // A 40-byte buffer always fits the header.
    let _ = repr.emit(&mut pkt);
    for (i, (_, h)) in ext.iter().enumerate() {
        let next = ext.get(i + 1).map_or(proto::UDP, |(p, _)| *p);
        let start = pkt.len();
        pkt.extend_from_slice(h);
        if let Some(b) = pkt.get_mut(start) {
            *b = next;
        }
    }
    pkt.extend_from_slice(&udp);
    pkt
}

/// Write `packets` as a capture of link type `lt` (with an optional VLAN tag)
/// in pcap or pcapng, one at a time as the iterator yields them (memory
/// does not grow with the count); the first error stops the capture.
/// Returns the number of packets written.
pub fn write_capture(
    out: impl Write,
    lt: LinkType,
    vlan: Option<u16>,
    pcapng: bool,
    packets: impl IntoIterator<Item = Result<(Timestamp, Vec<u8>)>>,
) -> Result<usize> {
    if vlan.is_some() && lt != LinkType::Ethernet {
        bail!("--vlan needs --linktype ethernet");
    }
    let link = ipv6_link_header(lt.value(), vlan)?;
    let frame = |p: &[u8]| {
        let mut f = link.clone();
        f.extend_from_slice(p);
        f
    };
    let mut n = 0;
    if pcapng {
        let mut w = PcapNgWriter::new(out, lt.value())?;
        for item in packets {
            let (t, p) = item?;
            w.write(t, &frame(&p))?;
            n += 1;
        }
        w.into_inner()?;
    } else {
        let mut w = PcapWriter::new(out, lt.value())?;
        for item in packets {
            let (t, p) = item?;
            w.write(t, &frame(&p))?;
            n += 1;
        }
        w.into_inner()?;
    }
    Ok(n)
}

pub mod random;
