//! The transit writer: a node adds its record to a Pre-allocated Trace in
//! place (RFC 9197 §4.4, Linux `net/ipv6/ioam6.c`).
//!
//! [`write_transit`] does what a Linux router with IOAM enabled on the
//! ingress interface does to each pre-allocated trace option of a namespace
//! it knows, in the same order and with the same results:
//!
//! 1. malformed header (RemainingLen beyond the data area, NodeLen not the
//!    value computed from the trace type): error (Linux drops the packet);
//! 2. another namespace: skipped;
//! 3. Overflow already set: skipped;
//! 4. RemainingLen 0, or smaller than NodeLen plus the opaque state words:
//!    Overflow set, nothing written;
//! 5. otherwise the record goes at word `RemainingLen - (NodeLen + OSS
//!    words)` of the data area and RemainingLen drops by its size.
//!
//! It touches only the Overflow bit, the 7 RemainingLen bits and the new
//! record's slot; the Loopback, Active and unassigned bits are kept as they
//! are (Linux ignores them).
//!
//! A node that writes many packets with mostly fixed values serializes its
//! record once with [`PreparedRecord`](crate::prepared::PreparedRecord) and
//! writes it with
//! [`write_transit_prepared`](crate::prepared::write_transit_prepared): the
//! same header rules (the same code), then one copy.
//!
//! ```
//! use ioam_trace::writer::{write_transit, NodeData, TransitConfig, TransitOutcome};
//! use ioam_trace::{Mode, Trace};
//!
//! // Namespace 7, type 0xc00000 (hop limit + node id, interface ids): NodeLen 2,
//! // 4 words of zeroed space.
//! let mut body = [0u8; 8 + 16];
//! body[..8].copy_from_slice(&[0x00, 0x07, 0x10, 0x04, 0xc0, 0x00, 0x00, 0x00]);
//!
//! let node = NodeData {
//!     hop_limit: 63, // the received hop limit minus one, as Linux writes it
//!     node_id: 0x0a0b0c,
//!     ingress_if_id: 11,
//!     egress_if_id: 12,
//!     ..NodeData::unavailable()
//! };
//! let out = write_transit(&mut body, 7, &node, &TransitConfig::default()).unwrap();
//! assert_eq!(out, TransitOutcome::Written { offset: 16, len: 8 });
//! assert_eq!(&body[16..], &[63, 0x0a, 0x0b, 0x0c, 0, 11, 0, 12]);
//!
//! let trace = Trace::parse_preallocated(&body, Mode::Strict).unwrap();
//! assert_eq!(trace.header().remaining_len, 2);
//! let rec = trace.records().next().unwrap().unwrap();
//! assert_eq!(rec.node_id(), Some(0x0a0b0c));
//! assert_eq!(rec.egress_if_id(), Some(12));
//! ```

use crate::error::{Field, Part, TraceError};
use crate::header::{
    RawTraceHeader, NODE_LEN_OFFSET, REMAINING_LEN_OFFSET, TRACE_HEADER_LEN, TRACE_TYPE_OFFSET,
};
use crate::record::unavailable;
use crate::trace_type::TraceType;
use ioam_wire::Mode;

/// Largest opaque state data a node can add: 255 words (the Length field is
/// 8 bits; Linux `IOAM6_MAX_SCHEMA_DATA_LEN`).
pub const OSS_DATA_MAX: usize = 255 * 4;

