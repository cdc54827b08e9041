//! proptest round trips for the reprs and builders whose crates test them
//! with fixed examples only: the IPv6 header repr, the trace header repr
//! and its flags, the trace-type bits, the pre-allocated trace
//! encapsulator and the timestamp conversions.

use ioam_trace::encap::PreallocatedTraceBuilder;
use ioam_trace::timestamp::{from_unix_nanos, TimestampFormat};
use ioam_trace::writer::emit_record;
use ioam_trace::{
    HeaderFlags, NodeData, Trace, TraceHeader, TraceHeaderRepr, TraceType, TRACE_DATA_MAX,
};
use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::ipv6::{Ipv6Header, Ipv6HeaderRepr};
use ioam_wire::opt::{Opt, Options};
use ioam_wire::Mode;
use proptest::prelude::*;

fn ipv6_repr() -> impl Strategy<Value = Ipv6HeaderRepr> {
    (
        any::<u8>(),
        0u32..=0xf_ffff,
        any::<u16>(),
        any::<u8>(),
        any::<u8>(),
        any::<[u8; 16]>(),
        any::<[u8; 16]>(),
    )
        .prop_map(|(tc, fl, pl, nh, hl, s, d)| Ipv6HeaderRepr {
            traffic_class: tc,
            flow_label: fl,
            payload_len: pl,
            next_header: nh,
            hop_limit: hl,
            src_addr: s,
            dst_addr: d,
        })
}

fn flags() -> impl Strategy<Value = HeaderFlags> {
    any::<[bool; 4]>().prop_map(|[o, l, a, u]| HeaderFlags {
        overflow: o,
        loopback: l,
        active: a,
        unassigned: u,
    })
}

fn trace_type() -> impl Strategy<Value = TraceType> {
    (0u32..=0xff_ffff).prop_map(TraceType::from_bits_truncate)
}

/// A trace type an encapsulator accepts: no undefined bit, not bit 23.
fn encap_trace_type() -> impl Strategy<Value = TraceType> {
    (1u32..=0xff_ffff).prop_map(|b| {
        let t = TraceType::from_bits_truncate(b)
            .difference(TraceType::UNDEFINED.union(TraceType::RESERVED_23));
        if t.is_empty() {
            TraceType::HOP_LIM_NODE_ID
        } else {
            t
        }
    })
}

fn header_repr() -> impl Strategy<Value = TraceHeaderRepr> {
    (
        any::<u16>(),
        0u8..=31,
        flags(),
        0u8..=127,
        trace_type(),
        any::<u8>(),
    )
        .prop_map(|(ns, nl, f, rl, t, r)| TraceHeaderRepr {
            namespace_id: ns,
            node_len: nl,
            flags: f,
            remaining_len: rl,
            trace_type: t,
            reserved: r,
        })
}

fn node() -> impl Strategy<Value = NodeData<'static>> {
    (
        any::<u8>(),
        0u32..=0xff_ffff,
        any::<(u16, u16, u32, u32)>(),
        any::<(u32, u32, u32)>(),
        0u64..=0x00ff_ffff_ffff_ffff,
        any::<(u32, u32, u64, u32)>(),
        proptest::option::of((
            0u32..=0xff_ffff,
            proptest::collection::vec(any::<u8>(), 0..24),
        )),
    )
        .prop_map(
            |(hl, id, (i, e, ts, tf), (td, nd, qd), wide, (iw, ew, nw, bo), oss)| NodeData {
                hop_limit: hl,
                node_id: id,
                ingress_if_id: i,
                egress_if_id: e,
                timestamp_secs: ts,
                timestamp_frac: tf,
                transit_delay: td,
                namespace_data: nd,
                queue_depth: qd,
                checksum_complement: td ^ qd,
                node_id_wide: wide,
                ingress_if_id_wide: iw,
                egress_if_id_wide: ew,
                namespace_data_wide: nw,
                buffer_occupancy: bo,
                oss: oss.map(|(s, d)| (s, &*Box::leak(d.into_boxed_slice()))),
            },
        )
}

