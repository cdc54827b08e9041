//! Every IOAM option of a whole IPv6 packet (RFC 9486 §4), found through
//! the extension-header chain and the options of each Hop-by-Hop and
//! Destination Options header.
//!
//! [`IoamOptions`] is the complete walk; [`first_hbh_ioam`] is the fast
//! path for the common case of one IOAM option in a Hop-by-Hop header.

use crate::Mode;
use core::iter::FusedIterator;

use zerocopy::FromBytes;

use crate::error::{Layer, WireError};
use crate::ext::{ChainEnd, ExtHeader, ExtHeaders, ExtKind};
use crate::ioam::{is_ioam_option_type, IoamOption, Placement, RawIoamOptionHeader};
use crate::ipv6::{RawIpv6Header, IPV6_HEADER_LEN, NEXT_HEADER_OFFSET};
use crate::opt::{Options, OPT_PADN};
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
/// Items are `Result<PacketIoam, WireError>`. An error in an options area
/// ends the walk of that header (its length is known, so the walk goes on
/// with the next header); an error in the extension-header chain ends the
/// walk. Error offsets are from the packet start. Options other than IOAM
/// are checked (in the given [`Mode`]) and skipped.
#[derive(Debug, Clone)]
pub struct IoamOptions<'a> {
    headers: ExtHeaders<'a>,
    current: Option<(ExtKind, usize, Options<'a>)>,
    mode: Mode,
    done: bool,
}

