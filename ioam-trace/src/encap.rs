//! The encapsulator's side: sizing and building a Pre-allocated Trace
//! option in a Hop-by-Hop header (RFC 9197 §4.4, RFC 9486 §4, RFC 9322).
//!
//! The header comes out in the layout Linux uses for its `ioam6`
//! encapsulation, through `ioam_wire::build::ioam_header`:
//!
//! ```text
//! NH HEL | 01 00 | 31 LEN 00 00 | trace header (8) | data (zeroed) | [01 02 00 00]
//! ```
//!
//! ```
//! use ioam_trace::encap::{trace_space_for, PreallocatedTraceBuilder};
//! use ioam_trace::TraceType;
//!
//! let t = TraceType::HOP_LIM_NODE_ID;
//! let space = trace_space_for(3, t, 0, 0); // three nodes of one word
//! assert_eq!(space, 12);
//! let b = PreallocatedTraceBuilder::new(123, t, space).with_next_header(17);
//! let mut hbh = [0u8; 32];
//! assert_eq!(b.emit(&mut hbh)?, 32);
//! assert_eq!(
//!     hbh,
//!     [
//!         0x11, 0x03, 0x01, 0x00, 0x31, 0x16, 0x00, 0x00, // NH HEL | PadN | 0x31 len 22
//!         0x00, 0x7b, 0x08, 0x03, 0x80, 0x00, 0x00, 0x00, // ns 123, NodeLen 1, RemLen 3
//!         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 12 bytes of zeroed space
//!         0x01, 0x02, 0x00, 0x00, // PadN to 8n
//!     ]
//! );
//! # Ok::<(), ioam_trace::TraceError>(())
//! ```

use ioam_wire::build::{ioam_header, ioam_header_len, IOAM_HEADER_BODY_OFFSET};
use ioam_wire::ioam::{IoamType, OPT_IOAM};

use crate::error::{Field, TraceError};
use crate::header::{HeaderFlags, TraceHeader, TraceHeaderRepr, TRACE_DATA_MAX, TRACE_HEADER_LEN};
use crate::trace_type::TraceType;
use crate::writer::{check_encap_trace_type, fill_record, NodeData};

/// Space in bytes for a Pre-allocated Trace that `nodes` records fill: the
/// first is the originator's (its opaque state carries
/// `originator_oss_words` data words), every other one carries
/// `oss_words_per_hop` (0 for a Linux node without a schema). OSS sizes count
/// only when the type has bit 22, and exclude the snapshot's header word,
/// which is added. Capped at [`TRACE_DATA_MAX`] (244 bytes).
///
/// Type 0xfff002 with a CLT originator (7 words) and two Linux
/// hops needs 92 + 64 + 64 bytes.
/// ```
/// # use ioam_trace::{encap::trace_space_for, TraceType};
/// let t = TraceType::from_bits(0xfff002).unwrap();
/// assert_eq!(trace_space_for(3, t, 0, 7), 220);
/// assert_eq!(trace_space_for(4, t, 0, 7), 244); // capped
/// ```
#[must_use]
pub const fn trace_space_for(
    nodes: usize,
    trace_type: TraceType,
    oss_words_per_hop: usize,
    originator_oss_words: usize,
) -> usize {
    if nodes == 0 {
        return 0;
    }
    let base = trace_type.node_len() as usize;
    let (first, other) = if trace_type.has_oss() {
        (
            (base + 1).saturating_add(originator_oss_words),
            (base + 1).saturating_add(oss_words_per_hop),
        )
    } else {
        (base, base)
    };
    let words = first.saturating_add(other.saturating_mul(nodes - 1));
    let bytes = words.saturating_mul(4);
    if bytes > TRACE_DATA_MAX {
        TRACE_DATA_MAX
    } else {
        bytes
    }
}

