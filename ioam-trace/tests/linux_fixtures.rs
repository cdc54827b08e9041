//! Traces laid out exactly as Linux transit routers write them (RFC 9197 §4.4;
//! `net/ipv6/ioam6.c`), decoded and re-created with the transit writer.

use ioam_trace::error::Part;
use ioam_trace::writer::{write_transit, NodeData, SkipReason, TransitConfig, TransitOutcome};
use ioam_trace::{Trace, TraceError, TraceType};
use ioam_wire::Mode;

/// Namespace 123, trace type 0xfff002 (NodeLen 15), 36 words of space, two
/// Linux routers passed: RemainingLen 2.
#[rustfmt::skip]
const TWO_HOPS: [u8; 8 + 144] = [
    // header: ns 123 | NodeLen 15, flags 0, RemainingLen 2 | type 0xfff002 | reserved
    0x00, 0x7b, 0x78, 0x02, 0xff, 0xf0, 0x02, 0x00,
    // free space: 2 words
    0, 0, 0, 0, 0, 0, 0, 0,
    // router 2 (newest), delivered locally, schema 777 bound with data "abcde"
    0x3e, 0x00, 0x00, 0x02,             // hop limit 62 (received 63), node id 2
    0x00, 0x15, 0xff, 0xff,             // ingress 21, egress 0xffff (local)
    0x65, 0x60, 0x00, 0x01,             // timestamp seconds
    0x00, 0x01, 0xe2, 0x41,             // microseconds 123457
    0xff, 0xff, 0xff, 0xff,             // transit delay: unavailable
    0xca, 0xfe, 0xf0, 0x0d,             // namespace data
    0xff, 0xff, 0xff, 0xff,             // queue depth: local delivery
    0xff, 0xff, 0xff, 0xff,             // checksum complement
    0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, // hop limit 62, wide id 0x202
    0x00, 0x00, 0x20, 0x21, 0xff, 0xff, 0xff, 0xff, // wide ingress 0x2021, egress unavailable
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, // wide namespace data
    0xff, 0xff, 0xff, 0xff,             // buffer occupancy
    0x02, 0x00, 0x03, 0x09,             // OSS: Length 2, schema 777
    b'a', b'b', b'c', b'd', b'e', 0, 0, 0, // data zero-padded to 4n
    // router 1 (oldest), forwarding, no schema
    0x3f, 0x00, 0x00, 0x01,             // hop limit 63 (received 64), node id 1
    0x00, 0x0b, 0x00, 0x0c,             // ingress 11, egress 12
    0x65, 0x60, 0x00, 0x00,
    0x00, 0x01, 0xe2, 0x40,
    0xff, 0xff, 0xff, 0xff,
    0xde, 0xad, 0xbe, 0xef,
    0x00, 0x00, 0x00, 0x00,             // queue depth: idle veth backlog 0
    0xff, 0xff, 0xff, 0xff,
    0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01,
    0x00, 0x00, 0x10, 0x11, 0x00, 0x00, 0x10, 0x12,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // wide namespace data default
    0xff, 0xff, 0xff, 0xff,
    0x00, 0xff, 0xff, 0xff,             // OSS: nothing to report
];

fn router1() -> NodeData<'static> {
    NodeData {
        hop_limit: NodeData::linux_hop_limit(64),
        node_id: 1,
        ingress_if_id: 11,
        egress_if_id: 12,
        timestamp_secs: 0x6560_0000,
        timestamp_frac: 123_456,
        namespace_data: 0xdead_beef,
        queue_depth: 0,
        node_id_wide: 0x101,
        ingress_if_id_wide: 0x1011,
        egress_if_id_wide: 0x1012,
        ..NodeData::unavailable()
    }
}

fn router2() -> NodeData<'static> {
    NodeData {
        hop_limit: NodeData::linux_hop_limit(63),
        node_id: 2,
        ingress_if_id: 21,
        egress_if_id: 0xffff,
        timestamp_secs: 0x6560_0001,
        timestamp_frac: 123_457,
        namespace_data: 0xcafe_f00d,
        node_id_wide: 0x202,
        ingress_if_id_wide: 0x2021,
        namespace_data_wide: 0x0123_4567_89ab_cdef,
        oss: Some((777, b"abcde")),
        ..NodeData::unavailable()
    }
}

