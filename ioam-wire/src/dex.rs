//! IOAM Direct Export option body (IOAM Option-Type 4, RFC 9326 §3.2).
//!
//! The view [`Dex`] and the value [`DexRepr`] work on the IOAM *body*: the
//! bytes after the IOAM Reserved and IOAM Option-Type bytes, starting at the
//! Namespace-ID. Every offset in a [`WireError`] is relative to that slice.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |        Namespace-ID           |     Flags     |Extension-Flags|  0
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |               IOAM-Trace-Type                 |   Reserved    |  4
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                Flow ID (if Extension-Flags bit 0)             |  8
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |            Sequence Number (if Extension-Flags bit 1)         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |       one 4-byte field per further Extension-Flags bit ...    |
//! ```
//!
//! Extension-Flags bit 0 (mask 0x80) announces the Flow ID, bit 1 (0x40) the
//! Sequence Number; bits 2-7 are unassigned, yet each set bit still occupies
//! 4 bytes, in bit order. So the body is always
//! `8 + 4 * popcount(Extension-Flags)` bytes ([`WireError::LengthMismatch`]
//! otherwise). Flags and Reserved: 0 on send, exposed as received.
//! No node data travels with DEX: the Trace-Type tells nodes what to export.
//!
//! **Legacy layout.** Implementations of the drafts before RFC 9326
//! numbered the Extension-Flags from the least significant bit: Flow ID
//! 0x01, Sequence Number 0x02 (so a packet with both shows 0x03), and the
//! extension fields follow in that order. [`Dex::new_checked_with`] and
//! [`DexRepr::parse_bytes_with`] with [`DexLayout::Legacy`] decode that layout; nothing else does, and
//! nothing writes it.
//!
//! Where the legacy order comes from: the Wireshark patch published with the
//! public `dex.pcap` (repository `Advanced-Observability/ioam-wireshark`)
//! names mask 0x01 "Flow ID" and 0x02 "Sequence Number", the order used
//! here, although its dissection code reads the fields the other way round
//! when only one bit is set; with both bits set (0x03, as in that capture)
//! both readings give Flow ID first. The later DEX patches from the same
//! authors (Linux 6.12 kernel and Wireshark, repository
//! `Advanced-Observability/ioam-direct-exporting`) use the RFC 9326 order,
//! Flow ID 0x80 and Sequence Number 0x40, which is why the RFC order is the
//! default.
//!
//! In IPv6 the option travels in a Hop-by-Hop header with option code 0x11
//! (RFC 9486, RFC 9326: act 00, chg 0).
//!
//! ```
//! use ioam_wire::body::IoamBody;
//! use ioam_wire::dex::{Dex, DexRepr};
//!
//! let body = [
//!     0x00, 0x01, 0x00, 0xc0, // NS 1, flags 0, ext flags: Flow ID + Seq
//!     0x80, 0x00, 0x00, 0x00, // Trace-Type bit 0, Reserved
//!     0x00, 0x00, 0x00, 0x07, // Flow ID
//!     0x00, 0x00, 0x01, 0x00, // Sequence Number
//! ];
//! let view = Dex::new_checked(&body[..]).unwrap();
//! assert_eq!((view.flow_id(), view.sequence_number()), (Some(7), Some(256)));
//! let repr = DexRepr::parse(&view).unwrap();
//! let mut out = [0u8; 16];
//! assert_eq!(repr.emit(&mut out), Ok(16));
//! assert_eq!(out, body);
//! ```

use crate::body::{expect_type, IoamBody};
use crate::error::{Layer, Unencodable, WireError};

/// What a DEX parser reads, for [`WireError::WrongIoamType`].
const DEX_EXPECTED: &str = "Direct Export (4, RFC 9326)";
use crate::ioam::IoamType;

