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

use ioam_wire::build::{grow_option, Growth};
use ioam_wire::ioam::IoamType;
use ioam_wire::ipv6::NEXT_HEADER_OFFSET;
use ioam_wire::opt::Options;
use ioam_wire::packet::hop_by_hop;
use ioam_wire::{Mode, WireError};

use crate::error::TraceError;
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
/// The packet editing (moving the options behind the record, padding,
/// lengths) is `ioam_wire::build::grow_option`'s.
///
/// # Errors
/// [`TraceError::NoHopByHop`] when there is no Hop-by-Hop header, the header
/// errors of [`crate::writer::write_transit`], and as
/// [`TraceError::Wire`] the errors of `grow_option`: a malformed IPv6 or
/// Hop-by-Hop header, a Payload Length that does not match `packet_len`,
/// an option that would exceed 255 data bytes or a Payload Length over
/// 65535 ([`WireError::TooLong`]), no room in `buf`
/// ([`WireError::BufferTooSmall`]).
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
    let packet = buf.get(..packet_len).ok_or(WireError::BufferTooSmall {
        required: packet_len,
        actual: buf.len(),
    })?;
    let Some(hbh) = hop_by_hop(packet)? else {
        return Err(TraceError::NoHopByHop {
            offset: NEXT_HEADER_OFFSET,
        });
    };
    // The first Incremental Trace of the namespace, through the options walk.
    let mut target = None;
    let mut opts = Options::new(hbh.bytes, Mode::Lenient);
    while let Some(io) = opts.next_ioam() {
        let io = io.map_err(|e| e.with_base(hbh.offset))?;
        if io.ioam_type == IoamType::IncrementalTrace
            && io.body.get(..2) == Some(&namespace_id.to_be_bytes()[..])
        {
            target = Some(io.with_base(hbh.offset));
            break;
        }
    }
    let Some(io) = target else {
        return unchanged(TransitOutcome::Skipped(SkipReason::OtherNamespace));
    };
    let abs_body = io.body_offset;
    let at_body = |e: TraceError| e.with_base(abs_body);
    let hdr = TraceHeaderRepr::parse(&TraceHeader::new_checked(io.body).map_err(at_body)?)?;
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
    if budget == 0 || budget < need {
        let mut view = TraceHeader::new_unchecked(&mut buf[abs_body..abs_body + TRACE_HEADER_LEN]);
        view.set_overflow(true);
        return unchanged(TransitOutcome::Overflowed);
    }
    if need == 0 {
        return unchanged(TransitOutcome::Skipped(SkipReason::NothingToWrite));
    }

    // The record goes right after the trace header: ioam-wire opens the
    // room (moving what follows, re-padding, updating every length), then
    // the record and RemainingLen are written. Nothing changes on error.
    let ins = abs_body + TRACE_HEADER_LEN;
    let mut record = [0u8; crate::header::NODE_LEN_MAX as usize * 4 + 4 + 1020];
    let record = &mut record[..need];
    emit_record(hdr.trace_type, node, record)?;
    let growth = Growth {
        header: hbh.offset,
        option: io.offset,
        at: ins,
        extra: need,
    };
    let grown = grow_option(buf, packet_len, growth)?;
    buf[ins..ins + need].copy_from_slice(record);
    let mut view = TraceHeader::new_unchecked(&mut buf[abs_body..abs_body + TRACE_HEADER_LEN]);
    view.set_remaining_len(hdr.remaining_len - (need / 4) as u8);
    let new_packet_len = grown.packet_len;
    Ok(IncrementalOutcome {
        outcome: TransitOutcome::Written {
            offset: ins,
            len: need,
        },
        packet_len: new_packet_len,
    })
}
