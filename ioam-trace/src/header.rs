//! The 8-byte trace option header shared by the Pre-allocated and the
//! Incremental trace (RFC 9197 §4.4.1, flags of RFC 9322 §4).

use zerocopy::byteorder::network_endian;
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{Part, TraceError};
use crate::trace_type::TraceType;

/// Length of the trace option header in bytes.
pub const TRACE_HEADER_LEN: usize = 8;

/// Largest node-data area an IPv6 option can carry, in bytes (RFC 9486 §4.2:
/// 255 option bytes, 4n alignment; Linux `IOAM6_TRACE_DATA_SIZE_MAX`).
pub const TRACE_DATA_MAX: usize = 244;

/// Largest NodeLen value (5 bits).
pub const NODE_LEN_MAX: u8 = 31;

/// Largest RemainingLen value (7 bits).
pub const REMAINING_LEN_MAX: u8 = 127;

mod field {
    //! ```text
    //!  0                   1                   2                   3
    //!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    //! +-------------------------------+---------+-------+-------------+
    //! |        Namespace-ID           | NodeLen | Flags | RemainingLen|
    //! +-----------------------------------------------+---------------+
    //! |              IOAM-Trace-Type (24)             |  Reserved (8) |
    //! +-----------------------------------------------+---------------+
    //! ```
    pub(super) type Field = core::ops::Range<usize>;
    pub(super) const NAMESPACE_ID: Field = 0..2;
    /// NodeLen(5) Flags(4) RemainingLen(7), big-endian.
    pub(super) const LEN_FLAGS: Field = 2..4;
    pub(super) const TRACE_TYPE: Field = 4..7;
    pub(super) const RESERVED: usize = 7;

    pub(super) const NODE_LEN_SHIFT: u16 = 11;
    pub(super) const NODE_LEN_MASK: u16 = 0x1f;
    pub(super) const OVERFLOW: u16 = 0x0400;
    pub(super) const LOOPBACK: u16 = 0x0200;
    pub(super) const ACTIVE: u16 = 0x0100;
    pub(super) const UNASSIGNED: u16 = 0x0080;
    pub(super) const FLAGS_MASK: u16 = 0x0780;
    pub(super) const REMAINING_LEN_MASK: u16 = 0x007f;
}

/// Offset of the NodeLen field (the word that also holds the flags).
pub(crate) const NODE_LEN_OFFSET: usize = field::LEN_FLAGS.start;
/// Offset of the RemainingLen byte.
pub(crate) const REMAINING_LEN_OFFSET: usize = 3;
/// Offset of the IOAM-Trace-Type field.
pub(crate) const TRACE_TYPE_OFFSET: usize = field::TRACE_TYPE.start;

/// The four flag bits of the trace option header.
///
/// Overflow comes from RFC 9197 §4.4.1, Loopback and Active from RFC 9322 §4;
/// the fourth bit is unassigned (0 on send, ignored on receive, kept by
/// transit nodes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct HeaderFlags {
    /// O (0x0400 of the word at offset 2): a node had no room for its data.
    pub overflow: bool,
    /// L (0x0200): loopback requested (RFC 9322 §4.1).
    pub loopback: bool,
    /// A (0x0100): active measurement packet (RFC 9322 §4.2).
    pub active: bool,
    /// The unassigned bit (0x0080).
    pub unassigned: bool,
}

impl HeaderFlags {
    /// The flags from the 16-bit word at offset 2.
    #[must_use]
    pub const fn from_word(word: u16) -> Self {
        Self {
            overflow: word & field::OVERFLOW != 0,
            loopback: word & field::LOOPBACK != 0,
            active: word & field::ACTIVE != 0,
            unassigned: word & field::UNASSIGNED != 0,
        }
    }

