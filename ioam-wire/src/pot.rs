//! IOAM Proof of Transit option body (IOAM Option-Type 2, RFC 9197 §4.5).
//!
//! The view [`Pot`] and the value [`PotRepr`] work on the IOAM *body*: the
//! bytes after the IOAM Reserved and IOAM Option-Type bytes, starting at the
//! Namespace-ID. Every offset in a [`WireError`] is relative to that slice.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Namespace-ID           |IOAM POT Type  |IOAM POT flags |  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  PktID (POT type 0)                           |  4
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                  Cumulative (POT type 0)                      | 12
//! |                                                               |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! POT type 0 (RFC 9197 §4.5.2) is decoded; any other POT type is kept as
//! opaque data, never rewritten. The POT flags have no meaning assigned yet:
//! they are exposed as read, written as given (0 unless set on purpose).
//!
//! In IPv6 the option travels in a Hop-by-Hop header with option code 0x31
//! (RFC 9486; data changes en route: every node updates Cumulative).
//!
//! ```
//! use ioam_wire::body::IoamBody;
//! use ioam_wire::pot::{Pot, PotData, PotRepr};
//!
//! let body = [
//!     0x00, 0x07, 0x00, 0x00, // Namespace-ID 7, POT type 0, flags 0
//!     0, 0, 0, 0, 0, 0, 0x12, 0x34, // PktID
//!     0, 0, 0, 0, 0, 0, 0x00, 0x99, // Cumulative
//! ];
//! let view = Pot::new_checked(&body[..]).unwrap();
//! assert_eq!(view.pkt_id(), Some(0x1234));
//! let repr = PotRepr::parse(&view).unwrap();
//! assert_eq!(repr.data, PotData::Type0 { pkt_id: 0x1234, cumulative: 0x99 });
//! let mut out = [0u8; 20];
//! repr.emit(&mut out).unwrap();
//! assert_eq!(out, body);
//! ```

use core::fmt;

use crate::body::{expect_type, IoamBody};
use crate::error::{Layer, Unencodable, WireError};

/// What a POT parser reads, for [`WireError::WrongIoamType`].
const POT_EXPECTED: &str = "Proof of Transit (2, RFC 9197 §4.5)";
use crate::ioam::IoamType;

/// IOAM Option-Type value of Proof of Transit (RFC 9197 §4.5, IANA).
pub const IOAM_TYPE: u8 = 2;
/// IPv6 option code that carries a POT option (RFC 9486: act 00,
/// chg 1, since transit nodes update the data).
pub const IPV6_OPTION_CODE: u8 = 0x31;
/// IPv6 Next Header value of the extension header that carries POT:
/// Hop-by-Hop Options (RFC 9486).
pub const EXTENSION_HEADER: u8 = 0;
/// Length of the POT header: Namespace-ID, POT type, POT flags
/// (RFC 9197 §4.5.1).
pub const HEADER_LEN: usize = 4;
/// Length of the POT type 0 data: PktID and Cumulative (RFC 9197 §4.5.2).
pub const TYPE0_DATA_LEN: usize = 16;
/// Length of a whole POT type 0 body.
pub const TYPE0_BODY_LEN: usize = HEADER_LEN + TYPE0_DATA_LEN;

mod field {
    use core::ops::Range;
    pub(super) const NAMESPACE_ID: Range<usize> = 0..2;
    pub(super) const POT_TYPE: usize = 2;
    pub(super) const FLAGS: usize = 3;
    /// Offsets inside the data that follows the header (POT type 0).
    pub(super) const PKT_ID: Range<usize> = 0..8;
    pub(super) const CUMULATIVE: Range<usize> = 8..16;
}

/// IOAM POT type (RFC 9197 §4.5.1, IANA "IOAM POT-Type" registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum PotType {
    /// POT type 0: 64-bit PktID and 64-bit Cumulative (RFC 9197 §4.5.2).
    Type0,
    /// A POT type this crate does not decode; its data stays opaque.
    Unknown(u8),
}

