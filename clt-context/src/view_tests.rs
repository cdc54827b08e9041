//! Tests of the CLT view: context lookup outcomes and the collector
//! attribute strings, byte for byte.

use super::*;
use crate::id::strategies::valid_span_context;
use crate::legacy::{LegacyIds, LegacyTrace};
use crate::oss::{CltSnapshot, CLT_SCHEMA_ID};
use crate::{SpanId, TraceFlags, TraceId};
use core::fmt::Write;
use ioam_trace::{TraceKind, TraceType};
use ioam_wire::Mode;
use proptest::prelude::*;

type Buf = heapless::Vec<u8, 256>;
type Text = heapless::String<2048>;

/// A pre-allocated trace body: header, `free` zero words, then `records`
/// in wire order (newest first). NodeLen is computed from the type.
fn body(ns: u16, trace_type: u32, free: u8, records: &[&[u8]]) -> Buf {
    let t = TraceType::from_bits(trace_type).unwrap();
    let mut b = Buf::new();
    b.extend_from_slice(&ns.to_be_bytes()).unwrap();
    let word = (u16::from(t.node_len()) << 11) | u16::from(free);
    b.extend_from_slice(&word.to_be_bytes()).unwrap();
    b.extend_from_slice(&(trace_type << 8).to_be_bytes())
        .unwrap();
    for _ in 0..usize::from(free) * 4 {
        b.push(0).unwrap();
    }
    for r in records {
        b.extend_from_slice(r).unwrap();
    }
    b
}

fn trace(b: &[u8]) -> Trace<'_> {
    let t = Trace::parse_preallocated(b, Mode::Strict).unwrap();
    let view = Trace::parse_preallocated(b, Mode::Strict)
        .map(|t| CltView::new(t, CLT_SCHEMA_ID))
        .unwrap();
    assert_eq!(view.trace(), &t);
    t
}

fn lines(view: &CltView<'_>) -> Text {
    let mut s = Text::new();
    view.write_attributes(&mut s).unwrap();
    s
}

/// The attribute value of the single record of a one-record trace.
fn value_of(trace_type: u32, record: &[u8]) -> Text {
    let b = body(5, trace_type, 0, &[record]);
    let view = CltView::new(trace(&b), CLT_SCHEMA_ID);
    let hop = view.hops().next().unwrap().unwrap();
    let mut s = Text::new();
    write!(s, "{}", hop.attribute_value()).unwrap();
    // `write_to` and `Display` agree.
    let mut s2 = Text::new();
    hop.attribute_value().write_to(&mut s2).unwrap();
    assert_eq!(s, s2);
    s
}

