//! The IOAM option frame in IPv6 options (RFC 9486 §4).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |  Option Type  |  Opt Data Len |   Reserved    |   IOAM Type   |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                     IOAM Option body ...                      |
//! ```
//!
//! Opt Data Len counts the bytes after itself: 2 + the body length.

use core::fmt;

use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::ext::ExtKind;

/// IPv6 option type of IOAM options whose data may change en route
/// (`act=00 chg=1`, RFC 9486 §7): Pre-allocated Trace, POT.
pub const OPT_IOAM: u8 = 0x31;

/// IPv6 option type of IOAM options whose data does not change en route
/// (`act=00 chg=0`, RFC 9486 §7): Edge-to-Edge, Direct Export.
pub const OPT_IOAM_NOCHANGE: u8 = 0x11;

/// Bytes of the frame before the body: Option Type, Opt Data Len,
/// Reserved, IOAM Option-Type.
pub const IOAM_FRAME_LEN: usize = 4;

/// The four bytes that open an IOAM option (RFC 9486 §4), exactly as they
/// sit on the wire, for zero-copy reads and in-place writes: any four bytes
/// are a value, and it has no alignment.
///
/// ```
/// use ioam_wire::ioam::{IoamType, RawIoamOptionHeader};
/// use zerocopy::FromBytes;
///
/// let option = [0x31, 0x0e, 0x00, 0x00, 0x00, 0x7b];
/// let (h, body) = RawIoamOptionHeader::ref_from_prefix(&option[..]).unwrap();
/// assert_eq!((h.option_type, h.opt_data_len), (0x31, 14));
/// assert_eq!(h.ioam_type(), IoamType::PreallocatedTrace);
/// assert_eq!(body, [0x00, 0x7b]);
/// ```
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug, Clone, Copy, PartialEq, Eq, Hash,
)]
#[repr(C)]
pub struct RawIoamOptionHeader {
    /// The IPv6 option type: [`OPT_IOAM`] or [`OPT_IOAM_NOCHANGE`].
    pub option_type: u8,
    /// Opt Data Len: 2 + the body length.
    pub opt_data_len: u8,
    /// Reserved (0 on send, ignored on receive).
    pub reserved: u8,
    /// The IOAM Option-Type, as on the wire.
    pub ioam_type: u8,
}

const _: () = assert!(core::mem::size_of::<RawIoamOptionHeader>() == IOAM_FRAME_LEN);

impl RawIoamOptionHeader {
    /// The header of an option with a `body_len`-byte body; Reserved 0.
    /// `body_len` must be at most 253 (callers check
    /// [`IOAM_BODY_MAX`] first).
    #[inline]
    pub const fn new(option_type: u8, ioam_type: IoamType, body_len: usize) -> Self {
        RawIoamOptionHeader {
            option_type,
            opt_data_len: (body_len + 2) as u8,
            reserved: 0,
            ioam_type: ioam_type.to_u8(),
        }
    }

    /// The IOAM Option-Type.
    #[inline]
    pub const fn ioam_type(&self) -> IoamType {
        IoamType::from_u8(self.ioam_type)
    }
}

/// Largest IOAM body in an IPv6 option: Opt Data Len is at most 255, and
/// 4n alignment makes it `2 mod 4`, so at most 254 = 2 + 252 (RFC 9486 §4).
pub const IOAM_BODY_MAX: usize = 252;

/// Whether an IPv6 option type byte is one of the two IOAM option codes.
#[inline]
pub const fn is_ioam_option_type(t: u8) -> bool {
    t == OPT_IOAM || t == OPT_IOAM_NOCHANGE
}

/// The IOAM Option-Type (RFC 9197 §4.1, RFC 9326 §3.1, IANA "IOAM
/// Option-Type" registry; 64..=67 from draft-ietf-ippm-ioam-data-integrity).
///
/// An open enum: values without a name are kept in [`IoamType::Unknown`]
/// and convert back to the same byte. Build a type from a wire value with
/// [`IoamType::from_u8`] (or `From<u8>`), which never puts an assigned
/// value in `Unknown`: equality is the variant's (one compare), so a
/// hand-made `IoamType::Unknown(2)` is not `IoamType::ProofOfTransit`; the
/// parsers and `Arbitrary` only build canonical values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IoamType {
    /// 0: Pre-allocated Trace (RFC 9197 §4.4).
    PreallocatedTrace,
    /// 1: Incremental Trace (RFC 9197 §4.4).
    IncrementalTrace,
    /// 2: Proof of Transit (RFC 9197 §4.5).
    ProofOfTransit,
    /// 3: Edge-to-Edge (RFC 9197 §4.6).
    EdgeToEdge,
    /// 4: Direct Export (RFC 9326 §3).
    DirectExport,
    /// 64: integrity-protected Pre-allocated Trace (draft).
    IntegrityPreallocatedTrace,
    /// 65: integrity-protected Incremental Trace (draft).
    IntegrityIncrementalTrace,
    /// 66: integrity-protected Proof of Transit (draft).
    IntegrityProofOfTransit,
    /// 67: integrity-protected Edge-to-Edge (draft).
    IntegrityEdgeToEdge,
    /// Any other value, kept as is.
    Unknown(u8),
}

