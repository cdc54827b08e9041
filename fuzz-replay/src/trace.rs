//! Checks for `ioam-trace`: record iteration, the transit writer and the
//! incremental insert.

use arbitrary::{Arbitrary, Unstructured};
use ioam_trace::incremental::insert_incremental;
use ioam_trace::prepared::PREPARED_RECORD_MAX;
use ioam_trace::writer::emit_record;
use ioam_trace::{
    write_transit_prepared, DataField, HeaderFlags, NodeData, NodeRecord, PreparedRecord, Trace,
    TraceHeader, TraceHeaderRepr, TraceKind, TraceType, TransitConfig, TransitOutcome, MAX_RECORDS,
    TRACE_DATA_MAX, TRACE_HEADER_LEN,
};
use ioam_wire::build::{Body, OptionSpec, OptionsBuilder};
use ioam_wire::ioam::{IoamType, OPT_IOAM};
use ioam_wire::ipv6::{Ipv6Header, IPV6_HEADER_LEN};
use ioam_wire::opt::{Opt, Options};
use ioam_wire::Mode;

use crate::util::{blob, inside_err};

const VALIDATIONS: [Mode; 2] = [Mode::Strict, Mode::Lenient];
const KINDS: [TraceKind; 2] = [TraceKind::Preallocated, TraceKind::Incremental];

/// Every accessor of a record answers exactly for the bits of its type.
fn check_record(rec: &NodeRecord<'_>, body: &[u8]) {
    let t = rec.trace_type();
    assert_eq!(
        rec.as_bytes(),
        &body[rec.offset()..rec.offset() + rec.len()]
    );
    assert!(rec.len() >= 4 && rec.len().is_multiple_of(4));
    assert_eq!(
        rec.hop_limit().is_some(),
        t.contains(TraceType::HOP_LIM_NODE_ID)
    );
    assert_eq!(
        rec.node_id().is_some(),
        t.contains(TraceType::HOP_LIM_NODE_ID)
    );
    if let Some(id) = rec.node_id() {
        assert!(id <= 0x00ff_ffff);
    }
    assert_eq!(
        rec.ingress_if_id().is_some(),
        t.contains(TraceType::INTERFACE_IDS)
    );
    assert_eq!(
        rec.egress_if_id().is_some(),
        t.contains(TraceType::INTERFACE_IDS)
    );
    assert_eq!(
        rec.timestamp_secs().is_some(),
        t.contains(TraceType::TIMESTAMP_SECS)
    );
    assert_eq!(
        rec.timestamp_frac().is_some(),
        t.contains(TraceType::TIMESTAMP_FRAC)
    );
    assert_eq!(
        rec.transit_delay().is_some(),
        t.contains(TraceType::TRANSIT_DELAY)
    );
    let _ = (rec.transit_delay_ns(), rec.transit_delay_overflowed());
    assert_eq!(
        rec.namespace_data().is_some(),
        t.contains(TraceType::NAMESPACE_DATA)
    );
    assert_eq!(
        rec.queue_depth().is_some(),
        t.contains(TraceType::QUEUE_DEPTH)
    );
    assert_eq!(
        rec.checksum_complement().is_some(),
        t.contains(TraceType::CHECKSUM_COMPLEMENT)
    );
    assert_eq!(
        rec.hop_limit_wide().is_some(),
        t.contains(TraceType::HOP_LIM_NODE_ID_WIDE)
    );
    if let Some(id) = rec.node_id_wide() {
        assert!(id <= 0x00ff_ffff_ffff_ffff);
    }
    assert_eq!(
        rec.ingress_if_id_wide().is_some(),
        t.contains(TraceType::INTERFACE_IDS_WIDE)
    );
    assert_eq!(
        rec.namespace_data_wide().is_some(),
        t.contains(TraceType::NAMESPACE_DATA_WIDE)
    );
    assert_eq!(
        rec.buffer_occupancy().is_some(),
        t.contains(TraceType::BUFFER_OCCUPANCY)
    );
    // The present-value walk yields each value the accessors give, in
    // wire order, and nothing else.
    let f = rec.fields();
    let accessor = |field: DataField| -> Option<u64> {
        use DataField::*;
        match field {
            HopLimit => f.hop_limit.map(u64::from),
            NodeId => f.node_id.map(u64::from),
            IngressIfId => f.ingress_if_id.map(u64::from),
            EgressIfId => f.egress_if_id.map(u64::from),
            TimestampSecs => f.timestamp_secs.map(u64::from),
            TimestampFrac => f.timestamp_frac.map(u64::from),
            TransitDelay => f.transit_delay.map(u64::from),
            NamespaceData => f.namespace_data.map(u64::from),
            QueueDepth => f.queue_depth.map(u64::from),
            ChecksumComplement => f.checksum_complement.map(u64::from),
            HopLimitWide => f.hop_limit_wide.map(u64::from),
            NodeIdWide => f.node_id_wide,
            IngressIfIdWide => f.ingress_if_id_wide.map(u64::from),
            EgressIfIdWide => f.egress_if_id_wide.map(u64::from),
            NamespaceDataWide => f.namespace_data_wide,
            BufferOccupancy => f.buffer_occupancy.map(u64::from),
        }
    };
    let mut walked = DataField::ALL.iter().filter(|&&d| accessor(d).is_some());
    for (field, v) in rec.values() {
        assert_eq!(walked.next(), Some(&field), "values() out of order");
        assert_eq!(accessor(field), Some(v), "{field:?}");
    }
    assert_eq!(walked.next(), None, "values() stopped early");
    for bit in 0..=24u8 {
        let set = (12..=21).contains(&bit) && t.has_bit(bit);
        assert_eq!(rec.undefined(bit).is_some(), set, "undefined bit {bit}");
    }
    let _ = rec.extra_words();
    match rec.oss() {
        Some(o) => {
            assert!(t.has_oss());
            assert_eq!(o.data().len(), usize::from(o.length()) * 4);
            assert!(o.schema_id() <= 0x00ff_ffff);
            assert!(o.offset() >= rec.offset() && o.offset() + 4 <= rec.offset() + rec.len());
            assert_eq!(o.offset() + 4 + o.data().len(), rec.offset() + rec.len());
        }
        None => assert!(
            !t.has_oss(),
            "a record of a type with bit 22 has a snapshot"
        ),
    }
}