    /// The flag bits as they sit in the 16-bit word at offset 2.
    #[must_use]
    pub const fn to_word(self) -> u16 {
        (if self.overflow { field::OVERFLOW } else { 0 })
            | (if self.loopback { field::LOOPBACK } else { 0 })
            | (if self.active { field::ACTIVE } else { 0 })
            | (if self.unassigned {
                field::UNASSIGNED
            } else {
                0
            })
    }
}

/// The 8-byte trace option header exactly as it sits on the wire (RFC 9197
/// §4.4.1), for zero-copy reads and in-place writes: any 8 bytes are a
/// valid value and it has no alignment.
///
/// ```
/// use ioam_trace::header::RawTraceHeader;
/// use zerocopy::FromBytes;
/// let body = [0x00, 0x7b, 0x7e, 0x3d, 0xff, 0xf0, 0x02, 0x00, 0xaa];
/// let (h, rest) = RawTraceHeader::ref_from_prefix(&body[..]).unwrap();
/// assert_eq!(h.namespace_id(), 123);
/// assert_eq!((h.node_len(), h.remaining_len()), (15, 0x3d));
/// assert!(h.flags().overflow && h.flags().loopback);
/// assert_eq!(h.trace_type().bits(), 0xfff002);
/// assert_eq!(rest, [0xaa]);
/// ```
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug, Clone, Copy, PartialEq, Eq, Hash,
)]
#[repr(C)]
pub struct RawTraceHeader {
    /// Namespace-ID.
    namespace_id: network_endian::U16,
    /// NodeLen (5 bits), Flags (4 bits), RemainingLen (7 bits), big-endian.
    len_flags: [u8; 2],
    /// IOAM-Trace-Type (24 bits, big-endian).
    trace_type: [u8; 3],
    /// Reserved.
    reserved: u8,
}

// The struct and the byte ranges of `field` describe the same layout.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<RawTraceHeader>() == TRACE_HEADER_LEN);
    assert!(offset_of!(RawTraceHeader, namespace_id) == field::NAMESPACE_ID.start);
    assert!(offset_of!(RawTraceHeader, len_flags) == field::LEN_FLAGS.start);
    assert!(offset_of!(RawTraceHeader, trace_type) == field::TRACE_TYPE.start);
    assert!(offset_of!(RawTraceHeader, reserved) == field::RESERVED);
};

impl RawTraceHeader {
    /// The header at the start of `body` and the node-data area after it.
    ///
    /// # Errors
    /// [`TraceError::Truncated`] (part [`Part::Header`]) if `body` is
    /// shorter than 8 bytes.
    #[inline]
    pub fn split(body: &[u8]) -> Result<(&Self, &[u8]), TraceError> {
        Self::ref_from_prefix(body).map_err(|_| header_truncated(body.len()))
    }

    /// The header at the start of `body`, writable, and the node-data area.
    ///
    /// # Errors
    /// As [`split`](Self::split).
    #[inline]
    pub fn split_mut(body: &mut [u8]) -> Result<(&mut Self, &mut [u8]), TraceError> {
        let len = body.len();
        Self::mut_from_prefix(body).map_err(|_| header_truncated(len))
    }

    /// The 16-bit word of NodeLen, the flags and RemainingLen.
    #[inline]
    const fn word(&self) -> u16 {
        u16::from_be_bytes(self.len_flags)
    }

    #[inline]
    const fn set_word(&mut self, word: u16) {
        self.len_flags = word.to_be_bytes();
    }

    /// Namespace-ID.
    #[must_use]
    #[inline]
    pub fn namespace_id(&self) -> u16 {
        self.namespace_id.get()
    }

    /// Sets the Namespace-ID.
    #[inline]
    pub fn set_namespace_id(&mut self, id: u16) {
        self.namespace_id.set(id);
    }

    /// NodeLen: words of node data per node, excluding the opaque state.
    #[must_use]
    #[inline]
    pub const fn node_len(&self) -> u8 {
        self.len_flags[0] >> 3
    }

