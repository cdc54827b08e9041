//! One node's record in a trace: the data fields of every trace-type bit and
//! the opaque state snapshot (RFC 9197 §4.4.2).

use crate::layout::{self, RecordLayout};
use crate::timestamp::TimestampFormat;
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

/// Every field of one node record, typed (RFC 9197 §4.4.2); `None` when
/// the trace type does not carry the field. Values are as written:
/// "unavailable" is all ones (see [`unavailable`]). Read with
/// [`NodeRecord::fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeFields<'a> {
    /// Bit 0: hop limit.
    pub hop_limit: Option<u8>,
    /// Bit 0: 24-bit node id.
    pub node_id: Option<u32>,
    /// Bit 1: 16-bit ingress interface id.
    pub ingress_if_id: Option<u16>,
    /// Bit 1: 16-bit egress interface id.
    pub egress_if_id: Option<u16>,
    /// Bit 2: timestamp seconds.
    pub timestamp_secs: Option<u32>,
    /// Bit 3: timestamp fraction.
    pub timestamp_frac: Option<u32>,
    /// Bit 4: transit delay (top bit: overflow).
    pub transit_delay: Option<u32>,
    /// Bit 5: namespace data, short.
    pub namespace_data: Option<u32>,
    /// Bit 6: queue depth.
    pub queue_depth: Option<u32>,
    /// Bit 7: checksum complement.
    pub checksum_complement: Option<u32>,
    /// Bit 8: hop limit of the wide field.
    pub hop_limit_wide: Option<u8>,
    /// Bit 8: 56-bit node id.
    pub node_id_wide: Option<u64>,
    /// Bit 9: 32-bit ingress interface id.
    pub ingress_if_id_wide: Option<u32>,
    /// Bit 9: 32-bit egress interface id.
    pub egress_if_id_wide: Option<u32>,
    /// Bit 10: namespace data, wide.
    pub namespace_data_wide: Option<u64>,
    /// Bit 11: buffer occupancy.
    pub buffer_occupancy: Option<u32>,
    /// Bit 22: the opaque state snapshot.
    pub oss: Option<OpaqueState<'a>>,
}

impl NodeFields<'_> {
    /// Bits 2 and 3 read in `format`, as nanoseconds since the Unix epoch:
    /// `None` without bit 2, for the "unavailable" seconds (all ones) and
    /// for a value the format cannot hold. A missing fraction counts as 0.
    #[must_use]
    pub fn unix_nanos(&self, format: TimestampFormat) -> Option<u64> {
        unix_nanos(self.timestamp_secs, self.timestamp_frac, format)
    }
}

/// The rule of [`NodeFields::unix_nanos`] and [`NodeRecord::unix_nanos`].
#[inline]
fn unix_nanos(secs: Option<u32>, frac: Option<u32>, format: TimestampFormat) -> Option<u64> {
    match secs? {
        u32::MAX => None,
        secs => format.to_unix_nanos(secs, frac.unwrap_or(0)),
    }
}

/// One value of a node record's data fields (RFC 9197 §4.4.2), in wire
/// order: bits 0, 1, 8 and 9 carry two values each, the other named bits
/// one. The undefined bits 12-21 and the opaque state (bit 22) are not
/// among them (see [`NodeRecord::undefined_words`], [`NodeRecord::oss`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataField {
    /// Bit 0: hop limit (8 bits).
    HopLimit,
    /// Bit 0: node id (24 bits).
    NodeId,
    /// Bit 1: ingress interface id (16 bits).
    IngressIfId,
    /// Bit 1: egress interface id (16 bits).
    EgressIfId,
    /// Bit 2: timestamp seconds.
    TimestampSecs,
    /// Bit 3: timestamp fraction.
    TimestampFrac,
    /// Bit 4: transit delay (top bit: overflow).
    TransitDelay,
    /// Bit 5: namespace data, short.
    NamespaceData,
    /// Bit 6: queue depth.
    QueueDepth,
    /// Bit 7: checksum complement.
    ChecksumComplement,
    /// Bit 8: hop limit of the wide field (8 bits).
    HopLimitWide,
    /// Bit 8: wide node id (56 bits).
    NodeIdWide,
    /// Bit 9: wide ingress interface id (32 bits).
    IngressIfIdWide,
    /// Bit 9: wide egress interface id (32 bits).
    EgressIfIdWide,
    /// Bit 10: namespace data, wide (64 bits).
    NamespaceDataWide,
    /// Bit 11: buffer occupancy.
    BufferOccupancy,
}