/// Walks the records of a parsed trace and checks both iteration orders.
fn check_parsed(t: &Trace<'_>, body: &[u8]) {
    let len = body.len();
    let h = t.header();
    assert_eq!(t.body(), body);
    assert_eq!(t.data(), &body[TRACE_HEADER_LEN..]);
    assert!(t.data().len() <= TRACE_DATA_MAX && t.data().len().is_multiple_of(4));
    match t.kind() {
        TraceKind::Preallocated => {
            assert_eq!(t.records_offset(), TRACE_HEADER_LEN + t.free_space());
            assert!(t.free_space() <= t.data().len());
        }
        TraceKind::Incremental => assert_eq!(t.records_offset(), TRACE_HEADER_LEN),
    }
    assert_eq!(t.populated(), &body[t.records_offset()..]);
    let _ = t.check_loopback();
    let mut pos = t.records_offset();
    let mut recs = Vec::new();
    let mut err = None;
    let mut it = t.records();
    for r in it.by_ref() {
        assert!(err.is_none(), "record after an error");
        match r {
            Ok(rec) => {
                assert_eq!(rec.offset(), pos, "records are contiguous");
                assert_eq!(rec.trace_type(), h.trace_type);
                pos += rec.len();
                assert!(pos <= len);
                check_record(&rec, body);
                recs.push(rec);
            }
            Err(e) => {
                inside_err(&e, len);
                err = Some(e);
            }
        }
    }
    assert!(it.next().is_none(), "records are fused");
    assert!(recs.len() <= MAX_RECORDS);
    if err.is_none() {
        assert_eq!(pos, len, "records cover the populated area");
    }
    let path: Vec<_> = t.records_path_order().collect();
    // The readable records: those before the error, oldest first, and
    // the same error.
    let (readable, readable_err) = t.readable_records();
    assert_eq!(readable.len(), recs.len());
    let readable: Vec<_> = readable.collect();
    let back: Vec<_> = recs.iter().rev().map(|r| Ok(*r)).collect();
    assert_eq!(
        readable, back,
        "readable records are the good ones, reversed"
    );
    assert_eq!(
        readable_err, err,
        "readable records end with the walk's error"
    );
    match err {
        None => {
            let back: Vec<_> = recs.iter().rev().map(|r| Ok(*r)).collect();
            assert_eq!(path, back, "path order is wire order reversed");
        }
        Some(e) => assert_eq!(path, vec![Err(e)], "path order reports the error"),
    }
}

