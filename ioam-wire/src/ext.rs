//! The IPv6 extension-header chain (RFC 8200 §4).
//!
//! [`ExtHeaders`] walks the chain of a whole packet without copying and
//! yields each header with its kind, offset and bytes. The walk ends at the
//! first header that is not an extension header with a known length: an
//! upper-layer protocol, ESP (opaque, RFC 4303), No Next Header (59), or the
//! payload of a non-first fragment. That end is reported by
//! [`ExtHeaders::end`].

use crate::Mode;
use core::iter::FusedIterator;

use crate::error::{Layer, Rule, WireError};
use crate::ipv6::{Ipv6Header, IPV6_HEADER_LEN, NEXT_HEADER_OFFSET};
use crate::opt::Options;
use crate::proto;

pub use crate::kind::ExtKind;

/// One extension header found by [`ExtHeaders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtHeader<'a> {
    /// What kind of header.
    pub kind: ExtKind,
    /// Offset of the header from the start of the packet.
    pub offset: usize,
    /// Its Next Header field.
    pub next_header: u8,
    /// The whole header, Next Header byte included.
    pub bytes: &'a [u8],
}

impl<'a> ExtHeader<'a> {
    /// Length of the header in bytes.
    #[inline]
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Offset just past the header, from the start of the packet.
    #[inline]
    pub const fn end(&self) -> usize {
        self.offset + self.bytes.len()
    }

    /// The options of a Hop-by-Hop or Destination Options header, `None`
    /// for other kinds. Offsets in the options (and their errors) are
    /// relative to the start of this header.
    #[inline]
    pub fn options(&self, mode: Mode) -> Option<Options<'a>> {
        if self.kind.has_options() {
            Some(Options::new(self.bytes, mode))
        } else {
            None
        }
    }
}

/// Where an extension-header walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainEnd {
    /// The protocol number that ended the walk: an upper layer (e.g.
    /// [`proto::UDP`]), [`proto::ESP`] or [`proto::NO_NEXT`].
    pub protocol: u8,
    /// Offset of that protocol's header (or of the fragment data) from the
    /// start of the packet.
    pub offset: usize,
    /// Offset of the Next Header byte that names `protocol` (6 when it is
    /// the IPv6 header's).
    pub next_header_field: usize,
    /// The walk stopped after a Fragment header with a non-zero Fragment
    /// Offset: what follows is fragment data, not a header.
    pub non_first_fragment: bool,
}

impl ChainEnd {
    /// [`ExtKind::Esp`] or [`ExtKind::NoNextHeader`] when one of them ended
    /// the walk, `None` for an upper-layer protocol.
    #[inline]
    pub const fn ext_kind(&self) -> Option<ExtKind> {
        match self.protocol {
            proto::ESP => Some(ExtKind::Esp),
            proto::NO_NEXT => Some(ExtKind::NoNextHeader),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Walking,
    Ended(ChainEnd),
    Failed,
}

/// A fused iterator over the extension headers of an IPv6 packet
/// (RFC 8200 §4.1).
///
/// Items are `Result<ExtHeader, WireError>`; after an error the iterator
/// yields nothing more. Offsets, in items and errors, are from the start of
/// the packet slice. The walk is bounded by the slice and by the IPv6
/// Payload Length (when not 0): bytes past `40 + Payload Length` (link-layer
/// padding) are ignored, and a header running past either bound is a
/// [`WireError::Truncated`].
#[derive(Debug, Clone)]
pub struct ExtHeaders<'a> {
    packet: &'a [u8],
    offset: usize,
    next: u8,
    next_field: usize,
    first: bool,
    state: State,
}

impl<'a> ExtHeaders<'a> {
    /// Starts a walk over a whole IPv6 packet (fixed header first).
    ///
    /// Fails if the packet is shorter than 40 bytes or not version 6.
    #[inline]
    pub fn new(packet: &'a [u8]) -> Result<Self, WireError> {
        let h = Ipv6Header::new_checked(packet)?;
        h.check()?;
        let end = match h.payload_len() {
            0 => packet.len(),
            n => packet.len().min(IPV6_HEADER_LEN + usize::from(n)),
        };
        Ok(Self::with_start(
            &packet[..end],
            h.next_header(),
            IPV6_HEADER_LEN,
        ))
    }

    /// Starts a walk at `offset` in `packet` for a header whose protocol is
    /// `next_header`, with no IPv6 header check (e.g. for a chain whose
    /// fixed header was already parsed). A Hop-by-Hop header is accepted at
    /// that first position only. The Next Header field of the first header
    /// is taken to be at `offset - 34` (its place in an IPv6 header when
    /// `offset` is 40); see [`ChainEnd::next_header_field`].
    #[inline]
    pub const fn with_start(packet: &'a [u8], next_header: u8, offset: usize) -> Self {
        ExtHeaders {
            packet,
            offset,
            next: next_header,
            next_field: offset.saturating_sub(IPV6_HEADER_LEN - NEXT_HEADER_OFFSET),
            first: true,
            state: State::Walking,
        }
    }