impl DataField {
    /// Every value, in wire order.
    pub const ALL: [DataField; 16] = {
        use DataField::*;
        [
            HopLimit,
            NodeId,
            IngressIfId,
            EgressIfId,
            TimestampSecs,
            TimestampFrac,
            TransitDelay,
            NamespaceData,
            QueueDepth,
            ChecksumComplement,
            HopLimitWide,
            NodeIdWide,
            IngressIfIdWide,
            EgressIfIdWide,
            NamespaceDataWide,
            BufferOccupancy,
        ]
    };

    /// The trace-type bit (RFC numbering, 0-11) that carries the value.
    #[must_use]
    pub const fn bit(self) -> u8 {
        use DataField::*;
        match self {
            HopLimit | NodeId => 0,
            IngressIfId | EgressIfId => 1,
            TimestampSecs => 2,
            TimestampFrac => 3,
            TransitDelay => 4,
            NamespaceData => 5,
            QueueDepth => 6,
            ChecksumComplement => 7,
            HopLimitWide | NodeIdWide => 8,
            IngressIfIdWide | EgressIfIdWide => 9,
            NamespaceDataWide => 10,
            BufferOccupancy => 11,
        }
    }

    /// The value's name in snake case, as the member of [`NodeFields`]
    /// (`"hop_limit"`, `"node_id_wide"`, ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        use DataField::*;
        match self {
            HopLimit => "hop_limit",
            NodeId => "node_id",
            IngressIfId => "ingress_if_id",
            EgressIfId => "egress_if_id",
            TimestampSecs => "timestamp_secs",
            TimestampFrac => "timestamp_frac",
            TransitDelay => "transit_delay",
            NamespaceData => "namespace_data",
            QueueDepth => "queue_depth",
            ChecksumComplement => "checksum_complement",
            HopLimitWide => "hop_limit_wide",
            NodeIdWide => "node_id_wide",
            IngressIfIdWide => "ingress_if_id_wide",
            EgressIfIdWide => "egress_if_id_wide",
            NamespaceDataWide => "namespace_data_wide",
            BufferOccupancy => "buffer_occupancy",
        }
    }
}

/// The values of the data fields a record carries, in wire order, each
/// with its [`DataField`]: only the fields of the trace type's bits, read
/// from a cursor over the record (one bit scan and one read per field, no
/// test per absent field). Built by [`NodeRecord::values`].
///
/// The iterator ends early only for a record shorter than its fields,
/// which the record iterators never yield.
#[derive(Debug, Clone)]
pub struct FieldValues<'a> {
    /// The bytes of the fields not read yet.
    rest: &'a [u8],
    /// The bits 0-11 not read yet, in their trace-type positions.
    bits: u32,
    /// The second value of a two-value bit, when its first was returned.
    second: Option<(DataField, u64)>,
}

impl FieldValues<'_> {
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (w, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        Some(*w)
    }
}

impl Iterator for FieldValues<'_> {
    type Item = (DataField, u64);

    #[inline]
    fn next(&mut self) -> Option<(DataField, u64)> {
        use DataField::*;
        if let Some(second) = self.second.take() {
            return Some(second);
        }
        if self.bits == 0 {
            return None;
        }
        // RFC bit k is trace-type bit 23 - k: the first set one is the
        // highest, 8 leading zeros above bit 23.
        let k = self.bits.leading_zeros().wrapping_sub(8);
        self.bits &= !(0x80_0000 >> k);
        let word = |w: [u8; 4]| u64::from(u32::from_be_bytes(w));
        let (first, second) = match k {
            0 => {
                let w = word(self.take::<4>()?);
                ((HopLimit, w >> 24), Some((NodeId, w & 0x00ff_ffff)))
            }
            1 => {
                let w = word(self.take::<4>()?);
                ((IngressIfId, w >> 16), Some((EgressIfId, w & 0xffff)))
            }
            8 => {
                let w = u64::from_be_bytes(self.take::<8>()?);
                (
                    (HopLimitWide, w >> 56),
                    Some((NodeIdWide, w & unavailable::NODE_ID_WIDE)),
                )
            }
            9 => {
                let w = u64::from_be_bytes(self.take::<8>()?);
                (
                    (IngressIfIdWide, w >> 32),
                    Some((EgressIfIdWide, w & 0xffff_ffff)),
                )
            }
            10 => (
                (NamespaceDataWide, u64::from_be_bytes(self.take::<8>()?)),
                None,
            ),
            _ => {
                // The one-word bits 2-7 and 11 (the other entries are
                // never read: their bits are handled above).
                const ONE_WORD: [DataField; 12] = [
                    HopLimit,
                    IngressIfId,
                    TimestampSecs,
                    TimestampFrac,
                    TransitDelay,
                    NamespaceData,
                    QueueDepth,
                    ChecksumComplement,
                    HopLimitWide,
                    IngressIfIdWide,
                    NamespaceDataWide,
                    BufferOccupancy,
                ];
                let field = *ONE_WORD.get(k as usize)?;
                ((field, word(self.take::<4>()?)), None)
            }
        };
        self.second = second;
        Some(first)
    }
}