/// Builds a Hop-by-Hop header holding one Pre-allocated Trace option, as an
/// encapsulating node does (RFC 9197 §4.4, RFC 9486 §4), in the Linux layout.
///
/// The data area is zeroed; with an `originator`, that node's own record is
/// written into it like a transit node's (at the end of the area, with
/// RemainingLen reduced), e.g. to carry the CLT opaque state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreallocatedTraceBuilder<'a> {
    /// Namespace-ID.
    pub namespace_id: u16,
    /// IOAM-Trace-Type: not empty, no undefined bit 12-21, not bit 23.
    pub trace_type: TraceType,
    /// Node-data space in bytes: a multiple of 4, at most 244.
    pub space: usize,
    /// Flags. Loopback requires type 0x800000 (RFC 9322); the unassigned bit
    /// is always sent as 0.
    pub flags: HeaderFlags,
    /// The encapsulator's own record, if it writes one.
    pub originator: Option<&'a NodeData<'a>>,
    /// Next Header of the Hop-by-Hop header (the kernel rewrites it for
    /// `IPV6_HOPOPTS`; `ioam_wire::build::insert_ext_header` too).
    pub next_header: u8,
}

impl<'a> PreallocatedTraceBuilder<'a> {
    /// A builder with no flags, no originator record and Next Header 59
    /// (No Next Header).
    #[must_use]
    pub const fn new(namespace_id: u16, trace_type: TraceType, space: usize) -> Self {
        Self {
            namespace_id,
            trace_type,
            space,
            flags: HeaderFlags {
                overflow: false,
                loopback: false,
                active: false,
                unassigned: false,
            },
            originator: None,
            next_header: 59,
        }
    }

    /// The same builder with this Next Header.
    #[must_use]
    pub const fn with_next_header(mut self, next_header: u8) -> Self {
        self.next_header = next_header;
        self
    }

    /// The same builder with the originator's own record.
    #[must_use]
    pub const fn with_originator(mut self, node: &'a NodeData<'a>) -> Self {
        self.originator = Some(node);
        self
    }

    /// The same builder with these flags.
    #[must_use]
    pub const fn with_flags(mut self, flags: HeaderFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`TraceError::EmptyTraceType`], [`TraceError::UndefinedBits`],
    /// [`TraceError::ValueOutOfRange`] (space, originator values),
    /// [`TraceError::RecordTooLarge`] (originator record larger than the space),
    /// [`TraceError::LoopbackTraceType`].
    pub fn check(&self) -> Result<(), TraceError> {
        check_encap_trace_type(self.trace_type)?;
        if !self.space.is_multiple_of(4) || self.space > TRACE_DATA_MAX {
            return Err(TraceError::ValueOutOfRange {
                field: Field::Space,
                value: self.space as u64,
                max: TRACE_DATA_MAX as u64,
            });
        }
        self.header().check_loopback()?;
        if let Some(node) = self.originator {
            node.check(self.trace_type)?;
            let need = node.record_len(self.trace_type);
            if need > self.space {
                return Err(TraceError::RecordTooLarge {
                    required: need,
                    space: self.space,
                });
            }
        }
        Ok(())
    }

    fn header(&self) -> TraceHeaderRepr {
        let mut h =
            TraceHeaderRepr::new(self.namespace_id, self.trace_type, (self.space / 4) as u8);
        h.flags = HeaderFlags {
            unassigned: false,
            ..self.flags
        };
        h
    }

    /// Length of the trace body (header + space).
    #[must_use]
    pub const fn body_len(&self) -> usize {
        TRACE_HEADER_LEN + self.space
    }

    /// Length of the whole Hop-by-Hop header.
    ///
    /// # Errors
    /// As [`check`](Self::check).
    pub fn buffer_len(&self) -> Result<usize, TraceError> {
        self.check()?;
        ioam_header_len(self.body_len()).map_err(TraceError::Wire)
    }

    /// Offset of the trace body from the start of the Hop-by-Hop header.
    pub const BODY_OFFSET: usize = IOAM_HEADER_BODY_OFFSET;

    /// Writes only the trace body (header, zeroed space, originator record)
    /// into the start of `body`; returns its length.
    ///
    /// # Errors
    /// As [`check`](Self::check); [`TraceError::Truncated`] if `body` is
    /// shorter than [`body_len`](Self::body_len).
    pub fn emit_body(&self, body: &mut [u8]) -> Result<usize, TraceError> {
        self.check()?;
        let len = self.body_len();
        let actual = body.len();
        let out = body.get_mut(..len).ok_or(TraceError::Truncated {
            part: crate::error::Part::OutputBuffer,
            offset: 0,
            required: len,
            actual,
        })?;
        out.fill(0);
        self.fill_body(out);
        Ok(len)
    }