impl From<u8> for PotType {
    fn from(value: u8) -> Self {
        match value {
            0 => PotType::Type0,
            other => PotType::Unknown(other),
        }
    }
}

impl From<PotType> for u8 {
    fn from(value: PotType) -> Self {
        match value {
            PotType::Type0 => 0,
            PotType::Unknown(other) => other,
        }
    }
}

impl fmt::Display for PotType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PotType::Type0 => f.write_str("POT type 0"),
            PotType::Unknown(v) => write!(f, "unknown POT type {v}"),
        }
    }
}

fn be_u64(bytes: &[u8], range: core::ops::Range<usize>) -> Option<u64> {
    let b: [u8; 8] = bytes.get(range)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// Checks the data that follows a POT header; `data_offset` is where the
/// data starts in the caller's slice (for error offsets).
pub(crate) fn check_data(pot_type: u8, data: &[u8], data_offset: usize) -> Result<(), WireError> {
    if pot_type == 0 && data.len() != TYPE0_DATA_LEN {
        return Err(WireError::LengthMismatch {
            layer: Layer::PotType0Data,
            offset: data_offset,
            required: TYPE0_DATA_LEN,
            actual: data.len(),
        });
    }
    Ok(())
}

/// A read/write view of a POT body (RFC 9197 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pot<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Pot<T> {
    /// Wraps a buffer without checking it; accessors may then return `None`
    /// or short slices, never panic. Call [`Pot::check_len`] before trusting
    /// the values.
    pub const fn new_unchecked(buffer: T) -> Self {
        Pot { buffer }
    }

    /// Wraps a buffer after [`Pot::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let pot = Pot::new_unchecked(buffer);
        pot.check_len()?;
        Ok(pot)
    }

    /// Checks that the header is complete and, for POT type 0, that the data
    /// is exactly 16 bytes. Other POT types accept any data length.
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(WireError::Truncated {
                layer: Layer::PotHeader,
                offset: 0,
                required: HEADER_LEN,
                actual: b.len(),
            });
        }
        check_data(self.pot_type_raw(), self.data(), HEADER_LEN)
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// IOAM Namespace-ID (RFC 9197 §4.5.1); 0 on a truncated buffer.
    pub fn namespace_id(&self) -> u16 {
        self.buffer
            .as_ref()
            .get(field::NAMESPACE_ID)
            .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]))
    }

    fn pot_type_raw(&self) -> u8 {
        self.buffer
            .as_ref()
            .get(field::POT_TYPE)
            .copied()
            .unwrap_or(0)
    }

    /// IOAM POT type (RFC 9197 §4.5.1).
    pub fn pot_type(&self) -> PotType {
        PotType::from(self.pot_type_raw())
    }

    /// IOAM POT flags, as received (RFC 9197 §4.5.1: none defined; ignored
    /// on receive).
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref().get(field::FLAGS).copied().unwrap_or(0)
    }

    /// The POT data: every byte after the 4-byte header.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }

    /// PktID of a POT type 0 body (RFC 9197 §4.5.2); `None` for another POT
    /// type or a short buffer.
    pub fn pkt_id(&self) -> Option<u64> {
        if self.pot_type() != PotType::Type0 {
            return None;
        }
        be_u64(self.data(), field::PKT_ID)
    }

    /// Cumulative of a POT type 0 body (RFC 9197 §4.5.2); `None` for
    /// another POT type or a short buffer.
    pub fn cumulative(&self) -> Option<u64> {
        if self.pot_type() != PotType::Type0 {
            return None;
        }
        be_u64(self.data(), field::CUMULATIVE)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Pot<T> {
    fn header_mut(&mut self) -> Result<&mut [u8], WireError> {
        let b = self.buffer.as_mut();
        let actual = b.len();
        b.get_mut(..HEADER_LEN).ok_or(WireError::Truncated {
            layer: Layer::PotHeader,
            offset: 0,
            required: HEADER_LEN,
            actual,
        })
    }

    /// Sets the Namespace-ID.
    pub fn set_namespace_id(&mut self, value: u16) -> Result<(), WireError> {
        self.header_mut()?[field::NAMESPACE_ID].copy_from_slice(&value.to_be_bytes());
        Ok(())
    }

    /// Sets the POT type. The data is left as it is.
    pub fn set_pot_type(&mut self, value: PotType) -> Result<(), WireError> {
        self.header_mut()?[field::POT_TYPE] = value.into();
        Ok(())
    }

    /// Sets the POT flags (RFC 9197 §4.5.1: send 0).
    pub fn set_flags(&mut self, value: u8) -> Result<(), WireError> {
        self.header_mut()?[field::FLAGS] = value;
        Ok(())
    }

    fn type0_data_mut(&mut self) -> Result<&mut [u8], WireError> {
        let t = self.pot_type_raw();
        if self.buffer.as_ref().len() < HEADER_LEN {
            return Err(WireError::Truncated {
                layer: Layer::PotHeader,
                offset: 0,
                required: HEADER_LEN,
                actual: self.buffer.as_ref().len(),
            });
        }
        if t != 0 {
            return Err(WireError::Unencodable(Unencodable::PotNotType0(t)));
        }
        let data = &mut self.buffer.as_mut()[HEADER_LEN..];
        let actual = data.len();
        if actual != TYPE0_DATA_LEN {
            return Err(WireError::LengthMismatch {
                layer: Layer::PotType0Data,
                offset: HEADER_LEN,
                required: TYPE0_DATA_LEN,
                actual,
            });
        }
        Ok(data)
    }

    /// Sets PktID of a POT type 0 body (RFC 9197 §4.5.2).
    pub fn set_pkt_id(&mut self, value: u64) -> Result<(), WireError> {
        self.type0_data_mut()?[field::PKT_ID].copy_from_slice(&value.to_be_bytes());
        Ok(())
    }

    /// Sets Cumulative of a POT type 0 body, as a transit node does after
    /// its POT computation (RFC 9197 §4.5.2).
    pub fn set_cumulative(&mut self, value: u64) -> Result<(), WireError> {
        self.type0_data_mut()?[field::CUMULATIVE].copy_from_slice(&value.to_be_bytes());
        Ok(())
    }
}

/// The data of a POT option, by POT type (RFC 9197 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum PotData<'a> {
    /// POT type 0 (RFC 9197 §4.5.2).
    Type0 {
        /// 64-bit packet identifier.
        pkt_id: u64,
        /// 64-bit Cumulative.
        cumulative: u64,
    },
    /// Another POT type, data kept as received.
    Unknown {
        /// The POT type value (never 0).
        pot_type: u8,
        /// Every byte after the POT header.
        data: &'a [u8],
    },
}