/// A typed view of one node's record (RFC 9197 §4.4.2).
///
/// Each accessor returns `None` when the trace type does not carry the field,
/// never a zero. Field values are returned raw; the [`unavailable`]
/// predicates tell the "unavailable" conventions apart.
///
/// The record carries the [`RecordLayout`] of its trace type, computed once
/// per trace: an accessor is one table load and one bounds-checked read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRecord<'a> {
    bytes: &'a [u8],
    layout: RecordLayout,
    /// Offset from the body start (a body is at most 252 bytes).
    offset: u8,
    /// NodeLen * 4 as the header says (at least `layout.fields_len()`).
    fields_len: u8,
}

impl<'a> NodeRecord<'a> {
    /// A record over `bytes` (its whole extent, fields and snapshot) at
    /// `offset` from the body start; `fields_len` is NodeLen * 4 and must
    /// cover the layout's fields. Built by the trace iterators, from a body
    /// of at most 252 bytes: every record is shorter than 255 bytes, which
    /// the absent-field convention of [`RecordLayout`] relies on.
    #[inline]
    pub(crate) fn new(
        bytes: &'a [u8],
        offset: usize,
        layout: RecordLayout,
        fields_len: usize,
    ) -> Self {
        debug_assert!(bytes.len() < usize::from(layout::ABSENT));
        debug_assert!(offset <= usize::from(u8::MAX) && fields_len <= usize::from(u8::MAX));
        Self {
            bytes,
            layout,
            offset: offset as u8,
            fields_len: fields_len as u8,
        }
    }

    /// Offset of the record from the start of the trace body.
    #[must_use]
    #[inline]
    pub const fn offset(&self) -> usize {
        self.offset as usize
    }