/// Any wire value, built through [`IoamType::from_u8`].
#[cfg(feature = "arbitrary")]
impl<'a> arbitrary::Arbitrary<'a> for IoamType {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_u8(u8::arbitrary(u)?))
    }
}

impl IoamType {
    /// The value on the wire.
    #[inline]
    pub const fn to_u8(self) -> u8 {
        match self {
            IoamType::PreallocatedTrace => 0,
            IoamType::IncrementalTrace => 1,
            IoamType::ProofOfTransit => 2,
            IoamType::EdgeToEdge => 3,
            IoamType::DirectExport => 4,
            IoamType::IntegrityPreallocatedTrace => 64,
            IoamType::IntegrityIncrementalTrace => 65,
            IoamType::IntegrityProofOfTransit => 66,
            IoamType::IntegrityEdgeToEdge => 67,
            IoamType::Unknown(v) => v,
        }
    }

    /// The type for a wire value.
    #[inline]
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => IoamType::PreallocatedTrace,
            1 => IoamType::IncrementalTrace,
            2 => IoamType::ProofOfTransit,
            3 => IoamType::EdgeToEdge,
            4 => IoamType::DirectExport,
            64 => IoamType::IntegrityPreallocatedTrace,
            65 => IoamType::IntegrityIncrementalTrace,
            66 => IoamType::IntegrityProofOfTransit,
            67 => IoamType::IntegrityEdgeToEdge,
            v => IoamType::Unknown(v),
        }
    }

    /// The IPv6 option code and extension header RFC 9486 §4 (and RFC 9326
    /// §3 for DEX) give this type; `None` where none is specified
    /// (Incremental Trace, the integrity types, unknown types).
    #[inline]
    pub const fn ipv6_placement(self) -> Option<(u8, ExtKind)> {
        match self {
            IoamType::PreallocatedTrace | IoamType::ProofOfTransit => {
                Some((OPT_IOAM, ExtKind::HopByHop))
            }
            IoamType::EdgeToEdge => Some((OPT_IOAM_NOCHANGE, ExtKind::DestinationOptions)),
            IoamType::DirectExport => Some((OPT_IOAM_NOCHANGE, ExtKind::HopByHop)),
            _ => None,
        }
    }

    /// The IPv6 option code a builder uses for this type: the RFC 9486
    /// code where one is specified, else 0x31 for trace and POT variants
    /// (their data changes en route) and 0x11 for the others.
    #[inline]
    pub const fn default_option_code(self) -> u8 {
        match self {
            IoamType::EdgeToEdge
            | IoamType::DirectExport
            | IoamType::IntegrityEdgeToEdge
            | IoamType::Unknown(_) => OPT_IOAM_NOCHANGE,
            _ => OPT_IOAM,
        }
    }
}

impl From<u8> for IoamType {
    #[inline]
    fn from(v: u8) -> Self {
        IoamType::from_u8(v)
    }
}

impl From<IoamType> for u8 {
    #[inline]
    fn from(t: IoamType) -> Self {
        t.to_u8()
    }
}

impl fmt::Display for IoamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IoamType::PreallocatedTrace => f.write_str("Pre-allocated Trace"),
            IoamType::IncrementalTrace => f.write_str("Incremental Trace"),
            IoamType::ProofOfTransit => f.write_str("Proof of Transit"),
            IoamType::EdgeToEdge => f.write_str("Edge-to-Edge"),
            IoamType::DirectExport => f.write_str("Direct Export"),
            IoamType::IntegrityPreallocatedTrace => {
                f.write_str("Integrity-protected Pre-allocated Trace")
            }
            IoamType::IntegrityIncrementalTrace => {
                f.write_str("Integrity-protected Incremental Trace")
            }
            IoamType::IntegrityProofOfTransit => {
                f.write_str("Integrity-protected Proof of Transit")
            }
            IoamType::IntegrityEdgeToEdge => f.write_str("Integrity-protected Edge-to-Edge"),
            IoamType::Unknown(v) => write!(f, "unknown IOAM type {v}"),
        }
    }
}