/// The values a node writes into its record, one per trace-type bit
/// (RFC 9197 §4.4.2). Only the fields of the bits set in the trace type are
/// used.
///
/// Values go on the wire as given: the caller applies the conventions of
/// its node. In particular Linux writes as hop limit the hop limit of the
/// *received* packet minus one (wrapping), see [`NodeData::linux_hop_limit`];
/// an encapsulator writes the hop limit the packet leaves with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct NodeData<'a> {
    /// Hop limit for bits 0 and 8.
    pub hop_limit: u8,
    /// Bit 0: 24-bit node id (Linux `net.ipv6.ioam6_id`, default 0xffffff).
    pub node_id: u32,
    /// Bit 1: ingress interface id (Linux `conf.<if>.ioam6_id`, default 0xffff).
    pub ingress_if_id: u16,
    /// Bit 1: egress interface id (Linux writes 0xffff when the packet is
    /// delivered locally).
    pub egress_if_id: u16,
    /// Bit 2: timestamp seconds (Linux: CLOCK_REALTIME seconds).
    pub timestamp_secs: u32,
    /// Bit 3: timestamp fraction (Linux: microseconds).
    pub timestamp_frac: u32,
    /// Bit 4: transit delay (Linux: 0xffffffff).
    pub transit_delay: u32,
    /// Bit 5: namespace data (Linux: the namespace's `data`, default 0xffffffff).
    pub namespace_data: u32,
    /// Bit 6: queue depth (Linux: qdisc backlog in bytes of the egress
    /// queue; 0xffffffff when delivered locally).
    pub queue_depth: u32,
    /// Bit 7: checksum complement (Linux: 0xffffffff).
    pub checksum_complement: u32,
    /// Bit 8: 56-bit node id (Linux `net.ipv6.ioam6_id_wide`, default 2^56-1).
    pub node_id_wide: u64,
    /// Bit 9: ingress interface id, wide (Linux `conf.<if>.ioam6_id_wide`).
    pub ingress_if_id_wide: u32,
    /// Bit 9: egress interface id, wide (0xffffffff when delivered locally).
    pub egress_if_id_wide: u32,
    /// Bit 10: namespace data, wide (Linux: the namespace's `wide`).
    pub namespace_data_wide: u64,
    /// Bit 11: buffer occupancy (Linux: 0xffffffff).
    pub buffer_occupancy: u32,
    /// Bit 22: the node's opaque state snapshot, `(schema id (24 bits),
    /// data)`; the data is zero-padded to a multiple of 4. `None` writes the
    /// "nothing to report" word 0x00ffffff, as Linux does without a schema.
    pub oss: Option<(u32, &'a [u8])>,
}

impl NodeData<'static> {
    /// Every field "unavailable" (all ones; 24/56-bit ids all ones), hop
    /// limit 0, no opaque state: a base for struct-update syntax.
    #[must_use]
    pub const fn unavailable() -> Self {
        Self {
            hop_limit: 0,
            node_id: unavailable::NODE_ID,
            ingress_if_id: unavailable::U16,
            egress_if_id: unavailable::U16,
            timestamp_secs: unavailable::U32,
            timestamp_frac: unavailable::U32,
            transit_delay: unavailable::U32,
            namespace_data: unavailable::U32,
            queue_depth: unavailable::U32,
            checksum_complement: unavailable::U32,
            node_id_wide: unavailable::NODE_ID_WIDE,
            ingress_if_id_wide: unavailable::U32,
            egress_if_id_wide: unavailable::U32,
            namespace_data_wide: unavailable::U64,
            buffer_occupancy: unavailable::U32,
            oss: None,
        }
    }
}

impl NodeData<'_> {
    /// The hop limit Linux writes on its input path: the received hop limit
    /// minus one, wrapping (0 becomes 255).
    #[must_use]
    pub const fn linux_hop_limit(received: u8) -> u8 {
        received.wrapping_sub(1)
    }

    /// Words the opaque state snapshot of this node takes under `trace_type`:
    /// 0 without bit 22, else 1 + the data words.
    #[must_use]
    pub const fn oss_words(&self, trace_type: TraceType) -> usize {
        if !trace_type.has_oss() {
            return 0;
        }
        match self.oss {
            None => 1,
            Some((_, data)) => 1 + data.len().div_ceil(4),
        }
    }

    /// Bytes of this node's record under `trace_type`: NodeLen words plus
    /// the opaque state snapshot.
    #[must_use]
    pub const fn record_len(&self, trace_type: TraceType) -> usize {
        (trace_type.node_len() as usize + self.oss_words(trace_type)) * 4
    }

    /// Checks that the values of the fields used by `trace_type` fit their
    /// widths.
    ///
    /// # Errors
    /// [`TraceError::ValueOutOfRange`] naming the field.
    pub const fn check(&self, trace_type: TraceType) -> Result<(), TraceError> {
        if trace_type.contains(TraceType::HOP_LIM_NODE_ID) && self.node_id > unavailable::NODE_ID {
            return Err(TraceError::ValueOutOfRange {
                field: Field::NodeId,
                value: self.node_id as u64,
                max: unavailable::NODE_ID as u64,
            });
        }
        if trace_type.contains(TraceType::HOP_LIM_NODE_ID_WIDE)
            && self.node_id_wide > unavailable::NODE_ID_WIDE
        {
            return Err(TraceError::ValueOutOfRange {
                field: Field::NodeIdWide,
                value: self.node_id_wide,
                max: unavailable::NODE_ID_WIDE,
            });
        }
        if let (true, Some((schema, data))) = (trace_type.has_oss(), self.oss) {
            if schema > unavailable::SCHEMA_ID_NONE {
                return Err(TraceError::ValueOutOfRange {
                    field: Field::SchemaId,
                    value: schema as u64,
                    max: unavailable::SCHEMA_ID_NONE as u64,
                });
            }
            if data.len() > OSS_DATA_MAX {
                return Err(TraceError::ValueOutOfRange {
                    field: Field::OssData,
                    value: data.len() as u64,
                    max: OSS_DATA_MAX as u64,
                });
            }
        }
        Ok(())
    }
}

