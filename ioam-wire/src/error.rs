//! The one error type of the wire layer, [`WireError`], and the
//! [`Diagnostic`] trait every error of the core crates implements.
//!
//! Every error says which layer it is about, which rule was broken, at
//! which byte offset, and for length problems how many bytes were required
//! and how many were there. The IPv6 framing (headers, options) and every
//! IOAM option body of this crate (POT, E2E, DEX, integrity-protected)
//! report through the same variants; [`Layer`] says which structure,
//! [`Rule`] which content rule, [`Unencodable`] which value a builder
//! refused.
//!
//! **Offsets** are relative to the slice handed to the function that
//! reported the error (a packet, an extension header, an options area, an
//! IOAM body), as documented on that function. Wrappers that know where
//! that slice starts inside a larger buffer turn them into absolute offsets
//! with [`WireError::with_base`]; the packet walks do it for you.

use core::fmt;

use crate::kind::ExtKind;

/// The structure a length error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Layer {
    /// The fixed 40-byte IPv6 header (RFC 8200 §3).
    Ipv6Header,
    /// The IPv6 payload: the Payload Length bytes after the fixed header
    /// (RFC 8200 §3).
    Ipv6Payload,
    /// An IPv6 extension header (RFC 8200 §4).
    ExtHeader(ExtKind),
    /// One TLV option inside a Hop-by-Hop or Destination Options header
    /// (RFC 8200 §4.2); the value is the option type byte.
    Option(u8),
    /// The frame of an IOAM option: Reserved and IOAM Option-Type
    /// (RFC 9486 §4).
    IoamOption,
    /// The 4-byte POT header: Namespace-ID, POT type, flags (RFC 9197 §4.5.1).
    PotHeader,
    /// The 16 bytes of POT type 0 data: PktID, Cumulative (RFC 9197 §4.5.2).
    PotType0Data,
    /// The 4-byte E2E header: Namespace-ID, IOAM-E2E-Type (RFC 9197 §4.6).
    E2eHeader,
    /// The E2E data the IOAM-E2E-Type (the value) announces (RFC 9197 §4.6).
    E2eData(u16),
    /// The 8-byte fixed part of a DEX body (RFC 9326 §3.2).
    DexHeader,
    /// A DEX body with one 4-byte field per Extension-Flag (the value)
    /// (RFC 9326 §3.2).
    DexBody(u8),
    /// A part of an integrity-protected option
    /// (draft-ietf-ippm-ioam-data-integrity).
    Integrity(IntegrityPart),
}

/// A part of an integrity-protected option, for [`Layer::Integrity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum IntegrityPart {
    /// The option-specific header (trace, POT or E2E).
    OptionHeader,
    /// Method-ID, Nonce Length, Reserved.
    IntegrityHeader,
    /// The nonce.
    Nonce,
    /// The integrity check value.
    Icv,
}

impl IntegrityPart {
    /// The name of the part.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            IntegrityPart::OptionHeader => "option-specific header",
            IntegrityPart::IntegrityHeader => {
                "integrity protection header (Method-ID, Nonce Length, Reserved)"
            }
            IntegrityPart::Nonce => "nonce",
            IntegrityPart::Icv => "ICV",
        }
    }
}

impl fmt::Display for IntegrityPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
/// A length field that has an upper limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Limit {
    /// An extension header holds at most `(255 + 1) * 8 = 2048` bytes
    /// (Hdr Ext Len is 8 bits, RFC 8200 §4.3).
    ExtHeaderLen,
    /// An option carries at most 255 data bytes (Opt Data Len is 8 bits,
    /// RFC 8200 §4.2).
    OptionDataLen,
    /// The IPv6 Payload Length is 16 bits (RFC 8200 §3).
    PayloadLen,
}

impl Limit {
    /// The largest value the field allows.
    #[inline]
    pub const fn max(self) -> usize {
        match self {
            Limit::ExtHeaderLen => 2048,
            Limit::OptionDataLen => 255,
            Limit::PayloadLen => 65535,
        }
    }

