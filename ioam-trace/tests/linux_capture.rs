//! Traces written by real Linux 6.18 routers (data/sample-linux.pcap,
//! recorded by `interop/run.py --record-sample`: a sender and three routers
//! r1, r2, r3 in network namespaces, configured as in interop/netns.py).
//!
//! Each trace is decoded and checked against the routers' configuration,
//! then rebuilt from scratch by replaying the three routers through the
//! transit writer (same ids, namespace data, schema, and the timestamps
//! and queue depths the kernel wrote): the result must be byte-identical
//! to what the kernel produced.

use ioam_trace::writer::{write_transit, NodeData, TransitConfig, TransitOutcome};
use ioam_trace::{IoamPacket, OptionBody, Trace, TraceHeader};
use ioam_wire::packet::IoamOptions;
use ioam_wire::Mode;

const PCAP: &[u8] = include_bytes!("data/sample-linux.pcap");

struct Router {
    node_id: u32,
    node_id_wide: u64,
    in_id: u16,
    out_id: u16,
    in_id_wide: u32,
    out_id_wide: u32,
    ns_data: u32,
    ns_data_wide: u64,
    schema: Option<(u32, &'static [u8])>,
}

/// interop/netns.py `default_routers`.
const ROUTERS: [Router; 3] = [
    Router {
        node_id: 0x0A0001,
        node_id_wide: 0x0A00000000AA01,
        in_id: 101,
        out_id: 102,
        in_id_wide: 0x0B000101,
        out_id_wide: 0x0B000102,
        ns_data: 0xD1000001,
        ns_data_wide: 0xD1D1000000000001,
        schema: None,
    },
    Router {
        node_id: 0x0A0002,
        node_id_wide: 0x0A00000000AA02,
        in_id: 201,
        out_id: 202,
        in_id_wide: 0x0B000201,
        out_id_wide: 0x0B000202,
        ns_data: 0xD2000002,
        ns_data_wide: 0xD2D2000000000002,
        schema: None,
    },
    Router {
        node_id: 0x0A0003,
        node_id_wide: 0x0A00000000AA03,
        in_id: 301,
        out_id: 302,
        in_id_wide: 0x0B000301,
        out_id_wide: 0x0B000302,
        ns_data: 0xD3000003,
        ns_data_wide: 0xD3D3000000000003,
        schema: Some((0x5EED, b"r3data")),
    },
];

const NS: u16 = 123;

/// The IPv6 packets of the capture (Ethernet frames).
fn packets() -> Vec<&'static [u8]> {
    assert_eq!(&PCAP[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= PCAP.len() {
        let cl = u32::from_le_bytes(PCAP[off + 8..off + 12].try_into().unwrap()) as usize;
        let frame = &PCAP[off + 16..off + 16 + cl];
        assert_eq!(&frame[12..14], &[0x86, 0xdd]);
        out.push(&frame[14..]);
        off += 16 + cl;
    }
    out
}

/// Absolute offset and length of the first trace body of the packet.
fn trace_body(ip6: &[u8]) -> (usize, usize) {
    let o = IoamOptions::new(ip6, Mode::Strict)
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    (o.absolute_body_offset(), o.option.body.len())
}

fn node_for(r: &Router, hop_limit: u8, secs: u32, frac: u32, qdepth: u32) -> NodeData<'static> {
    NodeData {
        hop_limit,
        node_id: r.node_id,
        ingress_if_id: r.in_id,
        egress_if_id: r.out_id,
        timestamp_secs: secs,
        timestamp_frac: frac,
        namespace_data: r.ns_data,
        queue_depth: qdepth,
        node_id_wide: r.node_id_wide,
        ingress_if_id_wide: r.in_id_wide,
        egress_if_id_wide: r.out_id_wide,
        namespace_data_wide: r.ns_data_wide,
        oss: r.schema,
        ..NodeData::unavailable()
    }
}

#[test]
fn capture_decodes_to_the_router_configuration() {
    let pkts = packets();
    assert_eq!(pkts.len(), 6);
    let mut hops_seen = 0;
    for ip6 in &pkts {
        // Through the front door: the packet walk, the typed body, the
        // typed fields of each record.
        let item = IoamPacket::new(ip6, Mode::Strict)
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(
            (item.body_offset(), item.option.body.len()),
            trace_body(ip6)
        );
        let OptionBody::PreallocatedTrace(t) = item.body().unwrap() else {
            panic!("not a pre-allocated trace")
        };
        assert_eq!(t.base(), item.body_offset());
        assert_eq!(t.namespace_id(), NS);
        let hops: Vec<_> = t.records_path_order().map(Result::unwrap).collect();
        let routers = hops.iter().filter(|r| {
            r.hop_limit().unwrap_or(64) < 64 || r.hop_limit_wide().is_some_and(|h| h < 64)
        });
        for (i, rec) in routers.enumerate() {
            let r = rec.fields();
            let cfg = &ROUTERS[i];
            let tt = t.trace_type();
            let hl = 63 - i as u8; // the sender used 64; each router writes received - 1
            if tt.contains(ioam_trace::TraceType::HOP_LIM_NODE_ID) {
                assert_eq!(r.hop_limit, Some(hl));
                assert_eq!(r.node_id, Some(cfg.node_id));
            }
            if let Some(e) = r.egress_if_id {
                assert_eq!((r.ingress_if_id, e), (Some(cfg.in_id), cfg.out_id));
            }
            if let Some(s) = r.timestamp_secs {
                assert!(s > 1_600_000_000, "POSIX seconds {s}");
            }
            if let Some(us) = r.timestamp_frac {
                assert!(us < 1_000_000, "microseconds {us}");
            }
            assert_eq!(
                r.transit_delay.map(ioam_trace::record::unavailable::is_u32),
                tt.contains(ioam_trace::TraceType::TRANSIT_DELAY)
                    .then_some(true)
            );
            assert_eq!(
                r.namespace_data,
                tt.contains(ioam_trace::TraceType::NAMESPACE_DATA)
                    .then_some(cfg.ns_data)
            );
            if let Some(q) = r.queue_depth {
                assert_eq!(q, 0, "idle veth backlog");
            }
            if r.hop_limit_wide.is_some() {
                assert_eq!(r.hop_limit_wide, Some(hl));
                assert_eq!(r.node_id_wide, Some(cfg.node_id_wide));
                assert_eq!(r.ingress_if_id_wide, Some(cfg.in_id_wide));
                assert_eq!(r.egress_if_id_wide, Some(cfg.out_id_wide));
                assert_eq!(r.namespace_data_wide, Some(cfg.ns_data_wide));
                assert_eq!(r.buffer_occupancy, Some(0xffff_ffff));
                assert_eq!(r.checksum_complement, Some(0xffff_ffff));
            }
            if let Some(o) = r.oss {
                match cfg.schema {
                    None => assert!(o.is_none()),
                    Some((id, data)) => {
                        assert_eq!((o.schema_id(), o.length()), (id, 2));
                        assert_eq!(o.data(), b"r3data\0\0");
                        let _ = data;
                    }
                }
            }
            hops_seen += 1;
        }
    }
    assert!(hops_seen >= 12, "{hops_seen} router records checked");
}

#[test]
fn writer_replays_the_kernel_byte_for_byte() {
    let mut overflows = 0;
    for ip6 in packets() {
        let (off, len) = trace_body(ip6);
        let captured = &ip6[off..off + len];
        let t = Trace::parse_preallocated(captured, Mode::Strict).unwrap();
        let recs: Vec<_> = t.records_path_order().map(Result::unwrap).collect();
        // The originator (the sender, hop limit 64) may have written the oldest record.
        let origin = recs.first().filter(|r| r.hop_limit() == Some(64));
        let origin_len = origin.map_or(0, |r| r.len());
        let routers = &recs[usize::from(origin.is_some())..];

        // What the sender emitted: zeroed space, only its own record.
        let mut body = captured.to_vec();
        body[8..len - origin_len].fill(0);
        let mut h = TraceHeader::new_unchecked(&mut body[..]);
        h.set_overflow(false);
        h.set_remaining_len(((len - 8 - origin_len) / 4) as u8);

        for (i, cfg) in ROUTERS.iter().enumerate() {
            let (secs, frac, q) = routers.get(i).map_or((0, 0, 0), |r| {
                (
                    r.timestamp_secs().unwrap_or(0),
                    r.timestamp_frac().unwrap_or(0),
                    r.queue_depth().unwrap_or(0),
                )
            });
            let node = node_for(cfg, 63 - i as u8, secs, frac, q);
            let out = write_transit(&mut body, NS, &node, &TransitConfig::default()).unwrap();
            match out {
                TransitOutcome::Written { .. } => assert!(i < routers.len()),
                TransitOutcome::Overflowed => {
                    assert_eq!(i, routers.len());
                    overflows += 1;
                }
                TransitOutcome::Skipped(_) => assert!(i > routers.len()),
            }
        }
        assert_eq!(&body[..], captured, "trace type {}", t.trace_type());
    }
    assert_eq!(overflows, 2, "samples 5 and 6 overflow");
}
