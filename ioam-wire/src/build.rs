//! Builders: options areas with IOAM options, and inserting or removing an
//! extension header in a packet buffer.
//!
//! Every builder computes the size first ([`OptionsBuilder::buffer_len`])
//! and then writes into a caller-provided `&mut [u8]`; nothing allocates,
//! and no byte outside the area being written is touched.
//!
//! With one IOAM trace option the output is exactly what Linux builds for
//! its `ioam6` encapsulation (RFC 9486 §4):
//! ```text
//! NH HEL | 01 00 | 31 LEN 00 00 | trace header (8) | data | [01 02 00 00]
//! ```
//! ```
//! use ioam_wire::build::ioam_header;
//! use ioam_wire::ioam::{IoamType, OPT_IOAM};
//!
//! let mut buf = [0xff; 64];
//! // A Hop-by-Hop header (UDP follows) with a 12-byte trace body.
//! let (len, ()) = ioam_header(&mut buf, 17, OPT_IOAM, IoamType::PreallocatedTrace, 12, |body| {
//!     body[..8].copy_from_slice(&[0x00, 0x7b, 0x01, 0x01, 0x80, 0x00, 0x00, 0x00]);
//! })?;
//! assert_eq!(len, 24);
//! assert_eq!(buf[..8], [0x11, 0x02, 0x01, 0x00, 0x31, 0x0e, 0x00, 0x00]);
//! assert_eq!(buf[20..24], [0x01, 0x02, 0x00, 0x00]);
//! # Ok::<(), ioam_wire::error::WireError>(())
//! ```

use core::fmt;

use crate::error::{Layer, Limit, Rule, WireError};
use crate::ext::{ExtHeaders, ExtKind};
use crate::ioam::{IoamType, IOAM_FRAME_LEN};
use crate::ipv6::{Ipv6Header, IPV6_HEADER_LEN, NEXT_HEADER_OFFSET};
use crate::opt::{OPT_PAD1, OPT_PADN};

/// An option alignment requirement `xn + y` (RFC 8200 §4.2): the option
/// type byte must sit at an offset `o` from the header start with
/// `o % x == y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Align {
    /// The multiple: 1, 2, 4 or 8.
    pub x: u8,
    /// The offset within the multiple, below `x`.
    pub y: u8,
}

impl Align {
    /// No requirement.
    pub const NONE: Align = Align { x: 1, y: 0 };
    /// `4n`: the IOAM requirement (RFC 9486 §4).
    pub const IOAM: Align = Align { x: 4, y: 0 };

    #[inline]
    const fn is_valid(self) -> bool {
        matches!(self.x, 1 | 2 | 4 | 8) && self.y < self.x
    }

    /// Padding bytes needed before an option at `offset`.
    #[inline]
    const fn pad_before(self, offset: usize) -> usize {
        let x = self.x as usize;
        (self.y as usize + x - offset % x) % x
    }
}

/// The data of an option to be written.
#[derive(Clone, Copy)]
pub enum Body<'a> {
    /// These bytes.
    Bytes(&'a [u8]),
    /// This many zero bytes (to be filled in later, e.g. pre-allocated
    /// trace space).
    Zeroed(usize),
    /// `len` bytes written by a function given exactly that slice (it
    /// starts zeroed).
    With {
        /// Length of the data.
        len: usize,
        /// Fills the data.
        write: &'a dyn Fn(&mut [u8]),
    },
}

impl Body<'_> {
    /// Length of the data.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        match self {
            Body::Bytes(b) => b.len(),
            Body::Zeroed(n) | Body::With { len: n, .. } => *n,
        }
    }

    /// Writes the data into `out`, which is exactly `self.len()` long.
    #[inline]
    fn write(&self, out: &mut [u8]) {
        match self {
            Body::Bytes(b) => out.copy_from_slice(b),
            Body::Zeroed(_) => out.fill(0),
            Body::With { write, .. } => {
                out.fill(0);
                write(out);
            }
        }
    }
}

impl fmt::Debug for Body<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Bytes(b) => f.debug_tuple("Bytes").field(b).finish(),
            Body::Zeroed(n) => f.debug_tuple("Zeroed").field(n).finish(),
            Body::With { len, .. } => f.debug_struct("With").field("len", len).finish(),
        }
    }
}

