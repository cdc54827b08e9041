//! The fixed IPv6 header (RFC 8200 §3) as a zero-copy view.

use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{Layer, Rule, WireError};

/// Length of the fixed IPv6 header in bytes (RFC 8200 §3).
pub const IPV6_HEADER_LEN: usize = 40;

/// Byte ranges of the fixed IPv6 header.
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Source Address (128)                      |
/// |                  Destination Address (128)                    |
/// ```
mod field {
    pub(super) type Field = core::ops::Range<usize>;
    pub(super) const VER_TC_FL: Field = 0..4;
    pub(super) const PAYLOAD_LEN: Field = 4..6;
    pub(super) const NEXT_HEADER: usize = 6;
    pub(super) const HOP_LIMIT: usize = 7;
    pub(super) const SRC_ADDR: Field = 8..24;
    pub(super) const DST_ADDR: Field = 24..40;
}

/// Offset of the Next Header byte in the fixed IPv6 header.
pub const NEXT_HEADER_OFFSET: usize = field::NEXT_HEADER;

/// The fixed IPv6 header exactly as it sits on the wire (RFC 8200 §3), for
/// zero-copy reads and in-place writes: any 40 bytes are a value, and it
/// has no alignment. [`Ipv6Header`] reads and writes through it.
///
/// ```
/// use ioam_wire::ipv6::RawIpv6Header;
/// use zerocopy::FromBytes;
///
/// let mut packet = [0u8; 48];
/// packet[..8].copy_from_slice(&[0x6a, 0xb1, 0x23, 0x45, 0x00, 0x08, 17, 64]);
/// let (h, payload) = RawIpv6Header::ref_from_prefix(&packet[..]).unwrap();
/// assert_eq!((h.version(), h.traffic_class(), h.flow_label()), (6, 0xab, 0x12345));
/// assert_eq!((h.payload_len.get(), h.next_header, h.hop_limit), (8, 17, 64));
/// assert_eq!(payload.len(), 8);
/// ```
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Debug, Clone, Copy, PartialEq, Eq,
)]
#[repr(C)]
pub struct RawIpv6Header {
    /// Version (4 bits), Traffic Class (8 bits), Flow Label (20 bits).
    pub ver_tc_flow: U32,
    /// Payload Length.
    pub payload_len: U16,
    /// Next Header.
    pub next_header: u8,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Source address.
    pub src_addr: [u8; 16],
    /// Destination address.
    pub dst_addr: [u8; 16],
}

// The struct and the byte ranges of `field` describe the same layout.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<RawIpv6Header>() == IPV6_HEADER_LEN);
    assert!(offset_of!(RawIpv6Header, ver_tc_flow) == field::VER_TC_FL.start);
    assert!(offset_of!(RawIpv6Header, payload_len) == field::PAYLOAD_LEN.start);
    assert!(offset_of!(RawIpv6Header, next_header) == field::NEXT_HEADER);
    assert!(offset_of!(RawIpv6Header, hop_limit) == field::HOP_LIMIT);
    assert!(offset_of!(RawIpv6Header, src_addr) == field::SRC_ADDR.start);
    assert!(offset_of!(RawIpv6Header, dst_addr) == field::DST_ADDR.start);
};

impl RawIpv6Header {
    /// Version (4 bits).
    #[inline]
    pub const fn version(&self) -> u8 {
        (self.ver_tc_flow.get() >> 28) as u8
    }

    /// Traffic Class (8 bits).
    #[inline]
    pub const fn traffic_class(&self) -> u8 {
        (self.ver_tc_flow.get() >> 20) as u8
    }

    /// Flow Label (20 bits).
    #[inline]
    pub const fn flow_label(&self) -> u32 {
        self.ver_tc_flow.get() & 0x000f_ffff
    }

    /// The first word from its three fields; bits above their widths are
    /// dropped.
    #[inline]
    pub const fn word0(version: u8, traffic_class: u8, flow_label: u32) -> U32 {
        U32::new(
            ((version as u32 & 0x0f) << 28)
                | ((traffic_class as u32) << 20)
                | (flow_label & 0x000f_ffff),
        )
    }
}

/// The panic of an accessor of an unchecked view on a short buffer.
#[cold]
#[inline(never)]
#[track_caller]
fn short_view(len: usize) -> ! {
    panic!("IPv6 header view on {len} bytes, {IPV6_HEADER_LEN} needed (RFC 8200 §3)")
}

