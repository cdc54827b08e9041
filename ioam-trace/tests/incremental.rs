//! Inserting records into an Incremental Trace inside a packet.

use ioam_trace::incremental::insert_incremental;
use ioam_trace::writer::{NodeData, SkipReason, TransitConfig, TransitOutcome};
use ioam_trace::{Trace, TraceError};
use ioam_wire::error::{Limit, WireError};
use ioam_wire::ioam::IoamType;
use ioam_wire::packet::IoamOptions;
use ioam_wire::Mode;

const UDP: [u8; 12] = [0x30, 0x39, 0x30, 0x39, 0, 12, 0xab, 0xcd, 1, 2, 3, 4];

/// IPv6 header + `hbh` + UDP, with `room` spare bytes at the end.
fn packet(hbh: &[u8], room: usize) -> (Vec<u8>, usize) {
    let payload = hbh.len() + UDP.len();
    let pl = (payload as u16).to_be_bytes();
    let mut p = vec![0x60, 0, 0, 0, pl[0], pl[1], 0, 64];
    p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8].repeat(8));
    p.extend_from_slice(hbh);
    p.extend_from_slice(&UDP);
    let len = p.len();
    p.resize(len + room, 0xee);
    (p, len)
}

fn node(id: u32) -> NodeData<'static> {
    NodeData {
        hop_limit: 60,
        node_id: id,
        ..NodeData::unavailable()
    }
}

/// Every IOAM option of the packet, checked in strict mode.
fn traces(p: &[u8]) -> Vec<(u16, Vec<u32>, usize)> {
    IoamOptions::new(p, Mode::Strict)
        .unwrap()
        .map(|o| {
            let o = o.unwrap();
            assert_eq!(o.option.ioam_type, IoamType::IncrementalTrace);
            let t = Trace::parse_incremental(o.option.body, Mode::Strict).unwrap();
            let ids = t.records().map(|r| r.unwrap().node_id().unwrap()).collect();
            (t.namespace_id(), ids, t.free_space())
        })
        .collect()
}

#[rustfmt::skip]
const TWO_TRACES: [u8; 32] = [
    17, 3, 0x01, 0x00,
    0x31, 0x0a, 0x00, 0x01, 0x00, 0x05, 0x08, 0x02, 0x80, 0x00, 0x00, 0x00, // ns 5, budget 2
    0x31, 0x0a, 0x00, 0x01, 0x00, 0x06, 0x08, 0x10, 0x80, 0x00, 0x00, 0x00, // ns 6, budget 16
    0x01, 0x02, 0x00, 0x00,
];

#[test]
fn records_accumulate_and_following_options_move() {
    let (mut p, mut len) = packet(&TWO_TRACES, 64);
    for id in 1..=3 {
        let r = insert_incremental(&mut p, len, 5, &node(id), &TransitConfig::default()).unwrap();
        if id <= 2 {
            assert!(matches!(r.outcome, TransitOutcome::Written { len: 4, .. }));
        } else {
            // The budget of 2 words is spent: Overflow set, nothing added.
            assert_eq!(r.outcome, TransitOutcome::Overflowed);
            assert_eq!(r.packet_len, len);
        }
        len = r.packet_len;
        assert_eq!(
            usize::from(u16::from_be_bytes([p[4], p[5]])) + 40,
            len,
            "Payload Length follows"
        );
        assert_eq!(&p[len - 12..len], &UDP, "upper layer intact");
    }
    assert_eq!(traces(&p[..len]), [(5, vec![2, 1], 0), (6, vec![], 64)]);
    let r = insert_incremental(&mut p, len, 6, &node(9), &TransitConfig::default()).unwrap();
    len = r.packet_len;
    assert_eq!(traces(&p[..len]), [(5, vec![2, 1], 0), (6, vec![9], 60)]);
    assert_eq!(p[40 + 1], 4, "40-byte HbH");
}

#[test]
fn trailing_padding_is_reused() {
    // 4 bytes of trailing padding absorb a 4-byte record: the packet keeps its size.
    let (mut p, len) = packet(&TWO_TRACES, 0);
    let r = insert_incremental(&mut p, len, 6, &node(1), &TransitConfig::default()).unwrap();
    assert_eq!(r.packet_len, len);
    assert_eq!(
        r.outcome,
        TransitOutcome::Written {
            offset: 40 + 28,
            len: 4
        }
    );
    assert_eq!(&p[40 + 28..40 + 32], &[60, 0, 0, 1]);
    assert_eq!(traces(&p), [(5, vec![], 8), (6, vec![1], 60)]);
}