#[test]
fn attribute_text_for_each_bit() {
    let cases: &[(u32, &[u8], &str)] = &[
        (
            0x80_0000,
            &[0x3f, 0x0a, 0x0b, 0x0c],
            "HopLimit=63; Id=658188; ",
        ),
        (
            0x40_0000,
            &[0x00, 0x0b, 0xff, 0xff],
            "IngressId=11; EgressId=65535; ",
        ),
        (
            0x20_0000,
            &[0x65, 0x5f, 0x2a, 0x00],
            "TimestampSecs=1700735488; ",
        ),
        (
            0x10_0000,
            &[0x00, 0x0f, 0x42, 0x3f],
            "TimestampFrac=999999; ",
        ),
        (
            0x08_0000,
            &[0x80, 0x00, 0x00, 0x00],
            "TransitDelay=2147483648; ",
        ),
        (
            0x04_0000,
            &[0xde, 0xad, 0x00, 0x0f],
            "NamespaceData=0xdead000f; ",
        ),
        (
            0x04_0000,
            &[0x00, 0x00, 0x00, 0x01],
            "NamespaceData=0x00000001; ",
        ),
        (0x02_0000, &[0x00, 0x00, 0x10, 0x00], "QueueDepth=4096; "),
        (
            0x01_0000,
            &[0xff, 0xff, 0xff, 0xff],
            "CsumComp=4294967295; ",
        ),
        (
            0x00_8000,
            &[0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00],
            "HopLimit=62; IdWide=256; ",
        ),
        (
            0x00_4000,
            &[0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff],
            "IngressIdWide=1; EgressIdWide=4294967295; ",
        ),
        (
            0x00_2000,
            &[0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            "NamespaceDataWide=0x0123456789abcdef; ",
        ),
        (0x00_1000, &[0x00, 0x00, 0x00, 0x07], "BufferOccupancy=7; "),
        (
            0x00_0002,
            &[0x01, 0x00, 0x00, 0x2a, 0xca, 0xfe, 0x00, 0x01],
            "OpaqueStateSchemaId=42; OpaqueStateData=0xcafe0001; ",
        ),
        (
            0x00_0002,
            &[0x00, 0xff, 0xff, 0xff],
            "OpaqueStateSchemaId=16777215; OpaqueStateData=0x; ",
        ),
    ];
    for (t, rec, want) in cases {
        assert_eq!(value_of(*t, rec).as_str(), *want, "trace type {t:06x}");
    }
}

#[test]
fn undefined_and_reserved_bits_print_nothing() {
    for k in 12..=21u32 {
        let t = 0x80_0000 | (1 << (23 - k));
        let rec = [0x3f, 0, 0, 1, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(value_of(t, &rec).as_str(), "HopLimit=63; Id=1; ", "bit {k}");
    }
    assert_eq!(
        value_of(0x80_0001, &[0x3f, 0, 0, 1]).as_str(),
        "HopLimit=63; Id=1; "
    );
}

#[test]
fn both_hop_limits_show_the_wide_one() {
    // As the CLT agents do: one HopLimit, overwritten by the wide field.
    let rec = [0x3f, 0, 0, 1, 0x3e, 0, 0, 0, 0, 0, 0, 2];
    assert_eq!(
        value_of(0x80_8000, &rec).as_str(),
        "HopLimit=62; Id=1; HopLimit=62; IdWide=2; "
    );
    let b = body(5, 0x80_8000, 0, &[&rec]);
    let t = trace(&b);
    let view = CltView::new(t, CLT_SCHEMA_ID);
    let f = view.hops().next().unwrap().unwrap().fields();
    assert_eq!((f.hop_limit, f.hop_limit_wide), (Some(63), Some(62)));
}

fn ctx() -> SpanContext {
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        .parse()
        .unwrap()
}

/// A 0xfff002 record (60 bytes of fields) with the given OSS bytes.
fn full_record(hop: u8, id: u32, ifs: (u16, u16), oss: &[u8]) -> heapless::Vec<u8, 128> {
    let mut r = heapless::Vec::<u8, 128>::new();
    let mut w = |b: &[u8]| r.extend_from_slice(b).unwrap();
    w(&((u32::from(hop) << 24) | id).to_be_bytes());
    w(&ifs.0.to_be_bytes());
    w(&ifs.1.to_be_bytes());
    w(&1_700_000_000u32.to_be_bytes()); // secs
    w(&123_456u32.to_be_bytes()); // frac
    w(&u32::MAX.to_be_bytes()); // transit delay
    w(&u32::MAX.to_be_bytes()); // namespace data
    w(&0u32.to_be_bytes()); // queue depth
    w(&u32::MAX.to_be_bytes()); // checksum complement
    w(&((u64::from(hop) << 56) | (u64::from(id) + 1000)).to_be_bytes());
    w(&(u32::from(ifs.0) + 90).to_be_bytes());
    w(&(u32::from(ifs.1) + 90).to_be_bytes());
    w(&u64::MAX.to_be_bytes()); // namespace data wide
    w(&u32::MAX.to_be_bytes()); // buffer occupancy
    w(oss);
    r
}

#[test]
fn full_trace_attributes_byte_for_byte() {
    let mut clt = [0u8; 32];
    CltSnapshot {
        ctx: ctx(),
        schema_id: CLT_SCHEMA_ID,
    }
    .emit(&mut clt)
    .map(|_| ())
    .unwrap();
    let origin = full_record(64, 1, (0xffff, 1), &clt);
    let r1 = full_record(63, 2, (11, 12), &[0x00, 0xff, 0xff, 0xff]);
    let r2 = full_record(62, 3, (21, 22), &[0x00, 0xff, 0xff, 0xff]);
    assert_eq!((origin.len(), r1.len()), (92, 64));
    let b = body(123, 0xff_f002, 6, &[&r2, &r1, &origin]);
    assert_eq!(b.len(), 8 + 244);
    let view = CltView::new(trace(&b), CLT_SCHEMA_ID);
    assert_eq!(
        view.context(),
        &ContextLookup::Found(FoundContext {
            ctx: ctx(),
            hop: 1,
            offset: 8 + 24 + 128 + 60
        })
    );
    let want = "\
ioam_namespace123_node1=HopLimit=64; Id=1; IngressId=65535; EgressId=1; TimestampSecs=1700000000; \
TimestampFrac=123456; TransitDelay=4294967295; NamespaceData=0xffffffff; QueueDepth=0; \
CsumComp=4294967295; HopLimit=64; IdWide=1001; IngressIdWide=65625; EgressIdWide=91; \
NamespaceDataWide=0xffffffffffffffff; BufferOccupancy=4294967295; OpaqueStateSchemaId=4410452; \
OpaqueStateData=0x4bf92f3577b34da6a3ce929d0e0e473600f067aa0ba902b701000000; \n\
ioam_namespace123_node2=HopLimit=63; Id=2; IngressId=11; EgressId=12; TimestampSecs=1700000000; \
TimestampFrac=123456; TransitDelay=4294967295; NamespaceData=0xffffffff; QueueDepth=0; \
CsumComp=4294967295; HopLimit=63; IdWide=1002; IngressIdWide=101; EgressIdWide=102; \
NamespaceDataWide=0xffffffffffffffff; BufferOccupancy=4294967295; OpaqueStateSchemaId=16777215; \
OpaqueStateData=0x; \n\
ioam_namespace123_node3=HopLimit=62; Id=3; IngressId=21; EgressId=22; TimestampSecs=1700000000; \
TimestampFrac=123456; TransitDelay=4294967295; NamespaceData=0xffffffff; QueueDepth=0; \
CsumComp=4294967295; HopLimit=62; IdWide=1003; IngressIdWide=111; EgressIdWide=112; \
NamespaceDataWide=0xffffffffffffffff; BufferOccupancy=4294967295; OpaqueStateSchemaId=16777215; \
OpaqueStateData=0x; \n";
    assert_eq!(lines(&view).as_str(), want);
    let hops: heapless::Vec<usize, 4> = view.hops().map(|h| h.unwrap().index()).collect();
    assert_eq!(&hops[..], &[1, 2, 3]);
}

#[test]
fn attribute_key_text() {
    let k = AttributeKey {
        namespace_id: 65535,
        index: 12,
    };
    let mut s = Text::new();
    write!(s, "{k}").unwrap();
    assert_eq!(s.as_str(), "ioam_namespace65535_node12");
    let b = body(0, 0x80_0000, 0, &[&[1, 0, 0, 2], &[2, 0, 0, 1]]);
    let view = CltView::new(trace(&b), CLT_SCHEMA_ID);
    assert_eq!(
        lines(&view).as_str(),
        "ioam_namespace0_node1=HopLimit=2; Id=1; \nioam_namespace0_node2=HopLimit=1; Id=2; \n"
    );
}

fn oss_record(hop: u8, snapshot: &[u8]) -> heapless::Vec<u8, 64> {
    let mut r = heapless::Vec::<u8, 64>::new();
    r.extend_from_slice(&[hop, 0, 0, hop]).unwrap();
    r.extend_from_slice(snapshot).unwrap();
    r
}

#[test]
fn lookup_outcomes() {
    let mut clt = [0u8; 32];
    CltSnapshot {
        ctx: ctx(),
        schema_id: CLT_SCHEMA_ID,
    }
    .emit(&mut clt)
    .map(|_| ())
    .unwrap();
    let none = [0x00, 0xff, 0xff, 0xff];

    // No OSS bit.
    let b = body(1, 0x80_0000, 0, &[&[64, 0, 0, 1]]);
    assert_eq!(
        find_context(&trace(&b), CLT_SCHEMA_ID),
        ContextLookup::NoOss
    );

    // Nothing written yet.
    let b = body(1, 0x80_0002, 4, &[]);
    assert_eq!(
        find_context(&trace(&b), CLT_SCHEMA_ID),
        ContextLookup::NoRecords
    );

    // Only Linux records.
    let (r1, r2) = (oss_record(64, &none), oss_record(63, &none));
    let b = body(1, 0x80_0002, 0, &[&r2, &r1]);
    assert_eq!(
        find_context(&trace(&b), CLT_SCHEMA_ID),
        ContextLookup::OtherSchema {
            schema_id: 0xff_ffff
        }
    );

    // Another schema configured: the originator's schema is reported.
    let origin = oss_record(64, &clt);
    let b = body(1, 0x80_0002, 0, &[&r2, &origin]);
    assert_eq!(
        find_context(&trace(&b), 0x00_0001),
        ContextLookup::OtherSchema {
            schema_id: CLT_SCHEMA_ID
        }
    );

    // Found in the originator.
    let l = find_context(&trace(&b), CLT_SCHEMA_ID);
    assert_eq!(l.context(), Some(ctx()));
    assert_eq!(l.found().map(|f| (f.hop, f.offset)), Some((1, 8 + 8 + 4)));

    // Found in hop 2: the oldest record with the CLT schema wins.
    let second = oss_record(63, &clt);
    let b = body(1, 0x80_0002, 0, &[&second, &r1]);
    assert_eq!(
        find_context(&trace(&b), CLT_SCHEMA_ID)
            .found()
            .map(|f| f.hop),
        Some(2)
    );

    // All-zero ids.
    let mut zero = clt;
    zero[4..20].fill(0);
    let z = oss_record(64, &zero);
    let b = body(1, 0x80_0002, 0, &[&z]);
    let l = find_context(&trace(&b), CLT_SCHEMA_ID);
    assert!(matches!(l, ContextLookup::ZeroIds(f) if f.hop == 1 && !f.ctx.trace_id.is_valid()));
    assert_eq!(l.context(), None);
    let mut zero = clt;
    zero[20..28].fill(0);
    let z = oss_record(64, &zero);
    let b = body(1, 0x80_0002, 0, &[&z]);
    assert_eq!(find_context(&trace(&b), CLT_SCHEMA_ID).name(), "zero-ids");

    // CLT schema, wrong length.
    let short = oss_record(
        64,
        &[
            0x06, 0x43, 0x4c, 0x54, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
            19, 20, 21, 22, 23, 24,
        ],
    );
    let b = body(1, 0x80_0002, 0, &[&short]);
    assert_eq!(
        find_context(&trace(&b), CLT_SCHEMA_ID),
        ContextLookup::BadOss {
            hop: 1,
            offset: 12,
            error: CltError::WrongLength {
                offset: 12,
                required: 28,
                actual: 24
            }
        }
    );

    // Malformed: the OSS Length overruns the trace.
    let bad = oss_record(64, &[0x09, 0x43, 0x4c, 0x54]);
    let b = body(1, 0x80_0002, 0, &[&bad]);
    let t = trace(&b);
    let l = find_context(&t, CLT_SCHEMA_ID);
    assert!(matches!(l, ContextLookup::Malformed(_)), "{l:?}");
    let mut s = Text::new();
    assert!(matches!(
        CltView::new(t, CLT_SCHEMA_ID).write_attributes(&mut s),
        Err(CltError::Trace(_))
    ));
    assert!(s.is_empty());
}

#[test]
fn lookup_display() {
    let mut s = Text::new();
    write!(s, "{}", ContextLookup::NoOss).unwrap();
    assert_eq!(
        s.as_str(),
        "no context: the trace type has no opaque state snapshot (bit 22)"
    );
    s.clear();
    write!(
        s,
        "{}",
        ContextLookup::OtherSchema {
            schema_id: 0xff_ffff
        }
    )
    .unwrap();
    assert_eq!(
        s.as_str(),
        "no context: no snapshot with the CLT schema (originator's schema id 0xffffff)"
    );
}

#[test]
fn legacy_view() {
    let ids = LegacyIds {
        trace_id: TraceId::from_halves(1, 2),
        span_id: SpanId::from_u64(3),
    };
    let std_body = body(9, 0x80_0000, 1, &[&[64, 0, 0, 1]]);
    let mut legacy = [0u8; 64];
    let n = crate::legacy::to_legacy_body(&std_body, &ids, &mut legacy).unwrap();
    let lt = LegacyTrace::from_body(&legacy[..n]).unwrap();
    let view = lt
        .view(TraceKind::Preallocated, Mode::Strict, TraceFlags::SAMPLED)
        .unwrap();
    assert_eq!(view.trace().header(), trace(lt.standard_body()).header());
    let want = SpanContext::new(ids.trace_id, ids.span_id, TraceFlags::SAMPLED);
    assert_eq!(view.context().context(), Some(want));
    assert_eq!(
        view.context().found().map(|f| (f.hop, f.offset)),
        Some((0, 8))
    );
    assert_eq!(
        lines(&view).as_str(),
        "ioam_namespace9_node1=HopLimit=64; Id=1; \n"
    );
    // All-zero ids: the patch's "no ids".
    let mut zero = legacy;
    zero[8..32].fill(0);
    let lt = LegacyTrace::from_body(&zero[..n]).unwrap();
    let view = lt
        .view(TraceKind::Preallocated, Mode::Strict, TraceFlags::SAMPLED)
        .unwrap();
    assert_eq!(view.context().name(), "zero-ids");
}

/// A writer that only counts, so any amount of text fits.
struct Count {
    bytes: usize,
    lines: usize,
}

impl fmt::Write for Count {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes += s.len();
        self.lines += s.matches('\n').count();
        Ok(())
    }
}

fn any_body() -> impl Strategy<Value = Buf> {
    (
        any::<u16>(),
        0u32..=0xff_ffff,
        proptest::collection::vec(any::<u8>(), 0..=61),
        0u8..=61,
    )
        .prop_map(|(ns, t, words, free)| {
            let t = TraceType::from_bits(t).unwrap();
            let mut b = Buf::new();
            b.extend_from_slice(&ns.to_be_bytes()).unwrap();
            let rem = free.min(words.len() as u8);
            let w = (u16::from(t.node_len() & 0x1f) << 11) | u16::from(rem);
            b.extend_from_slice(&w.to_be_bytes()).unwrap();
            b.extend_from_slice(&(t.bits() << 8).to_be_bytes()).unwrap();
            // Each generated byte becomes one word: the OSS Length bytes
            // stay small often enough to give long valid walks.
            for (i, x) in words.iter().enumerate() {
                let word = if i % 3 == 0 {
                    [x % 3, *x, x.wrapping_mul(7), 0x54]
                } else {
                    [*x, x.wrapping_add(1), 0xff, x.wrapping_mul(3)]
                };
                b.extend_from_slice(&word).unwrap();
            }
            b
        })
}

/// A well-formed trace of any type: records with random field bytes and
/// random snapshots, as many as fit, and random free space.
fn structured_body() -> impl Strategy<Value = Buf> {
    structured_body_with(0u32..=0xff_ffff)
}

/// [`structured_body`] with the snapshots' schema ids drawn from `schemas`.
fn structured_body_with(schemas: impl Strategy<Value = u32>) -> impl Strategy<Value = Buf> {
    (
        any::<u16>(),
        1u32..=0xff_ffff,
        proptest::collection::vec(
            (
                proptest::collection::vec(any::<u8>(), 124),
                0u8..=8,
                schemas,
            ),
            0..=12,
        ),
        any::<u8>(),
    )
        .prop_map(|(ns, t, recs, free)| {
            let ty = TraceType::from_bits(t).unwrap();
            let fields = usize::from(ty.node_len()) * 4;
            let mut data = Buf::new();
            for (bytes, len, schema) in recs {
                let oss = if ty.has_oss() {
                    4 + usize::from(len) * 4
                } else {
                    0
                };
                if fields + oss == 0 || data.len() + fields + oss > 244 {
                    break;
                }
                data.extend_from_slice(&bytes[..fields]).unwrap();
                if ty.has_oss() {
                    let hdr = (u32::from(len) << 24) | schema;
                    data.extend_from_slice(&hdr.to_be_bytes()).unwrap();
                    data.extend_from_slice(&bytes[..usize::from(len) * 4])
                        .unwrap();
                }
            }
            let free = usize::from(free) % ((244 - data.len()) / 4 + 1);
            let mut b = Buf::new();
            b.extend_from_slice(&ns.to_be_bytes()).unwrap();
            let w = (u16::from(ty.node_len()) << 11) | free as u16;
            b.extend_from_slice(&w.to_be_bytes()).unwrap();
            b.extend_from_slice(&(t << 8).to_be_bytes()).unwrap();
            b.extend_from_slice(&[0u8; 244][..free * 4]).unwrap();
            b.extend_from_slice(&data).unwrap();
            b
        })
}

/// An independent model of the context lookup on a well-formed body,
/// from the bytes alone (records sliced by NodeLen and the snapshot's
/// Length, as `reference_attributes` does): the oldest record whose
/// snapshot carries `schema_id`, decoded; else the oldest snapshot's
/// schema.
fn lookup_from_bytes(body: &[u8], schema_id: u32) -> ContextLookup {
    let node_len = usize::from(body[2] >> 3) * 4;
    let free = usize::from(body[3] & 0x7f) * 4;
    if body[6] & 0x02 == 0 {
        return ContextLookup::NoOss;
    }
    let data_at = 8 + free;
    // (offset of the snapshot header in the body, its schema, its data)
    let mut snapshots: heapless::Vec<(usize, u32, &[u8]), 64> = heapless::Vec::new();
    let mut i = data_at;
    while i < body.len() {
        let oss = i + node_len;
        let words = usize::from(body[oss]);
        let schema = u32::from_be_bytes([0, body[oss + 1], body[oss + 2], body[oss + 3]]);
        snapshots
            .push((oss, schema, &body[oss + 4..oss + 4 + words * 4]))
            .unwrap();
        i = oss + 4 + words * 4;
    }
    let Some(&(_, oldest, _)) = snapshots.last() else {
        return ContextLookup::NoRecords;
    };
    // Path order: hop 1 is the last record on the wire.
    let found = snapshots
        .iter()
        .rev()
        .enumerate()
        .find(|(_, s)| s.1 == schema_id);
    let Some((i, &(offset, schema, data))) = found else {
        return ContextLookup::OtherSchema { schema_id: oldest };
    };
    let hop = i + 1;
    match crate::oss::decode(schema_id, schema, data) {
        Ok(ctx) if ctx.is_valid() => ContextLookup::Found(FoundContext { ctx, hop, offset }),
        Ok(ctx) => ContextLookup::ZeroIds(FoundContext { ctx, hop, offset }),
        Err(error) => ContextLookup::BadOss {
            hop,
            offset,
            error: error.with_base(offset),
        },
    }
}

proptest! {
    /// `find_context` finds what a model reading the bytes alone finds
    /// (outcome, hop, offset), in well-formed traces whose snapshots share
    /// a few schema ids, so that several records match and the oldest
    /// must win.
    #[test]
    fn context_lookup_matches_a_model_of_the_bytes(
        b in structured_body_with(prop_oneof![Just(CLT_SCHEMA_ID), Just(7u32), 0u32..=0xff_ffff]),
        schema in prop_oneof![Just(CLT_SCHEMA_ID), Just(7u32), 0u32..=0xff_ffff],
    ) {
        let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
        prop_assert_eq!(find_context(&t, schema), lookup_from_bytes(&b, schema));
    }

    #[test]
    fn attributes_of_any_wellformed_trace(b in structured_body()) {
        let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
        let view = CltView::new(t, CLT_SCHEMA_ID);
        let mut c = Count { bytes: 0, lines: 0 };
        let n = view.write_attributes(&mut c).unwrap();
        prop_assert_eq!(n, t.records().count());
        prop_assert_eq!(n, c.lines);
        for hop in view.hops() {
            let hop = hop.unwrap();
            let mut v = Text::new();
            hop.attribute_value().write_to(&mut v).unwrap();
            // Every item is `Key=value; `, the last one included.
            let ty = t.trace_type();
            let items: usize = [(0, 2), (1, 2), (2, 1), (3, 1), (4, 1), (5, 1), (6, 1), (7, 1),
                (8, 2), (9, 2), (10, 1), (11, 1), (22, 2)]
                .iter()
                .filter(|(bit, _)| ty.has_bit(*bit))
                .map(|(_, n)| n)
                .sum();
            prop_assert_eq!(v.matches("; ").count(), items);
            prop_assert_eq!(v.matches('=').count(), items);
            prop_assert!(v.is_empty() || v.ends_with("; "));
        }
    }

    #[test]
    fn attributes_never_panic(b in any_body(), schema in prop_oneof![Just(CLT_SCHEMA_ID), 0u32..=0xff_ffff]) {
        for v in [Mode::Strict, Mode::Lenient] {
            let Ok(t) = Trace::parse_preallocated(&b, v) else { continue };
            let view = CltView::new(t, schema);
            let mut c = Count { bytes: 0, lines: 0 };
            let records = t.records().count();
            match view.write_attributes(&mut c) {
                Ok(n) => {
                    prop_assert_eq!(n, c.lines);
                    prop_assert_eq!(n, records);
                    prop_assert_eq!(view.hops().len(), n);
                }
                Err(CltError::Trace(_)) => {
                    prop_assert_eq!(c.bytes, 0);
                    prop_assert!(matches!(view.context(), ContextLookup::Malformed(_) | ContextLookup::NoOss));
                }
                Err(e) => prop_assert!(false, "counting writer never fails: {e}"),
            }
            let _ = view.context().name();
        }
    }

    /// The view walks the records once and serves the lookup, the hops and
    /// the readable records from that walk: each is what the trace's own
    /// walks give (`Trace::records_path_order`, whose malformed trace
    /// yields its error alone, and `Trace::readable_records`), and the
    /// context is `find_context`'s.
    #[test]
    fn the_view_serves_what_the_trace_walks_give(b in any_body(), schema in prop_oneof![Just(CLT_SCHEMA_ID), 0u32..=0xff_ffff]) {
        for v in [Mode::Strict, Mode::Lenient] {
            let Ok(t) = Trace::parse_preallocated(&b, v) else { continue };
            let view = CltView::new(t, schema);
            let hops = view.hops();
            let path = t.records_path_order();
            prop_assert_eq!(hops.len(), path.clone().count());
            for (hop, rec) in hops.zip(path) {
                match (hop, rec) {
                    (Ok(h), Ok(r)) => prop_assert_eq!(h.record(), &r),
                    (Err(a), Err(b)) => prop_assert_eq!(a, b),
                    (h, r) => prop_assert!(false, "hop {:?} against record {:?}", h, r),
                }
            }
            let (ours, our_error) = view.readable_records();
            let (theirs, their_error) = t.readable_records();
            prop_assert_eq!(our_error, their_error);
            prop_assert!(ours.eq(theirs));
            prop_assert_eq!(*view.context(), find_context(&t, schema));
        }
    }

    /// The attribute texts need no escaping anywhere: printable ASCII
    /// without `"` or `\` (what their documentation promises, and what
    /// `ioam decode --format otlp-json` relies on to write them as is).
    #[test]
    fn attribute_text_is_printable_ascii_without_quotes(b in any_body(), schema in prop_oneof![Just(CLT_SCHEMA_ID), 0u32..=0xff_ffff]) {
        for v in [Mode::Strict, Mode::Lenient] {
            let Ok(t) = Trace::parse_preallocated(&b, v) else { continue };
            for hop in CltView::new(t, schema).hops().flatten() {
                let (mut k, mut v) = (Text::new(), Text::new());
                hop.attribute_key().write_to(&mut k).unwrap();
                hop.attribute_value().write_to(&mut v).unwrap();
                for text in [&k, &v] {
                    prop_assert!(
                        text.bytes().all(|c| (0x20..=0x7e).contains(&c) && c != b'"' && c != b'\\'),
                        "{}", text
                    );
                }
            }
        }
    }

    #[test]
    fn any_context_is_found_in_the_originator(ctx in valid_span_context(), hops in 0usize..5, schema in 0u32..=0xff_ffff) {
        let mut clt = [0u8; 32];
        CltSnapshot { ctx, schema_id: schema }.emit(&mut clt).map(|_| ()).unwrap();
        let origin = oss_record(64, &clt);
        let other = oss_record(63, &[0x00, 0xff, 0xff, 0xff]);
        let mut recs: heapless::Vec<&[u8], 8> = heapless::Vec::new();
        for _ in 0..hops {
            recs.push(&other).unwrap();
        }
        recs.push(&origin).unwrap();
        let b = body(3, 0x80_0002, 2, &recs);
        let l = find_context(&trace(&b), schema);
        prop_assert_eq!(l.context(), Some(ctx));
        prop_assert_eq!(l.found().map(|f| f.hop), Some(1));
    }
}

#[test]
fn decimal_digits_match_core_fmt() {
    let mut values: heapless::Vec<u64, 128> = heapless::Vec::new();
    let mut p = 1u64;
    for _ in 0..20 {
        for v in [p.wrapping_sub(1), p, p.wrapping_add(1), p.wrapping_mul(5)] {
            values.push(v).unwrap();
        }
        p = p.wrapping_mul(10);
    }
    values.push(u64::MAX).unwrap();
    for v in values {
        let (mut a, mut b) = (Text::new(), Text::new());
        let mut out = Ascii::new(&mut a);
        out.dec(v).unwrap();
        out.flush().unwrap();
        write!(b, "{v}").unwrap();
        assert_eq!(a, b);
    }
}

/// `dec_item` reserves room for the whole item at once; values of every
/// digit count (19 and 20 included) and a buffer about to fill.
#[test]
fn decimal_items_of_every_length() {
    let mut p = 1u64;
    for _ in 0..20 {
        for v in [p - 1, p, p.saturating_mul(9), u64::MAX] {
            for pre in [0, ASCII_BUF - 40, ASCII_BUF - 30, ASCII_BUF - 1] {
                let mut w = Counting(alloc::string::String::new(), 0);
                let mut out = Ascii::new(&mut w);
                for _ in 0..pre {
                    out.str("x").unwrap();
                }
                out.dec_item("Key=", Some(v)).unwrap();
                out.dec_item("None=", None).unwrap();
                out.flush().unwrap();
                let mut model = alloc::string::String::new();
                for _ in 0..pre {
                    model.push('x');
                }
                write!(model, "Key={v}; ").unwrap();
                assert_eq!(w.0, model);
            }
        }
        p = p.saturating_mul(10);
    }
}

proptest! {
    #[test]
    fn decimal_of_any_u64(v in any::<u64>()) {
        let (mut a, mut b) = (Text::new(), Text::new());
        let mut out = Ascii::new(&mut a);
        out.dec(v).unwrap();
        out.flush().unwrap();
        write!(b, "{v}").unwrap();
        prop_assert_eq!(a, b);
    }
}

/// An independent model of the reference pipeline, written from the CLT
/// agent (records sliced by NodeLen, fields unpacked in bit order, the list
/// reversed into path order, one HopLimit) and the Go collector (`ParseNode`:
/// decimal integers, `0x` + hex of the bytes).
fn reference_attributes(body: &[u8], out: &mut impl Write) {
    let ns = u16::from_be_bytes([body[0], body[1]]);
    let node_len = usize::from(body[2] >> 3) * 4;
    let free = usize::from(body[3] & 0x7f) * 4;
    let ttype = u32::from_be_bytes([0, body[4], body[5], body[6]]);
    let has = |bit: u32| ttype & (1 << (23 - bit)) != 0;
    let data = &body[8 + free..];
    let mut starts: heapless::Vec<(usize, usize), 64> = heapless::Vec::new();
    let mut i = 0;
    while i < data.len() {
        let start = i;
        i += node_len;
        if has(22) {
            i += 4 + usize::from(data[i]) * 4;
        }
        starts.push((start, i)).unwrap();
    }
    for (n, &(start, end)) in starts.iter().rev().enumerate() {
        let rec = &data[start..end];
        let u32_at = |o: usize| u32::from_be_bytes(rec[o..o + 4].try_into().unwrap());
        let u64_at = |o: usize| u64::from_be_bytes(rec[o..o + 8].try_into().unwrap());
        write!(out, "ioam_namespace{ns}_node{}=", n + 1).unwrap();
        // First pass: the agent's single HopLimit (the wide one wins).
        let mut o = 0;
        let mut hop_limit = 0u8;
        for bit in 0..12 {
            if !has(bit) {
                continue;
            }
            if bit == 0 || bit == 8 {
                hop_limit = rec[o];
            }
            o += if (8..=10).contains(&bit) { 8 } else { 4 };
        }
        let mut o = 0;
        for bit in 0..12 {
            if !has(bit) {
                continue;
            }
            match bit {
                0 => write!(out, "HopLimit={hop_limit}; Id={}; ", u32_at(o) & 0xff_ffff),
                1 => write!(
                    out,
                    "IngressId={}; EgressId={}; ",
                    u32_at(o) >> 16,
                    u32_at(o) & 0xffff
                ),
                2 => write!(out, "TimestampSecs={}; ", u32_at(o)),
                3 => write!(out, "TimestampFrac={}; ", u32_at(o)),
                4 => write!(out, "TransitDelay={}; ", u32_at(o)),
                5 => write!(out, "NamespaceData=0x{:08x}; ", u32_at(o)),
                6 => write!(out, "QueueDepth={}; ", u32_at(o)),
                7 => write!(out, "CsumComp={}; ", u32_at(o)),
                8 => write!(
                    out,
                    "HopLimit={hop_limit}; IdWide={}; ",
                    u64_at(o) & 0x00ff_ffff_ffff_ffff
                ),
                9 => write!(
                    out,
                    "IngressIdWide={}; EgressIdWide={}; ",
                    u32_at(o),
                    u32_at(o + 4)
                ),
                10 => write!(out, "NamespaceDataWide=0x{:016x}; ", u64_at(o)),
                _ => write!(out, "BufferOccupancy={}; ", u32_at(o)),
            }
            .unwrap();
            o += if (8..=10).contains(&bit) { 8 } else { 4 };
        }
        if has(22) {
            let hdr = u32_at(node_len);
            write!(
                out,
                "OpaqueStateSchemaId={}; OpaqueStateData=0x",
                hdr & 0xff_ffff
            )
            .unwrap();
            for b in &rec[node_len + 4..] {
                write!(out, "{b:02x}").unwrap();
            }
            out.write_str("; ").unwrap();
        }
        out.write_str("\n").unwrap();
    }
}

type Long = heapless::String<8192>;

proptest! {
    #[test]
    fn attributes_match_the_reference_model(b in structured_body()) {
        let view = Trace::parse_preallocated(&b, Mode::Strict).map(|t| CltView::new(t, CLT_SCHEMA_ID)).unwrap();
        let (mut ours, mut reference) = (Long::new(), Long::new());
        view.write_attributes(&mut ours).unwrap();
        reference_attributes(&b, &mut reference);
        prop_assert_eq!(ours, reference);
    }
}

extern crate alloc;

#[derive(Debug, Clone)]
enum Piece {
    Str(alloc::string::String),
    Dec(u64),
    Hex(alloc::vec::Vec<u8>),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        ".{0,40}".prop_map(Piece::Str),
        "[a-z]{400,700}".prop_map(Piece::Str),
        any::<u64>().prop_map(Piece::Dec),
        proptest::collection::vec(any::<u8>(), 0..400).prop_map(Piece::Hex),
    ]
}

