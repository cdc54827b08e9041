//! Every IOAM option of a whole IPv6 packet (RFC 9486 §4), found through
//! the extension-header chain and the options of each Hop-by-Hop and
//! Destination Options header.
//!
//! [`IoamOptions`] is the complete walk; [`first_hbh_ioam`] is the fast
//! path for the common case of one IOAM option in a Hop-by-Hop header.

use core::iter::FusedIterator;

use crate::error::{Layer, WireError};
use crate::ext::{ChainEnd, ExtHeaders, ExtKind};
use crate::ioam::{IoamOption, Placement};
use crate::ipv6::{IPV6_HEADER_LEN, NEXT_HEADER_OFFSET};
use crate::opt::{Opt, Options, ParseMode};
use crate::proto;

/// An IOAM option found in a packet, with the header that holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketIoam<'a> {
    /// The kind of header the option is in.
    pub header: ExtKind,
    /// Offset of that header from the packet start.
    pub header_offset: usize,
    /// The option; its offsets are from the start of the header.
    pub option: IoamOption<'a>,
}

impl<'a> PacketIoam<'a> {
    /// Offset of the option type byte from the packet start.
    #[inline]
    pub const fn absolute_offset(&self) -> usize {
        self.header_offset + self.option.offset
    }

    /// Offset of the option body from the packet start.
    #[inline]
    pub const fn absolute_body_offset(&self) -> usize {
        self.header_offset + self.option.body_offset
    }

    /// The option with offsets from the packet start.
    #[inline]
    pub const fn absolute(&self) -> IoamOption<'a> {
        self.option.with_base(self.header_offset)
    }

    /// Whether the option code and header suit the IOAM type (RFC 9486
    /// §4): a finding to report, not an error.
    #[inline]
    pub const fn placement(&self) -> Placement {
        self.option.placement(self.header)
    }
}

/// A fused iterator over the IOAM options of an IPv6 packet, in packet
/// order, across its Hop-by-Hop and Destination Options headers.
///
/// Items are `Result<PacketIoam, WireError>`; an error in the chain or in
/// an options area ends the walk. Error offsets are from the packet start.
/// Options other than IOAM are checked (in the given [`ParseMode`]) and
/// skipped.
#[derive(Debug, Clone)]
pub struct IoamOptions<'a> {
    headers: ExtHeaders<'a>,
    current: Option<(ExtKind, usize, Options<'a>)>,
    mode: ParseMode,
    done: bool,
}

impl<'a> IoamOptions<'a> {
    /// Starts the walk; fails if the packet has no valid IPv6 header.
    #[inline]
    pub fn new(packet: &'a [u8], mode: ParseMode) -> Result<Self, WireError> {
        Ok(IoamOptions {
            headers: ExtHeaders::new(packet)?,
            current: None,
            mode,
            done: false,
        })
    }

    /// Where the extension-header chain ended, once the iterator has
    /// returned `None` without an error.
    #[inline]
    pub const fn end(&self) -> Option<ChainEnd> {
        self.headers.end()
    }
}

impl<'a> Iterator for IoamOptions<'a> {
    type Item = Result<PacketIoam<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            if let Some((kind, base, opts)) = &mut self.current {
                for o in opts.by_ref() {
                    match o {
                        Ok(Opt::Ioam(option)) => {
                            return Some(Ok(PacketIoam {
                                header: *kind,
                                header_offset: *base,
                                option,
                            }));
                        }
                        Ok(_) => {}
                        Err(e) => {
                            self.done = true;
                            return Some(Err(e.with_base(*base)));
                        }
                    }
                }
                self.current = None;
            }
            match self.headers.next() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Some(Ok(h)) => {
                    if let Some(opts) = h.options(self.mode) {
                        self.current = Some((h.kind, h.offset, opts));
                    }
                }
            }
        }
    }
}

impl FusedIterator for IoamOptions<'_> {}

/// Fast path: the first IOAM option of the Hop-by-Hop header of `packet`,
/// if it has one.
///
/// Reads only the IPv6 Next Header, the Hop-by-Hop length and the options
/// up to the first IOAM option; it does not check the IPv6 version or the
/// Payload Length, nor the options after the one returned. Returns
/// `Ok(None)` when the packet has no Hop-by-Hop header or no IOAM option in
/// it. Error offsets are from the packet start.
#[inline]
pub fn first_hbh_ioam(packet: &[u8], mode: ParseMode) -> Result<Option<PacketIoam<'_>>, WireError> {
    match packet.get(NEXT_HEADER_OFFSET) {
        Some(&proto::HOP_BY_HOP) => {}
        Some(_) => return Ok(None),
        None => {
            return Err(WireError::Truncated {
                layer: Layer::Ipv6Header,
                offset: 0,
                required: IPV6_HEADER_LEN,
                actual: packet.len(),
            })
        }
    }
    let rest = packet.get(IPV6_HEADER_LEN..).unwrap_or(&[]);
    let Some(&hel) = rest.get(1) else {
        return Err(if packet.len() < IPV6_HEADER_LEN {
            WireError::Truncated {
                layer: Layer::Ipv6Header,
                offset: 0,
                required: IPV6_HEADER_LEN,
                actual: packet.len(),
            }
        } else {
            WireError::Truncated {
                layer: Layer::ExtHeader(ExtKind::HopByHop),
                offset: IPV6_HEADER_LEN,
                required: 2,
                actual: rest.len(),
            }
        });
    };
    let len = (usize::from(hel) + 1) * 8;
    let Some(hbh) = rest.get(..len) else {
        return Err(WireError::Truncated {
            layer: Layer::ExtHeader(ExtKind::HopByHop),
            offset: IPV6_HEADER_LEN,
            required: len,
            actual: rest.len(),
        });
    };
    for o in Options::new(hbh, mode) {
        match o {
            Ok(Opt::Ioam(option)) => {
                return Ok(Some(PacketIoam {
                    header: ExtKind::HopByHop,
                    header_offset: IPV6_HEADER_LEN,
                    option,
                }))
            }
            Ok(_) => {}
            Err(e) => return Err(e.with_base(IPV6_HEADER_LEN)),
        }
    }
    Ok(None)
}
