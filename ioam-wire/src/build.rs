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
//!     body[..8].copy_from_slice(&[0x00, 0x7b, 0x08, 0x01, 0x80, 0x00, 0x00, 0x00]);
//! })?;
//! assert_eq!(len, 24);
//! assert_eq!(buf[..8], [0x11, 0x02, 0x01, 0x00, 0x31, 0x0e, 0x00, 0x00]);
//! assert_eq!(buf[20..24], [0x01, 0x02, 0x00, 0x00]);
//! # Ok::<(), ioam_wire::error::WireError>(())
//! ```

use core::fmt;

use zerocopy::FromBytes;

use crate::error::{Layer, Limit, Rule, WireError};
use crate::ext::{ExtHeaders, ExtKind};
use crate::ioam::{IoamType, RawIoamOptionHeader, IOAM_FRAME_LEN};
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
        Limit::OptionDataLen.check(data_len)?;
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
                // `check` made room for the 4-byte header.
                if let Ok((h, rest)) = RawIoamOptionHeader::mut_from_prefix(out) {
                    *h = RawIoamOptionHeader::new(*option_type, *ioam_type, body.len());
                    body.write(rest);
                }
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
/// Fills `out` with padding as RFC 8200 §4.2 lays it out: nothing for 0
/// bytes, one Pad1 for 1, one PadN with a zero payload for 2 to 257 bytes
/// (longer areas are not padded by a single option; an options area never
/// needs more than 7 bytes of padding, the most Linux accepts in a row).
/// Every other builder of this crate and of `ioam-trace` pads through it.
///
/// ```
/// let mut area = [0xff; 6];
/// ioam_wire::build::write_padding(&mut area);
/// assert_eq!(area, [0x01, 0x04, 0, 0, 0, 0]);
/// ```
pub fn write_padding(out: &mut [u8]) {
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
            Limit::ExtHeaderLen.check(off)?;
        }
        Ok(off)
    }

    /// Total length of the header in bytes (a multiple of 8, at most 2048).
    #[inline]
    pub fn buffer_len(&self) -> Result<usize, WireError> {
        let end = self.layout(|_, _, _| {})?;
        Limit::ExtHeaderLen.check(end.next_multiple_of(8))
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
        let out = prefix_mut(buf, total)?;
        out[0] = self.next_header;
        out[1] = (total / 8 - 1) as u8;
        let end = self.layout(|off, len, i| {
            let dst = &mut out[off..off + len];
            match i {
                Some(i) => self.options[i].write(dst),
                None => write_padding(dst),
            }
        })?;
        write_padding(&mut out[end..]);
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

/// The first `len` bytes of an output buffer.
#[inline]
fn prefix_mut(buf: &mut [u8], len: usize) -> Result<&mut [u8], WireError> {
    let actual = buf.len();
    buf.get_mut(..len).ok_or(WireError::BufferTooSmall {
        required: len,
        actual,
    })
}

/// The first `len` bytes of an output buffer that will hold an option of
/// type `option_type`, which must not be a padding type.
#[inline]
fn option_area(buf: &mut [u8], len: usize, option_type: u8) -> Result<&mut [u8], WireError> {
    if option_type == OPT_PAD1 || option_type == OPT_PADN {
        return Err(WireError::invalid(Rule::PaddingAsOption, 0));
    }
    prefix_mut(buf, len)
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
    let out = option_area(buf, len, option_type)?;
    let actual = out.len();
    let Ok((h, body)) = RawIoamOptionHeader::mut_from_prefix(out) else {
        // Not reached: `ioam_option_len` counts the 4-byte header.
        return Err(WireError::BufferTooSmall {
            required: IOAM_FRAME_LEN,
            actual,
        });
    };
    *h = RawIoamOptionHeader::new(option_type, ioam_type, body_len);
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
    let out = option_area(buf, total, option_type)?;
    out[0] = next_header;
    out[1] = (total / 8 - 1) as u8;
    write_padding(&mut out[2..4]);
    let opt_end = IOAM_HEADER_BODY_OFFSET + body_len;
    let (_, r) = write_ioam_option(
        &mut out[4..opt_end],
        option_type,
        ioam_type,
        body_len,
        write_body,
    )?;
    write_padding(&mut out[opt_end..]);
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
    let new_payload = Limit::PayloadLen.check(payload + hlen)?;
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

/// What [`grow_option`] changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Grown {
    /// The new length of the options header.
    pub header_len: usize,
    /// The new packet length.
    pub packet_len: usize,
}

/// Where [`grow_option`] opens room, every offset from the packet start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Growth {
    /// Offset of the Hop-by-Hop or Destination Options header.
    pub header: usize,
    /// Offset of the option's type byte.
    pub option: usize,
    /// Where the new bytes go: within the option's data, from its first
    /// data byte to its end.
    pub at: usize,
    /// How many bytes (keep it a multiple of 4 for an IOAM option).
    pub extra: usize,
}