/// What a transit node does with the undefined trace-type bits 12-21
/// (RFC 9197 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum UndefinedFill {
    /// Option 1, what Linux does: one 0xffffffff word per undefined bit.
    #[default]
    AllOnes,
    /// Option 2: add no node data at all (reported as
    /// [`SkipReason::UndefinedBits`]).
    NoData,
}

/// How the transit writer behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TransitConfig {
    /// Undefined bits 12-21.
    pub undefined_bits: UndefinedFill,
    /// Header checks. In both modes the writer requires NodeLen to equal the
    /// value computed from the trace type, since it cannot write a record of
    /// another size; [`Mode::Strict`] also rejects a trace type with no
    /// bit set, [`Mode::Lenient`] treats it like Linux (nothing to
    /// write; Overflow set if RemainingLen is 0).
    pub mode: Mode,
}

/// Why the writer added nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SkipReason {
    /// The trace belongs to another namespace.
    OtherNamespace,
    /// Overflow was already set by an earlier node (RFC 9197 §4.4.1).
    OverflowSet,
    /// Undefined bits are set and the configuration says to add no data
    /// (RFC 9197 §4.4.1 option 2).
    UndefinedBits,
    /// The trace type asks for no data at all (no field bit, no bit 22).
    NothingToWrite,
    /// The trace type is not the one a
    /// [`PreparedRecord`](crate::prepared::PreparedRecord) was built for
    /// (only [`write_transit_prepared`](crate::prepared::write_transit_prepared)
    /// reports this; [`write_transit`] writes any trace type).
    OtherTraceType,
}

/// What the writer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum TransitOutcome {
    /// The record was written.
    Written {
        /// Offset of the record from the body start.
        offset: usize,
        /// Length of the record in bytes.
        len: usize,
    },
    /// The record did not fit: Overflow was set and nothing written.
    Overflowed,
    /// Nothing was touched.
    Skipped(SkipReason),
}

/// Writes one node's record into `out`, which must be exactly
/// [`NodeData::record_len`] bytes for `trace_type`: the fields of the set
/// bits one after the other in bit order (RFC 9197 §4.4.2), bits 12-21 as
/// 0xffffffff, then the opaque state snapshot. Values are assumed checked
/// with [`NodeData::check`].
///
/// The fields go through a cursor, as `NodeRecord::fields` reads them: no
/// table of offsets is built, and the groups of bits 1-7, 8-11 and 12-21
/// are skipped with one test each when none of their bits is set.
pub(crate) fn fill_record(trace_type: TraceType, node: &NodeData<'_>, out: &mut [u8]) {
    let bits = trace_type.bits();
    let has = |k: u32| bits & (0x80_0000 >> k) != 0;
    let mut at = 0;
    // Each present field takes the next bytes of the record; `out` has
    // exactly the room of the record (fields and snapshot), so a write
    // never falls outside.
    let mut put = |v: &[u8]| {
        if let Some(dst) = out.get_mut(at..at + v.len()) {
            dst.copy_from_slice(v);
        }
        at += v.len();
    };
    let hop = u32::from(node.hop_limit) << 24;
    if has(0) {
        put(&(hop | (node.node_id & unavailable::NODE_ID)).to_be_bytes());
    }
    if bits & 0x7f_0000 != 0 {
        if has(1) {
            let ifs = u32::from(node.ingress_if_id) << 16 | u32::from(node.egress_if_id);
            put(&ifs.to_be_bytes());
        }
        let words = [
            node.timestamp_secs,
            node.timestamp_frac,
            node.transit_delay,
            node.namespace_data,
            node.queue_depth,
            node.checksum_complement,
        ];
        for (k, w) in (2..8).zip(words) {
            if has(k) {
                put(&w.to_be_bytes());
            }
        }
    }
    if bits & 0x00_f000 != 0 {
        if has(8) {
            let wide = (u64::from(hop) << 32) | (node.node_id_wide & unavailable::NODE_ID_WIDE);
            put(&wide.to_be_bytes());
        }
        if has(9) {
            let ifs = u64::from(node.ingress_if_id_wide) << 32 | u64::from(node.egress_if_id_wide);
            put(&ifs.to_be_bytes());
        }
        if has(10) {
            put(&node.namespace_data_wide.to_be_bytes());
        }
        if has(11) {
            put(&node.buffer_occupancy.to_be_bytes());
        }
    }
    if bits & TraceType::UNDEFINED.bits() != 0 {
        for k in 12..22 {
            if has(k) {
                put(&unavailable::U32.to_be_bytes());
            }
        }
    }
    if !trace_type.has_oss() {
        return;
    }
    match node.oss {
        None => put(&unavailable::OSS_NONE_WORD.to_be_bytes()),
        Some((schema, data)) => {
            let words = data.len().div_ceil(4);
            put(&(((words as u32) << 24) | (schema & unavailable::SCHEMA_ID_NONE)).to_be_bytes());
            put(data);
            // The padding to a whole word (none for data of whole words).
            if let Some(pad) = out.get_mut(at..).filter(|pad| !pad.is_empty()) {
                pad.fill(0);
            }
        }
    }
}