/// Counts the `write_str` calls it gets.
struct Counting(alloc::string::String, usize);

impl Write for Counting {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.push_str(s);
        self.1 += 1;
        Ok(())
    }
}

proptest! {
    /// The gathering writer gives the text of one `write!` per piece, across
    /// buffer-full boundaries, and writes nothing before `flush` unless the
    /// buffer filled.
    #[test]
    fn gathered_text_matches_piece_by_piece(pieces in proptest::collection::vec(piece(), 0..12)) {
        let mut model = alloc::string::String::new();
        let mut w = Counting(alloc::string::String::new(), 0);
        let mut out = Ascii::new(&mut w);
        for p in &pieces {
            match p {
                Piece::Str(s) => {
                    out.str(s).unwrap();
                    model.push_str(s);
                }
                Piece::Dec(v) => {
                    out.dec(*v).unwrap();
                    write!(model, "{v}").unwrap();
                }
                Piece::Hex(b) => {
                    out.hex(b).unwrap();
                    for x in b {
                        write!(model, "{x:02x}").unwrap();
                    }
                }
            }
            prop_assert_eq!(out.written(), model.len());
        }
        out.flush().unwrap();
        prop_assert_eq!(&w.0, &model);
        if model.len() <= ASCII_BUF {
            prop_assert!(w.1 <= 1);
        }
    }
}

