//! What every IOAM option body of this crate has in common
//! (RFC 9197 §4, RFC 9326 §3, RFC 9486 §4, draft-ietf-ippm-ioam-data-integrity).
//!
//! An IOAM body value ([`PotRepr`](crate::pot::PotRepr),
//! [`E2eRepr`](crate::e2e::E2eRepr), [`DexRepr`](crate::dex::DexRepr),
//! [`IntegrityRepr`](crate::integrity::IntegrityRepr)) knows its IOAM
//! Option-Type, its own length, how to write itself, and how to read itself
//! back from the bytes after the IOAM Option-Type. [`IoamBody`] adds, once for
//! all of them, the framing that RFC 9486 puts around a body in IPv6:
//! recognising the body in an option found by the parser
//! ([`IoamBody::from_option`]), handing it to an
//! [`OptionsBuilder`](crate::build::OptionsBuilder)
//! ([`IoamBody::option_spec`]), and writing a whole extension header that
//! holds it ([`IoamBody::emit_ext_header`]).
//!
//! ```
//! use ioam_wire::body::IoamBody;
//! use ioam_wire::build::{OptionSpec, OptionsBuilder};
//! use ioam_wire::pot::PotRepr;
//!
//! let pot = PotRepr::new_type0(7, 0x1234, 0x99);
//! let mut scratch = [0u8; 20];
//! let spec: [OptionSpec<'_>; 1] = [pot.option_spec(&mut scratch)?];
//! let mut hdr = [0u8; 32];
//! let n = OptionsBuilder::new(17, &spec).emit(&mut hdr)?;
//! // The same bytes as the one-option header Linux lays out.
//! let mut direct = [0u8; 32];
//! assert_eq!(pot.emit_ext_header(&mut direct, 17)?, n);
//! assert_eq!(hdr[..n], direct[..n]);
//!
//! // Read back through the same trait, whatever the body type.
//! let found = PotRepr::decode(pot.ioam_type(), &scratch)?;
//! assert_eq!(found, pot);
//! # Ok::<(), ioam_wire::WireError>(())
//! ```

use crate::build::{ioam_header, ioam_header_len, Body, OptionSpec};
use crate::error::WireError;
use crate::ioam::{IoamOption, IoamType};