/// Serializes one node's record for `trace_type` into the front of `out`
/// (RFC 9197 §4.4.2): the fields of the set bits in bit order, one
/// 0xffffffff word per undefined bit 12-21, then the opaque state snapshot.
/// Returns the record length. Used by encapsulators and for incremental
/// traces.
///
/// # Errors
/// [`TraceError::ValueOutOfRange`] from [`NodeData::check`];
/// [`TraceError::Truncated`] (part [`Part::OutputBuffer`]) if `out` is too
/// short.
pub fn emit_record(
    trace_type: TraceType,
    node: &NodeData<'_>,
    out: &mut [u8],
) -> Result<usize, TraceError> {
    node.check(trace_type)?;
    let len = node.record_len(trace_type);
    let actual = out.len();
    let slot = out.get_mut(..len).ok_or(TraceError::Truncated {
        part: Part::OutputBuffer,
        offset: 0,
        required: len,
        actual,
    })?;
    fill_record(trace_type, node, slot);
    Ok(len)
}

/// Adds this node's record to a Pre-allocated Trace body in place (RFC 9197
/// §4.4, Linux `ioam6_fill_trace_data`). See the [module docs](self) for the
/// exact steps.
///
/// `body` starts at the Namespace-ID; offsets in the result and in errors
/// count from there.
///
/// # Errors
/// [`TraceError::ValueOutOfRange`] for node values that do not fit;
/// [`TraceError::Truncated`] (header), [`TraceError::RemainingLenBeyondSpace`],
/// [`TraceError::NodeLenMismatch`], [`TraceError::EmptyTraceType`] (strict)
/// for a malformed header. Nothing is modified on error.
pub fn write_transit(
    body: &mut [u8],
    namespace_id: u16,
    node: &NodeData<'_>,
    cfg: &TransitConfig,
) -> Result<TransitOutcome, TraceError> {
    let mut gate = HeaderGate::open(body, cfg.mode)?;
    let trace_type = gate.trace_type();
    let node_len = trace_type.node_len();
    if let Some(skip) = gate.admit(node_len, namespace_id, cfg.mode)? {
        return Ok(skip);
    }
    if cfg.undefined_bits == UndefinedFill::NoData && trace_type.intersects(TraceType::UNDEFINED) {
        return Ok(TransitOutcome::Skipped(SkipReason::UndefinedBits));
    }
    node.check(trace_type)?;
    let need_words = usize::from(node_len) + node.oss_words(trace_type);
    match gate.reserve(need_words) {
        Ok((slot, written)) => {
            fill_record(trace_type, node, slot);
            Ok(written)
        }
        Err(outcome) => Ok(outcome),
    }
}

/// A trace header that passed the rules every transit write applies before
/// it looks at the node (RFC 9197 §4.4.1, Linux `ioam6_fill_trace_data`):
/// shared by [`write_transit`] and
/// [`write_transit_prepared`](crate::prepared::write_transit_prepared).
/// [`open`](Self::open) then [`admit`](Self::admit) apply the rules in
/// order.
pub(crate) struct HeaderGate<'b> {
    hdr: &'b mut RawTraceHeader,
    data: &'b mut [u8],
    /// RemainingLen, in words.
    free_words: usize,
}

