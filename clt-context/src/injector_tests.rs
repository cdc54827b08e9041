//! Tests of the injector: fixed layouts, limits, and round trips through
//! the wire parser, the trace parser and the transit writer.

use super::*;
use crate::id::strategies::valid_span_context;
use crate::legacy::{LegacyIds, LegacyTrace};
use crate::view::{find_context, CltView, ContextLookup};
use crate::TraceFlags;
use ioam_trace::writer::{TransitConfig, TransitOutcome};
use ioam_trace::{write_transit, Trace, TraceError};
use ioam_wire::opt::{Opt, Options};
use ioam_wire::Mode;
use proptest::prelude::*;

fn ctx() -> SpanContext {
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        .parse()
        .unwrap()
}

fn sender() -> NodeData<'static> {
    NodeData {
        hop_limit: 64,
        node_id: 1,
        ..NodeData::unavailable()
    }
}

const T_ID_OSS: TraceType = TraceType::HOP_LIM_NODE_ID.union(TraceType::OPAQUE_STATE);

/// ns 123, type 0x800002, room for 2 more hops, sender hop limit 64 node 1.
const FIXTURE: [u8; 72] = [
    0x3b, 0x08, 0x01, 0x00, // NH 59, HEL 8 (72 bytes), PadN(0)
    0x31, 0x3e, 0x00, 0x00, // IOAM, Opt Data Len 62, Reserved, Pre-allocated Trace
    0x00, 0x7b, 0x08, 0x04, // ns 123, NodeLen 1, RemainingLen 4
    0x80, 0x00, 0x02, 0x00, // type 0x800002
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // room for 2 hops
    0x40, 0x00, 0x00, 0x01, // sender: hop limit 64, node 1
    0x07, 0x43, 0x4c, 0x54, // OSS: Length 7, schema "CLT"
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, // trace-id
    0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36, //
    0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7, // span-id
    0x01, 0x00, 0x00, 0x00, // flags, reserved
    0x01, 0x02, 0x00, 0x00, // PadN(2)
];

