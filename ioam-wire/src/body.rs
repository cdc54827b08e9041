//! What every IOAM option body with a fixed IOAM Option-Type has in common
//! (RFC 9197 §4, RFC 9326 §3, RFC 9486 §4).
//!
//! An IOAM body value ([`PotRepr`](crate::pot::PotRepr),
//! [`E2eRepr`](crate::e2e::E2eRepr), [`DexRepr`](crate::dex::DexRepr))
//! knows its own length, how to write itself, and how to read itself back
//! from the bytes after the IOAM Option-Type. [`IoamBody`] adds, once for
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
//! let n = OptionsBuilder::new(17, &spec).emit(&mut hdr).map_err(ioam_wire::pot::PotError::from)?;
//! // The same bytes as the one-option header Linux lays out.
//! let mut direct = [0u8; 32];
//! assert_eq!(pot.emit_ext_header(&mut direct, 17)?, n);
//! assert_eq!(hdr[..n], direct[..n]);
//! # Ok::<(), ioam_wire::pot::PotError>(())
//! ```

use crate::build::{ioam_header, ioam_header_len, Body, OptionSpec};
use crate::error::WireError;
use crate::ioam::{IoamOption, IoamType};

/// An IOAM option body whose IOAM Option-Type and IPv6 option code are
/// fixed (RFC 9486 §4: POT and traces use 0x31, E2E and DEX 0x11).
///
/// `'a` is the lifetime of the bytes a parsed value may borrow.
///
/// Implementors provide the body codec (`buffer_len`, `validate`, `emit`,
/// `parse_bytes`); the IPv6 framing methods are provided.
pub trait IoamBody<'a>: Sized {
    /// The IOAM Option-Type of the body.
    const IOAM_TYPE: IoamType;
    /// The IPv6 option code that carries the body (RFC 9486 §4).
    const OPTION_CODE: u8;

    /// Errors of the body codec; framing errors arrive as [`WireError`].
    type Error: From<WireError>;

    /// Bytes [`IoamBody::emit`] writes.
    fn buffer_len(&self) -> usize;

    /// Checks that the value can be written (apart from the size of the
    /// output buffer), as [`IoamBody::emit`] does before writing anything.
    fn validate(&self) -> Result<(), Self::Error>;

    /// Writes the body into the first [`IoamBody::buffer_len`] bytes of
    /// `out` and returns that length. Nothing is written on error.
    fn emit(&self, out: &mut [u8]) -> Result<usize, Self::Error>;

    /// Parses a body: the bytes after the IOAM Reserved and IOAM
    /// Option-Type bytes. Error offsets are relative to `body`.
    fn parse_bytes(body: &'a [u8]) -> Result<Self, Self::Error>;

    /// The error for an option of another IOAM Option-Type (`found`).
    fn wrong_ioam_type(found: u8) -> Self::Error;

    /// Parses the body of an IOAM option found by the options parser
    /// ([`crate::opt::Options`], [`crate::packet::IoamOptions`]); error
    /// offsets are relative to [`IoamOption::body`]. An option of another
    /// IOAM Option-Type is an error ([`IoamBody::wrong_ioam_type`]).
    #[inline]
    fn from_option(option: &IoamOption<'a>) -> Result<Self, Self::Error> {
        if option.ioam_type != Self::IOAM_TYPE {
            return Err(Self::wrong_ioam_type(option.ioam_type.to_u8()));
        }
        Self::parse_bytes(option.body)
    }

    /// Places the body in an IOAM option for
    /// [`OptionsBuilder`](crate::build::OptionsBuilder), with
    /// [`IoamBody::OPTION_CODE`] and [`IoamBody::IOAM_TYPE`]. The body is
    /// written into `scratch` first ([`IoamBody::buffer_len`] bytes, at
    /// most [`IOAM_BODY_MAX`](crate::ioam::IOAM_BODY_MAX)).
    #[inline]
    fn option_spec<'s>(&self, scratch: &'s mut [u8]) -> Result<OptionSpec<'s>, Self::Error> {
        spec_with(scratch, Self::OPTION_CODE, Self::IOAM_TYPE, |b| {
            self.emit(b)
        })
    }

    /// Length of the extension header [`IoamBody::emit_ext_header`] writes.
    #[inline]
    fn ext_header_len(&self) -> Result<usize, Self::Error> {
        Ok(ioam_header_len(self.buffer_len())?)
    }

    /// Writes a whole Hop-by-Hop or Destination Options header holding this
    /// body in one IOAM option, in the Linux layout
    /// `NH HEL | 01 00 | code LEN 00 type | body | padding` (RFC 9486 §4),
    /// and returns its length. Which header it becomes is chosen when it is
    /// inserted ([`insert_ext_header`](crate::build::insert_ext_header));
    /// [`IoamType::ipv6_placement`] names the specified one.
    #[inline]
    fn emit_ext_header(&self, buf: &mut [u8], next_header: u8) -> Result<usize, Self::Error> {
        self.validate()?;
        header_with(
            buf,
            next_header,
            Self::OPTION_CODE,
            Self::IOAM_TYPE,
            self.buffer_len(),
            |b| self.emit(b),
        )
    }
}

