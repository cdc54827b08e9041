//! One node's record in a trace: the data fields of every trace-type bit and
//! the opaque state snapshot (RFC 9197 §4.4.2).

use crate::trace_type::TraceType;

/// "Unavailable" values (RFC 9197 §4.4.2: all ones unless a field says
/// otherwise) and the predicates that recognise them.
pub mod unavailable {
    /// Unavailable 16-bit value (short interface ids).
    pub const U16: u16 = u16::MAX;
    /// Unavailable 32-bit value (timestamps, delays, namespace data, ...).
    pub const U32: u32 = u32::MAX;
    /// Unavailable 64-bit value (wide namespace data).
    pub const U64: u64 = u64::MAX;
    /// Unavailable 24-bit short node id (Linux default `ioam6_id`).
    pub const NODE_ID: u32 = 0x00ff_ffff;
    /// Unavailable 56-bit wide node id (Linux default `ioam6_id_wide`).
    pub const NODE_ID_WIDE: u64 = 0x00ff_ffff_ffff_ffff;
    /// Opaque state schema id meaning "nothing to report" (RFC 9197 §4.4.2).
    pub const SCHEMA_ID_NONE: u32 = 0x00ff_ffff;
    /// The single opaque state word a node writes when it has nothing to
    /// report: Length 0, Schema ID 0xffffff (what Linux writes).
    pub const OSS_NONE_WORD: u32 = 0x00ff_ffff;

    /// Whether a 16-bit field is the unavailable value.
    #[must_use]
    pub const fn is_u16(v: u16) -> bool {
        v == U16
    }

    /// Whether a 32-bit field is the unavailable value.
    #[must_use]
    pub const fn is_u32(v: u32) -> bool {
        v == U32
    }

    /// Whether a 64-bit field is the unavailable value.
    #[must_use]
    pub const fn is_u64(v: u64) -> bool {
        v == U64
    }

    /// Whether a short node id is the unavailable value.
    #[must_use]
    pub const fn is_node_id(v: u32) -> bool {
        v == NODE_ID
    }

    /// Whether a wide node id is the unavailable value.
    #[must_use]
    pub const fn is_node_id_wide(v: u64) -> bool {
        v == NODE_ID_WIDE
    }

    /// Whether a transit delay reports an overflow: the top bit is set but the
    /// value is not the all-ones "unavailable" (RFC 9197 §4.4.2).
    #[must_use]
    pub const fn is_transit_delay_overflow(v: u32) -> bool {
        v & 0x8000_0000 != 0 && v != U32
    }
}

/// Reads a big-endian integer of `N` bytes at `at`; `None` past the end.
fn be<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
    bytes.get(at..at.checked_add(N)?)?.try_into().ok()
}

/// The opaque state snapshot of one record (RFC 9197 §4.4.2).
///
/// ```text
/// | Length (8) | Schema ID (24) | data: Length words ... |
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpaqueState<'a> {
    length: u8,
    schema_id: u32,
    data: &'a [u8],
    offset: usize,
}

impl<'a> OpaqueState<'a> {
    /// Length: words of data after the snapshot header.
    #[must_use]
    pub const fn length(&self) -> u8 {
        self.length
    }

    /// Schema ID (24 bits), interpreted per namespace.
    #[must_use]
    pub const fn schema_id(&self) -> u32 {
        self.schema_id
    }

    /// The snapshot data: exactly `length() * 4` bytes.
    #[must_use]
    pub const fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Offset of the snapshot header from the start of the trace body.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// Whether this is the "nothing to report" snapshot: Length 0 and Schema
    /// ID 0xffffff (what Linux writes when no schema is bound).
    #[must_use]
    pub const fn is_none(&self) -> bool {
        self.length == 0 && self.schema_id == unavailable::SCHEMA_ID_NONE
    }
}

/// A typed view of one node's record (RFC 9197 §4.4.2).
///
/// Each accessor returns `None` when the trace type does not carry the field,
/// never a zero. Field values are returned raw; the [`unavailable`]
/// predicates tell the "unavailable" conventions apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRecord<'a> {
    bytes: &'a [u8],
    offset: usize,
    trace_type: TraceType,
    fields_len: usize,
}

impl<'a> NodeRecord<'a> {
    /// A record over `bytes` (its whole extent, fields and snapshot) at
    /// `offset` from the body start; `fields_len` is NodeLen * 4 and must
    /// cover the trace type's fields. Built by the trace iterators.
    pub(crate) const fn new(
        bytes: &'a [u8],
        offset: usize,
        trace_type: TraceType,
        fields_len: usize,
    ) -> Self {
        Self {
            bytes,
            offset,
            trace_type,
            fields_len,
        }
    }

    /// Offset of the record from the start of the trace body.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }

    /// Length of the record in bytes, snapshot included.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the record has no bytes (only for a trace type without
    /// fields; such records are never yielded by the iterators).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bytes of the record.
    #[must_use]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The trace type the record follows.
    #[must_use]
    pub const fn trace_type(&self) -> TraceType {
        self.trace_type
    }

    fn at<const N: usize>(&self, bit: u8, extra: usize) -> Option<[u8; N]> {
        if !self.trace_type.has_bit(bit) {
            return None;
        }
        be::<N>(self.bytes, self.trace_type.word_offset(bit) * 4 + extra)
    }

    fn u32_of(&self, bit: u8) -> Option<u32> {
        self.at::<4>(bit, 0).map(u32::from_be_bytes)
    }