impl<'b> HeaderGate<'b> {
    /// The first rules: header present, RemainingLen within the data area,
    /// trace type not empty (strict).
    #[inline(always)]
    pub(crate) fn open(body: &'b mut [u8], mode: Mode) -> Result<Self, TraceError> {
        let (hdr, data) = RawTraceHeader::split_mut(body)?;
        let free_words = usize::from(hdr.remaining_len());
        if free_words * 4 > data.len() {
            return Err(TraceError::RemainingLenBeyondSpace {
                offset: REMAINING_LEN_OFFSET,
                remaining_len: free_words as u8,
                space: data.len(),
            });
        }
        if mode == Mode::Strict && hdr.trace_type().is_empty() {
            return Err(TraceError::EmptyTraceType {
                offset: TRACE_TYPE_OFFSET,
            });
        }
        Ok(Self {
            hdr,
            data,
            free_words,
        })
    }

    /// The trace type of the header.
    #[inline(always)]
    pub(crate) fn trace_type(&self) -> TraceType {
        self.hdr.trace_type()
    }

    /// The next rules: NodeLen equal to `expected` (the value computed from
    /// the trace type; in lenient mode a smaller NodeLen is reported as too
    /// small), then the namespace and Overflow skips, returned as
    /// `Some(outcome)`. `None`: this node writes.
    #[inline(always)]
    pub(crate) fn admit(
        &self,
        expected: u8,
        namespace_id: u16,
        mode: Mode,
    ) -> Result<Option<TransitOutcome>, TraceError> {
        let node_len = self.hdr.node_len();
        if node_len != expected {
            return Err(node_len_error(mode, node_len, expected));
        }
        if self.hdr.namespace_id() != namespace_id {
            return Ok(Some(TransitOutcome::Skipped(SkipReason::OtherNamespace)));
        }
        if self.hdr.overflow() {
            return Ok(Some(TransitOutcome::Skipped(SkipReason::OverflowSet)));
        }
        Ok(None)
    }

    /// Takes `need_words` words off the end of the free space: lowers
    /// RemainingLen and returns the record's slot and the outcome to report.
    /// Sets Overflow instead when RemainingLen is 0 or too small; reports
    /// [`SkipReason::NothingToWrite`] for an empty record.
    #[inline(always)]
    pub(crate) fn reserve(
        &mut self,
        need_words: usize,
    ) -> Result<(&mut [u8], TransitOutcome), TransitOutcome> {
        let free_words = self.free_words;
        if free_words == 0 || free_words < need_words {
            self.hdr.set_overflow(true);
            return Err(TransitOutcome::Overflowed);
        }
        if need_words == 0 {
            return Err(TransitOutcome::Skipped(SkipReason::NothingToWrite));
        }
        let new_free = free_words - need_words;
        let start = new_free * 4;
        let len = need_words * 4;
        // In range: `free_words * 4 <= data.len()` was checked by `open`.
        let slot = self
            .data
            .get_mut(start..start + len)
            .ok_or(TransitOutcome::Skipped(SkipReason::NothingToWrite))?;
        // Keeps the unassigned flag bit that shares the byte.
        self.hdr.set_remaining_len(new_free as u8);
        Ok((
            slot,
            TransitOutcome::Written {
                offset: TRACE_HEADER_LEN + start,
                len,
            },
        ))
    }
}

/// The error for a NodeLen that is not the one computed from the trace
/// type. Lenient parsing accepts a larger NodeLen; a writer cannot.
#[cold]
const fn node_len_error(mode: Mode, node_len: u8, expected: u8) -> TraceError {
    if matches!(mode, Mode::Lenient) && node_len < expected {
        TraceError::NodeLenTooSmall {
            offset: NODE_LEN_OFFSET,
            node_len,
            required: expected,
        }
    } else {
        TraceError::NodeLenMismatch {
            offset: NODE_LEN_OFFSET,
            node_len,
            expected,
        }
    }
}

/// Checks a trace type an encapsulator is about to use: not empty, no
/// undefined bit 12-21 and not the reserved bit 23 (what the Linux
/// encapsulator accepts).
///
/// # Errors
/// [`TraceError::EmptyTraceType`] or [`TraceError::UndefinedBits`].
pub const fn check_encap_trace_type(trace_type: TraceType) -> Result<(), TraceError> {
    if trace_type.is_empty() {
        return Err(TraceError::EmptyTraceType {
            offset: TRACE_TYPE_OFFSET,
        });
    }
    let bad = trace_type.intersection(TraceType::UNDEFINED.union(TraceType::RESERVED_23));
    if !bad.is_empty() {
        return Err(TraceError::UndefinedBits {
            offset: TRACE_TYPE_OFFSET,
            bits: bad,
        });
    }
    Ok(())
}