#[test]
fn fixture_layout() {
    let inj = HopByHopInjector {
        namespace_id: 123,
        trace_type: T_ID_OSS,
        extra_hops: 2,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    let l = inj.layout().unwrap();
    assert_eq!(
        l,
        Layout {
            sender_record: 36,
            per_hop: 8,
            data_len: 52,
            free: 16,
            body_len: 60,
            header_len: 72
        }
    );
    assert_eq!(inj.buffer_len(), Ok(72));
    assert_eq!(inj.build().unwrap().as_bytes(), &FIXTURE[..]);
}

#[test]
fn emit_touches_only_its_bytes() {
    let inj = HopByHopInjector {
        namespace_id: 123,
        trace_type: T_ID_OSS,
        extra_hops: 2,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    let mut buf = [0xaa; 100];
    assert_eq!(inj.emit(&mut buf), Ok(72));
    assert_eq!(&buf[..72], &FIXTURE[..]);
    assert!(buf[72..].iter().all(|&b| b == 0xaa));
    let mut small = [0xaa; 71];
    assert!(matches!(inj.emit(&mut small), Err(CltError::Wire(_))));
    assert!(small.iter().all(|&b| b == 0xaa));
}

#[test]
fn linux_like_transit_fills_the_room() {
    let mut hbh = FIXTURE;
    let body = &mut hbh[BODY_OFFSET..68];
    for (i, outcome) in [
        TransitOutcome::Written { offset: 16, len: 8 },
        TransitOutcome::Written { offset: 8, len: 8 },
        TransitOutcome::Overflowed,
    ]
    .into_iter()
    .enumerate()
    {
        let node = NodeData {
            hop_limit: 63 - i as u8,
            node_id: 2 + i as u32,
            ..NodeData::unavailable()
        };
        assert_eq!(
            write_transit(body, 123, &node, &TransitConfig::default()),
            Ok(outcome)
        );
    }
    // Newest first on the wire: hop 3 (node 3) at 16, hop 2 (node 2) at 24.
    assert_eq!(
        &hbh[16..32],
        &[62, 0, 0, 3, 0, 0xff, 0xff, 0xff, 63, 0, 0, 2, 0, 0xff, 0xff, 0xff]
    );
    let trace = Trace::parse_preallocated(&hbh[BODY_OFFSET..68], Mode::Strict).unwrap();
    assert!(trace.header().flags.overflow);
    let view = CltView::new(trace, CLT_SCHEMA_ID);
    assert_eq!(view.context().context(), Some(ctx()));
    assert_eq!(view.context().found().map(|f| f.hop), Some(1));
    let ids: heapless::Vec<u32, 4> = view
        .hops()
        .map(|h| h.unwrap().record().node_id().unwrap())
        .collect();
    assert_eq!(&ids[..], &[1, 2, 3]);
}

#[test]
fn wire_parser_sees_one_aligned_ioam_option() {
    let opts: heapless::Vec<Opt<'_>, 4> = Options::new(&FIXTURE, Mode::Strict)
        .map(Result::unwrap)
        .collect();
    assert_eq!(opts.len(), 3);
    let Opt::Ioam(o) = opts[1] else {
        panic!("{:?}", opts[1])
    };
    assert_eq!(o.offset, 4);
    assert_eq!(o.body_offset, BODY_OFFSET);
    assert_eq!(o.body, &FIXTURE[8..68]);
    assert_eq!(o.ioam_type, IoamType::PreallocatedTrace);
}

#[test]
fn sizes_from_the_spec() {
    // 0xfff002 (NodeLen 15, RFC 9197 §4.4.1) holds the originator (92 bytes) and 2 Linux hops
    // (64 bytes each); 0x800002 the originator (36 bytes) and 26 hops of 8.
    let full = TraceType::from_bits(0xff_f002).unwrap();
    let inj = HopByHopInjector {
        namespace_id: 1,
        trace_type: full,
        extra_hops: 2,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    assert_eq!(inj.max_extra_hops(), Ok(2));
    let l = inj.layout().unwrap();
    assert_eq!((l.sender_record, l.per_hop, l.data_len), (92, 64, 220));
    let inj = HopByHopInjector {
        namespace_id: 1,
        trace_type: T_ID_OSS,
        extra_hops: 26,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    assert_eq!(inj.max_extra_hops(), Ok(26));
    assert_eq!(inj.layout().unwrap().data_len, 244);
    assert_eq!(inj.build().unwrap().len(), 264);
}

#[test]
fn errors() {
    let full = TraceType::from_bits(0xff_f002).unwrap();
    assert_eq!(
        HopByHopInjector {
            namespace_id: 1,
            trace_type: full,
            extra_hops: 3,
            sender: sender(),
            ctx: ctx(),
            ..Default::default()
        }
        .build(),
        Err(CltError::TooLarge {
            required: 284,
            max: 244,
            sender_record: 92,
            per_hop: 64
        })
    );
    assert_eq!(
        HopByHopInjector {
            namespace_id: 1,
            trace_type: TraceType::HOP_LIM_NODE_ID,
            extra_hops: 3,
            sender: sender(),
            ctx: ctx(),
            ..Default::default()
        }
        .build(),
        Err(CltError::NoOssBit {
            trace_type: TraceType::HOP_LIM_NODE_ID
        })
    );
    assert!(matches!(
        HopByHopInjector {
            namespace_id: 1,
            trace_type: TraceType::from_bits(0x80_0802).unwrap(),
            extra_hops: 1,
            sender: sender(),
            ctx: ctx(),
            ..Default::default()
        }
        .build(),
        Err(CltError::Trace(TraceError::UndefinedBits { .. }))
    ));
    assert!(matches!(
        HopByHopInjector {
            namespace_id: 1,
            trace_type: TraceType::EMPTY,
            extra_hops: 1,
            sender: sender(),
            ctx: ctx(),
            ..Default::default()
        }
        .build(),
        Err(CltError::Trace(TraceError::EmptyTraceType { .. }))
    ));
    let mut inj = HopByHopInjector {
        namespace_id: 1,
        trace_type: T_ID_OSS,
        extra_hops: 1,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    inj.schema_id = 0x0100_0000;
    assert_eq!(
        inj.build(),
        Err(CltError::SchemaIdOutOfRange {
            schema_id: 0x0100_0000
        })
    );
    let mut inj = HopByHopInjector {
        namespace_id: 1,
        trace_type: T_ID_OSS,
        extra_hops: 1,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    inj.sender.node_id = 0x0100_0000;
    assert!(matches!(
        inj.build(),
        Err(CltError::Trace(TraceError::ValueOutOfRange { .. }))
    ));
    let mut inj = HopByHopInjector {
        namespace_id: 1,
        trace_type: TraceType::HOP_LIM_NODE_ID,
        extra_hops: 55,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    inj.encoding = Encoding::Legacy;
    assert_eq!(
        inj.build(),
        Err(CltError::TooLarge {
            required: 224,
            max: 220,
            sender_record: 4,
            per_hop: 4
        })
    );
    assert_eq!(inj.max_extra_hops(), Ok(54));
    let mut s = heapless::String::<200>::new();
    core::fmt::Write::write_fmt(
        &mut s,
        format_args!(
            "{}",
            HopByHopInjector {
                namespace_id: 1,
                trace_type: full,
                extra_hops: 3,
                sender: sender(),
                ctx: ctx(),
                ..Default::default()
            }
            .build()
            .unwrap_err()
        ),
    )
    .unwrap();
    assert_eq!(
        s.as_str(),
        "trace data of 284 bytes does not fit the 244 bytes an IPv6 option holds \
         (sender record 92 bytes, 64 bytes per further hop)"
    );
}

/// ns 123, type 0x800000, legacy header, room for 2 more hops.
const LEGACY_FIXTURE: [u8; 56] = [
    0x3b, 0x06, 0x01, 0x00, // NH 59, HEL 6 (56 bytes), PadN(0)
    0x31, 0x2e, 0x00, 0x00, // IOAM, Opt Data Len 46, Pre-allocated Trace
    0x00, 0x7b, 0x08, 0x02, // ns 123, NodeLen 1, RemainingLen 2
    0x80, 0x00, 0x00, 0x00, // type 0x800000
    0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, // trace-id high
    0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36, // trace-id low
    0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7, // span-id
    0, 0, 0, 0, 0, 0, 0, 0, // room for 2 hops
    0x40, 0x00, 0x00, 0x01, // sender
    0x01, 0x02, 0x00, 0x00, // PadN(2)
];

#[test]
fn legacy_fixture() {
    let mut inj = HopByHopInjector {
        namespace_id: 123,
        trace_type: TraceType::HOP_LIM_NODE_ID,
        extra_hops: 2,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    inj.encoding = Encoding::Legacy;
    let hbh = inj.build().unwrap();
    assert_eq!(hbh.as_bytes(), &LEGACY_FIXTURE[..]);
    let lt = LegacyTrace::from_body(&hbh[BODY_OFFSET..52]).unwrap();
    let view = lt
        .view(
            ioam_trace::TraceKind::Preallocated,
            Mode::Strict,
            TraceFlags::SAMPLED,
        )
        .unwrap();
    assert_eq!(view.context().context(), Some(ctx()));
    assert_eq!(view.hops().len(), 1);
}

fn defined_type_with_oss() -> impl Strategy<Value = TraceType> {
    (0u32..=0xfff).prop_map(|low| {
        // Bits 0-11 from `low`, plus bit 22.
        TraceType::from_bits((low << 12) | 0x02).unwrap()
    })
}

fn oss_injector() -> impl Strategy<Value = (HopByHopInjector<'static>, usize)> {
    (
        valid_span_context(),
        defined_type_with_oss(),
        any::<u16>(),
        0u32..=0xff_ffff,
        any::<(u8, u32, u16, u16, u32, u32, u64)>(),
        any::<u16>(),
    )
        .prop_map(|(ctx, t, ns, schema, v, pick)| {
            let node = NodeData {
                hop_limit: v.0,
                node_id: v.1 & 0xff_ffff,
                ingress_if_id: v.2,
                egress_if_id: v.3,
                timestamp_secs: v.4,
                timestamp_frac: v.5,
                node_id_wide: v.6 & 0x00ff_ffff_ffff_ffff,
                ..NodeData::unavailable()
            };
            let mut inj = HopByHopInjector {
                namespace_id: ns,
                trace_type: t,
                extra_hops: 0,
                sender: node,
                ctx,
                ..Default::default()
            };
            inj.schema_id = schema;
            let max = inj.max_extra_hops().unwrap();
            inj.extra_hops = usize::from(pick) % (max + 1);
            (inj, max)
        })
}

proptest! {
    #[test]
    fn any_context_survives_build_and_decode((inj, _max) in oss_injector()) {
        let hbh = inj.build().unwrap();
        let layout = inj.layout().unwrap();
        prop_assert_eq!(hbh.len(), layout.header_len);
        prop_assert_eq!(hbh.len() % 8, 0);
        prop_assert_eq!(usize::from(hbh[1]), hbh.len() / 8 - 1);
        let mut ioam = None;
        for o in Options::new(&hbh, Mode::Strict) {
            if let Opt::Ioam(o) = o.unwrap() {
                prop_assert!(ioam.is_none());
                ioam = Some(o);
            }
        }
        let o = ioam.unwrap();
        prop_assert!(o.is_aligned());
        let trace = Trace::parse_preallocated(o.body, Mode::Strict).unwrap();
        prop_assert_eq!(trace.namespace_id(), inj.namespace_id);
        prop_assert_eq!(trace.free_space(), inj.extra_hops * layout.per_hop);
        prop_assert!(trace.data().len() <= 244);
        let lookup = find_context(&trace, inj.schema_id);
        prop_assert_eq!(lookup.context(), Some(inj.ctx));
        prop_assert_eq!(lookup.found().map(|f| f.hop), Some(1));
        let first = trace.records_path_order().next().unwrap().unwrap();
        if inj.trace_type.contains(TraceType::HOP_LIM_NODE_ID) {
            prop_assert_eq!(first.hop_limit(), Some(inj.sender.hop_limit));
            prop_assert_eq!(first.node_id(), Some(inj.sender.node_id));
        }
        if inj.trace_type.contains(TraceType::HOP_LIM_NODE_ID_WIDE) {
            prop_assert_eq!(first.node_id_wide(), Some(inj.sender.node_id_wide));
        }
        if inj.trace_type.contains(TraceType::TRANSIT_DELAY) {
            prop_assert_eq!(first.transit_delay(), Some(u32::MAX));
        }
    }

    #[test]
    fn transit_nodes_keep_the_originator_first((inj, _max) in oss_injector(), extra in 0usize..4) {
        let mut hbh = inj.build().unwrap();
        let layout = inj.layout().unwrap();
        let body = &mut hbh.buf[BODY_OFFSET..BODY_OFFSET + layout.body_len];
        let mut written = 0;
        for i in 0..inj.extra_hops + extra {
            let node = NodeData { hop_limit: 50, node_id: 100 + i as u32, ..NodeData::unavailable() };
            match write_transit(body, inj.namespace_id, &node, &TransitConfig::default()).unwrap() {
                TransitOutcome::Written { .. } => written += 1,
                TransitOutcome::Overflowed
                | TransitOutcome::Skipped(ioam_trace::SkipReason::OverflowSet) => {}
                other => prop_assert!(false, "{:?}", other),
            }
        }
        prop_assert_eq!(written, inj.extra_hops);
        let trace = Trace::parse_preallocated(body, Mode::Strict).unwrap();
        prop_assert_eq!(trace.free_space(), 0);
        let view = CltView::new(trace, inj.schema_id);
        prop_assert_eq!(view.hops().len(), inj.extra_hops + 1);
        prop_assert_eq!(
            view.context(),
            &ContextLookup::Found(crate::view::FoundContext {
                ctx: inj.ctx,
                hop: 1,
                offset: 8 + layout.data_len - layout.sender_record
                    + usize::from(inj.trace_type.node_len()) * 4,
            })
        );
    }

    #[test]
    fn any_parameters_give_bytes_or_an_error(
        ctx in crate::id::strategies::any_span_context(),
        t in prop_oneof![
            3 => (0u32..=0xfff, any::<bool>()).prop_map(|(l, oss)| (l << 12) | if oss { 2 } else { 0 }),
            1 => 0u32..=0xff_ffff,
        ],
        ns in any::<u16>(),
        extra_hops in prop_oneof![4 => 0usize..8, 1 => any::<usize>()],
        hop_oss_words in prop_oneof![4 => 0usize..4, 1 => any::<usize>()],
        schema_id in prop_oneof![4 => 0u32..=0xff_ffff, 1 => any::<u32>()],
        v in (
            any::<u8>(),
            prop_oneof![4 => 0u32..=0xff_ffff, 1 => any::<u32>()],
            prop_oneof![4 => 0u64..=0x00ff_ffff_ffff_ffff, 1 => any::<u64>()],
        ),
        legacy in any::<bool>(),
    ) {
        let node = NodeData { hop_limit: v.0, node_id: v.1, node_id_wide: v.2, ..NodeData::unavailable() };
        let mut inj = HopByHopInjector { namespace_id: ns, trace_type: TraceType::from_bits(t).unwrap(), extra_hops, sender: node, ctx, ..Default::default() };
        inj.hop_oss_words = hop_oss_words;
        inj.schema_id = schema_id;
        if legacy {
            inj.encoding = Encoding::Legacy;
        }
        let mut buf = [0x5a; HBH_MAX_LEN + 8];
        match inj.emit(&mut buf) {
            Ok(n) => {
                prop_assert!(n <= HBH_MAX_LEN);
                prop_assert_eq!(Ok(n), inj.buffer_len());
                prop_assert!(buf[n..].iter().all(|&b| b == 0x5a));
                let body = &buf[BODY_OFFSET..BODY_OFFSET + inj.layout().unwrap().body_len];
                if legacy {
                    let lt = LegacyTrace::from_body(body).unwrap();
                    prop_assert_eq!(lt.ids(), LegacyIds::from(ctx));
                } else {
                    let trace = Trace::parse_preallocated(body, Mode::Strict).unwrap();
                    let found = find_context(&trace, schema_id);
                    prop_assert_eq!(found.found().map(|f| f.ctx), Some(ctx));
                }
            }
            Err(e) => {
                prop_assert!(buf.iter().all(|&b| b == 0x5a), "{}", e);
                prop_assert_eq!(Err(e), inj.buffer_len());
            }
        }
    }

    #[test]
    fn legacy_ids_survive_build_and_decode(ctx in valid_span_context(), low in 1u32..=0xfff, hops in 0usize..4) {
        let t = TraceType::from_bits(low << 12).unwrap();
        let mut inj = HopByHopInjector { namespace_id: 7, trace_type: t, extra_hops: hops, sender: sender(), ctx, ..Default::default() };
        inj.encoding = Encoding::Legacy;
        match inj.build() {
            Ok(hbh) => {
                let l = inj.layout().unwrap();
                let lt = LegacyTrace::from_body(&hbh[BODY_OFFSET..BODY_OFFSET + l.body_len]).unwrap();
                prop_assert_eq!(lt.ids(), LegacyIds::from(ctx));
                let trace = Trace::parse_preallocated(lt.standard_body(), Mode::Strict).unwrap();
                prop_assert_eq!(trace.free_space(), l.free);
                prop_assert_eq!(trace.records().count(), 1);
            }
            Err(CltError::TooLarge { required, max, .. }) => prop_assert!(required > max),
            Err(e) => prop_assert!(false, "{e}"),
        }
    }
}

/// Any injector parameters, valid or not, for both encodings.
fn any_injector() -> impl Strategy<Value = HopByHopInjector<'static>> {
    (
        crate::id::strategies::any_span_context(),
        prop_oneof![
            3 => (0u32..=0xfff, any::<bool>()).prop_map(|(l, oss)| (l << 12) | if oss { 2 } else { 0 }),
            1 => 0u32..=0xff_ffff,
        ],
        any::<u16>(),
        prop_oneof![4 => 0usize..8, 1 => any::<usize>()],
        prop_oneof![4 => 0usize..4, 1 => any::<usize>()],
        prop_oneof![4 => 0u32..=0xff_ffff, 1 => any::<u32>()],
        (
            any::<u8>(),
            prop_oneof![4 => 0u32..=0xff_ffff, 1 => any::<u32>()],
            any::<(u16, u16, u32, u32)>(),
        ),
        any::<(bool, u8)>(),
    )
        .prop_map(|(ctx, t, ns, extra_hops, hop_oss_words, schema_id, v, (legacy, nh))| {
            let node = NodeData {
                hop_limit: v.0,
                node_id: v.1,
                ingress_if_id: v.2 .0,
                egress_if_id: v.2 .1,
                timestamp_secs: v.2 .2,
                timestamp_frac: v.2 .3,
                ..NodeData::unavailable()
            };
            let mut inj =
                HopByHopInjector { namespace_id: ns, trace_type: TraceType::from_bits(t).unwrap(), extra_hops, sender: node, ctx, ..Default::default() };
            inj.hop_oss_words = hop_oss_words;
            inj.schema_id = schema_id;
            inj.next_header = nh;
            if legacy {
                inj.encoding = Encoding::Legacy;
            }
            inj
        })
}

proptest! {
    #[test]
    fn set_context_gives_the_bytes_of_a_fresh_build(
        inj in any_injector(),
        ctx2 in crate::id::strategies::any_span_context(),
    ) {
        let with2 = HopByHopInjector { ctx: ctx2, ..inj };
        match inj.build() {
            Ok(mut hbh) => {
                let fresh = with2.build().unwrap();
                let slot = inj.context_slot().unwrap();
                prop_assert_eq!(hbh.context_slot(), slot);
                prop_assert_eq!(slot.header_len(), hbh.len());
                prop_assert_eq!(slot.encoding(), inj.encoding);
                // Through the inline bytes.
                let mut patched = hbh;
                patched.set_context(&ctx2);
                prop_assert_eq!(patched.as_bytes(), fresh.as_bytes());
                prop_assert_eq!(patched, fresh);
                // Through the slot, on a caller's buffer; nothing after the
                // header is written.
                let mut buf = [0x5a; HBH_MAX_LEN + 8];
                let n = inj.emit(&mut buf).unwrap();
                slot.apply(&mut buf, &ctx2).unwrap();
                prop_assert_eq!(&buf[..n], fresh.as_bytes());
                prop_assert!(buf[n..].iter().all(|&b| b == 0x5a));
                // Patching back restores the first header.
                hbh.set_context(&ctx2);
                hbh.set_context(&inj.ctx);
                prop_assert_eq!(hbh, inj.build().unwrap());
            }
            Err(e) => {
                prop_assert_eq!(Err(e), inj.context_slot());
                prop_assert_eq!(Err(e), with2.build().map(|_| ()));
            }
        }
    }
}

#[test]
fn context_slot_offsets() {
    // FIXTURE: trace id at byte 40 (after 8 framing, 8 header, 16 free,
    // 4 sender fields, 4 OSS header).
    let inj = HopByHopInjector {
        namespace_id: 123,
        trace_type: T_ID_OSS,
        extra_hops: 2,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    let slot = inj.context_slot().unwrap();
    assert_eq!(slot.offset(), 40);
    assert_eq!(slot.header_len(), FIXTURE.len());
    assert_eq!(&FIXTURE[40..56], &ctx().trace_id.0);
    assert_eq!(&FIXTURE[56..64], &ctx().span_id.0);
    assert_eq!(FIXTURE[64], ctx().flags.0);

    let mut legacy = inj;
    legacy.encoding = Encoding::Legacy;
    let slot = legacy.context_slot().unwrap();
    assert_eq!(slot.offset(), BODY_OFFSET + 8);
    assert_eq!(slot.encoding(), Encoding::Legacy);
    assert_eq!(&LEGACY_FIXTURE[16..32], &ctx().trace_id.0);
    assert_eq!(&LEGACY_FIXTURE[32..40], &ctx().span_id.0);
}

#[test]
fn context_slot_apply_checks_the_length() {
    let inj = HopByHopInjector {
        namespace_id: 123,
        trace_type: T_ID_OSS,
        extra_hops: 2,
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    let slot = inj.context_slot().unwrap();
    let mut short = FIXTURE;
    let before = short;
    assert_eq!(
        slot.apply(
            &mut short[..71],
            &SpanContext::new(
                crate::TraceId::INVALID,
                crate::SpanId::INVALID,
                TraceFlags(0)
            )
        ),
        Err(CltError::Wire(WireError::BufferTooSmall {
            required: 72,
            actual: 71
        }))
    );
    assert_eq!(short, before);
    slot.apply(
        &mut short,
        &SpanContext::new(
            crate::TraceId::INVALID,
            crate::SpanId::INVALID,
            TraceFlags(0),
        ),
    )
    .unwrap();
    assert!(short[40..65].iter().all(|&b| b == 0));
    assert_eq!(short[..40], before[..40]);
    assert_eq!(short[65..], before[65..]);
}

#[test]
fn free_space_in_bytes() {
    // 0xfff002 hops of a path where one router adds 12 bytes of opaque
    // state: room asked in bytes, not in hops of one size.
    let full = TraceType::from_bits(0xff_f002).unwrap();
    let inj = HopByHopInjector {
        namespace_id: 1,
        trace_type: full,
        extra_hops: 7,
        free_bytes: Some(64 + 72),
        sender: sender(),
        ctx: ctx(),
        ..Default::default()
    };
    let l = inj.layout().unwrap();
    assert_eq!((l.sender_record, l.free, l.data_len), (92, 136, 228));
    let hbh = inj.build().unwrap();
    let trace =
        Trace::parse_preallocated(&hbh[BODY_OFFSET..BODY_OFFSET + l.body_len], Mode::Strict)
            .unwrap();
    assert_eq!(trace.free_space(), 136);
    assert_eq!(
        HopByHopInjector {
            free_bytes: Some(6),
            ..inj
        }
        .layout(),
        Err(CltError::FreeSpaceNotWords { free: 6 })
    );
    assert!(matches!(
        HopByHopInjector {
            free_bytes: Some(156),
            ..inj
        }
        .layout(),
        Err(CltError::TooLarge {
            required: 248,
            max: 244,
            ..
        })
    ));
}
