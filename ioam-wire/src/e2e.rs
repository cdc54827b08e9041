//! IOAM Edge-to-Edge option body (IOAM Option-Type 3, RFC 9197 §4.6).
//!
//! The view [`E2e`] and the value [`E2eRepr`] work on the IOAM *body*: the
//! bytes after the IOAM Reserved and IOAM Option-Type bytes, starting at the
//! Namespace-ID. Every offset in an [`WireError`] is relative to that slice.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |         Namespace-ID          |         IOAM-E2E-Type         |  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                      E2E data fields ...                      |  4
//! ```
//!
//! The data fields follow in E2E-Type bit order (bit 0 is the most
//! significant bit of IOAM-E2E-Type):
//!
//! | bit | mask   | field                                  | bytes |
//! |-----|--------|----------------------------------------|-------|
//! | 0   | 0x8000 | 64-bit sequence number                 | 8     |
//! | 1   | 0x4000 | 32-bit sequence number                 | 4     |
//! | 2   | 0x2000 | timestamp, seconds                     | 4     |
//! | 3   | 0x1000 | timestamp, fraction (subseconds)       | 4     |
//! | 4-15| 0x0fff | undefined                              | ?     |
//!
//! **Choices made here.** Bits 0 and 1 both set is an error
//! ([`Rule::E2eBothSequenceNumbers`]): a packet carries one sequence
//! number, so this crate treats the two widths as mutually exclusive (RFC
//! 9197 defines both bits without saying so outright).
//! Undefined bits (4-15) are *not* an error: the fields of bits 0-3 come
//! first, so they still decode; whatever follows them cannot be sized and is
//! exposed as opaque bytes ([`E2e::opaque`], [`E2eRepr::opaque`]), with the
//! undefined bits reported by [`E2e::undefined_bits`]. Without undefined
//! bits the data must be exactly the size of the fields the bits announce.
//!
//! In IPv6 the option travels in a Destination Options header with option
//! code 0x11 (RFC 9486: act 00, chg 0; only the encapsulating node
//! writes it, only the decapsulating node reads it).
//!
//! ```
//! use ioam_wire::body::IoamBody;
//! use ioam_wire::e2e::{E2e, E2eRepr, E2eType, SequenceNumber};
//!
//! let body = [
//!     0x00, 0x01, 0x60, 0x00, // Namespace-ID 1, E2E-Type bits 1 and 2
//!     0x00, 0x00, 0x00, 0x2a, // 32-bit sequence number 42
//!     0x65, 0x00, 0x00, 0x00, // timestamp seconds
//! ];
//! let view = E2e::new_checked(&body[..]).unwrap();
//! assert_eq!(view.e2e_type(), E2eType::SEQ_NUM_32 | E2eType::TIMESTAMP_SECS);
//! assert_eq!(view.sequence_number(), Some(SequenceNumber::Bits32(42)));
//! let repr = E2eRepr::parse(&view).unwrap();
//! let mut out = [0u8; 12];
//! assert_eq!(repr.emit(&mut out), Ok(12));
//! assert_eq!(out, body);
//! ```

use crate::body::{expect_type, IoamBody};
use crate::error::{Layer, Rule, Unencodable, WireError};

/// What an E2E parser reads, for [`WireError::WrongIoamType`].
const E2E_EXPECTED: &str = "Edge-to-Edge (3, RFC 9197 §4.6)";
use crate::ioam::IoamType;

/// IOAM Option-Type value of Edge-to-Edge (RFC 9197 §4.6, IANA).
pub const IOAM_TYPE: u8 = 3;
/// IPv6 option code that carries an E2E option (RFC 9486: act 00,
/// chg 0).
pub const IPV6_OPTION_CODE: u8 = 0x11;
/// IPv6 Next Header value of the extension header that carries E2E:
/// Destination Options (RFC 9486).
pub const EXTENSION_HEADER: u8 = 60;
/// Length of the E2E header: Namespace-ID and IOAM-E2E-Type
/// (RFC 9197 §4.6).
pub const HEADER_LEN: usize = 4;

mod field {
    use core::ops::Range;
    pub(super) const NAMESPACE_ID: Range<usize> = 0..2;
    pub(super) const E2E_TYPE: Range<usize> = 2..4;
}

/// IOAM-E2E-Type: a 16-bit bitmap, bit 0 the most significant
/// (RFC 9197 §4.6, IANA "IOAM E2E-Type" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct E2eType(u16);