/// A view of the fixed IPv6 header at the start of a buffer (RFC 8200 §3).
///
/// After [`Ipv6Header::new_checked`] (or a successful
/// [`Ipv6Header::check_len`]) no accessor can panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Header<T> {
    /// Wraps a buffer without checking it; accessors panic if it is
    /// shorter than [`IPV6_HEADER_LEN`].
    #[inline]
    pub const fn new_unchecked(buffer: T) -> Self {
        Ipv6Header { buffer }
    }

    /// Wraps a buffer after [`check_len`](Self::check_len).
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the buffer holds at least the 40-byte header
    /// (offset 0 of the buffer).
    #[inline]
    pub fn check_len(&self) -> Result<(), WireError> {
        let b = self.buffer.as_ref();
        match RawIpv6Header::ref_from_prefix(b) {
            Ok(_) => Ok(()),
            Err(_) => Err(WireError::Truncated {
                layer: Layer::Ipv6Header,
                offset: 0,
                required: IPV6_HEADER_LEN,
                actual: b.len(),
            }),
        }
    }

    /// Checks the length and that the version is 6.
    #[inline]
    pub fn check(&self) -> Result<(), WireError> {
        self.check_len()?;
        let v = self.version();
        if v != 6 {
            return Err(WireError::invalid(Rule::Ipv6Version(v), 0));
        }
        Ok(())
    }

    /// Checks that the buffer holds the Payload Length bytes the header
    /// announces (a jumbogram's Payload Length 0 announces none). Bytes
    /// after them (link-layer padding) are allowed.
    ///
    /// ```
    /// use ioam_wire::ipv6::Ipv6Header;
    /// let mut p = [0u8; 48];
    /// p[0] = 0x60;
    /// p[5] = 20; // 20 bytes announced, 8 present
    /// let e = Ipv6Header::new_checked(&p[..]).unwrap().check_payload_len().unwrap_err();
    /// assert_eq!(e.to_string(), "IPv6 payload at offset 40 needs 20 bytes but only 8 are available");
    /// ```
    ///
    /// # Errors
    /// [`WireError::Truncated`] of [`Layer::Ipv6Payload`] at offset 40.
    #[inline]
    pub fn check_payload_len(&self) -> Result<(), WireError> {
        self.check_len()?;
        let required = usize::from(self.payload_len());
        let actual = self.buffer.as_ref().len() - IPV6_HEADER_LEN;
        if required > actual {
            return Err(WireError::Truncated {
                layer: Layer::Ipv6Payload,
                offset: IPV6_HEADER_LEN,
                required,
                actual,
            });
        }
        Ok(())
    }

    /// Consumes the view, returning the buffer.
    #[inline]
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The underlying buffer.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The header as its wire layout; panics on a buffer shorter than
    /// [`IPV6_HEADER_LEN`] (see [`new_unchecked`](Self::new_unchecked)).
    #[inline]
    pub fn raw(&self) -> &RawIpv6Header {
        let b = self.buffer.as_ref();
        match RawIpv6Header::ref_from_prefix(b) {
            Ok((h, _)) => h,
            Err(_) => short_view(b.len()),
        }
    }

    /// Version (4 bits); 6 for IPv6.
    #[inline]
    pub fn version(&self) -> u8 {
        self.raw().version()
    }

    /// Traffic Class (8 bits).
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        self.raw().traffic_class()
    }

    /// Flow Label (20 bits).
    #[inline]
    pub fn flow_label(&self) -> u32 {
        self.raw().flow_label()
    }

    /// Payload Length: bytes after the fixed header, extension headers
    /// included (0 for a jumbogram, RFC 2675).
    #[inline]
    pub fn payload_len(&self) -> u16 {
        self.raw().payload_len.get()
    }

    /// Next Header: protocol number of the header that follows.
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.raw().next_header
    }

    /// Hop Limit.
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.raw().hop_limit
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> [u8; 16] {
        self.raw().src_addr
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> [u8; 16] {
        self.raw().dst_addr
    }

    /// The bytes after the fixed header (whatever the buffer holds; the
    /// Payload Length field is not consulted).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[IPV6_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Header<T> {
    /// The header as its wire layout, for in-place writes; panics on a
    /// buffer shorter than [`IPV6_HEADER_LEN`].
    #[inline]
    pub fn raw_mut(&mut self) -> &mut RawIpv6Header {
        let b = self.buffer.as_mut();
        let len = b.len();
        match RawIpv6Header::mut_from_prefix(b) {
            Ok((h, _)) => h,
            Err(_) => short_view(len),
        }
    }

    /// Sets the Version (low 4 bits of `v`).
    #[inline]
    pub fn set_version(&mut self, v: u8) {
        let h = self.raw_mut();
        h.ver_tc_flow = RawIpv6Header::word0(v, h.traffic_class(), h.flow_label());
    }

    /// Sets the Traffic Class.
    #[inline]
    pub fn set_traffic_class(&mut self, tc: u8) {
        let h = self.raw_mut();
        h.ver_tc_flow = RawIpv6Header::word0(h.version(), tc, h.flow_label());
    }

    /// Sets the Flow Label (low 20 bits of `fl`).
    #[inline]
    pub fn set_flow_label(&mut self, fl: u32) {
        let h = self.raw_mut();
        h.ver_tc_flow = RawIpv6Header::word0(h.version(), h.traffic_class(), fl);
    }

    /// Sets the Payload Length.
    #[inline]
    pub fn set_payload_len(&mut self, len: u16) {
        self.raw_mut().payload_len.set(len);
    }

    /// Sets the Next Header.
    #[inline]
    pub fn set_next_header(&mut self, nh: u8) {
        self.raw_mut().next_header = nh;
    }

    /// Sets the Hop Limit.
    #[inline]
    pub fn set_hop_limit(&mut self, hl: u8) {
        self.raw_mut().hop_limit = hl;
    }

    /// Sets the source address.
    #[inline]
    pub fn set_src_addr(&mut self, a: [u8; 16]) {
        self.raw_mut().src_addr = a;
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, a: [u8; 16]) {
        self.raw_mut().dst_addr = a;
    }

    /// The bytes after the fixed header, mutable.
    #[inline]
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[IPV6_HEADER_LEN..]
    }
}