/// A POT body as a value (RFC 9197 §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct PotRepr<'a> {
    /// IOAM Namespace-ID.
    pub namespace_id: u16,
    /// IOAM POT flags: exposed as received; 0 on send (RFC 9197 §4.5.1).
    pub flags: u8,
    /// POT type and its data.
    pub data: PotData<'a>,
}

impl<'a> PotRepr<'a> {
    /// Parses a checked view.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(pot: &Pot<&'a T>) -> Result<Self, WireError> {
        Self::parse_bytes(T::as_ref(pot.buffer))
    }

    /// Parses a POT body (the IOAM body slice, starting at Namespace-ID).
    pub fn parse_bytes(body: &'a [u8]) -> Result<Self, WireError> {
        let header = body.get(..HEADER_LEN).ok_or(WireError::Truncated {
            layer: Layer::PotHeader,
            offset: 0,
            required: HEADER_LEN,
            actual: body.len(),
        })?;
        Self::from_parts(header, &body[HEADER_LEN..], HEADER_LEN)
    }

    /// Parses a POT header and its data when they are not contiguous (the
    /// integrity-protected POT option puts the integrity header between
    /// them). `data_offset` is where `data` starts in the caller's slice.
    pub(crate) fn from_parts(
        header: &'a [u8],
        data: &'a [u8],
        data_offset: usize,
    ) -> Result<Self, WireError> {
        let h: [u8; HEADER_LEN] = header
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(WireError::Truncated {
                layer: Layer::PotHeader,
                offset: 0,
                required: HEADER_LEN,
                actual: header.len(),
            })?;
        let pot_type = h[field::POT_TYPE];
        check_data(pot_type, data, data_offset)?;
        let data = match PotType::from(pot_type) {
            PotType::Type0 => PotData::Type0 {
                pkt_id: be_u64(data, field::PKT_ID).unwrap_or(0),
                cumulative: be_u64(data, field::CUMULATIVE).unwrap_or(0),
            },
            PotType::Unknown(pot_type) => PotData::Unknown { pot_type, data },
        };
        Ok(PotRepr {
            namespace_id: u16::from_be_bytes([h[0], h[1]]),
            flags: h[field::FLAGS],
            data,
        })
    }

    /// A POT type 0 body with flags 0, ready to send.
    pub const fn new_type0(namespace_id: u16, pkt_id: u64, cumulative: u64) -> Self {
        PotRepr {
            namespace_id,
            flags: 0,
            data: PotData::Type0 { pkt_id, cumulative },
        }
    }

    /// The POT type.
    pub const fn pot_type(&self) -> PotType {
        match self.data {
            PotData::Type0 { .. } => PotType::Type0,
            PotData::Unknown { pot_type, .. } => PotType::Unknown(pot_type),
        }
    }

    /// Bytes of data after the header.
    pub const fn data_len(&self) -> usize {
        match self.data {
            PotData::Type0 { .. } => TYPE0_DATA_LEN,
            PotData::Unknown { data, .. } => data.len(),
        }
    }

    /// Writes the header bytes only (4 bytes).
    pub(crate) fn emit_header(&self, out: &mut [u8]) -> Result<(), WireError> {
        self.validate()?;
        let actual = out.len();
        let h = out.get_mut(..HEADER_LEN).ok_or(WireError::BufferTooSmall {
            required: HEADER_LEN,
            actual,
        })?;
        h[field::NAMESPACE_ID].copy_from_slice(&self.namespace_id.to_be_bytes());
        h[field::POT_TYPE] = self.pot_type().into();
        h[field::FLAGS] = self.flags;
        Ok(())
    }

    /// Writes the data bytes only ([`PotRepr::data_len`] bytes).
    pub(crate) fn emit_data(&self, out: &mut [u8]) -> Result<(), WireError> {
        let required = self.data_len();
        let actual = out.len();
        let d = out
            .get_mut(..required)
            .ok_or(WireError::BufferTooSmall { required, actual })?;
        match self.data {
            PotData::Type0 { pkt_id, cumulative } => {
                d[field::PKT_ID].copy_from_slice(&pkt_id.to_be_bytes());
                d[field::CUMULATIVE].copy_from_slice(&cumulative.to_be_bytes());
            }
            PotData::Unknown { data, .. } => d.copy_from_slice(data),
        }
        Ok(())
    }
}