impl E2eType {
    /// Bit 0: a 64-bit sequence number.
    pub const SEQ_NUM_64: E2eType = E2eType(0x8000);
    /// Bit 1: a 32-bit sequence number.
    pub const SEQ_NUM_32: E2eType = E2eType(0x4000);
    /// Bit 2: timestamp seconds (when the packet entered the domain).
    pub const TIMESTAMP_SECS: E2eType = E2eType(0x2000);
    /// Bit 3: timestamp fraction (subseconds).
    pub const TIMESTAMP_FRAC: E2eType = E2eType(0x1000);
    /// Bits 4-15: undefined.
    pub const UNDEFINED: E2eType = E2eType(0x0fff);
    /// No bit set.
    pub const EMPTY: E2eType = E2eType(0);

    /// Wraps the raw 16-bit value; every value is accepted.
    pub const fn from_bits(bits: u16) -> Self {
        E2eType(bits)
    }

    /// The raw 16-bit value.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: E2eType) -> bool {
        self.0 & other.0 == other.0
    }

    /// The undefined bits that are set (bits 4-15).
    pub const fn undefined(self) -> u16 {
        self.0 & Self::UNDEFINED.0
    }

    /// Length in bytes of the fields announced by the defined bits 0-3.
    pub const fn known_data_len(self) -> usize {
        let mut n = 0;
        if self.contains(Self::SEQ_NUM_64) {
            n += 8;
        }
        if self.contains(Self::SEQ_NUM_32) {
            n += 4;
        }
        if self.contains(Self::TIMESTAMP_SECS) {
            n += 4;
        }
        if self.contains(Self::TIMESTAMP_FRAC) {
            n += 4;
        }
        n
    }

    /// Offset, inside the data, of the field of a defined bit (if set).
    const fn field_offset(self, bit: E2eType) -> Option<usize> {
        if !self.contains(bit) {
            return None;
        }
        let before = E2eType(self.0 & !(bit.0 | (bit.0 - 1)) & 0xf000);
        Some(before.known_data_len())
    }
}

impl core::ops::BitOr for E2eType {
    type Output = E2eType;
    fn bitor(self, rhs: E2eType) -> E2eType {
        E2eType(self.0 | rhs.0)
    }
}

impl From<u16> for E2eType {
    fn from(value: u16) -> Self {
        E2eType(value)
    }
}

impl From<E2eType> for u16 {
    fn from(value: E2eType) -> Self {
        value.0
    }
}

/// The sequence number of an E2E option (E2E-Type bit 0 or bit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SequenceNumber {
    /// Bit 0: 64-bit sequence number.
    Bits64(u64),
    /// Bit 1: 32-bit sequence number.
    Bits32(u32),
}

impl SequenceNumber {
    /// The value, widened to 64 bits.
    pub const fn value(self) -> u64 {
        match self {
            SequenceNumber::Bits64(v) => v,
            SequenceNumber::Bits32(v) => v as u64,
        }
    }
}

/// Checks the data that follows an E2E header of type `t`; `data_offset` is
/// where the data starts in the caller's slice.
pub(crate) fn check_data(t: E2eType, data: &[u8], data_offset: usize) -> Result<(), WireError> {
    if t.contains(E2eType::SEQ_NUM_64 | E2eType::SEQ_NUM_32) {
        return Err(WireError::Invalid {
            rule: Rule::E2eBothSequenceNumbers,
            offset: data_offset.saturating_sub(2),
        });
    }
    let required = t.known_data_len();
    if data.len() < required {
        return Err(WireError::Truncated {
            layer: Layer::E2eData(t.bits()),
            offset: data_offset,
            required,
            actual: data.len(),
        });
    }
    if t.undefined() == 0 && data.len() != required {
        return Err(WireError::LengthMismatch {
            layer: Layer::E2eData(t.bits()),
            offset: data_offset,
            required,
            actual: data.len(),
        });
    }
    Ok(())
}