/// The fields of a fixed IPv6 header as plain values (RFC 8200 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub struct Ipv6HeaderRepr {
    /// Traffic Class.
    pub traffic_class: u8,
    /// Flow Label (20 bits; higher bits are dropped on emit).
    pub flow_label: u32,
    /// Payload Length.
    pub payload_len: u16,
    /// Next Header.
    pub next_header: u8,
    /// Hop Limit.
    pub hop_limit: u8,
    /// Source address.
    pub src_addr: [u8; 16],
    /// Destination address.
    pub dst_addr: [u8; 16],
}

impl Ipv6HeaderRepr {
    /// Parses a checked view; fails if the version is not 6.
    pub fn parse<T: AsRef<[u8]>>(h: &Ipv6Header<T>) -> Result<Self, WireError> {
        h.check()?;
        Ok(Ipv6HeaderRepr {
            traffic_class: h.traffic_class(),
            flow_label: h.flow_label(),
            payload_len: h.payload_len(),
            next_header: h.next_header(),
            hop_limit: h.hop_limit(),
            src_addr: h.src_addr(),
            dst_addr: h.dst_addr(),
        })
    }

    /// Bytes [`emit`](Self::emit) writes: always [`IPV6_HEADER_LEN`].
    #[inline]
    pub const fn buffer_len(&self) -> usize {
        IPV6_HEADER_LEN
    }