proptest! {
    #[test]
    fn ipv6_header_repr_round_trip(r in ipv6_repr()) {
        let mut buf = [0u8; 40];
        r.emit(&mut buf).unwrap();
        prop_assert_eq!(buf[0] >> 4, 6);
        let back = Ipv6HeaderRepr::parse(&Ipv6Header::new_checked(&buf[..]).unwrap()).unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn trace_header_repr_round_trip(r in header_repr(), rest in any::<[u8; 4]>()) {
        prop_assert!(r.check().is_ok());
        let mut buf = [0u8; 12];
        buf[8..].copy_from_slice(&rest);
        r.emit(&mut TraceHeader::new_unchecked(&mut buf[..]));
        prop_assert_eq!(&buf[8..], &rest[..], "emit stays in the header");
        let back = TraceHeaderRepr::parse(&TraceHeader::new_checked(&buf[..]).unwrap()).unwrap();
        prop_assert_eq!(back, r);
    }

    #[test]
    fn trace_flags_word_round_trip(f in flags()) {
        prop_assert_eq!(HeaderFlags::from_word(f.to_word()), f);
        prop_assert_eq!(f.to_word() & !0x0780, 0);
    }

    #[test]
    fn trace_type_bits_round_trip(bits in 0u32..=0xff_ffff) {
        let t = TraceType::from_bits(bits).unwrap();
        prop_assert_eq!(t.bits(), bits);
        let words: u32 = t.iter_bits().map(|b| if (8..=10).contains(&b) { 2 } else if b >= 22 { 0 } else { 1 }).sum();
        prop_assert_eq!(u32::from(t.node_len()), words);
        prop_assert_eq!(t.has_oss(), bits & 0x2 != 0);
    }

    #[test]
    fn preallocated_builder_parses_back(
        ns in any::<u16>(),
        t in prop_oneof![trace_type(), encap_trace_type()],
        words in 0usize..=61,
        f in flags(),
        originator in proptest::option::of(node()),
        nh in any::<u8>(),
    ) {
        let space = words * 4;
        let mut b = PreallocatedTraceBuilder::new(ns, t, space).with_flags(f).with_next_header(nh);
        if let Some(n) = &originator {
            b = b.with_originator(n);
        }
        let Ok(len) = b.buffer_len() else {
            prop_assert!(b.emit(&mut [0u8; 300]).is_err());
            return Ok(());
        };
        let mut buf = vec![0u8; len];
        prop_assert_eq!(b.emit(&mut buf), Ok(len));
        prop_assert_eq!(buf[0], nh);
        let mut body = None;
        for o in Options::new(&buf, Mode::Strict) {
            match o.unwrap() {
                Opt::Ioam(io) => {
                    prop_assert_eq!((io.option_type, io.ioam_type), (OPT_IOAM, IoamType::PreallocatedTrace));
                    body = Some(io.body);
                }
                o => prop_assert!(o.is_padding()),
            }
        }
        let body = body.unwrap();
        let trace = Trace::parse_preallocated(body, Mode::Strict).unwrap();
        let h = trace.header();
        prop_assert_eq!((h.namespace_id, h.trace_type, h.node_len), (ns, t, t.node_len()));
        prop_assert_eq!((h.flags.overflow, h.flags.loopback, h.flags.active, h.flags.unassigned), (f.overflow, f.loopback, f.active, false));
        let recs: Vec<_> = trace.records().map(Result::unwrap).collect();
        match &originator {
            None => {
                prop_assert!(recs.is_empty());
                prop_assert_eq!(trace.free_space(), space);
            }
            Some(n) => {
                let mut rec = vec![0u8; n.record_len(t)];
                emit_record(t, n, &mut rec).unwrap();
                prop_assert_eq!(recs.len(), 1);
                prop_assert_eq!(recs[0].as_bytes(), &rec[..]);
                prop_assert_eq!(trace.free_space() + rec.len(), space);
            }
        }
        prop_assert!(body.len() - 8 <= TRACE_DATA_MAX);
    }

    #[test]
    fn timestamps_round_trip(secs in any::<u32>(), frac in any::<u32>()) {
        let ptp = frac % 1_000_000_000;
        let n = TimestampFormat::Ptp.to_unix_nanos(secs, ptp).unwrap();
        prop_assert_eq!(from_unix_nanos(TimestampFormat::Ptp, n), Some((secs, ptp)));
        let us = frac % 1_000_000;
        let n = TimestampFormat::Posix.to_unix_nanos(secs, us).unwrap();
        prop_assert_eq!(from_unix_nanos(TimestampFormat::Posix, n), Some((secs, us)));
        match TimestampFormat::Ntp.to_unix_nanos(secs, frac) {
            None => prop_assert!(u64::from(secs) < ioam_trace::timestamp::NTP_UNIX_OFFSET),
            Some(n) => {
                let (s, f) = from_unix_nanos(TimestampFormat::Ntp, n).unwrap();
                prop_assert_eq!(s, secs);
                prop_assert!(f <= frac && frac - f <= 5, "fraction {} came back as {}", frac, f);
            }
        }
    }
}