/// Writes a body with `emit` into `scratch` and wraps it in an
/// [`OptionSpec::Ioam`].
#[inline]
pub(crate) fn spec_with<'s, E>(
    scratch: &'s mut [u8],
    option_type: u8,
    ioam_type: IoamType,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, E>,
) -> Result<OptionSpec<'s>, E> {
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
pub(crate) fn header_with<E: From<WireError>>(
    buf: &mut [u8],
    next_header: u8,
    option_type: u8,
    ioam_type: IoamType,
    body_len: usize,
    emit: impl FnOnce(&mut [u8]) -> Result<usize, E>,
) -> Result<usize, E> {
    let (n, written) = ioam_header(buf, next_header, option_type, ioam_type, body_len, emit)?;
    written?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dex::DexRepr;
    use crate::e2e::E2eRepr;
    use crate::ext::ExtKind;
    use crate::pot::PotRepr;

    fn consts<'a, B: IoamBody<'a>>() -> (u8, IoamType) {
        (B::OPTION_CODE, B::IOAM_TYPE)
    }

    /// The constants agree with the placement RFC 9486 gives each type.
    #[test]
    fn constants_match_rfc9486_placement() {
        for ((code, ty), header) in [
            (consts::<PotRepr<'_>>(), ExtKind::HopByHop),
            (consts::<E2eRepr<'_>>(), ExtKind::DestinationOptions),
            (consts::<DexRepr>(), ExtKind::HopByHop),
        ] {
            assert_eq!(ty.ipv6_placement(), Some((code, header)), "{ty}");
            assert_eq!(ty.default_option_code(), code, "{ty}");
        }
        assert_eq!(PotRepr::IOAM_TYPE.to_u8(), crate::pot::IOAM_TYPE);
        assert_eq!(E2eRepr::IOAM_TYPE.to_u8(), crate::e2e::IOAM_TYPE);
        assert_eq!(DexRepr::IOAM_TYPE.to_u8(), crate::dex::IOAM_TYPE);
        assert_eq!(PotRepr::OPTION_CODE, crate::pot::IPV6_OPTION_CODE);
        assert_eq!(E2eRepr::OPTION_CODE, crate::e2e::IPV6_OPTION_CODE);
        assert_eq!(DexRepr::OPTION_CODE, crate::dex::IPV6_OPTION_CODE);
    }

    #[test]
    fn from_option_rejects_other_types() {
        let body = [0u8; 20];
        let option = IoamOption {
            offset: 4,
            option_type: 0x31,
            reserved: 0,
            ioam_type: IoamType::EdgeToEdge,
            body: &body,
            body_offset: 8,
        };
        assert_eq!(
            <PotRepr<'_> as IoamBody<'_>>::from_option(&option),
            Err(crate::pot::PotError::WrongIoamType(3))
        );
        assert_eq!(
            <DexRepr as IoamBody<'_>>::from_option(&option),
            Err(crate::dex::DexError::WrongIoamType(3))
        );
    }

    #[test]
    fn framing_errors_come_through_as_wire() {
        let pot = PotRepr::new_type0(1, 2, 3);
        assert_eq!(
            IoamBody::emit_ext_header(&pot, &mut [0u8; 31], 17),
            Err(crate::pot::PotError::Wire(WireError::BufferTooSmall {
                required: 32,
                actual: 31
            }))
        );
        let mut small = [0u8; 19];
        assert_eq!(
            pot.option_spec(&mut small).map(|_| ()),
            Err(crate::pot::PotError::BufferTooSmall {
                required: 20,
                actual: 19
            })
        );
    }
}