/// The POT body in IPv6: option code 0x31, IOAM Option-Type 2, in a
/// Hop-by-Hop header (RFC 9486 §4).
impl<'a> IoamBody<'a> for PotRepr<'a> {
    #[inline]
    fn decode(ioam_type: IoamType, body: &'a [u8]) -> Result<Self, WireError> {
        expect_type(ioam_type, IoamType::ProofOfTransit, POT_EXPECTED)?;
        PotRepr::parse_bytes(body)
    }

    #[inline]
    fn ioam_type(&self) -> IoamType {
        IoamType::ProofOfTransit
    }

    #[inline]
    fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data_len()
    }

    /// [`PotData::Unknown`] must not use POT type 0.
    #[inline]
    fn validate(&self) -> Result<(), WireError> {
        match self.data {
            PotData::Unknown { pot_type: 0, .. } => {
                Err(WireError::Unencodable(Unencodable::PotUnknownUsesType0))
            }
            _ => Ok(()),
        }
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
    //! proptest strategies for the POT types.
    extern crate alloc;
    use super::{PotData, PotRepr};
    use alloc::boxed::Box;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// Opaque data of whole 4-byte words (an IOAM body is 4n), leaked so the
    /// repr can borrow it for `'static`.
    pub(crate) fn words(max_words: usize) -> impl Strategy<Value = &'static [u8]> {
        (0..=max_words)
            .prop_flat_map(|n| proptest::collection::vec(any::<u8>(), n * 4))
            .prop_map(|v: Vec<u8>| &*Box::leak(v.into_boxed_slice()))
    }

    /// Any POT body that [`PotRepr::emit`] accepts.
    pub(crate) fn pot_repr() -> impl Strategy<Value = PotRepr<'static>> {
        let type0 = (any::<u64>(), any::<u64>())
            .prop_map(|(pkt_id, cumulative)| PotData::Type0 { pkt_id, cumulative });
        let unknown =
            (1u8..=255, words(62)).prop_map(|(pot_type, data)| PotData::Unknown { pot_type, data });
        (any::<u16>(), any::<u8>(), prop_oneof![type0, unknown]).prop_map(
            |(namespace_id, flags, data)| PotRepr {
                namespace_id,
                flags,
                data,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURE: [u8; 20] = [
        0x12, 0x34, 0x00, 0x00, // NS 0x1234, POT type 0, flags 0
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // PktID
        0xf0, 0xe0, 0xd0, 0xc0, 0xb0, 0xa0, 0x90, 0x80, // Cumulative
    ];

    #[test]
    fn fixture_type0() {
        let v = Pot::new_checked(&FIXTURE[..]).unwrap();
        assert_eq!(v.namespace_id(), 0x1234);
        assert_eq!(v.pot_type(), PotType::Type0);
        assert_eq!(v.flags(), 0);
        assert_eq!(v.pkt_id(), Some(0x0102_0304_0506_0708));
        assert_eq!(v.cumulative(), Some(0xf0e0_d0c0_b0a0_9080));
    }

    #[test]
    fn every_truncation_is_an_error() {
        for n in 0..FIXTURE.len() {
            let err = Pot::new_checked(&FIXTURE[..n]).unwrap_err();
            if n < HEADER_LEN {
                assert_eq!(
                    err,
                    WireError::Truncated {
                        layer: Layer::PotHeader,
                        offset: 0,
                        required: 4,
                        actual: n
                    }
                );
            } else {
                assert_eq!(
                    err,
                    WireError::LengthMismatch {
                        layer: Layer::PotType0Data,
                        offset: 4,
                        required: 16,
                        actual: n - 4
                    }
                );
            }
            assert!(PotRepr::parse_bytes(&FIXTURE[..n]).is_err());
        }
    }

    #[test]
    fn flags_are_exposed_but_not_checked() {
        let mut b = FIXTURE;
        b[3] = 0xa5;
        let v = Pot::new_checked(&b[..]).unwrap();
        assert_eq!(v.flags(), 0xa5);
        assert_eq!(PotRepr::parse_bytes(&b).unwrap().flags, 0xa5);
    }

    #[test]
    fn unknown_type_is_opaque_and_untouched() {
        let b = [0, 1, 7, 0, 9, 9, 9, 9];
        let v = Pot::new_checked(&b[..]).unwrap();
        assert_eq!(v.pot_type(), PotType::Unknown(7));
        assert_eq!(v.pkt_id(), None);
        let r = PotRepr::parse_bytes(&b).unwrap();
        assert_eq!(
            r.data,
            PotData::Unknown {
                pot_type: 7,
                data: &[9, 9, 9, 9]
            }
        );
        let mut out = [0u8; 8];
        assert_eq!(r.emit(&mut out), Ok(8));
        assert_eq!(out, b);
        let mut copy = b;
        let mut w = Pot::new_unchecked(&mut copy[..]);
        assert_eq!(
            w.set_cumulative(1),
            Err(WireError::Unencodable(Unencodable::PotNotType0(7)))
        );
        assert_eq!(copy, b);
    }

    #[test]
    fn setters_update_in_place() {
        let mut b = FIXTURE;
        let mut w = Pot::new_checked(&mut b[..]).unwrap();
        w.set_cumulative(42).unwrap();
        w.set_pkt_id(7).unwrap();
        w.set_namespace_id(9).unwrap();
        w.set_flags(0).unwrap();
        let v = Pot::new_checked(&b[..]).unwrap();
        assert_eq!(
            (v.namespace_id(), v.pkt_id(), v.cumulative()),
            (9, Some(7), Some(42))
        );
    }

    #[test]
    fn emit_rejects_small_buffer_and_writes_nothing() {
        let r = PotRepr::new_type0(1, 2, 3);
        let mut out = [0xeeu8; 19];
        assert_eq!(
            r.emit(&mut out),
            Err(WireError::BufferTooSmall {
                required: 20,
                actual: 19
            })
        );
        assert!(out.iter().all(|&b| b == 0xee));
        let bad = PotRepr {
            namespace_id: 0,
            flags: 0,
            data: PotData::Unknown {
                pot_type: 0,
                data: &[],
            },
        };
        assert_eq!(
            bad.emit(&mut [0; 4]),
            Err(WireError::Unencodable(Unencodable::PotUnknownUsesType0))
        );
    }

    #[test]
    fn errors_name_the_rule() {
        let e = Pot::new_checked(&FIXTURE[..7]).unwrap_err();
        let s = alloc::format!("{e}");
        assert!(
            s.contains("RFC 9197 §4.5.2") && s.contains("offset 4"),
            "{s}"
        );
        assert_eq!(
            e.with_base(10),
            WireError::LengthMismatch {
                layer: Layer::PotType0Data,
                offset: 14,
                required: 16,
                actual: 3
            }
        );
    }

    extern crate alloc;

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
        fn repr_round_trip(repr in strategies::pot_repr()) {
            let mut buf = [0u8; 260];
            let n = repr.emit(&mut buf).unwrap();
            prop_assert_eq!(n, repr.buffer_len());
            let view = Pot::new_checked(&buf[..n]).unwrap();
            prop_assert_eq!(view.namespace_id(), repr.namespace_id);
            prop_assert_eq!(PotRepr::parse_bytes(&buf[..n]).unwrap(), repr);
        }

        #[test]
        fn builder_round_trip(repr in strategies::pot_repr()) {
            let mut hdr = [0u8; 264];
            let n = repr.emit_ext_header(&mut hdr, 17).unwrap();
            prop_assert_eq!(n, repr.ext_header_len().unwrap());
            prop_assert_eq!(n % 8, 0);
            let opt = only_ioam(&hdr[..n]);
            prop_assert_eq!(opt.option_type, IPV6_OPTION_CODE);
            prop_assert!(opt.placement(crate::ext::ExtKind::HopByHop).is_conforming());
            prop_assert_eq!(PotRepr::from_option(&opt).unwrap(), repr);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = PotRepr::parse_bytes(&bytes);
            let v = Pot::new_unchecked(&bytes[..]);
            let _ = (v.namespace_id(), v.pkt_id(), v.cumulative(), v.flags(), v.data());
        }
    }
}
