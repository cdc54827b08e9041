//! The fixed IPv6 header (RFC 8200 §3) as a zero-copy view.

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
        let len = self.buffer.as_ref().len();
        if len < IPV6_HEADER_LEN {
            return Err(WireError::Truncated {
                layer: Layer::Ipv6Header,
                offset: 0,
                required: IPV6_HEADER_LEN,
                actual: len,
            });
        }
        Ok(())
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

    #[inline]
    fn word0(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::VER_TC_FL];
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }

    /// Version (4 bits); 6 for IPv6.
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[0] >> 4
    }

    /// Traffic Class (8 bits).
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }

    /// Flow Label (20 bits).
    #[inline]
    pub fn flow_label(&self) -> u32 {
        self.word0() & 0x000f_ffff
    }

    /// Payload Length: bytes after the fixed header, extension headers
    /// included (0 for a jumbogram, RFC 2675).
    #[inline]
    pub fn payload_len(&self) -> u16 {
        let b = &self.buffer.as_ref()[field::PAYLOAD_LEN];
        u16::from_be_bytes([b[0], b[1]])
    }

    /// Next Header: protocol number of the header that follows.
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Hop Limit.
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> [u8; 16] {
        let mut a = [0; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::SRC_ADDR]);
        a
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> [u8; 16] {
        let mut a = [0; 16];
        a.copy_from_slice(&self.buffer.as_ref()[field::DST_ADDR]);
        a
    }

    /// The bytes after the fixed header (whatever the buffer holds; the
    /// Payload Length field is not consulted).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[IPV6_HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Header<T> {
    #[inline]
    fn set_word0(&mut self, w: u32) {
        self.buffer.as_mut()[field::VER_TC_FL].copy_from_slice(&w.to_be_bytes());
    }

    /// Sets the Version (low 4 bits of `v`).
    #[inline]
    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[0];
        *b = (*b & 0x0f) | (v << 4);
    }

    /// Sets the Traffic Class.
    #[inline]
    pub fn set_traffic_class(&mut self, tc: u8) {
        let w = (self.word0() & 0xf00f_ffff) | (u32::from(tc) << 20);
        self.set_word0(w);
    }

    /// Sets the Flow Label (low 20 bits of `fl`).
    #[inline]
    pub fn set_flow_label(&mut self, fl: u32) {
        let w = (self.word0() & 0xfff0_0000) | (fl & 0x000f_ffff);
        self.set_word0(w);
    }

    /// Sets the Payload Length.
    #[inline]
    pub fn set_payload_len(&mut self, len: u16) {
        self.buffer.as_mut()[field::PAYLOAD_LEN].copy_from_slice(&len.to_be_bytes());
    }

    /// Sets the Next Header.
    #[inline]
    pub fn set_next_header(&mut self, nh: u8) {
        self.buffer.as_mut()[field::NEXT_HEADER] = nh;
    }

    /// Sets the Hop Limit.
    #[inline]
    pub fn set_hop_limit(&mut self, hl: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = hl;
    }

    /// Sets the source address.
    #[inline]
    pub fn set_src_addr(&mut self, a: [u8; 16]) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a);
    }

    /// Sets the destination address.
    #[inline]
    pub fn set_dst_addr(&mut self, a: [u8; 16]) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a);
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
        let Some(b) = buf.get_mut(..IPV6_HEADER_LEN) else {
            return Err(WireError::BufferTooSmall {
                required: IPV6_HEADER_LEN,
                actual: buf.len(),
            });
        };
        let mut h = Ipv6Header::new_unchecked(b);
        h.set_word0(0x6000_0000);
        h.set_traffic_class(self.traffic_class);
        h.set_flow_label(self.flow_label);
        h.set_payload_len(self.payload_len);
        h.set_next_header(self.next_header);
        h.set_hop_limit(self.hop_limit);
        h.set_src_addr(self.src_addr);
        h.set_dst_addr(self.dst_addr);
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
}