    /// Length of the record in bytes, snapshot included.
    #[must_use]
    #[inline]
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the record has no bytes (only for a trace type without
    /// fields; such records are never yielded by the iterators).
    #[must_use]
    #[inline]
    pub const fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bytes of the record.
    #[must_use]
    #[inline]
    pub const fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The trace type the record follows.
    #[must_use]
    #[inline]
    pub const fn trace_type(&self) -> TraceType {
        self.layout.trace_type()
    }

    /// Where the fields of this record sit.
    #[must_use]
    #[inline]
    pub const fn layout(&self) -> &RecordLayout {
        &self.layout
    }

    /// `N` bytes of the field of `bit` (< 22), from `extra` bytes into it.
    #[inline]
    fn at<const N: usize>(&self, bit: usize, extra: usize) -> Option<[u8; N]> {
        // The bit test makes absent fields (most of them in the usual
        // sparse trace types) a single test; the read is bounds-checked
        // all the same.
        if !self.layout.trace_type().has_bit(bit as u8) {
            return None;
        }
        layout::read::<N>(self.bytes, self.layout.raw(bit), extra)
    }

    #[inline]
    fn u32_of(&self, bit: usize) -> Option<u32> {
        self.at::<4>(bit, 0).map(u32::from_be_bytes)
    }

    /// Bit 0: hop limit (RFC 9197 §4.4.2).
    #[must_use]
    #[inline]
    pub fn hop_limit(&self) -> Option<u8> {
        self.at::<1>(0, 0).map(|b| b[0])
    }

    /// Bit 0: 24-bit node id.
    #[must_use]
    #[inline]
    pub fn node_id(&self) -> Option<u32> {
        self.u32_of(0).map(|w| w & 0x00ff_ffff)
    }

    /// Bit 1: 16-bit ingress interface id (§4.4.2).
    #[must_use]
    #[inline]
    pub fn ingress_if_id(&self) -> Option<u16> {
        self.at::<2>(1, 0).map(u16::from_be_bytes)
    }

    /// Bit 1: 16-bit egress interface id.
    #[must_use]
    #[inline]
    pub fn egress_if_id(&self) -> Option<u16> {
        self.at::<2>(1, 2).map(u16::from_be_bytes)
    }

    /// Bit 2: timestamp seconds (§4.4.2); see [`crate::timestamp`].
    #[must_use]
    #[inline]
    pub fn timestamp_secs(&self) -> Option<u32> {
        self.u32_of(2)
    }

    /// Bit 3: timestamp fraction (§4.4.2); see [`crate::timestamp`].
    #[must_use]
    #[inline]
    pub fn timestamp_frac(&self) -> Option<u32> {
        self.u32_of(3)
    }

    /// Bits 2 and 3 as nanoseconds since the Unix epoch, like
    /// [`NodeFields::unix_nanos`], read without the other fields.
    #[must_use]
    #[inline]
    pub fn unix_nanos(&self, format: TimestampFormat) -> Option<u64> {
        unix_nanos(self.timestamp_secs(), self.timestamp_frac(), format)
    }

    /// Bit 4: transit delay in nanoseconds, raw (§4.4.2): the top bit
    /// flags an overflow, all ones means unavailable.
    #[must_use]
    #[inline]
    pub fn transit_delay(&self) -> Option<u32> {
        self.u32_of(4)
    }

    /// Bit 4: the transit delay when it is a measurement: `None` when
    /// absent, unavailable or overflowed.
    #[must_use]
    #[inline]
    pub fn transit_delay_ns(&self) -> Option<u32> {
        self.transit_delay().filter(|v| v & 0x8000_0000 == 0)
    }

    /// Bit 4: whether the transit delay reports an overflow (false when
    /// absent or unavailable).
    #[must_use]
    #[inline]
    pub fn transit_delay_overflowed(&self) -> bool {
        self.transit_delay()
            .is_some_and(unavailable::is_transit_delay_overflow)
    }

    /// Bit 5: namespace-specific data, short (§4.4.2).
    #[must_use]
    #[inline]
    pub fn namespace_data(&self) -> Option<u32> {
        self.u32_of(5)
    }

    /// Bit 6: queue depth (§4.4.2).
    #[must_use]
    #[inline]
    pub fn queue_depth(&self) -> Option<u32> {
        self.u32_of(6)
    }

    /// Bit 7: checksum complement (§4.4.2).
    #[must_use]
    #[inline]
    pub fn checksum_complement(&self) -> Option<u32> {
        self.u32_of(7)
    }

    /// Bit 8: hop limit of the wide field (§4.4.2).
    #[must_use]
    #[inline]
    pub fn hop_limit_wide(&self) -> Option<u8> {
        self.at::<1>(8, 0).map(|b| b[0])
    }

    /// Bit 8: 56-bit wide node id.
    #[must_use]
    #[inline]
    pub fn node_id_wide(&self) -> Option<u64> {
        self.at::<8>(8, 0)
            .map(|b| u64::from_be_bytes(b) & unavailable::NODE_ID_WIDE)
    }

    /// Bit 9: 32-bit ingress interface id (§4.4.2).
    #[must_use]
    #[inline]
    pub fn ingress_if_id_wide(&self) -> Option<u32> {
        self.at::<4>(9, 0).map(u32::from_be_bytes)
    }

    /// Bit 9: 32-bit egress interface id.
    #[must_use]
    #[inline]
    pub fn egress_if_id_wide(&self) -> Option<u32> {
        self.at::<4>(9, 4).map(u32::from_be_bytes)
    }

    /// Bit 10: namespace-specific data, wide (§4.4.2).
    #[must_use]
    #[inline]
    pub fn namespace_data_wide(&self) -> Option<u64> {
        self.at::<8>(10, 0).map(u64::from_be_bytes)
    }

    /// Bit 11: buffer occupancy (§4.4.2).
    #[must_use]
    #[inline]
    pub fn buffer_occupancy(&self) -> Option<u32> {
        self.u32_of(11)
    }

    /// The word of an undefined bit 12..=21 (§4.4.1); `None` for any
    /// other bit or when the bit is not set.
    #[must_use]
    #[inline]
    pub fn undefined(&self, bit: u8) -> Option<u32> {
        if (12..=21).contains(&bit) {
            self.u32_of(usize::from(bit))
        } else {
            None
        }
    }

    /// The words of the undefined bits 12-21 that are set, in bit order
    /// (Linux fills them with 0xffffffff, RFC 9197 §4.4.1); nothing, at the
    /// cost of one test, for a trace type without any.
    pub fn undefined_words(&self) -> impl Iterator<Item = u32> + '_ {
        let any = !self.trace_type().undefined_bits().is_empty();
        (12u8..=21)
            .filter(move |_| any)
            .filter_map(|bit| self.undefined(bit))
    }