/// One option for an [`OptionsBuilder`].
#[derive(Debug, Clone, Copy)]
pub enum OptionSpec<'a> {
    /// An IOAM option (RFC 9486 §4), aligned 4n: `option_type`, Opt Data
    /// Len, Reserved = 0, `ioam_type`, `body`. The body length must be a
    /// multiple of 4 and at most [`IOAM_BODY_MAX`](crate::ioam::IOAM_BODY_MAX).
    Ioam {
        /// The IPv6 option code, normally [`OPT_IOAM`](crate::ioam::OPT_IOAM)
        /// or [`OPT_IOAM_NOCHANGE`](crate::ioam::OPT_IOAM_NOCHANGE).
        option_type: u8,
        /// The IOAM Option-Type.
        ioam_type: IoamType,
        /// The bytes after the IOAM Option-Type.
        body: Body<'a>,
    },
    /// Any other option (not Pad1/PadN): type, data, alignment.
    Raw {
        /// The option type byte.
        option_type: u8,
        /// Alignment of the option type byte.
        align: Align,
        /// The option data (at most 255 bytes).
        data: Body<'a>,
    },
}

impl OptionSpec<'_> {
    /// Checks the option and returns (alignment, option length).
    #[inline]
    fn check(&self) -> Result<(Align, usize), WireError> {
        let (t, align, data_len) = match self {
            OptionSpec::Ioam {
                option_type, body, ..
            } => {
                let n = body.len();
                if !n.is_multiple_of(4) {
                    return Err(WireError::invalid(Rule::IoamBodyUnaligned(n), 0));
                }
                (*option_type, Align::IOAM, n + 2)
            }
            OptionSpec::Raw {
                option_type,
                align,
                data,
            } => {
                if !align.is_valid() {
                    return Err(WireError::invalid(Rule::BadAlignment, 0));
                }
                (*option_type, *align, data.len())
            }
        };
        if t == OPT_PAD1 || t == OPT_PADN {
            return Err(WireError::invalid(Rule::PaddingAsOption, 0));
        }
        if data_len > Limit::OptionDataLen.max() {
            return Err(WireError::TooLong {
                limit: Limit::OptionDataLen,
                actual: data_len,
            });
        }
        Ok((align, data_len + 2))
    }

    /// Writes the option into `out` (exactly its length).
    #[inline]
    fn write(&self, out: &mut [u8]) {
        match self {
            OptionSpec::Ioam {
                option_type,
                ioam_type,
                body,
            } => {
                out[0] = *option_type;
                out[1] = (body.len() + 2) as u8;
                out[2] = 0;
                out[3] = ioam_type.to_u8();
                body.write(&mut out[IOAM_FRAME_LEN..]);
            }
            OptionSpec::Raw {
                option_type, data, ..
            } => {
                out[0] = *option_type;
                out[1] = data.len() as u8;
                data.write(&mut out[2..]);
            }
        }
    }
}

/// Writes `len` bytes of padding (Pad1 for one byte, PadN otherwise) into
/// `out`, which is exactly `len` long (RFC 8200 §4.2).
#[inline]
fn write_pad(out: &mut [u8]) {
    match out.len() {
        0 => {}
        1 => out[0] = OPT_PAD1,
        n => {
            out.fill(0);
            out[0] = OPT_PADN;
            out[1] = (n - 2) as u8;
        }
    }
}

/// Builds a Hop-by-Hop or Destination Options header from a list of
/// options, each placed at its alignment with Pad1/PadN before it, the
/// whole padded to a multiple of 8 (RFC 8200 §4.2, §4.3; RFC 9486 §4).
///
/// Errors from [`buffer_len`](Self::buffer_len) and [`emit`](Self::emit)
/// that concern one option carry that option's index in the list as their
/// offset.
#[derive(Debug, Clone, Copy)]
pub struct OptionsBuilder<'a> {
    /// The Next Header value of the header.
    pub next_header: u8,
    /// The options, in order.
    pub options: &'a [OptionSpec<'a>],
}