/// proptest strategies for the writer's inputs.
#[cfg(test)]
pub(crate) mod strategy {
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Node values as owned data: the fields of [`super::NodeData`] and an
    /// optional `(schema id, data)` snapshot.
    #[derive(Debug, Clone)]
    pub(crate) struct OwnedNode {
        pub(crate) words: [u32; 11],
        pub(crate) hop_limit: u8,
        pub(crate) if_ids: (u16, u16),
        pub(crate) node_id_wide: u64,
        pub(crate) ns_wide: u64,
        pub(crate) oss: Option<(u32, Vec<u8>)>,
    }

    impl OwnedNode {
        pub(crate) fn node(&self) -> super::NodeData<'_> {
            let w = self.words;
            super::NodeData {
                hop_limit: self.hop_limit,
                node_id: w[0] & 0xff_ffff,
                ingress_if_id: self.if_ids.0,
                egress_if_id: self.if_ids.1,
                timestamp_secs: w[1],
                timestamp_frac: w[2],
                transit_delay: w[3],
                namespace_data: w[4],
                queue_depth: w[5],
                checksum_complement: w[6],
                node_id_wide: self.node_id_wide & 0x00ff_ffff_ffff_ffff,
                ingress_if_id_wide: w[7],
                egress_if_id_wide: w[8],
                namespace_data_wide: self.ns_wide,
                buffer_occupancy: w[9],
                oss: self.oss.as_ref().map(|(s, d)| (*s, &d[..])),
            }
        }
    }

    /// Any node values that fit their fields.
    pub(crate) fn node() -> impl Strategy<Value = OwnedNode> {
        (
            any::<[u32; 11]>(),
            any::<u8>(),
            any::<(u16, u16)>(),
            any::<u64>(),
            any::<u64>(),
            proptest::option::of((
                0u32..=0xff_ffff,
                proptest::collection::vec(any::<u8>(), 0..48),
            )),
        )
            .prop_map(
                |(words, hop_limit, if_ids, node_id_wide, ns_wide, oss)| OwnedNode {
                    words,
                    hop_limit,
                    if_ids,
                    node_id_wide,
                    ns_wide,
                    oss,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::strategy::node;
    use super::*;
    use crate::header::{HeaderFlags, TraceHeader, TraceHeaderRepr};
    use crate::trace::Trace;
    use crate::trace_type::strategy::trace_type;
    use proptest::prelude::*;

    /// A valid pre-allocated trace: header for `t`, `space` words, earlier
    /// nodes' records written by the writer, random bytes in the free part.
    fn build(
        t: TraceType,
        space: usize,
        earlier: &[super::strategy::OwnedNode],
        flags: HeaderFlags,
        garbage: u8,
    ) -> [u8; 252] {
        let mut b = [garbage; 252];
        let mut h = TraceHeaderRepr::new(7, t, space as u8);
        h.flags.loopback = flags.loopback;
        h.flags.active = flags.active;
        h.flags.unassigned = flags.unassigned;
        h.emit(&mut TraceHeader::new_unchecked(&mut b[..]));
        for n in earlier {
            let _ = write_transit(
                &mut b[..8 + space * 4],
                7,
                &n.node(),
                &TransitConfig::default(),
            );
        }
        if flags.overflow {
            TraceHeader::new_unchecked(&mut b[..]).set_overflow(true);
        }
        b
    }

    /// The record as the field offsets of [`RecordLayout`] place it, one
    /// field at a time at its own offset: the reference the cursor of
    /// `fill_record` is held to. It is our own layout; the real peer is
    /// the interop suite's transit differential, which holds the writer's
    /// packets to those of Linux routers in network namespaces.
    fn record_by_layout(t: TraceType, node: &NodeData<'_>) -> Vec<u8> {
        use crate::layout::RecordLayout;
        let layout = RecordLayout::new(t);
        let mut out = alloc::vec![0xaau8; node.record_len(t)];
        let (fields, oss) = out.split_at_mut(layout.fields_len());
        let mut put = |bit: u8, extra: usize, v: &[u8]| {
            if let Some(at) = layout.offset(bit) {
                fields[at + extra..at + extra + v.len()].copy_from_slice(v);
            }
        };
        let hop = u32::from(node.hop_limit) << 24;
        put(0, 0, &(hop | node.node_id).to_be_bytes());
        put(1, 0, &node.ingress_if_id.to_be_bytes());
        put(1, 2, &node.egress_if_id.to_be_bytes());
        put(2, 0, &node.timestamp_secs.to_be_bytes());
        put(3, 0, &node.timestamp_frac.to_be_bytes());
        put(4, 0, &node.transit_delay.to_be_bytes());
        put(5, 0, &node.namespace_data.to_be_bytes());
        put(6, 0, &node.queue_depth.to_be_bytes());
        put(7, 0, &node.checksum_complement.to_be_bytes());
        put(
            8,
            0,
            &((u64::from(hop) << 32) | node.node_id_wide).to_be_bytes(),
        );
        put(9, 0, &node.ingress_if_id_wide.to_be_bytes());
        put(9, 4, &node.egress_if_id_wide.to_be_bytes());
        put(10, 0, &node.namespace_data_wide.to_be_bytes());
        put(11, 0, &node.buffer_occupancy.to_be_bytes());
        for bit in 12..22 {
            put(bit, 0, &[0xff; 4]);
        }
        if t.has_oss() {
            match node.oss {
                None => oss.copy_from_slice(&[0, 0xff, 0xff, 0xff]),
                Some((schema, data)) => {
                    let words = data.len().div_ceil(4) as u8;
                    oss[0] = words;
                    oss[1..4].copy_from_slice(&schema.to_be_bytes()[1..]);
                    oss[4..].fill(0);
                    oss[4..4 + data.len()].copy_from_slice(data);
                }
            }
        }
        out
    }

    proptest! {
        /// `fill_record` writes every field where the layout says it goes,
        /// and every byte of its record (the 0xaa it starts from is gone).
        #[test]
        fn record_is_the_layouts(t in trace_type(), n in node()) {
            let node = n.node();
            let want = record_by_layout(t, &node);
            let mut got = alloc::vec![0xaau8; want.len()];
            fill_record(t, &node, &mut got);
            prop_assert_eq!(&got, &want);
            let mut zeroed = alloc::vec![0u8; want.len()];
            fill_record(t, &node, &mut zeroed);
            prop_assert_eq!(&zeroed, &want);
        }

        #[test]
        fn writer_keeps_the_trace_valid(
            t in trace_type(),
            space in 0usize..=61,
            earlier in proptest::collection::vec(node(), 0..4),
            flags in (proptest::bool::weighted(0.1), any::<bool>(), any::<bool>(), any::<bool>()),
            garbage in any::<u8>(),
            n in node(),
            no_data in any::<bool>(),
        ) {
            let flags = HeaderFlags { overflow: flags.0, loopback: flags.1, active: flags.2, unassigned: flags.3 };
            let mut full = build(t, space, &earlier, flags, garbage);
            let len = 8 + space * 4;
            let before = full;
            let body = &mut full[..len];
            let cfg = TransitConfig {
                undefined_bits: if no_data { UndefinedFill::NoData } else { UndefinedFill::AllOnes },
                mode: Mode::Strict,
            };
            let old = TraceHeaderRepr::parse(&TraceHeader::new_checked(&before[..]).unwrap()).unwrap();
            let out = write_transit(body, 7, &n.node(), &cfg).unwrap();
            let after = full;
            let new = TraceHeaderRepr::parse(&TraceHeader::new_checked(&after[..]).unwrap()).unwrap();
            let trace = Trace::parse_preallocated(&after[..len], Mode::Strict).unwrap();
            for r in trace.records() {
                prop_assert!(r.is_ok(), "{:?}", r);
            }
            let rec_len = n.node().record_len(t);
            match out {
                TransitOutcome::Written { offset, len: wlen } => {
                    prop_assert_eq!(wlen, rec_len);
                    prop_assert_eq!(usize::from(new.remaining_len) * 4 + wlen, usize::from(old.remaining_len) * 4);
                    prop_assert_eq!(offset, 8 + usize::from(new.remaining_len) * 4);
                    prop_assert_eq!(new.flags, old.flags);
                    for i in 0..after.len() {
                        if i != 3 && !(offset..offset + wlen).contains(&i) {
                            prop_assert_eq!(after[i], before[i], "byte {}", i);
                        }
                    }
                    let r = trace.records().next().unwrap().unwrap();
                    prop_assert_eq!(r.offset(), offset);
                    let nd = n.node();
                    if t.contains(TraceType::HOP_LIM_NODE_ID) {
                        prop_assert_eq!(r.hop_limit(), Some(nd.hop_limit));
                        prop_assert_eq!(r.node_id(), Some(nd.node_id));
                    }
                    prop_assert_eq!(r.egress_if_id(), t.contains(TraceType::INTERFACE_IDS).then_some(nd.egress_if_id));
                    prop_assert_eq!(r.buffer_occupancy(), t.contains(TraceType::BUFFER_OCCUPANCY).then_some(nd.buffer_occupancy));
                    prop_assert_eq!(r.node_id_wide(), t.contains(TraceType::HOP_LIM_NODE_ID_WIDE).then_some(nd.node_id_wide));
                    prop_assert_eq!(r.namespace_data_wide(), t.contains(TraceType::NAMESPACE_DATA_WIDE).then_some(nd.namespace_data_wide));
                    if t.has_oss() {
                        let o = r.oss().unwrap();
                        match nd.oss {
                            None => prop_assert!(o.is_none()),
                            Some((s, d)) => {
                                prop_assert_eq!(o.schema_id(), s);
                                prop_assert_eq!(&o.data()[..d.len()], d);
                                prop_assert!(o.data()[d.len()..].iter().all(|&b| b == 0));
                            }
                        }
                    } else {
                        prop_assert!(r.oss().is_none());
                    }
                }
                TransitOutcome::Overflowed => {
                    prop_assert!(!old.flags.overflow);
                    prop_assert!(new.flags.overflow);
                    prop_assert!(old.remaining_len == 0 || usize::from(old.remaining_len) * 4 < rec_len);
                    prop_assert_eq!(after[2], before[2] | 0x04);
                    prop_assert_eq!(&after[..2], &before[..2]);
                    prop_assert_eq!(&after[3..], &before[3..]);
                }
                TransitOutcome::Skipped(reason) => {
                    prop_assert_eq!(after, before);
                    match reason {
                        SkipReason::OverflowSet => prop_assert!(old.flags.overflow),
                        SkipReason::UndefinedBits => prop_assert!(no_data && !t.undefined_bits().is_empty()),
                        SkipReason::NothingToWrite => prop_assert_eq!(rec_len, 0),
                        SkipReason::OtherNamespace | SkipReason::OtherTraceType => prop_assert!(false),
                    }
                }
            }
        }

        #[test]
        fn writer_never_panics_and_errors_leave_bytes_alone(
            bytes in proptest::collection::vec(any::<u8>(), 0..260),
            n in node(),
            lenient in any::<bool>(),
        ) {
            let mut b = bytes.clone();
            let cfg = TransitConfig {
                mode: if lenient { Mode::Lenient } else { Mode::Strict },
                ..TransitConfig::default()
            };
            let ns = u16::from_be_bytes([bytes.first().copied().unwrap_or(0), bytes.get(1).copied().unwrap_or(0)]);
            match write_transit(&mut b, ns, &n.node(), &cfg) {
                Err(_) | Ok(TransitOutcome::Skipped(_)) => prop_assert_eq!(b, bytes),
                Ok(TransitOutcome::Overflowed) => prop_assert_eq!(b[2], bytes[2] | 0x04),
                Ok(TransitOutcome::Written { offset, len }) => {
                    for i in 0..b.len() {
                        if i != 3 && !(offset..offset + len).contains(&i) {
                            prop_assert_eq!(b[i], bytes[i]);
                        }
                    }
                }
            }
        }

        #[test]
        fn parser_never_panics_and_terminates(
            bytes in proptest::collection::vec(any::<u8>(), 0..260),
            lenient in any::<bool>(),
            incremental in any::<bool>(),
        ) {
            let v = if lenient { Mode::Lenient } else { Mode::Strict };
            let kind = if incremental { crate::trace::TraceKind::Incremental } else { crate::trace::TraceKind::Preallocated };
            if let Ok(t) = Trace::parse(&bytes, v, kind) {
                let wire: Vec<_> = t.records().collect();
                prop_assert!(wire.len() <= crate::trace::MAX_RECORDS + 1);
                let path: Vec<_> = t.records_path_order().collect();
                let ok = wire.iter().all(Result::is_ok);
                if ok {
                    let mut rev = wire.clone();
                    rev.reverse();
                    prop_assert_eq!(path, rev);
                } else {
                    prop_assert_eq!(path.len(), 1);
                    prop_assert_eq!(&path[0], wire.last().unwrap());
                }
                for r in wire.into_iter().flatten() {
                    let _ = (r.hop_limit(), r.node_id_wide(), r.oss(), r.undefined(15), r.extra_words());
                }
            }
        }
    }
}
