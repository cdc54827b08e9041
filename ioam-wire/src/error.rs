//! Errors of the wire layer.
//!
//! Every error says which rule was broken, at which byte offset, and for
//! length problems how many bytes were required and how many were there.
//!
//! **Offsets** are relative to the slice handed to the function that
//! reported the error (a packet, an extension header, an options area),
//! as documented on that function. Wrappers that know where that slice
//! starts inside a larger buffer turn them into absolute offsets with
//! [`WireError::with_base`].

use core::fmt;

use crate::ext::ExtKind;

/// The structure a length error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Layer {
    /// The fixed 40-byte IPv6 header (RFC 8200 §3).
    Ipv6Header,
    /// An IPv6 extension header (RFC 8200 §4).
    ExtHeader(ExtKind),
    /// One TLV option inside a Hop-by-Hop or Destination Options header
    /// (RFC 8200 §4.2); the value is the option type byte.
    Option(u8),
    /// The frame of an IOAM option: Reserved and IOAM Option-Type
    /// (RFC 9486 §4).
    IoamOption,
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
}

/// An error from parsing or building IPv6 extension headers and options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// A content rule is broken by the item starting at `offset`.
    Invalid {
        /// The rule.
        rule: Rule,
        /// Offset of the offending item (or field).
        offset: usize,
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
            WireError::Truncated { offset, .. } | WireError::Invalid { offset, .. } => {
                Some(*offset)
            }
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

/// What a length error needed and found, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lengths {
    /// Bytes (or the length) required.
    pub required: usize,
    /// Bytes (or the length) present.
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
            Layer::ExtHeader(ExtKind::HopByHop) => "Hop-by-Hop Options header",
            Layer::ExtHeader(ExtKind::DestinationOptions) => "Destination Options header",
            Layer::ExtHeader(_) => "extension header",
            Layer::Option(_) => "option",
            Layer::IoamOption => "IOAM option",
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
        }
    }
}

impl Diagnostic for WireError {
    fn layer(&self) -> &'static str {
        match *self {
            WireError::Truncated { layer, .. } => layer.name(),
            WireError::Invalid { rule, .. } => rule.layer(),
            WireError::BufferTooSmall { .. } => "output buffer",
            WireError::TooLong { limit, .. } => match limit {
                Limit::ExtHeaderLen => "extension header",
                Limit::OptionDataLen => "option",
                Limit::PayloadLen => "IPv6 header",
            },
        }
    }

    fn rule(&self) -> &'static str {
        match *self {
            WireError::Truncated { .. } => "length within the enclosing bytes",
            WireError::Invalid { rule, .. } => rule.name(),
            WireError::BufferTooSmall { .. } => "output fits the buffer",
            WireError::TooLong { limit, .. } => match limit {
                Limit::ExtHeaderLen => "at most 2048 bytes (RFC 8200 §4.3)",
                Limit::OptionDataLen => "at most 255 option data bytes (RFC 8200 §4.2)",
                Limit::PayloadLen => "Payload Length at most 65535 (RFC 8200 §3)",
            },
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
            | WireError::BufferTooSmall { required, actual } => Lengths::of(required, actual),
            WireError::TooLong { limit, actual } => Lengths::of(limit.max(), actual),
            WireError::Invalid { .. } => None,
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layer::Ipv6Header => f.write_str("IPv6 header"),
            Layer::ExtHeader(kind) => write!(f, "{kind} header"),
            Layer::Option(t) => write!(f, "option 0x{t:02x}"),
            Layer::IoamOption => f.write_str("IOAM option"),
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
            WireError::Invalid { rule, offset } => write!(f, "at offset {offset}: {rule}"),
            WireError::BufferTooSmall { required, actual } => write!(
                f,
                "output buffer too small: {required} bytes required, {actual} available"
            ),
            WireError::TooLong { limit, actual } => write!(
                f,
                "{limit} of {actual} exceeds the maximum of {}",
                limit.max()
            ),
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
        let s = e.to_string();
        assert!(s.contains("Hop-by-Hop"), "{s}");
        assert!(
            s.contains("40") && s.contains("16") && s.contains('9'),
            "{s}"
        );
        let s = WireError::TooLong {
            limit: Limit::PayloadLen,
            actual: 70000,
        }
        .to_string();
        assert!(s.contains("70000") && s.contains("65535"), "{s}");
    }
}