impl<'a> OptionsBuilder<'a> {
    /// A builder for these options.
    #[inline]
    pub const fn new(next_header: u8, options: &'a [OptionSpec<'a>]) -> Self {
        OptionsBuilder {
            next_header,
            options,
        }
    }

    /// Walks the layout, calling `visit(offset, Some(index))` for each option
    /// and `visit(offset, None)` for each pad; returns the option end offset
    /// before trailing padding.
    #[inline]
    fn layout(
        &self,
        mut visit: impl FnMut(usize, usize, Option<usize>),
    ) -> Result<usize, WireError> {
        let mut off = 2usize;
        for (i, o) in self.options.iter().enumerate() {
            let (align, len) = o.check().map_err(|e| match e {
                WireError::Invalid { rule, .. } => WireError::invalid(rule, i),
                e => e,
            })?;
            let pad = align.pad_before(off);
            if pad > 0 {
                visit(off, pad, None);
            }
            off += pad;
            visit(off, len, Some(i));
            off += len;
            if off > Limit::ExtHeaderLen.max() {
                return Err(WireError::TooLong {
                    limit: Limit::ExtHeaderLen,
                    actual: off,
                });
            }
        }
        Ok(off)
    }

    /// Total length of the header in bytes (a multiple of 8, at most 2048).
    #[inline]
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        let end = self.layout(|_, _, _| {})?;
        let total = end.next_multiple_of(8);
        if total > Limit::ExtHeaderLen.max() {
            return Err(WireError::TooLong {
                limit: Limit::ExtHeaderLen,
                actual: total,
            });
        }
        Ok(total)
    }

    /// Offset of the option type byte of option `index` from the header
    /// start, `None` if there is no such option or the list is invalid.
    #[inline]
    pub fn option_offset(&self, index: usize) -> Option<usize> {
        let mut found = None;
        self.layout(|off, _, i| {
            if i == Some(index) {
                found = Some(off);
            }
        })
        .ok()?;
        found
    }

    /// Writes the header into the start of `buf` and returns its length.
    /// Only the first [`buffer_len`](Self::buffer_len) bytes are written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let total = self.buffer_len()?;
        let Some(out) = buf.get_mut(..total) else {
            return Err(WireError::BufferTooSmall {
                required: total,
                actual: buf.len(),
            });
        };
        out[0] = self.next_header;
        out[1] = (total / 8 - 1) as u8;
        let end = self.layout(|off, len, i| {
            let dst = &mut out[off..off + len];
            match i {
                Some(i) => self.options[i].write(dst),
                None => write_pad(dst),
            }
        })?;
        write_pad(&mut out[end..]);
        Ok(total)
    }
}

/// Length of an IOAM option (frame + body) after checking the body length
/// (multiple of 4, Opt Data Len at most 255; RFC 9486 §4).
#[inline]
pub fn ioam_option_len(body_len: usize) -> Result<usize, WireError> {
    OptionSpec::Ioam {
        option_type: crate::ioam::OPT_IOAM,
        ioam_type: IoamType::PreallocatedTrace,
        body: Body::Zeroed(body_len),
    }
    .check()
    .map(|(_, len)| len)
}

/// Writes one IOAM option (`option_type`, Opt Data Len, Reserved = 0,
/// `ioam_type`, body) at the start of `buf`, an options area position the
/// caller has aligned. `write_body` receives the `body_len` body bytes
/// (zeroed first). Returns the option length and what `write_body`
/// returned.
pub fn write_ioam_option<R>(
    buf: &mut [u8],
    option_type: u8,
    ioam_type: IoamType,
    body_len: usize,
    write_body: impl FnOnce(&mut [u8]) -> R,
) -> Result<(usize, R), WireError> {
    let len = ioam_option_len(body_len)?;
    if option_type == OPT_PAD1 || option_type == OPT_PADN {
        return Err(WireError::invalid(Rule::PaddingAsOption, 0));
    }
    let Some(out) = buf.get_mut(..len) else {
        return Err(WireError::BufferTooSmall {
            required: len,
            actual: buf.len(),
        });
    };
    out[0] = option_type;
    out[1] = (body_len + 2) as u8;
    out[2] = 0;
    out[3] = ioam_type.to_u8();
    let body = &mut out[IOAM_FRAME_LEN..];
    body.fill(0);
    Ok((len, write_body(body)))
}