    /// The words after the trace type's fields and before the snapshot,
    /// present only when a lenient parse met a NodeLen larger than the type
    /// needs.
    #[must_use]
    #[inline]
    pub fn extra_words(&self) -> &'a [u8] {
        let start = self.layout.fields_len();
        self.bytes
            .get(start..usize::from(self.fields_len))
            .unwrap_or(&[])
    }

    /// Bit 22: the opaque state snapshot.
    #[must_use]
    #[inline]
    pub fn oss(&self) -> Option<OpaqueState<'a>> {
        if !self.layout.has_oss() {
            return None;
        }
        let [length, s0, s1, s2] = layout::read::<4>(self.bytes, self.fields_len, 0)?;
        let start = usize::from(self.fields_len) + 4;
        let data = self.bytes.get(start..start + usize::from(length) * 4)?;
        Some(OpaqueState {
            length,
            schema_id: u32::from_be_bytes([0, s0, s1, s2]),
            data,
            offset: self.offset() + usize::from(self.fields_len),
        })
    }

    /// The values of the data fields the trace type carries (bits 0-11),
    /// in wire order, each with its [`DataField`]; the fast way to visit
    /// only what a record holds, for a writer that prints each value
    /// under its name.
    ///
    /// ```
    /// use ioam_trace::record::DataField;
    /// use ioam_trace::{Mode, Trace};
    /// // Type 0xc00000 (bits 0 and 1): hop limit 63, node 1, interfaces 2 / 3.
    /// let body = [0, 1, 0x10, 0, 0xc0, 0, 0, 0, 63, 0, 0, 1, 0, 2, 0, 3];
    /// let trace = Trace::parse_preallocated(&body, Mode::Strict)?;
    /// let record = trace.records().next().unwrap()?;
    /// let values: Vec<(DataField, u64)> = record.values().collect();
    /// assert_eq!(values, [
    ///     (DataField::HopLimit, 63),
    ///     (DataField::NodeId, 1),
    ///     (DataField::IngressIfId, 2),
    ///     (DataField::EgressIfId, 3),
    /// ]);
    /// assert_eq!(DataField::EgressIfId.name(), "egress_if_id");
    /// # Ok::<(), ioam_trace::TraceError>(())
    /// ```
    #[inline]
    pub fn values(&self) -> FieldValues<'a> {
        FieldValues {
            rest: self.bytes,
            bits: self.layout.trace_type().bits() & 0x00ff_f000,
            second: None,
        }
    }

    /// Every field of the record at once, typed.
    ///
    /// ```
    /// use ioam_trace::{Mode, Trace};
    /// // Type 0xc00000 (bits 0 and 1): hop limit 63, node 1, interfaces 2 / 3.
    /// let body = [0, 1, 0x10, 0, 0xc0, 0, 0, 0, 63, 0, 0, 1, 0, 2, 0, 3];
    /// let trace = Trace::parse_preallocated(&body, Mode::Strict)?;
    /// let f = trace.records().next().unwrap()?.fields();
    /// assert_eq!((f.hop_limit, f.node_id, f.ingress_if_id, f.egress_if_id), (Some(63), Some(1), Some(2), Some(3)));
    /// assert_eq!(f.queue_depth, None); // bit 6 not set: absent, not zero
    /// # Ok::<(), ioam_trace::TraceError>(())
    /// ```
    /// The undefined bits 12-21 are not among them: see
    /// [`NodeRecord::undefined_words`].
    ///
    /// One pass over the fields the trace type has, in bit order, each read
    /// from a cursor that a single length test advances: the accessors
    /// look each field up on its own, which costs a table read and a
    /// bounds check per field, present or not.
    #[must_use]
    #[inline]
    pub fn fields(&self) -> NodeFields<'a> {
        let bits = self.layout.trace_type().bits();
        let has = |k: u32| bits & (1 << (23 - k)) != 0;
        let mut f = NodeFields {
            oss: self.oss(),
            ..NodeFields::default()
        };
        // Bits 0-11 in order: their fields come first, at offsets that sum
        // up (the undefined bits 12-21 sit after them).
        let mut cur = self.bytes;
        let take4 = |cur: &mut &'a [u8]| -> Option<[u8; 4]> {
            let (w, rest) = cur.split_first_chunk::<4>()?;
            *cur = rest;
            Some(*w)
        };
        if has(0) {
            if let Some(w) = take4(&mut cur) {
                f.hop_limit = Some(w[0]);
                f.node_id = Some(u32::from_be_bytes(w) & 0x00ff_ffff);
            }
        }
        if has(1) {
            if let Some([a, b, c, d]) = take4(&mut cur) {
                f.ingress_if_id = Some(u16::from_be_bytes([a, b]));
                f.egress_if_id = Some(u16::from_be_bytes([c, d]));
            }
        }
        let word = |k: u32, cur: &mut &'a [u8]| -> Option<u32> {
            if has(k) {
                take4(cur).map(u32::from_be_bytes)
            } else {
                None
            }
        };
        f.timestamp_secs = word(2, &mut cur);
        f.timestamp_frac = word(3, &mut cur);
        f.transit_delay = word(4, &mut cur);
        f.namespace_data = word(5, &mut cur);
        f.queue_depth = word(6, &mut cur);
        f.checksum_complement = word(7, &mut cur);
        if bits & 0x00_f000 == 0 {
            // No wide field and no buffer occupancy: the usual short types.
            return f;
        }
        if has(8) {
            if let Some(w) = take4(&mut cur) {
                f.hop_limit_wide = Some(w[0]);
                if let Some(l) = take4(&mut cur) {
                    let v =
                        u64::from(u32::from_be_bytes(w)) << 32 | u64::from(u32::from_be_bytes(l));
                    f.node_id_wide = Some(v & unavailable::NODE_ID_WIDE);
                }
            }
        }
        if has(9) {
            if let Some(i) = take4(&mut cur) {
                f.ingress_if_id_wide = Some(u32::from_be_bytes(i));
                f.egress_if_id_wide = take4(&mut cur).map(u32::from_be_bytes);
            }
        }
        if has(10) {
            if let (Some(h), Some(l)) = (take4(&mut cur), take4(&mut cur)) {
                f.namespace_data_wide =
                    Some(u64::from(u32::from_be_bytes(h)) << 32 | u64::from(u32::from_be_bytes(l)));
            }
        }
        f.buffer_occupancy = word(11, &mut cur);
        f
    }
}