    /// Bit 0: hop limit (RFC 9197 §4.4.2).
    #[must_use]
    pub fn hop_limit(&self) -> Option<u8> {
        self.at::<1>(0, 0).map(|b| b[0])
    }

    /// Bit 0: 24-bit node id.
    #[must_use]
    pub fn node_id(&self) -> Option<u32> {
        self.u32_of(0).map(|w| w & 0x00ff_ffff)
    }

    /// Bit 1: 16-bit ingress interface id (§4.4.2).
    #[must_use]
    pub fn ingress_if_id(&self) -> Option<u16> {
        self.at::<2>(1, 0).map(u16::from_be_bytes)
    }

    /// Bit 1: 16-bit egress interface id.
    #[must_use]
    pub fn egress_if_id(&self) -> Option<u16> {
        self.at::<2>(1, 2).map(u16::from_be_bytes)
    }

    /// Bit 2: timestamp seconds (§4.4.2); see [`crate::timestamp`].
    #[must_use]
    pub fn timestamp_secs(&self) -> Option<u32> {
        self.u32_of(2)
    }

    /// Bit 3: timestamp fraction (§4.4.2); see [`crate::timestamp`].
    #[must_use]
    pub fn timestamp_frac(&self) -> Option<u32> {
        self.u32_of(3)
    }

    /// Bit 4: transit delay in nanoseconds, raw (§4.4.2): the top bit
    /// flags an overflow, all ones means unavailable.
    #[must_use]
    pub fn transit_delay(&self) -> Option<u32> {
        self.u32_of(4)
    }

    /// Bit 4: the transit delay when it is a measurement: `None` when
    /// absent, unavailable or overflowed.
    #[must_use]
    pub fn transit_delay_ns(&self) -> Option<u32> {
        self.transit_delay().filter(|v| v & 0x8000_0000 == 0)
    }

    /// Bit 4: whether the transit delay reports an overflow (false when
    /// absent or unavailable).
    #[must_use]
    pub fn transit_delay_overflowed(&self) -> bool {
        self.transit_delay()
            .is_some_and(unavailable::is_transit_delay_overflow)
    }

    /// Bit 5: namespace-specific data, short (§4.4.2).
    #[must_use]
    pub fn namespace_data(&self) -> Option<u32> {
        self.u32_of(5)
    }

    /// Bit 6: queue depth (§4.4.2).
    #[must_use]
    pub fn queue_depth(&self) -> Option<u32> {
        self.u32_of(6)
    }

    /// Bit 7: checksum complement (§4.4.2).
    #[must_use]
    pub fn checksum_complement(&self) -> Option<u32> {
        self.u32_of(7)
    }

    /// Bit 8: hop limit of the wide field (§4.4.2).
    #[must_use]
    pub fn hop_limit_wide(&self) -> Option<u8> {
        self.at::<1>(8, 0).map(|b| b[0])
    }

    /// Bit 8: 56-bit wide node id.
    #[must_use]
    pub fn node_id_wide(&self) -> Option<u64> {
        self.at::<8>(8, 0)
            .map(|b| u64::from_be_bytes(b) & unavailable::NODE_ID_WIDE)
    }

    /// Bit 9: 32-bit ingress interface id (§4.4.2).
    #[must_use]
    pub fn ingress_if_id_wide(&self) -> Option<u32> {
        self.at::<4>(9, 0).map(u32::from_be_bytes)
    }

    /// Bit 9: 32-bit egress interface id.
    #[must_use]
    pub fn egress_if_id_wide(&self) -> Option<u32> {
        self.at::<4>(9, 4).map(u32::from_be_bytes)
    }

    /// Bit 10: namespace-specific data, wide (§4.4.2).
    #[must_use]
    pub fn namespace_data_wide(&self) -> Option<u64> {
        self.at::<8>(10, 0).map(u64::from_be_bytes)
    }

    /// Bit 11: buffer occupancy (§4.4.2).
    #[must_use]
    pub fn buffer_occupancy(&self) -> Option<u32> {
        self.u32_of(11)
    }

    /// The word of an undefined bit 12..=21 (§4.4.1); `None` for any
    /// other bit or when the bit is not set.
    #[must_use]
    pub fn undefined(&self, bit: u8) -> Option<u32> {
        if (12..=21).contains(&bit) {
            self.u32_of(bit)
        } else {
            None
        }
    }

    /// The words after the trace type's fields and before the snapshot,
    /// present only when a lenient parse met a NodeLen larger than the type
    /// needs.
    #[must_use]
    pub fn extra_words(&self) -> &'a [u8] {
        let start = usize::from(self.trace_type.node_len()) * 4;
        self.bytes.get(start..self.fields_len).unwrap_or(&[])
    }

    /// Bit 22: the opaque state snapshot.
    #[must_use]
    pub fn oss(&self) -> Option<OpaqueState<'a>> {
        if !self.trace_type.has_oss() {
            return None;
        }
        let hdr = u32::from_be_bytes(be::<4>(self.bytes, self.fields_len)?);
        let length = (hdr >> 24) as u8;
        let start = self.fields_len + 4;
        let data = self.bytes.get(start..start + usize::from(length) * 4)?;
        Some(OpaqueState {
            length,
            schema_id: hdr & 0x00ff_ffff,
            data,
            offset: self.offset + self.fields_len,
        })
    }
}