/// Offset of the body of the IOAM option in a header built by
/// [`ioam_header`]: `NH HEL | 01 00 | T L 00 TY |` = 8.
pub const IOAM_HEADER_BODY_OFFSET: usize = 8;

/// Length of a Hop-by-Hop or Destination Options header holding one IOAM
/// option with a body of `body_len` bytes, laid out as Linux does
/// (see [`ioam_header`]).
#[inline]
pub fn ioam_header_len(body_len: usize) -> Result<usize, WireError> {
    let opt = ioam_option_len(body_len)?;
    Ok((4 + opt).next_multiple_of(8))
}

/// Writes a whole Hop-by-Hop or Destination Options header holding one
/// IOAM option into the start of `buf`, in the Linux layout
/// `NH HEL | 01 00 | T L 00 TY | body | [01 02 00 00]` (RFC 9486 §4).
///
/// `write_body` receives the `body_len` body bytes (zeroed first), which
/// start at [`IOAM_HEADER_BODY_OFFSET`]. Returns the header length and what
/// `write_body` returned.
pub fn ioam_header<R>(
    buf: &mut [u8],
    next_header: u8,
    option_type: u8,
    ioam_type: IoamType,
    body_len: usize,
    write_body: impl FnOnce(&mut [u8]) -> R,
) -> Result<(usize, R), WireError> {
    let total = ioam_header_len(body_len)?;
    if option_type == OPT_PAD1 || option_type == OPT_PADN {
        return Err(WireError::invalid(Rule::PaddingAsOption, 0));
    }
    let Some(out) = buf.get_mut(..total) else {
        return Err(WireError::BufferTooSmall {
            required: total,
            actual: buf.len(),
        });
    };
    out[0] = next_header;
    out[1] = (total / 8 - 1) as u8;
    write_pad(&mut out[2..4]);
    let opt_end = IOAM_HEADER_BODY_OFFSET + body_len;
    let (_, r) = write_ioam_option(
        &mut out[4..opt_end],
        option_type,
        ioam_type,
        body_len,
        write_body,
    )?;
    write_pad(&mut out[opt_end..]);
    Ok((total, r))
}

/// Where [`insert_ext_header`] put the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Inserted {
    /// Offset of the new header from the packet start.
    pub offset: usize,
    /// The new packet length.
    pub packet_len: usize,
}

/// What [`remove_ext_header`] took out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Removed {
    /// Offset the header had from the packet start.
    pub offset: usize,
    /// Its length.
    pub len: usize,
    /// The new packet length.
    pub packet_len: usize,
}

/// Checks the IPv6 header of `packet` for a length update and returns its
/// Payload Length.
fn payload_len_of(packet: &[u8]) -> Result<usize, WireError> {
    let h = Ipv6Header::new_checked(packet)?;
    h.check()?;
    let payload = usize::from(h.payload_len());
    if payload == 0 {
        return Err(WireError::invalid(Rule::JumboPayload, 4));
    }
    if IPV6_HEADER_LEN + payload > packet.len() {
        return Err(WireError::invalid(Rule::PayloadLenMismatch, 4));
    }
    Ok(payload)
}