/// Whether an IOAM option sits where RFC 9486 puts its type: a finding to
/// report, not a parse failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placement {
    /// Option code and extension header are the specified ones.
    Conforms,
    /// The option code, the header, or both differ from the specified ones.
    Mismatch {
        /// The option code RFC 9486 specifies.
        expected_code: u8,
        /// The header RFC 9486 specifies.
        expected_header: ExtKind,
        /// The option code differs.
        wrong_code: bool,
        /// The header differs.
        wrong_header: bool,
    },
    /// No IPv6 placement is specified for this IOAM type (Incremental
    /// Trace, integrity-protected types, unknown types).
    Unspecified,
}

impl Placement {
    /// Checks an option code and header against the placement of `ty`.
    #[inline]
    pub const fn check(ty: IoamType, option_type: u8, header: ExtKind) -> Self {
        match ty.ipv6_placement() {
            None => Placement::Unspecified,
            Some((code, hdr)) => {
                let wrong_code = code != option_type;
                let wrong_header = !matches!(
                    (hdr, header),
                    (ExtKind::HopByHop, ExtKind::HopByHop)
                        | (ExtKind::DestinationOptions, ExtKind::DestinationOptions)
                );
                if wrong_code || wrong_header {
                    Placement::Mismatch {
                        expected_code: code,
                        expected_header: hdr,
                        wrong_code,
                        wrong_header,
                    }
                } else {
                    Placement::Conforms
                }
            }
        }
    }

    /// Whether the placement is the specified one.
    #[inline]
    pub const fn is_conforming(&self) -> bool {
        matches!(self, Placement::Conforms)
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Placement::Conforms => f.write_str("placement conforms to RFC 9486"),
            Placement::Mismatch {
                expected_code,
                expected_header,
                wrong_code,
                wrong_header,
            } => {
                f.write_str("RFC 9486 places this IOAM type")?;
                if *wrong_code {
                    write!(f, " in option 0x{expected_code:02x}")?;
                }
                if *wrong_header {
                    write!(f, " in a {expected_header} header")?;
                }
                Ok(())
            }
            Placement::Unspecified => {
                f.write_str("RFC 9486 specifies no IPv6 placement for this IOAM type")
            }
        }
    }
}

/// An IOAM option found in a Hop-by-Hop or Destination Options header
/// (RFC 9486 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IoamOption<'a> {
    /// Offset of the option type byte from the start of the extension
    /// header.
    pub offset: usize,
    /// The IPv6 option type: [`OPT_IOAM`] or [`OPT_IOAM_NOCHANGE`].
    pub option_type: u8,
    /// The Reserved byte (0 on send, ignored on receive).
    pub reserved: u8,
    /// The IOAM Option-Type.
    pub ioam_type: IoamType,
    /// The bytes after Reserved and IOAM Option-Type, up to the end of the
    /// option (for a trace: from Namespace-ID on).
    pub body: &'a [u8],
    /// Offset of `body` from the start of the extension header.
    pub body_offset: usize,
}

impl<'a> IoamOption<'a> {
    /// The option whose first four bytes `header` are at `offset` from the
    /// header start, followed by `body`.
    #[inline]
    pub(crate) const fn from_raw(
        offset: usize,
        header: &RawIoamOptionHeader,
        body: &'a [u8],
    ) -> Self {
        IoamOption {
            offset,
            option_type: header.option_type,
            reserved: header.reserved,
            ioam_type: header.ioam_type(),
            body,
            body_offset: offset + IOAM_FRAME_LEN,
        }
    }

    /// The Namespace-ID: the first two bytes of every IOAM option body
    /// (RFC 9197 §4, RFC 9326 §3); `None` for a body shorter than that.
    #[inline]
    pub const fn namespace_id(&self) -> Option<u16> {
        match self.body {
            [a, b, ..] => Some(u16::from_be_bytes([*a, *b])),
            _ => None,
        }
    }

    /// Opt Data Len of the option: 2 + body length.
    #[inline]
    pub const fn data_len(&self) -> usize {
        self.body.len() + 2
    }

