//! The kind of an IPv6 extension header: a leaf that the error and the
//! parsing modules both name.

use core::fmt;

use crate::proto;

/// The kind of an IPv6 extension header (RFC 8200 §4, IANA "IPv6
/// Extension Header Types").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum ExtKind {
    /// Hop-by-Hop Options (0, RFC 8200 §4.3).
    HopByHop,
    /// Destination Options (60, RFC 8200 §4.6).
    DestinationOptions,
    /// Routing (43, RFC 8200 §4.4).
    Routing,
    /// Fragment (44, RFC 8200 §4.5); always 8 bytes.
    Fragment,
    /// Authentication Header (51, RFC 4302); length in 4-byte units + 2.
    Authentication,
    /// Encapsulating Security Payload (50, RFC 4303); opaque, ends the walk.
    Esp,
    /// No Next Header (59, RFC 8200 §4.7); ends the walk.
    NoNextHeader,
    /// Mobility (135, RFC 6275).
    Mobility,
    /// Host Identity Protocol (139, RFC 7401).
    Hip,
    /// Shim6 (140, RFC 5533).
    Shim6,
    /// Experimentation and testing (253, 254, RFC 3692); assumed to use the
    /// common `(Hdr Ext Len + 1) * 8` format of RFC 8200 §4.8.
    Experimental(u8),
}

impl ExtKind {
    /// The kind for an IPv6 Next Header value, `None` for upper-layer
    /// protocols.
    #[inline]
    pub const fn from_protocol(p: u8) -> Option<Self> {
        Some(match p {
            proto::HOP_BY_HOP => ExtKind::HopByHop,
            proto::DEST_OPTS => ExtKind::DestinationOptions,
            proto::ROUTING => ExtKind::Routing,
            proto::FRAGMENT => ExtKind::Fragment,
            proto::AH => ExtKind::Authentication,
            proto::ESP => ExtKind::Esp,
            proto::NO_NEXT => ExtKind::NoNextHeader,
            proto::MOBILITY => ExtKind::Mobility,
            proto::HIP => ExtKind::Hip,
            proto::SHIM6 => ExtKind::Shim6,
            253 | 254 => ExtKind::Experimental(p),
            _ => return None,
        })
    }

    /// The IPv6 Next Header value of this kind.
    #[inline]
    pub const fn protocol(self) -> u8 {
        match self {
            ExtKind::HopByHop => proto::HOP_BY_HOP,
            ExtKind::DestinationOptions => proto::DEST_OPTS,
            ExtKind::Routing => proto::ROUTING,
            ExtKind::Fragment => proto::FRAGMENT,
            ExtKind::Authentication => proto::AH,
            ExtKind::Esp => proto::ESP,
            ExtKind::NoNextHeader => proto::NO_NEXT,
            ExtKind::Mobility => proto::MOBILITY,
            ExtKind::Hip => proto::HIP,
            ExtKind::Shim6 => proto::SHIM6,
            ExtKind::Experimental(p) => p,
        }
    }

    /// Whether the header carries TLV options (Hop-by-Hop or Destination
    /// Options, RFC 8200 §4.2).
    #[inline]
    pub const fn has_options(self) -> bool {
        matches!(self, ExtKind::HopByHop | ExtKind::DestinationOptions)
    }

    /// Whether the walk stops at this kind (ESP, No Next Header).
    #[inline]
    pub const fn ends_walk(self) -> bool {
        matches!(self, ExtKind::Esp | ExtKind::NoNextHeader)
    }
}

impl fmt::Display for ExtKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtKind::HopByHop => f.write_str("Hop-by-Hop Options"),
            ExtKind::DestinationOptions => f.write_str("Destination Options"),
            ExtKind::Routing => f.write_str("Routing"),
            ExtKind::Fragment => f.write_str("Fragment"),
            ExtKind::Authentication => f.write_str("Authentication"),
            ExtKind::Esp => f.write_str("ESP"),
            ExtKind::NoNextHeader => f.write_str("No Next Header"),
            ExtKind::Mobility => f.write_str("Mobility"),
            ExtKind::Hip => f.write_str("HIP"),
            ExtKind::Shim6 => f.write_str("Shim6"),
            ExtKind::Experimental(p) => write!(f, "experimental ({p})"),
        }
    }
}
