//! A transit node's write into an Incremental Trace (IOAM-Type 1, RFC 9197
//! §4.4): the record is inserted right after the trace header, so the
//! option, the Hop-by-Hop header and the packet grow.
//!
//! RFC 9486 does not specify the Incremental Trace for IPv6 and Linux does
//! not process it; this follows RFC 9197 and is meant for tests and for
//! networks that agree to use it.
//!
//! ```
//! use ioam_trace::incremental::insert_incremental;
//! use ioam_trace::writer::{NodeData, TransitConfig, TransitOutcome};
//! use ioam_trace::{Mode, Trace};
//!
//! // IPv6 (payload 24: HbH 16 + 8 bytes of UDP), HbH with an incremental
//! // trace: ns 5, type 0x800000, budget 4 words, no record yet.
//! let mut pkt = [0u8; 40 + 24 + 8]; // 8 bytes of room at the end
//! pkt[0] = 0x60;
//! pkt[5] = 24; // Payload Length
//! pkt[6] = 0; // Hop-by-Hop
//! pkt[7] = 64;
//! pkt[40..56].copy_from_slice(&[
//!     17, 1, 0x01, 0x00, 0x31, 0x0a, 0x00, 0x01, // NH HEL | PadN | 0x31 len 10, type 1
//!     0x00, 0x05, 0x08, 0x04, 0x80, 0x00, 0x00, 0x00,
//! ]);
//! pkt[56..64].copy_from_slice(&[0x30, 0x39, 0x30, 0x39, 0, 8, 0, 0]); // UDP
//!
//! let node = NodeData { hop_limit: 63, node_id: 9, ..NodeData::unavailable() };
//! let done = insert_incremental(&mut pkt, 64, 5, &node, &TransitConfig::default())?;
//! assert_eq!(done.outcome, TransitOutcome::Written { offset: 56, len: 4 });
//! assert_eq!(done.packet_len, 72);
//! assert_eq!(pkt[5], 32); // Payload Length grew by 8
//! assert_eq!(pkt[41], 2); // HbH is 24 bytes now
//! assert_eq!(pkt[45], 14); // option data grew by the 4-byte record
//! assert_eq!(&pkt[56..60], &[63, 0, 0, 9]);
//! assert_eq!(&pkt[60..64], &[0x01, 0x02, 0x00, 0x00]); // padding back to 8n
//! assert_eq!(&pkt[64..68], &[0x30, 0x39, 0x30, 0x39]); // UDP moved behind
//! let trace = Trace::parse_incremental(&pkt[48..60], Mode::Strict)?;
//! assert_eq!(trace.free_space(), 12);
//! # Ok::<(), ioam_trace::TraceError>(())
//! ```

use ioam_wire::ioam::IoamType;
use ioam_wire::ipv6::{Ipv6Header, IPV6_HEADER_LEN};
use ioam_wire::opt::{Opt, Options, OPT_PAD1, OPT_PADN};
use ioam_wire::Mode;

use crate::error::PacketProblem;
use crate::error::{Part, TraceError};
use crate::header::{TraceHeader, TraceHeaderRepr, TRACE_HEADER_LEN};
use crate::trace::check_node_len;
use crate::writer::{
    emit_record, NodeData, SkipReason, TransitConfig, TransitOutcome, UndefinedFill,
};

/// What [`insert_incremental`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IncrementalOutcome {
    /// What happened to the trace. For [`TransitOutcome::Written`] the
    /// offset counts from the packet start.
    pub outcome: TransitOutcome,
    /// The packet length afterwards.
    pub packet_len: usize,
}