/// Trace parsing and record iteration, pre-allocated and incremental,
/// strict and lenient, wire and path order; the header repr round trip.
pub fn check_trace_records(data: &[u8]) {
    let len = data.len();
    for kind in KINDS {
        let mut strict_header = None;
        for v in VALIDATIONS {
            match Trace::parse(data, v, kind) {
                Ok(t) => {
                    if v == Mode::Strict {
                        strict_header = Some(*t.header());
                    }
                    check_parsed(&t, data);
                }
                Err(e) => {
                    inside_err(&e, len);
                    assert!(
                        v == Mode::Strict || strict_header.is_none(),
                        "lenient rejects what strict accepts: {e}"
                    );
                }
            }
        }
        if let Some(h) = strict_header {
            let l = Trace::parse(data, Mode::Lenient, kind).expect("lenient");
            assert_eq!(*l.header(), h);
        }
    }
    if let Ok(view) = TraceHeader::new_checked(data) {
        let repr = TraceHeaderRepr::parse(&view).expect("8 bytes");
        assert!(repr.check().is_ok());
        let mut out = [0u8; TRACE_HEADER_LEN];
        repr.emit(&mut TraceHeader::new_unchecked(&mut out[..]));
        assert_eq!(&out[..], &data[..TRACE_HEADER_LEN], "emit(parse(header))");
    }
    let mut u = Unstructured::new(data);
    if let Ok(repr) = TraceHeaderRepr::arbitrary(&mut u) {
        let mut out = [0u8; TRACE_HEADER_LEN];
        repr.emit(&mut TraceHeader::new_unchecked(&mut out[..]));
        let back = TraceHeaderRepr::parse(&TraceHeader::new_unchecked(&out[..])).expect("8");
        if repr.check().is_ok() {
            assert_eq!(back, repr, "parse(emit(header)) == header");
        } else {
            assert_eq!(back.node_len, repr.node_len & 0x1f);
            assert_eq!(back.remaining_len, repr.remaining_len & 0x7f);
        }
    }
}

/// A trace body for the writer: a header (made consistent unless `raw`)
/// and data bytes.
fn arbitrary_body(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    let sel = u8::arbitrary(u)?;
    if sel < 64 {
        return Ok(blob(u)?.to_vec());
    }
    let raw = sel < 96;
    let mut h = TraceHeaderRepr::arbitrary(u)?;
    let words = u.int_in_range(0..=TRACE_DATA_MAX / 4)?;
    let mut data = u.bytes(words * 4)?.to_vec();
    if !raw {
        h.node_len = h.trace_type.node_len();
        h.remaining_len = u.int_in_range(0..=words)? as u8;
        // Free space is zero on the wire, as an encapsulator leaves it.
        if bool::arbitrary(u)? {
            data[..usize::from(h.remaining_len) * 4].fill(0);
        }
    } else if bool::arbitrary(u)? {
        data.push(u8::arbitrary(u)?);
    }
    let mut body = vec![0u8; TRACE_HEADER_LEN];
    h.emit(&mut TraceHeader::new_unchecked(&mut body[..]));
    body.extend_from_slice(&data);
    Ok(body)
}

/// The transit writer: structured input (a trace body, the node's values,
/// the configuration). Checks what the writer may touch and the
/// RemainingLen arithmetic.
pub fn check_transit_writer(data: &[u8]) {
    let _ = transit(&mut Unstructured::new(data));
}