    /// Writes the header (version 6) into the first 40 bytes of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<(), WireError> {
        let actual = buf.len();
        let Ok((h, _)) = RawIpv6Header::mut_from_prefix(buf) else {
            return Err(WireError::BufferTooSmall {
                required: IPV6_HEADER_LEN,
                actual,
            });
        };
        *h = RawIpv6Header {
            ver_tc_flow: RawIpv6Header::word0(6, self.traffic_class, self.flow_label),
            payload_len: U16::new(self.payload_len),
            next_header: self.next_header,
            hop_limit: self.hop_limit,
            src_addr: self.src_addr,
            dst_addr: self.dst_addr,
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv6 header: TC 0xab, flow 0x12345, payload 16, NH 0 (HbH),
    /// hop limit 64, 2001:db8::1 -> 2001:db8::2.
    const HDR: [u8; 40] = [
        0x6a, 0xb1, 0x23, 0x45, 0x00, 0x10, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 1, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
    ];

    #[test]
    fn getters() {
        let h = Ipv6Header::new_checked(&HDR[..]).unwrap();
        assert_eq!(h.version(), 6);
        assert_eq!(h.traffic_class(), 0xab);
        assert_eq!(h.flow_label(), 0x12345);
        assert_eq!(h.payload_len(), 16);
        assert_eq!(h.next_header(), 0);
        assert_eq!(h.hop_limit(), 64);
        assert_eq!(h.src_addr()[15], 1);
        assert_eq!(h.dst_addr()[15], 2);
        assert!(h.payload().is_empty());
    }

    #[test]
    fn every_truncation_is_an_error() {
        for n in 0..IPV6_HEADER_LEN {
            assert_eq!(
                Ipv6Header::new_checked(&HDR[..n]).unwrap_err(),
                WireError::Truncated {
                    layer: Layer::Ipv6Header,
                    offset: 0,
                    required: 40,
                    actual: n
                }
            );
        }
    }

    #[test]
    fn version_checked() {
        let mut b = HDR;
        b[0] = 0x4a;
        let h = Ipv6Header::new_checked(&b[..]).unwrap();
        assert_eq!(
            h.check().unwrap_err(),
            WireError::invalid(Rule::Ipv6Version(4), 0)
        );
    }

    #[test]
    fn repr_round_trip_and_setters() {
        let h = Ipv6Header::new_checked(&HDR[..]).unwrap();
        let r = Ipv6HeaderRepr::parse(&h).unwrap();
        let mut out = [0xffu8; 40];
        r.emit(&mut out).unwrap();
        assert_eq!(out, HDR);
        let mut h = Ipv6Header::new_checked(&mut out[..]).unwrap();
        h.set_traffic_class(0x01);
        h.set_flow_label(0xfffff);
        h.set_payload_len(0x1234);
        h.set_next_header(60);
        h.set_hop_limit(1);
        assert_eq!(h.version(), 6);
        assert_eq!(h.traffic_class(), 1);
        assert_eq!(h.flow_label(), 0xfffff);
        assert_eq!(h.payload_len(), 0x1234);
        assert_eq!(h.next_header(), 60);
        assert_eq!(h.hop_limit(), 1);
        assert_eq!(
            r.emit(&mut [0u8; 39]),
            Err(WireError::BufferTooSmall {
                required: 40,
                actual: 39
            })
        );
    }

    #[test]
    fn raw_layout_reads_and_writes_in_place() {
        let mut b = [0u8; 44];
        b[..40].copy_from_slice(&HDR);
        b[40..].copy_from_slice(&[1, 2, 3, 4]);
        let (raw, rest) = RawIpv6Header::ref_from_prefix(&b[..]).unwrap();
        assert_eq!(raw.ver_tc_flow.get(), 0x6ab1_2345);
        assert_eq!(raw.payload_len.get(), 16);
        assert_eq!((raw.next_header, raw.hop_limit), (0, 64));
        assert_eq!(raw.src_addr, HDR[8..24]);
        assert_eq!(raw.dst_addr, HDR[24..40]);
        assert_eq!(rest, [1, 2, 3, 4]);
        assert_eq!(
            *Ipv6Header::new_checked(&b[..]).unwrap().raw(),
            RawIpv6Header::read_from_bytes(&HDR[..]).unwrap()
        );
        // Setters change only their field's bits.
        let mut h = Ipv6Header::new_checked(&mut b[..]).unwrap();
        h.set_version(0x12);
        h.set_traffic_class(0xff);
        h.raw_mut().payload_len.set(0xbeef);
        assert_eq!(b[..6], [0x2f, 0xf1, 0x23, 0x45, 0xbe, 0xef]);
        assert_eq!(b[6..40], HDR[6..]);
        assert_eq!(b[40..], [1, 2, 3, 4]);
        assert!(RawIpv6Header::ref_from_prefix(&HDR[..39]).is_err());
    }

    #[test]
    fn emit_writes_only_the_header() {
        let r = Ipv6HeaderRepr::parse(&Ipv6Header::new_checked(&HDR[..]).unwrap()).unwrap();
        let mut out = [0xeeu8; 48];
        r.emit(&mut out).unwrap();
        assert_eq!(out[..40], HDR);
        assert!(out[40..].iter().all(|&b| b == 0xee));
        // Out-of-range Traffic Class/Flow Label bits do not leak.
        let wide = Ipv6HeaderRepr {
            flow_label: 0xfff1_2345,
            ..r
        };
        wide.emit(&mut out).unwrap();
        assert_eq!(out[..40], HDR);
    }
}