    /// Sets NodeLen (the low 5 bits of `len`).
    #[inline]
    pub const fn set_node_len(&mut self, len: u8) {
        let w = self.word() & !(field::NODE_LEN_MASK << field::NODE_LEN_SHIFT);
        self.set_word(w | ((len as u16 & field::NODE_LEN_MASK) << field::NODE_LEN_SHIFT));
    }

    /// All four flags.
    #[must_use]
    #[inline]
    pub const fn flags(&self) -> HeaderFlags {
        HeaderFlags::from_word(self.word())
    }

    /// Sets all four flags.
    #[inline]
    pub const fn set_flags(&mut self, flags: HeaderFlags) {
        let w = self.word() & !field::FLAGS_MASK;
        self.set_word(w | flags.to_word());
    }

    /// The Overflow flag (RFC 9197 §4.4.1).
    #[must_use]
    #[inline]
    pub const fn overflow(&self) -> bool {
        self.word() & field::OVERFLOW != 0
    }

    /// Sets or clears the Overflow flag, touching no other bit.
    #[inline]
    pub const fn set_overflow(&mut self, on: bool) {
        let w = self.word();
        self.set_word(if on {
            w | field::OVERFLOW
        } else {
            w & !field::OVERFLOW
        });
    }

    /// RemainingLen in 4-byte words.
    #[must_use]
    #[inline]
    pub const fn remaining_len(&self) -> u8 {
        self.len_flags[1] & field::REMAINING_LEN_MASK as u8
    }

    /// Sets RemainingLen (the low 7 bits of `len`), keeping the flags.
    #[inline]
    pub const fn set_remaining_len(&mut self, len: u8) {
        let w = self.word() & !field::REMAINING_LEN_MASK;
        self.set_word(w | (len as u16 & field::REMAINING_LEN_MASK));
    }

    /// IOAM-Trace-Type.
    #[must_use]
    #[inline]
    pub const fn trace_type(&self) -> TraceType {
        let [a, b, c] = self.trace_type;
        TraceType::from_bits_truncate(u32::from_be_bytes([0, a, b, c]))
    }

    /// Sets the IOAM-Trace-Type.
    #[inline]
    pub const fn set_trace_type(&mut self, t: TraceType) {
        let [_, a, b, c] = t.bits().to_be_bytes();
        self.trace_type = [a, b, c];
    }

    /// The Reserved byte.
    #[must_use]
    #[inline]
    pub const fn reserved(&self) -> u8 {
        self.reserved
    }

    /// Sets the Reserved byte.
    #[inline]
    pub const fn set_reserved(&mut self, v: u8) {
        self.reserved = v;
    }
}

/// The error for a body of `len` bytes, too short for the header.
const fn header_truncated(len: usize) -> TraceError {
    TraceError::Truncated {
        part: Part::Header,
        offset: 0,
        required: TRACE_HEADER_LEN,
        actual: len,
    }
}