    /// `actual` if the field can express it, else [`WireError::TooLong`].
    #[inline]
    pub const fn check(self, actual: usize) -> Result<usize, WireError> {
        if actual > self.max() {
            return Err(WireError::TooLong {
                limit: self,
                actual,
            });
        }
        Ok(actual)
    }
}

/// A content rule, named after the specification that states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Rule {
    /// The IPv6 Version field is not 6 (RFC 8200 §3); the value found.
    Ipv6Version(u8),
    /// A Hop-by-Hop Options header that does not immediately follow the
    /// IPv6 header (RFC 8200 §4.1).
    HopByHopNotFirst,
    /// More than 7 consecutive padding bytes (RFC 8200 §4.2 pads to 8n,
    /// RFC 4942 §2.1.9.5; Linux `ip6_parse_tlv` drops them). The value is
    /// the length of the run when it passed 7.
    PadRunTooLong(usize),
    /// A PadN option whose padding bytes are not all zero (RFC 4942
    /// §2.1.9.5; Linux drops it).
    PadNNonZero,
    /// An IOAM option whose type byte is not at a multiple of 4 from the
    /// start of its extension header (RFC 9486 §4, alignment 4n).
    IoamMisaligned,
    /// An IOAM option with Opt Data Len below 2: no room for the Reserved
    /// and IOAM Option-Type bytes (RFC 9486 §4); the value found.
    IoamDataLenTooShort(u8),
    /// Builder: an IOAM option body whose length is not a multiple of 4
    /// (RFC 9486 §4 keeps every IOAM body 4-byte aligned); the length.
    IoamBodyUnaligned(usize),
    /// Builder: an option alignment requirement `xn + y` with `x` not 1, 2,
    /// 4 or 8, or `y >= x` (RFC 8200 §4.2).
    BadAlignment,
    /// Builder: a Pad1 or PadN type given as an ordinary option; padding is
    /// placed by the builder (RFC 8200 §4.2).
    PaddingAsOption,
    /// Header bytes whose Hdr Ext Len does not match their length
    /// (RFC 8200 §4.3): `(HdrExtLen + 1) * 8` must equal the slice length.
    HeaderLenMismatch,
    /// Insertion of an extension header the packet already has and may hold
    /// only once (a second Hop-by-Hop header, RFC 8200 §4.1).
    Duplicate(ExtKind),
    /// Removal of an extension header the packet does not have.
    NotFound(ExtKind),
    /// Insertion or removal of a kind of header this crate does not place
    /// (only Hop-by-Hop and Destination Options are supported).
    UnsupportedKind(ExtKind),
    /// The IPv6 Payload Length is 0 (a jumbogram, RFC 2675): lengths cannot
    /// be updated.
    JumboPayload,
    /// The IPv6 Payload Length claims more bytes than the buffer holds
    /// (RFC 8200 §3); reported by functions that rewrite the packet.
    PayloadLenMismatch,
    /// IOAM-E2E-Type bits 0 and 1 are both set: a 64-bit and a 32-bit
    /// sequence number cannot travel together (RFC 9197 §4.6). The offset
    /// is the IOAM-E2E-Type field's.
    E2eBothSequenceNumbers,
}

/// A value a builder cannot write, because the specification gives it
/// another layout or no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum Unencodable {
    /// Opaque POT data under POT type 0, whose layout is defined
    /// (RFC 9197 §4.5.2).
    PotUnknownUsesType0,
    /// A POT type 0 field set on a body of another POT type (the value).
    PotNotType0(u8),
    /// E2E opaque bytes given without an undefined IOAM-E2E-Type bit, or
    /// undefined bits outside bits 4-15.
    E2eUndefined {
        /// The undefined-bits value given.
        bits: u16,
        /// Length of the opaque bytes given.
        opaque_len: usize,
    },
    /// A DEX IOAM-Trace-Type above 24 bits (RFC 9326 §3.2).
    DexTraceTypeTooWide(u32),
    /// An integrity-protected option whose option-specific header has
    /// another length than its IOAM type needs.
    IntegrityOptionHeaderLength {
        /// Length the IOAM type needs.
        required: usize,
        /// Length given.
        actual: usize,
    },
    /// A nonce longer than 255 bytes, or nonce / ICV lengths that differ
    /// from what the Method-ID and Nonce Length say.
    IntegrityPartsMismatch,
}