/// IOAM Option-Type value of Direct Export (RFC 9326, IANA).
pub const IOAM_TYPE: u8 = 4;
/// IPv6 option code that carries a DEX option (act 00, chg 0: the option is
/// not changed en route).
pub const IPV6_OPTION_CODE: u8 = 0x11;
/// IPv6 Next Header value of the extension header that carries DEX:
/// Hop-by-Hop Options.
pub const EXTENSION_HEADER: u8 = 0;
/// Length of the fixed part of the DEX body (RFC 9326 §3.2).
pub const HEADER_LEN: usize = 8;
/// Length of every optional field.
pub const EXTENSION_FIELD_LEN: usize = 4;
/// Extension-Flags mask of the Flow ID (RFC 9326 §3.2, bit 0).
pub const EXT_FLOW_ID: u8 = 0x80;
/// Extension-Flags mask of the Sequence Number (RFC 9326 §3.2, bit 1).
pub const EXT_SEQUENCE_NUMBER: u8 = 0x40;
/// Extension-Flags bits without an assigned meaning (bits 2-7).
pub const EXT_UNASSIGNED: u8 = 0x3f;
/// Legacy (pre-RFC) Extension-Flags mask of the Flow ID.
pub const LEGACY_EXT_FLOW_ID: u8 = 0x01;
/// Legacy (pre-RFC) Extension-Flags mask of the Sequence Number.
pub const LEGACY_EXT_SEQUENCE_NUMBER: u8 = 0x02;

mod field {
    use core::ops::Range;
    pub(super) const NAMESPACE_ID: Range<usize> = 0..2;
    pub(super) const FLAGS: usize = 2;
    pub(super) const EXT_FLAGS: usize = 3;
    pub(super) const TRACE_TYPE: Range<usize> = 4..7;
    pub(super) const RESERVED: usize = 7;
}

/// The bit order of the Extension-Flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum DexLayout {
    /// RFC 9326: bit 0 is the most significant (Flow ID 0x80, Sequence
    /// Number 0x40); fields in that order.
    #[default]
    Rfc9326,
    /// Pre-RFC drafts as seen in older captures: bits counted from the least
    /// significant (Flow ID 0x01, Sequence Number 0x02); fields in that
    /// order. Only on explicit request.
    Legacy,
}

impl DexLayout {
    /// The Extension-Flags mask of extension bit `n` (0..8); 0 for `n >= 8`.
    pub const fn mask(self, n: u32) -> u8 {
        let m = match self {
            DexLayout::Rfc9326 => 0x80u8.checked_shr(n),
            DexLayout::Legacy => 1u8.checked_shl(n),
        };
        match m {
            Some(m) => m,
            None => 0,
        }
    }

    /// Offset, inside the body, of the field of extension bit `n`, if set.
    pub const fn field_offset(self, ext_flags: u8, n: u32) -> Option<usize> {
        if n >= 8 || ext_flags & self.mask(n) == 0 {
            return None;
        }
        let before = match self {
            DexLayout::Rfc9326 => ext_flags & !(0xffu8 >> n),
            DexLayout::Legacy => ext_flags & ((1u8 << n) - 1),
        };
        Some(HEADER_LEN + EXTENSION_FIELD_LEN * before.count_ones() as usize)
    }
}

/// A read/write view of a DEX body (RFC 9326 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dex<T: AsRef<[u8]>> {
    buffer: T,
    layout: DexLayout,
}