/// A read/write view of a trace option header over a body slice that starts
/// at the Namespace-ID (RFC 9197 §4.4.1).
///
/// After [`TraceHeader::new_checked`] no accessor can panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> TraceHeader<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    ///
    /// # Errors
    /// [`TraceError::Truncated`] if the buffer is shorter than 8 bytes.
    pub fn new_checked(buffer: T) -> Result<Self, TraceError> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the buffer holds the 8-byte header.
    ///
    /// # Errors
    /// [`TraceError::Truncated`] with the required and present lengths.
    pub fn check_len(&self) -> Result<(), TraceError> {
        RawTraceHeader::split(self.buffer.as_ref()).map(|_| ())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The header fields in place.
    ///
    /// # Panics
    /// If the buffer is shorter than 8 bytes, which only a view made with
    /// [`new_unchecked`](Self::new_unchecked) can be.
    #[inline]
    pub fn raw(&self) -> &RawTraceHeader {
        match RawTraceHeader::split(self.buffer.as_ref()) {
            Ok((h, _)) => h,
            Err(e) => panic!("{e}"),
        }
    }

    /// Namespace-ID.
    pub fn namespace_id(&self) -> u16 {
        self.raw().namespace_id()
    }

    /// NodeLen: words of node data per node, excluding the opaque state.
    pub fn node_len(&self) -> u8 {
        self.raw().node_len()
    }

    /// All four flags.
    pub fn flags(&self) -> HeaderFlags {
        self.raw().flags()
    }

    /// The Overflow flag.
    pub fn overflow(&self) -> bool {
        self.raw().overflow()
    }

    /// The Loopback flag (RFC 9322).
    pub fn loopback(&self) -> bool {
        self.raw().flags().loopback
    }

    /// The Active flag (RFC 9322).
    pub fn active(&self) -> bool {
        self.raw().flags().active
    }

    /// RemainingLen in 4-byte words.
    pub fn remaining_len(&self) -> u8 {
        self.raw().remaining_len()
    }

    /// IOAM-Trace-Type.
    pub fn trace_type(&self) -> TraceType {
        self.raw().trace_type()
    }

    /// The Reserved byte.
    pub fn reserved(&self) -> u8 {
        self.raw().reserved()
    }

    /// The bytes after the header: the node-data area.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[TRACE_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> TraceHeader<T> {
    /// The header fields in place, writable.
    ///
    /// # Panics
    /// As [`raw`](Self::raw).
    #[inline]
    pub fn raw_mut(&mut self) -> &mut RawTraceHeader {
        match RawTraceHeader::split_mut(self.buffer.as_mut()) {
            Ok((h, _)) => h,
            Err(e) => panic!("{e}"),
        }
    }

    /// Sets the Namespace-ID.
    pub fn set_namespace_id(&mut self, id: u16) {
        self.raw_mut().set_namespace_id(id);
    }

    /// Sets NodeLen (the low 5 bits of `len`).
    pub fn set_node_len(&mut self, len: u8) {
        self.raw_mut().set_node_len(len);
    }

    /// Sets all four flags.
    pub fn set_flags(&mut self, flags: HeaderFlags) {
        self.raw_mut().set_flags(flags);
    }

    /// Sets or clears the Overflow flag.
    pub fn set_overflow(&mut self, on: bool) {
        self.raw_mut().set_overflow(on);
    }

    /// Sets or clears the Loopback flag (RFC 9322 §4.1, encapsulator only).
    ///
    /// This setter does not enforce the trace-type rule; see
    /// [`TraceHeaderRepr::check_loopback`].
    pub fn set_loopback(&mut self, on: bool) {
        let h = self.raw_mut();
        h.set_flags(HeaderFlags {
            loopback: on,
            ..h.flags()
        });
    }

    /// Sets or clears the Active flag (RFC 9322 §4.2, encapsulator only).
    pub fn set_active(&mut self, on: bool) {
        let h = self.raw_mut();
        h.set_flags(HeaderFlags {
            active: on,
            ..h.flags()
        });
    }

    /// Sets RemainingLen (the low 7 bits of `len`), keeping the flags.
    pub fn set_remaining_len(&mut self, len: u8) {
        self.raw_mut().set_remaining_len(len);
    }

    /// Sets the IOAM-Trace-Type.
    pub fn set_trace_type(&mut self, t: TraceType) {
        self.raw_mut().set_trace_type(t);
    }

    /// Sets the Reserved byte.
    pub fn set_reserved(&mut self, v: u8) {
        self.raw_mut().set_reserved(v);
    }

    /// The node-data area, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[TRACE_HEADER_LEN..]
    }
}