/// Inserts this node's record into the first Incremental Trace option of
/// `namespace_id` in the Hop-by-Hop header of the IPv6 packet
/// `buf[..packet_len]`, using the room after it in `buf` (RFC 9197 §4.4).
///
/// The record goes right after the trace header; the options that follow
/// it move back by the record size (a multiple of 4, so their 4n alignment
/// holds); the trailing padding is recomputed so the header stays a
/// multiple of 8; Opt Data Len, Hdr Ext Len and the IPv6 Payload Length are
/// updated; RemainingLen drops by the record size in words. When the record
/// exceeds the RemainingLen budget, Overflow is set and nothing is added
/// (as for a pre-allocated trace).
///
/// Error offsets count from the packet start. On error the buffer is
/// unchanged.
///
/// # Errors
/// [`TraceError::Wire`] for a malformed IPv6 or Hop-by-Hop header,
/// [`TraceError::Packet`] when there is no Hop-by-Hop header, the header
/// errors of [`crate::writer::write_transit`],
/// [`TraceError::TooLong`] when the option would exceed 255 data bytes or
/// the Payload Length 65535, [`TraceError::Truncated`] (output buffer) when
/// `buf` has no room for the grown packet.
pub fn insert_incremental(
    buf: &mut [u8],
    packet_len: usize,
    namespace_id: u16,
    node: &NodeData<'_>,
    cfg: &TransitConfig,
) -> Result<IncrementalOutcome, TraceError> {
    let unchanged = |outcome| {
        Ok(IncrementalOutcome {
            outcome,
            packet_len,
        })
    };
    let packet = buf.get(..packet_len).ok_or(TraceError::Truncated {
        part: Part::OutputBuffer,
        offset: 0,
        required: packet_len,
        actual: buf.len(),
    })?;
    let ip = Ipv6Header::new_checked(packet)?;
    if ip.next_header() != 0 {
        return Err(TraceError::Packet {
            offset: 6,
            reason: PacketProblem::NoHopByHop,
        });
    }
    let payload_len = usize::from(ip.payload_len());
    let hbh_start = IPV6_HEADER_LEN;
    let hel = *packet.get(hbh_start + 1).ok_or(TraceError::Packet {
        offset: hbh_start,
        reason: PacketProblem::Truncated,
    })?;
    let hbh_len = (usize::from(hel) + 1) * 8;
    let hbh = packet
        .get(hbh_start..hbh_start + hbh_len)
        .ok_or(TraceError::Packet {
            offset: hbh_start,
            reason: PacketProblem::Truncated,
        })?;
    if IPV6_HEADER_LEN + payload_len != packet_len {
        return Err(TraceError::Packet {
            offset: 4,
            reason: PacketProblem::PayloadLenMismatch,
        });
    }

    // One walk: the target option and the end of the last non-pad option.
    let mut target = None;
    let mut content_end = 2;
    for o in Options::new(hbh, Mode::Lenient) {
        let o = o.map_err(|e| TraceError::Wire(e.with_base(hbh_start)))?;
        if !o.is_padding() {
            content_end = o.offset() + o.len();
        }
        if let Opt::Ioam(io) = o {
            if target.is_none()
                && io.ioam_type == IoamType::IncrementalTrace
                && io.body.get(..2) == Some(&namespace_id.to_be_bytes()[..])
            {
                target = Some((io.offset, io.body_offset, io.body.len()));
            }
        }
    }
    let Some((opt_off, body_off, body_len)) = target else {
        return unchanged(TransitOutcome::Skipped(SkipReason::OtherNamespace));
    };

    let body = &hbh[body_off..body_off + body_len];
    let hdr = TraceHeaderRepr::parse(
        &TraceHeader::new_checked(body).map_err(|e| e.with_base(hbh_start + body_off))?,
    )?;
    let at_body = |e: TraceError| e.with_base(hbh_start + body_off);
    check_node_len(hdr.node_len, hdr.trace_type, cfg.mode).map_err(at_body)?;
    if hdr.node_len != hdr.trace_type.node_len() {
        return Err(at_body(TraceError::NodeLenMismatch {
            offset: crate::header::NODE_LEN_OFFSET,
            node_len: hdr.node_len,
            expected: hdr.trace_type.node_len(),
        }));
    }
    if hdr.flags.overflow {
        return unchanged(TransitOutcome::Skipped(SkipReason::OverflowSet));
    }
    if cfg.undefined_bits == UndefinedFill::NoData && !hdr.trace_type.undefined_bits().is_empty() {
        return unchanged(TransitOutcome::Skipped(SkipReason::UndefinedBits));
    }
    node.check(hdr.trace_type)?;
    let need = node.record_len(hdr.trace_type);
    let budget = usize::from(hdr.remaining_len) * 4;
    let abs_body = hbh_start + body_off;
    if budget == 0 || budget < need {
        let mut view = TraceHeader::new_unchecked(&mut buf[abs_body..abs_body + TRACE_HEADER_LEN]);
        view.set_overflow(true);
        return unchanged(TransitOutcome::Overflowed);
    }
    if need == 0 {
        return unchanged(TransitOutcome::Skipped(SkipReason::NothingToWrite));
    }

    let new_data_len = body_len + 2 + need;
    if new_data_len > 255 {
        return Err(TraceError::TooLong {
            offset: hbh_start + opt_off + 1,
            required: new_data_len,
            max: 255,
        });
    }
    let new_end = content_end + need;
    let new_hbh_len = new_end.next_multiple_of(8);
    if new_hbh_len > 2048 {
        return Err(TraceError::TooLong {
            offset: hbh_start + 1,
            required: new_hbh_len,
            max: 2048,
        });
    }
    let new_packet_len = packet_len - hbh_len + new_hbh_len;
    let new_payload = new_packet_len - IPV6_HEADER_LEN;
    if new_payload > 65535 {
        return Err(TraceError::TooLong {
            offset: 4,
            required: new_payload,
            max: 65535,
        });
    }
    if new_packet_len > buf.len() {
        return Err(TraceError::Truncated {
            part: Part::OutputBuffer,
            offset: 0,
            required: new_packet_len,
            actual: buf.len(),
        });
    }

    // Everything is checked: rewrite. The packet after the header moves
    // first, then the options behind the insertion point.
    let ins = abs_body + TRACE_HEADER_LEN;
    buf.copy_within(hbh_start + hbh_len..packet_len, hbh_start + new_hbh_len);
    buf.copy_within(ins..hbh_start + content_end, ins + need);
    emit_record(hdr.trace_type, node, &mut buf[ins..ins + need])?;
    let pad = &mut buf[hbh_start + new_end..hbh_start + new_hbh_len];
    match pad.len() {
        0 => {}
        1 => pad[0] = OPT_PAD1,
        n => {
            pad.fill(0);
            pad[0] = OPT_PADN;
            pad[1] = (n - 2) as u8;
        }
    }
    buf[hbh_start + 1] = (new_hbh_len / 8 - 1) as u8;
    buf[hbh_start + opt_off + 1] = new_data_len as u8;
    let mut view = TraceHeader::new_unchecked(&mut buf[abs_body..abs_body + TRACE_HEADER_LEN]);
    view.set_remaining_len(hdr.remaining_len - (need / 4) as u8);
    Ipv6Header::new_unchecked(&mut buf[..IPV6_HEADER_LEN]).set_payload_len(new_payload as u16);
    Ok(IncrementalOutcome {
        outcome: TransitOutcome::Written {
            offset: ins,
            len: need,
        },
        packet_len: new_packet_len,
    })
}