#[test]
fn errors_leave_the_packet_alone() {
    // After one record the trailing padding is used up: the next record
    // needs 8 more bytes, and there is no room.
    let (mut p0, len) = packet(&TWO_TRACES, 0);
    insert_incremental(&mut p0, len, 6, &node(1), &TransitConfig::default()).unwrap();
    let mut p = p0.clone();
    assert_eq!(
        insert_incremental(&mut p, len, 5, &node(1), &TransitConfig::default()),
        Err(TraceError::Wire(WireError::BufferTooSmall {
            required: len + 8,
            actual: len
        }))
    );
    assert_eq!(p, p0);
    // Other namespace.
    assert_eq!(
        insert_incremental(&mut p, len, 7, &node(1), &TransitConfig::default())
            .unwrap()
            .outcome,
        TransitOutcome::Skipped(SkipReason::OtherNamespace)
    );
    assert_eq!(p, p0);
    // No Hop-by-Hop header.
    let mut q = p0.clone();
    q[6] = 17;
    assert_eq!(
        insert_incremental(&mut q, len, 5, &node(1), &TransitConfig::default()),
        Err(TraceError::NoHopByHop { offset: 6 })
    );
    // Every truncation of the packet is an error, never a panic, and changes nothing.
    for n in 0..len {
        let mut q = p0.clone();
        assert!(
            insert_incremental(&mut q, n, 5, &node(1), &TransitConfig::default()).is_err(),
            "n={n}"
        );
        assert_eq!(q, p0);
    }
}

#[test]
fn option_cannot_exceed_255_bytes() {
    // An incremental trace with a 252-byte body already (244 bytes of records).
    let mut hbh = vec![17, 32, 0x01, 0x00, 0x31, 254, 0x00, 0x01];
    hbh.extend_from_slice(&[0x00, 0x05, 0x08, 0x7f, 0x80, 0x00, 0x00, 0x00]);
    hbh.extend_from_slice(&[0x3f, 0, 0, 1].repeat(61));
    hbh.extend_from_slice(&[0x01, 0x02, 0x00, 0x00]);
    assert_eq!(hbh.len(), 264);
    let (p0, len) = packet(&hbh, 64);
    let mut p = p0.clone();
    assert_eq!(
        insert_incremental(&mut p, len, 5, &node(1), &TransitConfig::default()),
        Err(TraceError::Wire(WireError::TooLong {
            limit: Limit::OptionDataLen,
            actual: 258
        }))
    );
    assert_eq!(p, p0);
}

#[test]
fn malformed_trace_header_is_reported_with_packet_offsets() {
    let mut hbh = TWO_TRACES;
    hbh[10] = 0x10; // NodeLen 2 for type 0x800000
    let (mut p, len) = packet(&hbh, 64);
    assert_eq!(
        insert_incremental(&mut p, len, 5, &node(1), &TransitConfig::default()),
        Err(TraceError::NodeLenMismatch {
            offset: 40 + 8 + 2,
            node_len: 2,
            expected: 1
        })
    );
}

mod props {
    use super::*;
    use ioam_trace::writer::emit_record;
    use ioam_trace::TraceType;
    use ioam_wire::build::{Align, Body, OptionSpec, OptionsBuilder};
    use ioam_wire::ioam::OPT_IOAM;
    use ioam_wire::opt::{Opt, Options};
    use proptest::prelude::*;

    /// An experimental option type (act 00, chg 1): never padding or IOAM.
    const EXP: u8 = 0x3e;

    fn align(k: u8) -> Align {
        match k % 3 {
            0 => Align::NONE,
            1 => Align { x: 2, y: 0 },
            _ => Align { x: 4, y: 2 },
        }
    }