impl<'a> IoamOptions<'a> {
    /// Starts the walk; fails if the packet has no valid IPv6 header.
    #[inline]
    pub fn new(packet: &'a [u8], mode: Mode) -> Result<Self, WireError> {
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
                match opts.next_ioam() {
                    Some(Ok(option)) => {
                        return Some(Ok(PacketIoam {
                            header: *kind,
                            header_offset: *base,
                            option,
                        }));
                    }
                    Some(Err(e)) => {
                        let e = e.with_base(*base);
                        self.current = None;
                        return Some(Err(e));
                    }
                    None => {}
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

/// The Hop-by-Hop Options header of `packet`, if it has one: the header
/// right after the IPv6 header (RFC 8200 §4.1). The IPv6 header is checked
/// as by [`ExtHeaders::new`]; the options are not walked.
///
/// ```
/// let mut p = [0u8; 48];
/// p[..8].copy_from_slice(&[0x60, 0, 0, 0, 0, 8, 0, 64]); // Next Header 0
/// p[40..48].copy_from_slice(&[59, 0, 1, 4, 0, 0, 0, 0]);
/// let hbh = ioam_wire::packet::hop_by_hop(&p)?.unwrap();
/// assert_eq!((hbh.offset, hbh.len()), (40, 8));
/// # Ok::<(), ioam_wire::WireError>(())
/// ```
///
/// # Errors
/// The errors of [`ExtHeaders`] for the IPv6 header and the first header.
pub fn hop_by_hop(packet: &[u8]) -> Result<Option<ExtHeader<'_>>, WireError> {
    match ExtHeaders::new(packet)?.next() {
        Some(Ok(h)) if h.kind == ExtKind::HopByHop => Ok(Some(h)),
        Some(Err(e)) => Err(e),
        _ => Ok(None),
    }
}

/// Fast path: the first IOAM option of the Hop-by-Hop header of `packet`,
/// if it has one.
///
/// Reads only the IPv6 Next Header, the Hop-by-Hop length and the options
/// up to the first IOAM option; it does not check the IPv6 version or the
/// Payload Length, nor the options after the one returned. Returns
/// `Ok(None)` when the packet has no Hop-by-Hop header or no IOAM option in
/// it. Error offsets are from the packet start.
#[inline]
pub fn first_hbh_ioam(packet: &[u8], mode: Mode) -> Result<Option<PacketIoam<'_>>, WireError> {
    let Ok((ip, rest)) = RawIpv6Header::ref_from_prefix(packet) else {
        // A short packet whose Next Header is there and is not Hop-by-Hop
        // has no Hop-by-Hop header to look into.
        return match packet.get(NEXT_HEADER_OFFSET) {
            Some(&nh) if nh != proto::HOP_BY_HOP => Ok(None),
            _ => Err(WireError::Truncated {
                layer: Layer::Ipv6Header,
                offset: 0,
                required: IPV6_HEADER_LEN,
                actual: packet.len(),
            }),
        };
    };
    if ip.next_header != proto::HOP_BY_HOP {
        return Ok(None);
    }
    let Some(&hel) = rest.get(1) else {
        return Err(WireError::Truncated {
            layer: Layer::ExtHeader(ExtKind::HopByHop),
            offset: IPV6_HEADER_LEN,
            required: 2,
            actual: rest.len(),
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
    // The layout every Linux encapsulator and our builder produce:
    // `NH HEL | 01 00 | T L R TY | body`, with the option inside the header.
    // Both modes accept it as is, so skip the general walk.
    if let [_, _, OPT_PADN, 0, option @ ..] = hbh {
        if let Ok((h, after)) = RawIoamOptionHeader::ref_from_prefix(option) {
            if is_ioam_option_type(h.option_type) && h.opt_data_len >= 2 {
                if let Some(body) = after.get(..usize::from(h.opt_data_len) - 2) {
                    return Ok(Some(PacketIoam {
                        header: ExtKind::HopByHop,
                        header_offset: IPV6_HEADER_LEN,
                        option: IoamOption::from_raw(4, h, body),
                    }));
                }
            }
        }
    }
    first_ioam_of_hbh(hbh, mode)
}

/// The general scan of [`first_hbh_ioam`], for any other layout: out of
/// line, so that the usual layout's path stays short.
#[inline(never)]
fn first_ioam_of_hbh(hbh: &[u8], mode: Mode) -> Result<Option<PacketIoam<'_>>, WireError> {
    match Options::new(hbh, mode).next_ioam() {
        Some(Ok(option)) => Ok(Some(PacketIoam {
            header: ExtKind::HopByHop,
            header_offset: IPV6_HEADER_LEN,
            option,
        })),
        Some(Err(e)) => Err(e.with_base(IPV6_HEADER_LEN)),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Rule;
    use crate::ioam::{IoamType, OPT_IOAM, OPT_IOAM_NOCHANGE};

    /// IPv6 -> HbH (Linux trace layout, 0x800000, 1 node) -> DO (E2E with
    /// the 0x11 code) -> UDP (8 bytes).
    const PKT: [u8; 88] = [
        // IPv6: payload 48, NH 0
        0x60, 0, 0, 0, 0, 48, 0, 64, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, //
        // HbH @40: NH 60, HEL 2
        60, 2, 1, 0, 0x31, 14, 0, 0, 0, 0x7b, 0x08, 0x01, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0,
        // DO @64: NH 17, HEL 1, PadN(0), E2E ns 123 type 0x8000 + 4 bytes
        17, 1, 1, 0, 0x11, 10, 0, 3, 0, 0x7b, 0x80, 0x00, 0, 0, 0, 9, //
        // UDP @80
        0x30, 0x39, 0x27, 0x0f, 0, 8, 0, 0,
    ];

    #[test]
    fn finds_every_ioam_option_with_absolute_offsets() {
        let mut it = IoamOptions::new(&PKT, Mode::Strict).unwrap();
        let a = it.next().unwrap().unwrap();
        assert_eq!(a.header, ExtKind::HopByHop);
        assert_eq!(a.header_offset, 40);
        assert_eq!(a.option.offset, 4);
        assert_eq!(a.absolute_offset(), 44);
        assert_eq!(a.absolute_body_offset(), 48);
        assert_eq!(a.option.ioam_type, IoamType::PreallocatedTrace);
        assert_eq!(a.option.body, &PKT[48..60]);
        assert!(a.placement().is_conforming());
        let b = it.next().unwrap().unwrap();
        assert_eq!(b.header, ExtKind::DestinationOptions);
        assert_eq!(b.absolute_offset(), 68);
        assert_eq!(b.absolute().body_offset, 72);
        assert_eq!(b.option.option_type, OPT_IOAM_NOCHANGE);
        assert_eq!(b.option.ioam_type, IoamType::EdgeToEdge);
        assert_eq!(b.option.body, &PKT[72..80]);
        assert!(b.placement().is_conforming());
        assert!(it.next().is_none());
        let end = it.end().unwrap();
        assert_eq!((end.protocol, end.offset), (17, 80));
        assert!(it.next().is_none());

        let first = first_hbh_ioam(&PKT, Mode::Strict).unwrap().unwrap();
        assert_eq!(first, a);
    }

    #[test]
    fn wrong_code_is_a_finding_not_an_error() {
        let mut p = PKT;
        p[44] = OPT_IOAM_NOCHANGE; // trace with the 0x11 code
        p[68] = OPT_IOAM; // E2E with the 0x31 code
        let found: [PacketIoam<'_>; 2] = {
            let mut it = IoamOptions::new(&p, Mode::Strict).unwrap();
            [it.next().unwrap().unwrap(), it.next().unwrap().unwrap()]
        };
        assert_eq!(
            found[0].placement(),
            Placement::Mismatch {
                expected_code: OPT_IOAM,
                expected_header: ExtKind::HopByHop,
                wrong_code: true,
                wrong_header: false
            }
        );
        assert_eq!(
            found[1].placement(),
            Placement::Mismatch {
                expected_code: OPT_IOAM_NOCHANGE,
                expected_header: ExtKind::DestinationOptions,
                wrong_code: true,
                wrong_header: false
            }
        );
    }

    #[test]
    fn option_errors_are_absolute() {
        let mut p = PKT;
        p[42] = 0; // Pad1, then the 0x00 byte of PadN(0) -> Pad1 too
        p[43] = 0;
        p[44] = 0x01; // PadN(14) where the IOAM option was: 16 pad bytes
        let mut it = IoamOptions::new(&p, Mode::Strict).unwrap();
        assert_eq!(
            it.next(),
            Some(Err(WireError::invalid(Rule::PadRunTooLong(18), 44)))
        );
        // The Destination Options header after it is still walked.
        assert_eq!(it.next().unwrap().unwrap().absolute_offset(), 68);
        assert!(it.next().is_none());
        assert_eq!(it.end().map(|e| e.offset), Some(80));
        assert_eq!(
            first_hbh_ioam(&p, Mode::Strict),
            Err(WireError::invalid(Rule::PadRunTooLong(18), 44))
        );
        // Lenient: no IOAM option in the HbH, the DO one is still found.
        assert_eq!(first_hbh_ioam(&p, Mode::Lenient), Ok(None));
        let mut it = IoamOptions::new(&p, Mode::Lenient).unwrap();
        assert_eq!(it.next().unwrap().unwrap().absolute_offset(), 68);
    }

    #[test]
    fn every_truncation_is_an_error() {
        for cut in 0..PKT.len() {
            let mut p = PKT;
            // With the Payload Length left as is, and with it matching the cut.
            for fix in [false, true] {
                if fix && cut > 40 {
                    p[4..6].copy_from_slice(&((cut - 40) as u16).to_be_bytes());
                }
                let p = &p[..cut];
                let res: Result<usize, WireError> = IoamOptions::new(p, Mode::Strict)
                    .and_then(|mut it| it.try_fold(0, |n, o| o.map(|_| n + 1)));
                if cut >= 80 {
                    // Only the UDP header is cut: both options are found.
                    assert_eq!(res, Ok(2), "{cut}");
                } else {
                    let e = res.unwrap_err();
                    assert!(
                        matches!(e, WireError::Truncated { required, actual, .. } if actual < required),
                        "{cut} {fix}: {e:?}"
                    );
                }
                let fast = first_hbh_ioam(p, Mode::Strict);
                if cut >= 64 {
                    assert!(fast.unwrap().is_some(), "{cut}");
                } else {
                    assert!(fast.is_err(), "{cut}: {fast:?}");
                }
            }
        }
    }

    #[test]
    fn fast_path_without_hop_by_hop() {
        let mut p = PKT;
        p[6] = 60;
        assert_eq!(first_hbh_ioam(&p, Mode::Strict), Ok(None));
        // The full walk now reads the first header as Destination Options:
        // both IOAM options are still found.
        let n = IoamOptions::new(&p, Mode::Strict).unwrap().count();
        assert_eq!(n, 2);
    }
}

#[cfg(test)]
mod proptests {
    extern crate alloc;

    use alloc::vec::Vec;

    use proptest::prelude::*;

    use super::*;
    use crate::opt::Opt;

    /// The general scan `first_hbh_ioam` must agree with.
    fn slow_first(packet: &[u8], mode: Mode) -> Result<Option<PacketIoam<'_>>, WireError> {
        let hbh = match ExtHeaders::with_start(packet, packet[6], IPV6_HEADER_LEN).next() {
            Some(Ok(h)) if h.kind == ExtKind::HopByHop => h,
            Some(Err(e)) => return Err(e),
            _ => return Ok(None),
        };
        for o in Options::new(hbh.bytes, mode) {
            if let Opt::Ioam(option) = o.map_err(|e| e.with_base(IPV6_HEADER_LEN))? {
                return Ok(Some(PacketIoam {
                    header: ExtKind::HopByHop,
                    header_offset: IPV6_HEADER_LEN,
                    option,
                }));
            }
        }
        Ok(None)
    }

    proptest! {
        #[test]
        fn fast_path_agrees_with_general_scan(
            // A Hop-by-Hop header whose first bytes are biased toward the
            // Linux layout (`01 00 31 ..`).
            head in prop_oneof![
                Just(Vec::from([1u8, 0, 0x31])),
                Just(Vec::from([1u8, 0, 0x11])),
                Just(Vec::from([0u8, 0, 0x31])),
                Just(Vec::new()),
            ],
            len_byte in any::<u8>(),
            hel in 0u8..4,
            tail in proptest::collection::vec(any::<u8>(), 0..40),
        ) {
            let mut p = Vec::from([0x60u8, 0, 0, 0, 0, 0, 0, 64]);
            p.extend_from_slice(&[0u8; 32]);
            p.push(17);
            p.push(hel);
            p.extend_from_slice(&head);
            if !head.is_empty() {
                p.push(len_byte);
            }
            p.extend_from_slice(&tail);
            let plen = (p.len() - 40) as u16;
            p[4..6].copy_from_slice(&plen.to_be_bytes());
            for mode in [Mode::Strict, Mode::Lenient] {
                prop_assert_eq!(first_hbh_ioam(&p, mode), slow_first(&p, mode));
            }
        }
    }
}