#[cfg(test)]
mod tests {
    use super::NodeRecord;
    use crate::layout::RecordLayout;
    use crate::trace_type::TraceType;

    /// A one-record pre-allocated trace of type `bits` whose record bytes
    /// are 0, 1, 2, ...; the snapshot (if any) is the "none" word.
    fn one_record(bits: u32, buf: &mut [u8; 252]) -> usize {
        let t = TraceType::from_bits_truncate(bits);
        let fields = usize::from(t.node_len()) * 4;
        let len = fields + if t.has_oss() { 4 } else { 0 };
        let [_, a, b, c] = bits.to_be_bytes();
        buf[..8].copy_from_slice(&[0, 1, t.node_len() << 3, 0, a, b, c, 0]);
        for (i, x) in buf[8..8 + fields].iter_mut().enumerate() {
            *x = i as u8;
        }
        if t.has_oss() {
            buf[8 + fields..8 + len].copy_from_slice(&[0x00, 0xff, 0xff, 0xff]);
        }
        8 + len
    }

    /// The big-endian value of `n` bytes at `at` of a record holding 0, 1, 2, ...
    fn counting(at: usize, n: usize) -> u64 {
        (at..at + n).fold(0, |v, b| (v << 8) | b as u64)
    }

    /// `fields()` as the accessors give it, field by field.
    fn by_accessors<'a>(r: &NodeRecord<'a>) -> super::NodeFields<'a> {
        super::NodeFields {
            hop_limit: r.hop_limit(),
            node_id: r.node_id(),
            ingress_if_id: r.ingress_if_id(),
            egress_if_id: r.egress_if_id(),
            timestamp_secs: r.timestamp_secs(),
            timestamp_frac: r.timestamp_frac(),
            transit_delay: r.transit_delay(),
            namespace_data: r.namespace_data(),
            queue_depth: r.queue_depth(),
            checksum_complement: r.checksum_complement(),
            hop_limit_wide: r.hop_limit_wide(),
            node_id_wide: r.node_id_wide(),
            ingress_if_id_wide: r.ingress_if_id_wide(),
            egress_if_id_wide: r.egress_if_id_wide(),
            namespace_data_wide: r.namespace_data_wide(),
            buffer_occupancy: r.buffer_occupancy(),
            oss: r.oss(),
        }
    }

    proptest::proptest! {
        /// The one-pass `fields()` reads what every accessor reads, for any
        /// trace type, any record bytes and any extent the iterators can
        /// give a record (its fields, then extra words or a snapshot).
        #[test]
        fn fields_equal_the_accessors(
            bits in 0u32..1 << 24,
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..252),
            extra in 0usize..128,
        ) {
            let t = TraceType::from_bits_truncate(bits);
            let fields = usize::from(t.node_len()) * 4;
            proptest::prop_assume!(fields <= bytes.len());
            let n = (fields + extra).min(bytes.len());
            let r = NodeRecord::new(&bytes[..n], 8, RecordLayout::new(t), fields);
            proptest::prop_assert_eq!(r.fields(), by_accessors(&r));
        }
    }

    /// [`NodeFields`](super::NodeFields) rebuilt from `values()`.
    fn by_values<'a>(r: &NodeRecord<'a>) -> super::NodeFields<'a> {
        use super::DataField::*;
        let mut f = super::NodeFields {
            oss: r.oss(),
            ..Default::default()
        };
        let mut order = alloc::vec::Vec::new();
        for (field, v) in r.values() {
            order.push(field);
            match field {
                HopLimit => f.hop_limit = Some(v as u8),
                NodeId => f.node_id = Some(v as u32),
                IngressIfId => f.ingress_if_id = Some(v as u16),
                EgressIfId => f.egress_if_id = Some(v as u16),
                TimestampSecs => f.timestamp_secs = Some(v as u32),
                TimestampFrac => f.timestamp_frac = Some(v as u32),
                TransitDelay => f.transit_delay = Some(v as u32),
                NamespaceData => f.namespace_data = Some(v as u32),
                QueueDepth => f.queue_depth = Some(v as u32),
                ChecksumComplement => f.checksum_complement = Some(v as u32),
                HopLimitWide => f.hop_limit_wide = Some(v as u8),
                NodeIdWide => f.node_id_wide = Some(v),
                IngressIfIdWide => f.ingress_if_id_wide = Some(v as u32),
                EgressIfIdWide => f.egress_if_id_wide = Some(v as u32),
                NamespaceDataWide => f.namespace_data_wide = Some(v),
                BufferOccupancy => f.buffer_occupancy = Some(v as u32),
            }
            assert!(
                r.trace_type().has_bit(field.bit()),
                "{field:?} of an absent bit"
            );
        }
        // Wire order, each value once, and the narrowing casts above lost nothing.
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        f
    }

    proptest::proptest! {
        /// `values()` yields exactly the fields `fields()` reads, in order.
        #[test]
        fn values_equal_fields(
            bits in 0u32..1 << 24,
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..252),
            extra in 0usize..128,
        ) {
            let t = TraceType::from_bits_truncate(bits);
            let fields = usize::from(t.node_len()) * 4;
            proptest::prop_assume!(fields <= bytes.len());
            let n = (fields + extra).min(bytes.len());
            let r = NodeRecord::new(&bytes[..n], 8, RecordLayout::new(t), fields);
            proptest::prop_assert_eq!(by_values(&r), r.fields());
            // The record's own time reading agrees with the fields' one.
            for format in crate::timestamp::TimestampFormat::ALL {
                proptest::prop_assert_eq!(r.unix_nanos(format), r.fields().unix_nanos(format));
            }
        }
    }

    #[test]
    fn values_of_every_single_bit_and_dense_types() {
        let mut types = alloc::vec![0xff_f002u32, 0x80_0000, 0x00_e000, 0xff_fffe, 0x4a_5a02, 0];
        types.extend((0..24).map(|k| 1u32 << k));
        for bits in types {
            let t = TraceType::from_bits_truncate(bits);
            let mut buf = [0u8; 252];
            let n = one_record(bits, &mut buf);
            let fields = usize::from(t.node_len()) * 4;
            let r = NodeRecord::new(&buf[8..n], 8, RecordLayout::new(t), fields);
            assert_eq!(by_values(&r), r.fields(), "{bits:#x}");
            let names: alloc::vec::Vec<_> = r.values().map(|(f, _)| f.name()).collect();
            let count = (0..12u8)
                .filter(|&k| t.has_bit(k))
                .map(|k| if matches!(k, 0 | 1 | 8 | 9) { 2 } else { 1 })
                .sum::<usize>();
            assert_eq!(names.len(), count, "{bits:#x}: {names:?}");
        }
        assert_eq!(
            super::DataField::ALL.map(|f| f.bit()),
            [0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 9, 10, 11]
        );
    }

    #[test]
    fn unix_nanos_of_a_record() {
        use crate::timestamp::TimestampFormat;
        // Type 0x300000 (bits 2 and 3): seconds, then the fraction.
        let t = TraceType::from_bits_truncate(0x30_0000);
        let layout = RecordLayout::new(t);
        let at = |secs: u32, frac: u32| {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&secs.to_be_bytes());
            b[4..].copy_from_slice(&frac.to_be_bytes());
            b
        };
        let b = at(1_700_000_000, 500_000);
        let r = NodeRecord::new(&b, 8, layout, 8);
        assert_eq!(
            r.unix_nanos(TimestampFormat::Posix),
            Some(1_700_000_000_500_000_000)
        );
        // All-ones seconds: unavailable.
        let b = at(u32::MAX, 0);
        let r = NodeRecord::new(&b, 8, layout, 8);
        assert_eq!(r.unix_nanos(TimestampFormat::Posix), None);
        assert_eq!(r.fields().unix_nanos(TimestampFormat::Posix), None);
        // No timestamp bit: none.
        let t = TraceType::from_bits_truncate(0x80_0000);
        let r = NodeRecord::new(&[64, 0, 0, 1], 8, RecordLayout::new(t), 4);
        assert_eq!(r.unix_nanos(TimestampFormat::Posix), None);
    }

    #[test]
    fn every_accessor_reads_its_own_offset() {
        let mut types = alloc::vec![0xff_f002u32, 0x80_0000, 0x00_e000, 0xff_fffe, 0x4a_5a02];
        types.extend((0..22).map(|k| 1u32 << (23 - k)));
        for bits in types {
            let t = TraceType::from_bits_truncate(bits);
            let mut buf = [0u8; 252];
            let n = one_record(bits, &mut buf);
            let fields = usize::from(t.node_len()) * 4;
            let r = NodeRecord::new(&buf[8..n], 8, RecordLayout::new(t), fields);
            let off = |k: u8| t.has_bit(k).then(|| t.word_offset(k) * 4);
            let u32_at = |k: u8, extra: usize| off(k).map(|o| counting(o + extra, 4) as u32);
            assert_eq!(r.hop_limit(), off(0).map(|o| o as u8), "{bits:#x}");
            assert_eq!(r.node_id(), u32_at(0, 0).map(|v| v & 0xff_ffff));
            assert_eq!(r.ingress_if_id(), off(1).map(|o| counting(o, 2) as u16));
            assert_eq!(r.egress_if_id(), off(1).map(|o| counting(o + 2, 2) as u16));
            assert_eq!(r.timestamp_secs(), u32_at(2, 0));
            assert_eq!(r.timestamp_frac(), u32_at(3, 0));
            assert_eq!(r.transit_delay(), u32_at(4, 0));
            assert_eq!(r.namespace_data(), u32_at(5, 0));
            assert_eq!(r.queue_depth(), u32_at(6, 0));
            assert_eq!(r.checksum_complement(), u32_at(7, 0));
            assert_eq!(r.hop_limit_wide(), off(8).map(|o| o as u8));
            assert_eq!(
                r.node_id_wide(),
                off(8).map(|o| counting(o, 8) & 0x00ff_ffff_ffff_ffff)
            );
            assert_eq!(r.ingress_if_id_wide(), u32_at(9, 0));
            assert_eq!(r.egress_if_id_wide(), u32_at(9, 4));
            assert_eq!(r.namespace_data_wide(), off(10).map(|o| counting(o, 8)));
            assert_eq!(r.buffer_occupancy(), u32_at(11, 0));
            for k in 0..24 {
                let want = if (12..=21).contains(&k) {
                    u32_at(k, 0)
                } else {
                    None
                };
                assert_eq!(r.undefined(k), want, "{bits:#x} bit {k}");
            }
            assert_eq!(r.oss().is_some(), t.has_oss());
            assert!(r.oss().is_none_or(|o| o.is_none()));
            assert_eq!(r.layout(), &RecordLayout::new(t));
            assert_eq!(r.trace_type(), t);
            // `fields()` reads the same values in one call.
            let f = r.fields();
            assert_eq!(
                (f.hop_limit, f.node_id, f.ingress_if_id, f.egress_if_id),
                (
                    r.hop_limit(),
                    r.node_id(),
                    r.ingress_if_id(),
                    r.egress_if_id()
                )
            );
            assert_eq!(
                (
                    f.timestamp_secs,
                    f.timestamp_frac,
                    f.transit_delay,
                    f.namespace_data
                ),
                (
                    r.timestamp_secs(),
                    r.timestamp_frac(),
                    r.transit_delay(),
                    r.namespace_data()
                )
            );
            assert_eq!(
                (
                    f.queue_depth,
                    f.checksum_complement,
                    f.hop_limit_wide,
                    f.node_id_wide
                ),
                (
                    r.queue_depth(),
                    r.checksum_complement(),
                    r.hop_limit_wide(),
                    r.node_id_wide()
                )
            );
            assert_eq!(
                (
                    f.ingress_if_id_wide,
                    f.egress_if_id_wide,
                    f.namespace_data_wide,
                    f.buffer_occupancy
                ),
                (
                    r.ingress_if_id_wide(),
                    r.egress_if_id_wide(),
                    r.namespace_data_wide(),
                    r.buffer_occupancy()
                )
            );
            let words: alloc::vec::Vec<u32> = r.undefined_words().collect();
            let want: alloc::vec::Vec<u32> = (12..=21).filter_map(|b| r.undefined(b)).collect();
            assert_eq!(words, want, "{bits:#x}");
            assert_eq!(words.len(), t.undefined_bits().bits().count_ones() as usize);
            assert_eq!(f.oss, r.oss());
        }
    }
}