/// An error from parsing or building IPv6 extension headers, options and
/// IOAM option bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// `layer`, starting at `offset`, needs `required` bytes from `offset`
    /// but only `actual` are available there (the slice, or the enclosing
    /// header, ends first).
    Truncated {
        /// What was being read.
        layer: Layer,
        /// Where it starts.
        offset: usize,
        /// Bytes it needs, counted from `offset`.
        required: usize,
        /// Bytes available from `offset`.
        actual: usize,
    },
    /// `layer`, starting at `offset`, must be exactly `required` bytes long
    /// and is `actual` bytes long (a POT type 0 data area, the E2E data of
    /// the set IOAM-E2E-Type bits, a DEX body and its Extension-Flags).
    LengthMismatch {
        /// What has the wrong length.
        layer: Layer,
        /// Where it starts.
        offset: usize,
        /// The length it must have.
        required: usize,
        /// The length it has.
        actual: usize,
    },
    /// A content rule is broken by the item starting at `offset`.
    Invalid {
        /// The rule.
        rule: Rule,
        /// Offset of the offending item (or field).
        offset: usize,
    },
    /// A body parser was handed an IOAM option of another IOAM Option-Type.
    WrongIoamType {
        /// The IOAM Option-Type found.
        found: u8,
        /// What the parser reads, e.g. "Proof of Transit (2, RFC 9197 §4.5)".
        expected: &'static str,
    },
    /// The output buffer of a builder is too small.
    BufferTooSmall {
        /// Bytes the output needs.
        required: usize,
        /// Bytes the buffer offers.
        actual: usize,
    },
    /// A length exceeds what its field can express.
    TooLong {
        /// Which field.
        limit: Limit,
        /// The length that was asked for.
        actual: usize,
    },
    /// A builder was given a value it cannot write.
    Unencodable(Unencodable),
}

impl WireError {
    /// Adds `base` to the offset of the error, turning an offset relative
    /// to an inner slice into one relative to an outer buffer in which the
    /// inner slice starts at `base`.
    #[inline]
    #[must_use]
    pub const fn with_base(self, base: usize) -> Self {
        match self {
            WireError::Truncated {
                layer,
                offset,
                required,
                actual,
            } => WireError::Truncated {
                layer,
                offset: offset.saturating_add(base),
                required,
                actual,
            },
            WireError::LengthMismatch {
                layer,
                offset,
                required,
                actual,
            } => WireError::LengthMismatch {
                layer,
                offset: offset.saturating_add(base),
                required,
                actual,
            },
            WireError::Invalid { rule, offset } => WireError::Invalid {
                rule,
                offset: offset.saturating_add(base),
            },
            other => other,
        }
    }