    /// Total bytes of the option, type byte included.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        self.body.len() + IOAM_FRAME_LEN
    }

    /// Whether the option type byte is 4n aligned from the header start.
    #[inline]
    pub const fn is_aligned(&self) -> bool {
        self.offset.is_multiple_of(4)
    }

    /// Whether the option code and the header it sits in (`header`) are the
    /// ones RFC 9486 specifies for its IOAM type.
    #[inline]
    pub const fn placement(&self, header: ExtKind) -> Placement {
        Placement::check(self.ioam_type, self.option_type, header)
    }

    /// The same option with offsets moved by `base` (e.g. the header's
    /// offset in the packet, to make them absolute).
    #[inline]
    #[must_use]
    pub const fn with_base(mut self, base: usize) -> Self {
        self.offset += base;
        self.body_offset += base;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_u8_is_canonical() {
        for v in 0..=255u8 {
            let t = IoamType::from_u8(v);
            assert_eq!(t.to_u8(), v);
            // `Unknown` only for values without a name.
            if let IoamType::Unknown(u) = t {
                assert!(!matches!(u, 0..=4 | 64..=67), "{u}");
            }
            assert_eq!(IoamType::from_u8(t.to_u8()), t);
        }
    }
    use zerocopy::IntoBytes;

    #[test]
    fn raw_header_is_the_rfc9486_frame() {
        // Linux trace option: 0x31, Opt Data Len 14, Reserved, type 0.
        let h = RawIoamOptionHeader::new(OPT_IOAM, IoamType::PreallocatedTrace, 12);
        assert_eq!(h.as_bytes(), [0x31, 14, 0, 0]);
        let h = RawIoamOptionHeader::new(OPT_IOAM_NOCHANGE, IoamType::DirectExport, IOAM_BODY_MAX);
        assert_eq!(h.as_bytes(), [0x11, 254, 0, 4]);
        let body = [9u8; 4];
        let raw = RawIoamOptionHeader::read_from_bytes(&[0x11, 6, 0xaa, 67][..]).unwrap();
        assert_eq!(raw.ioam_type(), IoamType::IntegrityEdgeToEdge);
        let o = IoamOption::from_raw(12, &raw, &body);
        assert_eq!((o.offset, o.body_offset, o.reserved), (12, 16, 0xaa));
        assert_eq!((o.option_type, o.data_len(), o.len()), (0x11, 6, 8));
        assert!(RawIoamOptionHeader::ref_from_prefix(&[0x31, 2, 0][..]).is_err());
    }

    #[test]
    fn ioam_type_round_trips_every_byte() {
        for v in 0..=255u8 {
            let t = IoamType::from(v);
            assert_eq!(u8::from(t), v);
            let known = matches!(v, 0..=4 | 64..=67);
            assert_eq!(!matches!(t, IoamType::Unknown(_)), known, "{v}");
        }
    }

    #[test]
    fn placement_table() {
        use ExtKind::*;
        use IoamType::*;
        assert!(Placement::check(PreallocatedTrace, 0x31, HopByHop).is_conforming());
        assert!(Placement::check(ProofOfTransit, 0x31, HopByHop).is_conforming());
        assert!(Placement::check(EdgeToEdge, 0x11, DestinationOptions).is_conforming());
        assert!(Placement::check(DirectExport, 0x11, HopByHop).is_conforming());
        assert_eq!(
            Placement::check(PreallocatedTrace, 0x11, DestinationOptions),
            Placement::Mismatch {
                expected_code: 0x31,
                expected_header: HopByHop,
                wrong_code: true,
                wrong_header: true
            }
        );
        assert_eq!(
            Placement::check(EdgeToEdge, 0x11, HopByHop),
            Placement::Mismatch {
                expected_code: 0x11,
                expected_header: DestinationOptions,
                wrong_code: false,
                wrong_header: true
            }
        );
        assert_eq!(
            Placement::check(DirectExport, 0x31, HopByHop),
            Placement::Mismatch {
                expected_code: 0x11,
                expected_header: HopByHop,
                wrong_code: true,
                wrong_header: false
            }
        );
        assert_eq!(
            Placement::check(IncrementalTrace, 0x31, HopByHop),
            Placement::Unspecified
        );
        assert_eq!(
            Placement::check(Unknown(9), 0x31, HopByHop),
            Placement::Unspecified
        );
    }

    #[test]
    fn default_codes_follow_change_en_route() {
        assert_eq!(IoamType::PreallocatedTrace.default_option_code(), OPT_IOAM);
        assert_eq!(IoamType::IncrementalTrace.default_option_code(), OPT_IOAM);
        assert_eq!(IoamType::ProofOfTransit.default_option_code(), OPT_IOAM);
        assert_eq!(
            IoamType::EdgeToEdge.default_option_code(),
            OPT_IOAM_NOCHANGE
        );
        assert_eq!(
            IoamType::DirectExport.default_option_code(),
            OPT_IOAM_NOCHANGE
        );
        assert!(is_ioam_option_type(0x31) && is_ioam_option_type(0x11));
        assert!(!is_ioam_option_type(0x32));
    }
}