fn transit(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let body = arbitrary_body(u)?;
    let node = NodeData::arbitrary(u)?;
    let cfg = TransitConfig::arbitrary(u)?;
    let same_ns = bool::arbitrary(u)?;
    let ns = if same_ns && body.len() >= 2 {
        u16::from_be_bytes([body[0], body[1]])
    } else {
        u16::arbitrary(u)?
    };
    let before = body.clone();
    let mut after = body.clone();
    let res = ioam_trace::write_transit(&mut after, ns, &node, &cfg);
    let len = body.len();
    match res {
        Err(e) => {
            assert_eq!(after, before, "writer changed the trace and failed: {e}");
            inside_err(&e, len);
        }
        Ok(TransitOutcome::Skipped(_)) => assert_eq!(after, before, "skip changed the trace"),
        Ok(TransitOutcome::Overflowed) => {
            let h = TraceHeaderRepr::parse(&TraceHeader::new_unchecked(&before[..])).expect("8");
            let need = node.record_len(h.trace_type);
            let free = usize::from(h.remaining_len) * 4;
            assert!(
                free == 0 || free < need,
                "overflow with {free} free for {need}"
            );
            assert!(!h.flags.overflow);
            let mut expect = before.clone();
            expect[2] |= 0x04;
            assert_eq!(after, expect, "overflow changes only the Overflow bit");
        }
        Ok(TransitOutcome::Written { offset, len: rlen }) => {
            let h = TraceHeaderRepr::parse(&TraceHeader::new_unchecked(&before[..])).expect("8");
            let a = TraceHeaderRepr::parse(&TraceHeader::new_unchecked(&after[..])).expect("8");
            assert_eq!(h.namespace_id, ns);
            assert!(!h.flags.overflow);
            assert_eq!(rlen, node.record_len(h.trace_type));
            assert!(rlen > 0 && rlen.is_multiple_of(4));
            let free = usize::from(h.remaining_len) * 4;
            assert!(
                rlen <= free,
                "record of {rlen} written into {free} free bytes"
            );
            assert_eq!(
                usize::from(a.remaining_len) * 4,
                free - rlen,
                "RemainingLen"
            );
            assert_eq!(offset, TRACE_HEADER_LEN + free - rlen, "record slot");
            assert_eq!(
                TraceHeaderRepr {
                    remaining_len: h.remaining_len,
                    ..a
                },
                h,
                "only RemainingLen changed in the header"
            );
            assert_eq!(&after[..2], &before[..2]);
            assert_eq!(
                &after[4..offset],
                &before[4..offset],
                "bytes before the slot"
            );
            assert_eq!(
                &after[offset + rlen..],
                &before[offset + rlen..],
                "bytes after"
            );
            let mut rec = vec![0u8; rlen];
            assert_eq!(emit_record(h.trace_type, &node, &mut rec), Ok(rlen));
            assert_eq!(&after[offset..offset + rlen], &rec[..], "record bytes");
            if let Ok(t) = Trace::parse_preallocated(&after, cfg.mode) {
                let first = t.records().next().expect("a record").expect("it parses");
                assert_eq!(first.offset(), offset);
                assert_eq!(first.len(), rlen);
            }
        }
    }
    prepared_agrees(u, &before, &after, res, ns, &node, &cfg)
}

/// The prepared-record writer against the plain one: a record prepared for
/// the body's own trace type gives the same outcome and the same bytes; a
/// record of another type touches nothing.
fn prepared_agrees(
    u: &mut Unstructured<'_>,
    before: &[u8],
    after: &[u8],
    res: Result<TransitOutcome, ioam_trace::TraceError>,
    ns: u16,
    node: &NodeData<'_>,
    cfg: &TransitConfig,
) -> arbitrary::Result<()> {
    let theirs = TraceHeader::new_checked(before)
        .ok()
        .map(|h| h.trace_type());
    let tt = match theirs {
        Some(t) if bool::arbitrary(u)? => t,
        _ => TraceType::arbitrary(u)?,
    };
    let rec = match PreparedRecord::new(tt, node, cfg) {
        Ok(rec) => rec,
        Err(e) => {
            assert!(
                node.check(tt).is_err() || node.record_len(tt) > PREPARED_RECORD_MAX,
                "PreparedRecord refused a node the writer accepts: {e}"
            );
            return Ok(());
        }
    };
    assert_eq!(rec.len(), node.record_len(tt));
    let mut p = before.to_vec();
    let pres = write_transit_prepared(&mut p, ns, &rec);
    if theirs == Some(tt) {
        assert_eq!(pres, res, "prepared outcome");
        assert_eq!(&p[..], after, "prepared bytes");
    } else {
        assert_eq!(&p[..], before, "a record of another type changed the trace");
        match pres {
            Ok(TransitOutcome::Skipped(_)) => {}
            Ok(other) => panic!("a record of another type was not skipped: {other:?}"),
            Err(e) => inside_err(&e, before.len()),
        }
    }
    Ok(())
}