fn be_u32_at(data: &[u8], off: usize) -> Option<u32> {
    let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

fn be_u64_at(data: &[u8], off: usize) -> Option<u64> {
    let b: [u8; 8] = data.get(off..off.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// Decoded fields of E2E data, shared by the view and the
/// integrity-protected variant.
fn field_u32(t: E2eType, data: &[u8], bit: E2eType) -> Option<u32> {
    be_u32_at(data, t.field_offset(bit)?)
}

/// A read/write view of an E2E body (RFC 9197 §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct E2e<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> E2e<T> {
    /// Wraps a buffer without checking it; accessors return `None` (or 0)
    /// rather than panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        E2e { buffer }
    }

    /// Wraps a buffer after [`E2e::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let v = E2e::new_unchecked(buffer);
        v.check_len()?;
        Ok(v)
    }

    /// Checks the header, the exclusive sequence-number bits and the data
    /// length against the E2E-Type (see the module documentation).
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                layer: Layer::E2eHeader,
                offset: 0,
                required: HEADER_LEN,
                actual: b.len(),
            });
        }
        check_data(self.e2e_type(), self.data(), HEADER_LEN)
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// IOAM Namespace-ID.
    pub fn namespace_id(&self) -> u16 {
        self.buffer
            .as_ref()
            .get(field::NAMESPACE_ID)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// IOAM-E2E-Type.
    pub fn e2e_type(&self) -> E2eType {
        E2eType(
            self.buffer
                .as_ref()
                .get(field::E2E_TYPE)
                .map_or(0, |b| u16::from_be_bytes([b[0], b[1]])),
        )
    }

    /// Every byte after the 4-byte header.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// Bit 0: the 64-bit sequence number.
    pub fn seq_num_64(&self) -> Option<u64> {
        let t = self.e2e_type();
        be_u64_at(self.data(), t.field_offset(E2eType::SEQ_NUM_64)?)
    }

    /// Bit 1: the 32-bit sequence number.
    pub fn seq_num_32(&self) -> Option<u32> {
        field_u32(self.e2e_type(), self.data(), E2eType::SEQ_NUM_32)
    }

    /// The sequence number, whichever width is present.
    pub fn sequence_number(&self) -> Option<SequenceNumber> {
        self.seq_num_64()
            .map(SequenceNumber::Bits64)
            .or_else(|| self.seq_num_32().map(SequenceNumber::Bits32))
    }

    /// Bit 2: timestamp seconds.
    pub fn timestamp_secs(&self) -> Option<u32> {
        field_u32(self.e2e_type(), self.data(), E2eType::TIMESTAMP_SECS)
    }

    /// Bit 3: timestamp fraction.
    pub fn timestamp_frac(&self) -> Option<u32> {
        field_u32(self.e2e_type(), self.data(), E2eType::TIMESTAMP_FRAC)
    }

    /// The undefined bits (4-15) that are set; non-zero means the bytes
    /// after the known fields are opaque ([`E2e::opaque`]).
    pub fn undefined_bits(&self) -> u16 {
        self.e2e_type().undefined()
    }

    /// The bytes after the fields of bits 0-3 (empty unless an undefined bit
    /// is set).
    pub fn opaque(&self) -> &[u8] {
        self.data()
            .get(self.e2e_type().known_data_len()..)
            .unwrap_or(&[])
    }
}

/// An E2E body as a value (RFC 9197 §4.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct E2eRepr<'a> {
    /// IOAM Namespace-ID.
    pub namespace_id: u16,
    /// Bit 0 or bit 1.
    pub sequence_number: Option<SequenceNumber>,
    /// Bit 2: timestamp seconds.
    pub timestamp_secs: Option<u32>,
    /// Bit 3: timestamp fraction.
    pub timestamp_frac: Option<u32>,
    /// Undefined bits (4-15) as received; an encapsulating node sends 0.
    pub undefined_bits: u16,
    /// Bytes after the known fields, kept as received when an undefined bit
    /// is set; empty otherwise.
    pub opaque: &'a [u8],
}

