//! Inserting records into an Incremental Trace inside a packet.

use ioam_trace::error::{PacketProblem, Part};
use ioam_trace::incremental::insert_incremental;
use ioam_trace::writer::{NodeData, SkipReason, TransitConfig, TransitOutcome};
use ioam_trace::{Trace, TraceError, Validation};
use ioam_wire::ioam::IoamType;
use ioam_wire::opt::ParseMode;
use ioam_wire::packet::IoamOptions;

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
    IoamOptions::new(p, ParseMode::Strict)
        .unwrap()
        .map(|o| {
            let o = o.unwrap();
            assert_eq!(o.option.ioam_type, IoamType::IncrementalTrace);
            let t = Trace::parse_incremental(o.option.body, Validation::Strict).unwrap();
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
        Err(TraceError::Truncated {
            part: Part::OutputBuffer,
            offset: 0,
            required: len + 8,
            actual: len
        })
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
        Err(TraceError::Packet {
            offset: 6,
            reason: PacketProblem::NoHopByHop
        })
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
        Err(TraceError::TooLong {
            offset: 45,
            required: 258,
            max: 255
        })
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