/// An IOAM option body of this crate: Proof of Transit, Edge-to-Edge,
/// Direct Export and the integrity-protected options (traces live in
/// `ioam-trace`).
///
/// `'a` is the lifetime of the bytes a parsed value may borrow.
///
/// Implementors provide the codec ([`decode`](IoamBody::decode),
/// [`ioam_type`](IoamBody::ioam_type), [`buffer_len`](IoamBody::buffer_len),
/// [`validate`](IoamBody::validate), [`emit`](IoamBody::emit)); the IPv6
/// framing methods are provided once for all of them. Errors of both are
/// [`WireError`]s.
///
/// # Adding an IOAM Option-Type
///
/// 1. A module next to `pot.rs` with the value type (`XyzRepr`), its
///    parser and writer, a `Layer` variant in [`crate::error`] for each
///    part a length error can name, and `impl IoamBody for XyzRepr`.
/// 2. The IPv6 placement of the type in
///    [`IoamType::ipv6_placement`](crate::ioam::IoamType::ipv6_placement).
/// 3. One variant and one match arm in `ioam_trace::OptionBody::decode`,
///    the dispatch every packet walk uses.
pub trait IoamBody<'a>: Sized {
    /// Parses the body of an IOAM option of IOAM Option-Type `ioam_type`
    /// (the bytes after its Reserved and IOAM Option-Type bytes). Error
    /// offsets are relative to `body`. An IOAM type this body type does not
    /// read is [`WireError::WrongIoamType`].
    ///
    /// # Errors
    /// The body's own length and content rules.
    fn decode(ioam_type: IoamType, body: &'a [u8]) -> Result<Self, WireError>;

    /// The IOAM Option-Type of the value.
    fn ioam_type(&self) -> IoamType;

    /// Bytes [`IoamBody::emit`] writes.
    fn buffer_len(&self) -> usize;

    /// Checks that the value can be written (apart from the size of the
    /// output buffer), as [`IoamBody::emit`] does before writing anything.
    ///
    /// # Errors
    /// [`WireError::Unencodable`] naming the value.
    fn validate(&self) -> Result<(), WireError>;

    /// Writes the body into the first [`IoamBody::buffer_len`] bytes of
    /// `out` and returns that length. Nothing is written on error.
    ///
    /// # Errors
    /// As [`IoamBody::validate`], and [`WireError::BufferTooSmall`].
    fn emit(&self, out: &mut [u8]) -> Result<usize, WireError>;

    /// The IPv6 option code that carries the body (RFC 9486 §4: 0x31 for
    /// traces and POT, 0x11 for E2E and DEX; an integrity-protected type
    /// uses the code of its unprotected sibling).
    #[inline]
    fn option_code(&self) -> u8 {
        self.ioam_type().default_option_code()
    }

    /// Parses the body of an IOAM option found by the options parser
    /// ([`crate::opt::Options`], [`crate::packet::IoamOptions`]); error
    /// offsets are relative to [`IoamOption::body`].
    ///
    /// # Errors
    /// As [`IoamBody::decode`].
    #[inline]
    fn from_option(option: &IoamOption<'a>) -> Result<Self, WireError> {
        Self::decode(option.ioam_type, option.body)
    }

    /// Places the body in an IOAM option for
    /// [`OptionsBuilder`](crate::build::OptionsBuilder), with
    /// [`IoamBody::option_code`] and [`IoamBody::ioam_type`]. The body is
    /// written into `scratch` first ([`IoamBody::buffer_len`] bytes, at
    /// most [`IOAM_BODY_MAX`](crate::ioam::IOAM_BODY_MAX)).
    ///
    /// # Errors
    /// As [`IoamBody::emit`] into `scratch`.
    #[inline]
    fn option_spec<'s>(&self, scratch: &'s mut [u8]) -> Result<OptionSpec<'s>, WireError> {
        spec_with(scratch, self.option_code(), self.ioam_type(), |b| {
            self.emit(b)
        })
    }

    /// Length of the extension header [`IoamBody::emit_ext_header`] writes.
    ///
    /// # Errors
    /// [`WireError::TooLong`] for a body an option cannot hold.
    #[inline]
    fn ext_header_len(&self) -> Result<usize, WireError> {
        ioam_header_len(self.buffer_len())
    }

    /// Writes a whole Hop-by-Hop or Destination Options header holding this
    /// body in one IOAM option, in the Linux layout
    /// `NH HEL | 01 00 | code LEN 00 type | body | padding` (RFC 9486 §4),
    /// and returns its length. Which header it becomes is chosen when it is
    /// inserted ([`insert_ext_header`](crate::build::insert_ext_header));
    /// [`IoamType::ipv6_placement`] names the specified one.
    ///
    /// # Errors
    /// As [`IoamBody::emit`], and the framing errors of
    /// [`ioam_header`].
    #[inline]
    fn emit_ext_header(&self, buf: &mut [u8], next_header: u8) -> Result<usize, WireError> {
        self.validate()?;
        header_with(
            buf,
            next_header,
            self.option_code(),
            self.ioam_type(),
            self.buffer_len(),
            |b| self.emit(b),
        )
    }
}

/// `Ok` when `found` is `expected`, else the [`WireError::WrongIoamType`]
/// naming what the parser reads.
#[inline]
pub(crate) const fn expect_type(
    found: IoamType,
    expected: IoamType,
    name: &'static str,
) -> Result<(), WireError> {
    if found.to_u8() == expected.to_u8() {
        Ok(())
    } else {
        Err(WireError::WrongIoamType {
            found: found.to_u8(),
            expected: name,
        })
    }
}

/// Writes a body with `emit` into `scratch` and wraps it in an
/// [`OptionSpec::Ioam`].
#[inline]
fn spec_with<'s>(
    scratch: &'s mut [u8],
    option_type: u8,
    ioam_type: IoamType,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, WireError>,
) -> Result<OptionSpec<'s>, WireError> {
    let n = emit(&mut *scratch)?;
    Ok(OptionSpec::Ioam {
        option_type,
        ioam_type,
        body: Body::Bytes(&scratch[..n]),
    })
}

/// Writes an extension header holding one IOAM option whose `body_len`
/// body bytes `emit` writes; see [`ioam_header`].
#[inline]
fn header_with(
    buf: &mut [u8],
    next_header: u8,
    option_type: u8,
    ioam_type: IoamType,
    body_len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, WireError>,
) -> Result<usize, WireError> {
    let (n, written) = ioam_header(buf, next_header, option_type, ioam_type, body_len, emit)?;
    written?;
    Ok(n)
}