impl<T: AsRef<[u8]>> Dex<T> {
    /// Wraps a buffer (RFC 9326 layout) without checking it; accessors
    /// return `None` (or 0) rather than panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Dex {
            buffer,
            layout: DexLayout::Rfc9326,
        }
    }

    /// Wraps a buffer (RFC 9326 layout) after [`Dex::check_len`].
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        Self::new_checked_with(buffer, DexLayout::Rfc9326)
    }

    /// Wraps a buffer in the given layout after [`Dex::check_len`].
    pub fn new_checked_with(buffer: T, layout: DexLayout) -> Result<Self, WireError> {
        let v = Dex { buffer, layout };
        v.check_len()?;
        Ok(v)
    }

    /// Checks the fixed part and that the length is exactly
    /// `8 + 4 * popcount(Extension-Flags)`.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated {
                layer: Layer::DexHeader,
                offset: 0,
                required: HEADER_LEN,
                actual: len,
            });
        }
        let ext_flags = self.extension_flags();
        let required = body_len(ext_flags);
        if len != required {
            return Err(WireError::LengthMismatch {
                layer: Layer::DexBody(ext_flags),
                offset: field::EXT_FLAGS,
                required,
                actual: len,
            });
        }
        Ok(())
    }

    /// The Extension-Flags bit order this view uses.
    pub const fn layout(&self) -> DexLayout {
        self.layout
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    /// IOAM Namespace-ID.
    pub fn namespace_id(&self) -> u16 {
        u16::from_be_bytes([self.byte(0), self.byte(1)])
    }

    /// Flags (RFC 9326 §3.2; none assigned; exposed as received).
    pub fn flags(&self) -> u8 {
        self.byte(field::FLAGS)
    }

    /// Extension-Flags.
    pub fn extension_flags(&self) -> u8 {
        self.byte(field::EXT_FLAGS)
    }

    /// IOAM-Trace-Type (24 bits, RFC 9197 §4.4.1 bit order): what the nodes
    /// export.
    pub fn trace_type(&self) -> u32 {
        let r = field::TRACE_TYPE;
        u32::from_be_bytes([
            0,
            self.byte(r.start),
            self.byte(r.start + 1),
            self.byte(r.start + 2),
        ])
    }

    /// Reserved (exposed as received).
    pub fn reserved(&self) -> u8 {
        self.byte(field::RESERVED)
    }

    /// The 4-byte field of extension bit `n` (0 = Flow ID, 1 = Sequence
    /// Number, 2..8 unassigned), if its flag is set and the bytes are there.
    pub fn extension_field(&self, n: u32) -> Option<u32> {
        let off = self.layout.field_offset(self.extension_flags(), n)?;
        let b: [u8; 4] = self
            .buffer
            .as_ref()
            .get(off..off + EXTENSION_FIELD_LEN)?
            .try_into()
            .ok()?;
        Some(u32::from_be_bytes(b))
    }

    /// Flow ID (Extension-Flags bit 0).
    pub fn flow_id(&self) -> Option<u32> {
        self.extension_field(0)
    }

    /// Sequence Number (Extension-Flags bit 1).
    pub fn sequence_number(&self) -> Option<u32> {
        self.extension_field(1)
    }

    /// The unassigned extension bits that are set, as a mask in this view's
    /// layout (RFC 9326: within 0x3f; legacy: within 0xfc).
    pub fn unassigned_extension_flags(&self) -> u8 {
        let known = self.layout.mask(0) | self.layout.mask(1);
        self.extension_flags() & !known
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Dex<T> {
    fn set_byte(&mut self, i: usize, v: u8) -> Result<(), WireError> {
        let b = self.buffer.as_mut();
        let actual = b.len();
        match b.get_mut(i) {
            Some(slot) => {
                *slot = v;
                Ok(())
            }
            None => Err(WireError::Truncated {
                layer: Layer::DexHeader,
                offset: 0,
                required: HEADER_LEN,
                actual,
            }),
        }
    }

    /// Sets the Namespace-ID.
    pub fn set_namespace_id(&mut self, v: u16) -> Result<(), WireError> {
        let [a, b] = v.to_be_bytes();
        self.set_byte(1, b)?;
        self.set_byte(0, a)
    }

    /// Sets the Flags (send 0).
    pub fn set_flags(&mut self, v: u8) -> Result<(), WireError> {
        self.set_byte(field::FLAGS, v)
    }

    /// Sets the IOAM-Trace-Type (24 bits).
    pub fn set_trace_type(&mut self, v: u32) -> Result<(), WireError> {
        if v > 0x00ff_ffff {
            return Err(WireError::Unencodable(Unencodable::DexTraceTypeTooWide(v)));
        }
        let [_, a, b, c] = v.to_be_bytes();
        self.set_byte(6, c)?;
        self.set_byte(5, b)?;
        self.set_byte(4, a)
    }

    /// Overwrites the field of extension bit `n`, which must be present
    /// (the Extension-Flags are not changed, so the length stays valid).
    pub fn set_extension_field(&mut self, n: u32, v: u32) -> Result<(), WireError> {
        let ext_flags = self.extension_flags();
        let len = self.buffer.as_ref().len();
        let Some(off) = self.layout.field_offset(ext_flags, n) else {
            return Err(WireError::LengthMismatch {
                layer: Layer::DexBody(ext_flags),
                offset: field::EXT_FLAGS,
                required: body_len(ext_flags),
                actual: len,
            });
        };
        match self.buffer.as_mut().get_mut(off..off + EXTENSION_FIELD_LEN) {
            Some(slot) => {
                slot.copy_from_slice(&v.to_be_bytes());
                Ok(())
            }
            None => Err(WireError::LengthMismatch {
                layer: Layer::DexBody(ext_flags),
                offset: field::EXT_FLAGS,
                required: body_len(ext_flags),
                actual: len,
            }),
        }
    }
}

/// Body length announced by `ext_flags`: `8 + 4 * popcount`.
pub const fn body_len(ext_flags: u8) -> usize {
    HEADER_LEN + EXTENSION_FIELD_LEN * ext_flags.count_ones() as usize
}

/// A DEX body as a value (RFC 9326 §3.2), always in the RFC layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct DexRepr {
    /// IOAM Namespace-ID.
    pub namespace_id: u16,
    /// Flags (0 on send).
    pub flags: u8,
    /// IOAM-Trace-Type (24 bits).
    pub trace_type: u32,
    /// Reserved (0 on send).
    pub reserved: u8,
    /// Flow ID (Extension-Flags bit 0).
    pub flow_id: Option<u32>,
    /// Sequence Number (Extension-Flags bit 1).
    pub sequence_number: Option<u32>,
    /// Fields of the unassigned Extension-Flags bits 2..8 (index 0 is
    /// bit 2), kept so they round-trip.
    pub unassigned: [Option<u32>; 6],
}

impl DexRepr {
    /// Parses a checked view (in its layout).
    pub fn parse<T: AsRef<[u8]>>(view: &Dex<T>) -> Result<Self, WireError> {
        view.check_len()?;
        let mut unassigned = [None; 6];
        for (i, slot) in unassigned.iter_mut().enumerate() {
            *slot = view.extension_field(i as u32 + 2);
        }
        Ok(DexRepr {
            namespace_id: view.namespace_id(),
            flags: view.flags(),
            trace_type: view.trace_type(),
            reserved: view.reserved(),
            flow_id: view.flow_id(),
            sequence_number: view.sequence_number(),
            unassigned,
        })
    }

    /// Parses a DEX body in the RFC 9326 layout.
    pub fn parse_bytes(body: &[u8]) -> Result<Self, WireError> {
        Self::parse_bytes_with(body, DexLayout::Rfc9326)
    }

    /// Parses a DEX body in the given Extension-Flags order (the pre-RFC
    /// order only for captures known to use it).
    pub fn parse_bytes_with(body: &[u8], layout: DexLayout) -> Result<Self, WireError> {
        Self::parse(&Dex::new_checked_with(body, layout)?)
    }

    /// A DEX body to send: flags and reserved 0, no unassigned fields.
    pub const fn new(
        namespace_id: u16,
        trace_type: u32,
        flow_id: Option<u32>,
        sequence_number: Option<u32>,
    ) -> Self {
        DexRepr {
            namespace_id,
            flags: 0,
            trace_type,
            reserved: 0,
            flow_id,
            sequence_number,
            unassigned: [None; 6],
        }
    }

    /// The Extension-Flags these fields announce (RFC 9326 layout).
    pub fn extension_flags(&self) -> u8 {
        let mut f = 0;
        if self.flow_id.is_some() {
            f |= EXT_FLOW_ID;
        }
        if self.sequence_number.is_some() {
            f |= EXT_SEQUENCE_NUMBER;
        }
        for (i, v) in self.unassigned.iter().enumerate() {
            if v.is_some() {
                f |= DexLayout::Rfc9326.mask(i as u32 + 2);
            }
        }
        f
    }
}

/// The DEX body in IPv6: option code 0x11, IOAM Option-Type 4, in a
/// Hop-by-Hop header (RFC 9486 §4, RFC 9326 §3).
impl<'a> IoamBody<'a> for DexRepr {
    /// Parses the RFC 9326 layout ([`DexRepr::parse_bytes_with`] reads the
    /// pre-RFC Extension-Flags order).
    #[inline]
    fn decode(ioam_type: IoamType, body: &'a [u8]) -> Result<Self, WireError> {
        expect_type(ioam_type, IoamType::DirectExport, DEX_EXPECTED)?;
        DexRepr::parse_bytes(body)
    }

    #[inline]
    fn ioam_type(&self) -> IoamType {
        IoamType::DirectExport
    }

    #[inline]
    fn buffer_len(&self) -> usize {
        body_len(self.extension_flags())
    }

    /// The IOAM-Trace-Type must fit in 24 bits.
    #[inline]
    fn validate(&self) -> Result<(), WireError> {
        if self.trace_type > 0x00ff_ffff {
            return Err(WireError::Unencodable(Unencodable::DexTraceTypeTooWide(
                self.trace_type,
            )));
        }
        Ok(())
    }

    /// Writes the RFC 9326 layout.
    fn emit(&self, out: &mut [u8]) -> Result<usize, WireError> {
        self.validate()?;
        let required = self.buffer_len();
        let actual = out.len();
        let b = out
            .get_mut(..required)
            .ok_or(WireError::BufferTooSmall { required, actual })?;
        b[field::NAMESPACE_ID].copy_from_slice(&self.namespace_id.to_be_bytes());
        b[field::FLAGS] = self.flags;
        b[field::EXT_FLAGS] = self.extension_flags();
        b[field::TRACE_TYPE].copy_from_slice(&self.trace_type.to_be_bytes()[1..]);
        b[field::RESERVED] = self.reserved;
        let fields = [self.flow_id, self.sequence_number]
            .into_iter()
            .chain(self.unassigned)
            .flatten();
        for (i, v) in fields.enumerate() {
            let at = HEADER_LEN + i * EXTENSION_FIELD_LEN;
            b[at..at + EXTENSION_FIELD_LEN].copy_from_slice(&v.to_be_bytes());
        }
        Ok(required)
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies for the DEX types.
    use super::DexRepr;
    use proptest::prelude::*;

    prop_compose! {
        /// Any DEX body that [`DexRepr::emit`] accepts.
        pub(crate) fn dex_repr()(
            namespace_id in any::<u16>(),
            flags in any::<u8>(),
            trace_type in 0u32..=0x00ff_ffff,
            reserved in any::<u8>(),
            flow_id in any::<Option<u32>>(),
            sequence_number in any::<Option<u32>>(),
            unassigned in any::<[Option<u32>; 6]>(),
        ) -> DexRepr {
            DexRepr { namespace_id, flags, trace_type, reserved, flow_id, sequence_number, unassigned }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate alloc;
    use super::*;
    use proptest::prelude::*;

    const BOTH: [u8; 16] = [
        0x00, 0x2a, 0x00, 0xc0, // NS 42, flags 0, Flow ID + Seq
        0xf0, 0x00, 0x00, 0x00, // Trace-Type bits 0-3
        0x11, 0x22, 0x33, 0x44, // Flow ID
        0x00, 0x00, 0x00, 0x05, // Seq
    ];

    #[test]
    fn fixture_rfc_layout() {
        let v = Dex::new_checked(&BOTH[..]).unwrap();
        assert_eq!(v.namespace_id(), 42);
        assert_eq!(v.flags(), 0);
        assert_eq!(v.extension_flags(), 0xc0);
        assert_eq!(v.trace_type(), 0xf0_0000);
        assert_eq!(v.reserved(), 0);
        assert_eq!(v.flow_id(), Some(0x1122_3344));
        assert_eq!(v.sequence_number(), Some(5));
        assert_eq!(v.unassigned_extension_flags(), 0);
    }

    #[test]
    fn seq_alone_sits_right_after_the_header() {
        let b = [0, 1, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 9];
        let v = Dex::new_checked(&b[..]).unwrap();
        assert_eq!((v.flow_id(), v.sequence_number()), (None, Some(9)));
    }

    #[test]
    fn unassigned_bits_occupy_four_bytes_each() {
        // Flow ID, bit 3 (0x10) and bit 7 (0x01).
        let b = [
            0, 1, 0, 0x91, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 7,
        ];
        let v = Dex::new_checked(&b[..]).unwrap();
        assert_eq!(v.flow_id(), Some(1));
        assert_eq!(v.sequence_number(), None);
        assert_eq!(v.extension_field(3), Some(3));
        assert_eq!(v.extension_field(7), Some(7));
        assert_eq!(v.unassigned_extension_flags(), 0x11);
        let r = DexRepr::parse(&v).unwrap();
        assert_eq!(r.unassigned, [None, Some(3), None, None, None, Some(7)]);
        let mut out = [0u8; 20];
        assert_eq!(r.emit(&mut out), Ok(20));
        assert_eq!(out, b);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for n in 0..BOTH.len() {
            let e = Dex::new_checked(&BOTH[..n]).unwrap_err();
            if n < 8 {
                assert_eq!(
                    e,
                    WireError::Truncated {
                        layer: Layer::DexHeader,
                        offset: 0,
                        required: 8,
                        actual: n
                    }
                );
            } else {
                assert_eq!(
                    e,
                    WireError::LengthMismatch {
                        layer: Layer::DexBody(0xc0),
                        offset: 3,
                        required: 16,
                        actual: n
                    }
                );
            }
        }
    }

    #[test]
    fn length_must_match_flags() {
        let mut b = [0u8; 20];
        b[..16].copy_from_slice(&BOTH);
        let e = Dex::new_checked(&b[..]).unwrap_err();
        assert_eq!(
            e,
            WireError::LengthMismatch {
                layer: Layer::DexBody(0xc0),
                offset: 3,
                required: 16,
                actual: 20
            }
        );
        let s = alloc::format!("{e}");
        assert!(
            s.contains("8 + 4 * 2 = 16") && s.contains("RFC 9326"),
            "{s}"
        );
    }

    #[test]
    fn legacy_order_only_on_request() {
        // Pre-RFC layout: 0x03 = Flow ID (0x01) + Sequence Number (0x02).
        let b = [
            0, 0x7b, 0, 0x03, 0x80, 0, 0, 0, 0, 0, 0, 0x0a, 0, 0, 0, 0x0b,
        ];
        let legacy = Dex::new_checked_with(&b[..], DexLayout::Legacy).unwrap();
        assert_eq!(legacy.layout(), DexLayout::Legacy);
        assert_eq!(legacy.flow_id(), Some(0x0a));
        assert_eq!(legacy.sequence_number(), Some(0x0b));
        let r = DexRepr::parse_bytes_with(&b, DexLayout::Legacy).unwrap();
        assert_eq!((r.flow_id, r.sequence_number), (Some(0x0a), Some(0x0b)));
        // Read as RFC 9326 the same bytes are two unassigned fields.
        let rfc = Dex::new_checked(&b[..]).unwrap();
        assert_eq!(rfc.flow_id(), None);
        assert_eq!(rfc.unassigned_extension_flags(), 0x03);
        assert_eq!(rfc.extension_field(6), Some(0x0a));
        assert_eq!(rfc.extension_field(7), Some(0x0b));
    }

    #[test]
    fn setters() {
        let mut b = BOTH;
        let mut w = Dex::new_checked(&mut b[..]).unwrap();
        w.set_extension_field(1, 6).unwrap();
        w.set_namespace_id(7).unwrap();
        w.set_trace_type(0x80_0000).unwrap();
        assert_eq!(
            w.set_trace_type(0x100_0000),
            Err(WireError::Unencodable(Unencodable::DexTraceTypeTooWide(
                0x100_0000
            )))
        );
        assert!(w.set_extension_field(2, 1).is_err());
        let v = Dex::new_checked(&b[..]).unwrap();
        assert_eq!(
            (v.namespace_id(), v.trace_type(), v.sequence_number()),
            (7, 0x80_0000, Some(6))
        );
    }

    #[test]
    fn emit_errors_write_nothing() {
        let r = DexRepr::new(1, 0x80_0000, Some(1), None);
        let mut out = [0xffu8; 11];
        assert_eq!(
            r.emit(&mut out),
            Err(WireError::BufferTooSmall {
                required: 12,
                actual: 11
            })
        );
        assert!(out.iter().all(|&b| b == 0xff));
        let wide = DexRepr::new(1, 0x100_0000, None, None);
        assert_eq!(
            wide.emit(&mut [0; 8]),
            Err(WireError::Unencodable(Unencodable::DexTraceTypeTooWide(
                0x100_0000
            )))
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
        fn repr_round_trip(repr in strategies::dex_repr()) {
            let mut buf = [0u8; 40];
            let n = repr.emit(&mut buf).unwrap();
            prop_assert_eq!(n, repr.buffer_len());
            prop_assert_eq!(n, 8 + 4 * repr.extension_flags().count_ones() as usize);
            prop_assert_eq!(DexRepr::parse_bytes(&buf[..n]).unwrap(), repr);
        }

        #[test]
        fn builder_round_trip(repr in strategies::dex_repr()) {
            let mut hdr = [0u8; 264];
            let n = repr.emit_ext_header(&mut hdr, 17).unwrap();
            prop_assert_eq!(n, repr.ext_header_len().unwrap());
            prop_assert_eq!(n % 8, 0);
            let opt = only_ioam(&hdr[..n]);
            prop_assert_eq!(opt.option_type, IPV6_OPTION_CODE);
            prop_assert!(opt.placement(crate::ext::ExtKind::HopByHop).is_conforming());
            prop_assert_eq!(DexRepr::from_option(&opt).unwrap(), repr);
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
            let _ = DexRepr::parse_bytes(&bytes);
            let _ = DexRepr::parse_bytes_with(&bytes, DexLayout::Legacy);
            let v = Dex::new_unchecked(&bytes[..]);
            for n in 0..10 {
                let _ = v.extension_field(n);
            }
        }
    }
}