    /// The byte offset the error points at, if it has one.
    #[inline]
    pub const fn offset(&self) -> Option<usize> {
        match self {
            WireError::Truncated { offset, .. }
            | WireError::LengthMismatch { offset, .. }
            | WireError::Invalid { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// The offset, required and actual lengths of a
    /// [`WireError::Truncated`].
    #[cfg(test)]
    pub(crate) const fn truncated(&self) -> Option<(usize, usize, usize)> {
        match *self {
            WireError::Truncated {
                offset,
                required,
                actual,
                ..
            } => Some((offset, required, actual)),
            _ => None,
        }
    }

    /// Shorthand for a [`WireError::Invalid`].
    #[inline]
    pub(crate) const fn invalid(rule: Rule, offset: usize) -> Self {
        WireError::Invalid { rule, offset }
    }
}

/// What every error of the core crates (`ioam-wire`, `ioam-trace`,
/// `clt-context`) tells, through the same methods.
///
/// - [`layer`](Diagnostic::layer): the structure the error is about ("IPv6
///   header", "Hop-by-Hop Options header", "IOAM option", "trace header",
///   "node record", ...);
/// - [`rule`](Diagnostic::rule): the rule that was broken, with the
///   document that states it;
/// - [`offset`](Diagnostic::offset): the byte offset of the offending item.
///   An error from a parser given a whole packet (the IOAM walk of
///   `ioam_trace::IoamPacket`, [`crate::packet::IoamOptions`]) counts from
///   the first byte of the IPv6 header; an error from a parser given a part
///   (an options area, an IOAM body) counts from the start of that part.
///   The library shifts offsets once, with the `with_base` method of each
///   packet-level error type, where it knows where the part sits;
/// - [`hop`](Diagnostic::hop): for an error in a node record, the index of
///   the record in wire order (0 is the record nearest the trace header,
///   written by the last node);
/// - [`lengths`](Diagnostic::lengths): for a length error, the bytes
///   required and the bytes that were there.
///
/// `Display` prints all of it on one line.
///
/// ```
/// use ioam_wire::error::Diagnostic;
/// use ioam_wire::packet::IoamOptions;
/// use ioam_wire::Mode;
///
/// // An IPv6 header cut after 20 bytes.
/// let err = IoamOptions::new(&[0x60; 20], Mode::Strict).unwrap_err();
/// assert_eq!(err.layer(), "IPv6 header");
/// assert_eq!(err.offset(), Some(0));
/// assert_eq!(err.lengths().map(|l| (l.required, l.actual)), Some((40, 20)));
/// assert_eq!(err.hop(), None);
/// ```
pub trait Diagnostic: fmt::Display + fmt::Debug {
    /// The structure the error is about.
    fn layer(&self) -> &'static str;
    /// The rule that was broken, with the document that states it.
    fn rule(&self) -> &'static str;
    /// The byte offset of the offending item, if the error has one.
    fn offset(&self) -> Option<usize>;
    /// The wire-order index of the node record the error is in.
    fn hop(&self) -> Option<usize> {
        None
    }
    /// Bytes required and bytes present, for a length error.
    fn lengths(&self) -> Option<Lengths> {
        None
    }
}

/// What a length error needed and found: bytes, or the unit of the field
/// the error is about (NodeLen counts 4-byte words). For a limit the
/// required value is the largest the field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lengths {
    /// The length required (or allowed at most).
    pub required: usize,
    /// The length present (or asked for).
    pub actual: usize,
}

impl Lengths {
    /// Shorthand for a `Some(Lengths { .. })`.
    #[inline]
    #[must_use]
    pub const fn of(required: usize, actual: usize) -> Option<Self> {
        Some(Lengths { required, actual })
    }
}

impl Layer {
    /// The name of the layer.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Layer::Ipv6Header => "IPv6 header",
            Layer::Ipv6Payload => "IPv6 payload",
            Layer::ExtHeader(ExtKind::HopByHop) => "Hop-by-Hop Options header",
            Layer::ExtHeader(ExtKind::DestinationOptions) => "Destination Options header",
            Layer::ExtHeader(_) => "extension header",
            Layer::Option(_) => "option",
            Layer::IoamOption => "IOAM option",
            Layer::PotHeader => "POT header",
            Layer::PotType0Data => "POT type 0 data",
            Layer::E2eHeader => "E2E header",
            Layer::E2eData(_) => "E2E data",
            Layer::DexHeader => "DEX header",
            Layer::DexBody(_) => "DEX body",
            Layer::Integrity(part) => part.name(),
        }
    }