/// The decoded trace option header (RFC 9197 §4.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct TraceHeaderRepr {
    /// Namespace-ID.
    pub namespace_id: u16,
    /// NodeLen in words (0..=31), excluding the opaque state snapshot.
    pub node_len: u8,
    /// Overflow, Loopback, Active and the unassigned bit.
    pub flags: HeaderFlags,
    /// RemainingLen in words (0..=127).
    pub remaining_len: u8,
    /// IOAM-Trace-Type.
    pub trace_type: TraceType,
    /// The Reserved byte (0 on send, ignored on receive).
    pub reserved: u8,
}

impl TraceHeaderRepr {
    /// A header for an encapsulator: NodeLen computed from the type, no
    /// flags, Reserved 0.
    #[must_use]
    pub const fn new(namespace_id: u16, trace_type: TraceType, remaining_len: u8) -> Self {
        Self {
            namespace_id,
            node_len: trace_type.node_len(),
            flags: HeaderFlags {
                overflow: false,
                loopback: false,
                active: false,
                unassigned: false,
            },
            remaining_len,
            trace_type,
            reserved: 0,
        }
    }

    /// Reads the header fields.
    ///
    /// # Errors
    /// [`TraceError::Truncated`] if the view is shorter than 8 bytes.
    pub fn parse<T: AsRef<[u8]>>(header: &TraceHeader<T>) -> Result<Self, TraceError> {
        let (raw, _) = RawTraceHeader::split(header.buffer.as_ref())?;
        Ok(Self::from_raw(raw))
    }

    /// Decodes the header fields in place.
    #[must_use]
    #[inline]
    pub fn from_raw(raw: &RawTraceHeader) -> Self {
        Self {
            namespace_id: raw.namespace_id(),
            node_len: raw.node_len(),
            flags: raw.flags(),
            remaining_len: raw.remaining_len(),
            trace_type: raw.trace_type(),
            reserved: raw.reserved(),
        }
    }

    /// Bytes the header takes: 8.
    #[must_use]
    pub const fn buffer_len(&self) -> usize {
        TRACE_HEADER_LEN
    }