    /// Writes the header and the originator's record into `out`, a zeroed
    /// area of exactly [`body_len`](Self::body_len) bytes, for a builder
    /// that passed [`check`](Self::check): the record goes at the end of
    /// the space, as a transit node would write it, and RemainingLen counts
    /// the words before it.
    fn fill_body(&self, out: &mut [u8]) {
        let mut header = self.header();
        if let Some(node) = self.originator {
            let len = node.record_len(self.trace_type);
            // `check` made sure the record fits the space.
            let start = TRACE_HEADER_LEN + self.space.saturating_sub(len);
            if let Some(slot) = out.get_mut(start..start + len) {
                fill_record(self.trace_type, node, slot);
                header.remaining_len = ((self.space - len) / 4) as u8;
            }
        }
        header.emit(&mut TraceHeader::new_unchecked(out));
    }

    /// Writes the whole Hop-by-Hop header into the start of `buf`; returns
    /// its length.
    ///
    /// # Errors
    /// As [`check`](Self::check); [`TraceError::Wire`] if `buf` is too small.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, TraceError> {
        self.check()?;
        // `ioam_header` hands over the body area zeroed.
        let (len, ()) = ioam_header(
            buf,
            self.next_header,
            OPT_IOAM,
            IoamType::PreallocatedTrace,
            self.body_len(),
            |body| self.fill_body(body),
        )
        .map_err(TraceError::Wire)?;
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace_type::strategy::trace_type;
    use crate::writer::strategy::node;
    use crate::writer::{write_transit, TransitConfig, TransitOutcome};
    use proptest::prelude::*;

    proptest! {
        /// The body equals the one a transit write of the originator into
        /// the freshly emitted, empty trace gives (Overflow set afterwards).
        #[test]
        fn originator_record_as_a_transit_write(
            t in trace_type(),
            words in 0usize..=61,
            n in proptest::option::of(node()),
            flags in any::<(bool, bool, bool, bool)>(),
        ) {
            let t = t.difference(TraceType::UNDEFINED.union(TraceType::RESERVED_23));
            let flags = HeaderFlags { overflow: flags.0, loopback: flags.1, active: flags.2, unassigned: flags.3 };
            let nd = n.as_ref().map(super::super::writer::strategy::OwnedNode::node);
            let mut b = PreallocatedTraceBuilder::new(9, t, words * 4).with_flags(flags);
            if let Some(nd) = nd.as_ref() {
                b = b.with_originator(nd);
            }
            let mut got = [0xaau8; 8 + 244];
            let res = b.emit_body(&mut got);
            prop_assert_eq!(res, b.check().map(|()| b.body_len()));
            if res.is_err() {
                prop_assert!(got.iter().all(|&x| x == 0xaa));
                return Ok(());
            }
            let len = b.body_len();
            let mut want = [0xaau8; 8 + 244];
            want[..len].fill(0);
            let mut h = b.header();
            h.flags.overflow = false;
            h.emit(&mut TraceHeader::new_unchecked(&mut want[..]));
            if let Some(nd) = nd.as_ref() {
                let out = write_transit(&mut want[..len], 9, nd, &TransitConfig::default()).unwrap();
                prop_assert!(matches!(out, TransitOutcome::Written { .. }), "{:?}", out);
            }
            if flags.overflow {
                TraceHeader::new_unchecked(&mut want[..]).set_overflow(true);
            }
            prop_assert_eq!(&got[..], &want[..]);

            // The whole header carries the same body.
            let mut hbh = [0u8; 272];
            let total = b.emit(&mut hbh).unwrap();
            prop_assert_eq!(&hbh[PreallocatedTraceBuilder::BODY_OFFSET..][..len], &want[..len]);
            prop_assert_eq!(Ok(total), b.buffer_len());
        }
    }
}