    proptest! {
        #[test]
        fn insert_keeps_the_packet_valid(
            before in proptest::collection::vec((0usize..12, any::<u8>()), 0..3),
            after in proptest::collection::vec((0usize..12, any::<u8>()), 0..3),
            existing in 0usize..5,
            budget in 0u8..=20,
            bits in prop_oneof![Just(0x80_0000u32), Just(0xc0_0000), Just(0x80_0002), Just(0xf0_0000)],
            id in 0u32..=0xff_ffff,
            oss in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..9)),
            room in 0usize..64,
        ) {
            let t = TraceType::from_bits(bits).unwrap();
            // Trace body: header, then `existing` records of node ids 1..=existing (newest first).
            let mut body = vec![0u8; 8];
            body[..2].copy_from_slice(&[0, 5]);
            body[2] = t.node_len() << 3;
            body[3] = budget;
            body[4..7].copy_from_slice(&bits.to_be_bytes()[1..]);
            for k in (1..=existing).rev() {
                let mut rec = [0u8; 64];
                let n = emit_record(t, &NodeData { node_id: k as u32, ..NodeData::unavailable() }, &mut rec).unwrap();
                body.extend_from_slice(&rec[..n]);
            }
            let datas: Vec<Vec<u8>> = before.iter().chain(after.iter()).map(|&(n, b)| vec![b; n]).collect();
            let mut specs = Vec::new();
            for (i, &(_, a)) in before.iter().enumerate() {
                specs.push(OptionSpec::Raw { option_type: EXP, align: align(a), data: Body::Bytes(&datas[i]) });
            }
            specs.push(OptionSpec::Ioam { option_type: OPT_IOAM, ioam_type: IoamType::IncrementalTrace, body: Body::Bytes(&body) });
            for (i, &(_, a)) in after.iter().enumerate() {
                specs.push(OptionSpec::Raw { option_type: EXP, align: align(a), data: Body::Bytes(&datas[before.len() + i]) });
            }
            let b = OptionsBuilder::new(17, &specs);
            let mut hbh = vec![0u8; b.buffer_len().unwrap()];
            b.emit(&mut hbh).unwrap();
            let (mut p, len) = packet(&hbh, room);
            let p0 = p.clone();

            let node = NodeData { hop_limit: 33, node_id: id, oss: oss.as_ref().map(|d| (0x434c54, &d[..])), ..NodeData::unavailable() };
            let need = node.record_len(t);
            match insert_incremental(&mut p, len, 5, &node, &TransitConfig::default()) {
                Err(TraceError::Wire(WireError::BufferTooSmall { required, .. })) => {
                    prop_assert!(required > p.len());
                    prop_assert_eq!(&p, &p0);
                }
                Err(e) => prop_assert!(false, "unexpected {e}"),
                Ok(done) => {
                    let new_len = done.packet_len;
                    prop_assert_eq!(usize::from(u16::from_be_bytes([p[4], p[5]])) + 40, new_len);
                    prop_assert_eq!(&p[new_len - 12..new_len], &UDP[..]);
                    let hbh_len = (usize::from(p[41]) + 1) * 8;
                    prop_assert_eq!(40 + hbh_len + 12, new_len);
                    // Strict walk (Linux rules: pad runs, 4n IOAM alignment) over the new header.
                    let mut raw = Vec::new();
                    let mut trace = None;
                    for o in Options::new(&p[40..40 + hbh_len], ioam_wire::opt::Mode::Strict) {
                        match o.unwrap() {
                            Opt::Unknown(u) => raw.push(u.data.to_vec()),
                            Opt::Ioam(io) => trace = Some(io.body.to_vec()),
                            _ => {}
                        }
                    }
                    prop_assert_eq!(&raw, &datas);
                    let tb = trace.unwrap();
                    let tr = Trace::parse_incremental(&tb, Mode::Strict).unwrap();
                    let ids: Vec<u32> = tr.records().map(|r| r.unwrap().node_id().unwrap()).collect();
                    let old: Vec<u32> = (1..=existing as u32).rev().collect();
                    match done.outcome {
                        TransitOutcome::Written { offset, len: wl } => {
                            prop_assert_eq!(wl, need);
                            prop_assert_eq!(&ids[1..], &old[..]);
                            prop_assert_eq!(ids[0], id);
                            prop_assert_eq!(usize::from(tr.header().remaining_len) * 4 + need, usize::from(budget) * 4);
                            prop_assert_eq!(&p[offset..offset + 4], &(u32::from(33u8) << 24 | id).to_be_bytes()[..]);
                        }
                        TransitOutcome::Overflowed => {
                            prop_assert!(budget == 0 || usize::from(budget) * 4 < need);
                            prop_assert!(tr.header().flags.overflow);
                            prop_assert_eq!(&ids, &old);
                            prop_assert_eq!(new_len, len);
                        }
                        other => prop_assert!(false, "{:?}", other),
                    }
                }
            }
        }
    }
}