fn empty_trace() -> [u8; 8 + 144] {
    let mut b = [0u8; 8 + 144];
    b[..8].copy_from_slice(&[0x00, 0x7b, 0x78, 36, 0xff, 0xf0, 0x02, 0x00]);
    b
}

#[test]
fn decodes_every_field_linux_wrote() {
    let t = Trace::parse_preallocated(&TWO_HOPS, Mode::Strict).unwrap();
    let h = t.header();
    assert_eq!(h.namespace_id, 123);
    assert_eq!(h.node_len, 15);
    assert_eq!(h.remaining_len, 2);
    assert_eq!(h.trace_type.bits(), 0xfff002);
    assert!(!h.flags.overflow);
    assert_eq!(t.free_space(), 8);
    assert_eq!(t.records_offset(), 16);

    let recs: Vec<_> = t.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(recs.len(), 2);
    let (r2, r1) = (recs[0], recs[1]);
    assert_eq!((r2.offset(), r2.len()), (16, 72));
    assert_eq!((r1.offset(), r1.len()), (88, 64));

    assert_eq!(r1.hop_limit(), Some(63));
    assert_eq!(r1.node_id(), Some(1));
    assert_eq!(r1.ingress_if_id(), Some(11));
    assert_eq!(r1.egress_if_id(), Some(12));
    assert_eq!(r1.timestamp_secs(), Some(0x6560_0000));
    assert_eq!(r1.timestamp_frac(), Some(123_456));
    assert_eq!(r1.transit_delay(), Some(0xffff_ffff));
    assert_eq!(r1.transit_delay_ns(), None);
    assert!(!r1.transit_delay_overflowed());
    assert_eq!(r1.namespace_data(), Some(0xdead_beef));
    assert_eq!(r1.queue_depth(), Some(0));
    assert_eq!(r1.checksum_complement(), Some(0xffff_ffff));
    assert_eq!(r1.hop_limit_wide(), Some(63));
    assert_eq!(r1.node_id_wide(), Some(0x101));
    assert_eq!(r1.ingress_if_id_wide(), Some(0x1011));
    assert_eq!(r1.egress_if_id_wide(), Some(0x1012));
    assert_eq!(r1.namespace_data_wide(), Some(u64::MAX));
    assert_eq!(r1.buffer_occupancy(), Some(0xffff_ffff));
    assert_eq!(r1.undefined(12), None);
    let oss = r1.oss().unwrap();
    assert!(oss.is_none());
    assert_eq!(
        (oss.length(), oss.schema_id(), oss.data()),
        (0, 0xff_ffff, &[][..])
    );
    assert_eq!(oss.offset(), 88 + 60);

    assert_eq!(r2.hop_limit(), Some(62));
    assert_eq!(r2.node_id(), Some(2));
    assert_eq!(r2.egress_if_id(), Some(0xffff));
    assert!(ioam_trace::record::unavailable::is_u16(
        r2.egress_if_id().unwrap()
    ));
    assert_eq!(r2.queue_depth(), Some(0xffff_ffff));
    assert_eq!(r2.egress_if_id_wide(), Some(0xffff_ffff));
    assert_eq!(r2.namespace_data(), Some(0xcafe_f00d));
    assert_eq!(r2.namespace_data_wide(), Some(0x0123_4567_89ab_cdef));
    let oss = r2.oss().unwrap();
    assert_eq!(oss.length(), 2);
    assert_eq!(oss.schema_id(), 777);
    assert_eq!(oss.data(), b"abcde\0\0\0");

    let path: Vec<_> = t
        .records_path_order()
        .map(|r| r.unwrap().node_id().unwrap())
        .collect();
    assert_eq!(path, [1, 2]);
}