impl<'a> E2eRepr<'a> {
    /// Parses a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(view: &E2e<&'a T>) -> Result<Self, WireError> {
        Self::parse_bytes(T::as_ref(view.buffer))
    }

    /// Parses an E2E body (the IOAM body slice, starting at Namespace-ID).
    pub fn parse_bytes(body: &'a [u8]) -> Result<Self, WireError> {
        let header = body.get(..HEADER_LEN).ok_or(WireError::Truncated {
            layer: Layer::E2eHeader,
            offset: 0,
            required: HEADER_LEN,
            actual: body.len(),
        })?;
        Self::from_parts(header, &body[HEADER_LEN..], HEADER_LEN)
    }

    /// Parses an E2E header and its data when they are not contiguous (the
    /// integrity-protected E2E option). `data_offset` is where `data` starts
    /// in the caller's slice.
    pub(crate) fn from_parts(
        header: &'a [u8],
        data: &'a [u8],
        data_offset: usize,
    ) -> Result<Self, WireError> {
        let h: [u8; HEADER_LEN] = header
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(WireError::Truncated {
                layer: Layer::E2eHeader,
                offset: 0,
                required: HEADER_LEN,
                actual: header.len(),
            })?;
        let t = E2eType(u16::from_be_bytes([h[2], h[3]]));
        check_data(t, data, data_offset)?;
        let sequence_number = match t.field_offset(E2eType::SEQ_NUM_64) {
            Some(off) => be_u64_at(data, off).map(SequenceNumber::Bits64),
            None => field_u32(t, data, E2eType::SEQ_NUM_32).map(SequenceNumber::Bits32),
        };
        Ok(E2eRepr {
            namespace_id: u16::from_be_bytes([h[0], h[1]]),
            sequence_number,
            timestamp_secs: field_u32(t, data, E2eType::TIMESTAMP_SECS),
            timestamp_frac: field_u32(t, data, E2eType::TIMESTAMP_FRAC),
            undefined_bits: t.undefined(),
            opaque: data.get(t.known_data_len()..).unwrap_or(&[]),
        })
    }

    /// An E2E body to send: the given fields, no undefined bit, no opaque
    /// bytes.
    pub const fn new(
        namespace_id: u16,
        sequence_number: Option<SequenceNumber>,
        timestamp_secs: Option<u32>,
        timestamp_frac: Option<u32>,
    ) -> Self {
        E2eRepr {
            namespace_id,
            sequence_number,
            timestamp_secs,
            timestamp_frac,
            undefined_bits: 0,
            opaque: &[],
        }
    }

    /// The IOAM-E2E-Type these fields announce.
    pub const fn e2e_type(&self) -> E2eType {
        let mut bits = self.undefined_bits;
        match self.sequence_number {
            Some(SequenceNumber::Bits64(_)) => bits |= E2eType::SEQ_NUM_64.0,
            Some(SequenceNumber::Bits32(_)) => bits |= E2eType::SEQ_NUM_32.0,
            None => {}
        }
        if self.timestamp_secs.is_some() {
            bits |= E2eType::TIMESTAMP_SECS.0;
        }
        if self.timestamp_frac.is_some() {
            bits |= E2eType::TIMESTAMP_FRAC.0;
        }
        E2eType(bits)
    }

    /// Bytes of data after the header.
    pub const fn data_len(&self) -> usize {
        self.e2e_type().known_data_len() + self.opaque.len()
    }

    pub(crate) fn emit_header(&self, out: &mut [u8]) -> Result<(), WireError> {
        self.validate()?;
        let actual = out.len();
        let h = out.get_mut(..HEADER_LEN).ok_or(WireError::BufferTooSmall {
            required: HEADER_LEN,
            actual,
        })?;
        h[field::NAMESPACE_ID].copy_from_slice(&self.namespace_id.to_be_bytes());
        h[field::E2E_TYPE].copy_from_slice(&self.e2e_type().bits().to_be_bytes());
        Ok(())
    }

    pub(crate) fn emit_data(&self, out: &mut [u8]) -> Result<(), WireError> {
        self.validate()?;
        let required = self.data_len();
        let actual = out.len();
        let d = out
            .get_mut(..required)
            .ok_or(WireError::BufferTooSmall { required, actual })?;
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            d[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        match self.sequence_number {
            Some(SequenceNumber::Bits64(v)) => put(&v.to_be_bytes()),
            Some(SequenceNumber::Bits32(v)) => put(&v.to_be_bytes()),
            None => {}
        }
        if let Some(v) = self.timestamp_secs {
            put(&v.to_be_bytes());
        }
        if let Some(v) = self.timestamp_frac {
            put(&v.to_be_bytes());
        }
        put(self.opaque);
        Ok(())
    }
}