    /// The rule a length error of this layer breaks.
    const fn length_rule(self) -> &'static str {
        match self {
            Layer::Ipv6Header => "40-byte IPv6 header (RFC 8200 §3)",
            Layer::Ipv6Payload => "Payload Length within the packet (RFC 8200 §3)",
            Layer::ExtHeader(_) => "(Hdr Ext Len + 1) * 8 bytes within the packet (RFC 8200 §4)",
            Layer::Option(_) => "Opt Data Len within the header (RFC 8200 §4.2)",
            Layer::IoamOption => "Reserved and IOAM Option-Type (RFC 9486 §4)",
            Layer::PotHeader => "4-byte POT header (RFC 9197 §4.5.1)",
            Layer::PotType0Data => "POT type 0 data is 16 bytes (RFC 9197 §4.5.2)",
            Layer::E2eHeader => "4-byte E2E header (RFC 9197 §4.6)",
            Layer::E2eData(_) => "data holds exactly the fields of the IOAM-E2E-Type bits (RFC 9197 §4.6)",
            Layer::DexHeader => "8-byte DEX fixed part (RFC 9326 §3.2)",
            Layer::DexBody(_) => "8 bytes + 4 per Extension-Flag (RFC 9326 §3.2)",
            Layer::Integrity(_) => {
                "option header, integrity header, nonce and ICV within the body (draft-ietf-ippm-ioam-data-integrity)"
            }
        }
    }
}

impl Rule {
    /// The layer a rule is about.
    const fn layer(self) -> &'static str {
        match self {
            Rule::Ipv6Version(_) | Rule::JumboPayload | Rule::PayloadLenMismatch => "IPv6 header",
            Rule::HopByHopNotFirst
            | Rule::HeaderLenMismatch
            | Rule::Duplicate(_)
            | Rule::NotFound(_)
            | Rule::UnsupportedKind(_) => "extension header",
            Rule::PadRunTooLong(_)
            | Rule::PadNNonZero
            | Rule::BadAlignment
            | Rule::PaddingAsOption => "option",
            Rule::IoamMisaligned | Rule::IoamDataLenTooShort(_) | Rule::IoamBodyUnaligned(_) => {
                "IOAM option"
            }
            Rule::E2eBothSequenceNumbers => "E2E header",
        }
    }

    /// The rule, with the document that states it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Rule::Ipv6Version(_) => "IPv6 version must be 6 (RFC 8200 §3)",
            Rule::HopByHopNotFirst => {
                "Hop-by-Hop header must follow the IPv6 header (RFC 8200 §4.1)"
            }
            Rule::PadRunTooLong(_) => "at most 7 consecutive padding bytes (RFC 4942 §2.1.9.5)",
            Rule::PadNNonZero => "PadN payload must be zero (RFC 4942 §2.1.9.5)",
            Rule::IoamMisaligned => "IOAM option aligned 4n (RFC 9486 §4)",
            Rule::IoamDataLenTooShort(_) => "IOAM Opt Data Len at least 2 (RFC 9486 §4)",
            Rule::IoamBodyUnaligned(_) => "IOAM option body a multiple of 4 (RFC 9486 §4)",
            Rule::BadAlignment => "option alignment xn+y (RFC 8200 §4.2)",
            Rule::PaddingAsOption => "padding is placed by the builder",
            Rule::HeaderLenMismatch => "header length (Hdr Ext Len + 1) * 8 (RFC 8200 §4.3)",
            Rule::Duplicate(_) => "at most one header of this kind (RFC 8200 §4.1)",
            Rule::NotFound(_) => "header to remove must be present",
            Rule::UnsupportedKind(_) => "only Hop-by-Hop and Destination Options are placed",
            Rule::JumboPayload => "Payload Length 0 is a jumbogram (RFC 2675)",
            Rule::PayloadLenMismatch => "Payload Length within the packet (RFC 8200 §3)",
            Rule::E2eBothSequenceNumbers => {
                "IOAM-E2E-Type bits 0 and 1 exclude each other (RFC 9197 §4.6)"
            }
        }
    }
}