#[test]
fn writer_reproduces_linux_bytes() {
    let mut b = empty_trace();
    let cfg = TransitConfig::default();
    assert_eq!(
        write_transit(&mut b, 123, &router1(), &cfg),
        Ok(TransitOutcome::Written {
            offset: 88,
            len: 64
        })
    );
    assert_eq!(
        write_transit(&mut b, 123, &router2(), &cfg),
        Ok(TransitOutcome::Written {
            offset: 16,
            len: 72
        })
    );
    assert_eq!(b, TWO_HOPS);
    // A third router needs 16 words, 2 are left: Overflow is set, nothing else moves.
    assert_eq!(
        write_transit(&mut b, 123, &router1(), &cfg),
        Ok(TransitOutcome::Overflowed)
    );
    let mut expected = TWO_HOPS;
    expected[2] |= 0x04;
    assert_eq!(b, expected);
    // Later routers skip.
    assert_eq!(
        write_transit(&mut b, 123, &router1(), &cfg),
        Ok(TransitOutcome::Skipped(SkipReason::OverflowSet))
    );
    assert_eq!(b, expected);
    let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
    assert!(t.header().flags.overflow);
    assert_eq!(t.records().count(), 2);
}

#[test]
fn other_namespace_is_untouched() {
    let mut b = empty_trace();
    assert_eq!(
        write_transit(&mut b, 124, &router1(), &TransitConfig::default()),
        Ok(TransitOutcome::Skipped(SkipReason::OtherNamespace))
    );
    assert_eq!(b, empty_trace());
}

/// Type 0x800000 with Linux defaults: `ioam6_id` unset (0xffffff).
#[test]
fn short_type_with_linux_default_id() {
    let mut b = [0u8; 8 + 12];
    b[..8].copy_from_slice(&[0x00, 0x01, 0x08, 0x03, 0x80, 0x00, 0x00, 0x00]);
    let node = NodeData {
        hop_limit: NodeData::linux_hop_limit(64),
        ..NodeData::unavailable()
    };
    let cfg = TransitConfig::default();
    for _ in 0..3 {
        assert!(matches!(
            write_transit(&mut b, 1, &node, &cfg),
            Ok(TransitOutcome::Written { len: 4, .. })
        ));
    }
    assert_eq!(
        b,
        [
            0x00, 0x01, 0x08, 0x00, 0x80, 0x00, 0x00, 0x00, 0x3f, 0xff, 0xff, 0xff, 0x3f, 0xff,
            0xff, 0xff, 0x3f, 0xff, 0xff, 0xff
        ]
    );
    // RemainingLen 0: Linux sets Overflow even though nothing could be written.
    assert_eq!(
        write_transit(&mut b, 1, &node, &cfg),
        Ok(TransitOutcome::Overflowed)
    );
    assert_eq!(b[2], 0x0c);
    let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
    for r in t.records() {
        let r = r.unwrap();
        assert!(ioam_trace::record::unavailable::is_node_id(
            r.node_id().unwrap()
        ));
    }
}

#[test]
fn every_truncation_of_the_fixture() {
    for n in 0..TWO_HOPS.len() {
        let body = &TWO_HOPS[..n];
        let res = Trace::parse_preallocated(body, Mode::Strict);
        if n < 8 {
            assert_eq!(
                res.unwrap_err(),
                TraceError::Truncated {
                    part: Part::Header,
                    offset: 0,
                    required: 8,
                    actual: n
                }
            );
            continue;
        }
        if (n - 8) % 4 != 0 {
            assert_eq!(
                res.unwrap_err(),
                TraceError::DataNotWordAligned {
                    offset: 8,
                    len: n - 8
                }
            );
            continue;
        }
        if n < 16 {
            assert_eq!(
                res.unwrap_err(),
                TraceError::RemainingLenBeyondSpace {
                    offset: 3,
                    remaining_len: 2,
                    space: n - 8
                }
            );
            continue;
        }
        let t = res.unwrap();
        let items: Vec<_> = t.records().collect();
        let last = items.last().copied();
        let expected_err = match n {
            16 => None,
            17..=75 => Some(TraceError::RecordTruncated {
                hop: 0,
                part: Part::NodeData,
                offset: 16,
                required: 60,
                actual: n - 16,
            }),
            76..=79 => Some(TraceError::RecordTruncated {
                hop: 0,
                part: Part::OssHeader,
                offset: 76,
                required: 4,
                actual: n - 76,
            }),
            80..=87 => Some(TraceError::RecordTruncated {
                hop: 0,
                part: Part::OssData,
                offset: 80,
                required: 8,
                actual: n - 80,
            }),
            88 => None,
            89..=147 => Some(TraceError::RecordTruncated {
                hop: 1,
                part: Part::NodeData,
                offset: 88,
                required: 60,
                actual: n - 88,
            }),
            148..=151 => Some(TraceError::RecordTruncated {
                hop: 1,
                part: Part::OssHeader,
                offset: 148,
                required: 4,
                actual: n - 148,
            }),
            _ => unreachable!(),
        };
        match expected_err {
            None => assert!(items.iter().all(Result::is_ok), "n={n}"),
            Some(e) => {
                assert_eq!(last, Some(Err(e)), "n={n}");
                // Path order reports the error first and only.
                let p: Vec<_> = t.records_path_order().collect();
                assert_eq!(p, [Err(e)], "n={n}");
            }
        }
        // Fused: after the last item, nothing more.
        let mut it = t.records();
        for _ in it.by_ref() {}
        assert!(it.next().is_none());
    }
}