/// Opens `growth.extra` bytes at `growth.at` inside one option of the
/// Hop-by-Hop or Destination Options header at `growth.header` of the IPv6
/// packet `buf[..packet_len]`, using the room after the packet in `buf`.
///
/// The options after `at` move back by `extra` bytes (keep `extra` a
/// multiple of 4 to keep IOAM options 4n aligned, RFC 9486 §4), the header
/// is padded again to a multiple of 8 with [`write_padding`] after its last
/// non-padding option, and Opt Data Len, Hdr Ext Len and the IPv6 Payload
/// Length grow; the packet after the header moves with it. The opened bytes
/// are zero. On error the buffer is unchanged. Error offsets are from the
/// packet start.
///
/// # Errors
/// The IPv6 header must be valid with a Payload Length that matches
/// `packet_len` ([`Rule::PayloadLenMismatch`], [`Rule::JumboPayload`]);
/// the header and its options must parse (lenient); `option` must start an
/// option of that header and `at` lie in it ([`Rule::NotFound`]); the
/// option data, the header and the payload must stay within their fields
/// ([`WireError::TooLong`]) and the packet within `buf`
/// ([`WireError::BufferTooSmall`]).
///
/// ```
/// use ioam_wire::build::{grow_option, Growth};
/// // IPv6 | Hop-by-Hop: PadN(0), option 0x3e with 2 data bytes, PadN(0) | 8 bytes.
/// let mut buf = [0u8; 72];
/// buf[..8].copy_from_slice(&[0x60, 0, 0, 0, 0, 16, 0, 64]);
/// buf[40..48].copy_from_slice(&[59, 0, 1, 0, 0x3e, 2, 0xaa, 0xbb]);
/// buf[48..56].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
/// let g = grow_option(&mut buf, 56, Growth { header: 40, option: 44, at: 48, extra: 4 })?;
/// assert_eq!((g.header_len, g.packet_len), (16, 64));
/// assert_eq!(&buf[40..56], &[59, 1, 1, 0, 0x3e, 6, 0xaa, 0xbb, 0, 0, 0, 0, 1, 2, 0, 0]);
/// assert_eq!(&buf[56..64], &[1, 2, 3, 4, 5, 6, 7, 8]);
/// assert_eq!(buf[5], 24);
/// # Ok::<(), ioam_wire::WireError>(())
/// ```
pub fn grow_option(buf: &mut [u8], packet_len: usize, growth: Growth) -> Result<Grown, WireError> {
    let Growth {
        header,
        option,
        at,
        extra,
    } = growth;
    let Some(packet) = buf.get(..packet_len) else {
        return Err(WireError::BufferTooSmall {
            required: packet_len,
            actual: buf.len(),
        });
    };
    let payload = payload_len_of(packet)?;
    if IPV6_HEADER_LEN + payload != packet_len {
        return Err(WireError::invalid(Rule::PayloadLenMismatch, 4));
    }
    let walk = ExtHeaders::new(packet)?;
    let mut found = None;
    for h in walk {
        let h = h?;
        if h.offset == header {
            found = Some(h);
            break;
        }
        if h.offset > header {
            break;
        }
    }
    let Some(h) = found.filter(|h| h.kind.has_options()) else {
        return Err(WireError::invalid(
            Rule::NotFound(ExtKind::HopByHop),
            header,
        ));
    };
    // One walk: the option, and the end of the last non-padding option.
    let mut target = None;
    let mut content_end = 2;
    for o in crate::opt::Options::new(h.bytes, crate::Mode::Lenient) {
        let o = o.map_err(|e| e.with_base(header))?;
        if !o.is_padding() {
            content_end = o.offset() + o.len();
        }
        if header + o.offset() == option && !o.is_padding() {
            target = Some((o.offset(), o.len()));
        }
    }
    let Some((opt_off, opt_len)) = target else {
        return Err(WireError::invalid(Rule::NotFound(h.kind), option));
    };
    let data_start = header + opt_off + 2;
    if at < data_start || at > header + opt_off + opt_len {
        return Err(WireError::invalid(Rule::NotFound(h.kind), at));
    }
    Limit::OptionDataLen.check(opt_len - 2 + extra)?;
    let new_end = content_end + extra;
    let new_hlen = Limit::ExtHeaderLen.check(new_end.next_multiple_of(8))?;
    let new_packet_len = packet_len - h.len() + new_hlen;
    let new_payload = Limit::PayloadLen.check(new_packet_len - IPV6_HEADER_LEN)?;
    if new_packet_len > buf.len() {
        return Err(WireError::BufferTooSmall {
            required: new_packet_len,
            actual: buf.len(),
        });
    }
    // Everything is checked: rewrite. The packet after the header moves
    // first, then the options behind the insertion point.
    let old_hlen = h.len();
    buf.copy_within(header + old_hlen..packet_len, header + new_hlen);
    buf.copy_within(at..header + content_end, at + extra);
    buf[at..at + extra].fill(0);
    write_padding(&mut buf[header + new_end..header + new_hlen]);
    buf[header + 1] = (new_hlen / 8 - 1) as u8;
    buf[header + opt_off + 1] = (opt_len - 2 + extra) as u8;
    Ipv6Header::new_unchecked(&mut buf[..IPV6_HEADER_LEN]).set_payload_len(new_payload as u16);
    Ok(Grown {
        header_len: new_hlen,
        packet_len: new_packet_len,
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

#[cfg(test)]
mod tests {
    extern crate alloc;
    extern crate std;

    use alloc::vec;
    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::ext::ExtHeaders;
    use crate::ioam::{IoamOption, OPT_IOAM, OPT_IOAM_NOCHANGE};
    use crate::opt::{Opt, Options};
    use crate::proto;
    use crate::Mode;

    /// IPv6 | Destination Options (E2E-like option 0x11, 8 body bytes) | 4
    /// bytes of upper layer; room for 32 more bytes.
    fn do_packet() -> ([u8; 96], usize) {
        let mut b = [0u8; 96];
        b[..8].copy_from_slice(&[0x60, 0, 0, 0, 0, 20, 60, 64]);
        // DO: NH 59, HEL 1 (16 bytes): PadN(0) | 0x11 len 10 (00 03 + 8) | PadN(0).
        b[40..56].copy_from_slice(&[59, 1, 1, 0, 0x11, 10, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8]);
        b[56..60].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        (b, 60)
    }

    #[test]
    fn grow_option_keeps_the_packet_valid_or_changes_nothing() {
        let (p0, len) = do_packet();
        for extra in [4usize, 8, 12, 16, 20] {
            for at in 46..=56 {
                let mut p = p0;
                let growth = Growth {
                    header: 40,
                    option: 44,
                    at,
                    extra,
                };
                match grow_option(&mut p, len, growth) {
                    Ok(g) => {
                        // The option grew by `extra`, zeros at `at`, the rest
                        // moved, the payload behind, every length right.
                        assert_eq!(usize::from(p[45]), 10 + extra, "{at} {extra}");
                        assert!(p[at..at + extra].iter().all(|&b| b == 0));
                        assert_eq!((p[44], &p[46..at]), (p0[44], &p0[46..at]));
                        assert_eq!(&p[at + extra..56 + extra], &p0[at..56]);
                        assert_eq!(g.packet_len, 40 + g.header_len + 4);
                        assert_eq!(
                            &p[g.packet_len - 4..g.packet_len],
                            &[0xde, 0xad, 0xbe, 0xef]
                        );
                        let h = ExtHeaders::new(&p[..g.packet_len])
                            .unwrap()
                            .next()
                            .unwrap()
                            .unwrap();
                        assert_eq!(h.len(), g.header_len);
                        let opts: Result<Vec<_>, _> = Options::new(h.bytes, Mode::Strict).collect();
                        assert!(opts.is_ok(), "{at} {extra}: {opts:?}");
                    }
                    Err(e) => panic!("{at} {extra}: {e}"),
                }
            }
        }
        // Outside the option, or no room, or a lying Payload Length: errors,
        // and nothing moves.
        for (growth, plen, buf_len) in [
            (
                Growth {
                    header: 40,
                    option: 44,
                    at: 57,
                    extra: 4,
                },
                len,
                96,
            ),
            (
                Growth {
                    header: 40,
                    option: 42,
                    at: 48,
                    extra: 4,
                },
                len,
                96,
            ),
            (
                Growth {
                    header: 48,
                    option: 44,
                    at: 48,
                    extra: 4,
                },
                len,
                96,
            ),
            (
                Growth {
                    header: 40,
                    option: 44,
                    at: 48,
                    extra: 4,
                },
                len,
                62,
            ),
            (
                Growth {
                    header: 40,
                    option: 44,
                    at: 48,
                    extra: 4,
                },
                len - 1,
                96,
            ),
            (
                Growth {
                    header: 40,
                    option: 44,
                    at: 48,
                    extra: 248,
                },
                len,
                96,
            ),
        ] {
            let mut p = p0;
            assert!(
                grow_option(&mut p[..buf_len], plen, growth).is_err(),
                "{growth:?}"
            );
            assert_eq!(p, p0);
        }
    }

    /// Linux `encap ioam6 trace prealloc type 0x800000 ns 0 size 4`
    /// (tools/testing/selftests/net/ioam6.sh): Hop-by-Hop header as built by
    /// `ioam6_build_state`, UDP next.
    const LINUX_800000_NS0_SIZE4: [u8; 24] = [
        0x11, 0x02, 0x01, 0x00, // NH, HEL 2, PadN(0)
        0x31, 0x0e, 0x00, 0x00, // IOAM, len 14, reserved, pre-allocated
        0x00, 0x00, 0x08, 0x01, // ns 0, NodeLen 1, flags 0, RemLen 1
        0x80, 0x00, 0x00, 0x00, // type 0x800000, reserved
        0x00, 0x00, 0x00, 0x00, // one node's room
        0x01, 0x02, 0x00, 0x00, // PadN(2)
    ];

    /// The trace header of `type 0xfff002 ns 123 size 100`: NodeLen 15
    /// (9 short + 3 wide fields), RemLen 25.
    const TRACE_FFF002_NS123_SIZE100: [u8; 8] = [0x00, 0x7b, 0x78, 0x19, 0xff, 0xf0, 0x02, 0x00];

    fn linux_fff002() -> Vec<u8> {
        let mut v = vec![0x11, 0x0e, 0x01, 0x00, 0x31, 0x6e, 0x00, 0x00];
        v.extend_from_slice(&TRACE_FFF002_NS123_SIZE100);
        v.extend_from_slice(&[0; 100]);
        v.extend_from_slice(&[0x01, 0x02, 0x00, 0x00]);
        v
    }

    #[test]
    fn linux_layout_800000() {
        let mut buf = [0xaa; 40];
        let trace = &LINUX_800000_NS0_SIZE4[8..16];
        let (len, ()) = ioam_header(
            &mut buf,
            proto::UDP,
            OPT_IOAM,
            IoamType::PreallocatedTrace,
            12,
            |b| b[..8].copy_from_slice(trace),
        )
        .unwrap();
        assert_eq!(len, 24);
        assert_eq!(ioam_header_len(12), Ok(24));
        assert_eq!(buf[..24], LINUX_800000_NS0_SIZE4);
        // Nothing past the header was touched.
        assert!(buf[24..].iter().all(|&b| b == 0xaa));
    }

    #[test]
    fn linux_layout_fff002_and_general_builder_agree() {
        let expected = linux_fff002();
        assert_eq!(expected.len(), 120);
        let mut buf = [0u8; 128];
        let (len, ()) = ioam_header(
            &mut buf,
            proto::UDP,
            OPT_IOAM,
            IoamType::PreallocatedTrace,
            108,
            |b| b[..8].copy_from_slice(&TRACE_FFF002_NS123_SIZE100),
        )
        .unwrap();
        assert_eq!(buf[..len], expected[..]);

        let mut body = [0u8; 108];
        body[..8].copy_from_slice(&TRACE_FFF002_NS123_SIZE100);
        let specs = [OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::PreallocatedTrace,
            body: Body::Bytes(&body),
        }];
        let b = OptionsBuilder::new(proto::UDP, &specs);
        assert_eq!(b.buffer_len(), Ok(120));
        assert_eq!(b.option_offset(0), Some(4));
        let mut out = [0xffu8; 120];
        assert_eq!(b.emit(&mut out), Ok(120));
        assert_eq!(out[..], expected[..]);

        // The same through a closure body.
        let fill = |b: &mut [u8]| b[..8].copy_from_slice(&TRACE_FFF002_NS123_SIZE100);
        let specs = [OptionSpec::Ioam {
            option_type: OPT_IOAM,
            ioam_type: IoamType::PreallocatedTrace,
            body: Body::With {
                len: 108,
                write: &fill,
            },
        }];
        let mut out = [0xffu8; 120];
        OptionsBuilder::new(proto::UDP, &specs)
            .emit(&mut out)
            .unwrap();
        assert_eq!(out[..], expected[..]);
    }

    #[test]
    fn linux_layout_every_size() {
        // Every pre-allocated size Linux accepts (RemLen 1..=61).
        for remlen in 1..=61usize {
            let body_len = 8 + 4 * remlen;
            let total = ioam_header_len(body_len).unwrap();
            assert_eq!(total, 16 + (4 * remlen).next_multiple_of(8));
            let mut buf = [0u8; 264];
            let (len, ()) = ioam_header(
                &mut buf,
                proto::TCP,
                OPT_IOAM,
                IoamType::PreallocatedTrace,
                body_len,
                |_| (),
            )
            .unwrap();
            assert_eq!(len, total);
            assert_eq!(
                buf[..6],
                [6, (total / 8 - 1) as u8, 1, 0, 0x31, (body_len + 2) as u8]
            );
            if remlen % 2 == 1 {
                assert_eq!(buf[total - 4..total], [1, 2, 0, 0]);
            }
            let opts: Vec<_> = Options::new(&buf[..len], Mode::Strict)
                .collect::<Result<_, _>>()
                .unwrap();
            let ioam: Vec<&IoamOption<'_>> = opts
                .iter()
                .filter_map(|o| match o {
                    Opt::Ioam(i) => Some(i),
                    _ => None,
                })
                .collect();
            assert_eq!(ioam.len(), 1);
            assert_eq!((ioam[0].offset, ioam[0].body.len()), (4, body_len));
        }
        // RemLen 61 is the largest: 8 + 244 = 252 body bytes, Opt Data Len 254.
        assert_eq!(ioam_header_len(252), Ok(264));
        assert!(ioam_header_len(256).is_err());
    }

    #[test]
    fn empty_header_is_one_padn() {
        let b = OptionsBuilder::new(proto::NO_NEXT, &[]);
        let mut out = [0xffu8; 8];
        assert_eq!(b.emit(&mut out), Ok(8));
        assert_eq!(out, [59, 0, 1, 4, 0, 0, 0, 0]);
    }

    #[test]
    fn mixed_options_layout() {
        // Router Alert (2n+0), a DEX option, a POT-sized option, an option
        // wanting 8n+2.
        let dex_body = [0x00, 0x01, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00];
        let pot_body = [0u8; 20];
        let specs = [
            OptionSpec::Raw {
                option_type: 0x05,
                align: Align { x: 2, y: 0 },
                data: Body::Bytes(&[0, 0]),
            },
            OptionSpec::Ioam {
                option_type: OPT_IOAM_NOCHANGE,
                ioam_type: IoamType::DirectExport,
                body: Body::Bytes(&dex_body),
            },
            OptionSpec::Ioam {
                option_type: OPT_IOAM,
                ioam_type: IoamType::ProofOfTransit,
                body: Body::Zeroed(20),
            },
            OptionSpec::Raw {
                option_type: 0x3e,
                align: Align { x: 8, y: 2 },
                data: Body::Bytes(&[9]),
            },
        ];
        let b = OptionsBuilder::new(proto::UDP, &specs);
        let len = b.buffer_len().unwrap();
        let mut out = vec![0xffu8; len];
        assert_eq!(b.emit(&mut out), Ok(len));
        // Router Alert at 2 (05 02 00 00), DEX at 8 after PadN(2) at 6,
        // POT at 20, then PadN(6) before the 8n+2 option at 50.
        assert_eq!(out[2..6], [0x05, 0x02, 0, 0]);
        assert_eq!(out[6..8], [1, 0]);
        assert_eq!(out[8..12], [0x11, 10, 0, 4]);
        assert_eq!(out[20..24], [0x31, 22, 0, 2]);
        assert_eq!(out[44..50], [1, 4, 0, 0, 0, 0]);
        assert_eq!(b.option_offset(3), Some(50));
        assert_eq!(out[50..53], [0x3e, 1, 9]);
        assert_eq!(len, 56);
        assert_eq!(out[53..56], [1, 1, 0]);
        let items: Vec<Opt<'_>> = Options::new(&out, Mode::Strict)
            .filter(|o| !o.as_ref().is_ok_and(Opt::is_padding))
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[1].offset(), 8);
        let Opt::Ioam(pot) = items[2] else { panic!() };
        assert_eq!(
            (pot.ioam_type, pot.body),
            (IoamType::ProofOfTransit, &pot_body[..])
        );
    }

    #[test]
    fn builder_errors() {
        let mk = |specs: &[OptionSpec<'_>]| OptionsBuilder::new(0, specs).buffer_len();
        assert_eq!(
            mk(&[OptionSpec::Ioam {
                option_type: OPT_IOAM,
                ioam_type: IoamType::PreallocatedTrace,
                body: Body::Zeroed(10),
            }]),
            Err(WireError::invalid(Rule::IoamBodyUnaligned(10), 0))
        );
        assert_eq!(
            mk(&[
                OptionSpec::Raw {
                    option_type: 5,
                    align: Align::NONE,
                    data: Body::Zeroed(2),
                },
                OptionSpec::Ioam {
                    option_type: OPT_IOAM,
                    ioam_type: IoamType::PreallocatedTrace,
                    body: Body::Zeroed(256),
                }
            ]),
            Err(WireError::TooLong {
                limit: Limit::OptionDataLen,
                actual: 258
            })
        );
        assert_eq!(
            mk(&[OptionSpec::Raw {
                option_type: 1,
                align: Align::NONE,
                data: Body::Zeroed(2),
            }]),
            Err(WireError::invalid(Rule::PaddingAsOption, 0))
        );
        assert_eq!(
            mk(&[
                OptionSpec::Raw {
                    option_type: 5,
                    align: Align::NONE,
                    data: Body::Zeroed(2),
                },
                OptionSpec::Raw {
                    option_type: 7,
                    align: Align { x: 3, y: 0 },
                    data: Body::Zeroed(2),
                }
            ]),
            Err(WireError::invalid(Rule::BadAlignment, 1))
        );
        let big = [OptionSpec::Raw {
            option_type: 0x3e,
            align: Align::NONE,
            data: Body::Zeroed(255),
        }; 9];
        assert_eq!(mk(&big[..7]), Ok((2 + 7 * 257usize).next_multiple_of(8)));
        assert_eq!(
            mk(&big[..8]),
            Err(WireError::TooLong {
                limit: Limit::ExtHeaderLen,
                actual: 2 + 8 * 257
            })
        );
        // 2046 bytes of options pad up to 2048, the most a header holds.
        let fit = [
            OptionSpec::Raw {
                option_type: 0x3e,
                align: Align::NONE,
                data: Body::Zeroed(255),
            },
            OptionSpec::Raw {
                option_type: 0x3e,
                align: Align::NONE,
                data: Body::Zeroed(2046 - 7 * 257 - 2 - 2),
            },
        ];
        let list = [
            big[0], big[0], big[0], big[0], big[0], big[0], big[0], fit[1],
        ];
        assert_eq!(mk(&list), Ok(2048));
        let _ = fit[0];
        let one = [OptionSpec::Raw {
            option_type: 0x3e,
            align: Align::NONE,
            data: Body::Zeroed(4),
        }];
        let mut small = [0u8; 7];
        assert_eq!(
            OptionsBuilder::new(0, &one).emit(&mut small),
            Err(WireError::BufferTooSmall {
                required: 8,
                actual: 7
            })
        );
        assert_eq!(small, [0; 7]);
        assert_eq!(
            ioam_header(
                &mut [0u8; 23],
                0,
                OPT_IOAM,
                IoamType::PreallocatedTrace,
                12,
                |_| ()
            ),
            Err(WireError::BufferTooSmall {
                required: 24,
                actual: 23
            })
        );
        assert_eq!(
            write_ioam_option(&mut [0u8; 8], 0, IoamType::EdgeToEdge, 4, |_| ()),
            Err(WireError::invalid(Rule::PaddingAsOption, 0))
        );
        assert_eq!(
            write_ioam_option(&mut [0u8; 7], OPT_IOAM, IoamType::EdgeToEdge, 4, |_| ()),
            Err(WireError::BufferTooSmall {
                required: 8,
                actual: 7
            })
        );
        let mut o = [0xffu8; 10];
        assert_eq!(
            write_ioam_option(&mut o, OPT_IOAM_NOCHANGE, IoamType::EdgeToEdge, 4, |b| {
                b[1] = 7;
                b.len()
            }),
            Ok((8, 4))
        );
        assert_eq!(o, [0x11, 6, 0, 3, 0, 7, 0, 0, 0xff, 0xff]);
    }

    /// IPv6 + UDP(8) + 4 payload bytes.
    fn udp_packet() -> Vec<u8> {
        let mut p = vec![0u8; 52];
        p[0] = 0x60;
        p[5] = 12;
        p[6] = proto::UDP;
        p[7] = 64;
        p[8] = 0x20;
        p[39] = 2;
        p[40..52].copy_from_slice(&[0x30, 0x39, 0x27, 0x0f, 0, 12, 0, 0, 1, 2, 3, 4]);
        p
    }

    #[test]
    fn insert_and_remove_hop_by_hop() {
        let orig = udp_packet();
        let mut buf = orig.clone();
        buf.resize(100, 0xee);
        let before = buf.clone();
        let r = insert_ext_header(&mut buf, 52, ExtKind::HopByHop, &LINUX_800000_NS0_SIZE4);
        assert_eq!(
            r,
            Ok(Inserted {
                offset: 40,
                packet_len: 76
            })
        );
        assert_eq!(buf[6], 0);
        assert_eq!(u16::from_be_bytes([buf[4], buf[5]]), 36);
        assert_eq!(buf[40], proto::UDP);
        assert_eq!(buf[41..64], LINUX_800000_NS0_SIZE4[1..]);
        assert_eq!(buf[64..76], orig[40..52]);
        assert!(buf[76..].iter().all(|&b| b == 0xee));
        // A second Hop-by-Hop header is refused, buffer unchanged.
        let snapshot = buf.clone();
        assert_eq!(
            insert_ext_header(&mut buf, 76, ExtKind::HopByHop, &LINUX_800000_NS0_SIZE4),
            Err(WireError::invalid(Rule::Duplicate(ExtKind::HopByHop), 40))
        );
        assert_eq!(buf, snapshot);
        let r = remove_ext_header(&mut buf, 76, ExtKind::HopByHop).unwrap();
        assert_eq!(
            r,
            Removed {
                offset: 40,
                len: 24,
                packet_len: 52
            }
        );
        assert_eq!(buf[..52], before[..52]);
        assert_eq!(
            remove_ext_header(&mut buf, 52, ExtKind::HopByHop),
            Err(WireError::invalid(Rule::NotFound(ExtKind::HopByHop), 40))
        );
    }

    #[test]
    fn insert_destination_options_at_chain_end() {
        // IPv6 -> HbH(8) -> Routing(24) -> UDP(8).
        let mut p = vec![0u8; 80];
        p[0] = 0x60;
        p[5] = 40;
        p[6] = 0;
        p[40..48].copy_from_slice(&[43, 0, 1, 4, 0, 0, 0, 0]);
        p[48] = 17;
        p[49] = 2;
        p[50] = 4;
        p[72..80].copy_from_slice(&[1, 2, 3, 4, 0, 8, 0, 0]);
        let orig = p.clone();
        p.resize(120, 0);
        let mut hdr = [0u8; 16];
        let e2e = [0x00, 0x07, 0x80, 0x00, 0, 0, 0, 5];
        let (n, ()) = ioam_header(
            &mut hdr,
            0,
            OPT_IOAM_NOCHANGE,
            IoamType::EdgeToEdge,
            8,
            |b| b.copy_from_slice(&e2e),
        )
        .unwrap();
        let ins = insert_ext_header(&mut p, 80, ExtKind::DestinationOptions, &hdr[..n]).unwrap();
        assert_eq!(ins.offset, 72);
        assert_eq!(p[48], 60);
        assert_eq!(p[72], 17);
        let kinds: Vec<ExtKind> = ExtHeaders::new(&p[..ins.packet_len])
            .unwrap()
            .map(|h| h.unwrap().kind)
            .collect();
        assert_eq!(
            kinds,
            [
                ExtKind::HopByHop,
                ExtKind::Routing,
                ExtKind::DestinationOptions
            ]
        );
        let rem = remove_ext_header(&mut p, ins.packet_len, ExtKind::DestinationOptions).unwrap();
        assert_eq!(rem.packet_len, 80);
        assert_eq!(p[..80], orig[..]);
    }

    #[test]
    fn insert_errors() {
        let orig = udp_packet();
        let hdr = LINUX_800000_NS0_SIZE4;
        let mut buf = orig.clone();
        // No room.
        buf.resize(75, 0);
        assert_eq!(
            insert_ext_header(&mut buf, 52, ExtKind::HopByHop, &hdr),
            Err(WireError::BufferTooSmall {
                required: 76,
                actual: 75
            })
        );
        assert_eq!(buf[..52], orig[..]);
        // packet_len beyond the buffer.
        assert_eq!(
            insert_ext_header(&mut buf, 80, ExtKind::HopByHop, &hdr),
            Err(WireError::BufferTooSmall {
                required: 80,
                actual: 75
            })
        );
        // Header bytes disagreeing with their Hdr Ext Len.
        assert_eq!(
            insert_ext_header(&mut buf, 52, ExtKind::HopByHop, &hdr[..16]),
            Err(WireError::invalid(Rule::HeaderLenMismatch, 0))
        );
        assert!(matches!(
            insert_ext_header(&mut buf, 52, ExtKind::HopByHop, &hdr[..1]),
            Err(WireError::Truncated {
                required: 2,
                actual: 1,
                ..
            })
        ));
        // Unsupported kinds.
        assert_eq!(
            insert_ext_header(&mut buf, 52, ExtKind::Routing, &hdr),
            Err(WireError::invalid(
                Rule::UnsupportedKind(ExtKind::Routing),
                40
            ))
        );
        assert_eq!(
            remove_ext_header(&mut buf, 52, ExtKind::Fragment),
            Err(WireError::invalid(
                Rule::UnsupportedKind(ExtKind::Fragment),
                40
            ))
        );
        // Jumbogram, payload length past the packet.
        let mut j = orig.clone();
        j[4] = 0;
        j[5] = 0;
        j.resize(100, 0);
        assert_eq!(
            insert_ext_header(&mut j, 52, ExtKind::HopByHop, &hdr),
            Err(WireError::invalid(Rule::JumboPayload, 4))
        );
        j[5] = 13;
        assert_eq!(
            insert_ext_header(&mut j, 52, ExtKind::HopByHop, &hdr),
            Err(WireError::invalid(Rule::PayloadLenMismatch, 4))
        );
        // Payload length overflow.
        let mut big = vec![0u8; 40 + 65530 + 24];
        big[0] = 0x60;
        big[4..6].copy_from_slice(&65530u16.to_be_bytes());
        big[6] = 59;
        assert_eq!(
            insert_ext_header(&mut big, 65570, ExtKind::HopByHop, &hdr),
            Err(WireError::TooLong {
                limit: Limit::PayloadLen,
                actual: 65554
            })
        );
        let mut big = vec![0u8; 40 + 65535 + 2048];
        big[0] = 0x60;
        big[4..6].copy_from_slice(&(65535u16 - 2048).to_be_bytes());
        big[6] = 59;
        let mut h = [0u8; 2048];
        h[1] = 255;
        h[2] = 1;
        h[3] = 253;
        assert_eq!(
            insert_ext_header(&mut big, 40 + 65535 - 2048, ExtKind::HopByHop, &h)
                .unwrap()
                .packet_len,
            40 + 65535
        );
        assert_eq!(u16::from_be_bytes([big[4], big[5]]), 65535);
        // Version 4.
        let mut v4 = orig.clone();
        v4[0] = 0x45;
        v4.resize(100, 0);
        assert_eq!(
            insert_ext_header(&mut v4, 52, ExtKind::HopByHop, &hdr),
            Err(WireError::invalid(Rule::Ipv6Version(4), 0))
        );
    }

    // ---- property tests -------------------------------------------------

    /// An owned description of one option, turned into an [`OptionSpec`].
    #[derive(Debug, Clone)]
    pub(crate) enum OwnedSpec {
        Ioam { code: u8, ty: u8, body: Vec<u8> },
        Raw { t: u8, align: Align, data: Vec<u8> },
    }

    impl OwnedSpec {
        pub(crate) fn spec(&self) -> OptionSpec<'_> {
            match self {
                OwnedSpec::Ioam { code, ty, body } => OptionSpec::Ioam {
                    option_type: *code,
                    ioam_type: IoamType::from(*ty),
                    body: Body::Bytes(body),
                },
                OwnedSpec::Raw { t, align, data } => OptionSpec::Raw {
                    option_type: *t,
                    align: *align,
                    data: Body::Bytes(data),
                },
            }
        }
    }

    /// Any valid option: IOAM with a 4n body, or another TLV type with any
    /// valid alignment.
    pub(crate) fn arb_spec() -> impl Strategy<Value = OwnedSpec> {
        let ioam = (
            prop_oneof![Just(OPT_IOAM), Just(OPT_IOAM_NOCHANGE)],
            any::<u8>(),
            (0usize..=63).prop_flat_map(|w| proptest::collection::vec(any::<u8>(), w * 4)),
        )
            .prop_map(|(code, ty, body)| OwnedSpec::Ioam { code, ty, body });
        let raw = (
            any::<u8>().prop_filter("not padding or IOAM", |t| {
                !matches!(*t, 0 | 1 | 0x11 | 0x31)
            }),
            prop_oneof![Just(1u8), Just(2), Just(4), Just(8)]
                .prop_flat_map(|x| (Just(x), 0..x))
                .prop_map(|(x, y)| Align { x, y }),
            proptest::collection::vec(any::<u8>(), 0..=64),
        )
            .prop_map(|(t, align, data)| OwnedSpec::Raw { t, align, data });
        prop_oneof![ioam, raw]
    }

    /// A packet: IPv6, then a chain drawn from DO/Routing/Fragment/AH
    /// (optionally led by HbH), then an upper layer with payload.
    fn arb_packet() -> impl Strategy<Value = Vec<u8>> {
        let hdr = (0u8..4, 0u8..4, proptest::collection::vec(any::<u8>(), 32));
        (
            any::<bool>(),
            proptest::collection::vec(hdr, 0..4),
            prop_oneof![
                Just(proto::UDP),
                Just(proto::TCP),
                Just(proto::NO_NEXT),
                Just(proto::ESP)
            ],
            proptest::collection::vec(any::<u8>(), 1..40),
        )
            .prop_map(|(hbh, chain, upper, payload)| {
                let mut kinds: Vec<(u8, usize, Vec<u8>)> = Vec::new();
                if hbh {
                    kinds.push((proto::HOP_BY_HOP, 8, vec![1, 4, 0, 0, 0, 0]));
                }
                for (k, n, fill) in chain {
                    let (p, len) = match k {
                        0 => (proto::DEST_OPTS, 8 * (usize::from(n) % 2 + 1)),
                        1 => (proto::ROUTING, 8 * (usize::from(n) + 1)),
                        2 => (proto::FRAGMENT, 8),
                        _ => (proto::AH, 4 * (usize::from(n) + 3)),
                    };
                    let mut body = fill[..len - 2].to_vec();
                    if p == proto::DEST_OPTS {
                        body.fill(0);
                        body[0] = 1;
                        body[1] = (len - 4) as u8;
                    }
                    if p == proto::FRAGMENT {
                        body[0] = 0;
                        body[1] = 0; // offset 0: first fragment
                    }
                    kinds.push((p, len, body));
                }
                let mut pkt = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
                pkt.extend_from_slice(&[0x20; 32]);
                pkt[6] = kinds.first().map_or(upper, |k| k.0);
                for (i, (p, len, body)) in kinds.iter().enumerate() {
                    let next = kinds.get(i + 1).map_or(upper, |k| k.0);
                    pkt.push(next);
                    pkt.push(match *p {
                        proto::FRAGMENT => 0,
                        proto::AH => (len / 4 - 2) as u8,
                        _ => (len / 8 - 1) as u8,
                    });
                    pkt.extend_from_slice(body);
                }
                pkt.extend_from_slice(&payload);
                let plen = (pkt.len() - 40) as u16;
                pkt[4..6].copy_from_slice(&plen.to_be_bytes());
                pkt
            })
    }

    proptest! {
        #[test]
        fn built_options_parse_back(
            specs in proptest::collection::vec(arb_spec(), 0..8),
            nh in any::<u8>(),
        ) {
            let list: Vec<OptionSpec<'_>> = specs.iter().map(OwnedSpec::spec).collect();
            let b = OptionsBuilder::new(nh, &list);
            let len = match b.buffer_len() {
                Ok(len) => len,
                Err(e) => {
                    let too_long = matches!(e, WireError::TooLong { limit: Limit::ExtHeaderLen, .. });
                    prop_assert!(too_long, "{:?}", e);
                    return Ok(());
                }
            };
            prop_assert_eq!(len % 8, 0);
            let mut out = vec![0xa5; len + 8];
            prop_assert_eq!(b.emit(&mut out), Ok(len));
            prop_assert!(out[len..].iter().all(|&x| x == 0xa5));
            prop_assert_eq!(out[0], nh);
            prop_assert_eq!((usize::from(out[1]) + 1) * 8, len);
            let items: Vec<Opt<'_>> = Options::new(&out[..len], Mode::Strict)
                .collect::<Result<_, _>>()
                .map_err(|e| TestCaseError::fail(alloc::format!("{e}")))?;
            let real: Vec<&Opt<'_>> = items.iter().filter(|o| !o.is_padding()).collect();
            prop_assert_eq!(real.len(), specs.len());
            for (i, (o, s)) in real.iter().zip(&specs).enumerate() {
                prop_assert_eq!(Some(o.offset()), b.option_offset(i));
                match (o, s) {
                    (Opt::Ioam(io), OwnedSpec::Ioam { code, ty, body }) => {
                        prop_assert_eq!(io.option_type, *code);
                        prop_assert_eq!(io.ioam_type, IoamType::from(*ty));
                        prop_assert_eq!(io.reserved, 0);
                        prop_assert_eq!(io.body, &body[..]);
                        prop_assert!(io.is_aligned());
                    }
                    (Opt::Unknown(u), OwnedSpec::Raw { t, align, data }) => {
                        prop_assert_eq!(u.option_type, *t);
                        prop_assert_eq!(u.data, &data[..]);
                        prop_assert_eq!(u.offset % usize::from(align.x), usize::from(align.y));
                    }
                    _ => prop_assert!(false, "kind mismatch {:?} {:?}", o, s),
                }
            }
        }

        #[test]
        fn insert_then_remove_restores(pkt in arb_packet(), which in any::<bool>(), body_words in 0usize..8) {
            let n = pkt.len();
            let kind = if which || pkt[6] == proto::HOP_BY_HOP {
                ExtKind::DestinationOptions
            } else {
                ExtKind::HopByHop
            };
            let mut hdr = [0u8; 48];
            let (hlen, ()) = ioam_header(&mut hdr, 0, OPT_IOAM, IoamType::PreallocatedTrace, body_words * 4, |b| b.fill(7)).unwrap();
            let mut buf = pkt.clone();
            buf.resize(n + hlen, 0x5a);
            let ins = insert_ext_header(&mut buf, n, kind, &hdr[..hlen]).unwrap();
            prop_assert_eq!(ins.packet_len, n + hlen);
            // The new header is found where it was put, the chain still ends
            // at the same protocol.
            let before_end = ExtHeaders::chain_end(&pkt).unwrap();
            let mut w = ExtHeaders::new(&buf).unwrap();
            let found = w.by_ref().map(|h| h.unwrap()).any(|h| h.kind == kind && h.offset == ins.offset);
            prop_assert!(found);
            for h in w.by_ref() { h.unwrap(); }
            let after_end = ExtHeaders::chain_end(&buf).unwrap();
            prop_assert_eq!(after_end.protocol, before_end.protocol);
            prop_assert_eq!(after_end.offset, before_end.offset + hlen);
            let rem = remove_ext_header(&mut buf, n + hlen, kind).unwrap();
            prop_assert_eq!(rem.offset, ins.offset);
            prop_assert_eq!(rem.packet_len, n);
            prop_assert_eq!(&buf[..n], &pkt[..]);
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300), start in 0usize..48, nh in any::<u8>()) {
            for mode in [Mode::Strict, Mode::Lenient] {
                for o in Options::new(&bytes, mode) { let _ = o; }
                for o in Options::from_area(&bytes, start, mode) { let _ = o; }
                if let Ok(it) = crate::packet::IoamOptions::new(&bytes, mode) {
                    for o in it { let _ = o; }
                }
                let _ = crate::packet::first_hbh_ioam(&bytes, mode);
            }
            if let Ok(w) = ExtHeaders::new(&bytes) { for h in w { let _ = h; } }
            for h in ExtHeaders::with_start(&bytes, nh, start) { let _ = h; }
            let mut buf = bytes.clone();
            buf.resize(bytes.len() + 64, 0);
            let _ = insert_ext_header(&mut buf, bytes.len(), ExtKind::HopByHop, &bytes[..bytes.len().min(start)]);
            let _ = insert_ext_header(&mut buf, bytes.len(), ExtKind::DestinationOptions, &[0, 0, 1, 4, 0, 0, 0, 0]);
            let _ = remove_ext_header(&mut buf, bytes.len(), ExtKind::DestinationOptions);
            let _ = remove_ext_header(&mut buf, bytes.len(), ExtKind::HopByHop);
        }

        #[test]
        fn packets_with_random_chains_never_panic(
            pkt in arb_packet(),
            flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
            cut in any::<usize>(),
        ) {
            let mut p = pkt;
            for (i, v) in flips {
                let n = p.len();
                p[i % n] = v;
            }
            let cut = cut % (p.len() + 1);
            let p = &p[..cut];
            if let Ok(w) = ExtHeaders::new(p) {
                for h in w.flatten() {
                    if let Some(opts) = h.options(Mode::Lenient) { for o in opts { let _ = o; } }
                }
            }
            if let Ok(it) = crate::packet::IoamOptions::new(p, Mode::Strict) {
                for o in it { let _ = o; }
            }
        }
    }
}