impl Unencodable {
    /// The rule the value breaks.
    const fn rule(self) -> &'static str {
        match self {
            Unencodable::PotUnknownUsesType0 => "POT type 0 has a defined layout (RFC 9197 §4.5.2)",
            Unencodable::PotNotType0(_) => "type 0 fields need POT type 0 (RFC 9197 §4.5.2)",
            Unencodable::E2eUndefined { .. } => "E2E opaque data only with undefined bits 4-15",
            Unencodable::DexTraceTypeTooWide(_) => "IOAM-Trace-Type is 24 bits (RFC 9326 §3.2)",
            Unencodable::IntegrityOptionHeaderLength { .. } => {
                "option header length of the IOAM type (draft-ietf-ippm-ioam-data-integrity)"
            }
            Unencodable::IntegrityPartsMismatch => "nonce and ICV lengths match the method",
        }
    }

    /// The layer the value belongs to.
    const fn layer(self) -> &'static str {
        match self {
            Unencodable::PotUnknownUsesType0 | Unencodable::PotNotType0(_) => "POT option",
            Unencodable::E2eUndefined { .. } => "E2E option",
            Unencodable::DexTraceTypeTooWide(_) => "DEX option",
            Unencodable::IntegrityOptionHeaderLength { .. }
            | Unencodable::IntegrityPartsMismatch => "integrity-protected option",
        }
    }
}

impl Diagnostic for WireError {
    fn layer(&self) -> &'static str {
        match *self {
            WireError::Truncated { layer, .. } | WireError::LengthMismatch { layer, .. } => {
                layer.name()
            }
            WireError::Invalid { rule, .. } => rule.layer(),
            WireError::WrongIoamType { .. } => "IOAM option",
            WireError::BufferTooSmall { .. } => "output buffer",
            WireError::TooLong { limit, .. } => match limit {
                Limit::ExtHeaderLen => "extension header",
                Limit::OptionDataLen => "option",
                Limit::PayloadLen => "IPv6 header",
            },
            WireError::Unencodable(u) => u.layer(),
        }
    }

    fn rule(&self) -> &'static str {
        match *self {
            WireError::Truncated { layer, .. } | WireError::LengthMismatch { layer, .. } => {
                layer.length_rule()
            }
            WireError::Invalid { rule, .. } => rule.name(),
            WireError::WrongIoamType { .. } => "the body parser of the option's IOAM Option-Type",
            WireError::BufferTooSmall { .. } => "output fits the buffer",
            WireError::TooLong { limit, .. } => match limit {
                Limit::ExtHeaderLen => "at most 2048 bytes (RFC 8200 §4.3)",
                Limit::OptionDataLen => "at most 255 option data bytes (RFC 8200 §4.2)",
                Limit::PayloadLen => "Payload Length at most 65535 (RFC 8200 §3)",
            },
            WireError::Unencodable(u) => u.rule(),
        }
    }

    fn offset(&self) -> Option<usize> {
        WireError::offset(self)
    }

    fn lengths(&self) -> Option<Lengths> {
        match *self {
            WireError::Truncated {
                required, actual, ..
            }
            | WireError::LengthMismatch {
                required, actual, ..
            }
            | WireError::BufferTooSmall { required, actual }
            | WireError::Unencodable(Unencodable::IntegrityOptionHeaderLength {
                required,
                actual,
            }) => Lengths::of(required, actual),
            WireError::TooLong { limit, actual } => Lengths::of(limit.max(), actual),
            _ => None,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::ExtHeader(kind) => write!(f, "{kind} header"),
            Layer::Option(t) => write!(f, "option 0x{t:02x}"),
            Layer::E2eData(t) => write!(f, "E2E data of IOAM-E2E-Type {t:#06x}"),
            Layer::DexBody(x) => write!(f, "DEX body of Extension-Flags {x:#04x}"),
            Layer::Integrity(part) => write!(f, "integrity-protected option {part}"),
            other => f.write_str(other.name()),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::ExtHeaderLen => f.write_str("extension header length"),
            Limit::OptionDataLen => f.write_str("option data length"),
            Limit::PayloadLen => f.write_str("IPv6 payload length"),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Ipv6Version(v) => write!(f, "IP version is {v}, expected 6 (RFC 8200 §3)"),
            Rule::HopByHopNotFirst => f.write_str(
                "Hop-by-Hop Options header must immediately follow the IPv6 header (RFC 8200 §4.1)",
            ),
            Rule::PadRunTooLong(n) => write!(
                f,
                "{n} consecutive padding bytes, at most 7 are allowed (RFC 4942 §2.1.9.5)"
            ),
            Rule::PadNNonZero => {
                f.write_str("PadN padding bytes must be zero (RFC 4942 §2.1.9.5)")
            }
            Rule::IoamMisaligned => f.write_str(
                "IOAM option must start at a multiple of 4 from the header start (RFC 9486 §4)",
            ),
            Rule::IoamDataLenTooShort(n) => write!(
                f,
                "IOAM option data length {n} leaves no room for Reserved and IOAM Option-Type (RFC 9486 §4)"
            ),
            Rule::IoamBodyUnaligned(n) => write!(
                f,
                "IOAM option body of {n} bytes is not a multiple of 4 (RFC 9486 §4)"
            ),
            Rule::BadAlignment => f.write_str(
                "option alignment xn+y needs x in {1, 2, 4, 8} and y < x (RFC 8200 §4.2)",
            ),
            Rule::PaddingAsOption => {
                f.write_str("Pad1/PadN are placed by the builder, not given as options")
            }
            Rule::HeaderLenMismatch => f.write_str(
                "header length is not (Hdr Ext Len + 1) * 8 bytes (RFC 8200 §4.3)",
            ),
            Rule::Duplicate(kind) => write!(f, "packet already has a {kind} header"),
            Rule::NotFound(kind) => write!(f, "packet has no {kind} header"),
            Rule::UnsupportedKind(kind) => {
                write!(f, "cannot insert or remove a {kind} header")
            }
            Rule::JumboPayload => {
                f.write_str("IPv6 payload length 0 (jumbogram) cannot be updated (RFC 2675)")
            }
            Rule::PayloadLenMismatch => {
                f.write_str("IPv6 payload length runs past the end of the packet (RFC 8200 §3)")
            }
            Rule::E2eBothSequenceNumbers => f.write_str(
                "IOAM-E2E-Type sets both bit 0 (64-bit sequence number) and bit 1 (32-bit sequence number); they are mutually exclusive (RFC 9197 §4.6)",
            ),
        }
    }
}