    /// Writes the header into the first 8 bytes of the view. NodeLen and
    /// RemainingLen are masked to their 5 and 7 bits; use
    /// [`check`](Self::check) first to reject values that do not fit.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut TraceHeader<T>) {
        self.emit_raw(header.raw_mut());
    }

    /// Writes the header fields in place; see [`emit`](Self::emit).
    #[inline]
    pub fn emit_raw(&self, raw: &mut RawTraceHeader) {
        raw.set_namespace_id(self.namespace_id);
        let word = ((u16::from(self.node_len) & field::NODE_LEN_MASK) << field::NODE_LEN_SHIFT)
            | self.flags.to_word()
            | (u16::from(self.remaining_len) & field::REMAINING_LEN_MASK);
        raw.set_word(word);
        raw.set_trace_type(self.trace_type);
        raw.set_reserved(self.reserved);
    }

    /// Checks that NodeLen and RemainingLen fit their fields.
    ///
    /// # Errors
    /// [`TraceError::ValueOutOfRange`] naming the field.
    pub const fn check(&self) -> Result<(), TraceError> {
        if self.node_len > NODE_LEN_MAX {
            return Err(TraceError::ValueOutOfRange {
                field: crate::error::Field::NodeLen,
                value: self.node_len as u64,
                max: NODE_LEN_MAX as u64,
            });
        }
        if self.remaining_len > REMAINING_LEN_MAX {
            return Err(TraceError::ValueOutOfRange {
                field: crate::error::Field::RemainingLen,
                value: self.remaining_len as u64,
                max: REMAINING_LEN_MAX as u64,
            });
        }
        Ok(())
    }

    /// RFC 9322 §4: with the Loopback flag set, the trace type must be
    /// exactly 0x800000.
    ///
    /// # Errors
    /// [`TraceError::LoopbackTraceType`] when the rule is broken.
    pub const fn check_loopback(&self) -> Result<(), TraceError> {
        if self.flags.loopback && self.trace_type.bits() != TraceType::LOOPBACK_ONLY.bits() {
            Err(TraceError::LoopbackTraceType {
                offset: TRACE_TYPE_OFFSET,
                trace_type: self.trace_type,
            })
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Namespace 123, NodeLen 15, O and L set, RemainingLen 0x3d, type 0xfff002.
    const HDR: [u8; 8] = [0x00, 0x7b, 0x7e, 0x3d, 0xff, 0xf0, 0x02, 0x00];

    #[test]
    fn parse_fields() {
        let h = TraceHeader::new_checked(&HDR[..]).unwrap();
        assert_eq!(h.namespace_id(), 123);
        assert_eq!(h.node_len(), 15);
        assert!(h.overflow());
        assert!(h.loopback());
        assert!(!h.active());
        assert_eq!(h.remaining_len(), 0x3d);
        assert_eq!(h.trace_type().bits(), 0xfff002);
        let r = TraceHeaderRepr::parse(&h).unwrap();
        assert_eq!(
            r.flags,
            HeaderFlags {
                overflow: true,
                loopback: true,
                active: false,
                unassigned: false
            }
        );
        assert!(matches!(
            r.check_loopback(),
            Err(TraceError::LoopbackTraceType { offset: 4, .. })
        ));
    }

    #[test]
    fn every_flag_bit() {
        for (byte2, byte3, f) in [
            (
                0x04,
                0x00,
                HeaderFlags {
                    overflow: true,
                    ..HeaderFlags::default()
                },
            ),
            (
                0x02,
                0x00,
                HeaderFlags {
                    loopback: true,
                    ..HeaderFlags::default()
                },
            ),
            (
                0x01,
                0x00,
                HeaderFlags {
                    active: true,
                    ..HeaderFlags::default()
                },
            ),
            (
                0x00,
                0x80,
                HeaderFlags {
                    unassigned: true,
                    ..HeaderFlags::default()
                },
            ),
        ] {
            let b = [0, 0, byte2, byte3, 0, 0, 0, 0];
            let h = TraceHeader::new_checked(&b[..]).unwrap();
            assert_eq!(h.flags(), f);
            assert_eq!(h.remaining_len(), 0);
            assert_eq!(h.node_len(), 0);
        }
    }

    #[test]
    fn round_trip_and_setters_keep_neighbours() {
        let h = TraceHeader::new_checked(&HDR[..]).unwrap();
        let r = TraceHeaderRepr::parse(&h).unwrap();
        let mut out = [0u8; 8];
        r.emit(&mut TraceHeader::new_unchecked(&mut out[..]));
        assert_eq!(out, HDR);

        let mut v = TraceHeader::new_unchecked(&mut out[..]);
        v.set_remaining_len(0);
        v.set_overflow(false);
        v.set_active(true);
        assert_eq!(v.node_len(), 15);
        assert!(v.loopback());
        assert!(v.active());
        assert_eq!(v.remaining_len(), 0);
        v.set_node_len(1);
        assert!(v.flags().active);
        assert_eq!(&out[..], &[0x00, 0x7b, 0x0b, 0x00, 0xff, 0xf0, 0x02, 0x00]);
    }

    #[test]
    fn every_truncation() {
        for n in 0..TRACE_HEADER_LEN {
            assert_eq!(
                TraceHeader::new_checked(&HDR[..n]).unwrap_err(),
                TraceError::Truncated {
                    part: Part::Header,
                    offset: 0,
                    required: 8,
                    actual: n
                }
            );
        }
    }

    #[test]
    fn check_ranges() {
        let mut r = TraceHeaderRepr::new(1, TraceType::HOP_LIM_NODE_ID, 127);
        assert_eq!(r.check(), Ok(()));
        r.remaining_len = 128;
        assert!(r.check().is_err());
        r.remaining_len = 1;
        r.node_len = 32;
        assert!(r.check().is_err());
    }
}