/// Found by the property above: a number written with fewer than
/// `DECIMAL_ROOM` bytes left used to hand the buffer over although the whole
/// text fitted in it. Every distance from the end, for numbers and items.
#[test]
fn numbers_near_the_end_of_the_buffer_do_not_flush_early() {
    for fill in ASCII_BUF - 2 * DECIMAL_ROOM..=ASCII_BUF {
        for v in [0, 7, 12_345, u64::MAX] {
            let digits = alloc::format!("{v}");
            for item in [false, true] {
                let mut w = Counting(alloc::string::String::new(), 0);
                let mut out = Ascii::new(&mut w);
                let pad = alloc::string::String::from("x").repeat(fill);
                out.str(&pad).unwrap();
                let expected = if item {
                    out.dec_item("K=", Some(v)).unwrap();
                    alloc::format!("{pad}K={digits}; ")
                } else {
                    out.dec(v).unwrap();
                    alloc::format!("{pad}{digits}")
                };
                out.flush().unwrap();
                assert_eq!(w.0, expected, "fill {fill}, value {v}");
                let writes = if expected.len() <= ASCII_BUF { 1 } else { 2 };
                assert_eq!(w.1, writes, "fill {fill}, value {v}, item {item}");
            }
        }
    }
}

/// The same for the items whose digits are at hand (the namespace data):
/// every distance from the end, the item whole in one piece when it fits.
#[test]
fn digit_items_near_the_end_of_the_buffer() {
    let digits = b"0123456789abcdef";
    for fill in ASCII_BUF - 40..=ASCII_BUF {
        let mut w = Counting(alloc::string::String::new(), 0);
        let mut out = Ascii::new(&mut w);
        let pad = alloc::string::String::from("x").repeat(fill);
        out.str(&pad).unwrap();
        out.digits_item("NamespaceDataWide=0x", digits).unwrap();
        out.flush().unwrap();
        let expected = alloc::format!("{pad}NamespaceDataWide=0x0123456789abcdef; ");
        assert_eq!(w.0, expected, "fill {fill}");
        let writes = if expected.len() <= ASCII_BUF { 1 } else { 2 };
        assert_eq!(w.1, writes, "fill {fill}");
    }
}