impl fmt::Display for Unencodable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Unencodable::PotUnknownUsesType0 => f.write_str(
                "opaque POT data cannot use POT type 0, whose layout is defined (RFC 9197 §4.5.2)",
            ),
            Unencodable::PotNotType0(t) => write!(
                f,
                "POT type 0 field written to a body of POT type {t} (RFC 9197 §4.5.2)"
            ),
            Unencodable::E2eUndefined { bits, opaque_len } => write!(
                f,
                "E2E opaque data of {opaque_len} bytes with undefined bits {bits:#06x}: opaque data needs an undefined bit, and only bits 4-15 are undefined (RFC 9197 §4.6)"
            ),
            Unencodable::DexTraceTypeTooWide(t) => write!(
                f,
                "DEX IOAM-Trace-Type {t:#x} does not fit in 24 bits (RFC 9326 §3.2)"
            ),
            Unencodable::IntegrityOptionHeaderLength { required, actual } => write!(
                f,
                "option-specific header must be {required} bytes for this IOAM type, {actual} given"
            ),
            Unencodable::IntegrityPartsMismatch => f.write_str(
                "nonce or ICV length does not match the Method-ID and Nonce Length (at most 255 nonce bytes; method 1: 12-byte nonce, 16-byte ICV)",
            ),
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated {
                layer,
                offset,
                required,
                actual,
            } => write!(
                f,
                "{layer} at offset {offset} needs {required} bytes but only {actual} are available"
            ),
            WireError::LengthMismatch {
                layer: Layer::DexBody(flags),
                offset,
                required,
                actual,
            } => write!(
                f,
                "DEX body is {actual} bytes but Extension-Flags {flags:#04x} at offset {offset} require 8 + 4 * {} = {required} (RFC 9326 §3.2: one 4-byte field per set flag)",
                flags.count_ones()
            ),
            WireError::LengthMismatch {
                layer,
                offset,
                required,
                actual,
            } => write!(
                f,
                "{layer} at offset {offset} must be {required} bytes, found {actual} ({})",
                layer.length_rule()
            ),
            WireError::Invalid { rule, offset } => write!(f, "at offset {offset}: {rule}"),
            WireError::WrongIoamType { found, expected } => {
                write!(f, "IOAM Option-Type {found} is not {expected}")
            }
            WireError::BufferTooSmall { required, actual } => write!(
                f,
                "output buffer too small: {required} bytes required, {actual} available"
            ),
            WireError::TooLong { limit, actual } => write!(
                f,
                "{limit} of {actual} exceeds the maximum of {}",
                limit.max()
            ),
            WireError::Unencodable(u) => write!(f, "{u}"),
        }
    }
}