#[test]
fn oss_length_overrunning_the_area() {
    let mut b = TWO_HOPS;
    b[148] = 5; // router 1 claims 5 words of OSS data, none are there
    let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
    let items: Vec<_> = t.records().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1],
        Err(TraceError::RecordTruncated {
            hop: 1,
            part: Part::OssData,
            offset: 152,
            required: 20,
            actual: 0
        })
    );
}

#[test]
fn node_len_zero_without_oss_does_not_loop() {
    // Type 0x000001 (reserved bit only): NodeLen 0, no OSS, but data present.
    let b = [0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 1, 2, 3, 4];
    let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
    let items: Vec<_> = t.records().collect();
    assert_eq!(
        items,
        [Err(TraceError::EmptyRecord {
            hop: 0,
            offset: 8,
            remaining: 4
        })]
    );
    // Lenient with trace type 0 and NodeLen 0: same.
    let b = [0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 1, 2, 3, 4];
    assert_eq!(
        Trace::parse_preallocated(&b, Mode::Strict).unwrap_err(),
        TraceError::EmptyTraceType { offset: 4 }
    );
    let t = Trace::parse_preallocated(&b, Mode::Lenient).unwrap();
    assert_eq!(t.records().count(), 1);
}

#[test]
fn node_len_checks_per_mode() {
    let mut b = TWO_HOPS;
    b[2] = 0x70; // NodeLen 14 instead of 15
    assert_eq!(
        Trace::parse_preallocated(&b, Mode::Strict).unwrap_err(),
        TraceError::NodeLenMismatch {
            offset: 2,
            node_len: 14,
            expected: 15
        }
    );
    assert_eq!(
        Trace::parse_preallocated(&b, Mode::Lenient).unwrap_err(),
        TraceError::NodeLenTooSmall {
            offset: 2,
            node_len: 14,
            required: 15
        }
    );
    let mut w = b;
    assert_eq!(
        write_transit(&mut w, 123, &router1(), &TransitConfig::default()),
        Err(TraceError::NodeLenMismatch {
            offset: 2,
            node_len: 14,
            expected: 15
        })
    );
    assert_eq!(w, b, "nothing modified on error");

    // Lenient: a larger NodeLen is the stride; the extra words are kept.
    let body = [
        0x00, 0x01, 0x10, 0x00, 0x80, 0x00, 0x00, 0x00, // NodeLen 2 for type 0x800000
        0x3f, 0x00, 0x00, 0x05, 0xaa, 0xbb, 0xcc, 0xdd, //
        0x3e, 0x00, 0x00, 0x06, 0x11, 0x22, 0x33, 0x44,
    ];
    assert!(Trace::parse_preallocated(&body, Mode::Strict).is_err());
    let t = Trace::parse_preallocated(&body, Mode::Lenient).unwrap();
    let recs: Vec<_> = t.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].node_id(), Some(5));
    assert_eq!(recs[0].extra_words(), &[0xaa, 0xbb, 0xcc, 0xdd]);
    assert_eq!(recs[1].node_id(), Some(6));
}