/// Keys at every distance from the end of the buffer: in one window when
/// the longest key fits, piece by piece otherwise, the same text.
#[test]
fn keys_near_the_end_of_the_buffer() {
    for fill in ASCII_BUF - 80..=ASCII_BUF {
        for (namespace_id, index) in [(0, 1), (7, 12), (u16::MAX, usize::MAX)] {
            let key = AttributeKey {
                namespace_id,
                index,
            };
            let mut w = Counting(alloc::string::String::new(), 0);
            let mut out = Ascii::new(&mut w);
            let pad = alloc::string::String::from("x").repeat(fill);
            out.str(&pad).unwrap();
            key.write_into(&mut out).unwrap();
            let expected = alloc::format!("{pad}ioam_namespace{namespace_id}_node{index}");
            assert_eq!(out.written(), expected.len(), "fill {fill}");
            out.flush().unwrap();
            assert_eq!(w.0, expected, "fill {fill}");
            let writes = if expected.len() <= ASCII_BUF { 1 } else { 2 };
            assert!(w.1 <= writes, "fill {fill}: {} writes", w.1);
        }
    }
}

/// A byte sink that counts the pieces it gets and keeps the longest.
#[derive(Default)]
struct Bytes(alloc::vec::Vec<u8>, usize, usize);