    /// Where the walk ended, once the iterator has returned `None` without
    /// an error; `None` before that or after an error.
    #[inline]
    pub const fn end(&self) -> Option<ChainEnd> {
        match self.state {
            State::Ended(e) => Some(e),
            _ => None,
        }
    }

    /// Walks the whole chain and returns where it ends: the upper-layer
    /// protocol and its offset.
    pub fn chain_end(packet: &'a [u8]) -> Result<ChainEnd, WireError> {
        let mut w = ExtHeaders::new(packet)?;
        for h in &mut w {
            h?;
        }
        // The loop only ends without error in the `Ended` state.
        w.end()
            .ok_or(WireError::invalid(Rule::PayloadLenMismatch, 0))
    }

    /// Offset of the Next Header byte that names the header the iterator
    /// will look at next (6 at the start of a packet walk).
    #[inline]
    pub const fn next_header_field(&self) -> usize {
        self.next_field
    }

    #[inline]
    fn finish(&mut self, non_first_fragment: bool) {
        self.state = State::Ended(ChainEnd {
            protocol: self.next,
            offset: self.offset,
            next_header_field: self.next_field,
            non_first_fragment,
        });
    }

    #[cold]
    #[inline(never)]
    fn fail(&mut self, e: WireError) -> Option<Result<ExtHeader<'a>, WireError>> {
        self.state = State::Failed;
        Some(Err(e))
    }
}

impl<'a> Iterator for ExtHeaders<'a> {
    type Item = Result<ExtHeader<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.state != State::Walking {
            return None;
        }
        let kind = match ExtKind::from_protocol(self.next) {
            Some(k) if !k.ends_walk() => k,
            _ => {
                self.finish(false);
                return None;
            }
        };
        let offset = self.offset;
        if kind == ExtKind::HopByHop && !self.first {
            return self.fail(WireError::invalid(Rule::HopByHopNotFirst, offset));
        }
        let rest = self.packet.get(offset..).unwrap_or(&[]);
        let min = if kind == ExtKind::Fragment { 8 } else { 2 };
        if rest.len() < min {
            return self.fail(WireError::Truncated {
                layer: Layer::ExtHeader(kind),
                offset,
                required: min,
                actual: rest.len(),
            });
        }
        let len = match kind {
            ExtKind::Fragment => 8,
            ExtKind::Authentication => (usize::from(rest[1]) + 2) * 4,
            _ => (usize::from(rest[1]) + 1) * 8,
        };
        let Some(bytes) = rest.get(..len) else {
            return self.fail(WireError::Truncated {
                layer: Layer::ExtHeader(kind),
                offset,
                required: len,
                actual: rest.len(),
            });
        };
        let header = ExtHeader {
            kind,
            offset,
            next_header: bytes[0],
            bytes,
        };
        self.first = false;
        self.next = bytes[0];
        self.next_field = offset;
        self.offset = offset + len;
        if kind == ExtKind::Fragment && u16::from_be_bytes([bytes[2], bytes[3]]) >> 3 != 0 {
            self.finish(true);
        }
        Some(Ok(header))
    }
}