#[test]
fn remaining_len_beyond_space() {
    let mut b = TWO_HOPS;
    b[3] = 37;
    assert_eq!(
        Trace::parse_preallocated(&b, Mode::Strict).unwrap_err(),
        TraceError::RemainingLenBeyondSpace {
            offset: 3,
            remaining_len: 37,
            space: 144
        }
    );
    assert_eq!(
        write_transit(&mut b, 123, &router1(), &TransitConfig::default()).unwrap_err(),
        TraceError::RemainingLenBeyondSpace {
            offset: 3,
            remaining_len: 37,
            space: 144
        }
    );
    // An incremental trace treats it as a budget.
    let t = Trace::parse_incremental(&b, Mode::Strict).unwrap();
    assert_eq!(t.free_space(), 148);
}

#[test]
fn incremental_trace_records() {
    // Incremental: records right after the header, newest first; RemainingLen is the budget.
    let body = [
        0x00, 0x09, 0x08, 0x05, 0x80, 0x00, 0x00, 0x00, //
        0x3e, 0x00, 0x00, 0x02, //
        0x3f, 0x00, 0x00, 0x01,
    ];
    let t = Trace::parse_incremental(&body, Mode::Strict).unwrap();
    assert_eq!(t.free_space(), 20);
    let ids: Vec<_> = t.records().map(|r| r.unwrap().node_id().unwrap()).collect();
    assert_eq!(ids, [2, 1]);
    let ids: Vec<_> = t
        .records_path_order()
        .map(|r| r.unwrap().node_id().unwrap())
        .collect();
    assert_eq!(ids, [1, 2]);
}

