//! The encapsulator's output: the Linux layout byte for byte (RFC 9486 §4, RFC 8200 §4.2), and
//! what ioam-wire and the trace parser read back from it.

use ioam_trace::encap::{trace_space_for, PreallocatedTraceBuilder};
use ioam_trace::writer::NodeData;
use ioam_trace::{HeaderFlags, Trace, TraceError, TraceType};
use ioam_wire::ioam::IoamType;
use ioam_wire::opt::{Opt, Options};
use ioam_wire::Mode;

fn only_ioam_body(hbh: &[u8]) -> (usize, &[u8]) {
    let mut found = None;
    for o in Options::new(hbh, Mode::Strict) {
        match o.unwrap() {
            Opt::Ioam(io) => {
                assert!(found.is_none());
                assert_eq!(io.ioam_type, IoamType::PreallocatedTrace);
                assert_eq!(io.option_type, 0x31);
                assert!(io.is_aligned());
                found = Some((io.body_offset, io.body));
            }
            Opt::PadN { .. } | Opt::Pad1 { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    found.unwrap()
}

#[test]
fn type_800000_linux_layout() {
    let t = TraceType::from_bits(0x800000).unwrap();
    let space = trace_space_for(10, t, 0, 0);
    assert_eq!(space, 40);
    let b = PreallocatedTraceBuilder::new(0x00ff, t, space).with_next_header(58);
    assert_eq!(b.buffer_len(), Ok(56));
    let mut out = [0xaau8; 60];
    assert_eq!(b.emit(&mut out), Ok(56));
    let mut expected = vec![
        0x3a, 0x06, 0x01, 0x00, 0x31, 0x32, 0x00, 0x00, // NH 58, HEL 6 | PadN | opt len 50
        0x00, 0xff, 0x08, 0x0a, 0x80, 0x00, 0x00, 0x00, // ns 255, NodeLen 1, RemLen 10
    ];
    expected.extend_from_slice(&[0; 40]);
    // RemLen 10 is even: no trailing pad.
    assert_eq!(&out[..56], &expected[..]);
    assert_eq!(&out[56..], &[0xaa; 4], "nothing written past the header");

    let (off, body) = only_ioam_body(&out[..56]);
    assert_eq!(off, PreallocatedTraceBuilder::BODY_OFFSET);
    let tr = Trace::parse_preallocated(body, Mode::Strict).unwrap();
    assert_eq!(tr.free_space(), 40);
    assert_eq!(tr.records().count(), 0);
}

#[test]
fn type_fff002_full_space_with_originator() {
    let t = TraceType::from_bits(0xfff002).unwrap();
    let oss = [0x11u8; 28];
    let origin = NodeData {
        hop_limit: 64,
        node_id: 0x00_0100,
        ingress_if_id: 1,
        egress_if_id: 2,
        timestamp_secs: 0x6560_0000,
        timestamp_frac: 5,
        node_id_wide: 0x100,
        oss: Some((0x434c54, &oss)),
        ..NodeData::unavailable()
    };
    let space = trace_space_for(3, t, 0, 7);
    assert_eq!(space, 220);
    let b = PreallocatedTraceBuilder::new(123, t, 244)
        .with_next_header(17)
        .with_originator(&origin);
    let mut out = [0u8; 264];
    assert_eq!(b.emit(&mut out), Ok(264));

    let mut expected = vec![
        0x11, 0x20, 0x01, 0x00, 0x31, 0xfe, 0x00, 0x00, // HEL 32 (264 bytes), opt len 254
        0x00, 0x7b, 0x78, 0x26, 0xff, 0xf0, 0x02, 0x00, // NodeLen 15, RemLen 61 - 23 = 38
    ];
    expected.extend_from_slice(&[0; 152]); // free
    #[rustfmt::skip]
    expected.extend_from_slice(&[
        0x40, 0x00, 0x01, 0x00, // hop limit 64 (the encapsulator writes it as sent), id 256
        0x00, 0x01, 0x00, 0x02,
        0x65, 0x60, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x05,
        0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
        0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xff, 0xff, 0xff, 0xff,
        0x07, 0x43, 0x4c, 0x54, // OSS: Length 7, schema "CLT"
    ]);
    expected.extend_from_slice(&oss);
    expected.extend_from_slice(&[0x01, 0x02, 0x00, 0x00]); // 61 words is odd: PadN
    assert_eq!(expected.len(), 264);
    assert_eq!(&out[..], &expected[..]);

    let (_, body) = only_ioam_body(&out);
    let tr = Trace::parse_preallocated(body, Mode::Strict).unwrap();
    let recs: Vec<_> = tr.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].offset(), 160);
    assert_eq!(recs[0].oss().unwrap().schema_id(), 0x434c54);
    assert_eq!(recs[0].oss().unwrap().data(), &oss);
    // Two Linux hops of 64 bytes still fit, a third does not.
    assert_eq!(tr.free_space(), 152);
}

#[test]
fn builder_rules() {
    let t = TraceType::HOP_LIM_NODE_ID;
    let mut buf = [0u8; 300];
    assert_eq!(
        PreallocatedTraceBuilder::new(1, TraceType::EMPTY, 8).emit(&mut buf),
        Err(TraceError::EmptyTraceType { offset: 4 })
    );
    assert!(matches!(
        PreallocatedTraceBuilder::new(1, t | TraceType::UNDEFINED_12, 8).emit(&mut buf),
        Err(TraceError::UndefinedBits { offset: 4, .. })
    ));
    assert!(matches!(
        PreallocatedTraceBuilder::new(1, t | TraceType::RESERVED_23, 8).emit(&mut buf),
        Err(TraceError::UndefinedBits { offset: 4, .. })
    ));
    assert!(PreallocatedTraceBuilder::new(1, t, 6)
        .emit(&mut buf)
        .is_err());
    assert!(PreallocatedTraceBuilder::new(1, t, 248)
        .emit(&mut buf)
        .is_err());
    // RFC 9322: Loopback only with 0x800000.
    let l = HeaderFlags {
        loopback: true,
        active: true,
        ..HeaderFlags::default()
    };
    assert_eq!(
        PreallocatedTraceBuilder::new(1, t, 8)
            .with_flags(l)
            .emit(&mut buf),
        Ok(24)
    );
    assert_eq!(&buf[8..16], &[0, 1, 0x0b, 0x02, 0x80, 0, 0, 0]);
    assert!(matches!(
        PreallocatedTraceBuilder::new(1, t | TraceType::INTERFACE_IDS, 8)
            .with_flags(l)
            .emit(&mut buf),
        Err(TraceError::LoopbackTraceType { .. })
    ));
    // The unassigned bit is never sent.
    let u = HeaderFlags {
        unassigned: true,
        ..HeaderFlags::default()
    };
    PreallocatedTraceBuilder::new(1, t, 8)
        .with_flags(u)
        .emit(&mut buf)
        .unwrap();
    assert_eq!(buf[11], 0x02);
    // Originator record larger than the space.
    let n = NodeData::unavailable();
    assert_eq!(
        PreallocatedTraceBuilder::new(1, t | TraceType::OPAQUE_STATE, 4)
            .with_originator(&n)
            .emit(&mut buf),
        Err(TraceError::RecordTooLarge {
            required: 8,
            space: 4
        })
    );
    // Output buffer too small.
    assert!(matches!(
        PreallocatedTraceBuilder::new(1, t, 8).emit(&mut buf[..23]),
        Err(TraceError::Wire(_))
    ));
}

#[test]
fn space_helper() {
    let t = TraceType::from_bits(0x800002).unwrap();
    // RFC 9197 §4.4.1/§4.4.2: originator 36 bytes (1 + 1 + 7 words) and 26 hops of 8 bytes.
    assert_eq!(trace_space_for(27, t, 0, 7), 36 + 26 * 8);
    assert_eq!(trace_space_for(28, t, 0, 7), 244);
    assert_eq!(trace_space_for(0, t, 0, 7), 0);
    assert_eq!(trace_space_for(usize::MAX, t, usize::MAX, usize::MAX), 244);
    // Without bit 22 the OSS sizes do not count.
    assert_eq!(trace_space_for(2, TraceType::HOP_LIM_NODE_ID, 5, 5), 8);
}

/// Regression (found by the `injector` fuzz target): an encapsulator that
/// asks for the Overflow flag and its own record must still write the record;
/// the flag is applied after it.
#[test]
fn overflow_flag_with_originator_writes_the_record() {
    let t = TraceType::from_bits(0x800000).unwrap();
    let me = NodeData {
        hop_limit: 64,
        node_id: 7,
        ..NodeData::unavailable()
    };
    let flags = HeaderFlags {
        overflow: true,
        ..HeaderFlags::default()
    };
    let b = PreallocatedTraceBuilder::new(1, t, 12)
        .with_flags(flags)
        .with_originator(&me);
    let len = b.buffer_len().unwrap();
    let mut out = [0u8; 64];
    assert_eq!(b.emit(&mut out), Ok(len));
    let (_, body) = only_ioam_body(&out[..len]);
    let tr = Trace::parse_preallocated(body, Mode::Strict).unwrap();
    assert!(tr.header().flags.overflow);
    assert_eq!(tr.free_space(), 8);
    let rec = tr.records().next().unwrap().unwrap();
    assert_eq!((rec.hop_limit(), rec.node_id()), (Some(64), Some(7)));
}