impl FusedIterator for ExtHeaders<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40-byte IPv6 header with the given payload length and next header.
    fn ipv6(payload_len: u16, nh: u8) -> [u8; 40] {
        let mut h = [0u8; 40];
        h[0] = 0x60;
        h[4..6].copy_from_slice(&payload_len.to_be_bytes());
        h[6] = nh;
        h[7] = 64;
        h
    }

    fn packet(nh: u8, chain: &[u8]) -> [u8; 256] {
        let mut p = [0u8; 256];
        p[..40].copy_from_slice(&ipv6(chain.len() as u16, nh));
        p[40..40 + chain.len()].copy_from_slice(chain);
        p
    }

    /// HbH(8) -> DO(8) -> Routing(type 4, 24 bytes) -> Fragment(8, first)
    /// -> AH(12) -> DO(8) -> UDP(8).
    const CHAIN: [u8; 76] = [
        // HbH: NH=60, HEL=0, PadN 4
        60, 0, 1, 4, 0, 0, 0, 0, //
        // DO: NH=43, HEL=0, PadN 4
        43, 0, 1, 4, 0, 0, 0, 0, //
        // Routing: NH=44, HEL=2, type 4, segleft 1, 20 more bytes
        44, 2, 4, 1, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
        // Fragment: NH=51, res, offset 0 + M, id
        51, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, //
        // AH: NH=60, len=1 -> 12 bytes
        60, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 7, //
        // DO: NH=17, PadN 4
        17, 0, 1, 4, 0, 0, 0, 0, //
        // UDP
        0x12, 0x34, 0x27, 0x0f, 0, 8, 0, 0,
    ];

    #[test]
    fn walks_full_chain() {
        let p = packet(0, &CHAIN);
        let p = &p[..40 + CHAIN.len()];
        let mut w = ExtHeaders::new(p).unwrap();
        let expect = [
            (ExtKind::HopByHop, 40, 8, 60),
            (ExtKind::DestinationOptions, 48, 8, 43),
            (ExtKind::Routing, 56, 24, 44),
            (ExtKind::Fragment, 80, 8, 51),
            (ExtKind::Authentication, 88, 12, 60),
            (ExtKind::DestinationOptions, 100, 8, 17),
        ];
        for (kind, off, len, nh) in expect {
            let h = w.next().unwrap().unwrap();
            assert_eq!(
                (h.kind, h.offset, h.len(), h.next_header),
                (kind, off, len, nh)
            );
            assert_eq!(h.bytes, &p[off..off + len]);
            assert_eq!(h.options(Mode::Strict).is_some(), kind.has_options());
        }
        assert!(w.end().is_none());
        assert!(w.next().is_none());
        assert_eq!(
            w.end(),
            Some(ChainEnd {
                protocol: 17,
                offset: 108,
                next_header_field: 100,
                non_first_fragment: false
            })
        );
        assert!(w.next().is_none());
        assert_eq!(ExtHeaders::chain_end(p).unwrap().offset, 108);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = packet(0, &CHAIN);
        // Chain bytes (without UDP) end at 40 + 68.
        for cut in 40..108 {
            let mut p = full;
            p[4..6].copy_from_slice(&((cut - 40) as u16).to_be_bytes());
            let res: Result<usize, _> = ExtHeaders::new(&p[..cut])
                .unwrap()
                .try_fold(0, |n, h| h.map(|_| n + 1));
            let boundaries = [40, 48, 56, 80, 88, 100];
            if boundaries.contains(&cut) {
                // Cut exactly between headers: the walk hits a header with
                // no bytes at all.
                let e = res.unwrap_err();
                assert!(
                    matches!(e, WireError::Truncated { offset, actual: 0, .. } if offset == cut),
                    "{cut}: {e:?}"
                );
            } else {
                let e = res.unwrap_err();
                let Some((offset, required, actual)) = e.truncated() else {
                    panic!("{cut}: {e:?}");
                };
                assert!(
                    offset < cut && actual == cut - offset && required > actual,
                    "{e:?}"
                );
            }
            // The same cut with a correct payload length but a short slice.
            let res: Result<usize, _> = ExtHeaders::new(&full[..cut])
                .unwrap()
                .try_fold(0, |n, h| h.map(|_| n + 1));
            assert!(res.is_err(), "{cut}");
        }
        for cut in 0..40 {
            assert!(ExtHeaders::new(&full[..cut]).is_err());
        }
    }

    #[test]
    fn hop_by_hop_must_be_first() {
        // DO -> HbH
        let chain = [0, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
        let p = packet(60, &chain);
        let mut w = ExtHeaders::new(&p[..56]).unwrap();
        assert!(w.next().unwrap().is_ok());
        assert_eq!(
            w.next().unwrap().unwrap_err(),
            WireError::invalid(Rule::HopByHopNotFirst, 48)
        );
        assert!(w.next().is_none());
        assert!(w.end().is_none());
    }

    #[test]
    fn esp_and_no_next_end_the_walk() {
        let chain = [50, 0, 1, 4, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd];
        let p = packet(0, &chain);
        let end = ExtHeaders::chain_end(&p[..52]).unwrap();
        assert_eq!(end.protocol, 50);
        assert_eq!(end.offset, 48);
        assert_eq!(end.next_header_field, 40);
        assert_eq!(end.ext_kind(), Some(ExtKind::Esp));
        let p = packet(59, &[]);
        let end = ExtHeaders::chain_end(&p[..40]).unwrap();
        assert_eq!(end.ext_kind(), Some(ExtKind::NoNextHeader));
        assert_eq!(end.offset, 40);
        assert_eq!(end.next_header_field, 6);
    }

    #[test]
    fn non_first_fragment_ends_walk() {
        // Fragment at offset 8 (units of 8 bytes) with NH=6: the bytes after
        // are data.
        let chain = [6, 0, 0, 0x40, 0, 0, 0, 1, 0xff, 0xff];
        let p = packet(44, &chain);
        let mut w = ExtHeaders::new(&p[..50]).unwrap();
        assert_eq!(w.next().unwrap().unwrap().kind, ExtKind::Fragment);
        assert!(w.next().is_none());
        let end = w.end().unwrap();
        assert!(end.non_first_fragment);
        assert_eq!((end.protocol, end.offset), (6, 48));
    }

    #[test]
    fn payload_length_bounds_walk() {
        // Trailing link-layer padding past the payload is ignored...
        let chain = [17, 0, 1, 4, 0, 0, 0, 0];
        let mut p = packet(0, &chain);
        let end = ExtHeaders::chain_end(&p[..60]).unwrap();
        assert_eq!(end.offset, 48);
        // ...and a header past the payload length is truncated even when
        // the buffer holds it.
        p[5] = 4;
        let e = ExtHeaders::new(&p[..60])
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(
            e,
            WireError::Truncated {
                layer: Layer::ExtHeader(ExtKind::HopByHop),
                offset: 40,
                required: 8,
                actual: 4
            }
        );
    }

    #[test]
    fn kinds_round_trip() {
        for p in 0..=255u8 {
            if let Some(k) = ExtKind::from_protocol(p) {
                assert_eq!(k.protocol(), p);
            }
        }
    }
}