impl AsciiSink for Bytes {
    fn put_ascii(&mut self, ascii: &[u8]) -> fmt::Result {
        self.0.extend_from_slice(ascii);
        self.1 += 1;
        self.2 = self.2.max(ascii.len());
        Ok(())
    }
}

/// One writer kept across pieces of a caller's own text (its sink written
/// directly after each `finish`): the text stays in order, and a writer
/// made by `Default` starts empty.
#[test]
fn a_kept_writer_and_direct_writes_keep_the_order() {
    let mut w: AttributeWriter<Bytes> = AttributeWriter::default();
    assert!(w.get_ref().0.is_empty());
    let mut model = alloc::string::String::new();
    for index in 1..=40 {
        let key = AttributeKey {
            namespace_id: 7,
            index,
        };
        w.get_mut().0.extend_from_slice(b"<");
        w.key(&key).unwrap();
        w.str(&"x".repeat(index * 7)).unwrap();
        w.finish().unwrap();
        w.get_mut().0.extend_from_slice(b">");
        write!(model, "<{key}{}>", "x".repeat(index * 7)).unwrap();
    }
    assert_eq!(&w.get_ref().0[..], model.as_bytes());
    assert_eq!(w.written() + 2 * 40, model.len());
}

proptest! {
    /// Through a byte sink (no UTF-8 check), the attribute text of every
    /// hop is the reference model's too, in pieces of at most `PIECE_LEN` bytes.
    #[test]
    fn byte_sink_gets_the_reference_text(b in structured_body()) {
        let view = Trace::parse_preallocated(&b, Mode::Strict).map(|t| CltView::new(t, CLT_SCHEMA_ID)).unwrap();
        let mut sink = Bytes(alloc::vec::Vec::new(), 0, 0);
        let mut w = AttributeWriter::with_sink(&mut sink);
        for hop in view.hops() {
            let hop = hop.unwrap();
            w.key(&hop.attribute_key()).unwrap();
            w.str("=").unwrap();
            w.value(&hop.attribute_value()).unwrap();
            w.str("\n").unwrap();
        }
        w.finish().unwrap();
        let mut reference = Long::new();
        reference_attributes(&b, &mut reference);
        prop_assert_eq!(&sink.0[..], reference.as_bytes());
        prop_assert!(sink.2 <= ASCII_BUF);
        if reference.len() <= ASCII_BUF {
            prop_assert_eq!(sink.1, usize::from(!reference.is_empty()));
        }
    }
}