/// Inserts an extension header into the IPv6 packet held in
/// `buf[..packet_len]`, using the room after it in `buf` (RFC 8200 §4.1).
///
/// `header` is the complete header (`(Hdr Ext Len + 1) * 8` bytes); its
/// Next Header byte is replaced by the protocol it now precedes. A
/// Hop-by-Hop header goes right after the IPv6 header (a second one is an
/// error); a Destination Options header goes at the end of the chain,
/// before the upper layer (or ESP). The IPv6 Payload Length and the Next
/// Header that named the following protocol are updated. On error the
/// buffer is unchanged. Error offsets are from the packet start.
pub fn insert_ext_header(
    buf: &mut [u8],
    packet_len: usize,
    kind: ExtKind,
    header: &[u8],
) -> Result<Inserted, WireError> {
    let Some(packet) = buf.get(..packet_len) else {
        return Err(WireError::BufferTooSmall {
            required: packet_len,
            actual: buf.len(),
        });
    };
    let hlen = header.len();
    let Some(&hel) = header.get(1) else {
        return Err(WireError::Truncated {
            layer: Layer::ExtHeader(kind),
            offset: 0,
            required: 2,
            actual: hlen,
        });
    };
    if (usize::from(hel) + 1) * 8 != hlen {
        return Err(WireError::invalid(Rule::HeaderLenMismatch, 0));
    }
    let payload = payload_len_of(packet)?;
    let new_payload = payload + hlen;
    if new_payload > Limit::PayloadLen.max() {
        return Err(WireError::TooLong {
            limit: Limit::PayloadLen,
            actual: new_payload,
        });
    }
    let (pos, field) = match kind {
        ExtKind::HopByHop => {
            if packet[NEXT_HEADER_OFFSET] == kind.protocol() {
                return Err(WireError::invalid(Rule::Duplicate(kind), IPV6_HEADER_LEN));
            }
            (IPV6_HEADER_LEN, NEXT_HEADER_OFFSET)
        }
        ExtKind::DestinationOptions => {
            let end = ExtHeaders::chain_end(packet)?;
            if end.non_first_fragment {
                return Err(WireError::invalid(
                    Rule::UnsupportedKind(ExtKind::Fragment),
                    end.next_header_field,
                ));
            }
            (end.offset, end.next_header_field)
        }
        other => {
            return Err(WireError::invalid(
                Rule::UnsupportedKind(other),
                IPV6_HEADER_LEN,
            ))
        }
    };
    let new_len = packet_len + hlen;
    if new_len > buf.len() {
        return Err(WireError::BufferTooSmall {
            required: new_len,
            actual: buf.len(),
        });
    }
    let following = buf[field];
    buf.copy_within(pos..packet_len, pos + hlen);
    buf[pos..pos + hlen].copy_from_slice(header);
    buf[pos] = following;
    buf[field] = kind.protocol();
    Ipv6Header::new_unchecked(&mut buf[..]).set_payload_len(new_payload as u16);
    Ok(Inserted {
        offset: pos,
        packet_len: new_len,
    })
}

/// Removes an extension header from the IPv6 packet in `buf[..packet_len]`:
/// the Hop-by-Hop header, or the last Destination Options header of the
/// chain (the one [`insert_ext_header`] adds). The Next Header that named
/// it takes its Next Header value, the Payload Length shrinks, and the
/// bytes after it move up; the bytes freed at the end of the old packet are
/// left as they were. On error the buffer is unchanged. Error offsets are
/// from the packet start.
pub fn remove_ext_header(
    buf: &mut [u8],
    packet_len: usize,
    kind: ExtKind,
) -> Result<Removed, WireError> {
    let Some(packet) = buf.get(..packet_len) else {
        return Err(WireError::BufferTooSmall {
            required: packet_len,
            actual: buf.len(),
        });
    };
    let payload = payload_len_of(packet)?;
    if !kind.has_options() {
        return Err(WireError::invalid(
            Rule::UnsupportedKind(kind),
            IPV6_HEADER_LEN,
        ));
    }
    // (field, offset, len, next header) of the header to remove.
    let mut target = None;
    let mut walk = ExtHeaders::new(packet)?;
    loop {
        let field = walk.next_header_field();
        let Some(h) = walk.next() else { break };
        let h = h?;
        if h.kind == kind {
            target = Some((field, h.offset, h.len(), h.next_header));
            if kind == ExtKind::HopByHop {
                break;
            }
        }
    }
    let Some((field, offset, len, next)) = target else {
        return Err(WireError::invalid(Rule::NotFound(kind), IPV6_HEADER_LEN));
    };
    buf[field] = next;
    buf.copy_within(offset + len..packet_len, offset);
    Ipv6Header::new_unchecked(&mut buf[..]).set_payload_len((payload - len) as u16);
    Ok(Removed {
        offset,
        len,
        packet_len: packet_len - len,
    })
}