/// Incremental insert into a packet: structured input (an IPv6 packet with
/// a Hop-by-Hop header holding an incremental trace among other options, or
/// raw bytes). On error or skip nothing changes; on overflow only the
/// Overflow bit; a written record sits right after the trace header, the
/// rest of the packet is moved intact and every length is updated.
pub fn check_incremental_insert(data: &[u8]) {
    let _ = incremental(&mut Unstructured::new(data));
}

fn incremental_packet(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<u8>> {
    if u8::arbitrary(u)? < 64 {
        return Ok(blob(u)?.to_vec());
    }
    let mut h = TraceHeaderRepr::arbitrary(u)?;
    if bool::arbitrary(u)? {
        h.node_len = h.trace_type.node_len();
        h.flags = HeaderFlags::default();
    }
    let words = u.int_in_range(0..=16)?;
    let mut body = vec![0u8; TRACE_HEADER_LEN];
    h.emit(&mut TraceHeader::new_unchecked(&mut body[..]));
    body.extend_from_slice(u.bytes(words * 4)?);
    let before: &[u8] = Arbitrary::arbitrary(u)?;
    let after: &[u8] = Arbitrary::arbitrary(u)?;
    let mut specs = Vec::new();
    let pre_len = before.len().min(40);
    let post_len = after.len().min(40);
    if bool::arbitrary(u)? {
        specs.push(OptionSpec::Raw {
            option_type: 0x1e,
            align: ioam_wire::build::Align::NONE,
            data: Body::Bytes(&before[..pre_len]),
        });
    }
    specs.push(OptionSpec::Ioam {
        option_type: OPT_IOAM,
        ioam_type: IoamType::IncrementalTrace,
        body: Body::Bytes(&body),
    });
    if bool::arbitrary(u)? {
        specs.push(OptionSpec::Raw {
            option_type: 0x3e,
            align: ioam_wire::build::Align { x: 2, y: 1 },
            data: Body::Bytes(&after[..post_len]),
        });
    }
    let next = *u.choose(&[17u8, 6, 58, 59, 60])?;
    let b = OptionsBuilder::new(next, &specs);
    let Ok(hl) = b.buffer_len() else {
        return Err(arbitrary::Error::IncorrectFormat);
    };
    let upper: &[u8] = Arbitrary::arbitrary(u)?;
    let mut p = vec![0u8; IPV6_HEADER_LEN + hl];
    p[0] = 0x60;
    p[7] = 64;
    b.emit(&mut p[IPV6_HEADER_LEN..]).expect("sized");
    p.extend_from_slice(upper);
    let payload = (p.len() - IPV6_HEADER_LEN).min(0xffff) as u16;
    p[4..6].copy_from_slice(&payload.to_be_bytes());
    Ok(p)
}

/// Non-padding options of the Hop-by-Hop header of `packet`.
fn hbh_options(packet: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let hel = usize::from(packet[IPV6_HEADER_LEN + 1]);
    let hbh = &packet[IPV6_HEADER_LEN..IPV6_HEADER_LEN + (hel + 1) * 8];
    Options::new(hbh, Mode::Lenient)
        .map(|o| o.expect("options parse"))
        .filter(|o| !o.is_padding())
        .map(|o| match o {
            Opt::Ioam(io) => (io.option_type, io.body.to_vec()),
            Opt::Unknown(x) => (x.option_type, x.data.to_vec()),
            _ => unreachable!(),
        })
        .collect()
}

fn incremental(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let packet = incremental_packet(u)?;
    let node = NodeData::arbitrary(u)?;
    let cfg = TransitConfig::arbitrary(u)?;
    let ns = match bool::arbitrary(u)? {
        true if packet.len() >= 50 => u16::from_be_bytes([packet[48], packet[49]]),
        _ => u16::arbitrary(u)?,
    };
    let room = usize::from(u8::arbitrary(u)?);
    let len = packet.len();
    let mut buf = packet.clone();
    buf.resize(len + room, 0x77);
    let before = buf.clone();
    match insert_incremental(&mut buf, len, ns, &node, &cfg) {
        Err(e) => {
            assert_eq!(buf, before, "failed insert changed the packet: {e}");
            inside_err(&e, len);
        }
        Ok(out) => match out.outcome {
            TransitOutcome::Skipped(_) => {
                assert_eq!(out.packet_len, len);
                assert_eq!(buf, before, "skip changed the packet");
            }
            TransitOutcome::Overflowed => {
                assert_eq!(out.packet_len, len);
                let diff: Vec<usize> = (0..buf.len()).filter(|&i| buf[i] != before[i]).collect();
                assert_eq!(diff.len(), 1, "overflow changes one byte");
                let i = diff[0];
                assert_eq!(buf[i], before[i] | 0x04, "the Overflow bit");
            }
            TransitOutcome::Written { offset, len: rlen } => {
                let new_len = out.packet_len;
                assert!(new_len <= buf.len());
                let old_hbh = (usize::from(packet[IPV6_HEADER_LEN + 1]) + 1) * 8;
                let new_hbh = (usize::from(buf[IPV6_HEADER_LEN + 1]) + 1) * 8;
                assert_eq!(new_len - new_hbh, len - old_hbh);
                assert_eq!(&buf[..4], &packet[..4]);
                assert_eq!(
                    &buf[6..IPV6_HEADER_LEN + 1],
                    &packet[6..IPV6_HEADER_LEN + 1]
                );
                let ip = Ipv6Header::new_unchecked(&buf[..]);
                assert_eq!(usize::from(ip.payload_len()) + IPV6_HEADER_LEN, new_len);
                let upper = IPV6_HEADER_LEN + new_hbh;
                assert_eq!(
                    &buf[upper..new_len],
                    &packet[IPV6_HEADER_LEN + old_hbh..],
                    "upper layer moved intact"
                );
                assert_eq!(
                    &buf[new_len..],
                    &before[new_len..],
                    "bytes after the packet"
                );
                // The record.
                let body_at = offset - TRACE_HEADER_LEN;
                let h_old = TraceHeaderRepr::parse(&TraceHeader::new_unchecked(&packet[body_at..]))
                    .expect("8");
                let h_new = TraceHeaderRepr::parse(&TraceHeader::new_unchecked(&buf[body_at..]))
                    .expect("8");
                assert_eq!(h_new.namespace_id, ns);
                assert_eq!(rlen, node.record_len(h_old.trace_type));
                assert_eq!(
                    usize::from(h_new.remaining_len) * 4,
                    usize::from(h_old.remaining_len) * 4 - rlen,
                    "RemainingLen"
                );
                assert_eq!(
                    TraceHeaderRepr {
                        remaining_len: h_old.remaining_len,
                        ..h_new
                    },
                    h_old
                );
                let mut rec = vec![0u8; rlen];
                assert_eq!(emit_record(h_old.trace_type, &node, &mut rec), Ok(rlen));
                assert_eq!(&buf[offset..offset + rlen], &rec[..]);
                // Every option is still there, the trace grown by the record.
                let mut old = hbh_options(&packet);
                let new = hbh_options(&buf);
                assert_eq!(old.len(), new.len());
                for (o, n) in old.iter_mut().zip(&new) {
                    if o.1.len() != n.1.len() {
                        assert_eq!(n.1.len(), o.1.len() + rlen);
                        o.1.splice(TRACE_HEADER_LEN..TRACE_HEADER_LEN, rec.iter().copied());
                        o.1[2..4].copy_from_slice(&n.1[2..4]);
                    }
                }
                assert_eq!(old, new, "options after the insert");
            }
        },
    }
    Ok(())
}