#[test]
fn decimal_digits_like_std() {
    let mut vals: heapless::Vec<u64, 128> = heapless::Vec::new();
    let _ = vals.extend_from_slice(&[0, 1, 9, 10, 99, 100, 101, u64::MAX]);
    vals.extend((0..64).map(|s| 1u64 << s));
    vals.extend((1..20).flat_map(|p| [10u64.pow(p) - 1, 10u64.pow(p)]));
    assert_eq!(vals.len(), 8 + 64 + 38);
    // And a SplitMix64 sequence cut to every length.
    let mut x = 0u64;
    let random = (0..4000u64).map(|i| {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) >> (i % 64)
    });
    for v in vals.into_iter().chain(random) {
        let mut to = [b'#'; DECIMAL_ROOM];
        let n = write_decimal(v, &mut to);
        let mut want: Text = Text::new();
        write!(want, "{v}").unwrap();
        assert_eq!(core::str::from_utf8(&to[..n]).unwrap(), want.as_str());
    }
}

#[test]
fn eight_digits_is_every_number_padded() {
    // Every lane boundary (x99, x00, 9999/10000 in each half) and a stride
    // through the whole range; all 10^8 inputs were checked once, offline.
    let edges = (0..100u32)
        .flat_map(|q| [0, 1, 9, 10, 99, 100, 999, 1000, 9999].map(move |e| q * 1_000_000 + e));
    let stride = (0..100_000_000u32).step_by(9_973);
    for v in edges
        .chain(stride)
        .chain([99_999_999, 10_000_000, 9_999_999])
    {
        let mut want: heapless::String<8> = heapless::String::new();
        write!(want, "{v:08}").unwrap();
        assert_eq!(&eight_digits(v).to_le_bytes(), want.as_bytes(), "{v}");
    }
}
