#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
//! # The map, in data-flow order
//!
//! | job | use |
//! |---|---|
//! | the fixed IPv6 header | [`ipv6::Ipv6Header`] (view), [`ipv6::Ipv6HeaderRepr`] (value) |
//! | walk the extension-header chain | [`ext::ExtHeaders`] → [`ext::ExtHeader`], then [`ext::ChainEnd`] |
//! | the Hop-by-Hop header of a packet | [`packet::hop_by_hop`] |
//! | the options of one header | [`opt::Options`] → [`opt::Opt`] (IOAM, padding, unknown kept as bytes) |
//! | every IOAM option of a packet | [`packet::IoamOptions`] → [`packet::PacketIoam`]; fast path [`packet::first_hbh_ioam`] |
//! | the IOAM option frame and its placement finding | [`ioam::IoamOption`], [`ioam::IoamType`], [`ioam::Placement`] |
//! | read or write a body | the trait [`body::IoamBody`] (`decode`, `emit`, `emit_ext_header`) on [`pot::PotRepr`], [`e2e::E2eRepr`], [`dex::DexRepr`], [`integrity::IntegrityRepr`] |
//! | build an options area | [`build::OptionsBuilder`] with [`build::OptionSpec`]s; one IOAM option in the Linux layout: [`build::ioam_header`] |
//! | edit a packet | [`build::insert_ext_header`], [`build::remove_ext_header`], [`build::grow_option`], [`build::write_padding`] |
//! | how strict | [`Mode`]: one enum for every parser of the three core crates |
//! | what went wrong | [`WireError`], and the [`error::Diagnostic`] trait every error of the three crates implements |
//!
//! **Naming**, as in smoltcp: `Raw*` is the zerocopy layout of a fixed
//! header; a view (`Ipv6Header`, `Pot`, `E2e`, `Dex`) wraps a buffer with
//! `new_unchecked`, `check_len` and `new_checked` (the two together) and
//! reads fields in place; a `*Repr` is the parsed value, with `parse` (from
//! a checked view), `parse_bytes`, `buffer_len` and `emit`.
//! `use ioam_wire::prelude::*` brings the traits in.
//!
//! Nothing allocates; malformed input yields a [`WireError`] naming the
//! layer, the rule, the offset and the lengths involved, never a panic.
//! Offsets count from the start of the slice a function was given (the
//! packet for the packet walks) and are shifted once, inside the library,
//! where a part's position is known ([`WireError::with_base`]).
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

// The `arbitrary` derives refer to `::std`; fuzz targets always have it.
#[cfg(feature = "arbitrary")]
extern crate std;

pub mod body;
pub mod build;
pub mod error;
pub mod ext;
pub mod ioam;
pub mod ipv6;
mod kind;
pub mod mode;
pub mod opt;
pub mod packet;

pub mod dex;
pub mod e2e;
pub mod integrity;
pub mod pot;

pub use error::WireError;
pub use mode::Mode;

/// The traits whose methods the types of this crate are used through:
/// `use ioam_wire::prelude::*;`.
pub mod prelude {
    pub use crate::body::IoamBody;
    pub use crate::error::Diagnostic;
}

/// IPv6 Next Header values (IANA "Assigned Internet Protocol Numbers").
pub mod proto {
    /// Hop-by-Hop Options (RFC 8200 §4.3).
    pub const HOP_BY_HOP: u8 = 0;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 encapsulation (RFC 2473).
    pub const IPV6: u8 = 41;
    /// Routing header (RFC 8200 §4.4).
    pub const ROUTING: u8 = 43;
    /// Fragment header (RFC 8200 §4.5).
    pub const FRAGMENT: u8 = 44;
    /// Encapsulating Security Payload (RFC 4303).
    pub const ESP: u8 = 50;
    /// Authentication Header (RFC 4302).
    pub const AH: u8 = 51;
    /// ICMPv6 (RFC 4443).
    pub const ICMPV6: u8 = 58;
    /// No Next Header (RFC 8200 §4.7).
    pub const NO_NEXT: u8 = 59;
    /// Destination Options (RFC 8200 §4.6).
    pub const DEST_OPTS: u8 = 60;
    /// Mobility header (RFC 6275).
    pub const MOBILITY: u8 = 135;
    /// Host Identity Protocol (RFC 7401).
    pub const HIP: u8 = 139;
    /// Shim6 (RFC 5533).
    pub const SHIM6: u8 = 140;
}