/// The E2E body in IPv6: option code 0x11, IOAM Option-Type 3, in a
/// Destination Options header (RFC 9486 §4).
impl<'a> IoamBody<'a> for E2eRepr<'a> {
    #[inline]
    fn decode(ioam_type: IoamType, body: &'a [u8]) -> Result<Self, WireError> {
        expect_type(ioam_type, IoamType::EdgeToEdge, E2E_EXPECTED)?;
        E2eRepr::parse_bytes(body)
    }

    #[inline]
    fn ioam_type(&self) -> IoamType {
        IoamType::EdgeToEdge
    }

    #[inline]
    fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data_len()
    }

    /// Opaque bytes need an undefined bit, and undefined bits must lie in
    /// bits 4-15.
    #[inline]
    fn validate(&self) -> Result<(), WireError> {
        let u = self.undefined_bits;
        if u & !E2eType::UNDEFINED.0 != 0 || (u == 0 && !self.opaque.is_empty()) {
            return Err(WireError::Unencodable(Unencodable::E2eUndefined {
                bits: u,
                opaque_len: self.opaque.len(),
            }));
        }
        Ok(())
    }

    fn emit(&self, out: &mut [u8]) -> Result<usize, WireError> {
        self.validate()?;
        let required = self.buffer_len();
        if out.len() < required {
            return Err(WireError::BufferTooSmall {
                required,
                actual: out.len(),
            });
        }
        self.emit_header(out)?;
        self.emit_data(&mut out[HEADER_LEN..])?;
        Ok(required)
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for the E2E types.
    use super::{E2eRepr, SequenceNumber};
    use crate::pot::strategies::words;
    use proptest::prelude::*;

    /// Any E2E body that [`E2eRepr::emit`] accepts.
    pub(crate) fn e2e_repr() -> impl Strategy<Value = E2eRepr<'static>> {
        let seq = prop_oneof![
            Just(None),
            any::<u64>().prop_map(|v| Some(SequenceNumber::Bits64(v))),
            any::<u32>().prop_map(|v| Some(SequenceNumber::Bits32(v))),
        ];
        let undefined = prop_oneof![
            Just((0u16, &[][..])),
            (1u16..=0x0fff, words(4)).prop_map(|(b, w)| (b, w)),
        ];
        (
            any::<u16>(),
            seq,
            any::<Option<u32>>(),
            any::<Option<u32>>(),
            undefined,
        )
            .prop_map(
                |(namespace_id, sequence_number, timestamp_secs, timestamp_frac, (u, o))| E2eRepr {
                    namespace_id,
                    sequence_number,
                    timestamp_secs,
                    timestamp_frac,
                    undefined_bits: u,
                    opaque: o,
                },
            )
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use super::*;
    use proptest::prelude::*;

    /// Every defined field except the 64-bit sequence number.
    const ALL32: [u8; 16] = [
        0xab, 0xcd, 0x70, 0x00, // NS 0xabcd, bits 1, 2, 3
        0x00, 0x00, 0x01, 0x00, // seq 32 = 256
        0x60, 0x00, 0x00, 0x01, // secs
        0x80, 0x00, 0x00, 0x00, // frac
    ];
    const SEQ64: [u8; 12] = [
        0x00, 0x02, 0x80, 0x00, // NS 2, bit 0
        0, 0, 0, 1, 0, 0, 0, 2, // seq 64
    ];

    #[test]
    fn fixture_all_32bit_fields() {
        let v = E2e::new_checked(&ALL32[..]).unwrap();
        assert_eq!(v.namespace_id(), 0xabcd);
        assert_eq!(v.seq_num_64(), None);
        assert_eq!(v.seq_num_32(), Some(256));
        assert_eq!(v.timestamp_secs(), Some(0x6000_0001));
        assert_eq!(v.timestamp_frac(), Some(0x8000_0000));
        assert_eq!(v.undefined_bits(), 0);
        assert!(v.opaque().is_empty());
    }

    #[test]
    fn fixture_seq64() {
        let v = E2e::new_checked(&SEQ64[..]).unwrap();
        assert_eq!(
            v.sequence_number(),
            Some(SequenceNumber::Bits64(0x1_0000_0002))
        );
        assert_eq!(v.timestamp_secs(), None);
    }

    #[test]
    fn frac_without_secs_sits_right_after_the_header() {
        let b = [0, 0, 0x10, 0, 1, 2, 3, 4];
        let v = E2e::new_checked(&b[..]).unwrap();
        assert_eq!(v.timestamp_frac(), Some(0x0102_0304));
        assert_eq!(v.timestamp_secs(), None);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for fixture in [&ALL32[..], &SEQ64[..]] {
            for n in 0..fixture.len() {
                let e = E2e::new_checked(&fixture[..n]).unwrap_err();
                match e {
                    WireError::Truncated {
                        layer: Layer::E2eHeader,
                        actual,
                        ..
                    } => assert_eq!(actual, n),
                    WireError::Truncated {
                        layer: Layer::E2eData(_),
                        offset,
                        required,
                        actual,
                        ..
                    } => {
                        assert_eq!((offset, required, actual), (4, fixture.len() - 4, n - 4));
                    }
                    other => panic!("unexpected {other:?}"),
                }
                assert!(E2eRepr::parse_bytes(&fixture[..n]).is_err());
            }
        }
    }

    #[test]
    fn both_sequence_numbers_is_an_error() {
        let b = [0, 0, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let e = E2e::new_checked(&b[..]).unwrap_err();
        assert_eq!(
            e,
            WireError::Invalid {
                rule: Rule::E2eBothSequenceNumbers,
                offset: 2
            }
        );
        let s = alloc::format!("{e}");
        assert!(s.contains("mutually exclusive") && s.contains("bit 0") && s.contains("bit 1"));
    }

    #[test]
    fn extra_data_without_undefined_bits_is_an_error() {
        let b = [0, 0, 0x20, 0, 1, 1, 1, 1, 2, 2, 2, 2];
        assert_eq!(
            E2e::new_checked(&b[..]).unwrap_err(),
            WireError::LengthMismatch {
                layer: Layer::E2eData(0x2000),
                offset: 4,
                required: 4,
                actual: 8
            }
        );
    }

    #[test]
    fn undefined_bits_keep_known_fields_and_make_the_rest_opaque() {
        let b = [0, 5, 0x20, 0x01, 0, 0, 0, 9, 0xde, 0xad, 0xbe, 0xef];
        let v = E2e::new_checked(&b[..]).unwrap();
        assert_eq!(v.timestamp_secs(), Some(9));
        assert_eq!(v.undefined_bits(), 0x0001);
        assert_eq!(v.opaque(), &[0xde, 0xad, 0xbe, 0xef]);
        let r = E2eRepr::parse_bytes(&b).unwrap();
        assert_eq!(r.opaque, &[0xde, 0xad, 0xbe, 0xef]);
        let mut out = [0u8; 12];
        assert_eq!(r.emit(&mut out), Ok(12));
        assert_eq!(out, b);
    }

    #[test]
    fn emit_validates_undefined() {
        let r = E2eRepr {
            namespace_id: 0,
            sequence_number: None,
            timestamp_secs: None,
            timestamp_frac: None,
            undefined_bits: 0,
            opaque: &[1, 2, 3, 4],
        };
        let mut out = [0u8; 8];
        assert_eq!(
            r.emit(&mut out),
            Err(WireError::Unencodable(Unencodable::E2eUndefined {
                bits: 0,
                opaque_len: 4
            }))
        );
        assert_eq!(out, [0; 8]);
    }

    #[test]
    fn with_base_shifts_offsets() {
        assert_eq!(
            WireError::Invalid {
                rule: Rule::E2eBothSequenceNumbers,
                offset: 2
            }
            .with_base(4),
            WireError::Invalid {
                rule: Rule::E2eBothSequenceNumbers,
                offset: 6
            }
        );
    }

    /// The single IOAM option of an options header, via the strict parser.
    fn only_ioam(header: &[u8]) -> crate::ioam::IoamOption<'_> {
        let mut found =
            crate::opt::Options::new(header, crate::opt::Mode::Strict).filter_map(|o| {
                match o.unwrap() {
                    crate::opt::Opt::Ioam(i) => Some(i),
                    _ => None,
                }
            });
        let first = found.next().unwrap();
        assert!(found.next().is_none());
        first
    }

    proptest! {
        #[test]
        fn repr_round_trip(repr in strategies::e2e_repr()) {
            let mut buf = [0u8; 64];
            let n = repr.emit(&mut buf).unwrap();
            prop_assert_eq!(n, repr.buffer_len());
            let view = E2e::new_checked(&buf[..n]).unwrap();
            prop_assert_eq!(view.sequence_number(), repr.sequence_number);
            prop_assert_eq!(E2eRepr::parse(&view).unwrap(), repr);
        }

        #[test]
        fn builder_round_trip(repr in strategies::e2e_repr()) {
            let mut hdr = [0u8; 264];
            let n = repr.emit_ext_header(&mut hdr, 17).unwrap();
            prop_assert_eq!(n, repr.ext_header_len().unwrap());
            prop_assert_eq!(n % 8, 0);
            let opt = only_ioam(&hdr[..n]);
            prop_assert_eq!(opt.option_type, IPV6_OPTION_CODE);
            prop_assert!(opt.placement(crate::ext::ExtKind::DestinationOptions).is_conforming());
            prop_assert_eq!(E2eRepr::from_option(&opt).unwrap(), repr);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = E2eRepr::parse_bytes(&bytes);
            let v = E2e::new_unchecked(&bytes[..]);
            let _ = (v.sequence_number(), v.timestamp_secs(), v.timestamp_frac(), v.opaque());
        }
    }
}