impl core::error::Error for WireError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_base_shifts_offsets_only() {
        let e = WireError::Truncated {
            layer: Layer::Ipv6Header,
            offset: 3,
            required: 40,
            actual: 7,
        };
        assert_eq!(e.with_base(100).offset(), Some(103));
        let e = WireError::invalid(Rule::PadNNonZero, 5).with_base(40);
        assert_eq!(
            e,
            WireError::Invalid {
                rule: Rule::PadNNonZero,
                offset: 45
            }
        );
        let e = WireError::BufferTooSmall {
            required: 8,
            actual: 4,
        };
        assert_eq!(e.with_base(9), e);
        assert_eq!(e.offset(), None);
    }

    #[test]
    fn limits_pass_up_to_their_maximum() {
        assert_eq!(Limit::OptionDataLen.check(255), Ok(255));
        assert_eq!(
            Limit::OptionDataLen.check(256),
            Err(WireError::TooLong {
                limit: Limit::OptionDataLen,
                actual: 256
            })
        );
        assert_eq!(Limit::ExtHeaderLen.check(2048), Ok(2048));
        assert!(Limit::ExtHeaderLen.check(2049).is_err());
        assert_eq!(Limit::PayloadLen.check(65535), Ok(65535));
        assert!(Limit::PayloadLen.check(65536).is_err());
    }

    #[test]
    fn display_names_rule_offset_and_lengths() {
        extern crate alloc;
        use alloc::string::ToString;
        let e = WireError::Truncated {
            layer: Layer::ExtHeader(ExtKind::HopByHop),
            offset: 40,
            required: 16,
            actual: 9,
        };
        assert_eq!(
            e.to_string(),
            "Hop-by-Hop Options header at offset 40 needs 16 bytes but only 9 are available"
        );
        assert_eq!(e.layer(), "Hop-by-Hop Options header");
        assert_eq!(e.lengths(), Lengths::of(16, 9));
        let e = WireError::TooLong {
            limit: Limit::PayloadLen,
            actual: 70000,
        };
        assert_eq!(
            e.to_string(),
            "IPv6 payload length of 70000 exceeds the maximum of 65535"
        );
        assert_eq!(e.lengths(), Lengths::of(65535, 70000));
        assert_eq!(e.offset(), None);
        let e = WireError::invalid(Rule::PadNNonZero, 44);
        assert_eq!(
            e.to_string(),
            "at offset 44: PadN padding bytes must be zero (RFC 4942 §2.1.9.5)"
        );
        assert_eq!(
            (e.layer(), e.offset(), e.lengths()),
            ("option", Some(44), None)
        );
    }
}