#[test]
fn undefined_bits_filled_or_skipped() {
    // Type: bit 0 + bits 12 and 21: NodeLen 3.
    let t = TraceType::HOP_LIM_NODE_ID | TraceType::UNDEFINED_12 | TraceType::UNDEFINED_21;
    assert_eq!(t.bits(), 0x800804);
    let mut b = [0u8; 8 + 12];
    b[..8].copy_from_slice(&[0, 1, 0x18, 3, 0x80, 0x08, 0x04, 0]);
    let node = NodeData {
        hop_limit: 9,
        node_id: 7,
        ..NodeData::unavailable()
    };
    let mut rfc2 = b;
    assert_eq!(
        write_transit(
            &mut rfc2,
            1,
            &node,
            &TransitConfig {
                undefined_bits: ioam_trace::UndefinedFill::NoData,
                ..TransitConfig::default()
            }
        ),
        Ok(TransitOutcome::Skipped(SkipReason::UndefinedBits))
    );
    assert_eq!(rfc2, b);
    assert_eq!(
        write_transit(&mut b, 1, &node, &TransitConfig::default()),
        Ok(TransitOutcome::Written { offset: 8, len: 12 })
    );
    assert_eq!(
        &b[8..],
        &[9, 0, 0, 7, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
    let tr = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
    let r = tr.records().next().unwrap().unwrap();
    assert_eq!(r.undefined(12), Some(0xffff_ffff));
    assert_eq!(r.undefined(21), Some(0xffff_ffff));
    assert_eq!(r.undefined(13), None);
    assert_eq!(r.undefined(11), None);
}

#[test]
fn flags_loopback_active_unassigned_are_kept() {
    let mut b = [0u8; 8 + 8];
    // L, A and the unassigned bit set, type 0x800000, RemainingLen 2.
    b[..8].copy_from_slice(&[0, 1, 0x0b, 0x82, 0x80, 0, 0, 0]);
    let node = NodeData {
        hop_limit: 1,
        node_id: 2,
        ..NodeData::unavailable()
    };
    write_transit(&mut b, 1, &node, &TransitConfig::default()).unwrap();
    assert_eq!(&b[..8], &[0, 1, 0x0b, 0x81, 0x80, 0, 0, 0]);
    let t = Trace::parse_preallocated(&b, Mode::Strict).unwrap();
    let f = t.header().flags;
    assert!(f.loopback && f.active && f.unassigned && !f.overflow);
    assert_eq!(t.check_loopback(), Ok(()));
    // Loopback with another type breaks RFC 9322.
    b[4] = 0xc0;
    b[2] = 0x13;
    let t = Trace::parse_preallocated(&b, Mode::Lenient).unwrap();
    assert!(matches!(
        t.check_loopback(),
        Err(TraceError::LoopbackTraceType { offset: 4, .. })
    ));
}

#[test]
fn node_values_out_of_range() {
    let mut b = empty_trace();
    let node = NodeData {
        node_id: 0x100_0000,
        ..router1()
    };
    assert!(matches!(
        write_transit(&mut b, 123, &node, &TransitConfig::default()),
        Err(TraceError::ValueOutOfRange { .. })
    ));
    let node = NodeData {
        node_id_wide: 1 << 56,
        ..router1()
    };
    assert!(write_transit(&mut b, 123, &node, &TransitConfig::default()).is_err());
    let node = NodeData {
        oss: Some((0x100_0000, &[])),
        ..router1()
    };
    assert!(write_transit(&mut b, 123, &node, &TransitConfig::default()).is_err());
    assert_eq!(b, empty_trace());
}

#[test]
fn empty_type_lenient_is_like_linux() {
    let cfg = TransitConfig {
        mode: Mode::Lenient,
        ..TransitConfig::default()
    };
    let node = NodeData::unavailable();
    let mut b = [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        write_transit(&mut b, 1, &node, &cfg),
        Ok(TransitOutcome::Skipped(SkipReason::NothingToWrite))
    );
    assert_eq!(
        write_transit(&mut b, 1, &node, &TransitConfig::default()),
        Err(TraceError::EmptyTraceType { offset: 4 })
    );
    let mut b = [0, 1, 0, 0, 0, 0, 0, 0];
    assert_eq!(
        write_transit(&mut b, 1, &node, &cfg),
        Ok(TransitOutcome::Overflowed)
    );
    assert_eq!(b[2], 0x04);
}

#[test]
fn writer_on_every_truncation() {
    let full = empty_trace();
    for n in 0..full.len() {
        let mut b = full[..n].to_vec();
        let e = write_transit(&mut b, 123, &router1(), &TransitConfig::default()).unwrap_err();
        if n < 8 {
            assert_eq!(
                e,
                TraceError::Truncated {
                    part: Part::Header,
                    offset: 0,
                    required: 8,
                    actual: n
                }
            );
        } else {
            assert_eq!(
                e,
                TraceError::RemainingLenBeyondSpace {
                    offset: 3,
                    remaining_len: 36,
                    space: n - 8
                }
            );
        }
        assert_eq!(&b[..], &full[..n]);
    }
}

/// RFC 9197 §4.4.1: NodeLen 0 with only bit 22 set is valid; each record is just a
/// snapshot, walked by its own Length.
#[test]
fn opaque_state_only_trace() {
    #[rustfmt::skip]
    let body = [
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x00, // NodeLen 0, RemLen 1, type 0x000002
        0, 0, 0, 0,
        0x01, 0x00, 0x03, 0x09, b'a', b'b', 0, 0, // Length 1, schema 777
        0x00, 0xff, 0xff, 0xff, // nothing to report
    ];
    let t = Trace::parse_preallocated(&body, Mode::Strict).unwrap();
    let recs: Vec<_> = t.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!((recs[0].offset(), recs[0].len()), (12, 8));
    assert_eq!(recs[0].hop_limit(), None);
    let o = recs[0].oss().unwrap();
    assert_eq!(
        (o.length(), o.schema_id(), o.data()),
        (1, 777, &b"ab\0\0"[..])
    );
    assert!(recs[1].oss().unwrap().is_none());

    let mut b = [0u8; 24];
    b[..8].copy_from_slice(&[0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x02, 0x00]);
    let cfg = TransitConfig::default();
    write_transit(&mut b, 1, &NodeData::unavailable(), &cfg).unwrap();
    let n = NodeData {
        oss: Some((777, b"ab")),
        ..NodeData::unavailable()
    };
    assert_eq!(
        write_transit(&mut b, 1, &n, &cfg),
        Ok(TransitOutcome::Written { offset: 12, len: 8 })
    );
    assert_eq!(b[..], body[..]);
}
